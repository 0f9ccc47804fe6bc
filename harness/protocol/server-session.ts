/**
 * The server side of one DM session, without I/O: `receive(deviceMessage)` always returns the reply
 * (MDM-STS-012, MDM-TERM-003). Catalogue 3.8, server state machine.
 *
 * It owns MsgID/CmdID numbering, the SyncHdr Status, a Status for every device command that needs one, the
 * package rules of OMA-DMP 6 (Next Message replies, Final on every message but large-object chunks and Next
 * Message replies, MDM-LO-004/005/007), the device's MaxMsgSize and MaxObjSize, large objects in both directions
 * and the application-level challenge. Which commands go to the device comes from the queue.
 */
import {
  alert, chal, codeOf, get, item, itemMeta, meta, metaValue, status, type Alert, type Command, type Cred, type Item, type Meta, type Results,
  type Status, type SyncHdr, type SyncML,
} from '../syncml';
import { MessageAssembler } from './assembler';
import { AuthScheme, decodeNonce, newNonce, NONCE_BYTES, verifyCredential, type CredScheme } from './auth';
import { credentialFor } from './credentials';
import type { IntegrityVerdict } from './hmac-integrity';
import { byteLength, ChunkAssembly, prefixWithin } from './large-object';
import type { Rng } from './random';
import { SERVER_VERSIONS, unsupportedVersion } from './version';

export interface CommandQueue {
  peek(): Command | undefined;
  shift(): Command | undefined;
  /**
   * Called when the server starts a new package (the device's package is complete). A queue that holds commands
   * for later rounds releases the next round here; until then `peek` stops at the end of the current one.
   */
  startPackage?(): void;
  /** Puts commands back at the head of the queue: the device refused the message that carried them (MDM-AUTH-025). */
  requeue?(commands: Command[]): void;
}

export interface ServerCredentialCheck {
  scheme: CredScheme;
  user: string;
  password: string;
  /** Nonce (base64) the device was given for this session; a fresh one is made when absent. */
  nonce?: string;
  /** Told the nonce the device must use in its next session (MDM-AUTH-010, MDM-AUTH-019). */
  onNextNonce?: (nonce: string) => void;
}

/**
 * Credentials the server presents to the device: server-to-client authentication at the DM layer (OMA-DMP 9,
 * OMA-DMS 5.3; w7 `CLIENT`, DMAcc `SRVCRED`, DIGEST on Windows: MDM-AUTH-031).
 */
export interface ServerPresentedCredentials {
  scheme: CredScheme;
  user: string;
  password: string;
  /** Nonce (base64) the device handed the server for this session; an md5 Cred waits for a challenge without one. */
  nonce?: string;
  /** Told the nonce the device handed over for the server's next session (MDM-AUTH-010, MDM-AUTH-020). */
  onNextNonce?: (nonce: string) => void;
}

