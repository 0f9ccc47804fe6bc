/**
 * The reference device's switchable faults: each one realistic violation, naming the catalogue ids it breaks.
 * `npx mdm-conformance device --fault NAME` runs a faulty device; the self suite proves the checks catch each one.
 */
import type { DeviceSessionBehaviour } from '../protocol/device-session';
import type { Fault } from '../protocol/fault';
import { encodeBody } from '../protocol/encoding';
import { mutations, textMutations } from '../protocol/mutations';
import { codeOf, DM_COMMANDS, metaValue, WBXML_MEDIA_TYPE, XML_MEDIA_TYPE, type Item, type Results, type SyncML } from '../syncml';
import { COMMAND_FAULTS } from './command-faults';
import type { DeviceBehaviour } from './execute';
import type { WindowsSessionBehaviour } from './windows-session';

/** Everything a device fault can flip: command semantics, session rules, TLS and HTTP habits. */
export interface ReferenceDeviceBehaviour extends DeviceBehaviour, DeviceSessionBehaviour, WindowsSessionBehaviour {
  /** Verify the server certificate against the CA and host name (MDM-AUTH-002, MDM-TRN-003). */
  verifyServerCertificate: boolean;
  /** Present the device identity certificate in the TLS handshake (MDM-TRN-004). */
  presentClientCertificate: boolean;
  /** Fetch the external entities a server reply's DOCTYPE names, as an XML parser with them enabled does (XXE). */
  resolveExternalEntities: boolean;
  /** Take an HTTP 200 with an empty body as the end of the session, as Windows does (MDM-ROB-009); false: crash on it. */
  endSessionOnEmptyReply: boolean;
  /** Die without answering when a server message carries this command, as a client with a fatal bug in its handler does. */
  crashOnCommand?: string;
  /**
   * What a device told to sign puts in MS-Signature (MDM-TRN-014): a signature over the body (`valid`), one whose
   * messageDigest is of other bytes (`wrong-digest`), or no header at all (`none`).
   */
  messageSignature: 'valid' | 'wrong-digest' | 'none';
  /** Append `mode` and `Platform` to the management URL, as Windows does (MDM-TRN-009); false posts to the URL as given. */
  appendWindowsQuery?: boolean;
  /**
   * Take a new SessionID for every session (MDM-HDR-006); false takes one only after a session that failed, keeping
   * the last one while sessions complete.
   */
  newSessionIdEverySession?: boolean;
  /** Wait the Retry-After of a throttling reply before sending again (MDM-TRN-021); false sends again at once. */
  honourRetryAfter?: boolean;
  /**
   * Present a user id or secret the server replaced in the DM account (DMAcc CLCRED AAuthName/AAuthSecret) from the
   * next message on, within the same session (MDM-AUTH-030 forbids it); false takes it from the next session on.
   */
  appliesCredentialChangeAtOnce?: boolean;
  /** Where the device's HMAC goes (OMA-DMS 5.4): the x-syncml-hmac header, or a SyncHdr Cred (the mistake MDM-AUTH-027 rules out). */
  hmacPlacement?: 'header' | 'cred';
  /** The username of the device's x-syncml-hmac: its Source LocName (MDM-AUTH-028), none, or its device id. */
  hmacUsername?: 'locName' | 'omitted' | 'device-id';
  /** HMAC on every message once in use (MDM-AUTH-029); false signs only the first. */
  hmacEveryMessage?: boolean;
}

export type DeviceFault = Fault<ReferenceDeviceBehaviour>;

const isPackage1 = (msg: SyncML) => msg.body.commands.some((c) => c.kind === 'Alert' && ['1200', '1201'].includes(codeOf(c) ?? ''));

const inPackage1 = (edit: (msg: SyncML) => void) => (msg: SyncML) => {
  if (isPackage1(msg)) edit(msg);
};

const resultsOf = (msg: SyncML) => msg.body.commands.filter((c): c is Results => c.kind === 'Results');
const withoutField = (it: { meta?: Item['meta'] }, name: string) => {
  if (it.meta) it.meta.fields = it.meta.fields.filter((f) => f.name !== name);
};
const ANSWERABLE = new Set<string>([...DM_COMMANDS, 'SyncHdr']);

