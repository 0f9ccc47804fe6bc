/**
 * Passive checks of a client (device) under test: every device message, in any scenario, is judged by these
 * (catalogue roles `client` and `both`, applied to the device's messages).
 */
import { codeOf, metaValue, type Command, type SyncML } from '../syncml';
import {
  commandIndex, judgeCmdIDs, judgeDocument, judgeHeaderStatus, judgeHttp, judgeStatusOrder, judgeStatusReferences, peerMsgIDs,
  sentBy, statusesOf,
} from './common';
import { defineCheck, type Check } from './finding';
import { commandsWithPaths, trimmed, type AnySessionView, type SessionView, type WireMessage } from './session';

/** What the harness told the client: the management URL and the device identity in its certificate. */
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
const hdrStatus = (msg: SyncML) => statusesOf(msg).find((s) => trimmed(s.status.cmdRef) === '0')?.status;

/** Device messages paired with the server message each one answers (undefined for the first). */
function* deviceTurns(session: AnySessionView): Generator<{ m: WireMessage; msg: SyncML; prev?: SyncML; prevWire?: WireMessage }> {
  let prev: WireMessage | undefined;
  for (const x of session.exchanges) {
    if (x.request?.syncml) yield { m: x.request, msg: x.request.syncml, prev: prev?.syncml, prevWire: prev };
    prev = x.response;
  }
}

const DOCUMENT_IDS = [
  'MDM-XML-001', 'MDM-XML-002', 'MDM-XML-004', 'MDM-XML-005', 'MDM-XML-011', 'MDM-XML-012', 'MDM-HDR-001', 'MDM-HDR-002',
  'MDM-HDR-003', 'MDM-HDR-004', 'MDM-ID-001', 'MDM-STS-001', 'MDM-RES-001', 'MDM-CMD-ALT-002', 'MDM-AUTH-013', 'MDM-HDR-015',
] as const;

export const deviceMessagesAreWellFormed = defineCheck<AnyClientSessionView>({
  name: 'deviceMessagesAreWellFormed',
  ids: DOCUMENT_IDS,
  run(session, judge) {
    for (const m of sentBy(session, 'device')) {
      judgeDocument(m, 'device', judge, DOCUMENT_IDS);
      const msg = m.syncml;
      if (!msg) continue;
      judge.saw('MDM-HDR-002', 'MDM-HDR-003', 'MDM-HDR-004', 'MDM-HDR-015');
      if (msg.hdr.verDTD !== undefined && trimmed(msg.hdr.verDTD) !== '1.2') judge.fail('MDM-HDR-002', m, '/SyncHdr/VerDTD', `VerDTD is "${msg.hdr.verDTD}", expected 1.2`);
      if (msg.hdr.verProto !== undefined && trimmed(msg.hdr.verProto) !== 'DM/1.2') judge.fail('MDM-HDR-003', m, '/SyncHdr/VerProto', `VerProto is "${msg.hdr.verProto}", expected DM/1.2`);
      if (msg.hdr.sessionID !== undefined && Buffer.byteLength(trimmed(msg.hdr.sessionID)) > 4) {
        judge.fail('MDM-HDR-004', m, '/SyncHdr/SessionID', `SessionID "${msg.hdr.sessionID}" is longer than 4 bytes`);
      }
      for (const { command, path } of commandsWithPaths(msg.body.commands)) {
        if ('cred' in command && command.cred && command.kind !== 'Status') judge.fail('MDM-HDR-015', m, `${path}/Cred`, 'Cred inside a command; credentials belong in the SyncHdr');
      }
    }
  },
});

