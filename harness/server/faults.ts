/**
 * The reference server's switchable faults: each one realistic violation, naming the catalogue ids it breaks.
 * `npx mdm-conformance serve --fault NAME` runs a faulty server; the self suite proves the checks catch each one.
 */
import type { Fault } from '../protocol/fault';
import { alert, item, metaValue, walkCommands, WBXML_MEDIA_TYPE, XML_MEDIA_TYPE, type Command, type Item, type Status, type SyncML } from '../syncml';
import { mutations, textMutations } from '../protocol/mutations';
import type { ServerBehaviour } from '../protocol/server-session';
import type { ServerHmacBehaviour } from '../protocol/hmac-integrity';

/** Knobs of the reference server around the session engine: TLS identity checks and HTTP framing. */
export interface ReferenceServerBehaviour extends ServerBehaviour, ServerHmacBehaviour {
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
  /** Answer in the encoding of the request (MDM-TRN-007, MDM-TRN-008); false: always XML. */
  answerInRequestEncoding: boolean;
  /** Answer XML requests in WBXML, labelled as such (MDM-TRN-008 asks for the request's own encoding). */
  answerXmlInWbxml: boolean;
  /**
   * How a server that requires signatures checks MS-Signature (MDM-TRN-015): `full` verifies the signature over the
   * body and that its signer is the device's certificate; `presence` takes any header; `trusted-signer` takes a valid
   * signature by any certificate the CA issued, another device's included.
   */
  signatureCheck: 'full' | 'presence' | 'trusted-signer';
  /** Read a device Status whatever the order of its children (MDM-STS-002); false refuses one not in DTD order with HTTP 400, as a validating parser does. */
  toleratesStatusChildOrder: boolean;
  /** Present to each device the secret configured for it (MDM-AUTH-024); false presents the first device's to all. */
  serverSecretPerDevice: boolean;
  /** Keep the nonce handed with 212 to accept the device's credentials at the start of its next session (MDM-AUTH-010). */
  rememberIssuedNonce: boolean;
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
  /**
   * Verify the device's credentials against a new user id or secret as soon as the server sends the Replace of its
   * DMAcc CLCRED AAuthName/AAuthSecret, within the same session (MDM-AUTH-030 forbids it); false keeps the session's
   * credentials and verifies the new ones from the device's next session on, once the device took the change.
   */
  appliesCredentialChangeAtOnce: boolean;
}

export type ServerFault = Fault<ReferenceServerBehaviour>;

/** An edit of every Status the server sends for one kind of device command. */
function statusesFor(cmd: string, edit: (st: Status) => void): (msg: SyncML) => void {
  return (msg) => {
    for (const c of msg.body.commands) if (c.kind === 'Status' && c.cmd === cmd) edit(c);
  };
}

/** An edit of every command of a message, members of Atomic and Sequence included. */
function eachCommand(edit: (c: Command) => void): (msg: SyncML) => void {
  return (msg) => {
    for (const { command } of walkCommands(msg.body.commands)) edit(command);
  };
}

const ITEM_COMMANDS = new Set(['Get', 'Add', 'Replace', 'Delete', 'Exec']);

/** An edit of the Items of one kind of command (any item command when `kind` is omitted). */
function eachItem(kind: string | undefined, edit: (it: Item) => void): (msg: SyncML) => void {
  return eachCommand((c) => {
    if ((kind ? c.kind === kind : ITEM_COMMANDS.has(c.kind)) && 'items' in c) c.items.forEach(edit);
  });
}

/** An edit of the node address of every item command's Item. */
const readdress = (edit: (uri: string) => string) => eachItem(undefined, (it) => void (it.target?.locURI && (it.target.locURI = edit(it.target.locURI))));

/** CmdIDs above every one the message already uses, for commands a fault adds. */
function freshCmdIDs(msg: SyncML): () => string {
  let next = Math.max(0, ...[...walkCommands(msg.body.commands)].map(({ command }) => Number(command.cmdID) || 0)) + 1;
  return () => String(next++);
}

