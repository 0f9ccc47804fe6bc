/**
 * Passive checks of a server under test: whatever it sends, in any scenario, is judged by these
 * (catalogue roles `server` and `both`, applied to the server's messages).
 *
 * Each check marks a rule exercised only when the rule's situation occurred in the session (a large object was
 * sent, a 214 was answered, a keep-alive arrived): a rule that had nothing to judge stays inconclusive, with the
 * situation it needs as the reason.
 */
import { codeOf, metaValue, type Command, type SyncML } from '../syncml';
import {
  commandIndex, DM_MEDIA_TYPES, judgeCmdIDs, judgeDocument, judgeHeaderStatus, judgeHttp, judgeStatusOrder, judgeStatusReferences,
  mediaType, peerMsgIDs, refKey, sentBy, statusesOf,
} from './common';
import { numberKey, numberOf, sameNumber, sameUrl } from './compare';
import { defineCheck, type Check } from './finding';
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
/** Commands that start work on the device: anything but Statuses and the package-flow alerts. */
const freshCommands = (msg: SyncML) => nonStatus(msg).filter((c) => !isAlert(c, '1222') && !isAlert(c, '1223'));

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
  'MDM-CMD-DEL-001', 'MDM-CMD-EXE-001', 'MDM-CMD-ALT-002', 'MDM-CMD-ATO-001', 'MDM-AUTH-013', 'MDM-AUTH-018',
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
  when: { 'MDM-AUTH-018': 'the server to challenge with md5 or MAC (a Chal)', 'MDM-AUTH-013': 'the server to present credentials of its own (Cred)' },
  run(session, judge) {
    const index = commandIndex(sentBy(session, 'device'));
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
      if (hdr.cred) judge.saw('MDM-AUTH-013');
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
      if (!sameUrl(source, serverUrl)) {
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
    const index = commandIndex(deviceMessages);
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
      const statuses = statusesOf(res).map((s) => s.status);
      const statusFor = (c: Command) => statuses.find((s) => sameNumber(s.msgRef, req.hdr.msgID) && sameNumber(s.cmdRef, c.cmdID));
      // A message refused for its SyncML or DM version (505/513, MDM-ROB-002) is not run: its commands carry that code.
      const header = statuses.find((s) => numberKey(s.cmdRef) === '0');
      const versionRefused = header && ['505', '513'].includes(codeOf(header) ?? '') ? codeOf(header) : undefined;
      for (const { command, path, depth } of commandsWithPaths(req.body.commands)) {
        if (depth > 0) continue;
        if (command.kind === 'Alert') {
          const code = codeOf(command) ?? '';
          judge.saw('MDM-STS-005', 'MDM-CMD-ALT-005');
          const s = statusFor(command);
          if (code === '1222') judge.saw('MDM-LO-006');
          if (!s) {
            const id = code === '1222' ? 'MDM-LO-006' : 'MDM-STS-005';
            judge.fail(id, reply, '/SyncBody', `no Status for the device's Alert ${code} (${path}, CmdID ${trimmed(command.cmdID)}); Windows tolerates the omission but OMA-DMP 8.4 requires it (A-09)`);
            continue;
          }
          const got = codeOf(s) ?? '';
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
          if (!statusFor(command)) judge.fail('MDM-STS-006', reply, '/SyncBody', `no Status for the DevInfo Replace (CmdID ${trimmed(command.cmdID)})`);
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
        const s = statusesOf(res).find((x) => sameNumber(x.status.cmdRef, r.cmdID) && sameNumber(x.status.msgRef, req.hdr.msgID));
        if (s && codeOf(s.status) === '200') {
          // OMA forbids it, MS-MDM seems to allow it: a warning in server mode (catalogue A-24).
          judge.warn('MDM-STS-014', reply, s.path, 'Status 200 for a Results; OMA-DMRP 6.5.1 says no Status is sent for a 200 Results (A-24)');
        }
      }
    }
  },
});