/** The server's behaviour; every knob's default is the conforming one, a fault flips one. */
export interface ServerBehaviour {
  statusForAlerts: boolean;
  statusForResults200: boolean;
  honourMaxMsgSize: boolean;
  chunkLargeObjects: boolean;
  nextMessageReplies: boolean;
  endsSession: boolean;
  stopAfter214: boolean;
  acceptAnyCredential: boolean;
  /** 407 for a message without credentials, 401 for refused ones (MDM-AUTH-005); false answers 401 to both. */
  challenge407WhenMissing: boolean;
  /** After a 212 the device needs no Cred for the rest of the session (MDM-AUTH-008); false challenges it again. */
  trustAfter212: boolean;
  ackResultsChunks: boolean;
  honourMaxObjSize: boolean;
  sizeOnFirstChunkOnly: boolean;
  challengeWithChal: boolean;
  commandsInNextMessageReply: boolean;
  statusesOnlyOnAuthFailure: boolean;
  statusesOnlyAfterAbort: boolean;
  pullWithAlert1222: boolean;
  checkResultsSize: boolean;
  commandsBetweenChunks: boolean;
  /** Answer a message in a SyncML or DM version other than 1.2 with 505/513 instead of processing it (MDM-ROB-002). */
  checkProtocolVersion: boolean;
  /** Hand out a new MD5 nonce with every 212, for the next session (MDM-AUTH-019); false repeats the current one. */
  renewNonce: boolean;
  /** Octets of each nonce the server makes (MDM-AUTH-021: at least 16). */
  nonceBytes: number;
  /** Answer a malformed command (not a DM command, no CmdID, an Alert without its code) with 400/412 (MDM-ROB-006). */
  answerMalformedCommands: boolean;
  /** Every 401/407 carries a nonce never issued before (MDM-AUTH-022); false re-issues the current one. */
  freshNonceOnChallenge: boolean;
  /**
   * A conforming alternative to 212: accept credentials with 200 and a fresh nonce, so that every message of the
   * session carries them again (MDM-AUTH-009). Off by default, as Windows' servers answer 212.
   */
  authenticatePerMessage: boolean;
  /**
   * How a Results names its Get: 'as-sent' reads MsgRef and CmdRef, a missing MsgRef meaning message 1
   * (MDM-ID-007, MDM-RES-005). The faulty readings: 'latest-when-missing' takes a missing MsgRef for the server's
   * latest message; 'ignored' looks CmdRef up in the latest message whatever MsgRef says. A Results that then names
   * no Get is answered 400.
   */
  resultsMsgRef: 'as-sent' | 'latest-when-missing' | 'ignored';
  /** Take 202 as accepted (MDM-STS-023); false takes it for a failure and sends the command again, once. */
  treat202AsAccepted: boolean;
  /** Answer a request-pending keep-alive with Statuses only and keep waiting (MDM-CMD-ALT-016); false sends the next commands. */
  waitThroughKeepAlive: boolean;
  /** Chunk a large Add/Replace that is an Atomic's only member around the Atomic, so it spans messages (MDM-CMD-ATO-008 forbids it). */
  chunkInsideAtomic: boolean;
  /** Answer a device Item that sets a value with a Format but carries no Data with 412 (MDM-XML-020). */
  refuseIncompleteItems: boolean;
  /** Name each Item's TargetRef/SourceRef on per-Item Statuses (MDM-STS-009). */
  refsOnItemStatuses: boolean;
  /** Answer each device command under its own CmdID (MDM-ID-004); false counts CmdRefs up from the message's first CmdID. */
  cmdRefsAsSent: boolean;
  /** With 200: verify the next Cred against the nonce just handed out (MDM-AUTH-009); false keeps the old one. */
  perMessageNonce: boolean;
  /** Challenge devices at all when credentials are configured; false takes every device unchallenged. */
  challengeClients: boolean;
  /** Refuse a Cred in another scheme than the one challenged for, even valid (MDM-AUTH-025, MDM-AUTH-026). */
  requireChallengedScheme: boolean;
  /** The scheme named in the Chal that comes with an acceptance; '' keeps the scheme authenticated with (MDM-AUTH-011). */
  schemeAfterAuthentication: CredScheme | '';
  /*
   * The server presenting its own credentials (only with `serverAuth`).
   */
  /** Send the refused message again, with Cred of the scheme and nonce the device's challenge names (MDM-AUTH-025). */
  answerDeviceChallenges: boolean;
  /** Make the Cred answering a challenge with the nonce the challenge gives (MDM-AUTH-022); false keeps the old nonce. */
  useChallengeNonce: boolean;
  /** After a 200 (not 212) the next message carries Cred again, made with the nonce of that Status (MDM-AUTH-009). */
  credentialsAfter200: boolean;
  /** Keep for the next session the nonce the device gave with its 212 (MDM-AUTH-010); false keeps the one last used. */
  nextNonceFrom212: boolean;
  /** Keep a nonce for the next session only from a device this session authenticated (MDM-AUTH-023). */
  nextNonceOnlyFromAuthenticated: boolean;
  /** Present this scheme whatever the configuration and the device ask for ('' as configured; MDM-AUTH-031). */
  presentScheme: CredScheme | '';
  /** Hash the nonce's base64 text instead of its bytes in the server's own digest (MDM-AUTH-016). */
  serverMd5OverNonceText: boolean;
  /** Leave the user id out of the server's own credentials: B64(password) for basic, B64(MD5(password)) inside md5 (MDM-AUTH-014, -015). */
  serverCredWithoutUserId: boolean;
  /** Answer the device's Alert 1222 with a Status, as every other Alert (MDM-LO-006). */
  statusFor1222: boolean;
  /** Repeat the command's Meta and the Item's Target on every chunk of a large object (MDM-LO-016, a SHOULD). */
  repeatChunkAddressing: boolean;
  /**
   * Put queued commands that each fit a message into the current one even past the device's MaxMsgSize; only items
   * larger than a message are chunked (the MDM-LO-019 fault; false keeps every message within MaxMsgSize).
   */
  fillPastMaxMsgSize: boolean;
  /**
   * Hold back a command that fits no message of the device's MaxMsgSize and cannot go in chunks (several Items, or
   * none with Data): a command is never split across messages (MDM-LO-022); false sends it whole anyway.
   */
  holdBackUnfittingCommands: boolean;
  /** Answer a device upload interrupted before its last chunk with Alert 1225 naming it (MDM-LO-014). */
  alertInterruptedUpload: boolean;
  /**
   * Read ./DevDetail/LrgObj before the first object the device's MaxMsgSize forces into chunks, and chunk only for a
   * device that reads true (MDM-LO-019, a SHOULD); false chunks for any device.
   */
  checkLrgObj: boolean;
  /** Answer an alert code MS-MDM does not use with 406 (MDM-ROB-001); false answers it 200 as if it were understood. */
  refuseUnknownAlerts: boolean;
  /** Answer a generic alert whose Format is no OMA DM format with 415 (MDM-ROB-008); false answers it 200. */
  refuseUnsupportedGenericAlerts: boolean;
  /** Answer client alerts (1224, 1226) that come after package 1 (MDM-STS-005, MDM-SES-011); false answers only package 1's. */
  statusForLaterAlerts: boolean;
  /**
   * Hold user-scoped commands (`./User/…`, `./user/…`) back, with everything queued after them, until a session whose
   * package 1 reported LoginStatus `user` (MDM-SES-019); false sends them whoever is signed in.
   */
  holdUserScopeWithoutUser: boolean;
  /** Open package 2 with an Alert 1201 of the server's own, as a SyncML DS server answers a sync alert (never right: MDM-SES-007). */
  echoSessionAlert: boolean;
  /** Answer a session opened with Alert 1200 like one opened with 1201 (MDM-SES-008); false answers 1200 with 406. */
  acceptAlert1200: boolean;
  /** Take Windows' `<Cmd>` in Results (A-05, MDM-ROB-005); false refuses such a Results with 400, as a strict DTD reading does. */
  acceptCmdInResults: boolean;
  /*
   * Tools of the client-under-test scenarios. Each default is the conforming behaviour; the non-default values
   * are what a scenario needs a server to do to see the client react (some are deliberately wrong).
   */
  /** Abort the session with Alert 1223 (and Final) in the server message with this MsgID; 0 never (MDM-TERM-005). */
  abortInMessage: number;
  /** Send an Item whose Data is longer than this many bytes as a large object, in chunks of at most this size, even
   *  when the device advertised no MaxMsgSize; 0 leaves it to the device's MaxMsgSize (MDM-LO-009). */
  chunkBytes: number;
  /** Declare the Size of a chunked object off by this many bytes: the device must answer 424 (MDM-LO-012). */
  chunkSizeError: number;
  /** After the first chunk, send the next queued command instead of the rest of the object (MDM-LO-014). */
  interruptChunkedObject: boolean;
  /** MaxMsgSize advertised in the server's own SyncHdr Meta, as Intune does; 0 none (MDM-HDR-013). */
  advertiseMaxMsgSize: number;
  /** Send an authentication-failure reply with a RespURI for the device's next message (MDM-HDR-016). */
  respUriOnAuthFailure: boolean;
  /** Present no credentials until the device challenges (a device that requires them must not answer an empty message: MDM-AUTH-012). */
  withholdCredentials: boolean;
  /** Open the session with a Cred made from a nonce the device never handed out, to see it refused (MDM-AUTH-005, -022). */
  staleCredentials: boolean;
  /** Answer the device's challenge in this scheme instead of the one it asks for, to see the device end the session (MDM-AUTH-025). */
  answerChallengeScheme: CredScheme | '';
  /** MaxObjSize advertised in the server's own SyncHdr Meta: the device may send no larger object (MDM-LO-018); 0 none. */
  advertiseMaxObjSize: number;
}

