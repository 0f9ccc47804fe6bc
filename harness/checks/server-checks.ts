/**
 * Passive checks of a server under test: whatever it sends, in any scenario, is judged by these
 * (catalogue roles `server` and `both`, applied to the server's messages).
 */
import { codeOf, metaValue, type Command, type SyncML } from '../syncml';
import {
  commandIndex, DM_MEDIA_TYPES, judgeCmdIDs, judgeDocument, judgeHeaderStatus, judgeHttp, judgeStatusOrder, judgeStatusReferences,
  mediaType, peerMsgIDs, sentBy, statusesOf,
} from './common';
import { defineCheck, type Check } from './finding';
import { commandsWithPaths, trimmed, type AnyExchange, type AnySessionView, type WireMessage } from './session';

type ServerCheck = Check<AnySessionView>;

/** Exchanges where both sides produced a readable message. */
function* answered(session: AnySessionView): Generator<{ x: AnyExchange; req: SyncML; res: SyncML; ask: WireMessage; reply: WireMessage }> {
  for (const x of session.exchanges) {
    if (x.request?.syncml && x.response?.syncml) yield { x, req: x.request.syncml, res: x.response.syncml, ask: x.request, reply: x.response };
  }
}

const nonStatus = (msg: SyncML) => msg.body.commands.filter((c) => c.kind !== 'Status');
const hasChunk = (msg: SyncML) => msg.body.commands.some((c) => 'items' in c && c.items.some((i) => i.moreData));
const isAlert = (c: Command, code: string) => c.kind === 'Alert' && codeOf(c) === code;

const DOCUMENT_IDS = [
  'MDM-XML-001', 'MDM-XML-002', 'MDM-XML-004', 'MDM-XML-005', 'MDM-XML-011', 'MDM-XML-012', 'MDM-HDR-001', 'MDM-HDR-002',
  'MDM-HDR-003', 'MDM-HDR-004', 'MDM-ID-001', 'MDM-STS-001', 'MDM-CMD-GET-001', 'MDM-CMD-ADD-001', 'MDM-CMD-REP-001',
  'MDM-CMD-DEL-001', 'MDM-CMD-EXE-001', 'MDM-CMD-ALT-002', 'MDM-CMD-ATO-001', 'MDM-AUTH-013', 'MDM-AUTH-018',
] as const;

export const serverAnswersEveryPackage = defineCheck<AnySessionView>({
  name: 'serverAnswersEveryPackage',
  ids: ['MDM-TERM-003', 'MDM-STS-012'],
  run(session, judge) {
    for (const x of session.exchanges) {
      if (!x.request) continue; // a captured reply whose request is not in the capture answers nothing we saw
      if (!x.response && x.replyNotCaptured) continue; // absent from a capture, not from the wire
      judge.saw('MDM-TERM-003', 'MDM-STS-012');
      if (!x.response) {
        judge.fail('MDM-TERM-003', x.request, '', `no reply to this message: ${x.failure ?? 'no response'}`);
      } else if (x.response.parseError === 'empty body') {
        judge.fail('MDM-TERM-003', x.response, '', `HTTP ${x.response.http?.status ?? ''} with an empty body instead of a SyncML reply (A-22)`);
        judge.fail('MDM-STS-012', x.response, '', 'the reply holds no SyncML message, not even the SyncHdr Status');
      }
    }
  },
});

export const serverMessagesAreWellFormed = defineCheck<AnySessionView>({
  name: 'serverMessagesAreWellFormed',
  ids: DOCUMENT_IDS,
  run(session, judge) {
    for (const m of sentBy(session, 'server')) {
      if (m.parseError === 'empty body') continue; // judged by serverAnswersEveryPackage
      judgeDocument(m, 'server', judge, DOCUMENT_IDS);
      const hdr = m.syncml?.hdr;
      if (!hdr) continue;
      judge.saw('MDM-HDR-002', 'MDM-HDR-003', 'MDM-HDR-004');
      if (hdr.verDTD !== undefined && trimmed(hdr.verDTD) !== '1.2') judge.fail('MDM-HDR-002', m, '/SyncHdr/VerDTD', `VerDTD is "${hdr.verDTD}", expected 1.2`);
      if (hdr.verProto !== undefined && trimmed(hdr.verProto) !== 'DM/1.2') judge.fail('MDM-HDR-003', m, '/SyncHdr/VerProto', `VerProto is "${hdr.verProto}", expected DM/1.2`);
      if (hdr.sessionID !== undefined && Buffer.byteLength(trimmed(hdr.sessionID)) > 4) {
        judge.fail('MDM-HDR-004', m, '/SyncHdr/SessionID', `SessionID "${hdr.sessionID}" is longer than 4 bytes`);
      }
      for (const { command, path } of commandsWithPaths(m.syncml!.body.commands)) {
        if (command.kind === 'Status' && command.chal) judge.saw('MDM-AUTH-018');
        if (command.kind === 'Status' && command.chal && metaValue(command.chal.meta, 'Type') === 'syncml:auth-md5') {
          const meta = command.chal.meta;
          if (trimmed(metaValue(meta, 'Format')) !== 'b64' || !/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed(metaValue(meta, 'NextNonce')))) {
            judge.fail('MDM-AUTH-018', m, `${path}/Chal`, 'an md5 Chal needs Meta Format b64 and a base64 NextNonce');
          }
        }
      }
    }
  },
});