export const DEVICE_FAULTS: readonly DeviceFault[] = [
  { name: 'header-status-missing', summary: 'replies without the Status for the server SyncHdr', violates: ['MDM-STS-003'], message: mutations.dropHeaderStatus },
  { name: 'header-status-not-first', summary: 'puts the SyncHdr Status after another Status', violates: ['MDM-STS-003'], message: mutations.headerStatusSecond },
  { name: 'status-wrong-msgref', summary: 'a Status carries a MsgRef no server message had', violates: ['MDM-ID-005'], message: mutations.wrongStatusMsgRef },
  { name: 'status-wrong-cmdref', summary: 'a Status points at the wrong server command', violates: ['MDM-ID-006'], message: mutations.wrongStatusCmdRef },
  { name: 'status-wrong-cmd', summary: 'a Status names the wrong command in Cmd', violates: ['MDM-STS-015'], message: mutations.wrongStatusCmd },
  { name: 'status-for-unsent-command', summary: 'answers a command the server never sent', violates: ['MDM-ID-006'], message: mutations.statusForUnsentCommand },
  { name: 'statuses-reversed', summary: 'returns statuses in reverse command order', violates: ['MDM-STS-007'], behaviour: { statusOrder: 'reversed' } },
  { name: 'member-status-missing', summary: 'drops the Status of the last member of a container', violates: ['MDM-STS-004'], behaviour: { statusForEveryCommand: false } },
  { name: 'duplicate-cmdid', summary: 'gives two commands of a message the same CmdID', violates: ['MDM-ID-002'], message: mutations.duplicateCmdID },
  { name: 'zero-cmdid', summary: 'numbers a command 0', violates: ['MDM-ID-003'], message: mutations.zeroCmdID },
  { name: 'missing-cmdid', summary: 'sends a command without CmdID', violates: ['MDM-ID-001'], message: mutations.dropCmdID },
  { name: 'sessionid-changes', summary: 'changes its SessionID within the session', violates: ['MDM-HDR-005'], message: (msg) => { if (!isPackage1(msg)) mutations.changeSessionID(msg); } },
  { name: 'msgid-not-increasing', summary: 'numbers every message MsgID 1', violates: ['MDM-HDR-008'], message: mutations.freezeMsgID },
  { name: 'target-source-swapped', summary: 'swaps Target and Source in its header', violates: ['MDM-HDR-010'], message: mutations.swapTargetAndSource },
  { name: 'old-verdtd', summary: 'declares VerDTD 1.1', violates: ['MDM-HDR-002'], message: mutations.oldVerDTD },
  { name: 'old-namespace', summary: 'uses the SYNCML:SYNCML1.1 namespace', violates: ['MDM-XML-002'], message: mutations.oldNamespace },
  { name: 'header-out-of-order', summary: 'writes MsgID before SessionID', violates: ['MDM-HDR-001'], text: textMutations.headerOutOfOrder },
  { name: 'status-out-of-order', summary: 'writes Status Data before Cmd', violates: ['MDM-STS-001'], text: textMutations.statusDataBeforeCmd },
  { name: 'no-session-alert', summary: 'opens the session without Alert 1201', violates: ['MDM-CMD-ALT-001', 'MDM-SES-001'], message: (msg) => { msg.body.commands = msg.body.commands.filter((c) => !(c.kind === 'Alert' && codeOf(c) === '1201')); } },
  {
    name: 'devinfo-in-target', summary: 'names the DevInfo nodes of package 1 in Target', violates: ['MDM-SES-002'],
    message: inPackage1((msg) => {
      for (const c of msg.body.commands) if (c.kind === 'Replace') for (const it of c.items) [it.target, it.source] = [it.source, undefined];
    }),
  },
  {
    name: 'devinfo-incomplete', summary: 'leaves ./DevInfo/Lang out of package 1', violates: ['MDM-SES-003'],
    message: inPackage1((msg) => {
      for (const c of msg.body.commands) if (c.kind === 'Replace') c.items = c.items.filter((it) => it.source?.locURI !== './DevInfo/Lang');
    }),
  },
  { name: 'package1-without-final', summary: 'sends package 1 without Final', violates: ['MDM-SES-004'], message: inPackage1(mutations.dropFinal) },
  { name: 'wrong-content-type', summary: 'posts with Content-Type text/xml', violates: ['MDM-TRN-005'], wire: (out) => void (out.headers['content-type'] = 'text/xml') },
  {
    name: 'wbxml-labelled-xml', summary: 'provisioned WBXML, posts its WBXML bodies as application/vnd.syncml.dm+xml', violates: ['MDM-TRN-005'],
    runsWith: { encoding: 'wbxml' }, wire: (out) => void (out.headers['content-type'] = XML_MEDIA_TYPE),
  },
  {
    name: 'xml-labelled-wbxml', summary: 'posts its XML bodies as application/vnd.syncml.dm+wbxml', violates: ['MDM-TRN-005'],
    wire: (out) => void (out.headers['content-type'] = WBXML_MEDIA_TYPE),
  },
  {
    name: 'wbxml-unprovisioned', summary: 'sends WBXML though nothing provisioned it (Windows then sends XML)', violates: ['MDM-TRN-006'],
    wire: (out) => {
      if (typeof out.body !== 'string' || out.body === '') return;
      out.body = encodeBody(out.body, 'wbxml');
      out.headers['content-type'] = WBXML_MEDIA_TYPE;
    },
  },
  { name: 'signature-wrong-digest', summary: 'told to sign, signs other bytes than the body it sends', violates: ['MDM-TRN-014'], runsWith: { signing: true }, behaviour: { messageSignature: 'wrong-digest' } },
  { name: 'unsigned-when-required', summary: 'told to sign (RequireMessageSigning), sends its messages without MS-Signature', violates: ['MDM-TRN-014'], runsWith: { signing: true }, behaviour: { messageSignature: 'none' } },
  { name: 'missing-node-get-200', summary: 'answers a Get of a missing node with 200', violates: ['MDM-STS-017'], behaviour: { missingNodeGetCode: '200' } },
  { name: 'add-existing-200', summary: 'answers an Add of an existing node with 200', violates: ['MDM-STS-018'], behaviour: { addExistingCode: '200' } },
  { name: 'read-only-write-200', summary: 'answers a write to a read-only node with 200', violates: ['MDM-STS-019'], behaviour: { readOnlyWriteCode: '200' } },
  { name: 'atomic-not-rolled-back', summary: 'keeps the effects of a failed Atomic', violates: ['MDM-CMD-ATO-002'], behaviour: { atomicRollback: false } },
  { name: 'sequence-reordered', summary: 'runs Sequence members in reverse order', violates: ['MDM-CMD-SEQ-001'], behaviour: { sequenceInOrder: false } },
  { name: 'results-wrong-cmdref', summary: 'Results point one past the Get', violates: ['MDM-CMD-GET-002'], behaviour: { resultsCmdRef: 'off-by-one' } },
  { name: 'header-only-closing-message', summary: 'sends a message holding only the SyncHdr Status when the session is over', violates: ['MDM-STS-011', 'MDM-TERM-001'], behaviour: { silentWhenDone: false } },
  { name: 'crashes-on-empty-reply', summary: 'crashes on an HTTP 200 with an empty body at the end of a session', violates: ['MDM-ROB-009'], warningOnly: true, behaviour: { endSessionOnEmptyReply: false } },
  { name: 'crashes-on-exec', summary: 'dies without answering a server message that carries an Exec', violates: ['MDM-SES-012'], behaviour: { crashOnCommand: 'Exec' } },
  { name: 'replies-after-abort', summary: 'answers a server Alert 1223', violates: ['MDM-TERM-007'], warningOnly: true, behaviour: { silentOnAbort: false } },
  { name: 'final-while-server-package-open', summary: 'closes its package while the server package is open', violates: ['MDM-LO-002'], behaviour: { waitForServerPackage: false } },
  { name: 'no-ack-for-chunks', summary: 'acknowledges chunks with 200 instead of 213', violates: ['MDM-LO-010'], behaviour: { ackChunks: false } },
  { name: 'no-size-check', summary: 'applies a reassembled object whose size differs from Size', violates: ['MDM-LO-012'], behaviour: { checkChunkSize: false } },
  { name: 'no-alert-on-interrupted-object', summary: 'drops an interrupted large object silently', violates: ['MDM-LO-014'], behaviour: { alertInterruptedObject: false } },
  { name: 'ignores-challenge', summary: 'does not re-send package 1 with credentials when challenged', violates: ['MDM-AUTH-006'], behaviour: { answerChallenges: false } },
  { name: 'md5-over-nonce-text', summary: 'hashes the nonce text instead of its decoded bytes', violates: ['MDM-AUTH-016'], behaviour: { md5OverNonceText: true } },
  { name: 'hmac-in-cred', summary: 'carries its HMAC in a SyncHdr Cred of Type syncml:auth-MAC instead of the x-syncml-hmac header', violates: ['MDM-AUTH-027'], warningOnly: true, behaviour: { hmacPlacement: 'cred' } },
  { name: 'hmac-without-username', summary: 'sends x-syncml-hmac without the username parameter', violates: ['MDM-AUTH-028'], behaviour: { hmacUsername: 'omitted' } },
  { name: 'hmac-username-is-device-id', summary: 'names its device id in x-syncml-hmac instead of the SyncHdr Source LocName', violates: ['MDM-AUTH-028'], behaviour: { hmacUsername: 'device-id' } },
  { name: 'hmac-first-message-only', summary: 'signs only its first message with x-syncml-hmac and drops the header after it', violates: ['MDM-AUTH-029'], behaviour: { hmacEveryMessage: false } },
  { name: 'accepts-any-server-certificate', summary: 'does not verify the server certificate', violates: ['MDM-AUTH-002'], behaviour: { verifyServerCertificate: false } },
  { name: 'no-client-certificate', summary: 'connects without presenting its identity certificate', violates: ['MDM-TRN-004'], behaviour: { presentClientCertificate: false } },
  {
    name: 'results-without-format', summary: 'leaves Meta Format out of its Results, also for int and interior nodes', violates: ['MDM-RES-003'],
    message: (msg) => {
      for (const r of resultsOf(msg)) {
        withoutField(r, 'Format');
        r.items.forEach((it) => withoutField(it, 'Format'));
      }
    },
  },
  {
    name: 'interior-get-without-children', summary: 'answers a Get of an interior node with an empty child list', violates: ['MDM-CMD-GET-004'],
    message: (msg) => {
      for (const r of resultsOf(msg)) for (const it of r.items) if (metaValue(it.meta, 'Format') === 'node') it.data = { text: '' };
    },
  },
  {
    name: 'unknown-command-accepted', summary: 'answers an element that is not a DM command with 200', violates: ['MDM-XML-013'],
    message: (msg) => {
      for (const c of msg.body.commands) if (c.kind === 'Status' && !ANSWERABLE.has(c.cmd?.trim() ?? '')) c.data = { text: '200' };
    },
  },
  {
    name: 'command-without-cmdid-ignored', summary: 'silently ignores a command that has no CmdID', violates: ['MDM-XML-014'],
    message: (msg) => {
      msg.body.commands = msg.body.commands.filter((c) => !(c.kind === 'Status' && (c.cmdRef ?? '').trim() === ''));
    },
  },
  { name: 'sessionid-reused', summary: 'uses SessionID 1 for every session', violates: ['MDM-TERM-008'], message: (msg) => void (msg.hdr.sessionID = '1') },
  {
    name: 'md5-without-locname', summary: 'leaves the user id out of SyncHdr Source LocName when it sends MD5 credentials', violates: ['MDM-AUTH-017'],
    message: (msg) => {
      if (msg.hdr.cred && msg.hdr.source) delete msg.hdr.source.locName;
    },
  },
  {
    name: 'size-on-every-upload-chunk', summary: 'repeats Size on every chunk of a large Results', violates: ['MDM-LO-011'],
    message: (msg) => {
      for (const r of resultsOf(msg)) {
        for (const it of r.items) {
          if (!it.moreData || metaValue(it.meta, 'Size') !== undefined) continue;
          it.meta = { fields: [...(it.meta?.fields ?? []), { name: 'Size', value: '1', attrs: { xmlns: 'syncml:metinf' } }] };
        }
      }
    },
  },
  { name: 'decodes-locuri-before-splitting', summary: 'percent-decodes a whole LocURI before splitting it, so %2F acts as a path separator', violates: ['MDM-XML-018'], behaviour: { decodeBeforeSplitting: true } },
  { name: 'ignores-protocol-version', summary: 'runs the commands of a server message in any SyncML or DM version instead of answering 505/513', violates: ['MDM-ROB-002'], warningOnly: true, behaviour: { checkProtocolVersion: false } },
  {
    name: 'final-on-every-upload-chunk', summary: 'closes every message of its package with Final while a large Results is still going out', violates: ['MDM-LO-001'],
    message: (msg) => {
      if (resultsOf(msg).some((r) => r.items.some((it) => it.moreData))) msg.body.final = true;
    },
  },
  // Authentication in both directions: the device presenting its credentials, and authenticating the server.
  { name: 'runs-commands-of-unauthenticated-server', summary: 'runs the commands of a server that presented no credentials', violates: ['MDM-AUTH-002'], behaviour: { requireServerCredentials: false } },
  { name: 'no-certificate-basic-only', summary: 'presents no client certificate and answers an md5 challenge with basic credentials', violates: ['MDM-AUTH-003', 'MDM-TRN-004'], behaviour: { presentClientCertificate: false, forceScheme: 'syncml:auth-basic' } },
  { name: 'challenge-without-chal', summary: 'refuses the server\'s credentials with 401/407 without a Chal', violates: ['MDM-AUTH-004'], behaviour: { challengeServerWithChal: false } },
  { name: 'answers-401-for-missing-credentials', summary: 'answers 401 instead of 407 to a server message without credentials', violates: ['MDM-AUTH-005'], behaviour: { challenge407WhenMissing: false } },
  { name: 'challenges-after-212', summary: 'challenges a server message without Cred although it accepted the server with 212', violates: ['MDM-AUTH-008'], behaviour: { trustServerAfter212: false } },
  { name: 'drops-credentials-after-200', summary: 'sends no credentials in the message after the server accepted them with 200', violates: ['MDM-AUTH-009'], behaviour: { credentialsAfter200: false } },
  { name: 'applies-credential-change-at-once', summary: 'presents a secret the server replaced in its DMAcc account (AAuthSecret) from its next message on, in the same session', violates: ['MDM-AUTH-030'], behaviour: { appliesCredentialChangeAtOnce: true } },
  { name: 'keeps-challenge-nonce', summary: 'opens the next session with the nonce of the challenge, not the one the server gave with 212', violates: ['MDM-AUTH-010'], behaviour: { nextNonceFrom212: false } },
  { name: 'forgets-handed-nonce', summary: 'forgets the nonce it handed the server with 212 and refuses the Cred the next session opens with', violates: ['MDM-AUTH-010'], behaviour: { rememberHandedNonce: false } },
  { name: 'cred-scheme-changes', summary: 'switches to basic credentials once the server accepted its md5 ones with 200', violates: ['MDM-AUTH-011'], behaviour: { schemeAfterAcceptance: 'syncml:auth-basic' } },
  { name: 'challenges-empty-message', summary: 'answers a server message with no command and no challenge with nothing but a challenge of its credentials', violates: ['MDM-AUTH-012'], behaviour: { challengeEmptyMessages: true } },
  {
    name: 'md5-cred-without-format', summary: 'sends its md5 Cred without Meta Format', violates: ['MDM-AUTH-013'],
    message: (msg) => {
      const meta = msg.hdr.cred?.meta;
      if (meta) meta.fields = meta.fields.filter((f) => f.name !== 'Format');
    },
  },
  { name: 'credentials-without-user-id', summary: 'leaves its user id out of its basic and md5 credentials', violates: ['MDM-AUTH-014', 'MDM-AUTH-015'], behaviour: { credentialsWithoutUserId: true } },
  { name: 'accepts-any-server-credentials', summary: 'takes whatever Cred the server presents without checking it', violates: ['MDM-AUTH-015'], behaviour: { checkServerCredentials: false } },
  {
    name: 'server-challenge-without-nonce', summary: 'challenges the server with md5 but gives no NextNonce', violates: ['MDM-AUTH-018'],
    message: (msg) => {
      for (const c of msg.body.commands) if (c.kind === 'Status' && c.chal?.meta) c.chal.meta.fields = c.chal.meta.fields.filter((f) => f.name !== 'NextNonce');
    },
  },
  { name: 'no-next-nonce-for-server', summary: 'accepts the server\'s md5 credentials without handing it a nonce for the next session', violates: ['MDM-AUTH-020'], behaviour: { handNextNonce: false } },
  { name: 'short-server-nonces', summary: 'hands the server 8-octet nonces', violates: ['MDM-AUTH-021'], warningOnly: true, behaviour: { serverNonceBytes: 8 } },
  { name: 'reissues-server-nonce', summary: 'refuses the server\'s credentials again with the nonce it already handed over', violates: ['MDM-AUTH-022'], behaviour: { freshNonceOnServerRefusal: false } },
  { name: 'keeps-nonce-of-unauthenticated-server', summary: 'opens its next session with the nonce a server whose credentials it refused handed over', violates: ['MDM-AUTH-023'], warningOnly: true, behaviour: { nextNonceOnlyFromAuthenticated: false } },
  { name: 'answers-in-own-scheme', summary: 'answers a challenge in its configured scheme, not the one asked for', violates: ['MDM-AUTH-025'], behaviour: { answerInChallengedScheme: false } },
  { name: 'accepts-server-cred-in-any-scheme', summary: 'takes valid server credentials in another scheme than the one it challenged for', violates: ['MDM-AUTH-025'], behaviour: { requireChallengedScheme: false } },
  { name: 'challenges-server-with-basic', summary: 'asks the server for basic credentials', violates: ['MDM-AUTH-031'], behaviour: { serverScheme: 'syncml:auth-basic' } },
  {
    name: 'cred-in-command', summary: 'repeats its Cred inside the session Alert', violates: ['MDM-HDR-015'],
    message: (msg) => {
      const into = msg.body.commands.find((c) => c.kind === 'Alert');
      if (msg.hdr.cred && into?.kind === 'Alert') into.cred = structuredClone(msg.hdr.cred);
    },
  },
  { name: 'ignores-respuri', summary: 'sends its next message to the management URL although the authentication-failure reply named a RespURI', violates: ['MDM-HDR-016'], behaviour: { followRespURI: false } },
  ...COMMAND_FAULTS,
  { name: 'no-1222-for-server-package', summary: 'answers the chunks of a server large object with Statuses alone, never asking for the next message with Alert 1222', violates: ['MDM-LO-003'], behaviour: { pullWithAlert1222: false } },
  { name: 'no-status-for-1222', summary: 'answers every server command but Alert 1222 (next message) with a Status', violates: ['MDM-LO-006'], behaviour: { statusFor1222: false } },
  { name: 'chunks-without-more-data', summary: 'sends the chunks of a large Results without MoreData, so each looks like a whole Results', violates: ['MDM-LO-009'], behaviour: { moreDataOnChunks: false } },
  { name: 'applies-chunks-early', summary: 'writes each chunk of a large object to the node as it arrives instead of once the object is whole', violates: ['MDM-LO-015'], behaviour: { atomicChunkedObjects: false } },
  { name: 'results-between-upload-chunks', summary: 'sends the next owed Results between two chunks of a large Results', violates: ['MDM-LO-013'], behaviour: { contiguousUploads: false } },
  {
    name: 'lrgobj-false', summary: 'reports ./DevDetail/LrgObj false though it takes and sends large objects', violates: ['MDM-LO-017'],
    message: (msg) => {
      for (const r of resultsOf(msg)) for (const it of r.items) if (it.source?.locURI?.trim() === './DevDetail/LrgObj') it.data = { text: 'false' };
    },
  },
  { name: 'ignores-server-max-obj-size', summary: 'sends objects larger than the MaxObjSize in the server SyncHdr, as Windows, which ignores server header Meta, does', violates: ['MDM-LO-018'], warningOnly: true, behaviour: { honourServerMaxObjSize: false } },
  { name: 'splits-results-over-messages', summary: 'spreads the Items of a Results too large for one message over several messages, one Results each', violates: ['MDM-LO-022'], behaviour: { splitResultsOverMessages: true } },
  { name: 'posts-with-put', summary: 'sends its messages with HTTP PUT instead of POST', violates: ['MDM-TRN-001'], wire: (out) => void (out.method = 'PUT') },
  { name: 'no-windows-query', summary: 'posts to the management URL without the mode and Platform parameters Windows appends', violates: ['MDM-TRN-009'], warningOnly: true, behaviour: { appendWindowsQuery: false } },
  { name: 'own-user-agent', summary: 'sends a User-Agent of its own instead of Windows\' MSFT OMA DM Client/1.2.0.1', violates: ['MDM-TRN-011'], warningOnly: true, wire: (out) => void (out.headers['user-agent'] = 'ExampleDM/3.1 (OMA-DM 1.2)') },
  { name: 'verproto-missing', summary: 'leaves VerProto out of its header', violates: ['MDM-HDR-003'], message: mutations.dropVerProto },
  { name: 'long-sessionid', summary: 'uses SessionIDs of more than 4 bytes', violates: ['MDM-HDR-004'], message: (msg) => void (msg.hdr.sessionID = `S${(msg.hdr.sessionID ?? '').padStart(6, '0')}`) },
  { name: 'sessionid-kept-after-success', summary: 'takes a new SessionID only after a session that failed, so sessions that complete share one', violates: ['MDM-HDR-006'], warningOnly: true, behaviour: { newSessionIdEverySession: false } },
  {
    name: 'devid-differs-from-header', summary: 'reports its hardware id as ./DevInfo/DevId while its header names the enrollment\'s device id', violates: ['MDM-HDR-012'], warningOnly: true,
    message: inPackage1((msg) => {
      for (const c of msg.body.commands) if (c.kind === 'Replace') for (const it of c.items) if (it.source?.locURI === './DevInfo/DevId') it.data = { text: `HW-${it.data?.text ?? ''}` };
    }),
  },
  { name: 'refuses-server-header-meta', summary: 'refuses a server message whose SyncHdr carries Meta (MaxMsgSize), answering its commands 400', violates: ['MDM-HDR-013'], warningOnly: true, behaviour: { ignoreServerHeaderMeta: false } },
  {
    name: 'asks-for-server-devinf', summary: 'asks the server for its device information with a Get in package 1, as a SyncML DS client does', violates: ['MDM-SES-005'],
    message: inPackage1((msg) => {
      const next = Math.max(0, ...msg.body.commands.map((c) => Number(c.cmdID) || 0)) + 1;
      msg.body.commands.push({ kind: 'Get', cmdID: String(next), items: [{ target: { locURI: './devinf12' } }] });
    }),
  },
  { name: 'no-final-on-replies', summary: 'never closes its response packages with Final, and stops when the server asks for the rest', violates: ['MDM-TERM-004', 'MDM-SES-010'], behaviour: { finalOnReplies: false } },
  { name: 'user-provisioning-applied', summary: 'answers ./User provisioning 200 although no Entra user is signed in', violates: ['MDM-SES-020'], behaviour: { userScopeCode: '200' } },
  { name: 'ignores-retry-after', summary: 'sends again at once after HTTP 429, whatever the Retry-After', violates: ['MDM-TRN-021'], warningOnly: true, behaviour: { honourRetryAfter: false } },
  {
    name: 'aborts-without-final', summary: 'aborts every session with Alert 1223 once commands come, in a message without Final', violates: ['MDM-TERM-005'], warningOnly: true,
    behaviour: { abortOnCommands: true }, message: (msg) => void (msg.body.commands.some((c) => c.kind === 'Alert' && codeOf(c) === '1223') && delete msg.body.final),
  },
  { name: 'needs-alert-status', summary: 'answers every command of a package 2 that has no Status for its session alert with 500', violates: ['MDM-ROB-011'], warningOnly: true, behaviour: { tolerateMissingAlertStatus: false } },
];