export const CONFORMING_SERVER: ServerBehaviour = {
  statusForAlerts: true,
  statusForResults200: false,
  honourMaxMsgSize: true,
  chunkLargeObjects: true,
  nextMessageReplies: true,
  endsSession: true,
  stopAfter214: true,
  acceptAnyCredential: false,
  challenge407WhenMissing: true,
  trustAfter212: true,
  ackResultsChunks: true,
  honourMaxObjSize: true,
  sizeOnFirstChunkOnly: true,
  challengeWithChal: true,
  commandsInNextMessageReply: false,
  statusesOnlyOnAuthFailure: true,
  statusesOnlyAfterAbort: true,
  pullWithAlert1222: true,
  checkResultsSize: true,
  commandsBetweenChunks: false,
  checkProtocolVersion: true,
  renewNonce: true,
  nonceBytes: NONCE_BYTES,
  freshNonceOnChallenge: true,
  answerMalformedCommands: true,
  authenticatePerMessage: false,
  resultsMsgRef: 'as-sent',
  treat202AsAccepted: true,
  waitThroughKeepAlive: true,
  chunkInsideAtomic: false,
  refuseIncompleteItems: true,
  refsOnItemStatuses: true,
  cmdRefsAsSent: true,
  perMessageNonce: true,
  challengeClients: true,
  requireChallengedScheme: true,
  schemeAfterAuthentication: '',
  answerDeviceChallenges: true,
  useChallengeNonce: true,
  credentialsAfter200: true,
  nextNonceFrom212: true,
  nextNonceOnlyFromAuthenticated: true,
  presentScheme: '',
  serverMd5OverNonceText: false,
  serverCredWithoutUserId: false,
  statusFor1222: true,
  repeatChunkAddressing: true,
  fillPastMaxMsgSize: false,
  holdBackUnfittingCommands: true,
  alertInterruptedUpload: true,
  checkLrgObj: true,
  refuseUnknownAlerts: true,
  refuseUnsupportedGenericAlerts: true,
  statusForLaterAlerts: true,
  acceptCmdInResults: true,
  acceptAlert1200: true,
  echoSessionAlert: false,
  holdUserScopeWithoutUser: true,
  abortInMessage: 0,
  chunkBytes: 0,
  chunkSizeError: 0,
  interruptChunkedObject: false,
  advertiseMaxMsgSize: 0,
  respUriOnAuthFailure: false,
  withholdCredentials: false,
  staleCredentials: false,
  answerChallengeScheme: '',
  advertiseMaxObjSize: 0,
};

export interface ServerSessionOptions {
  serverUrl: string;
  deviceId: string;
  sessionID: string;
  queue: CommandQueue;
  clientAuth?: ServerCredentialCheck;
  /** Credentials the server presents to the device (server-to-client authentication). */
  serverAuth?: ServerPresentedCredentials;
  behaviour?: Partial<ServerBehaviour>;
  /** Where nonces come from: the run's seeded generator, so a run repeats exactly. */
  rng?: Rng;
  /** What the server knows of the device's ./DevDetail/LrgObj from earlier sessions, and where it learns it. */
  largeObjects?: { known(): boolean | undefined; learned(takesThem: boolean): void };
  /**
   * The verdict of HMAC integrity on the message being received (OMA-DMS 5.4, MDM-AUTH-029), made where its bytes are
   * known; when it gives one, it stands in for the Cred check.
   */
  integrity?: () => IntegrityVerdict | undefined;
}

export interface SentCommand {
  msgID: string;
  command: Command;
}

export type ServerEvent =
  | { type: 'status'; msgRef: string; cmdRef: string; cmd?: string; code: string; answers?: SentCommand; status: Status }
  | { type: 'results'; msgRef: string; cmdRef: string; items: Item[]; answers?: SentCommand }
  | { type: 'alert'; code: string; items: Item[] }
  | { type: 'undeliverable'; command: Command; reason: string }
  | { type: 'auth'; outcome: 'challenged' | 'refused' | 'accepted'; code: string }
  /** The device's verdict on the server's own credentials (or its challenge of a server that presented none). */
  | { type: 'server-auth'; outcome: 'challenged' | 'accepted'; code: string; scheme?: string; nonce?: string }
  | { type: 'version-refused'; code: string; declared: string };

const KNOWN_ALERTS = new Set(['1200', '1201', '1222', '1223', '1224', '1225', '1226']);
/** Refusals of the server's own credentials in one session before it stops sending commands. */
const SERVER_CRED_ATTEMPTS = 2;
const isCredScheme = (t: string | undefined): t is CredScheme => t === AuthScheme.Basic || t === AuthScheme.Md5;
/** DevDetail's flag for large-object support (OMA-DMP 7). */
const LRG_OBJ = './DevDetail/LrgObj';
const SESSION_ALERTS = new Set(['1200', '1201']);
const CLIENT_EVENTS = new Set(['1224', '1226']);
/** The data formats of the OMA DM tree (catalogue 3.3): a generic alert in any other cannot be read (MDM-ROB-008). */
const OMA_FORMATS = new Set(['b64', 'bin', 'bool', 'chr', 'int', 'node', 'null', 'xml', 'date', 'time', 'float']);
const REQUEST_PENDING = 'Reversed-Domain-Name:com.microsoft.mdm.requestpending';
const LOGIN_STATUS = 'com.microsoft/MDM/LoginStatus';
const USER_SCOPE = /^\.\/[Uu]ser(\/|$)/;

/** A command (or a member of it) addressing the user scope (WOMA: `./user/…`; CSP docs: `./User/…`). */
function userScoped(c: Command): boolean {
  if (c.kind === 'Atomic' || c.kind === 'Sequence') return c.commands.some(userScoped);
  return 'items' in c && c.kind !== 'Status' && c.kind !== 'Results' && c.items.some((i) => USER_SCOPE.test(i.target?.locURI?.trim() ?? ''));
}
const DEVICE_ORIGINATED = new Set(['Alert', 'Replace', 'Results', 'Status']);

export class ServerSession {
  private msgID = 0;
  private readonly behaviour: ServerBehaviour;
  private readonly sent = new Map<string, SentCommand>();
  private deviceMaxMsgSize: number | undefined;
  private deviceMaxObjSize: number | undefined;
  private upload: { assembly: ChunkAssembly; results: Results; msgRef: string } | undefined;
  /** A large object going out in chunks; `container` is the Atomic sent around its first chunk (a fault). */
  private download: { command: Command & { items: Item[] }; rest: string; first: boolean; container?: Command } | undefined;
  /** Commands to send again in the next package (a server that takes 202 for a failure), and the copies already re-sent. */
  private readonly retries: Command[] = [];
  private readonly resent = new WeakSet<Command>();
  private authenticated = false;
  /** Whether this session asked for ./DevDetail/LrgObj (asked once: no usable answer means no large objects). */
  private askedLrgObj = false;
  /** What the device's ./DevDetail/LrgObj read in this session. */
  private lrgObj: boolean | undefined;
  private nonce: string | undefined;
  private stopped = false;
  /** The server's own credentials: whether the next message carries them, in which scheme, made with which nonce. */
  private presentCred = false;
  private presentScheme: CredScheme | undefined;
  private presentNonce: string | undefined;
  private presentRefusals = 0;
  /** The device refused the server's credentials for good: no more commands go out. */
  private presentGaveUp = false;
  /** Whether the last message carried the server's Cred. */
  private sentCred = false;
  /** What the last message carried, sent again when the device refuses the server's credentials. */
  private lastCommands: Command[] = [];
  private lastDownload: Command | undefined;
  private lastChunk: { msgID: number; whole: Command; copy: Command } | undefined;
  /** A nonce the device handed for the server's next session, kept once the device is known to be authenticated. */
  private handedNextNonce: string | undefined;
  /** The device's credentials were accepted in this session (or none are required). */
  private deviceTrusted = false;
  /** What package 1's LoginStatus alert reported (MDM-CMD-ALT-009): `user`, `others`, `none`, or nothing. */
  private loginStatus: string | undefined;
  /** 'closing' once a Status-only package with Final went out; 'aborted' after Alert 1223. */
  state: 'open' | 'closing' | 'aborted' = 'open';
  readonly events: ServerEvent[] = [];

