/**
 * Passive checks of a server under test: whatever it sends, in any scenario, is judged by these
 * (catalogue roles `server` and `both`, applied to the server's messages).
 *
 * Each check marks a rule exercised only when the rule's situation occurred in the session (a large object was
 * sent, a 214 was answered, a keep-alive arrived): a rule that had nothing to judge stays inconclusive, with the
 * situation it needs as the reason.
 */
import { codeOf, encodeCommand, metaValue, type Command, type SyncML } from '../syncml';
import {
  sessionCommandIndex, DM_MEDIA_TYPES, judgeCmdIDs, judgeDocument, judgeHeaderStatus, judgeHttp, judgeStatusOrder,
  judgeStatusReferences, headerStatusOf, keyedCommands, mediaType, mislabelled, peerMsgIDs, refKey, sentBy, statusAnswering, statusesOf,
  type KeyedCommand,
} from './common';
import { judgeAuthentication, judgeCredentials } from './authentication';
import { numberOf, sameUrl, unaliased } from './compare';
import { defineCheck, type Check, type Judge } from './finding';
import { SERVER_COMMAND_CHECKS } from './server/commands';
import { SERVER_LARGE_OBJECT_CHECKS } from './server/large-objects';
import { SESSION_SHAPE_CHECKS } from './server/sessions';
import { commandsWithPaths, liveExchanges, startsAtPackage1, trimmed, type AnySessionView, type Exchange, type WireMessage } from './session';

type ServerCheck = Check<AnySessionView>;

/** Exchanges where both sides produced a readable message (throttled requests are judged where they land). */
function* answered(session: AnySessionView): Generator<{ x: Exchange; req: SyncML; res: SyncML; reply: WireMessage }> {
  for (const x of liveExchanges(session)) {
    if (x.request.syncml && x.response?.syncml) yield { x, req: x.request.syncml, res: x.response.syncml, reply: x.response };
  }
}

const nonStatus = (msg: SyncML) => msg.body.commands.filter((c) => c.kind !== 'Status');
const hasChunk = (msg: SyncML) => msg.body.commands.some((c) => 'items' in c && c.items.some((i) => i.moreData));
const isAlert = (c: Command, code: string) => c.kind === 'Alert' && codeOf(c) === code;
const REQUEST_PENDING = 'Reversed-Domain-Name:com.microsoft.mdm.requestpending';
/** A Windows keep-alive: Alert 1224 of type requestpending (MDM-CMD-ALT-015, -016). */
const isKeepAlive = (msg: SyncML) => msg.body.commands.some((c) => isAlert(c, '1224') && c.kind === 'Alert' && c.items.some((i) => metaValue(i.meta, 'Type') === REQUEST_PENDING));
/** Package-flow alerts: next message, abort, and the end of an abandoned large object (MDM-LO-014). */
const isFlowAlert = (c: Command) => isAlert(c, '1222') || isAlert(c, '1223') || isAlert(c, '1225');
/** Commands that start work on the device: anything but Statuses and the package-flow alerts. */
const freshCommands = (msg: SyncML) => nonStatus(msg).filter((c) => !isFlowAlert(c));

/** The server message opens a package: the first of the session, or the first after one with Final. */
function* serverMessagesWithPackageStart(session: AnySessionView): Generator<{ m: WireMessage; first: boolean }> {
  let previousClosed = true;
  for (const m of sentBy(session, 'server')) {
    yield { m, first: previousClosed };
    if (m.syncml) previousClosed = !!m.syncml.body.final;
  }
}

/**
 * An HTTP error answer that is no SyncML at all (a 500 page, a proxy's 502): a reply that did not come, for
 * MDM-TERM-003, rather than a SyncML message to judge for its syntax or media type.
 */
function isErrorPage(m: WireMessage | undefined): boolean {
  return !!m?.parseError && m.parseError !== 'empty body' && m.http?.status !== undefined && m.http.status !== 200;
}

const DOCUMENT_IDS = [
  'MDM-XML-001', 'MDM-XML-002', 'MDM-XML-004', 'MDM-XML-005', 'MDM-XML-011', 'MDM-XML-012', 'MDM-HDR-001', 'MDM-HDR-002',
  'MDM-HDR-003', 'MDM-HDR-004', 'MDM-ID-001', 'MDM-STS-001', 'MDM-CMD-GET-001', 'MDM-CMD-ADD-001', 'MDM-CMD-REP-001',
  'MDM-CMD-DEL-001', 'MDM-CMD-EXE-001', 'MDM-CMD-ALT-002', 'MDM-CMD-ATO-001', 'MDM-AUTH-013', 'MDM-AUTH-018', 'MDM-HDR-015',
] as const;

export const serverAnswersEveryPackage = defineCheck<AnySessionView>({
  name: 'serverAnswersEveryPackage',
  ids: ['MDM-TERM-003', 'MDM-STS-012'],
  run(session, judge) {
    for (const x of liveExchanges(session)) {
      if (!x.response && x.replyNotCaptured) continue; // absent from a capture, not from the wire
      judge.saw('MDM-TERM-003', 'MDM-STS-012');
      if (!x.response) {
        judge.fail('MDM-TERM-003', x.request, '', `no reply to this message: ${x.failure ?? 'no response'}`);
      } else if (x.response.parseError === 'empty body') {
        judge.fail('MDM-TERM-003', x.response, '', `HTTP ${x.response.http?.status ?? ''} with an empty body instead of a SyncML reply (A-22)`);
        // One fact, one failure: the missing SyncHdr Status is the empty reply seen again.
        judge.consequence('MDM-STS-012', 'MDM-TERM-003', x.response, '', 'the reply holds no SyncML message, not even the SyncHdr Status');
      } else if (isErrorPage(x.response)) {
        judge.fail('MDM-TERM-003', x.response, '', `HTTP ${x.response.http?.status} (${x.response.http?.contentType ?? 'no Content-Type'}) instead of a SyncML reply: ${x.response.parseError}`);
      }
    }
  },
});

