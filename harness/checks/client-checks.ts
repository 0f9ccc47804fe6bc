/**
 * Passive checks of a client (device) under test: every device message, in any scenario, is judged by these
 * (catalogue roles `client` and `both`, applied to the device's messages). As on the server side, a rule counts as
 * exercised only when its situation occurred in the session.
 */
import { codeOf, metaValue, type Command, type Results, type SyncML } from '../syncml';
import {
  commandIndex, judgeCmdIDs, judgeDocument, judgeHeaderStatus, judgeHttp, judgeStatusOrder, judgeStatusReferences, peerMsgIDs,
  refKey, sentBy, statusesOf,
} from './common';
import { numberKey, numberOf, sameNumber, sameUrl } from './compare';
import { CLIENT_TERMINATION_CHECKS } from './client/termination';
import { defineCheck, type Check } from './finding';
import { commandsWithPaths, label, startsAtPackage1, trimmed, type AnySessionView, type SessionView, type WireMessage } from './session';

/** What the harness told the client: the management URL (and the device id it expects, for evidence only). */
export interface ClientSessionView extends SessionView {
  serverUrl?: string;
  deviceId?: string;
}

/** A live or captured client session with what the harness told the client, when it is known: what the checks read. */
export interface AnyClientSessionView extends AnySessionView {
  serverUrl?: string;
  deviceId?: string;
}

type ClientCheck = Check<AnyClientSessionView>;

const DEVINFO = ['./DevInfo/DevId', './DevInfo/Man', './DevInfo/Mod', './DevInfo/DmV', './DevInfo/Lang'];
const WINDOWS_USER_AGENT = 'MSFT OMA DM Client/1.2.0.1';
const isAlert = (c: Command, code: string) => c.kind === 'Alert' && codeOf(c) === code;
const nonStatus = (msg: SyncML) => msg.body.commands.filter((c) => c.kind !== 'Status');
const hdrStatus = (msg: SyncML) => statusesOf(msg).find((s) => numberKey(s.status.cmdRef) === '0')?.status;
/** MDM-ID-007: a Results without MsgRef refers to message 1. */
const resultsMsgRef = (r: Results) => (r.msgRef === undefined ? '1' : r.msgRef);

/** Device messages paired with the server message each one answers (undefined for the first). */
function* deviceTurns(session: AnySessionView): Generator<{ m: WireMessage; msg: SyncML; prev?: SyncML; prevWire?: WireMessage }> {
  let prev: WireMessage | undefined;
  for (const x of session.exchanges) {
    if (x.throttled) continue; // the device sends the same message again after the wait (MDM-TRN-021): judged there
    if (x.request?.syncml) yield { m: x.request, msg: x.request.syncml, prev: prev?.syncml, prevWire: prev };
    prev = x.response;
  }
}

/** Device messages with whether each opens a package (the first of the session, or the first after the device's Final). */
function* deviceMessagesWithPackageStart(session: AnySessionView): Generator<{ m: WireMessage; first: boolean }> {
  let previousClosed = true;
  for (const m of sentBy(session, 'device')) {
    yield { m, first: previousClosed };
    if (m.syncml) previousClosed = !!m.syncml.body.final;
  }
}

const DOCUMENT_IDS = [
  'MDM-XML-001', 'MDM-XML-002', 'MDM-XML-004', 'MDM-XML-005', 'MDM-XML-011', 'MDM-XML-012', 'MDM-HDR-001', 'MDM-HDR-002',
  'MDM-HDR-003', 'MDM-HDR-004', 'MDM-ID-001', 'MDM-STS-001', 'MDM-RES-001', 'MDM-CMD-ALT-002', 'MDM-AUTH-013', 'MDM-HDR-015',
] as const;

