/**
 * Passive checks of a client (device) under test: every device message, in any scenario, is judged by these
 * (catalogue roles `client` and `both`, applied to the device's messages). As on the server side, a rule counts as
 * exercised only when its situation occurred in the session.
 */
import { MS_SIGNATURE_HEADER, verifyMessageSignature } from '../pki/ms-signature';
import { codeOf, metaValue, type Command, type Results, type SyncML, type SyncMLEncoding } from '../syncml';
import {
  sessionCommandIndex, judgeCmdIDs, judgeDocument, judgeHeaderStatus, judgeHttp, judgeStatusOrder, judgeStatusReferences, peerMsgIDs,
  headerStatusOf, keyedCommands, refKey, sentBy, statusesByKey, statusesOf, type StatusAt,
} from './common';
import { headerStatus, judgeAuthentication, judgeCredentials } from './authentication';
import { numberOf, sameUrl } from './compare';
import { COMMAND_CHECKS } from './client/command-checks';
import { CLIENT_LARGE_OBJECT_CHECKS, continuationCause } from './client/large-objects';
import { CLIENT_TERMINATION_CHECKS } from './client/termination';
import { defineCheck, type Check } from './finding';
import { memo } from './memo';
import { commandsWithPaths, label, startsAtPackage1, trimmed, type AnySessionView, type SessionView, type WireMessage } from './session';

/** What the run established with the client, beyond the URL: how it was provisioned. */
interface Provisioned {
  /**
   * The encoding the client was provisioned with (DMAcc `Ext/Microsoft/DefaultEncoding`, MDM-TRN-006): `wbxml` when
   * the run says so (`--encoding wbxml`), `xml` when nothing was provisioned. Unknown for captures.
   */
  encoding?: SyncMLEncoding;
  /**
   * The client was told to sign (DMClient RequireMessageSigning, MDM-TRN-014): the PEM of its device identity
   * certificate, which every signature must be made with.
   */
  signer?: string;
}

/** What the harness told the client: the management URL (and the device id it expects, for evidence only). */
export interface ClientSessionView extends SessionView, Provisioned {
  serverUrl?: string;
  deviceId?: string;
}

/** A live or captured client session with what the harness told the client, when it is known: what the checks read. */
export interface AnyClientSessionView extends AnySessionView, Provisioned {
  serverUrl?: string;
  deviceId?: string;
}

type ClientCheck = Check<AnyClientSessionView>;

const DEVINFO = ['./DevInfo/DevId', './DevInfo/Man', './DevInfo/Mod', './DevInfo/DmV', './DevInfo/Lang'];
const WINDOWS_USER_AGENT = 'MSFT OMA DM Client/1.2.0.1';
const HTTP_URL = /^https?:\/\/[^/\s]/i;
const isAlert = (c: Command, code: string) => c.kind === 'Alert' && codeOf(c) === code;
const nonStatus = (msg: SyncML) => msg.body.commands.filter((c) => c.kind !== 'Status');
const hdrStatus = (msg: SyncML) => headerStatusOf(msg);
/** MDM-ID-007: a Results without MsgRef refers to message 1. */
const resultsMsgRef = (r: Results) => (r.msgRef === undefined ? '1' : r.msgRef);