/** HTTP 429/503 with Retry-After (MDM-TRN-022, a MAY): the device waits and resends; a throttle it never got past is a warning. */
export const serverThrottlesWithRetryAfter = defineCheck<AnySessionView>({
  name: 'serverThrottlesWithRetryAfter',
  ids: ['MDM-TRN-022'],
  when: 'the server to throttle a request with HTTP 429 or 503 and Retry-After',
  run(session, judge) {
    const last = session.exchanges.at(-1);
    for (const x of session.exchanges) {
      if (!x.throttled || !x.response) continue;
      judge.saw('MDM-TRN-022');
      if (x === last) judge.warn('MDM-TRN-022', x.response, 'Retry-After', `still throttled (HTTP ${x.response.http?.status}, Retry-After ${x.throttled}) when the device gave up; the session never went through`);
    }
  },
});

export const serverMessagesAreWellFormed = defineCheck<AnySessionView>({
  name: 'serverMessagesAreWellFormed',
  ids: DOCUMENT_IDS,
  when: {
    'MDM-AUTH-018': 'the server to challenge with md5 or MAC (a Chal)',
    'MDM-AUTH-013': 'the server to present credentials of its own (Cred): --server-credentials',
    'MDM-HDR-015': 'the server to present credentials of its own (Cred): --server-credentials',
  },
  run(session, judge) {
    const index = sessionCommandIndex(session, 'device');
    for (const { m, first } of serverMessagesWithPackageStart(session)) {
      if (m.parseError === 'empty body' || isErrorPage(m)) continue; // judged by serverAnswersEveryPackage
      judgeDocument(m, 'server', judge, DOCUMENT_IDS, { firstOfPackage: first, peerIndex: index });
      const hdr = m.syncml?.hdr;
      if (!hdr) continue;
      judge.saw('MDM-HDR-002', 'MDM-HDR-003', 'MDM-HDR-004');
      if (hdr.verDTD !== undefined && trimmed(hdr.verDTD) !== '1.2') judge.fail('MDM-HDR-002', m, '/SyncHdr/VerDTD', `VerDTD is "${hdr.verDTD}", expected 1.2`);
      if (hdr.verProto !== undefined && trimmed(hdr.verProto) !== 'DM/1.2') judge.fail('MDM-HDR-003', m, '/SyncHdr/VerProto', `VerProto is "${hdr.verProto}", expected DM/1.2`);
      if (hdr.sessionID !== undefined && Buffer.byteLength(trimmed(hdr.sessionID)) > 4) {
        judge.fail('MDM-HDR-004', m, '/SyncHdr/SessionID', `SessionID "${hdr.sessionID}" is longer than 4 bytes`);
      }
      judgeCredentials(m, judge, { cred: true, inCommand: true });
      for (const { command, path } of commandsWithPaths(m.syncml!.body.commands)) {
        if (command.kind !== 'Status' || !command.chal) continue;
        const type = metaValue(command.chal.meta, 'Type');
        if (type !== 'syncml:auth-md5' && type !== 'syncml:auth-MAC') continue;
        judge.saw('MDM-AUTH-018');
        const meta = command.chal.meta;
        if (metaValue(meta, 'Format') !== 'b64' || !/^[A-Za-z0-9+/]+={0,2}$/.test(metaValue(meta, 'NextNonce') ?? '')) {
          judge.fail('MDM-AUTH-018', m, `${path}/Chal`, `a ${type} Chal needs Meta Format b64 and a base64 NextNonce`);
        }
      }
    }
  },
});

export const serverHttpFraming = defineCheck<AnySessionView>({
  name: 'serverHttpFraming',
  ids: ['MDM-TRN-005', 'MDM-TRN-008', 'MDM-TRN-025', 'MDM-XML-001'],
  when: { 'MDM-TRN-005': 'HTTP headers of the replies (a live run or a capture that keeps them)', 'MDM-TRN-025': 'HTTP headers of the replies', 'MDM-TRN-008': 'a request in a DM media type, with the reply headers' },
  run(session, judge) {
    for (const x of liveExchanges(session)) {
      const res = x.response;
      if (!res?.http || isErrorPage(res)) continue;
      judgeHttp(res, judge);
      judge.saw('MDM-TRN-025');
      if (res.http.status !== 200) judge.fail('MDM-TRN-025', res, 'HTTP status', `HTTP ${res.http.status} carrying a SyncML reply; SyncML errors belong in Status codes`);
      const asked = mediaType(x.request.http?.contentType);
      if (DM_MEDIA_TYPES.includes(asked)) {
        judge.saw('MDM-TRN-008');
        if (mediaType(res.http.contentType) !== asked) judge.fail('MDM-TRN-008', res, 'Content-Type', `answered ${res.http.contentType ?? '(none)'} to a request in ${asked}`);
      }
    }
  },
});

const WBXML_TYPE = 'application/vnd.syncml.dm+wbxml';
/** HTTP statuses that refuse the device or defer it, whatever the body: they say nothing about decoding it. */
const REFUSALS = new Set([401, 403, 407, 429, 503]);

/**
 * Whether a media type is one the request's Accept field admits (RFC 9110 12.5.1): listed, covered by its `type/*`
 * range or by the range of every type, with a non-zero weight. A request without Accept takes any.
 */
export function accepts(accept: string | undefined, type: string): boolean {
  if (accept === undefined || accept.trim() === '') return true;
  const [major] = type.split('/');
  for (const range of accept.split(',')) {
    const [name, ...params] = range.split(';').map((p) => p.trim().toLowerCase());
    const q = params.find((p) => p.startsWith('q='));
    if (q !== undefined && Number(q.slice(2)) === 0) continue;
    if (name === type || name === '*/*' || name === `${major}/*`) return true;
  }
  return false;
}