export const deviceMessagesAreWellFormed = defineCheck<AnyClientSessionView>({
  name: 'deviceMessagesAreWellFormed',
  ids: DOCUMENT_IDS,
  when: { 'MDM-AUTH-013': 'the device to send credentials (Cred): application-level authentication (--auth)', 'MDM-HDR-015': 'the device to send credentials (Cred)' },
  run(session, judge) {
    const index = commandIndex(sentBy(session, 'server'));
    for (const { m, first } of deviceMessagesWithPackageStart(session)) {
      judgeDocument(m, 'device', judge, DOCUMENT_IDS, { firstOfPackage: first, peerIndex: index });
      const msg = m.syncml;
      if (!msg) continue;
      judge.saw('MDM-HDR-002', 'MDM-HDR-003', 'MDM-HDR-004');
      if (msg.hdr.verDTD !== undefined && trimmed(msg.hdr.verDTD) !== '1.2') judge.fail('MDM-HDR-002', m, '/SyncHdr/VerDTD', `VerDTD is "${msg.hdr.verDTD}", expected 1.2`);
      if (msg.hdr.verProto !== undefined && trimmed(msg.hdr.verProto) !== 'DM/1.2') judge.fail('MDM-HDR-003', m, '/SyncHdr/VerProto', `VerProto is "${msg.hdr.verProto}", expected DM/1.2`);
      if (msg.hdr.sessionID !== undefined && Buffer.byteLength(trimmed(msg.hdr.sessionID)) > 4) {
        judge.fail('MDM-HDR-004', m, '/SyncHdr/SessionID', `SessionID "${msg.hdr.sessionID}" is longer than 4 bytes`);
      }
      if (msg.hdr.cred) judge.saw('MDM-AUTH-013', 'MDM-HDR-015');
      for (const { command, path } of commandsWithPaths(msg.body.commands)) {
        if ('cred' in command && command.cred && command.kind !== 'Status') {
          judge.saw('MDM-HDR-015');
          judge.fail('MDM-HDR-015', m, `${path}/Cred`, 'Cred inside a command; credentials belong in the SyncHdr');
        }
      }
    }
  },
});

export const deviceHttp = defineCheck<AnyClientSessionView>({
  name: 'deviceHttp',
  ids: ['MDM-TRN-001', 'MDM-TRN-005', 'MDM-TRN-009', 'MDM-TRN-011', 'MDM-XML-001'],
  when: 'HTTP headers of the device\'s requests (a live run or a capture that keeps them)',
  run(session, judge) {
    for (const m of sentBy(session, 'device')) {
      if (!m.http) continue;
      judgeHttp(m, judge);
      judge.saw('MDM-TRN-001', 'MDM-TRN-011', 'MDM-TRN-009');
      if (m.http.method && m.http.method !== 'POST') judge.fail('MDM-TRN-001', m, 'HTTP method', `${m.http.method}; every device message is an HTTP POST`);
      if (m.http.userAgent !== WINDOWS_USER_AGENT) judge.fail('MDM-TRN-011', m, 'User-Agent', `"${m.http.userAgent ?? '(none)'}"; Windows sends "${WINDOWS_USER_AGENT}"`);
      const query = new URLSearchParams((m.http.url ?? '').split('?')[1] ?? '');
      const mode = query.get('mode');
      if (!mode || !['Maintenance', 'Machine'].includes(mode) || !query.get('Platform')) {
        judge.fail('MDM-TRN-009', m, 'URL query', `"${m.http.url}" lacks mode=Maintenance|Machine and Platform=…, which Windows appends`);
      }
    }
  },
});

/**
 * The header of every device message (MDM-HDR-005, -008, -010, -012). The device id is whatever the device names
 * in its header Source, tied to ./DevInfo/DevId (MDM-HDR-012); how its certificate is named is the server's
 * business, not a rule of the catalogue.
 */