/**
 * Conforming set-ups of the reference device beside its default (XML, unsigned): the clean row of the fault matrix
 * runs each, so that the rules of WBXML and signing runs are shown passing too; none of them may fail anything.
 */
export const DEVICE_VARIANTS: readonly DeviceFault[] = [
  { name: 'wbxml-and-signed', summary: 'provisioned WBXML and told to sign: every message WBXML with MS-Signature (MDM-TRN-006, MDM-TRN-014)', violates: [], runsWith: { encoding: 'wbxml', signing: true } },
];

/**
 * A conforming alternative the server scenarios give the device they play: MDM-AUTH-009 arises for a server only
 * when a device accepts its credentials with 200 (and a fresh nonce) rather than 212.
 */
export const ACCEPTS_SERVER_WITH_200: DeviceFault = {
  name: 'accepts-server-with-200', summary: 'accepts the server\'s credentials with 200 and a fresh nonce, so every server message carries them (MDM-AUTH-009)', violates: [], behaviour: { acceptServerWith200: true },
};

/**
 * Weaknesses the catalogue does not cover: each makes a security probe report an advisory (never a failure), and
 * the self suite shows it appears against the weak device and not against the clean one. They are kept out of
 * DEVICE_FAULTS, whose every entry must fail or warn on a catalogue id.
 */
export const DEVICE_WEAKNESSES: readonly DeviceFault[] = [
  { name: 'resolves-external-entities', summary: 'fetches the external entities a DOCTYPE in a server reply names (XXE)', violates: [], advises: ['xml-external-entity'], behaviour: { resolveExternalEntities: true } },
  { name: 'resolves-dot-segments', summary: "collapses '.' and '..' segments of a LocURI as a file path would", violates: [], advises: ['locuri-dot-segments'], behaviour: { resolveDotSegments: true } },
];