/**
 * MDM-TRN-007: a WBXML request (the device was provisioned WBXML) is decoded, and the answer is in a form the device
 * decodes: WBXML, or XML in the XML media type when the device's Accept admits it (Windows lists both). Judged only
 * where a device sent WBXML in the WBXML media type; a reply the device could not read because its Content-Type
 * names the other encoding is MDM-TRN-005's failure, and an unreadable document MDM-XML-001's.
 */
export const serverDecodesWbxml = defineCheck<AnySessionView>({
  name: 'serverDecodesWbxml',
  ids: ['MDM-TRN-007'],
  when: 'a device message in WBXML (a server that declares the wbxml feature is sent WBXML sessions)',
  run(session, judge) {
    for (const x of liveExchanges(session)) {
      const req = x.request;
      const res = x.response;
      if (!res?.http || req.http?.bodyEncoding !== 'wbxml' || mediaType(req.http.contentType) !== WBXML_TYPE) continue;
      const status = res.http.status ?? 0;
      if (REFUSALS.has(status)) continue;
      judge.saw('MDM-TRN-007');
      if (status !== 200) {
        judge.fail('MDM-TRN-007', res, 'HTTP status', `HTTP ${status} to a WBXML request in ${WBXML_TYPE}: the server did not take the WBXML form`);
        continue;
      }
      if (res.parseError === 'empty body') continue; // an empty reply is no answer in any form (MDM-TERM-003)
      const type = mediaType(res.http.contentType);
      const label = mislabelled(res);
      if (!DM_MEDIA_TYPES.includes(type) || label) {
        judge.consequence('MDM-TRN-007', 'MDM-TRN-005', res, 'Content-Type', `the device cannot decode the answer to its WBXML request: ${label ?? `"${res.http.contentType ?? '(none)'}" is no DM media type`}`);
        continue;
      }
      if (res.parseError) {
        judge.consequence('MDM-TRN-007', /root element/.test(res.parseError) ? 'MDM-XML-002' : 'MDM-XML-001', res, '', `the answer to a WBXML request does not decode: ${res.parseError}`);
        continue;
      }
      const accept = req.http.headers?.accept;
      if (!accepts(accept, type)) {
        judge.fail('MDM-TRN-007', res, 'Content-Type', `answered a WBXML request in ${type}, which the device does not decode: its Accept is "${accept}"`);
      }
    }
  },
});

export const serverHeaderMirrorsDevice = defineCheck<AnySessionView>({
  name: 'serverHeaderMirrorsDevice',
  ids: ['MDM-HDR-007', 'MDM-HDR-009', 'MDM-HDR-011'],
  run(session, judge) {
    // A capture that starts mid-session does not show where the server's numbering began: only its steps are judged.
    let expected: number | undefined = startsAtPackage1(session) ? 1 : undefined;
    for (const { req, res, reply } of answered(session)) {
      judge.saw('MDM-HDR-007', 'MDM-HDR-009', 'MDM-HDR-011');
      if (trimmed(res.hdr.sessionID) !== trimmed(req.hdr.sessionID)) {
        judge.fail('MDM-HDR-007', reply, '/SyncHdr/SessionID', `SessionID "${trimmed(res.hdr.sessionID)}", the device's is "${trimmed(req.hdr.sessionID)}"`);
      }
      const msgID = numberOf(res.hdr.msgID);
      if (msgID === undefined || (expected !== undefined && msgID !== expected)) {
        const want = expected === undefined ? 'a number' : String(expected);
        judge.fail('MDM-HDR-009', reply, '/SyncHdr/MsgID', `MsgID ${trimmed(res.hdr.msgID) || '(empty)'}, expected ${want} (server MsgIDs start at 1 and grow by 1)`);
      }
      expected = msgID !== undefined && msgID > 0 ? msgID + 1 : expected === undefined ? undefined : expected + 1;
      const deviceId = trimmed(req.hdr.source?.locURI);
      if (trimmed(res.hdr.target?.locURI) !== deviceId) {
        judge.fail('MDM-HDR-011', reply, '/SyncHdr/Target/LocURI', `Target is "${trimmed(res.hdr.target?.locURI)}", the device id is "${deviceId}"`);
      }
      const serverUrl = trimmed(req.hdr.target?.locURI);
      const source = trimmed(res.hdr.source?.locURI);
      if (!sameUrl(source, unaliased(serverUrl, session.originAliases))) {
        judge.fail('MDM-HDR-011', reply, '/SyncHdr/Source/LocURI', `Source is "${source}", the device addressed "${serverUrl}"`);
      }
    }
  },
});

export const serverStatusesAnswerTheDevice = defineCheck<AnySessionView>({
  name: 'serverStatusesAnswerTheDevice',
  ids: ['MDM-STS-003', 'MDM-ID-002', 'MDM-ID-003', 'MDM-ID-005', 'MDM-ID-006', 'MDM-STS-007', 'MDM-STS-015', 'MDM-STS-016'],
  run(session, judge) {
    const deviceMessages = sentBy(session, 'device');
    const index = sessionCommandIndex(session, 'device');
    const msgIDs = peerMsgIDs(deviceMessages);
    for (const { req, reply } of answered(session)) {
      judgeHeaderStatus(reply, req, judge);
      judgeCmdIDs(reply, judge);
      judgeStatusReferences(reply, index, msgIDs, judge);
      judgeStatusOrder(reply, index, judge);
    }
  },
});

/** An Alert the device got wrong (no code, a code that is not a number): ROB-006 prescribes 400 or 412 for it. */
function malformedAlert(c: Command): boolean {
  return c.kind === 'Alert' && (c.cmdID === undefined || !/^\d{4}$/.test(codeOf(c) ?? ''));
}