export const deviceHeaderIsConsistent = defineCheck<AnyClientSessionView>({
  name: 'deviceHeaderIsConsistent',
  ids: ['MDM-HDR-005', 'MDM-HDR-008', 'MDM-HDR-010', 'MDM-HDR-012'],
  when: { 'MDM-HDR-012': 'package 1 with the DevInfo Replace' },
  run(session, judge) {
    let first: { msg: SyncML; m: WireMessage } | undefined;
    // A capture that starts mid-session does not show where the device's numbering began: only its steps are judged.
    let expected: number | undefined = startsAtPackage1(session) ? 1 : undefined;
    for (const { m, msg } of deviceTurns(session)) {
      first ??= { msg, m };
      judge.saw('MDM-HDR-005', 'MDM-HDR-008', 'MDM-HDR-010');
      if (trimmed(msg.hdr.sessionID) !== trimmed(first.msg.hdr.sessionID)) {
        judge.fail('MDM-HDR-005', m, '/SyncHdr/SessionID', `SessionID changed from "${trimmed(first.msg.hdr.sessionID)}" to "${trimmed(msg.hdr.sessionID)}" within the session`);
      }
      const msgID = numberOf(msg.hdr.msgID);
      if (msgID === undefined || (expected !== undefined && msgID !== expected)) {
        judge.fail('MDM-HDR-008', m, '/SyncHdr/MsgID', `MsgID ${trimmed(msg.hdr.msgID) || '(empty)'}, expected ${expected ?? 'a number'}`);
      }
      expected = msgID !== undefined && msgID > 0 ? msgID + 1 : expected === undefined ? undefined : expected + 1;
      const target = trimmed(msg.hdr.target?.locURI);
      if (session.serverUrl && !sameUrl(target, session.serverUrl)) {
        judge.fail('MDM-HDR-010', m, '/SyncHdr/Target/LocURI', `Target is "${target}", the management URL is "${session.serverUrl}"`);
      }
      if (!trimmed(msg.hdr.source?.locURI)) judge.fail('MDM-HDR-010', m, '/SyncHdr/Source/LocURI', 'no device identifier in the header Source');
    }
    const devId = first && devInfoValue(first.msg, './DevInfo/DevId');
    if (first && devId !== undefined) {
      judge.saw('MDM-HDR-012');
      if (devId !== trimmed(first.msg.hdr.source?.locURI)) {
        judge.fail('MDM-HDR-012', first.m, '/SyncHdr/Source/LocURI', `header Source "${trimmed(first.msg.hdr.source?.locURI)}" differs from ./DevInfo/DevId "${devId}"`);
      }
    }
  },
});

function devInfoValue(msg: SyncML, uri: string): string | undefined {
  for (const c of msg.body.commands) {
    if (c.kind !== 'Replace') continue;
    const it = c.items.find((i) => trimmed(i.source?.locURI) === uri);
    if (it) return trimmed(it.data?.text);
  }
  return undefined;
}

export const devicePackage1 = defineCheck<AnyClientSessionView>({
  name: 'devicePackage1',
  ids: ['MDM-CMD-ALT-001', 'MDM-SES-002', 'MDM-SES-003', 'MDM-SES-004', 'MDM-CMD-ALT-004', 'MDM-CMD-ALT-009'],
  when: {
    'MDM-CMD-ALT-004': 'the device to send a client event (1224) or generic alert (1226)',
    'MDM-CMD-ALT-009': 'the device to send the LoginStatus alert (a MAY: Windows sends it)',
  },
  run(session, judge) {
    // A capture that begins after package 1 says nothing of package 1.
    if (!startsAtPackage1(session)) return;
    const first = session.exchanges[0]?.request;
    const msg = first?.syncml;
    if (!msg) return;
    judge.saw('MDM-CMD-ALT-001', 'MDM-SES-002', 'MDM-SES-003', 'MDM-SES-004');
    if (!msg.body.commands.some((c) => isAlert(c, '1201') || isAlert(c, '1200'))) {
      judge.fail('MDM-CMD-ALT-001', first, '/SyncBody', 'the first message has no Alert 1201 or 1200');
    }
    const replaces = msg.body.commands.filter((c) => c.kind === 'Replace');
    const items = replaces.flatMap((c) => ('items' in c ? c.items : []));
    for (const [n, it] of items.entries()) {
      if (it.target && !it.source) judge.fail('MDM-SES-002', first, `/SyncBody/Replace/Item[${n + 1}]`, 'DevInfo node named in Target; package 1 names it in Item/Source');
      if (!it.data) judge.fail('MDM-SES-002', first, `/SyncBody/Replace/Item[${n + 1}]`, 'DevInfo item without Data');
    }
    const uris = new Set(items.map((i) => trimmed(i.source?.locURI ?? i.target?.locURI)));
    const missing = DEVINFO.filter((u) => !uris.has(u));
    if (missing.length) judge.fail('MDM-SES-003', first, '/SyncBody/Replace', `package 1 lacks ${missing.join(', ')}`);
    // Package 1 may span messages (the server pulls each next one with 1222); its last message carries Final.
    for (const x of session.exchanges) {
      const m = x.request?.syncml;
      if (!x.request || !m || m.body.final) break;
      const reply = x.response?.syncml;
      if (!reply || !reply.body.commands.some((c) => isAlert(c, '1222'))) {
        judge.fail('MDM-SES-004', x.request, '/SyncBody', 'package 1 ends without Final');
        break;
      }
    }
    for (const { command, path } of commandsWithPaths(msg.body.commands)) {
      if (command.kind !== 'Alert') continue;
      const code = codeOf(command);
      if (code === '1224' || code === '1226') {
        judge.saw('MDM-CMD-ALT-004');
        command.items.forEach((it, n) => {
          if (!metaValue(it.meta, 'Type')) judge.fail('MDM-CMD-ALT-004', first, `${path}/Item[${n + 1}]/Meta`, `Alert ${code} item without Meta Type`);
        });
        if (code === '1224' && command.items.some((i) => metaValue(i.meta, 'Type') === 'com.microsoft/MDM/LoginStatus')) judge.saw('MDM-CMD-ALT-009');
      }
    }
  },
});