  constructor(private readonly opts: ServerSessionOptions) {
    this.behaviour = { ...CONFORMING_SERVER, ...opts.behaviour };
    this.nonce = opts.clientAuth?.nonce;
    const presented = opts.serverAuth;
    if (presented) {
      this.presentScheme = this.behaviour.presentScheme || presented.scheme;
      this.presentNonce = this.behaviour.staleCredentials ? newNonce(NONCE_BYTES, opts.rng) : presented.nonce;
      // Basic needs no nonce; md5 waits for one, handed in an earlier session or by the device's challenge.
      this.presentCred = !this.behaviour.withholdCredentials && (this.presentScheme !== AuthScheme.Md5 || this.presentNonce !== undefined);
    }
  }

  receive(device: SyncML): SyncML {
    const reply = this.reply(device);
    this.remembersLast(reply);
    return reply;
  }

  private reply(device: SyncML): SyncML {
    const deviceMsgID = device.hdr.msgID?.trim() ?? '';
    const version = this.behaviour.checkProtocolVersion ? unsupportedVersion(device, SERVER_VERSIONS) : undefined;
    if (version) return this.refuseVersion(device, deviceMsgID, version);
    this.readLimits(device.hdr);
    this.readDeviceVerdict(device);
    const auth = this.authenticate(device.hdr);
    this.keepHandedNonce(auth.ok);
    const assembler = this.assembler();
    const chalToSend = this.behaviour.challengeWithChal || auth.ok ? auth.chal : undefined;
    const hdrStatus = status({ msgRef: deviceMsgID, cmdRef: '0', cmd: 'SyncHdr', code: auth.code, chal: chalToSend });
    assembler.add(hdrStatus, { force: true });

    const answers = this.answer(device.body.commands, deviceMsgID, auth.ok ? undefined : { code: auth.code });
    for (const s of answers.statuses) assembler.add(s, { force: true });
    for (const a of answers.alerts) assembler.add(a, { force: true }); // MDM-LO-014: Alert 1225 for an abandoned upload

    if (!auth.ok) {
      if (!this.behaviour.statusesOnlyOnAuthFailure) assembler.add(get('./DevInfo/DmV'), { force: true });
      const refusal = assembler.build(true); // MDM-AUTH-007: statuses only
      if (this.behaviour.respUriOnAuthFailure) refusal.hdr.respURI = this.respURI(); // MDM-HDR-016
      return refusal;
    }
    if (answers.abort) {
      this.state = 'aborted'; // MDM-TERM-006: statuses only
      if (!this.behaviour.statusesOnlyAfterAbort) assembler.add(get('./DevInfo/DmV'), { force: true });
      return assembler.build(true);
    }
    if (this.msgID === this.behaviour.abortInMessage) {
      assembler.add(alert('1223'), { force: true }); // MDM-TERM-005: the aborting message carries Final
      this.state = 'aborted';
      return assembler.build(true);
    }
    if (answers.requestPending) {
      if (this.behaviour.waitThroughKeepAlive) return assembler.build(false); // MDM-CMD-ALT-016: keep waiting, no commands
      this.opts.queue.startPackage?.();
      return this.sendPackage(assembler); // the keep-alive taken for the device's whole answer
    }

    if (!device.body.final && this.behaviour.nextMessageReplies) {
      if (this.download) return this.sendPackage(assembler);
      if (this.behaviour.pullWithAlert1222) assembler.add(alert('1222'), { force: true }); // MDM-LO-004, MDM-LO-007: "Next Message"
      if (this.behaviour.commandsInNextMessageReply) assembler.add(get('./DevInfo/Lang'), { force: true });
      return this.finish(assembler, false);
    }
    this.opts.queue.startPackage?.();
    if (this.behaviour.echoSessionAlert && device.body.commands.some((c) => c.kind === 'Alert' && SESSION_ALERTS.has(codeOf(c) ?? ''))) {
      assembler.add(alert('1201'), { force: true });
    }
    return this.sendPackage(assembler);
  }

  // -------------------------------------------------------------------------------------------------------------

  /**
   * MDM-ROB-002: a message in a version the server does not speak is not processed. The SyncHdr Status carries
   * 505 or 513 and lists the supported version; every command gets the same code (nothing was executed, and the
   * device is owed a Status for each, MDM-STS-005); the session ends with this reply.
   */
  private refuseVersion(device: SyncML, msgRef: string, version: { code: string; supported: string; declared: string }): SyncML {
    const assembler = this.assembler();
    assembler.add(status({ msgRef, cmdRef: '0', cmd: 'SyncHdr', code: version.code, items: [item({ data: version.supported })] }), { force: true });
    for (const c of device.body.commands) {
      if (c.kind === 'Status') continue;
      assembler.add(status({ msgRef, cmdRef: c.cmdID ?? '', cmd: c.kind === 'Unknown' ? c.name : c.kind, code: version.code }), { force: true });
    }
    this.events.push({ type: 'version-refused', code: version.code, declared: version.declared });
    this.state = 'closing';
    return assembler.build(true);
  }

  private readLimits(hdr: SyncHdr): void {
    const maxMsg = Number(metaValue(hdr.meta, 'MaxMsgSize'));
    const maxObj = Number(metaValue(hdr.meta, 'MaxObjSize'));
    if (maxMsg > 0) this.deviceMaxMsgSize = maxMsg;
    if (maxObj > 0) this.deviceMaxObjSize = maxObj; // MDM-LO-018: binding for the rest of the session
  }