export const serverAnswersAlertsAndDevInfo = defineCheck<AnySessionView>({
  name: 'serverAnswersAlertsAndDevInfo',
  ids: ['MDM-STS-005', 'MDM-STS-006', 'MDM-CMD-ALT-005', 'MDM-CMD-ALT-006', 'MDM-LO-006'],
  when: { 'MDM-CMD-ALT-006': 'the device to send a generic alert 1226', 'MDM-LO-006': 'the device to ask for the next message with Alert 1222' },
  run(session, judge) {
    for (const { req, res, reply } of answered(session)) {
      // A message refused for its SyncML or DM version (505/513, MDM-ROB-002) is not run: its commands carry that code.
      const header = headerStatusOf(res);
      const versionRefused = header && (header.code === '505' || header.code === '513') ? header.code : undefined;
      for (const { command, path, depth } of commandsWithPaths(req.body.commands)) {
        if (depth > 0) continue;
        if (command.kind === 'Alert') {
          const code = codeOf(command) ?? '';
          judge.saw('MDM-STS-005', 'MDM-CMD-ALT-005');
          const s = statusAnswering(res, req.hdr.msgID, command.cmdID);
          if (code === '1222') judge.saw('MDM-LO-006');
          if (!s) {
            const id = code === '1222' ? 'MDM-LO-006' : 'MDM-STS-005';
            judge.fail(id, reply, '/SyncBody', `no Status for the device's Alert ${code} (${path}, CmdID ${trimmed(command.cmdID)}); Windows tolerates the omission but OMA-DMP 8.4 requires it (A-09)`);
            continue;
          }
          const got = s.code;
          if (versionRefused && got === versionRefused) continue;
          // MDM-ROB-006 prescribes 400 or 412 for a malformed command: an Alert without a usable code is one.
          if (malformedAlert(command) && ['400', '412'].includes(got)) continue;
          if (code === '1226') {
            judge.saw('MDM-CMD-ALT-006');
            if (!['200', '202', '401', '407', '412', '415', '500'].includes(got)) judge.fail('MDM-CMD-ALT-006', reply, '', `generic alert answered ${got}; allowed: 200, 202, 401, 407, 412, 415, 500`);
          } else if (!['200', '406', '401', '407'].includes(got)) {
            judge.fail('MDM-CMD-ALT-005', reply, '', `Alert ${code} answered ${got}; an Alert gets 200, or 406 when not supported`);
          }
        }
        if (command.kind === 'Replace' && command.items.some((i) => i.source?.locURI?.startsWith('./DevInfo/'))) {
          judge.saw('MDM-STS-006');
          if (!statusAnswering(res, req.hdr.msgID, command.cmdID)) judge.fail('MDM-STS-006', reply, '/SyncBody', `no Status for the DevInfo Replace (CmdID ${trimmed(command.cmdID)})`);
        }
      }
    }
  },
});

export const serverSendsNoStatusFor200Results = defineCheck<AnySessionView>({
  name: 'serverSendsNoStatusFor200Results',
  ids: ['MDM-STS-014'],
  when: 'the device to return Results',
  run(session, judge) {
    for (const { req, res, reply } of answered(session)) {
      for (const r of req.body.commands) {
        if (r.kind !== 'Results') continue;
        judge.saw('MDM-STS-014');
        const s = statusAnswering(res, req.hdr.msgID, r.cmdID);
        if (s && s.code === '200') {
          // OMA forbids it, MS-MDM seems to allow it: a warning in server mode (catalogue A-24).
          judge.warn('MDM-STS-014', reply, s.path, 'Status 200 for a Results; OMA-DMRP 6.5.1 says no Status is sent for a 200 Results (A-24)');
        }
      }
    }
  },
});

/**
 * Final on every server message but large-object chunks and Next Message replies (MDM-LO-005, MDM-TERM-004,
 * MDM-LO-001), and the pull of an unfinished device package with Alert 1222 (MDM-LO-003, MDM-LO-004).
 */