export const deviceOriginatesOnlyWhatItMay = defineCheck<AnyClientSessionView>({
  name: 'deviceOriginatesOnlyWhatItMay',
  ids: ['MDM-SES-005'],
  run(session, judge) {
    for (const m of sentBy(session, 'device')) {
      if (!m.syncml) continue;
      judge.saw('MDM-SES-005');
      for (const { command, path, depth } of commandsWithPaths(m.syncml.body.commands)) {
        if (depth === 0 && !['Status', 'Alert', 'Replace', 'Results', 'Unknown'].includes(command.kind)) {
          judge.fail('MDM-SES-005', m, path, `the device sends ${command.kind}; it only originates Alert, Replace (DevInfo) and Results`);
        }
      }
    }
  },
});

export const deviceStatusesAnswerTheServer = defineCheck<AnyClientSessionView>({
  name: 'deviceStatusesAnswerTheServer',
  ids: ['MDM-STS-003', 'MDM-ID-002', 'MDM-ID-003', 'MDM-ID-005', 'MDM-ID-006', 'MDM-STS-007', 'MDM-STS-015', 'MDM-STS-016'],
  run(session, judge) {
    const serverMessages = sentBy(session, 'server');
    const index = commandIndex(serverMessages);
    const msgIDs = peerMsgIDs(serverMessages);
    for (const { m, prev } of deviceTurns(session)) {
      judgeCmdIDs(m, judge);
      if (!prev) continue;
      judgeHeaderStatus(m, prev, judge);
      judgeStatusReferences(m, index, msgIDs, judge);
      judgeStatusOrder(m, index, judge);
    }
  },
});

/** What the device sent from one of its turns on: Statuses and Results by the command they answer. */
interface Answers {
  statuses: Map<string, { code: string }[]>;
  results: Map<string, { results: Results; msg: WireMessage; path: string }[]>;
}

/**
 * The device's answers indexed once per session, newest turn first: a turn's answers are everything the device
 * sent from that turn on (a reply may span messages), built back to front so each turn costs what it adds.
 */
function answersFrom(turns: { msg: SyncML; m: WireMessage }[]): Answers[] {
  const out: Answers[] = new Array(turns.length);
  let acc: Answers = { statuses: new Map(), results: new Map() };
  for (let i = turns.length - 1; i >= 0; i--) {
    const next: Answers = { statuses: new Map(acc.statuses), results: new Map(acc.results) };
    for (const { command, path, depth } of commandsWithPaths(turns[i].msg.body.commands)) {
      if (depth > 0) continue;
      if (command.kind === 'Status') {
        const key = refKey(command.msgRef, command.cmdRef);
        next.statuses.set(key, [{ code: codeOf(command) ?? '' }, ...(next.statuses.get(key) ?? [])]);
      } else if (command.kind === 'Results') {
        const key = refKey(resultsMsgRef(command), command.cmdRef);
        next.results.set(key, [{ results: command, msg: turns[i].m, path }, ...(next.results.get(key) ?? [])]);
      }
    }
    out[i] = acc = next;
  }
  return out;
}