export const deviceHttp = defineCheck<AnyClientSessionView>({
  name: 'deviceHttp',
  ids: ['MDM-TRN-001', 'MDM-TRN-005', 'MDM-TRN-009', 'MDM-TRN-011', 'MDM-XML-001'],
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

export const deviceHeaderIsConsistent = defineCheck<AnyClientSessionView>({
  name: 'deviceHeaderIsConsistent',
  ids: ['MDM-HDR-005', 'MDM-HDR-008', 'MDM-HDR-010', 'MDM-HDR-012'],
  run(session, judge) {
    let first: SyncML | undefined;
    let firstWire: WireMessage | undefined;
    let expected = 1;
    for (const { m, msg } of deviceTurns(session)) {
      first ??= msg;
      firstWire ??= m;
      judge.saw('MDM-HDR-005', 'MDM-HDR-008', 'MDM-HDR-010');
      if (trimmed(msg.hdr.sessionID) !== trimmed(first.hdr.sessionID)) {
        judge.fail('MDM-HDR-005', m, '/SyncHdr/SessionID', `SessionID changed from "${trimmed(first.hdr.sessionID)}" to "${trimmed(msg.hdr.sessionID)}" within the session`);
      }
      const msgID = trimmed(msg.hdr.msgID);
      if (msgID !== String(expected)) judge.fail('MDM-HDR-008', m, '/SyncHdr/MsgID', `MsgID ${msgID || '(empty)'}, expected ${expected}`);
      expected = Number(msgID) > 0 ? Number(msgID) + 1 : expected + 1;
      const target = trimmed(msg.hdr.target?.locURI).split('?')[0];
      if (session.serverUrl && target !== session.serverUrl.split('?')[0]) {
        judge.fail('MDM-HDR-010', m, '/SyncHdr/Target/LocURI', `Target is "${trimmed(msg.hdr.target?.locURI)}", the management URL is "${session.serverUrl}"`);
      }
      const source = trimmed(msg.hdr.source?.locURI);
      if (session.deviceId && source !== session.deviceId) {
        judge.fail('MDM-HDR-010', m, '/SyncHdr/Source/LocURI', `Source is "${source}", the device identity (certificate CN) is "${session.deviceId}"`);
      }
    }
    const devId = first && devInfoValue(first, './DevInfo/DevId');
    if (first && devId !== undefined) {
      judge.saw('MDM-HDR-012');
      if (devId !== trimmed(first.hdr.source?.locURI)) {
        judge.fail('MDM-HDR-012', firstWire, '/SyncHdr/Source/LocURI', `header Source "${trimmed(first.hdr.source?.locURI)}" differs from ./DevInfo/DevId "${devId}"`);
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
  run(session, judge) {
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
    // Package 1 may span messages; its last message (the one before the server's package 2 starts) carries Final.
    for (const x of session.exchanges) {
      const m = x.request?.syncml;
      if (!m) break;
      if (m.body.final) break;
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

/** A Status for every server command, containers and members included, and Results for each successful Get. */
export const deviceAnswersEveryCommand = defineCheck<AnyClientSessionView>({
  name: 'deviceAnswersEveryCommand',
  ids: ['MDM-STS-004', 'MDM-SES-010', 'MDM-CMD-GET-002', 'MDM-RES-002', 'MDM-RES-004', 'MDM-CMD-SEQ-004', 'MDM-LO-006'],
  run(session, judge) {
    const turns = [...deviceTurns(session)];
    for (const [i, { prev, prevWire }] of turns.entries()) {
      if (!prev || !prevWire) continue;
      if (prev.body.commands.some((c) => isAlert(c, '1223'))) continue; // the device owes nothing after an abort
      const later = turns.slice(i).map((t) => t.msg);
      const statuses = later.flatMap((msg) => statusesOf(msg).map((s) => s.status));
      const results = later.flatMap((msg) => msg.body.commands.filter((c) => c.kind === 'Results'));
      const msgID = trimmed(prev.hdr.msgID);
      for (const { command, path, depth } of commandsWithPaths(prev.body.commands)) {
        if (command.kind === 'Status' || command.kind === 'Results') continue;
        const key = (s: { msgRef?: string; cmdRef?: string }) => trimmed(s.msgRef) === msgID && trimmed(s.cmdRef) === trimmed(command.cmdID);
        const answers = statuses.filter(key);
        const id = isAlert(command, '1222') ? 'MDM-LO-006' : 'MDM-STS-004';
        judge.saw(id, 'MDM-SES-010');
        if (depth > 0) judge.saw('MDM-CMD-SEQ-004');
        if (!answers.length) {
          judge.fail(id, prevWire, path, `the device never answered this ${command.kind} (CmdID ${trimmed(command.cmdID)}) with a Status`);
          judge.fail('MDM-SES-010', prevWire, path, 'the response package lacks the Status for this command');
          continue;
        }
        if (command.kind !== 'Get' || !answers.some((s) => codeOf(s) === '200')) continue;
        judge.saw('MDM-CMD-GET-002', 'MDM-RES-002', 'MDM-RES-004');
        const res = results.filter((r) => r.kind === 'Results' && key(r));
        if (!res.length) {
          judge.fail('MDM-CMD-GET-002', prevWire, path, `Get ${trimmed(command.cmdID)} answered 200 but no Results came back`);
          continue;
        }
        // Chunks of one large Results are one Results (MDM-LO-009).
        let logical = 0;
        let continuing = false;
        for (const r of res) {
          if (!continuing) logical++;
          continuing = r.kind === 'Results' && r.items.some((it) => it.moreData);
        }
        if (logical > 1) judge.fail('MDM-RES-004', prevWire, path, `${logical} Results for one Get`);
        const asked = new Set(command.items.map((it) => trimmed(it.target?.locURI)));
        for (const r of res) {
          for (const it of r.kind === 'Results' ? r.items : []) {
            if (!asked.has(trimmed(it.source?.locURI))) judge.fail('MDM-RES-002', prevWire, path, `Results item names "${trimmed(it.source?.locURI)}", which this Get did not ask for`);
          }
        }
      }
    }
  },
});

export const deviceEndsSessionProperly = defineCheck<AnyClientSessionView>({
  name: 'deviceEndsSessionProperly',
  ids: ['MDM-STS-011', 'MDM-TERM-001', 'MDM-TERM-007'],
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

/** Final and Alert 1222 on the device side of multi-message packages (MDM-LO-001..003, MDM-LO-010). */
export const deviceFinalRules = defineCheck<AnyClientSessionView>({
  name: 'deviceFinalRules',
  ids: ['MDM-LO-002', 'MDM-LO-003', 'MDM-LO-010'],
  run(session, judge) {
    for (const { m, msg, prev } of deviceTurns(session)) {
      if (!prev || prev.body.final) continue;
      const serverAskedNext = prev.body.commands.some((c) => isAlert(c, '1222'));
      if (serverAskedNext) continue; // the device continues its own package
      judge.saw('MDM-LO-002', 'MDM-LO-003');
      if (msg.body.final) judge.fail('MDM-LO-002', m, '/SyncBody/Final', 'the device closed its package while the server\'s package was still open (server message without Final)');
      const onlyStatuses = nonStatus(msg).length === 0;
      if (onlyStatuses) judge.fail('MDM-LO-003', m, '/SyncBody', 'the server\'s package is unfinished and the device returns nothing but statuses without Alert 1222');
      const chunk = prev.body.commands.find((c) => 'items' in c && c.items.length === 1 && c.items[0].moreData);
      if (chunk) {
        judge.saw('MDM-LO-010');
        const ack = statusesOf(msg).find((s) => trimmed(s.status.cmdRef) === trimmed(chunk.cmdID) && trimmed(s.status.msgRef) === trimmed(prev.hdr.msgID));
        if (!ack || codeOf(ack.status) !== '213') judge.fail('MDM-LO-010', m, '/SyncBody', `chunk ${chunk.kind} ${trimmed(chunk.cmdID)} acknowledged with ${ack ? codeOf(ack.status) : 'no Status'}, expected 213`);
      }
    }
  },
});

export const CLIENT_CHECKS: readonly ClientCheck[] = [
  deviceMessagesAreWellFormed, deviceHttp, deviceHeaderIsConsistent, devicePackage1, deviceOriginatesOnlyWhatItMay,
  deviceStatusesAnswerTheServer, deviceAnswersEveryCommand, deviceEndsSessionProperly, deviceFinalRules,
];