export const serverFinalRules = defineCheck<AnySessionView>({
  name: 'serverFinalRules',
  ids: ['MDM-LO-005', 'MDM-LO-004', 'MDM-LO-007', 'MDM-TERM-004', 'MDM-LO-001', 'MDM-LO-003'],
  when: {
    'MDM-LO-004': 'the device to spread its package over several messages',
    'MDM-LO-007': 'the device to spread its package over several messages',
    'MDM-LO-003': 'the device to spread its package over several messages',
    'MDM-LO-001': 'the server to send a large object in chunks (its package then spans messages)',
  },
  run(session, judge) {
    // Whether the server's package was open before the first exchange; unknown when the capture starts mid-session.
    let serverPackageOpen: boolean | undefined = startsAtPackage1(session) ? false : undefined;
    for (const { req, res, reply } of answered(session)) {
      const chunk = hasChunk(res);
      if (serverPackageOpen === undefined) {
        if (chunk && res.body.final) judge.fail('MDM-TERM-004', reply, '/SyncBody/Final', 'Final on a message whose large object continues (MoreData)');
        serverPackageOpen = !res.body.final && chunk;
        continue;
      }
      const deviceOpen = !req.body.final;
      // A keep-alive is not a message of the device's package: the server answers it as MDM-CMD-ALT-016 says.
      const nextMessageSituation = deviceOpen && !serverPackageOpen && !isKeepAlive(req);
      judge.saw('MDM-LO-005', 'MDM-TERM-004');
      if (nextMessageSituation) {
        judge.saw('MDM-LO-004', 'MDM-LO-007', 'MDM-LO-003');
        // Alert 1225 may ride along: MDM-LO-014 requires it when the device abandoned an upload.
        const extra = nonStatus(res).filter((c) => !isFlowAlert(c));
        if (extra.length) {
          judge.fail('MDM-LO-007', reply, '/SyncBody', `the device's package is not finished (msg without Final), yet the server sends ${extra.map((c) => c.kind).join(', ')}; only Statuses and Alert 1222 may go`);
        }
        if (res.body.final && !nonStatus(res).some((c) => isAlert(c, '1223'))) {
          judge.fail('MDM-LO-004', reply, '/SyncBody/Final', 'a "Next Message" reply carries Final, but the device has not finished its package');
        } else if (nonStatus(res).length && !nonStatus(res).some((c) => isAlert(c, '1222') || isAlert(c, '1223'))) {
          judge.fail('MDM-LO-004', reply, '/SyncBody', 'the device sent a message without Final; the reply must ask for the next message with Alert 1222');
        } else if (!nonStatus(res).length) {
          // One cause, one failure: a reply of Statuses alone misses the pull MDM-LO-003 requires (MDM-LO-010's, judged
          // with the Results, when the device's message carried a chunk); the Next Message reply lacking it follows.
          const chunked = req.body.commands.some((c) => c.kind === 'Results' && c.items.length === 1 && c.items[0].moreData);
          const root = chunked ? 'MDM-LO-010' : 'MDM-LO-003';
          if (root === 'MDM-LO-003') judge.fail('MDM-LO-003', reply, '/SyncBody', 'the device sent a message without Final and the reply does not ask for the next one with Alert 1222');
          else judge.consequence('MDM-LO-003', root, reply, '/SyncBody', 'the device\'s unfinished package is not pulled with Alert 1222');
          judge.consequence('MDM-LO-004', root, reply, '/SyncBody', 'a "Next Message" reply without Alert 1222');
        }
      } else if (!res.body.final && !chunk && !isKeepAlive(req)) {
        judge.fail('MDM-LO-005', reply, '/SyncBody', 'no Final, though this is neither a large-object chunk nor a "Next Message" reply');
      }
      if (chunk) judge.saw('MDM-LO-001');
      if (chunk && res.body.final) {
        // MDM-LO-001 and MDM-TERM-004 state the same rule; the large-object one is the root here.
        judge.fail('MDM-LO-001', reply, '/SyncBody/Final', 'Final on a message whose large object continues (MoreData): only the last message of the package carries it');
        judge.consequence('MDM-TERM-004', 'MDM-LO-001', reply, '/SyncBody/Final', 'Final on a message whose large object continues (MoreData)');
      }
      serverPackageOpen = !res.body.final && chunk;
    }
  },
});

/** A Windows keep-alive (request pending) gets the Statuses and nothing new; the server keeps waiting (MDM-CMD-ALT-016). */
export const serverWaitsThroughKeepAlive = defineCheck<AnySessionView>({
  name: 'serverWaitsThroughKeepAlive',
  ids: ['MDM-CMD-ALT-016'],
  when: 'the device to send a request-pending keep-alive (Alert 1224)',
  run(session, judge) {
    for (const { req, res, reply } of answered(session)) {
      if (!isKeepAlive(req)) continue;
      judge.saw('MDM-CMD-ALT-016');
      const fresh = freshCommands(res);
      if (fresh.length) judge.fail('MDM-CMD-ALT-016', reply, '/SyncBody', `the device said its reply is still pending, yet the server sends ${fresh.map((c) => c.kind).join(', ')}`);
      const alert = req.body.commands.find((c) => isAlert(c, '1224'));
      const answeredAlert = statusAnswering(res, req.hdr.msgID, alert?.cmdID) !== undefined;
      if (!answeredAlert) judge.fail('MDM-CMD-ALT-016', reply, '/SyncBody', 'no Status for the request-pending alert');
      if (res.body.commands.some((c) => isAlert(c, '1223'))) judge.fail('MDM-CMD-ALT-016', reply, '/SyncBody', 'the server ended the session on a keep-alive instead of waiting for the outstanding statuses');
    }
  },
});

/**
 * MDM-SES-009: a server package with new commands starts only once the device has answered every command of the
 * server's previous package. A device message without Final means its answers are still coming.
 */
export const serverWaitsForStatuses = defineCheck<AnySessionView>({
  name: 'serverWaitsForStatuses',
  ids: ['MDM-SES-009'],
  when: 'the server to start a new package of commands',
  run(session, judge) {
    const outstanding = new Map<string, KeyedCommand>();
    let serverPackageClosed = true;
    for (const { req, res, reply } of answered(session)) {
      for (const s of statusesOf(req)) outstanding.delete(s.key);
      const fresh = freshCommands(res);
      if (fresh.length && serverPackageClosed) {
        judge.saw('MDM-SES-009');
        // Statuses the device still owes with its package unfinished: the server must wait. With Final and some
        // still missing, the device broke its own rule (MDM-STS-004), which is no fault of the server's.
        if (outstanding.size && !req.body.final) {
          const list = [...outstanding.values()].slice(0, 3).map((o) => `${o.command.kind} ${trimmed(o.command.cmdID)} of msg ${trimmed(o.msgID)}`).join(', ');
          judge.fail('MDM-SES-009', reply, '/SyncBody', `new commands while the device, whose package is not finished, has not yet answered ${list}`);
        }
      }
      if (req.body.final) outstanding.clear();
      for (const c of keyedCommands(res)) {
        if (c.command.kind === 'Status' || c.command.kind === 'Unknown' || isAlert(c.command, '1222')) continue;
        outstanding.set(c.key, c);
      }
      serverPackageClosed = !!res.body.final;
    }
  },
});

/** Items of a server message with their command, for the large-object rules. */
function* itemsOf(msg: SyncML): Generator<{ command: Command; item: NonNullable<Extract<Command, { items: unknown }>['items']>[number]; path: string }> {
  for (const { command, path, depth } of commandsWithPaths(msg.body.commands)) {
    if (depth > 0 || !('items' in command) || command.kind === 'Status' || command.kind === 'Results') continue;
    for (const item of command.items) yield { command, item, path };
  }
}