export const serverHttpFraming = defineCheck<AnySessionView>({
  name: 'serverHttpFraming',
  ids: ['MDM-TRN-005', 'MDM-TRN-008', 'MDM-TRN-025', 'MDM-XML-001'],
  run(session, judge) {
    for (const x of session.exchanges) {
      const res = x.response;
      if (!res?.http) continue;
      judgeHttp(res, judge);
      judge.saw('MDM-TRN-025');
      if (res.http.status !== 200) judge.fail('MDM-TRN-025', res, 'HTTP status', `HTTP ${res.http.status} carrying a SyncML reply; SyncML errors belong in Status codes`);
      const asked = mediaType(x.request?.http?.contentType);
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
    let expectedMsgID = 1;
    for (const { req, res, reply } of answered(session)) {
      judge.saw('MDM-HDR-007', 'MDM-HDR-009', 'MDM-HDR-011');
      if (trimmed(res.hdr.sessionID) !== trimmed(req.hdr.sessionID)) {
        judge.fail('MDM-HDR-007', reply, '/SyncHdr/SessionID', `SessionID "${trimmed(res.hdr.sessionID)}", the device's is "${trimmed(req.hdr.sessionID)}"`);
      }
      const msgID = trimmed(res.hdr.msgID);
      if (msgID !== String(expectedMsgID)) {
        judge.fail('MDM-HDR-009', reply, '/SyncHdr/MsgID', `MsgID ${msgID || '(empty)'}, expected ${expectedMsgID} (server MsgIDs start at 1 and grow by 1)`);
      }
      expectedMsgID = Number(msgID) > 0 ? Number(msgID) + 1 : expectedMsgID + 1;
      const deviceId = trimmed(req.hdr.source?.locURI);
      if (trimmed(res.hdr.target?.locURI) !== deviceId) {
        judge.fail('MDM-HDR-011', reply, '/SyncHdr/Target/LocURI', `Target is "${trimmed(res.hdr.target?.locURI)}", the device id is "${deviceId}"`);
      }
      const serverUrl = trimmed(req.hdr.target?.locURI);
      const source = trimmed(res.hdr.source?.locURI);
      if (source !== serverUrl && source !== serverUrl.split('?')[0]) {
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

export const serverAnswersAlertsAndDevInfo = defineCheck<AnySessionView>({
  name: 'serverAnswersAlertsAndDevInfo',
  ids: ['MDM-STS-005', 'MDM-STS-006', 'MDM-CMD-ALT-005', 'MDM-CMD-ALT-006', 'MDM-LO-006'],
  run(session, judge) {
    for (const { req, res, reply } of answered(session)) {
      const statuses = statusesOf(res).map((s) => s.status);
      const statusFor = (c: Command) => statuses.find((s) => trimmed(s.msgRef) === trimmed(req.hdr.msgID) && trimmed(s.cmdRef) === trimmed(c.cmdID));
      // A message refused for its SyncML or DM version (505/513, MDM-ROB-002) is not run: its commands carry that code.
      const header = statuses.find((s) => trimmed(s.cmdRef) === '0');
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
  run(session, judge) {
    for (const { req, res, reply } of answered(session)) {
      for (const r of req.body.commands) {
        if (r.kind !== 'Results') continue;
        judge.saw('MDM-STS-014');
        const s = statusesOf(res).find((x) => trimmed(x.status.cmdRef) === trimmed(r.cmdID) && trimmed(x.status.msgRef) === trimmed(req.hdr.msgID));
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
  run(session, judge) {
    let serverPackageOpen = false;
    for (const { req, res, reply } of answered(session)) {
      const chunk = hasChunk(res);
      const deviceOpen = !req.body.final;
      const nextMessageSituation = deviceOpen && !serverPackageOpen;
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
      } else if (!res.body.final && !chunk) {
        judge.fail('MDM-LO-005', reply, '/SyncBody', 'no Final, though this is neither a large-object chunk nor a "Next Message" reply');
      }
      if (chunk && res.body.final) judge.fail('MDM-TERM-004', reply, '/SyncBody/Final', 'Final on a message whose large object continues (MoreData)');
      serverPackageOpen = !res.body.final && chunk;
    }
  },
});

/** No new commands before every command of the previous package was answered (MDM-SES-009). */
export const serverWaitsForStatuses = defineCheck<AnySessionView>({
  name: 'serverWaitsForStatuses',
  ids: ['MDM-SES-009'],
  run(session, judge) {
    const outstanding = new Map<string, string>();
    for (const { req, res, reply } of answered(session)) {
      for (const s of statusesOf(req)) outstanding.delete(`${trimmed(s.status.msgRef)}:${trimmed(s.status.cmdRef)}`);
      const fresh = nonStatus(res).filter((c) => !isAlert(c, '1222') && !isAlert(c, '1223'));
      if (fresh.length) {
        judge.saw('MDM-SES-009');
        if (outstanding.size && req.body.final) {
          const list = [...outstanding.values()].slice(0, 3).join(', ');
          judge.fail('MDM-SES-009', reply, '/SyncBody', `new commands while the device has not yet answered ${list}`);
        }
      }
      const msgID = trimmed(res.hdr.msgID);
      for (const { command } of commandsWithPaths(res.body.commands)) {
        if (command.kind === 'Status' || command.kind === 'Unknown' || isAlert(command, '1222')) continue;
        outstanding.set(`${msgID}:${trimmed(command.cmdID)}`, `${command.kind} ${trimmed(command.cmdID)} of msg ${msgID}`);
      }
    }
  },
});

export const serverHonoursDeviceLimits = defineCheck<AnySessionView>({
  name: 'serverHonoursDeviceLimits',
  ids: ['MDM-LO-018', 'MDM-LO-019', 'MDM-LO-009', 'MDM-LO-022'],
  run(session, judge) {
    let maxMsg: number | undefined;
    let maxObj: number | undefined;
    for (const { req, res, reply } of answered(session)) {
      const m = Number(metaValue(req.hdr.meta, 'MaxMsgSize'));
      const o = Number(metaValue(req.hdr.meta, 'MaxObjSize'));
      if (m > 0) maxMsg = m;
      if (o > 0) maxObj = o;
      const size = reply.http?.bodyBytes;
      if (maxMsg !== undefined && size !== undefined) {
        judge.saw('MDM-LO-019', 'MDM-LO-009');
        if (size > maxMsg) {
          judge.fail('MDM-LO-019', reply, '', `message of ${size} bytes exceeds the device's MaxMsgSize ${maxMsg}`);
          for (const c of res.body.commands) {
            if (!('items' in c)) continue;
            for (const it of c.items) {
              const bytes = Buffer.byteLength(it.data?.text ?? '');
              if (bytes > maxMsg && !it.moreData) judge.fail('MDM-LO-009', reply, `/SyncBody/${c.kind}/Item`, `an item of ${bytes} bytes, larger than MaxMsgSize ${maxMsg}, is sent whole instead of in chunks`);
            }
          }
        }
      }
      if (maxObj !== undefined) {
        judge.saw('MDM-LO-018');
        for (const c of res.body.commands) {
          if (!('items' in c)) continue;
          for (const it of c.items) {
            const declared = Number(metaValue(it.meta, 'Size') ?? metaValue('meta' in c ? c.meta : undefined, 'Size'));
            const bytes = Math.max(declared || 0, Buffer.byteLength(it.data?.text ?? ''));
            if (bytes > maxObj) judge.fail('MDM-LO-018', reply, `/SyncBody/${c.kind}/Item`, `an object of ${bytes} bytes exceeds the device's MaxObjSize ${maxObj}`);
          }
        }
      }
    }
  },
});

/** Chunks of a server large object (MDM-LO-009, MDM-LO-011, MDM-LO-013, MDM-LO-016). */
export const serverLargeObjectChunks = defineCheck<AnySessionView>({
  name: 'serverLargeObjectChunks',
  ids: ['MDM-LO-009', 'MDM-LO-011', 'MDM-LO-013', 'MDM-LO-016'],
  run(session, judge) {
    let open: { uri: string; from: WireMessage } | undefined;
    for (const { res, reply } of answered(session)) {
      for (const c of res.body.commands) {
        if (c.kind === 'Status') continue;
        const items = 'items' in c ? c.items : [];
        const uri = items.length === 1 ? trimmed(items[0].target?.locURI) : undefined;
        if (open) {
          judge.saw('MDM-LO-013', 'MDM-LO-011');
          if (uri !== open.uri) {
            judge.fail('MDM-LO-013', reply, `/SyncBody/${c.kind}`, `${c.kind} sent while the large object for ${open.uri} is unfinished`);
            open = undefined;
            continue;
          }
          if (metaValue(items[0].meta, 'Size') !== undefined) judge.fail('MDM-LO-011', reply, `/SyncBody/${c.kind}/Item/Meta/Size`, 'Size repeated on a continuation chunk; only the first chunk carries it');
          if (!items[0].moreData) open = undefined;
          continue;
        }
        if (items.length === 1 && items[0].moreData) {
          judge.saw('MDM-LO-011', 'MDM-LO-016', 'MDM-LO-009');
          const declared = metaValue(items[0].meta, 'Size') ?? metaValue('meta' in c ? c.meta : undefined, 'Size');
          if (declared === undefined) judge.fail('MDM-LO-011', reply, `/SyncBody/${c.kind}/Item/Meta`, 'first chunk without Meta Size (the total object size)');
          if (!items[0].target?.locURI) judge.warn('MDM-LO-016', reply, `/SyncBody/${c.kind}/Item`, 'chunk without Target addressing');
          open = { uri: uri ?? '', from: reply };
        }
      }
    }
  },
});

/** Device Results chunks are acknowledged with 213 and pulled with 1222; a size mismatch gets 424 (MDM-LO-010, LO-012, LO-021). */
export const serverTakesChunkedResults = defineCheck<AnySessionView>({
  name: 'serverTakesChunkedResults',
  ids: ['MDM-LO-010', 'MDM-LO-021', 'MDM-LO-012'],
  run(session, judge) {
    let declared: number | undefined;
    let received = 0;
    for (const { req, res, reply } of answered(session)) {
      for (const r of req.body.commands) {
        if (r.kind !== 'Results' || r.items.length !== 1) continue;
        const it = r.items[0];
        const chunked = it.moreData || declared !== undefined;
        if (!chunked) continue;
        if (declared === undefined) declared = Number(metaValue(it.meta, 'Size') ?? metaValue(r.meta, 'Size') ?? NaN);
        received += Buffer.byteLength(it.data?.text ?? '');
        const s = statusesOf(res).find((x) => trimmed(x.status.cmdRef) === trimmed(r.cmdID) && trimmed(x.status.msgRef) === trimmed(req.hdr.msgID));
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
        }
      }
    }
  },
});

export const serverHandlesAbort = defineCheck<AnySessionView>({
  name: 'serverHandlesAbort',
  ids: ['MDM-TERM-006'],
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
  run(session, judge) {
    for (const { res, reply } of answered(session)) {
      const headerChallenges = statusesOf(res).some((x) => trimmed(x.status.cmdRef) === '0' && x.status.chal);
      for (const { status: s, path } of statusesOf(res)) {
        const code = codeOf(s);
        if (code !== '401' && code !== '407') continue;
        judge.saw('MDM-AUTH-004');
        const header = trimmed(s.cmdRef) === '0';
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

export const serverStopsAfter214 = defineCheck<AnySessionView>({
  name: 'serverStopsAfter214',
  ids: ['MDM-STS-024'],
  run(session, judge) {
    let cancelled: WireMessage | undefined;
    for (const { req, res, ask, reply } of answered(session)) {
      if (cancelled) {
        const fresh = nonStatus(res).filter((c) => !isAlert(c, '1222'));
        if (fresh.length) judge.fail('MDM-STS-024', reply, '/SyncBody', `still sends ${fresh.map((c) => c.kind).join(', ')} after the device answered 214 in msg ${cancelled.n}`);
      }
      if (statusesOf(req).some((s) => codeOf(s.status) === '214')) {
        judge.saw('MDM-STS-024');
        cancelled = ask;
      }
    }
  },
});

export const SERVER_CHECKS: readonly ServerCheck[] = [
  serverAnswersEveryPackage, serverMessagesAreWellFormed, serverHttpFraming, serverHeaderMirrorsDevice,
  serverStatusesAnswerTheDevice, serverAnswersAlertsAndDevInfo, serverSendsNoStatusFor200Results, serverFinalRules,
  serverWaitsForStatuses, serverHonoursDeviceLimits, serverLargeObjectChunks, serverTakesChunkedResults,
  serverHandlesAbort, serverChallengesProperly, serverStopsAfter214,
];