/** A Status for every server command, containers and members included, and Results for each successful Get. */
export const deviceAnswersEveryCommand = defineCheck<AnyClientSessionView>({
  name: 'deviceAnswersEveryCommand',
  ids: ['MDM-STS-004', 'MDM-SES-010', 'MDM-CMD-GET-002', 'MDM-RES-002', 'MDM-RES-004', 'MDM-CMD-SEQ-004', 'MDM-LO-006'],
  when: {
    'MDM-CMD-SEQ-004': 'the server to send a Sequence',
    'MDM-LO-006': 'the server to ask for the next message with Alert 1222',
    'MDM-CMD-GET-002': 'the server to send a Get',
    'MDM-RES-002': 'a Get answered 200',
    'MDM-RES-004': 'a Get answered 200',
  },
  run(session, judge) {
    const turns = [...deviceTurns(session)];
    const answers = answersFrom(turns);
    for (const [i, { prev, prevWire }] of turns.entries()) {
      if (!prev || !prevWire) continue;
      if (prev.body.commands.some((c) => isAlert(c, '1223'))) continue; // the device owes nothing after an abort
      const from = answers[i];
      const msgID = prev.hdr.msgID;
      for (const { command, path } of commandsWithPaths(prev.body.commands)) {
        if (command.kind === 'Status' || command.kind === 'Results') continue;
        const key = refKey(msgID, command.cmdID);
        const got = from.statuses.get(key) ?? [];
        // A Sequence and its members are MDM-CMD-SEQ-004's; every other command MDM-STS-004's (one rule per cause).
        const inSequence = command.kind === 'Sequence' || path.includes('/Sequence');
        const id = isAlert(command, '1222') ? 'MDM-LO-006' : inSequence ? 'MDM-CMD-SEQ-004' : 'MDM-STS-004';
        judge.saw(id, 'MDM-SES-010');
        if (!got.length) {
          judge.fail(id, prevWire, path, `the device never answered this ${command.kind} (CmdID ${trimmed(command.cmdID)}) with a Status`);
          judge.consequence('MDM-SES-010', id, prevWire, path, 'the response package lacks the Status for this command');
          continue;
        }
        if (command.kind !== 'Get' || !got.some((s) => s.code === '200')) continue;
        judge.saw('MDM-CMD-GET-002', 'MDM-RES-002', 'MDM-RES-004');
        const res = from.results.get(key) ?? [];
        if (!res.length) {
          judge.fail('MDM-CMD-GET-002', prevWire, path, `Get ${trimmed(command.cmdID)} answered 200 but no Results came back`);
          continue;
        }
        // Chunks of one large Results are one Results (MDM-LO-009).
        let logical = 0;
        let continuing = false;
        for (const { results: r } of res) {
          if (!continuing) logical++;
          continuing = r.items.some((it) => it.moreData);
        }
        if (logical > 1) judge.fail('MDM-RES-004', res[1].msg, res[1].path, `${logical} Results for the one Get ${trimmed(command.cmdID)} of ${label(prevWire)}`);
        const asked = new Set(command.kind === 'Get' ? command.items.map((it) => trimmed(it.target?.locURI)) : []);
        for (const { results: r, msg, path: at } of res) {
          r.items.forEach((it, n) => {
            const named = trimmed(it.source?.locURI);
            if (!asked.has(named)) judge.fail('MDM-RES-002', msg, `${at}/Item${r.items.length > 1 ? `[${n + 1}]` : ''}/Source/LocURI`, `Results item names "${named}", which the Get ${trimmed(command.cmdID)} of ${label(prevWire)} did not ask for`);
          });
        }
      }
    }
  },
});

export const deviceEndsSessionProperly = defineCheck<AnyClientSessionView>({
  name: 'deviceEndsSessionProperly',
  ids: ['MDM-STS-011', 'MDM-TERM-001', 'MDM-TERM-007'],
  when: { 'MDM-TERM-001': 'the server to end the session (a package with no command)', 'MDM-TERM-007': 'the server to abort with Alert 1223' },
  run(session, judge) {
    for (const { m, msg, prev } of deviceTurns(session)) {
      judge.saw('MDM-STS-011');
      const onlyHeaderOk = msg.body.commands.length === 1 && hdrStatus(msg) !== undefined && ['200', '212'].includes(codeOf(hdrStatus(msg)!) ?? '');
      if (onlyHeaderOk) judge.fail('MDM-STS-011', m, '/SyncBody', 'a message whose only content is a successful Status for the server\'s SyncHdr');
      if (!prev) continue;
      if (prev.body.commands.some((c) => isAlert(c, '1223'))) {
        judge.saw('MDM-TERM-007');
        judge.fail('MDM-TERM-007', m, '', 'the device replied after the server aborted the session with Alert 1223');
        continue;
      }
      const challenged = statusesOf(prev).some((s) => ['401', '407'].includes(codeOf(s.status) ?? '') && s.status.chal);
      if (prev.body.final && nonStatus(prev).length === 0 && !challenged) {
        judge.saw('MDM-TERM-001');
        judge.fail('MDM-TERM-001', m, '', 'the server\'s package had no commands and no challenge, so the session was over; the device must not send this message');
      }
    }
    const last = session.exchanges.at(-1)?.response?.syncml;
    if (last && last.body.final && nonStatus(last).length === 0) judge.saw('MDM-TERM-001');
    if (last && last.body.commands.some((c) => isAlert(c, '1223'))) judge.saw('MDM-TERM-007');
  },
});