export const serverHonoursDeviceLimits = defineCheck<AnySessionView>({
  name: 'serverHonoursDeviceLimits',
  ids: ['MDM-LO-018', 'MDM-LO-019', 'MDM-LO-009', 'MDM-LO-022'],
  when: {
    'MDM-LO-018': 'the device to advertise MaxObjSize and the server to have an object for it',
    'MDM-LO-019': 'the device to advertise MaxMsgSize and the server to have more to send than fits in one message',
    'MDM-LO-009': 'the server to send a data item larger than one message',
    'MDM-LO-022': 'the device to advertise MaxMsgSize and the server to have a command larger than one message',
  },
  run(session, judge) {
    let maxMsg: number | undefined;
    let maxObj: number | undefined;
    for (const { req, res, reply } of answered(session)) {
      const m = Number(metaValue(req.hdr.meta, 'MaxMsgSize'));
      const o = Number(metaValue(req.hdr.meta, 'MaxObjSize'));
      if (m > 0) maxMsg = m;
      if (o > 0) maxObj = o;
      const size = reply.http?.bodyBytes;
      const chunked = hasChunk(res);
      if (maxMsg !== undefined && size !== undefined) {
        // The limit mattered when the server chunked, spread its package (no Final without a chunk), or overflowed.
        const constrained = chunked || size > maxMsg || (!res.body.final && freshCommands(res).length > 0);
        if (constrained) judge.saw('MDM-LO-019');
        if (size > maxMsg) {
          // A command larger than a message by itself: a one-Item object goes in chunks (MDM-LO-009); any other
          // command fits no message and is not sent, for only one Item's Data may span messages (MDM-LO-022). The
          // overflow of the message then follows from that; otherwise the server overfilled it (MDM-LO-019).
          const roots = judgeUnfittingCommands(res, maxMsg, reply, judge);
          const overflow = `message of ${size} bytes exceeds the device's MaxMsgSize ${maxMsg}`;
          if (roots.length) judge.consequence('MDM-LO-019', roots[0], reply, '', overflow);
          else judge.fail('MDM-LO-019', reply, '', overflow);
        }
      }
      if (maxObj !== undefined) {
        for (const { command, item, path } of itemsOf(res)) {
          const declared = Number(metaValue(item.meta, 'Size') ?? metaValue('meta' in command ? command.meta : undefined, 'Size'));
          const bytes = Math.max(declared || 0, Buffer.byteLength(item.data?.text ?? ''));
          if (!item.moreData && !declared) continue;
          judge.saw('MDM-LO-018');
          if (bytes > maxObj) judge.fail('MDM-LO-018', reply, `${path}/Item`, `an object of ${bytes} bytes exceeds the device's MaxObjSize ${maxObj}`);
        }
      }
    }
  },
});

/**
 * The top-level commands of a server message that are larger than the device's MaxMsgSize on their own, judged: a
 * one-Item command with Data sent whole should have gone in chunks (MDM-LO-009); a chunk that is still too large, or
 * a command that cannot be chunked (several Items, or no Data), fits no message (MDM-LO-022). Returns the ids failed.
 */
function judgeUnfittingCommands(res: SyncML, maxMsg: number, reply: WireMessage, judge: Judge): string[] {
  const failed: string[] = [];
  for (const { command, path, depth } of commandsWithPaths(res.body.commands)) {
    if (depth > 0 || command.kind === 'Status' || command.kind === 'Unknown') continue;
    const bytes = Buffer.byteLength(encodeCommand(command));
    if (bytes <= maxMsg) continue;
    const items = 'items' in command ? command.items : [];
    const chunkable = items.length === 1 && items[0].data !== undefined && command.kind !== 'Results';
    judge.saw('MDM-LO-022');
    if (chunkable && !items[0].moreData) {
      judge.saw('MDM-LO-009');
      judge.fail('MDM-LO-009', reply, `${path}/Item`, `a ${command.kind} of ${bytes} bytes, larger than MaxMsgSize ${maxMsg}, is sent whole instead of in chunks`);
      failed.push('MDM-LO-009');
    } else if (chunkable) {
      judge.fail('MDM-LO-022', reply, path, `the ${command.kind} does not fit in one message of at most ${maxMsg} bytes even as a chunk`);
      failed.push('MDM-LO-022');
    } else {
      const what = items.length > 1 ? `${items.length} Items` : 'no Item Data to chunk';
      judge.fail('MDM-LO-022', reply, path, `a ${command.kind} of ${bytes} bytes (${what}) is larger than the device's MaxMsgSize ${maxMsg}: it fits no message, and only one Item's Data may span messages, so it must not be sent as is`);
      failed.push('MDM-LO-022');
    }
  }
  return failed;
}

/**
 * Chunks of a server large object (MDM-LO-009, MDM-LO-011, MDM-LO-013, MDM-LO-016). Continuation chunks are found by
 * message sequence (A-23): the first item command of the next message continues the object, whether or not it
 * repeats the CmdID or the Target; a command addressing another node is a new object before the last chunk.
 */
