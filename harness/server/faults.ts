/**
 * The reference server's switchable faults: each one realistic violation, naming the catalogue ids it breaks.
 * `npx mdm-conformance serve --fault NAME` runs a faulty server; the self suite proves the checks catch each one.
 */
import type { Fault } from '../protocol/fault';
import type { Status, SyncML } from '../syncml';
import { mutations, textMutations } from '../protocol/mutations';
import type { ServerBehaviour } from '../protocol/server-session';

/** Knobs of the reference server around the session engine: TLS identity checks and HTTP framing. */
export interface ReferenceServerBehaviour extends ServerBehaviour {
  /** Refuse a client certificate that does not chain to the CA, has expired or is not yet valid (MDM-TRN-004). */
  verifyClientCertificate: boolean;
  /** Refuse a client certificate whose CN is not the device id in the header Source. */
  matchCertificateToDevice: boolean;
  /** Refuse a client certificate without the clientAuth extended key usage. */
  requireClientAuthEku: boolean;
  /** Answer malformed requests with a 4xx (false: crash the request with a 500, as fragile servers do). */
  survivesMalformedInput: boolean;
  /** Take any SessionID as opaque text; false parses it as a decimal number and crashes on anything else (MDM-ROB-007). */
  opaqueSessionIDs: boolean;
  /** Read namespaced Windows extensions (`msft:originalerror`) as a namespace-aware parser does; false refuses them (MDM-XML-008). */
  acceptsMsftExtensions: boolean;
  /** Key sessions by device and SessionID (MDM-SES-021); false keys them by SessionID alone. */
  sessionsKeyedByDevice: boolean;
  /** Fetch the external entities a DOCTYPE names, as an XML parser with external entities enabled does (XXE). */
  resolveExternalEntities: boolean;
  /** Bound request bodies by `maxRequestBytes`; false reads a body of any size. */
  limitRequestBody: boolean;
  /** Refuse a body over the bound with 413 (false: 500, as a server whose body limit throws does). */
  refuseOversizedWith413: boolean;
  /** Take query parameters it does not know on the management URL (MDM-TRN-010); false answers them HTTP 400. */
  acceptUnknownQueryParameters: boolean;
  /**
   * Take a device's new session (package 1 under a new SessionID) while an older one of the device is still open,
   * discarding nothing the new one needs (MDM-TERM-008, catalogue 3.8); false refuses it with HTTP 409 until the old
   * one has expired.
   */
  takeNewSessionWhileOneIsOpen: boolean;
  /**
   * Answer the first `requests` management requests HTTP 429 with Retry-After `seconds` (MDM-TRN-022): a client
   * scenario throttles once to see the device wait (MDM-TRN-021); a fault throttles without end.
   */
  throttle: { requests: number; seconds: number };
  /**
   * The certificate the server authenticates with (MDM-TRN-003): the one issued for its host, or one the device
   * cannot validate. Applied by whoever starts the server with a CA that can mint it (the embedded server).
   */
  serverCertificate: 'valid' | 'expired' | 'wrong-host';
}

export type ServerFault = Fault<ReferenceServerBehaviour>;

/** An edit of every Status the server sends for one kind of device command. */
function statusesFor(cmd: string, edit: (st: Status) => void): (msg: SyncML) => void {
  return (msg) => {
    for (const c of msg.body.commands) if (c.kind === 'Status' && c.cmd === cmd) edit(c);
  };
}