/** The device refuses the server message it answers: 401/407 for its SyncHdr. */
function refusesServer(msg: SyncML): boolean {
  const own = hdrStatus(msg);
  return !!own && (own.code === '401' || own.code === '407');
}

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
  // MDM-HDR-015 and the Cred's form are judged in judgeCredentials.
  run(session, judge) {
    const index = sessionCommandIndex(session, 'server');
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
      judgeCredentials(m, judge, { cred: true, inCommand: true });
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
 * MDM-TRN-006: the device encodes as it was provisioned, XML when nothing was. Judged on the bytes of each body (the
 * media type is MDM-TRN-005's business), only where the run knows what was provisioned.
 */
export const deviceEncodesAsProvisioned = defineCheck<AnyClientSessionView>({
  name: 'deviceEncodesAsProvisioned',
  ids: ['MDM-TRN-006'],
  when: 'a live run, which knows what encoding the client was provisioned with (--encoding)',
  run(session, judge) {
    const provisioned = session.encoding;
    if (!provisioned) return;
    for (const m of sentBy(session, 'device')) {
      const written = m.http?.bodyEncoding;
      if (!written) continue;
      judge.saw('MDM-TRN-006');
      if (written !== provisioned) {
        judge.fail('MDM-TRN-006', m, '', provisioned === 'xml'
          ? 'the body is WBXML, yet the client was provisioned no encoding: without DMAcc Ext/Microsoft/DefaultEncoding a device sends XML (a client provisioned WBXML is tested with --encoding wbxml)'
          : 'the body is XML, yet the client was provisioned WBXML (DMAcc Ext/Microsoft/DefaultEncoding, --encoding wbxml)');
      }
    }
  },
});

/**
 * MDM-TRN-014: when told to sign, every device message carries MS-Signature (the DMClient CSP calls it
 * MDM-Signature; either name is read), a detached CMS signature over the exact body, SHA-2, with a signing time,
 * made with the device identity certificate.
 */
export const deviceSignsMessages = defineCheck<AnyClientSessionView>({
  name: 'deviceSignsMessages',
  ids: ['MDM-TRN-014'],
  when: 'a client that declares message-signing (it was told RequireMessageSigning)',
  run(session, judge) {
    const signer = session.signer;
    if (!signer) return;
    for (const m of sentBy(session, 'device')) {
      if (!m.http?.headers || !m.http.body) continue;
      judge.saw('MDM-TRN-014');
      const header = m.http.headers[MS_SIGNATURE_HEADER.toLowerCase()] ?? m.http.headers['mdm-signature'];
      if (header === undefined) {
        judge.fail('MDM-TRN-014', m, MS_SIGNATURE_HEADER, 'no MS-Signature header, yet the client was told to sign every message (RequireMessageSigning)');
        continue;
      }
      const verdict = verifyMessageSignature(m.http.body, header, { expected: signer });
      if (!verdict.ok) judge.fail('MDM-TRN-014', m, MS_SIGNATURE_HEADER, verdict.reason);
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
      } else if (!session.serverUrl && !HTTP_URL.test(target)) {
        // Captured traffic does not say which URL the device was given, but it must be one.
        judge.fail('MDM-HDR-010', m, '/SyncHdr/Target/LocURI', `Target is "${target}", not a URL: a device message addresses the management server URL`);
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
    const index = sessionCommandIndex(session, 'server');
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

/** A Results the device sent, where it stands. */
interface ResultsAt {
  results: Results;
  msg: WireMessage;
  path: string;
}

const RESULTS_BY_KEY = Symbol('resultsByKey');

/** The Results of a device message by the Get they answer (a missing MsgRef is message 1, MDM-ID-007); made once. */
function resultsByKey(msg: SyncML, m: WireMessage): ReadonlyMap<string, readonly ResultsAt[]> {
  return memo(msg.body, RESULTS_BY_KEY, () => {
    const byKey = new Map<string, ResultsAt[]>();
    for (const { command, path, depth } of commandsWithPaths(msg.body.commands)) {
      if (depth > 0 || command.kind !== 'Results') continue;
      const key = refKey(resultsMsgRef(command), command.cmdRef);
      const list = byKey.get(key);
      if (list) list.push({ results: command, msg: m, path });
      else byKey.set(key, [{ results: command, msg: m, path }]);
    }
    return byKey;
  });
}

/** The Statuses of each turn by the command they answer (statusesByKey), in turn order. */
type TurnStatuses = readonly ReadonlyMap<string, readonly StatusAt[]>[];

/**
 * What the device sent under `key` from turn `from` on: a reply may span messages, so the answer to a server command
 * can come in any later turn. Found by looking the key up in each turn's own index (no per-session copy).
 */
function answeredFrom(statuses: TurnStatuses, key: string, from: number): boolean {
  for (let j = from; j < statuses.length; j++) if (statuses[j].has(key)) return true;
  return false;
}

/** Whether a Status 200 came for `key` from turn `from` on. */
function succeededFrom(statuses: TurnStatuses, key: string, from: number): boolean {
  for (let j = from; j < statuses.length; j++) {
    const list = statuses[j].get(key);
    if (list) for (const s of list) if (s.code === '200') return true;
  }
  return false;
}

/** Every Results of the session by the Get it answers, with the turn it came in: made once per session. */
function sessionResults(turns: readonly { msg: SyncML; m: WireMessage }[]): Map<string, { turn: number; at: ResultsAt }[]> {
  const out = new Map<string, { turn: number; at: ResultsAt }[]>();
  turns.forEach(({ msg, m }, turn) => {
    for (const [key, list] of resultsByKey(msg, m)) {
      const entries = out.get(key) ?? [];
      for (const at of list) entries.push({ turn, at });
      out.set(key, entries);
    }
  });
  return out;
}

function resultsFrom(index: Map<string, { turn: number; at: ResultsAt }[]>, key: string, from: number): ResultsAt[] {
  const out: ResultsAt[] = [];
  for (const { turn, at } of index.get(key) ?? []) if (turn >= from) out.push(at);
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
    const results = sessionResults(turns);
    const statuses: TurnStatuses = turns.map((t) => statusesByKey(t.msg));
    // Whether the device closed a package (Final) at or after each turn: until it does, its answers may still come,
    // and a capture that ends before that does not show them.
    const closedFrom = new Array<boolean>(turns.length + 1).fill(false);
    for (let i = turns.length - 1; i >= 0; i--) closedFrom[i] = closedFrom[i + 1] || turns[i].msg.body.final === true;
    for (const [i, { prev, prevWire }] of turns.entries()) {
      if (!prev || !prevWire) continue;
      if (prev.body.commands.some((c) => isAlert(c, '1223'))) continue; // the device owes nothing after an abort
      if (session.endsMidSession && !closedFrom[i]) continue;
      for (const { command, path, key } of keyedCommands(prev)) {
        if (command.kind === 'Status' || command.kind === 'Results') continue;
        // A Sequence and its members are MDM-CMD-SEQ-004's; every other command MDM-STS-004's (one rule per cause).
        const inSequence = command.kind === 'Sequence' || path.includes('/Sequence');
        const id = isAlert(command, '1222') ? 'MDM-LO-006' : inSequence ? 'MDM-CMD-SEQ-004' : 'MDM-STS-004';
        judge.saw(id, 'MDM-SES-010');
        if (!answeredFrom(statuses, key, i)) {
          judge.fail(id, prevWire, path, `the device never answered this ${command.kind} (CmdID ${trimmed(command.cmdID)}) with a Status`);
          judge.consequence('MDM-SES-010', id, prevWire, path, 'the response package lacks the Status for this command');
          continue;
        }
        if (command.kind !== 'Get' || !succeededFrom(statuses, key, i)) continue;
        judge.saw('MDM-CMD-GET-002', 'MDM-RES-002', 'MDM-RES-004');
        const res = resultsFrom(results, key, i);
        if (!res.length) {
          judge.fail('MDM-CMD-GET-002', prevWire, path, `Get ${trimmed(command.cmdID)} answered 200 but no Results came back`);
          continue;
        }
        // Chunks of one large Results are one Results (MDM-LO-009).
        let logical = 0;
        let continuing = false;
        let second: { at: (typeof res)[number]; cause?: string } | undefined;
        for (let i = 0; i < res.length; i++) {
          const part = res[i];
          if (!continuing && ++logical === 2) {
            // A later message continuing the Results is a split command or chunks without MoreData: that is the cause.
            const before = res[i - 1];
            second = { at: part, cause: before.msg.n < part.msg.n ? continuationCause(before.results, part.results) : undefined };
          }
          continuing = part.results.items.some((it) => it.moreData);
        }
        if (second) {
          const why = `${logical} Results for the one Get ${trimmed(command.cmdID)} of ${label(prevWire)}`;
          if (second.cause) judge.consequence('MDM-RES-004', second.cause, second.at.msg, second.at.path, why);
          else judge.fail('MDM-RES-004', second.at.msg, second.at.path, why);
        }
        const asked = command.items;
        for (const { results: r, msg, path: at } of res) {
          for (let n = 0; n < r.items.length; n++) {
            const named = trimmed(r.items[n].source?.locURI);
            let found = false;
            for (const it of asked) {
              if (trimmed(it.target?.locURI) !== named) continue;
              found = true;
              break;
            }
            if (!found) judge.fail('MDM-RES-002', msg, `${at}/Item${r.items.length > 1 ? `[${n + 1}]` : ''}/Source/LocURI`, `Results item names "${named}", which the Get ${trimmed(command.cmdID)} of ${label(prevWire)} did not ask for`);
          }
        }
      }
    }
  },
});

export const deviceEndsSessionProperly = defineCheck<AnyClientSessionView>({
  name: 'deviceEndsSessionProperly',
  ids: ['MDM-STS-011', 'MDM-TERM-001', 'MDM-TERM-007', 'MDM-AUTH-012'],
  when: {
    'MDM-TERM-001': 'the server to end the session (a package with no command)', 'MDM-TERM-007': 'the server to abort with Alert 1223',
    'MDM-AUTH-012': 'the server to send a message with no command and no challenge',
  },
  run(session, judge) {
    for (const m of sentBy(session, 'server')) {
      // MDM-AUTH-012: a server message with no command and no challenge cannot be answered by the server; whatever its
      // credentials, the device must not challenge it with a message that holds nothing else.
      const msg = m.syncml;
      if (msg && nonStatus(msg).length === 0 && !statusesOf(msg).some((s) => s.status.chal)) judge.saw('MDM-AUTH-012');
    }
    for (const { m, msg, prev } of deviceTurns(session)) {
      judge.saw('MDM-STS-011');
      const header = hdrStatus(msg);
      const onlyHeaderOk = msg.body.commands.length === 1 && header !== undefined && (header.code === '200' || header.code === '212');
      if (onlyHeaderOk) judge.fail('MDM-STS-011', m, '/SyncBody', 'a message whose only content is a successful Status for the server\'s SyncHdr');
      if (!prev) continue;
      if (prev.body.commands.some((c) => isAlert(c, '1223'))) {
        judge.saw('MDM-TERM-007');
        judge.fail('MDM-TERM-007', m, '', 'the device replied after the server aborted the session with Alert 1223');
        continue;
      }
      const challenged = statusesOf(prev).some((s) => (s.code === '401' || s.code === '407') && s.status.chal);
      const own = hdrStatus(msg);
      const onlyAChallenge = msg.body.commands.length === 1 && !!own?.status.chal && (own.code === '401' || own.code === '407');
      if (nonStatus(prev).length === 0 && !statusesOf(prev).some((s) => s.status.chal) && onlyAChallenge) {
        judge.fail('MDM-AUTH-012', m, '/SyncBody/Status[1]/Chal', `the server's msg ${trimmed(prev.hdr.msgID)} held no command and no challenge, and the device answers with nothing but a ${own!.code} challenge of its SyncHdr`);
        if (prev.body.final) judge.consequence('MDM-TERM-001', 'MDM-AUTH-012', m, '', 'the server\'s package had no commands and no challenge, so the session was over');
        continue;
      }
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
      // A server message refused at its SyncHdr (its credentials missing or wrong) was not taken in: the server sends
      // it again, and its package and chunks go on from there.
      if (refusesServer(msg)) continue;
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
        const ack = statusesOf(msg).find((s) => refs.some((r) => s.key === refKey(r.msgRef, r.cmdRef)));
        if (!ack || ack.code !== '213') judge.fail('MDM-LO-010', m, '/SyncBody', `chunk ${chunk.kind} ${trimmed(chunk.cmdID)} acknowledged with ${ack ? ack.code : 'no Status'}, expected 213`);
      }
    }
    // The device's last word in the session was a message without Final, and the server asked for the rest. A
    // capture that ends mid-session only stopped recording: what came next is unknown.
    if (session.endsMidSession) return;
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

const DEVICE_AUTH_IDS = [
  'MDM-AUTH-004', 'MDM-AUTH-005', 'MDM-AUTH-008', 'MDM-AUTH-009', 'MDM-AUTH-011', 'MDM-AUTH-018', 'MDM-AUTH-020', 'MDM-AUTH-021',
  'MDM-AUTH-022', 'MDM-AUTH-025', 'MDM-AUTH-027', 'MDM-AUTH-028', 'MDM-AUTH-029', 'MDM-AUTH-031',
] as const;

/** The device as authenticator of the server and as presenter of its own credentials (OMA-DMP 9, OMA-DMS 5.3). */
export const deviceAuthenticates = defineCheck<AnyClientSessionView>({
  name: 'deviceAuthenticates',
  ids: DEVICE_AUTH_IDS,
  when: {
    'MDM-AUTH-004': 'the device to challenge the server\'s credentials (--server-credentials)',
    'MDM-AUTH-005': 'the device to challenge the server\'s credentials (--server-credentials)',
    'MDM-AUTH-008': 'the device to accept the server\'s credentials with 212 and the session to go on (--server-credentials)',
    'MDM-AUTH-009': 'the server to accept the device\'s credentials with 200 and a new nonce',
    'MDM-AUTH-011': 'an authenticated session that goes on with further credentials or challenges',
    'MDM-AUTH-018': 'the device to challenge the server with md5 (--server-credentials)',
    'MDM-AUTH-020': 'the device to accept MD5 credentials of the server (--server-auth md5 --server-credentials)',
    'MDM-AUTH-021': 'the device to hand the server an md5 nonce (--server-credentials)',
    'MDM-AUTH-022': 'the device to refuse credentials the server presented (--server-credentials)',
    'MDM-AUTH-025': 'a challenge answered in the scheme it names or another (--auth, --server-credentials)',
    'MDM-AUTH-027': 'the device to use HMAC (x-syncml-hmac)',
    'MDM-AUTH-028': 'the device to send an x-syncml-hmac header',
    'MDM-AUTH-029': 'HMAC in use in the session (x-syncml-hmac)',
    'MDM-AUTH-031': 'the device to challenge the server\'s credentials (--server-credentials)',
  },
  run(session, judge) {
    judgeAuthentication(session, 'device', judge, new Set(DEVICE_AUTH_IDS));
  },
});

/** The request URL of a device message, resolved against the URL the harness gave the client. */
function requestUrl(m: WireMessage, base: string | undefined): URL | undefined {
  const raw = m.http?.url;
  if (!raw) return undefined;
  try {
    return new URL(raw, base ?? 'https://device.invalid/');
  } catch {
    return undefined;
  }
}

/** MDM-HDR-016: after an authentication-failure reply carrying RespURI, the next device message goes to that URI. */
export const deviceFollowsRespURI = defineCheck<AnyClientSessionView>({
  name: 'deviceFollowsRespURI',
  ids: ['MDM-HDR-016'],
  when: 'the server to send RespURI in an authentication-failure reply',
  run(session, judge) {
    const turns = [...deviceTurns(session)];
    for (const [i, { prev, prevWire }] of turns.entries()) {
      if (i === 0 || !prev || !prevWire) continue;
      const respURI = trimmed(prev.hdr.respURI);
      const hdr = headerStatus(prev);
      if (!respURI || !hdr || !['401', '407'].includes(codeOf(hdr) ?? '')) continue;
      const next = turns[i].m;
      const went = requestUrl(next, session.serverUrl);
      if (!went) continue; // a capture without request lines shows nothing of where the message went
      judge.saw('MDM-HDR-016');
      let want: URL;
      try {
        want = new URL(respURI, session.serverUrl);
      } catch {
        continue;
      }
      const sameQuery = [...want.searchParams].every(([k, v]) => went.searchParams.getAll(k).includes(v));
      if (went.pathname !== want.pathname || !sameQuery) {
        judge.fail('MDM-HDR-016', next, 'HTTP request URL', `sent to ${went.pathname}${went.search}; the server's authentication-failure reply (${label(prevWire)}) named RespURI ${respURI}`);
      }
    }
  },
});

export const CLIENT_CHECKS: readonly ClientCheck[] = [
  deviceMessagesAreWellFormed, deviceHttp, deviceEncodesAsProvisioned, deviceSignsMessages, deviceHeaderIsConsistent, devicePackage1,
  deviceOriginatesOnlyWhatItMay, deviceStatusesAnswerTheServer, deviceAnswersEveryCommand, deviceEndsSessionProperly, deviceFinalRules,
  deviceAuthenticates, deviceFollowsRespURI,
  ...COMMAND_CHECKS,
  ...CLIENT_LARGE_OBJECT_CHECKS,
  ...CLIENT_TERMINATION_CHECKS,
];