export const serverLargeObjectChunks = defineCheck<AnySessionView>({
  name: 'serverLargeObjectChunks',
  ids: ['MDM-LO-009', 'MDM-LO-011', 'MDM-LO-013', 'MDM-LO-016'],
  when: 'the server to send a large object in chunks',
  run(session, judge) {
    let open: { uri: string; meta?: string } | undefined;
    // A capture that starts mid-session may start in the middle of an object: its first chunk is not in the view.
    let midObject = !startsAtPackage1(session);
    for (const { res, reply } of answered(session)) {
      let first = true;
      for (const c of res.body.commands) {
        if (c.kind === 'Status' || isAlert(c, '1222')) continue;
        const items = 'items' in c ? c.items : [];
        const uri = items.length === 1 ? trimmed(items[0].target?.locURI) : undefined;
        if (midObject) {
          midObject = false;
          // A chunk without Size at the head of the capture continues an object whose first chunk came before it.
          if (items.length === 1 && items[0].moreData && metaValue(items[0].meta, 'Size') === undefined && metaValue('meta' in c ? c.meta : undefined, 'Size') === undefined) {
            open = { uri: uri ?? '', meta: 'meta' in c && c.meta?.fields.length ? JSON.stringify(c.meta.fields) : undefined };
            first = false;
            continue;
          }
        }
        if (open) {
          judge.saw('MDM-LO-013', 'MDM-LO-011', 'MDM-LO-016');
          const continues = first && items.length === 1 && (uri === open.uri || !uri);
          first = false;
          if (!continues) {
            judge.fail('MDM-LO-013', reply, `/SyncBody/${c.kind}`, `${c.kind}${uri ? ` of ${uri}` : ''} sent while the large object for ${open.uri} is unfinished`);
            open = undefined;
            continue;
          }
          if (!uri) judge.warn('MDM-LO-016', reply, `/SyncBody/${c.kind}/Item`, `a continuation chunk of ${open.uri} without its Target; each chunk should repeat the Item addressing`);
          const meta = 'meta' in c ? JSON.stringify(c.meta?.fields ?? []) : undefined;
          if (open.meta && meta !== open.meta) judge.warn('MDM-LO-016', reply, `/SyncBody/${c.kind}/Meta`, 'a continuation chunk that does not repeat the command\'s Meta');
          if (metaValue(items[0].meta, 'Size') !== undefined) judge.fail('MDM-LO-011', reply, `/SyncBody/${c.kind}/Item/Meta/Size`, 'Size repeated on a continuation chunk; only the first chunk carries it');
          if (!items[0].moreData) open = undefined;
          continue;
        }
        first = false;
        if (items.length === 1 && items[0].moreData) {
          judge.saw('MDM-LO-011', 'MDM-LO-009');
          const declared = metaValue(items[0].meta, 'Size') ?? metaValue('meta' in c ? c.meta : undefined, 'Size');
          if (declared === undefined) judge.fail('MDM-LO-011', reply, `/SyncBody/${c.kind}/Item/Meta`, 'first chunk without Meta Size (the total object size)');
          if (!uri) judge.warn('MDM-LO-016', reply, `/SyncBody/${c.kind}/Item`, 'chunk without Target addressing');
          open = { uri: uri ?? '', meta: 'meta' in c && c.meta?.fields.length ? JSON.stringify(c.meta.fields) : undefined };
        }
      }
    }
  },
});

/** Device Results chunks are acknowledged with 213 and pulled with 1222; a size mismatch gets 424 (MDM-LO-010, LO-012, LO-021). */
export const serverTakesChunkedResults = defineCheck<AnySessionView>({
  name: 'serverTakesChunkedResults',
  ids: ['MDM-LO-010', 'MDM-LO-021', 'MDM-LO-012'],
  when: 'the device to return Results in chunks',
  run(session, judge) {
    let declared: number | undefined;
    let received = 0;
    let firstChunk: { msgRef: string; cmdRef: string; uri: string } | undefined;
    for (const { req, res, reply } of answered(session)) {
      for (const r of req.body.commands) {
        if (r.kind !== 'Results' || r.items.length !== 1) continue;
        const it = r.items[0];
        const source = it.source?.locURI === undefined ? undefined : trimmed(it.source.locURI);
        if (declared !== undefined && source !== undefined && source !== firstChunk!.uri) {
          // Results of another node before the last chunk: the object was abandoned (MDM-LO-014, judged apart).
          declared = undefined;
          received = 0;
          firstChunk = undefined;
        }
        const chunked = it.moreData || declared !== undefined;
        if (!chunked) continue;
        if (declared === undefined) {
          declared = Number(metaValue(it.meta, 'Size') ?? metaValue(r.meta, 'Size') ?? NaN);
          firstChunk = { msgRef: trimmed(req.hdr.msgID), cmdRef: trimmed(r.cmdID), uri: source ?? '' };
        }
        received += Buffer.byteLength(it.data?.text ?? '');
        // A-23: the Status for a chunk may name this chunk or the object's first chunk.
        const refs = [{ msgRef: req.hdr.msgID, cmdRef: r.cmdID }, firstChunk!];
        const s = statusesOf(res).find((x) => refs.some((ref) => x.key === refKey(ref.msgRef, ref.cmdRef)));
        if (it.moreData) {
          judge.saw('MDM-LO-010', 'MDM-LO-021');
          if (!s || s.code !== '213') judge.fail('MDM-LO-021', reply, '/SyncBody', `chunk of Results ${trimmed(r.cmdID)} not acknowledged with Status 213${s ? ` (got ${s.code})` : ''}`);
          const pulls = nonStatus(res).some((c) => isAlert(c, '1222'));
          if (!pulls && !res.body.commands.some((c) => c.kind !== 'Status')) judge.fail('MDM-LO-010', reply, '/SyncBody', 'chunk acknowledged without Alert 1222 to pull the next one');
        } else {
          const mismatch = Number.isFinite(declared) && declared !== received;
          judge.saw('MDM-LO-012');
          if (mismatch && (!s || s.code !== '424')) {
            judge.fail('MDM-LO-012', reply, '/SyncBody', `reassembled ${received} bytes against a declared Size of ${declared}; expected Status 424${s ? `, got ${s.code}` : ''}`);
          }
          if (!mismatch && s && s.code !== '200') judge.fail('MDM-LO-012', reply, s.path, `complete object of the declared size answered ${s.code}`);
          declared = undefined;
          received = 0;
          firstChunk = undefined;
        }
      }
    }
  },
});