export const SERVER_FAULTS: readonly ServerFault[] = [
  { name: 'header-status-missing', summary: 'replies without the Status for the device SyncHdr', violates: ['MDM-STS-003'], message: mutations.dropHeaderStatus },
  { name: 'header-status-not-first', summary: 'puts the SyncHdr Status after another Status', violates: ['MDM-STS-003'], message: mutations.headerStatusSecond },
  { name: 'header-status-wrong-msgref', summary: 'SyncHdr Status refers to the wrong device message', violates: ['MDM-STS-003'], message: mutations.wrongHeaderStatusMsgRef },
  { name: 'status-wrong-msgref', summary: 'a Status carries a MsgRef no device message had', violates: ['MDM-ID-005'], message: mutations.wrongStatusMsgRef },
  { name: 'status-wrong-cmdref', summary: 'a Status points at the wrong device command', violates: ['MDM-ID-006'], message: mutations.wrongStatusCmdRef },
  { name: 'status-wrong-cmd', summary: 'a Status names the wrong command in Cmd', violates: ['MDM-STS-015'], message: mutations.wrongStatusCmd },
  { name: 'status-for-unsent-command', summary: 'answers a command the device never sent', violates: ['MDM-ID-006'], message: mutations.statusForUnsentCommand },
  { name: 'statuses-reordered', summary: 'returns statuses in reverse command order', violates: ['MDM-STS-007'], message: mutations.reverseStatuses },
  { name: 'duplicate-cmdid', summary: 'gives two commands of a message the same CmdID', violates: ['MDM-ID-002'], message: mutations.duplicateCmdID },
  { name: 'zero-cmdid', summary: 'numbers a command 0', violates: ['MDM-ID-003'], message: mutations.zeroCmdID },
  { name: 'missing-cmdid', summary: 'sends a command without CmdID', violates: ['MDM-ID-001'], message: mutations.dropCmdID },
  { name: 'sessionid-not-echoed', summary: 'answers under a SessionID of its own', violates: ['MDM-HDR-007'], message: mutations.changeSessionID },
  { name: 'msgid-not-increasing', summary: 'numbers every message MsgID 1', violates: ['MDM-HDR-009'], message: mutations.freezeMsgID },
  { name: 'msgid-from-zero', summary: 'numbers its messages from 0', violates: ['MDM-HDR-009'], message: mutations.startMsgIDAtZero },
  { name: 'target-source-swapped', summary: 'swaps Target and Source in its header', violates: ['MDM-HDR-011'], message: mutations.swapTargetAndSource },
  { name: 'old-verdtd', summary: 'declares VerDTD 1.1', violates: ['MDM-HDR-002'], message: mutations.oldVerDTD },
  { name: 'verproto-missing', summary: 'leaves VerProto out of its header', violates: ['MDM-HDR-003'], message: mutations.dropVerProto },
  { name: 'old-namespace', summary: 'uses the SYNCML:SYNCML1.1 namespace', violates: ['MDM-XML-002'], message: mutations.oldNamespace },
  { name: 'header-out-of-order', summary: 'writes MsgID before SessionID', violates: ['MDM-HDR-001'], text: textMutations.headerOutOfOrder },
  { name: 'status-out-of-order', summary: 'writes Status Data before Cmd', violates: ['MDM-STS-001'], text: textMutations.statusDataBeforeCmd },
  { name: 'item-out-of-order', summary: 'writes Item Data before Target', violates: ['MDM-XML-011'], text: textMutations.itemDataFirst },
  { name: 'metinf-namespace-missing', summary: 'writes Meta fields without the syncml:metinf namespace', violates: ['MDM-XML-012'], message: mutations.metinfWithoutNamespace },
  { name: 'final-missing', summary: 'never closes its packages with Final', violates: ['MDM-LO-005'], message: mutations.dropFinal },
  {
    name: 'wrong-content-type', summary: 'answers with Content-Type text/xml', violates: ['MDM-TRN-005'],
    wire: (out) => void (out.headers['content-type'] = 'text/xml'),
  },
  {
    name: 'content-length-too-large', summary: 'declares a Content-Length larger than the body, then closes the connection', violates: ['MDM-XML-001'],
    wire: (out) => {
      out.declaredLength = Buffer.byteLength(out.body) + 16;
      out.headers.connection = 'close';
    },
  },
  {
    name: 'content-length-too-small', summary: 'sends more bytes than its Content-Length declares', violates: ['MDM-XML-001'],
    wire: (out) => void (out.declaredLength = Buffer.byteLength(out.body) - 16),
  },
  {
    name: 'empty-body-at-end', summary: 'ends the session with HTTP 200 and an empty body (A-22)', violates: ['MDM-TERM-003', 'MDM-STS-012'],
    wire: (out, { closing }) => void (closing && (out.body = '')),
  },
  { name: 'no-status-for-alerts', summary: 'sends no Status for the device Alerts', violates: ['MDM-STS-005'], behaviour: { statusForAlerts: false } },
  { name: 'status-for-200-results', summary: 'acknowledges 200 Results with a Status', violates: ['MDM-STS-014'], warningOnly: true, behaviour: { statusForResults200: true } },
  { name: 'ignores-max-msg-size', summary: 'ignores the device MaxMsgSize (a SHOULD, MDM-LO-019) and so sends a large item whole', violates: ['MDM-LO-009'], behaviour: { honourMaxMsgSize: false } },
  { name: 'ignores-max-obj-size', summary: 'sends objects larger than the device MaxObjSize', violates: ['MDM-LO-018'], behaviour: { honourMaxObjSize: false } },
  { name: 'size-on-every-chunk', summary: 'repeats Size on every chunk of a large object', violates: ['MDM-LO-011'], behaviour: { sizeOnFirstChunkOnly: false } },
  { name: 'no-ack-for-result-chunks', summary: 'does not acknowledge Results chunks with 213', violates: ['MDM-LO-021'], behaviour: { ackResultsChunks: false } },
  { name: 'no-next-message-reply', summary: 'answers an unfinished device package as if it were complete', violates: ['MDM-LO-004'], behaviour: { nextMessageReplies: false } },
  { name: 'commands-in-next-message-reply', summary: 'adds a new command to its "Next Message" replies', violates: ['MDM-LO-007', 'MDM-SES-009'], behaviour: { commandsInNextMessageReply: true } },
  { name: 'never-ends-session', summary: 'keeps sending commands with nothing queued', violates: ['MDM-SES-012'], behaviour: { endsSession: false } },
  { name: 'continues-after-214', summary: 'keeps sending commands after a 214', violates: ['MDM-STS-024'], warningOnly: true, behaviour: { stopAfter214: false } },
  { name: 'challenge-without-chal', summary: 'answers 401/407 without a Chal', violates: ['MDM-AUTH-004'], behaviour: { challengeWithChal: false } },
  { name: 'accepts-wrong-credentials', summary: 'accepts any MD5 digest', violates: ['MDM-AUTH-015'], behaviour: { acceptAnyCredential: true } },
  { name: 'accepts-untrusted-certificates', summary: 'accepts client certificates that do not verify (untrusted CA, expired, not yet valid, none)', violates: ['MDM-TRN-004'], behaviour: { verifyClientCertificate: false } },
  { name: 'accepts-wrong-key-usage', summary: 'accepts a client certificate without clientAuth EKU', violates: ['MDM-TRN-004'], behaviour: { requireClientAuthEku: false } },
  { name: 'crashes-on-malformed-input', summary: 'answers malformed requests with HTTP 500', violates: ['MDM-ROB-006'], behaviour: { survivesMalformedInput: false } },
  { name: 'sessionid-parsed-as-number', summary: 'parses the SessionID as a decimal number and answers HTTP 500 to any other form', violates: ['MDM-ROB-007'], behaviour: { opaqueSessionIDs: false } },
  { name: 'rejects-msft-attributes', summary: 'refuses a message whose elements carry msft: attributes (HTTP 400), as a parser that is not namespace-aware does', violates: ['MDM-XML-008'], behaviour: { acceptsMsftExtensions: false } },
  { name: 'malformed-command-answered-200', summary: 'answers an element that is not a command, or an Alert without its code, with 200', violates: ['MDM-ROB-006'], behaviour: { answerMalformedCommands: false } },
  { name: 'oversized-body-crashes', summary: 'answers a request body over its bound with HTTP 500 instead of 413', violates: ['MDM-ROB-006'], behaviour: { refuseOversizedWith413: false } },
  { name: 'sessions-keyed-by-sessionid', summary: 'looks sessions up by SessionID alone, so a second device that picks the same SessionID lands in the first one\'s session', violates: ['MDM-SES-021'], behaviour: { sessionsKeyedByDevice: false } },
  { name: 'nonce-not-renewed', summary: 'hands out the same MD5 nonce with every 212, so a credential of an earlier session is accepted again', violates: ['MDM-AUTH-019'], behaviour: { renewNonce: false } },
  { name: 'short-nonces', summary: 'makes 8-octet MD5 nonces', violates: ['MDM-AUTH-021'], warningOnly: true, behaviour: { nonceBytes: 8 } },
  { name: 'nonce-reused-in-challenge', summary: 'refuses a stale credential with a challenge that re-issues the session\'s nonce instead of a fresh one', violates: ['MDM-AUTH-022'], behaviour: { freshNonceOnChallenge: false } },
  { name: 'accepts-any-protocol-version', summary: 'runs a session in SyncML 1.1 / DM 1.1 instead of answering 505/513', violates: ['MDM-ROB-002'], warningOnly: true, behaviour: { checkProtocolVersion: false } },
  { name: 'alerts-answered-404', summary: 'answers every device Alert, generic alerts included, with 404', violates: ['MDM-CMD-ALT-005', 'MDM-CMD-ALT-006'], message: statusesFor('Alert', (st) => void (st.data = { text: '404' })) },
  { name: 'no-status-for-devinfo', summary: 'sends no Status for the DevInfo Replace of package 1', violates: ['MDM-STS-006'], warningOnly: true, message: (msg) => void (msg.body.commands = msg.body.commands.filter((c) => !(c.kind === 'Status' && c.cmd === 'Replace'))) },
  { name: 'status-code-not-numeric', summary: 'writes "OK" instead of a status code', violates: ['MDM-STS-016'], message: statusesFor('Alert', (st) => void (st.data = { text: 'OK' })) },
  { name: 'chal-without-nonce', summary: 'challenges with md5 but gives no NextNonce', violates: ['MDM-AUTH-018'], message: (msg) => {
    for (const c of msg.body.commands) if (c.kind === 'Status' && c.chal?.meta) c.chal.meta.fields = c.chal.meta.fields.filter((f) => f.name !== 'NextNonce');
  } },
  { name: 'final-on-chunks', summary: 'closes a message with Final while its large object continues', violates: ['MDM-TERM-004'], message: (msg) => {
    if (msg.body.commands.some((c) => 'items' in c && c.items.some((i) => i.moreData))) msg.body.final = true;
  } },
  { name: 'long-sessionid', summary: 'answers under a SessionID of more than 4 bytes', violates: ['MDM-HDR-004', 'MDM-HDR-007'], message: (msg) => void (msg.hdr.sessionID = `${msg.hdr.sessionID ?? ''}LONG`) },
  { name: 'commands-on-auth-failure', summary: 'sends a command in the reply that refuses the credentials', violates: ['MDM-AUTH-007'], behaviour: { statusesOnlyOnAuthFailure: false } },
  { name: 'commands-after-abort', summary: 'sends a command after the device aborted with Alert 1223', violates: ['MDM-TERM-006'], warningOnly: true, behaviour: { statusesOnlyAfterAbort: false } },
  { name: 'next-message-without-1222', summary: 'acknowledges an unfinished device package without Alert 1222', violates: ['MDM-LO-004', 'MDM-LO-010'], behaviour: { pullWithAlert1222: false } },
  { name: 'accepts-size-mismatch', summary: 'takes chunked Results whose length differs from their Size', violates: ['MDM-LO-012'], behaviour: { checkResultsSize: false } },
  { name: 'commands-between-chunks', summary: 'sends another command beside an unfinished large object', violates: ['MDM-LO-013'], behaviour: { commandsBetweenChunks: true } },
  {
    name: 'plain-http-respuri', summary: 'names its own URL with http:// in RespURI, as a server behind a TLS-terminating proxy that builds it from the request it saw', violates: ['MDM-TRN-002'],
    message: (msg) => void (msg.hdr.respURI = (msg.hdr.source?.locURI ?? '').replace(/^https:/, 'http:')),
  },
  { name: 'expired-server-certificate', summary: 'authenticates with a server certificate that has expired', violates: ['MDM-TRN-003'], behaviour: { serverCertificate: 'expired' } },
  { name: 'session-alert-echoed', summary: 'answers package 1 with an Alert 1201 of its own, as a SyncML DS server answers a sync alert', violates: ['MDM-SES-007'], behaviour: { echoSessionAlert: true } },
  { name: 'alerts-answered-in-package-1-only', summary: 'answers the device\'s client alerts (1224, 1226) only in package 1; one in a later package goes unanswered', violates: ['MDM-STS-005', 'MDM-SES-011'], behaviour: { statusForLaterAlerts: false } },
  { name: 'new-session-refused-while-one-is-open', summary: 'refuses a device\'s new session (HTTP 409) while the one it abandoned is still open', violates: ['MDM-TERM-008'], behaviour: { takeNewSessionWhileOneIsOpen: false } },
  { name: 'unknown-alert-answered-200', summary: 'answers an alert code it does not know with 200', violates: ['MDM-ROB-001'], behaviour: { refuseUnknownAlerts: false } },
  { name: 'unreadable-generic-alert-answered-200', summary: 'answers a generic alert in a format it cannot read with 200 instead of 415', violates: ['MDM-ROB-008'], behaviour: { refuseUnsupportedGenericAlerts: false } },
  { name: 'rejects-unknown-query-parameters', summary: 'answers HTTP 400 to a management URL carrying a query parameter other than mode and Platform', violates: ['MDM-TRN-010'], warningOnly: true, behaviour: { acceptUnknownQueryParameters: false } },
  { name: 'throttles-without-end', summary: 'answers every request HTTP 429 with Retry-After 0, however often the device comes back', violates: ['MDM-TRN-022'], warningOnly: true, behaviour: { throttle: { requests: Infinity, seconds: 0 } } },
  {
    name: 'challenge-as-http-401', summary: 'sends its SyncML authentication challenge with HTTP status 401 instead of 200', violates: ['MDM-TRN-025'], warningOnly: true,
    wire: (out) => void (out.body.includes('<Chal>') && (out.status = 401)),
  },
  { name: 'refuses-alert-1200', summary: 'answers a session opened with Alert 1200 with 406', violates: ['MDM-SES-008'], warningOnly: true, behaviour: { acceptAlert1200: false } },
  {
    name: 'assumes-windows-cmdids', summary: 'answers the device\'s commands as CmdRef 2, 3, 4 … in order, as if every device numbered them like Windows', violates: ['MDM-ID-004'], warningOnly: true,
    message: (msg) => {
      let next = 2;
      for (const c of msg.body.commands) if (c.kind === 'Status' && c.cmdRef?.trim() !== '0') c.cmdRef = String(next++);
    },
  },
  { name: 'user-config-without-user', summary: 'sends user-scoped configuration whatever package 1\'s LoginStatus says', violates: ['MDM-SES-019'], warningOnly: true, behaviour: { holdUserScopeWithoutUser: false } },
  {
    name: 'aborts-without-final', summary: 'aborts every session with Alert 1223 in its second message, without Final', violates: ['MDM-TERM-005'], warningOnly: true,
    behaviour: { abortInMessage: 2 }, message: (msg) => void (msg.body.commands.some((c) => c.kind === 'Alert' && c.data?.text.trim() === '1223') && delete msg.body.final),
  },
  { name: 'rejects-cmd-in-results', summary: 'refuses a Results that carries <Cmd>, as Windows writes them, with Status 400', violates: ['MDM-ROB-005'], warningOnly: true, behaviour: { acceptCmdInResults: false } },
];