  private authenticate(hdr: SyncHdr): { ok: boolean; code: string; chal?: ReturnType<typeof chal> } {
    const mac = this.opts.integrity?.();
    if (mac) {
      if (mac.outcome) this.events.push({ type: 'auth', outcome: mac.outcome, code: mac.code });
      return mac;
    }
    const check = this.behaviour.challengeClients ? this.opts.clientAuth : undefined;
    if (!check || this.authenticated) return { ok: true, code: '200' };
    const challenge = () => {
      // MDM-AUTH-022: each challenge carries a fresh nonce
      if (this.behaviour.freshNonceOnChallenge || this.nonce === undefined) this.nonce = newNonce(this.behaviour.nonceBytes, this.opts.rng);
      return chal(check.scheme, check.scheme === AuthScheme.Md5 ? this.nonce : undefined);
    };
    if (!hdr.cred) {
      const code = this.behaviour.challenge407WhenMissing ? '407' : '401';
      this.events.push({ type: 'auth', outcome: 'challenged', code });
      return { ok: false, code, chal: challenge() }; // MDM-AUTH-004, MDM-AUTH-005
    }
    const scheme = metaValue(hdr.cred.meta, 'Type')?.trim();
    // MDM-AUTH-025: only the scheme challenged for (a server that takes any scheme verifies what it was given).
    const verifyAs = scheme === check.scheme || (!this.behaviour.requireChallengedScheme && isCredScheme(scheme)) ? scheme as CredScheme : undefined;
    const user = verifyAs === AuthScheme.Md5 ? hdr.source?.locName ?? '' : check.user; // MDM-AUTH-017
    const ok = this.behaviour.acceptAnyCredential || (
      verifyAs !== undefined && user === check.user &&
      verifyCredential({ scheme: verifyAs, data: hdr.cred.data?.text.trim() ?? '', user: check.user, password: check.password, nonce: this.nonceBytes() }));
    if (!ok) {
      this.events.push({ type: 'auth', outcome: 'refused', code: '401' });
      return { ok: false, code: '401', chal: challenge() };
    }
    // MDM-AUTH-019: renewed in every session for the next one
    const next = this.behaviour.renewNonce || this.nonce === undefined ? newNonce(this.behaviour.nonceBytes, this.opts.rng) : this.nonce;
    check.onNextNonce?.(next);
    // MDM-AUTH-011: the Chal that comes with the acceptance names the scheme the device authenticated with.
    const nextChal = check.scheme === AuthScheme.Md5 ? chal(this.behaviour.schemeAfterAuthentication || check.scheme, next) : undefined;
    if (this.behaviour.authenticatePerMessage) {
      // MDM-AUTH-009: 200, so the next message carries credentials again, made with the nonce of this Chal.
      if (this.behaviour.perMessageNonce) this.nonce = next;
      this.events.push({ type: 'auth', outcome: 'accepted', code: '200' });
      return { ok: true, code: '200', chal: nextChal };
    }
    this.authenticated = this.behaviour.trustAfter212;
    this.events.push({ type: 'auth', outcome: 'accepted', code: '212' });
    return { ok: true, code: '212', chal: nextChal };
  }

  /**
   * The device's Status for the server's SyncHdr, when the server presents credentials (OMA-DMP 9; OMA-DMS 5.3): 212
   * authenticates the server for the session and its Chal gives the nonce for the next one (MDM-AUTH-008, -010); 200
   * wants Cred again in the next message, made with the nonce of its Chal (MDM-AUTH-009); 401/407 is a challenge, and the
   * refused message goes again with Cred of the scheme and nonce it names (MDM-AUTH-022, MDM-AUTH-025).
   */
  private readDeviceVerdict(device: SyncML): void {
    if (this.msgID === 0) return;
    const hdr = device.body.commands.find((c): c is Status => c.kind === 'Status' && c.cmdRef?.trim() === '0');
    if (!hdr) return;
    const code = codeOf(hdr) ?? '';
    const type = metaValue(hdr.chal?.meta, 'Type')?.trim();
    const nonce = metaValue(hdr.chal?.meta, 'NextNonce')?.trim();
    const presented = this.opts.serverAuth;
    if (code === '212' && presented) {
      this.events.push({ type: 'server-auth', outcome: 'accepted', code, nonce });
      this.presentCred = false;
      this.presentRefusals = 0;
      if (nonce) this.handedNextNonce = this.behaviour.nextNonceFrom212 ? nonce : this.presentNonce ?? nonce;
      return;
    }
    if (code === '200' && presented && (this.sentCred || nonce)) {
      if (this.sentCred) this.events.push({ type: 'server-auth', outcome: 'accepted', code, nonce });
      if (nonce) this.presentNonce = this.handedNextNonce = nonce;
      // A 200 to an md5 Cred without a new nonce comes from a device that does not authenticate the server: Cred goes
      // no further. Basic has no nonce to give, so a 200 asks for it again as it is (MDM-AUTH-009).
      const notChecked = !nonce && this.presentScheme === AuthScheme.Md5;
      if (this.sentCred && (notChecked || !this.behaviour.credentialsAfter200)) this.presentCred = false;
      return;
    }
    if (code !== '401' && code !== '407') return;
    this.events.push({ type: 'server-auth', outcome: 'challenged', code, scheme: type, nonce });
    const refused = [...(this.lastDownload ? [this.lastDownload] : []), ...this.lastCommands];
    if (!presented || !this.behaviour.answerDeviceChallenges || ++this.presentRefusals > SERVER_CRED_ATTEMPTS) {
      const reason = !presented
        ? 'the device refused the server\'s SyncHdr (it requires server credentials, and none are configured)'
        : 'the device kept refusing the server\'s credentials';
      for (const command of refused) this.events.push({ type: 'undeliverable', command, reason });
      this.presentGaveUp = true;
      return;
    }
    const asked = this.behaviour.answerChallengeScheme || (isCredScheme(type) ? type : this.presentScheme);
    this.presentScheme = this.behaviour.presentScheme || asked;
    if (nonce && (this.behaviour.useChallengeNonce || this.presentNonce === undefined)) this.presentNonce = nonce;
    this.presentCred = true;
    if (this.lastDownload) this.download = undefined;
    if (refused.length) this.opts.queue.requeue?.(refused);
  }

  /**
   * A nonce for the server's next session is kept only from a device authenticated in this session: one from a device
   * whose credentials failed does not replace the nonce kept (MDM-AUTH-023).
   */
  private keepHandedNonce(deviceOk: boolean): void {
    const requiresCredentials = this.behaviour.challengeClients && !!this.opts.clientAuth;
    if (deviceOk && (!requiresCredentials || this.authenticated || this.events.some((e) => e.type === 'auth' && e.outcome === 'accepted'))) this.deviceTrusted = true;
    const nonce = this.handedNextNonce;
    if (!nonce || (!this.deviceTrusted && this.behaviour.nextNonceOnlyFromAuthenticated)) return;
    this.handedNextNonce = undefined;
    this.opts.serverAuth?.onNextNonce?.(nonce);
  }