export const serverHandlesAbort = defineCheck<AnySessionView>({
  name: 'serverHandlesAbort',
  ids: ['MDM-TERM-006'],
  when: 'the device to abort the session with Alert 1223',
  run(session, judge) {
    for (const { req, res, reply } of answered(session)) {
      if (!req.body.commands.some((c) => isAlert(c, '1223'))) continue;
      judge.saw('MDM-TERM-006');
      const extra = nonStatus(res);
      if (extra.length) judge.fail('MDM-TERM-006', reply, '/SyncBody', `after the device's Alert 1223 the server still sends ${extra.map((c) => c.kind).join(', ')}`);
    }
  },
});

const SERVER_AUTH_IDS = [
  'MDM-AUTH-001', 'MDM-AUTH-005', 'MDM-AUTH-008', 'MDM-AUTH-009', 'MDM-AUTH-011', 'MDM-AUTH-021', 'MDM-AUTH-022', 'MDM-AUTH-025',
  'MDM-AUTH-026', 'MDM-AUTH-027', 'MDM-AUTH-028', 'MDM-AUTH-029', 'MDM-AUTH-031',
] as const;

/** The server as authenticator of the device and as presenter of its own credentials (OMA-DMP 9, OMA-DMS 5.3). */
export const serverAuthenticates = defineCheck<AnySessionView>({
  name: 'serverAuthenticates',
  ids: SERVER_AUTH_IDS,
  when: {
    'MDM-AUTH-001': 'the server to challenge the device for credentials (--auth)',
    'MDM-AUTH-005': 'the server to answer with 401 or 407 (--auth)',
    'MDM-AUTH-008': 'the server to answer 212 and the session to go on',
    'MDM-AUTH-009': 'the device to answer the server\'s credentials with 200 and a new nonce (--server-credentials)',
    'MDM-AUTH-011': 'an authenticated session that goes on with further credentials or challenges',
    'MDM-AUTH-021': 'the server to hand out an md5 nonce (--auth md5)',
    'MDM-AUTH-022': 'the server to refuse credentials the device sent',
    'MDM-AUTH-025': 'a challenge answered in the scheme it names or another (--auth, --server-credentials)',
    'MDM-AUTH-026': 'the server to challenge with md5 and be answered in another scheme (--auth md5)',
    'MDM-AUTH-027': 'the server to use HMAC (x-syncml-hmac)',
    'MDM-AUTH-028': 'the server to send an x-syncml-hmac header',
    'MDM-AUTH-029': 'HMAC in use in the session (x-syncml-hmac)',
    'MDM-AUTH-031': 'the server to present credentials of its own (--server-credentials)',
  },
  run(session, judge) {
    judgeAuthentication(session, 'server', judge, new Set(SERVER_AUTH_IDS));
  },
});

export const serverChallengesProperly = defineCheck<AnySessionView>({
  name: 'serverChallengesProperly',
  ids: ['MDM-AUTH-004', 'MDM-AUTH-007'],
  when: 'the server to answer with 401 or 407 (application-level authentication: --auth)',
  run(session, judge) {
    for (const { res, reply } of answered(session)) {
      const headerChallenges = statusesOf(res).some((x) => x.cmdRef === '0' && x.status.chal);
      for (const { status: s, path, code, cmdRef } of statusesOf(res)) {
        if (code !== '401' && code !== '407') continue;
        judge.saw('MDM-AUTH-004');
        const header = cmdRef === '0';
        // When the SyncHdr Status carries the Chal, the commands' 401/407 need none (catalogue skeleton 3.7 E).
        if (!s.chal && (header || !headerChallenges)) judge.fail('MDM-AUTH-004', reply, path, `Status ${code} without a Chal naming the scheme`);
        if (header) {
          judge.saw('MDM-AUTH-007');
          const extra = nonStatus(res);
          if (extra.length) judge.fail('MDM-AUTH-007', reply, '/SyncBody', `authentication failed, yet the reply carries ${extra.map((c) => c.kind).join(', ')}`);
        }
      }
    }
  },
});

/** After the device answered 214 (cancelled), its very reply and every later one carry no new command (MDM-STS-024). */
export const serverStopsAfter214 = defineCheck<AnySessionView>({
  name: 'serverStopsAfter214',
  ids: ['MDM-STS-024'],
  when: 'the device to answer a command with 214 (cancelled)',
  run(session, judge) {
    let cancelled: WireMessage | undefined;
    for (const { x, res, reply } of answered(session)) {
      if (!cancelled && statusesOf(x.request.syncml!).some((s) => s.code === '214')) {
        judge.saw('MDM-STS-024');
        cancelled = x.request;
      }
      if (!cancelled) continue;
      const fresh = freshCommands(res);
      if (fresh.length) judge.fail('MDM-STS-024', reply, '/SyncBody', `still sends ${fresh.map((c) => c.kind).join(', ')} after the device answered 214 in msg ${cancelled.n}`);
    }
  },
});

export const SERVER_CHECKS: readonly ServerCheck[] = [
  serverAnswersEveryPackage, serverThrottlesWithRetryAfter, serverMessagesAreWellFormed, serverHttpFraming, serverDecodesWbxml, serverHeaderMirrorsDevice,
  serverStatusesAnswerTheDevice, serverAnswersAlertsAndDevInfo, serverSendsNoStatusFor200Results, serverFinalRules,
  serverWaitsThroughKeepAlive, serverWaitsForStatuses, serverHonoursDeviceLimits, serverLargeObjectChunks, serverTakesChunkedResults,
  serverHandlesAbort, serverChallengesProperly, serverAuthenticates, serverStopsAfter214,
  ...SERVER_COMMAND_CHECKS,
  ...SERVER_LARGE_OBJECT_CHECKS,
  ...SESSION_SHAPE_CHECKS,
];