/** Final on every server message but large-object chunks and Next Message replies (MDM-LO-005, MDM-TERM-004). */
export const serverFinalRules = defineCheck<AnySessionView>({
  name: 'serverFinalRules',
  ids: ['MDM-LO-005', 'MDM-LO-004', 'MDM-LO-007', 'MDM-TERM-004'],
  when: { 'MDM-LO-004': 'the device to spread its package over several messages', 'MDM-LO-007': 'the device to spread its package over several messages' },
  run(session, judge) {
    let serverPackageOpen = false;
    for (const { req, res, reply } of answered(session)) {
      const chunk = hasChunk(res);
      const deviceOpen = !req.body.final;
      // A keep-alive is not a message of the device's package: the server answers it as MDM-CMD-ALT-016 says.
      const nextMessageSituation = deviceOpen && !serverPackageOpen && !isKeepAlive(req);
      judge.saw('MDM-LO-005', 'MDM-TERM-004');
      if (nextMessageSituation) {
        judge.saw('MDM-LO-004', 'MDM-LO-007');
        const extra = nonStatus(res).filter((c) => !isAlert(c, '1222') && !isAlert(c, '1223'));
        if (extra.length) {
          judge.fail('MDM-LO-007', reply, '/SyncBody', `the device's package is not finished (msg without Final), yet the server sends ${extra.map((c) => c.kind).join(', ')}; only Statuses and Alert 1222 may go`);
        }
        if (res.body.final && !nonStatus(res).some((c) => isAlert(c, '1223'))) {
          judge.fail('MDM-LO-004', reply, '/SyncBody/Final', 'a "Next Message" reply carries Final, but the device has not finished its package');
        } else if (!nonStatus(res).some((c) => isAlert(c, '1222') || isAlert(c, '1223'))) {
          judge.fail('MDM-LO-004', reply, '/SyncBody', 'the device sent a message without Final; the reply must ask for the next message with Alert 1222');
        }
      } else if (!res.body.final && !chunk && !isKeepAlive(req)) {
        judge.fail('MDM-LO-005', reply, '/SyncBody', 'no Final, though this is neither a large-object chunk nor a "Next Message" reply');
      }
      if (chunk && res.body.final) judge.fail('MDM-TERM-004', reply, '/SyncBody/Final', 'Final on a message whose large object continues (MoreData)');
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
      const answeredAlert = statusesOf(res).some((s) => sameNumber(s.status.cmdRef, alert?.cmdID) && sameNumber(s.status.msgRef, req.hdr.msgID));
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
    const outstanding = new Map<string, string>();
    let serverPackageClosed = true;
    for (const { req, res, reply } of answered(session)) {
      for (const s of statusesOf(req)) outstanding.delete(refKey(s.status.msgRef, s.status.cmdRef));
      const fresh = freshCommands(res);
      if (fresh.length && serverPackageClosed) {
        judge.saw('MDM-SES-009');
        // Statuses the device still owes with its package unfinished: the server must wait. With Final and some
        // still missing, the device broke its own rule (MDM-STS-004), which is no fault of the server's.
        if (outstanding.size && !req.body.final) {
          const list = [...outstanding.values()].slice(0, 3).join(', ');
          judge.fail('MDM-SES-009', reply, '/SyncBody', `new commands while the device, whose package is not finished, has not yet answered ${list}`);
        }
      }
      if (req.body.final) outstanding.clear();
      const msgID = res.hdr.msgID;
      for (const { command } of commandsWithPaths(res.body.commands)) {
        if (command.kind === 'Status' || command.kind === 'Unknown' || isAlert(command, '1222')) continue;
        outstanding.set(refKey(msgID, command.cmdID), `${command.kind} ${trimmed(command.cmdID)} of msg ${trimmed(msgID)}`);
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
    'MDM-LO-022': 'the server to send a command larger than one message',
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
          judge.fail('MDM-LO-019', reply, '', `message of ${size} bytes exceeds the device's MaxMsgSize ${maxMsg}`);
          for (const { command, item, path } of itemsOf(res)) {
            const bytes = Buffer.byteLength(item.data?.text ?? '');
            if (bytes <= maxMsg) continue;
            judge.saw('MDM-LO-009', 'MDM-LO-022');
            if (!item.moreData) judge.fail('MDM-LO-009', reply, `${path}/Item`, `an item of ${bytes} bytes, larger than MaxMsgSize ${maxMsg}, is sent whole instead of in chunks`);
            else judge.fail('MDM-LO-022', reply, path, `the ${command.kind} does not fit in one message of at most ${maxMsg} bytes even as a chunk`);
          }
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
    for (const { res, reply } of answered(session)) {
      let first = true;
      for (const c of res.body.commands) {
        if (c.kind === 'Status' || isAlert(c, '1222')) continue;
        const items = 'items' in c ? c.items : [];
        const uri = items.length === 1 ? trimmed(items[0].target?.locURI) : undefined;
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
    let firstChunk: { msgRef: string; cmdRef: string } | undefined;
    for (const { req, res, reply } of answered(session)) {
      for (const r of req.body.commands) {
        if (r.kind !== 'Results' || r.items.length !== 1) continue;
        const it = r.items[0];
        const chunked = it.moreData || declared !== undefined;
        if (!chunked) continue;
        if (declared === undefined) {
          declared = Number(metaValue(it.meta, 'Size') ?? metaValue(r.meta, 'Size') ?? NaN);
          firstChunk = { msgRef: trimmed(req.hdr.msgID), cmdRef: trimmed(r.cmdID) };
        }
        received += Buffer.byteLength(it.data?.text ?? '');
        // A-23: the Status for a chunk may name this chunk or the object's first chunk.
        const refs = [{ msgRef: req.hdr.msgID, cmdRef: r.cmdID }, firstChunk!];
        const s = statusesOf(res).find((x) => refs.some((ref) => sameNumber(x.status.cmdRef, ref.cmdRef) && sameNumber(x.status.msgRef, ref.msgRef)));
        if (it.moreData) {
          judge.saw('MDM-LO-010', 'MDM-LO-021');
          if (!s || codeOf(s.status) !== '213') judge.fail('MDM-LO-021', reply, '/SyncBody', `chunk of Results ${trimmed(r.cmdID)} not acknowledged with Status 213${s ? ` (got ${codeOf(s.status)})` : ''}`);
          const pulls = nonStatus(res).some((c) => isAlert(c, '1222'));
          if (!pulls && !res.body.commands.some((c) => c.kind !== 'Status')) judge.fail('MDM-LO-010', reply, '/SyncBody', 'chunk acknowledged without Alert 1222 to pull the next one');
        } else {
          const mismatch = Number.isFinite(declared) && declared !== received;
          judge.saw('MDM-LO-012');
          if (mismatch && (!s || codeOf(s.status) !== '424')) {
            judge.fail('MDM-LO-012', reply, '/SyncBody', `reassembled ${received} bytes against a declared Size of ${declared}; expected Status 424${s ? `, got ${codeOf(s.status)}` : ''}`);
          }
          if (!mismatch && s && codeOf(s.status) !== '200') judge.fail('MDM-LO-012', reply, s.path, `complete object of the declared size answered ${codeOf(s.status)}`);
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

export const serverChallengesProperly = defineCheck<AnySessionView>({
  name: 'serverChallengesProperly',
  ids: ['MDM-AUTH-004', 'MDM-AUTH-007'],
  when: 'the server to answer with 401 or 407 (application-level authentication: --auth)',
  run(session, judge) {
    for (const { res, reply } of answered(session)) {
      const headerChallenges = statusesOf(res).some((x) => numberKey(x.status.cmdRef) === '0' && x.status.chal);
      for (const { status: s, path } of statusesOf(res)) {
        const code = codeOf(s);
        if (code !== '401' && code !== '407') continue;
        judge.saw('MDM-AUTH-004');
        const header = numberKey(s.cmdRef) === '0';
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
      if (!cancelled && statusesOf(x.request.syncml!).some((s) => codeOf(s.status) === '214')) {
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
  serverAnswersEveryPackage, serverThrottlesWithRetryAfter, serverMessagesAreWellFormed, serverHttpFraming, serverHeaderMirrorsDevice,
  serverStatusesAnswerTheDevice, serverAnswersAlertsAndDevInfo, serverSendsNoStatusFor200Results, serverFinalRules,
  serverWaitsThroughKeepAlive, serverWaitsForStatuses, serverHonoursDeviceLimits, serverLargeObjectChunks, serverTakesChunkedResults,
  serverHandlesAbort, serverChallengesProperly, serverStopsAfter214,
  ...SESSION_SHAPE_CHECKS,
];