  /** The server's own Cred for the next message, if it presents one (user id in Source/LocName for md5). */
  private serverCred(): Cred | undefined {
    const presented = this.opts.serverAuth;
    if (!presented || !this.presentCred || !this.presentScheme) return undefined;
    if (this.presentScheme === AuthScheme.Md5 && this.presentNonce === undefined) return undefined;
    return credentialFor(
      { scheme: this.presentScheme, user: presented.user, password: presented.password, nonce: this.presentNonce },
      { nonceAsText: this.behaviour.serverMd5OverNonceText, passwordOnly: this.behaviour.serverCredWithoutUserId },
    );
  }

  /** The commands of a message just built, for a re-send should the device refuse it. */
  private remembersLast(reply: SyncML): void {
    const chunk = this.lastChunk?.msgID === this.msgID ? this.lastChunk : undefined;
    this.lastDownload = chunk?.whole;
    this.lastCommands = reply.body.commands.filter((c) => c.kind !== 'Status' && c !== chunk?.copy && !(c.kind === 'Alert' && ['1222', '1223'].includes(codeOf(c) ?? '')));
  }

  /** Where the device sends its next message after an authentication failure: this session's own address. */
  private respURI(): string {
    const url = new URL(this.opts.serverUrl);
    url.searchParams.set('session', this.opts.sessionID);
    return url.toString();
  }

  private nonceBytes(): Uint8Array | undefined {
    try {
      return this.nonce === undefined ? undefined : decodeNonce(this.nonce);
    } catch {
      return undefined;
    }
  }

  /** Statuses owed for the device's commands, and what the message asks of the session. */
  private answer(commands: Command[], msgRef: string, authFailure: { code: string } | undefined) {
    const statuses: Status[] = [];
    const alerts: Command[] = [];
    let abort = false;
    let requestPending = false;
    // MDM-ID-004: CmdIDs need not start at 1 nor be contiguous; the faulty reading counts them up from the first.
    const first = Number(commands[0]?.cmdID);
    const cmdRefOf = (c: Command) => (this.behaviour.cmdRefsAsSent || !Number.isInteger(first) ? c.cmdID ?? '' : String(first + commands.indexOf(c)));
    const reply = (c: Command, cmd: string, code: string | number) => statuses.push(status({ msgRef, cmdRef: cmdRefOf(c), cmd, code }));
    for (const c of commands) {
      if (c.kind === 'Status') {
        this.record(c);
        continue;
      }
      if (this.upload && !this.continuesUpload(c)) {
        // MDM-LO-014: something else came before the last chunk; the object is abandoned, never taken.
        const { uri } = this.upload.assembly;
        this.upload = undefined;
        const aborting = c.kind === 'Alert' && codeOf(c) === '1223';
        if (this.behaviour.alertInterruptedUpload && !aborting) alerts.push(alert('1225', [item({ source: uri })]));
      }
      if (authFailure) {
        reply(c, c.kind === 'Unknown' ? c.name : c.kind, authFailure.code); // the Chal rides on the SyncHdr Status (3.7 E)
        continue;
      }
      if (c.kind === 'Unknown' || c.cmdID === undefined) {
        reply(c, c.kind === 'Unknown' ? c.name : c.kind, this.behaviour.answerMalformedCommands ? 400 : 200); // MDM-ROB-006
        continue;
      }
      if (c.kind === 'Results' && c.cmd !== undefined && !this.behaviour.acceptCmdInResults) {
        reply(c, 'Results', 400);
        continue;
      }
      if (c.kind === 'Results') {
        const code = this.takeResults(c, msgRef);
        if (code !== undefined) reply(c, 'Results', code);
        continue;
      }
      if (c.kind === 'Alert') {
        const code = codeOf(c) ?? '';
        if (!/^\d{4}$/.test(code)) {
          reply(c, 'Alert', this.behaviour.answerMalformedCommands ? 412 : 200); // MDM-ROB-006: an Alert lacking its code is incomplete
          continue;
        }
        this.events.push({ type: 'alert', code, items: c.items });
        const login = code === '1224' ? c.items.find((i) => metaValue(i.meta, 'Type') === LOGIN_STATUS) : undefined;
        if (login) this.loginStatus = login.data?.text.trim();
        if (code === '1223') abort = true;
        if (code === '1224' && c.items.some((i) => metaValue(i.meta, 'Type') === REQUEST_PENDING)) requestPending = true;
        const answered = this.behaviour.statusForAlerts && (code !== '1222' || this.behaviour.statusFor1222);
        if (!answered) continue;
        if (!this.behaviour.statusForLaterAlerts && CLIENT_EVENTS.has(code) && !commands.some((a) => a.kind === 'Alert' && SESSION_ALERTS.has(codeOf(a) ?? ''))) continue;
        reply(c, 'Alert', this.alertCode(c, code)); // MDM-STS-005, MDM-ROB-001, MDM-ROB-008, MDM-LO-006
        continue;
      }
      const incomplete = c.kind === 'Replace' && this.behaviour.refuseIncompleteItems ? c.items.map((it) => setsValueWithoutData(it, c)) : [];
      if (c.kind === 'Replace' && incomplete.some(Boolean)) {
        // MDM-XML-020: such an Item is malformed (412). Outcomes that differ get one Status per Item (MDM-STS-009).
        if (incomplete.every(Boolean)) reply(c, c.kind, 412);
        else {
          c.items.forEach((it, n) => statuses.push(status({
            msgRef, cmdRef: cmdRefOf(c), cmd: c.kind, code: incomplete[n] ? 412 : 200, ...(this.behaviour.refsOnItemStatuses ? itemRefs(it) : {}),
          })));
        }
        continue;
      }
      reply(c, c.kind, DEVICE_ORIGINATED.has(c.kind) ? 200 : 405); // MDM-STS-006; MDM-SES-005 forbids the rest
    }
    return { statuses, alerts, abort, requestPending };
  }

  /** The next chunk of the open upload: a one-Item Results naming the same node, or naming none. */
  private continuesUpload(c: Command): boolean {
    if (c.kind !== 'Results' || c.items.length !== 1) return false;
    const source = c.items[0].source?.locURI;
    return source === undefined || source.trim() === this.upload!.assembly.uri.trim();
  }

  /** 200 for an alert the server takes; 406 for a code it does not know (MDM-ROB-001); 415 for a generic alert in a format it cannot read (MDM-ROB-008). */
  private alertCode(c: Alert, code: string): number {
    if (!KNOWN_ALERTS.has(code)) return this.behaviour.refuseUnknownAlerts ? 406 : 200;
    if (code === '1200' && !this.behaviour.acceptAlert1200) return 406;
    if (code !== '1226' || !this.behaviour.refuseUnsupportedGenericAlerts) return 200;
    const unreadable = c.items.some((i) => {
      const format = metaValue(i.meta, 'Format');
      return format !== undefined && !OMA_FORMATS.has(format.trim());
    });
    return unreadable ? 415 : 200;
  }