/**
 * Final and Alert 1222 on the device side of multi-message packages (MDM-LO-002, -003, -010), and a device package
 * that never ends (MDM-TERM-004): a message without Final promises more of the package, so a session that stops
 * right after one, though the server asked for the rest, broke that promise.
 */
export const deviceFinalRules = defineCheck<AnyClientSessionView>({
  name: 'deviceFinalRules',
  ids: ['MDM-LO-002', 'MDM-LO-003', 'MDM-LO-010', 'MDM-TERM-004', 'MDM-SES-004', 'MDM-SES-010'],
  when: {
    'MDM-LO-002': 'the server to spread its package over several messages',
    'MDM-LO-003': 'the server to spread its package over several messages',
    'MDM-LO-010': 'the server to send a large object in chunks',
    'MDM-TERM-004': 'the device to spread its package over several messages',
  },
  run(session, judge) {
    let firstChunk: { msgRef: string; cmdRef: string } | undefined;
    for (const { m, msg, prev } of deviceTurns(session)) {
      if (!msg.body.final) judge.saw('MDM-TERM-004');
      if (!prev || prev.body.final) {
        firstChunk = undefined;
        continue;
      }
      const serverAskedNext = prev.body.commands.some((c) => isAlert(c, '1222'));
      if (serverAskedNext) continue; // the device continues its own package
      judge.saw('MDM-LO-002', 'MDM-LO-003');
      if (msg.body.final) judge.fail('MDM-LO-002', m, '/SyncBody/Final', 'the device closed its package while the server\'s package was still open (server message without Final)');
      const onlyStatuses = nonStatus(msg).length === 0;
      if (onlyStatuses) judge.fail('MDM-LO-003', m, '/SyncBody', 'the server\'s package is unfinished and the device returns nothing but statuses without Alert 1222');
      const chunk = prev.body.commands.find((c) => 'items' in c && c.items.length === 1 && c.items[0].moreData);
      if (chunk) {
        judge.saw('MDM-LO-010');
        firstChunk ??= { msgRef: trimmed(prev.hdr.msgID), cmdRef: trimmed(chunk.cmdID) };
        // A-23: the 213 may name this chunk's message and CmdID, or the object's first chunk.
        const refs = [{ msgRef: prev.hdr.msgID, cmdRef: chunk.cmdID }, firstChunk];
        const ack = statusesOf(msg).find((s) => refs.some((r) => sameNumber(s.status.cmdRef, r.cmdRef) && sameNumber(s.status.msgRef, r.msgRef)));
        if (!ack || codeOf(ack.status) !== '213') judge.fail('MDM-LO-010', m, '/SyncBody', `chunk ${chunk.kind} ${trimmed(chunk.cmdID)} acknowledged with ${ack ? codeOf(ack.status) : 'no Status'}, expected 213`);
      }
    }
    // The device's last word in the session was a message without Final, and the server asked for the rest.
    const lastTurn = session.exchanges.filter((x) => x.request?.syncml).at(-1);
    const lastMsg = lastTurn?.request?.syncml;
    const reply = lastTurn?.response?.syncml;
    if (lastTurn?.request && lastMsg && !lastMsg.body.final && reply?.body.commands.some((c) => isAlert(c, '1222'))) {
      const package1 = session.exchanges.every((x) => !x.request?.syncml?.body.final);
      judge.fail('MDM-TERM-004', lastTurn.request, '/SyncBody', 'a message without Final promises more of the package, yet the device sent nothing more after the server asked for it (Alert 1222)');
      judge.consequence(package1 && startsAtPackage1(session) ? 'MDM-SES-004' : 'MDM-SES-010', 'MDM-TERM-004', lastTurn.request, '/SyncBody', 'the device\'s package never got its last message with Final');
    }
  },
});

export const CLIENT_CHECKS: readonly ClientCheck[] = [
  deviceMessagesAreWellFormed, deviceHttp, deviceHeaderIsConsistent, devicePackage1, deviceOriginatesOnlyWhatItMay,
  deviceStatusesAnswerTheServer, deviceAnswersEveryCommand, deviceEndsSessionProperly, deviceFinalRules,
  ...CLIENT_TERMINATION_CHECKS,
];