/**
 * Weaknesses the catalogue does not cover: each makes a security probe report an advisory (never a failure), and
 * the self suite shows it appears against the weak server and not against the clean one. They are kept out of
 * SERVER_FAULTS, whose every entry must fail or warn on a catalogue id.
 */
export const SERVER_WEAKNESSES: readonly ServerFault[] = [
  { name: 'resolves-external-entities', summary: 'fetches the external entities a DOCTYPE names before refusing the body (XXE)', violates: [], advises: ['xml-external-entity'], behaviour: { resolveExternalEntities: true } },
  { name: 'unbounded-request-body', summary: 'reads a request body of any size', violates: [], advises: ['unbounded-request-body'], behaviour: { limitRequestBody: false } },
  { name: 'accepts-certificate-of-another-device', summary: 'accepts a client certificate issued to another device for this device\'s sessions', violates: [], advises: ['certificate-not-bound-to-device'], behaviour: { matchCertificateToDevice: false } },
];

/**
 * Conforming alternatives to the reference server's defaults: behaviours the catalogue allows that some situations
 * need (MDM-AUTH-009 arises only when a server answers credentials with 200). The clean row of the fault matrix runs
 * each, so that every rule is shown passing somewhere; none of them may fail anything.
 */
export const SERVER_VARIANTS: readonly ServerFault[] = [
  { name: 'authenticates-each-message', summary: 'accepts credentials with 200 and a fresh nonce, so every message carries them (MDM-AUTH-009)', violates: [], behaviour: { authenticatePerMessage: true } },
];