  private record(s: Status): void {
    const msgRef = s.msgRef?.trim() ?? '';
    const cmdRef = s.cmdRef?.trim() ?? '';
    const code = codeOf(s) ?? '';
    if (cmdRef === '0') return;
    if (code === '214') this.stopped = this.behaviour.stopAfter214; // MDM-STS-024
    const answers = this.sent.get(`${msgRef}:${cmdRef}`);
    // MDM-STS-023: 202 is accepted for asynchronous completion; only a server that reads it as a failure tries again.
    if (code === '202' && !this.behaviour.treat202AsAccepted && answers && !this.resent.has(answers.command)) this.retries.push(answers.command);
    this.events.push({ type: 'status', msgRef, cmdRef, cmd: s.cmd, code, answers, status: s });
  }

  /** A Results (or one chunk of it): 213 per chunk, 424 on a size mismatch, no Status for 200 (MDM-STS-014, MDM-LO-021). */
  private takeResults(r: Results, msgRef: string): string | undefined {
    const it = r.items[0];
    const chunked = r.items.length === 1 && (it.moreData || this.upload !== undefined);
    if (!chunked) {
      const flag = r.items.find((i) => i.source?.locURI?.trim() === LRG_OBJ);
      if (flag) {
        this.lrgObj = flag.data?.text.trim().toLowerCase() === 'true'; // MDM-LO-019
        this.opts.largeObjects?.learned(this.lrgObj);
      }
      const answers = this.correlate(r);
      this.events.push({ type: 'results', msgRef: r.msgRef ?? '1', cmdRef: r.cmdRef ?? '1', items: r.items, answers });
      if (!answers) return '400'; // names no Get this session sent
      return this.behaviour.statusForResults200 ? '200' : undefined;
    }
    const uri = it.source?.locURI ?? '';
    if (!this.upload) {
      const size = metaValue(it.meta, 'Size') ?? metaValue(r.meta, 'Size');
      this.upload = { assembly: new ChunkAssembly(uri, size === undefined ? undefined : Number(size)), results: r, msgRef };
    }
    this.upload.assembly.append(it.data?.text ?? '');
    if (it.moreData) return this.behaviour.ackResultsChunks ? '213' : undefined;
    const { assembly, results } = this.upload;
    this.upload = undefined;
    if (!assembly.sizeMatches && this.behaviour.checkResultsSize) return '424'; // MDM-LO-012
    const whole = { ...structuredClone(it), data: { text: assembly.text } };
    const answers = this.correlate(results);
    this.events.push({ type: 'results', msgRef: results.msgRef ?? '1', cmdRef: results.cmdRef ?? '1', items: [whole], answers });
    if (!answers) return '400';
    return this.behaviour.statusForResults200 ? '200' : undefined;
  }

  /**
   * The Get a Results answers, by (MsgRef, CmdRef) in any earlier message of the session (MDM-RES-005): a Results
   * without MsgRef refers to message 1, without CmdRef to CmdID 1 (MDM-ID-007, MDM-ID-008).
   */
  private correlate(r: Results): SentCommand | undefined {
    const latest = String(this.msgID - 1); // the reply under construction already has its MsgID
    const reading = this.behaviour.resultsMsgRef;
    const msgRef = reading === 'ignored' ? latest : r.msgRef?.trim() ?? (reading === 'latest-when-missing' ? latest : '1');
    const found = this.sent.get(`${msgRef}:${r.cmdRef?.trim() ?? '1'}`);
    return found?.command.kind === 'Get' ? found : undefined;
  }

  /** A package: queued commands that fit (the rest wait, MDM-LO-005), large objects in chunks, else a close. */
  private sendPackage(assembler: MessageAssembler): SyncML {
    if (this.download && this.behaviour.interruptChunkedObject && !this.download.first) {
      this.events.push({ type: 'undeliverable', command: this.download.command, reason: 'the chunked object was interrupted on purpose (MDM-LO-014)' });
      this.download = undefined;
    }
    if (this.download) {
      this.continueDownload(assembler);
      if (this.download) {
        if (this.behaviour.commandsBetweenChunks) assembler.add(get('./DevInfo/DmV'), { force: true });
        return this.finish(assembler, false); // no Final while chunks remain
      }
    }
    if (!this.stopped && !this.presentGaveUp) this.addQueued(assembler);
    if (this.download) return this.finish(assembler, false);
    const hasCommands = assembler.added.some((c) => c.kind !== 'Status');
    if (!hasCommands) {
      if (!this.behaviour.endsSession) {
        assembler.add(get('./DevInfo/DmV'), { force: true });
        return this.finish(assembler, true);
      }
      this.state = 'closing'; // MDM-TERM-002: Status-only package with Final
    }
    return this.finish(assembler, true);
  }

  private addQueued(assembler: MessageAssembler): void {
    const { queue } = this.opts;
    for (let again = this.retries.shift(); again; again = this.retries.shift()) {
      const copy = assembler.add(again, { force: true });
      if (copy) this.resent.add(copy);
    }
    for (let next = queue.peek(); next; next = queue.peek()) {
      // MDM-SES-019: user configuration waits for a session in which the enrolled user is signed in.
      if (this.behaviour.holdUserScopeWithoutUser && this.loginStatus !== 'user' && userScoped(next)) return;
      const tooBigObject = this.objectTooLarge(next);
      if (tooBigObject) {
        queue.shift();
        this.events.push({ type: 'undeliverable', command: next, reason: tooBigObject });
        continue;
      }
      const force = !this.behaviour.honourMaxMsgSize || (this.behaviour.fillPastMaxMsgSize && assembler.sizeOf(next) <= (assembler.maxBytes ?? Infinity));
      if (!this.chunkedOnPurpose(next) && assembler.add(next, { force })) {
        queue.shift();
        continue;
      }
      const firstCommand = !assembler.added.some((c) => c.kind !== 'Status');
      if (!firstCommand) return; // does not fit: waits for the next package (MDM-LO-005)
      const takes = this.behaviour.chunkLargeObjects && this.chunkable(next) && !this.chunkedOnPurpose(next) ? this.deviceTakesLargeObjects() : true;
      if (takes === 'ask') {
        // MDM-LO-019: the object waits until the device said whether it takes large objects.
        assembler.add(get(LRG_OBJ), { force: true });
        this.askedLrgObj = true;
        return;
      }
      queue.shift();
      if (!takes) {
        this.events.push({ type: 'undeliverable', command: next, reason: `the device does not take large objects (${LRG_OBJ} is not true) and the ${next.kind} fits no message of its MaxMsgSize ${this.deviceMaxMsgSize}` });
        continue;
      }
      if (this.behaviour.chunkLargeObjects && this.startDownload(next, assembler)) return;
      if (!this.behaviour.holdBackUnfittingCommands) {
        assembler.add(next, { force: true }); // the MDM-LO-022 fault: a command that fits no message goes whole
        continue;
      }
      this.events.push({ type: 'undeliverable', command: next, reason: `a ${next.kind} of ${assembler.sizeOf(next)} bytes cannot fit the device's MaxMsgSize ${this.deviceMaxMsgSize}` });
    }
  }