/** OMA DS Put of the device information, which a DM server has no use for (MDM-XML-005). */
function withDsPut(xml: string): string {
  if (!xml.includes('<Final/>') || !/<(Get|Add|Replace|Delete|Exec|Atomic|Sequence)>/.test(xml)) return xml;
  const next = Math.max(0, ...[...xml.matchAll(/<CmdID>(\d+)<\/CmdID>/g)].map((m) => Number(m[1]))) + 1;
  const put = `<Put><CmdID>${next}</CmdID><Meta><Type xmlns="syncml:metinf">application/vnd.syncml-devinf+xml</Type></Meta><Item><Source><LocURI>./devinf12</LocURI></Source></Item></Put>`;
  return xml.replace('<Final/>', `${put}<Final/>`);
}

const unescapeXml = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
const DEVINFO_URIS = ['./DevInfo/DevId', './DevInfo/Man', './DevInfo/Mod', './DevInfo/DmV', './DevInfo/Lang'];

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
  { name: 'answers-xml-in-wbxml', summary: 'answers XML requests in WBXML, which a Windows device reads, though it asked in XML', violates: ['MDM-TRN-008'], warningOnly: true, behaviour: { answerXmlInWbxml: true } },
  {
    name: 'answers-wbxml-in-xml', summary: 'answers WBXML requests in XML, which a device that accepts only WBXML cannot read (MDM-TRN-008 warns as well)',
    violates: ['MDM-TRN-007'], runsWith: { encoding: 'wbxml' }, behaviour: { answerInRequestEncoding: false },
  },
  {
    name: 'wbxml-labelled-xml', summary: 'answers WBXML requests in WBXML labelled application/vnd.syncml.dm+xml', violates: ['MDM-TRN-005'],
    runsWith: { encoding: 'wbxml' }, wire: (out) => void (out.headers['content-type'] === WBXML_MEDIA_TYPE && (out.headers['content-type'] = XML_MEDIA_TYPE)),
  },
  { name: 'accepts-bad-signature', summary: 'requires MS-Signature but takes any, without verifying it over the body', violates: ['MDM-TRN-015'], runsWith: { signing: true }, behaviour: { signatureCheck: 'presence' } },
  { name: 'accepts-other-device-signature', summary: 'requires MS-Signature but takes a valid one made with another device\'s certificate', violates: ['MDM-TRN-015'], runsWith: { signing: true }, behaviour: { signatureCheck: 'trusted-signer' } },
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
  { name: 'final-on-chunks', summary: 'closes a message with Final while its large object continues', violates: ['MDM-LO-001', 'MDM-TERM-004'], message: (msg) => {
    if (msg.body.commands.some((c) => 'items' in c && c.items.some((i) => i.moreData))) msg.body.final = true;
  } },
  { name: 'long-sessionid', summary: 'answers under a SessionID of more than 4 bytes', violates: ['MDM-HDR-004', 'MDM-HDR-007'], message: (msg) => void (msg.hdr.sessionID = `${msg.hdr.sessionID ?? ''}LONG`) },
  { name: 'commands-on-auth-failure', summary: 'sends a command in the reply that refuses the credentials', violates: ['MDM-AUTH-007'], behaviour: { statusesOnlyOnAuthFailure: false } },
  { name: 'commands-after-abort', summary: 'sends a command after the device aborted with Alert 1223', violates: ['MDM-TERM-006'], warningOnly: true, behaviour: { statusesOnlyAfterAbort: false } },
  { name: 'next-message-without-1222', summary: 'acknowledges an unfinished device package without Alert 1222', violates: ['MDM-LO-003', 'MDM-LO-004', 'MDM-LO-010'], behaviour: { pullWithAlert1222: false } },
  { name: 'accepts-size-mismatch', summary: 'takes chunked Results whose length differs from their Size', violates: ['MDM-LO-012'], behaviour: { checkResultsSize: false } },
  { name: 'commands-between-chunks', summary: 'sends another command beside an unfinished large object', violates: ['MDM-LO-013'], behaviour: { commandsBetweenChunks: true } },
  // Commands, Statuses, Results and node addresses (catalogue 3.2-3.6)
  { name: 'final-not-last', summary: 'writes Final at the start of SyncBody, before its commands', violates: ['MDM-XML-004'], text: (xml) => (xml.includes('<Final/>') ? xml.replace('<Final/>', '').replace('<SyncBody>', '<SyncBody><Final/>') : xml) },
  { name: 'sends-ds-put', summary: 'sends an OMA DS Put of device information along with its commands', violates: ['MDM-XML-005'], text: withDsPut },
  { name: 'get-without-item', summary: 'sends Get commands without Items', violates: ['MDM-CMD-GET-001'], message: eachCommand((c) => void (c.kind === 'Get' && (c.items = []))) },
  { name: 'add-without-target', summary: 'leaves the Target out of its Add Items', violates: ['MDM-CMD-ADD-001'], message: eachItem('Add', (it) => void delete it.target) },
  { name: 'replace-without-target', summary: 'leaves the Target out of its Replace Items', violates: ['MDM-CMD-REP-001'], message: eachItem('Replace', (it) => void delete it.target) },
  { name: 'delete-without-target', summary: 'leaves the Target out of its Delete Items', violates: ['MDM-CMD-DEL-001'], message: eachItem('Delete', (it) => void delete it.target) },
  { name: 'exec-with-two-items', summary: 'names the node twice in each Exec (two Items)', violates: ['MDM-CMD-EXE-001'], message: eachCommand((c) => void (c.kind === 'Exec' && c.items.length && (c.items = [c.items[0], structuredClone(c.items[0])]))) },
  { name: 'empty-atomic', summary: 'sends its Atomics without their members', violates: ['MDM-CMD-ATO-001'], message: eachCommand((c) => void (c.kind === 'Atomic' && (c.commands = []))) },
  {
    name: 'alert-code-in-item', summary: 'puts the code of its Alerts in an Item instead of the Alert Data', violates: ['MDM-CMD-ALT-002'],
    message: eachCommand((c) => {
      if (c.kind === 'Alert' && c.data) [c.items, c.data] = [[{ data: c.data }, ...c.items], undefined];
    }),
  },
  {
    name: 'user-interaction-alert', summary: 'asks the user to confirm with an OMA Alert 1101 ahead of its commands', violates: ['MDM-CMD-ALT-003'],
    message: (msg) => {
      const at = msg.body.commands.findIndex((c) => c.kind !== 'Status');
      if (at < 0 || msg.body.commands[at].kind === 'Alert') return;
      msg.body.commands.splice(at, 0, alert('1101', [item({ data: 'Your device is about to be configured' })], freshCmdIDs(msg)()));
    },
  },
  {
    name: 'add-then-replace-in-atomic', summary: 'sends each Add of a value in an Atomic with a Replace of the same node, to set it whether or not it exists', violates: ['MDM-CMD-ATO-005'],
    message: (msg) => {
      const next = freshCmdIDs(msg);
      msg.body.commands = msg.body.commands.map((c): Command => (c.kind === 'Add' && c.items.length === 1 && c.items[0].data && !c.items[0].moreData
        ? { kind: 'Atomic', cmdID: next(), commands: [c, { ...structuredClone(c), kind: 'Replace', cmdID: next() }] } : c));
    },
  },
  { name: 'chunks-inside-atomic', summary: 'sends an Atomic too large for one message in chunks, the Atomic around the first one', violates: ['MDM-CMD-ATO-008'], behaviour: { chunkInsideAtomic: true } },
  { name: 'exec-with-correlator', summary: 'puts a Correlator on its Exec commands to wait for their asynchronous result', violates: ['MDM-CMD-EXE-004'], warningOnly: true, message: eachCommand((c) => void (c.kind === 'Exec' && (c.correlator = `exec-${c.cmdID ?? ''}`))) },
  { name: 'raw-xml-in-data', summary: 'writes XML values into Data as raw elements, neither escaped nor in CDATA', violates: ['MDM-XML-009'], text: (xml) => xml.replace(/<Data>(&lt;(?:(?!<\/Data>).)*)<\/Data>/g, (_, v: string) => `<Data>${unescapeXml(v)}</Data>`) },
  { name: 'xml-payload-in-cdata', summary: 'wraps XML values in CDATA', violates: ['MDM-XML-010'], warningOnly: true, message: eachItem(undefined, (it) => void (it.data?.text.trimStart().startsWith('<') && (it.data.cdata = true))) },
  { name: 'locuri-leading-slash', summary: 'writes node addresses from "/" instead of "./"', violates: ['MDM-XML-015'], message: readdress((u) => u.replace(/^\.\//, '/')) },
  { name: 'locuri-dot-segment', summary: 'joins a node path and a relative name with "./" in the middle (./DevDetail/./SwV)', violates: ['MDM-XML-016'], message: readdress((u) => u.replace(/^(\.\/[^/]+)\//, '$1/./')) },
  { name: 'locuri-double-slash', summary: 'joins node paths with a doubled "/", an empty node name between', violates: ['MDM-XML-017'], message: readdress((u) => u.replace(/^(\.\/[^/]+)\//, '$1//')) },
  {
    name: 'locuri-unescaped', summary: 'sends node names with their escapes decoded (spaces and non-ASCII letters as such)', violates: ['MDM-XML-018'],
    message: readdress((u) => {
      try {
        return decodeURI(u);
      } catch {
        return u;
      }
    }),
  },
  { name: 'devinfo-by-mo-urn', summary: 'addresses the DevInfo object by its management-object URN instead of its node path', violates: ['MDM-XML-019'], message: readdress((u) => u.replace(/^\.\/DevInfo(?=\/|$)/, 'urn:oma:mo:oma-dm-devinfo:1.0')) },
  { name: 'value-without-data', summary: 'leaves the Data out of Replace commands that state a Format', violates: ['MDM-XML-020'], message: eachItem('Replace', (it) => void (metaValue(it.meta, 'Format') && !it.moreData && delete it.data)) },
  { name: 'accepts-item-without-data', summary: 'accepts a device Item that states a Format but carries no Data (200)', violates: ['MDM-XML-020'], behaviour: { refuseIncompleteItems: false } },
  {
    name: 'alert-answered-twice', summary: 'answers the device session Alert with two Statuses', violates: ['MDM-STS-008'],
    message: (msg) => {
      const s = msg.body.commands.find((c): c is Status => c.kind === 'Status' && c.cmd === 'Alert');
      if (s) msg.body.commands.splice(msg.body.commands.indexOf(s) + 1, 0, { ...structuredClone(s), cmdID: freshCmdIDs(msg)() });
    },
  },
  { name: 'item-statuses-without-refs', summary: 'answers Items with different outcomes one Status each, without naming the Item', violates: ['MDM-STS-009'], behaviour: { refsOnItemStatuses: false } },
  { name: 'refs-on-whole-status', summary: 'names every DevInfo Item in SourceRefs on the one Status that answers the whole Replace', violates: ['MDM-STS-010'], message: statusesFor('Replace', (st) => void (!st.sourceRefs.length && !st.targetRefs.length && (st.sourceRefs = [...DEVINFO_URIS]))) },
  { name: 'resends-on-202', summary: 'takes 202 for a failure and sends the command again', violates: ['MDM-STS-023'], behaviour: { treat202AsAccepted: false } },
  { name: 'commands-on-keep-alive', summary: 'takes a request-pending keep-alive for the device\'s answer and sends its next commands', violates: ['MDM-CMD-ALT-016'], behaviour: { waitThroughKeepAlive: false } },
  { name: 'results-without-msgref-read-as-latest', summary: 'reads a Results without MsgRef as referring to its latest message, not message 1', violates: ['MDM-ID-007'], behaviour: { resultsMsgRef: 'latest-when-missing' } },
  { name: 'results-matched-in-latest-message', summary: 'looks the CmdRef of a Results up in its latest message, whatever the MsgRef', violates: ['MDM-RES-005'], behaviour: { resultsMsgRef: 'ignored' } },
  {
    name: 'drops-value-format', summary: 'sends values without the Meta Format they were given (an int as if chr)', violates: ['MDM-CMD-ADD-002'],
    message: eachCommand((c) => {
      if (c.kind !== 'Add' && c.kind !== 'Replace') return;
      for (const m of [c.meta, ...c.items.map((i) => i.meta)]) if (m) m.fields = m.fields.filter((f) => f.name !== 'Format' || f.value === 'node');
    }),
  },
  { name: 'unwraps-sequences', summary: 'sends the members of a Sequence as loose commands', violates: ['MDM-CMD-SEQ-003'], warningOnly: true, message: (msg) => void (msg.body.commands = msg.body.commands.flatMap((c) => (c.kind === 'Sequence' ? c.commands : [c]))) },
  { name: 'cmdrefs-assumed-contiguous', summary: 'answers the device\'s commands by counting CmdIDs up from the first one', violates: ['MDM-ID-004'], warningOnly: true, behaviour: { cmdRefsAsSent: false } },
  { name: 'rejects-status-refs-after-data', summary: 'refuses (HTTP 400) a device message whose Status has TargetRef after Data', violates: ['MDM-STS-002'], warningOnly: true, behaviour: { toleratesStatusChildOrder: false } },
  {
    name: 'challenges-unknown-scheme', summary: 'challenges devices for syncml:auth-digest, a scheme OMA DM does not define', violates: ['MDM-AUTH-001'],
    message: (msg) => {
      for (const c of msg.body.commands) {
        if (c.kind === 'Status' && c.chal?.meta) c.chal.meta.fields = c.chal.meta.fields.map((f) => (f.name === 'Type' ? { ...f, value: 'syncml:auth-digest' } : f));
      }
    },
  },
  { name: 'authenticates-no-device', summary: 'takes a device that presents neither a verified certificate nor credentials', violates: ['MDM-AUTH-002', 'MDM-TRN-004'], behaviour: { verifyClientCertificate: false, challengeClients: false } },
  { name: 'answers-401-for-missing-credentials', summary: 'answers 401 instead of 407 to a device message without credentials', violates: ['MDM-AUTH-005'], behaviour: { challenge407WhenMissing: false } },
  { name: 'challenges-after-212', summary: 'challenges a device message without Cred although it accepted the device with 212', violates: ['MDM-AUTH-008'], behaviour: { trustAfter212: false } },
  { name: 'per-message-nonce-ignored', summary: 'accepts credentials with 200 and a new nonce, then checks the next ones against the old nonce', violates: ['MDM-AUTH-009'], behaviour: { authenticatePerMessage: true, perMessageNonce: false } },
  { name: 'forgets-issued-nonce', summary: 'does not keep the nonce it hands out with 212, so the next session\'s first credentials are refused', violates: ['MDM-AUTH-010'], behaviour: { rememberIssuedNonce: false } },
  { name: 'scheme-changes-after-authentication', summary: 'names syncml:auth-basic in the Chal that comes with its 212 to md5 credentials', violates: ['MDM-AUTH-011'], behaviour: { schemeAfterAuthentication: 'syncml:auth-basic' } },
  { name: 'accepts-any-scheme', summary: 'accepts valid basic credentials in answer to its md5 challenge', violates: ['MDM-AUTH-025', 'MDM-AUTH-026'], behaviour: { requireChallengedScheme: false } },
  // The server presenting its own credentials (server-to-client authentication).
  {
    name: 'server-cred-without-format', summary: 'presents its md5 Cred without Meta Format', violates: ['MDM-AUTH-013'],
    message: (msg) => {
      const meta = msg.hdr.cred?.meta;
      if (meta) meta.fields = meta.fields.filter((f) => f.name !== 'Format');
    },
  },
  { name: 'server-digest-without-user-id', summary: 'makes its own md5 digest from the password alone, without its user id', violates: ['MDM-AUTH-015'], behaviour: { serverCredWithoutUserId: true } },
  { name: 'server-md5-over-nonce-text', summary: 'makes its own md5 digest over the base64 text of the nonce', violates: ['MDM-AUTH-016'], behaviour: { serverMd5OverNonceText: true } },
  { name: 'drops-credentials-after-200', summary: 'presents no credentials after the device accepted them with 200 and a new nonce', violates: ['MDM-AUTH-009'], behaviour: { credentialsAfter200: false } },
  { name: 'hmac-answered-212', summary: 'answers a message authenticated by HMAC with 212 and no new nonce, and checks no HMAC after it', violates: ['MDM-AUTH-029'], behaviour: { hmacAnswer: '212' } },
  { name: 'hmac-own-header-without-username', summary: 'signs its replies with an x-syncml-hmac header that has no username', violates: ['MDM-AUTH-028'], behaviour: { hmacOwnUsername: 'omitted' } },
  { name: 'hmac-own-mac-in-cred', summary: 'carries its own HMAC in a SyncHdr Cred of Type syncml:auth-MAC instead of the x-syncml-hmac header', violates: ['MDM-AUTH-027', 'MDM-AUTH-031'], warningOnly: true, behaviour: { hmacOwnPlacement: 'cred' } },
  { name: 'ignores-device-next-nonce', summary: 'opens the next session with a Cred made from the nonce of the device\'s challenge, not the one it gave with 212', violates: ['MDM-AUTH-010'], behaviour: { nextNonceFrom212: false } },
  { name: 'answers-challenge-with-stale-nonce', summary: 'answers the device\'s refusal with a Cred made from the old nonce instead of the challenge\'s fresh one', violates: ['MDM-AUTH-022'], behaviour: { useChallengeNonce: false } },
  { name: 'one-server-secret', summary: 'presents the same secret to every device', violates: ['MDM-AUTH-024'], behaviour: { serverSecretPerDevice: false } },
  { name: 'keeps-nonce-of-unauthenticated-device', summary: 'keeps for its next Cred a nonce handed over by a device whose credentials it refused', violates: ['MDM-AUTH-023'], warningOnly: true, behaviour: { nextNonceOnlyFromAuthenticated: false } },
  { name: 'ignores-device-challenge', summary: 'does not present its credentials when the device challenges it', violates: ['MDM-AUTH-025'], behaviour: { answerDeviceChallenges: false } },
  {
    name: 'basic-credentials-without-user-id', summary: 'presents syncml:auth-basic credentials made from its password alone, B64(password)',
    violates: ['MDM-AUTH-014', 'MDM-AUTH-031'], runsWith: { serverScheme: 'syncml:auth-basic' }, behaviour: { serverCredWithoutUserId: true },
  },
  { name: 'presents-basic-credentials', summary: 'presents syncml:auth-basic credentials to devices', violates: ['MDM-AUTH-031'], behaviour: { presentScheme: 'syncml:auth-basic' } },
  {
    name: 'cred-in-command', summary: 'repeats its Cred inside the first command of the message', violates: ['MDM-HDR-015'],
    message: (msg) => {
      const into = msg.body.commands.find((c) => c.kind === 'Get' || c.kind === 'Replace' || c.kind === 'Add' || c.kind === 'Delete' || c.kind === 'Exec' || c.kind === 'Alert');
      if (msg.hdr.cred && into) into.cred = structuredClone(msg.hdr.cred);
    },
  },
  { name: 'no-status-for-1222', summary: 'answers every device Alert but 1222 (next message) with a Status', violates: ['MDM-LO-006'], behaviour: { statusFor1222: false } },
  { name: 'no-large-objects', summary: 'cannot send large objects: an item larger than the device MaxMsgSize is never sent', violates: ['MDM-LO-008'], behaviour: { chunkLargeObjects: false } },
  { name: 'bare-continuation-chunks', summary: 'sends the chunks after the first without the command Meta and the Item Target', violates: ['MDM-LO-016'], warningOnly: true, behaviour: { repeatChunkAddressing: false } },
  { name: 'overfills-messages', summary: 'puts every queued command that fits a message into the current one, past the device MaxMsgSize', violates: ['MDM-LO-019'], warningOnly: true, behaviour: { fillPastMaxMsgSize: true } },
  { name: 'sends-unfitting-commands', summary: 'sends a command larger than the device MaxMsgSize that cannot be chunked (a Get of many nodes) whole', violates: ['MDM-LO-022'], behaviour: { holdBackUnfittingCommands: false } },
  { name: 'chunks-without-checking-lrgobj', summary: 'sends chunked data to a device without reading its ./DevDetail/LrgObj, so also to one that reads false', violates: ['MDM-LO-019'], warningOnly: true, behaviour: { checkLrgObj: false } },
  { name: 'no-alert-on-interrupted-upload', summary: 'drops a chunked Results the device abandoned before its last chunk without Alert 1225', violates: ['MDM-LO-014'], behaviour: { alertInterruptedUpload: false } },
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
    wire: (out) => void (typeof out.body === 'string' && out.body.includes('<Chal>') && (out.status = 401)),
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
  {
    name: 'applies-credential-change-at-once', summary: 'authenticates every message (200) and, once it has sent a Replace of the device\'s DMAcc AAuthSecret, refuses the rest of the session\'s credentials made with the old secret',
    violates: ['MDM-AUTH-030'], behaviour: { authenticatePerMessage: true, appliesCredentialChangeAtOnce: true },
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
  { name: 'wbxml-and-signed', summary: 'every scenario in WBXML, the server requiring MS-Signature on every message (MDM-TRN-007, MDM-TRN-015)', violates: [], runsWith: { encoding: 'wbxml', signing: true } },
];