  private objectTooLarge(c: Command): string | undefined {
    if (!this.behaviour.honourMaxObjSize || this.deviceMaxObjSize === undefined || (c.kind !== 'Add' && c.kind !== 'Replace')) return undefined;
    const size = Math.max(0, ...c.items.map((i) => byteLength(i.data?.text ?? '')));
    return size > this.deviceMaxObjSize ? `an object of ${size} bytes exceeds the device's MaxObjSize ${this.deviceMaxObjSize} (MDM-LO-018)` : undefined;
  }

  /** Whether the device takes chunked objects: known from its ./DevDetail/LrgObj, or 'ask' for it first (MDM-LO-019). */
  private deviceTakesLargeObjects(): boolean | 'ask' {
    if (!this.behaviour.checkLrgObj) return true;
    const known = this.lrgObj ?? this.opts.largeObjects?.known();
    if (known !== undefined) return known;
    return this.askedLrgObj ? false : 'ask';
  }

  /** An Add or Replace of one Item with Data: what a large object can carry. */
  private chunkable(c: Command): boolean {
    return (c.kind === 'Add' || c.kind === 'Replace') && c.items.length === 1 && !!c.items[0].data;
  }

  private chunkedOnPurpose(c: Command): boolean {
    const limit = this.behaviour.chunkBytes;
    if (!limit || (c.kind !== 'Add' && c.kind !== 'Replace') || c.items.length !== 1) return false;
    return byteLength(c.items[0].data?.text ?? '') > limit;
  }

  private startDownload(c: Command, assembler: MessageAssembler): boolean {
    const inner = this.behaviour.chunkInsideAtomic && c.kind === 'Atomic' && c.commands.length === 1 ? c.commands[0] : c;
    if ((inner.kind !== 'Add' && inner.kind !== 'Replace') || inner.items.length !== 1 || !inner.items[0].data) return false;
    this.download = { command: inner, rest: inner.items[0].data.text, first: true, container: inner === c ? undefined : c };
    if (this.continueDownload(assembler)) return true;
    this.download = undefined;
    return false;
  }

  /** Next chunk: MoreData on all but the last, Size only on the first, Meta and addressing repeated (MDM-LO-009..016). */
  private continueDownload(assembler: MessageAssembler): boolean {
    const d = this.download!;
    const total = byteLength(d.command.items[0].data!.text) + this.behaviour.chunkSizeError;
    const chunk = (text: string, more: boolean): Command => {
      const copy = structuredClone(d.command);
      const it = copy.items[0];
      if (!d.first && !this.behaviour.repeatChunkAddressing) {
        // The MDM-LO-016 fault: a continuation chunk carries its Data alone.
        if ('meta' in copy) delete copy.meta;
        delete it.meta;
        delete it.target;
      }
      if (d.first || !this.behaviour.sizeOnFirstChunkOnly) it.meta = { fields: [...(it.meta?.fields ?? []), { name: 'Size', value: String(total), attrs: { xmlns: 'syncml:metinf' } }] };
      it.data = { text };
      if (more) it.moreData = true;
      return copy;
    };
    const wrap = (c: Command): Command => (d.container?.kind === 'Atomic' && d.first ? { ...structuredClone(d.container), commands: [c] } : c);
    const budget = Math.min(assembler.room - assembler.sizeOf(wrap(chunk('', true))), this.behaviour.chunkBytes || Infinity);
    const text = budget > 0 ? prefixWithin(d.rest, budget) : '';
    if (!text) return false;
    const more = text.length < d.rest.length;
    const sent = assembler.add(wrap(chunk(text, more)), { force: true })!;
    this.remember(sent);
    this.lastChunk = { msgID: this.msgID, whole: d.command, copy: sent };
    d.rest = d.rest.slice(text.length);
    d.first = false;
    if (!more) this.download = undefined;
    return true;
  }

  private finish(assembler: MessageAssembler, final: boolean): SyncML {
    for (const c of assembler.added) if (c.kind !== 'Status') this.remember(c);
    return assembler.build(final);
  }

  private remember(c: Command): void {
    if (c.kind === 'Unknown' || c.cmdID === undefined) return;
    this.sent.set(`${this.msgID}:${c.cmdID}`, { msgID: String(this.msgID), command: c });
    if (c.kind === 'Atomic' || c.kind === 'Sequence') for (const m of c.commands) this.remember(m);
  }

  private assembler(): MessageAssembler {
    this.msgID++;
    const max = this.behaviour.honourMaxMsgSize ? this.deviceMaxMsgSize : undefined;
    const cred = this.serverCred();
    this.sentCred = cred !== undefined;
    const sourceName = cred && this.presentScheme === AuthScheme.Md5 ? this.opts.serverAuth!.user : undefined;
    const header = { sessionID: this.opts.sessionID, msgID: this.msgID, target: this.opts.deviceId, source: this.opts.serverUrl, cred, sourceName };
    const { advertiseMaxMsgSize, advertiseMaxObjSize } = this.behaviour;
    const advertised = advertiseMaxMsgSize || advertiseMaxObjSize ? meta({ maxMsgSize: advertiseMaxMsgSize || undefined, maxObjSize: advertiseMaxObjSize || undefined }) : undefined;
    return new MessageAssembler(advertised ? { ...header, meta: advertised } : header, max);
  }
}

/** An Item that sets a value with a Format other than null or node but carries no Data (MDM-XML-020). */
function setsValueWithoutData(it: Item, command: { meta?: Meta }): boolean {
  const format = itemMeta(it, command, 'Format');
  return format !== undefined && format !== 'null' && format !== 'node' && !it.data && !it.moreData;
}

/** The Item a per-Item Status answers, by its Target and Source (MDM-STS-009). */
function itemRefs(it: Item): { targetRefs: string[]; sourceRefs: string[] } {
  return { targetRefs: it.target?.locURI ? [it.target.locURI] : [], sourceRefs: it.source?.locURI ? [it.source.locURI] : [] };
}
