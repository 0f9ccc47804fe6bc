/**
 * The device side of one DM session, without I/O: `start()` gives package 1, `receive(serverMessage)` gives the
 * next message to POST, or undefined when the session has ended (catalogue 3.8, device state machine).
 *
 * It owns MsgID and CmdID numbering, the SyncHdr Status, package continuation (Alert 1222, Final only on the last
 * message of the device's package), large objects in both directions and the application-level auth retry.
 * What the commands do to the DM tree is the executor's business.
 */
import {
  alert, chal, codeOf, item, itemMeta, meta, metaValue, status, type Alert, type Command, type Item, type Results, type Status,
  type SyncML,
} from '../syncml';
import { MessageAssembler } from './assembler';
import { AuthScheme, NONCE_BYTES, verifyCredential, type AuthSchemeName } from './auth';
import { credentialFor, nonceBytes, type CredScheme } from './credentials';
import type { HmacKey } from './hmac-integrity';
import { byteLength, ChunkAssembly, prefixWithin } from './large-object';
import { DEVICE_VERSIONS, unsupportedVersion } from './version';

export type CommandExecutor = (commands: Command[], ctx: { msgRef: string }) => { statuses: Status[]; results: Results[] };

export interface DeviceCredentials {
  /** `syncml:auth-MAC`: HMAC integrity in the x-syncml-hmac header instead of a Cred (OMA-DMS 5.4). */
  scheme: CredScheme | typeof AuthScheme.Mac;
  user: string;
  password: string;
  /** Base64 nonce received in an earlier session (md5), used for credentials sent before any challenge. */
  nonce?: string;
}

/**
 * Credentials the device requires of the server: the server authenticates to the device at the DM layer (OMA-DMS 5.3;
 * w7 `CLIENT`, DMAcc `SRVCRED`, DIGEST on Windows: MDM-AUTH-031).
 */
export interface DeviceServerAuth {
  scheme: CredScheme;
  user: string;
  password: string;
  /** Nonce (base64) this device handed the server for this session, in a Status of the previous one (MDM-AUTH-020). */
  nonce?: string;
  /** Makes a nonce of this many octets for the server (the run's seeded generator: MDM-AUTH-021). */
  newNonce: (bytes: number) => string;
  /**
   * Take any credential of the right scheme that answers the device's challenge, unchecked: a device that only
   * collects what a server presents (to compare the secrets of two devices, MDM-AUTH-024).
   */
  acceptAny?: boolean;
}

export interface DeviceSessionOptions {
  deviceId: string;
  serverUrl: string;
  sessionID: string;
  /** 1201 client-initiated (default) or 1200 answering a server notification (MDM-CMD-ALT-001). */
  sessionAlert?: '1201' | '1200';
  /** Windows' LoginStatus alert in package 1 (MDM-CMD-ALT-009); false leaves it out. */
  loginStatus?: 'user' | 'others' | 'none' | false;
  /** The DevInfo nodes reported in package 1 (MDM-SES-002, MDM-SES-003). */
  devInfo: { uri: string; value: string }[];
  /** Further client alerts for package 1, e.g. a generic alert 1226. */
  extraAlerts?: Alert[];
  /**
   * How package 1 numbers its commands: the first CmdID (Windows uses 2) and how many numbers are left out after
   * each command. Any numbering without 0 and without repeats is allowed (MDM-ID-004).
   */
  cmdIDs?: { first: number; gap: number };
  /** Client alerts to add to the device's first response package after package 1 (MDM-CMD-ALT-007, MDM-SES-011). */
  laterAlerts?: Alert[];
  executor: CommandExecutor;
  /** Advertised in the device's SyncHdr Meta (MDM-HDR-014): the largest message the device accepts. */
  maxMsgSize?: number;
  /** Advertised MaxObjSize (MDM-LO-018). */
  maxObjSize?: number;
  /** Largest message the device sends: bigger packages span messages, bigger items go as large objects. */
  maxSendSize?: number;
  credentials?: DeviceCredentials;
  /** Credentials sent before any challenge (basic always can; md5 needs a nonce from an earlier session). */
  preemptiveAuth?: boolean;
  /** The server's credentials, which the device verifies in every session (server-to-client authentication). */
  serverAuth?: DeviceServerAuth;
  behaviour?: Partial<DeviceSessionBehaviour>;
  /** Abort with Alert 1223 (and Final) in the reply to the first server message carrying commands (MDM-TERM-005). */
  abortWhenCommanded?: boolean;
  /** Declare a large-object Size off by this many bytes, to see the receiver answer 424 (MDM-LO-012). */
  uploadSizeError?: number;
  /**
   * Before answering the first server package that carries commands, send this many request-pending keep-alives
   * (Alert 1224, no Final) as Windows does when its reply takes long (MDM-CMD-ALT-015, MDM-CMD-ALT-016).
   */
  keepAlives?: number;
  /**
   * After the first chunk of a large Results, abandon it and send what else is owed instead, to see the receiver
   * answer Alert 1225 (MDM-LO-014).
   */
  interruptUpload?: boolean;
}

/** The device's session behaviour; every default is the conforming one, a fault flips one knob. */
export interface DeviceSessionBehaviour {
  /** Send nothing when the reply would be the SyncHdr Status alone (MDM-TERM-001, MDM-STS-011). */
  silentWhenDone: boolean;
  /** Stop without a reply on Alert 1223 (MDM-TERM-007). */
  silentOnAbort: boolean;
  /** Keep the device's package open while the server's is (MDM-LO-002). */
  waitForServerPackage: boolean;
  /** Acknowledge chunks with 213 (MDM-LO-010). */
  ackChunks: boolean;
  /** Compare a reassembled object with its Size (MDM-LO-012). */
  checkChunkSize: boolean;
  /** Alert 1225 when a chunked object is interrupted (MDM-LO-014). */
  alertInterruptedObject: boolean;
  /** Re-send package 1 with credentials when challenged (MDM-AUTH-006). */
  answerChallenges: boolean;
  /** Hash the nonce's base64 text instead of its bytes (the mistake MDM-AUTH-016 warns about). */
  md5OverNonceText: boolean;
  /** Answer a server message in a version the device does not take with 505/513 instead of running it (MDM-ROB-002). */
  checkProtocolVersion: boolean;
  /*
   * Authentication of the server (only with `serverAuth`): the device is the authenticator.
   */
  /** Require the server's credentials before running its commands (MDM-AUTH-002); false runs them unauthenticated. */
  requireServerCredentials: boolean;
  /** Check the server's Cred against its credentials (MDM-AUTH-015); false takes any Cred of the scheme. */
  checkServerCredentials: boolean;
  /** Ask the server for this scheme instead of the configured one ('' as configured; Windows asks for md5: MDM-AUTH-031). */
  serverScheme: CredScheme | '';
  /** A 401/407 for the server's SyncHdr carries a Chal naming the scheme (MDM-AUTH-004). */
  challengeServerWithChal: boolean;
  /** 407 when the server sent no Cred, 401 when its Cred was refused (MDM-AUTH-005); false answers 401 to both. */
  challenge407WhenMissing: boolean;
  /** After a 212 the server needs no Cred for the rest of the session (MDM-AUTH-008); false challenges it again. */
  trustServerAfter212: boolean;
  /** Hand the server the nonce for its next session in a Chal with the 212 (MDM-AUTH-010, MDM-AUTH-020). */
  handNextNonce: boolean;
  /** Octets of each nonce handed to the server (MDM-AUTH-021: at least 16). */
  serverNonceBytes: number;
  /** Each refusal of the server's Cred carries a nonce never handed before (MDM-AUTH-022); false re-issues the current one. */
  freshNonceOnServerRefusal: boolean;
  /** A Cred in another scheme than the one asked for is refused and ends the session (MDM-AUTH-025). */
  requireChallengedScheme: boolean;
  /** Challenge a server message that has no command and no challenge either (the violation MDM-AUTH-012 forbids). */
  challengeEmptyMessages: boolean;
  /** Keep the nonce handed to the server for its next session, to check the Cred it opens that session with (MDM-AUTH-010). */
  rememberHandedNonce: boolean;
  /**
   * A conforming alternative to 212: accept the server's credentials with 200 and a fresh nonce, so that every server
   * message carries them again (MDM-AUTH-009).
   */
  acceptServerWith200: boolean;
  /*
   * Authentication of the device (only with `credentials`): the device presents its Cred.
   */
  /** Keep for the next session the nonce the server gave with its 212 (MDM-AUTH-010); false keeps the one of its challenge. */
  nextNonceFrom212: boolean;
  /** After a 200 (not 212) the next message carries the credentials again (MDM-AUTH-009). */
  credentialsAfter200: boolean;
  /** Keep a nonce for the next session only from a server it authenticated (MDM-AUTH-023); used by the device that runs sessions. */
  nextNonceOnlyFromAuthenticated: boolean;
  /** Answer a challenge in the scheme it names (MDM-AUTH-025); false answers in the configured scheme. */
  answerInChallengedScheme: boolean;
  /** Switch to this scheme once the server has accepted the credentials with 200 (the change MDM-AUTH-011 forbids). */
  schemeAfterAcceptance: CredScheme | '';
  /** Send the next message to the RespURI of an authentication-failure reply (MDM-HDR-016). */
  followRespURI: boolean;
  /** Present credentials in this scheme whatever is configured or asked for ('' as configured and asked). */
  forceScheme: CredScheme | '';
  /** Leave the user id out of the device's own credentials (MDM-AUTH-014, MDM-AUTH-015). */
  credentialsWithoutUserId: boolean;
  /** Ask for the rest of an unfinished server package with Alert 1222 when there is nothing else to send (MDM-LO-003). */
  pullWithAlert1222: boolean;
  /** Answer the server's Alert 1222 with a Status (MDM-LO-006). */
  statusFor1222: boolean;
  /** MoreData on every chunk but the last of an upload (MDM-LO-009); false leaves it off, so each chunk looks whole. */
  moreDataOnChunks: boolean;
  /** Apply a chunked object only once its last chunk arrived (MDM-LO-015); false writes each chunk as it comes. */
  atomicChunkedObjects: boolean;
  /** Send the chunks of an upload in consecutive messages with nothing between them (MDM-LO-013). */
  contiguousUploads: boolean;
  /**
   * A Results of several Items too large for one message goes whole (MDM-LO-022: only one Item's Data may span
   * messages); true spreads its Items over several messages, one Results each.
   */
  splitResultsOverMessages: boolean;
  /** Send no object larger than the MaxObjSize of the server's SyncHdr (MDM-LO-018); the Get is answered 413 instead. */
  honourServerMaxObjSize: boolean;
  /**
   * Close each response package with Final on its last message (MDM-TERM-004, MDM-SES-010). False never does, and
   * so, asked for the rest of a package it thinks complete, finds nothing to send and stops.
   */
  finalOnReplies: boolean;
  /** Ignore Meta in the server's SyncHdr, as Windows does (MDM-HDR-013); false refuses such a message with 400. */
  ignoreServerHeaderMeta: boolean;
  /**
   * Carry on when package 2 has no Status for the session alert, as Windows does with Intune (MDM-ROB-011); false
   * takes it for a broken session and answers every command of that package 500.
   */
  tolerateMissingAlertStatus: boolean;
  /** Abort every session with Alert 1223 once the server sends commands (MDM-TERM-005), as the abortWhenCommanded option does. */
  abortOnCommands: boolean;
}

export const CONFORMING_DEVICE_SESSION: DeviceSessionBehaviour = {
  silentWhenDone: true,
  silentOnAbort: true,
  waitForServerPackage: true,
  ackChunks: true,
  checkChunkSize: true,
  alertInterruptedObject: true,
  answerChallenges: true,
  md5OverNonceText: false,
  checkProtocolVersion: true,
  requireServerCredentials: true,
  checkServerCredentials: true,
  serverScheme: '',
  challengeServerWithChal: true,
  challenge407WhenMissing: true,
  trustServerAfter212: true,
  handNextNonce: true,
  serverNonceBytes: NONCE_BYTES,
  freshNonceOnServerRefusal: true,
  requireChallengedScheme: true,
  challengeEmptyMessages: false,
  rememberHandedNonce: true,
  acceptServerWith200: false,
  nextNonceFrom212: true,
  credentialsAfter200: true,
  nextNonceOnlyFromAuthenticated: true,
  answerInChallengedScheme: true,
  schemeAfterAcceptance: '',
  followRespURI: true,
  forceScheme: '',
  credentialsWithoutUserId: false,
  pullWithAlert1222: true,
  statusFor1222: true,
  moreDataOnChunks: true,
  atomicChunkedObjects: true,
  contiguousUploads: true,
  splitResultsOverMessages: false,
  honourServerMaxObjSize: true,
  finalOnReplies: true,
  ignoreServerHeaderMeta: true,
  tolerateMissingAlertStatus: true,
  abortOnCommands: false,
};

export type SessionEnd =
  | { reason: 'completed' }
  | { reason: 'aborted-by-server' }
  | { reason: 'aborted-by-device' }
  | { reason: 'auth-failed'; detail: string };

const AUTH_ATTEMPTS = 2;
const REQUEST_PENDING = 'Reversed-Domain-Name:com.microsoft.mdm.requestpending';
/** Challenges of the server's credentials in one session before the device gives up on it. */
const SERVER_AUTH_ATTEMPTS = 3;
const HDR = { cmdRef: '0', cmd: 'SyncHdr' };

/** Commands with the members of their Atomic and Sequence containers, in document order. */
function withMembers(commands: Command[]): Command[] {
  return commands.flatMap((c) => (c.kind === 'Atomic' || c.kind === 'Sequence' ? [c, ...withMembers(c.commands)] : [c]));
}

/** How the device met the server's credentials in one message. */
interface ServerVerdict {
  /** The Status for the server's SyncHdr. */
  hdr: Status;
  /** 401/407: the server's commands are not run, each is answered with this code. */
  refused?: '401' | '407';
  /** The session ends after this reply (a Cred in another scheme than asked for, or too many refusals). */
  end?: string;
}

export class DeviceSession {
  private msgID = 0;
  private ended: SessionEnd | undefined;
  /** Commands owed in the device's current package that did not fit in earlier messages. */
  private pending: Command[] = [];
  /** A Results item being uploaded in chunks. */
  private upload: { results: Results; item: Item; rest: string; first: boolean } | undefined;
  /** An object being received in chunks from the server. */
  private download: { assembly: ChunkAssembly; command: Command; written?: boolean } | undefined;
  /** The MaxObjSize of the server's SyncHdr, binding until the server sends another (MDM-LO-018). */
  private serverMaxObjSize: number | undefined;
  /** Whether the one upload `interruptUpload` abandons has been abandoned. */
  private uploadInterrupted = false;
  private authAttempts = 0;
  private laterAlertsSent = false;
  /** The session alert of the last package 1 sent, until the reply to it came (MDM-ROB-011). */
  private sessionAlertRef: { msgID: string; cmdID: string } | undefined;
  private sendCred = false;
  private nonce: string | undefined;
  private scheme: AuthSchemeName | undefined;
  private keepAlivesLeft: number;
  /** Whether the server's package was closed when the device answered it with a keep-alive instead of its reply. */
  private closedBeforeKeepAlive: boolean | undefined;
  /** RespURI of the last server message: where the next message goes (MDM-HDR-016). */
  respURI: string | undefined;
  /** Nonce the server handed over for the next session: with 212 (MDM-AUTH-010), or the last one it gave. */
  nextSessionNonce: string | undefined;
  /** Nonce the device handed the server for its next session (with 212, or with the last 200: MDM-AUTH-020). */
  serverNonceForNextSession: string | undefined;
  /** The server's credentials were accepted in this session (212 or 200). */
  serverTrusted = false;
  private serverAuthenticated = false;
  /** The nonce the server's next Cred must be made with. */
  private serverNonce: string | undefined;
  private serverChallenges = 0;
  private serverChallenged = false;
  private readonly behaviour: DeviceSessionBehaviour;

  constructor(private readonly opts: DeviceSessionOptions) {
    this.behaviour = { ...CONFORMING_DEVICE_SESSION, ...opts.behaviour };
    this.keepAlivesLeft = opts.keepAlives ?? 0;
    this.nonce = opts.credentials?.nonce;
    this.scheme = opts.credentials?.scheme;
    this.sendCred = !!opts.credentials && !!opts.preemptiveAuth && (opts.credentials.scheme === 'syncml:auth-basic' || !!this.nonce);
    this.serverNonce = opts.serverAuth?.nonce;
  }

  get end(): SessionEnd | undefined {
    return this.ended;
  }

  /**
   * What the message just built is to be signed with when HMAC is in use (MDM-AUTH-027..029): the device's user and
   * secret and the nonce of the server's last Chal; undefined when the device authenticates otherwise or not at all.
   */
  integrity(): HmacKey | undefined {
    const c = this.opts.credentials;
    const scheme = this.behaviour.forceScheme || this.scheme;
    return c && this.sendCred && scheme === AuthScheme.Mac && this.nonce !== undefined ? { user: c.user, password: c.password, nonce: this.nonce } : undefined;
  }

  /** Package 1 (OMA-DMP 8.3; Windows shape, catalogue 3.11): session alert, LoginStatus, DevInfo Replace, Final. */
  start(): SyncML {
    return this.package1([]);
  }

  receive(server: SyncML): SyncML | undefined {
    if (this.ended) return undefined;
    this.respURI = this.behaviour.followRespURI ? server.hdr.respURI : undefined;
    const serverMsgID = server.hdr.msgID?.trim() ?? '';
    const commands = server.body.commands;
    const verdict = this.judgeServer(server, serverMsgID);
    const hdrStatus = verdict.hdr;

    const version = this.behaviour.checkProtocolVersion ? unsupportedVersion(server, DEVICE_VERSIONS) : undefined;
    const refusesMeta = !this.behaviour.ignoreServerHeaderMeta && !!server.hdr.meta?.fields.length && commands.some((c) => c.kind !== 'Status');
    const headerMeta = refusesMeta ? { code: '400', supported: 'no Meta in a SyncHdr' } : undefined;
    const refused = version ?? headerMeta;
    if (refused) {
      // MDM-ROB-002: nothing of the message is run; the header Status names the version taken, and every command
      // is answered with the same code (MDM-STS-004). A device that will not read Meta in a server's header does the
      // same with 400 (the mistake MDM-HDR-013 rules out).
      const refusal = status({ msgRef: serverMsgID, ...HDR, code: refused.code, items: [item({ data: refused.supported })] });
      const owed = commands
        .filter((c) => c.kind !== 'Status' && c.kind !== 'Results')
        .map((c) => status({ msgRef: serverMsgID, cmdRef: c.cmdID ?? '', cmd: c.kind === 'Unknown' ? c.name : c.kind, code: refused.code }));
      this.pending = [...owed, ...this.pending];
      return this.compose(refusal, true);
    }

    if (commands.some((c) => c.kind === 'Alert' && codeOf(c) === '1223')) {
      this.ended = { reason: 'aborted-by-server' }; // MDM-TERM-007: no reply
      if (!this.behaviour.silentOnAbort) return this.compose(hdrStatus, true);
      return undefined;
    }

    const challenge = this.readHeaderStatus(commands);
    if (challenge === 'give-up') return undefined;
    if (verdict.end) this.ended = { reason: 'auth-failed', detail: verdict.end };
    if (challenge) return this.package1([hdrStatus]);

    if (verdict.refused) {
      // The server is not authenticated: none of its commands is run; each gets the refusal (as MDM-AUTH-007 has it
      // for a server), and the server sends them again with credentials.
      const refusals = withMembers(commands.filter((c) => c.kind !== 'Status' && c.kind !== 'Results'))
        .map((c) => status({ msgRef: serverMsgID, cmdRef: c.cmdID ?? '', cmd: c.kind === 'Unknown' ? c.name : c.kind, code: verdict.refused! }));
      this.pending = [...refusals, ...this.pending];
      return this.compose(hdrStatus, true);
    }
    if (verdict.end) return undefined;

    const opening = this.sessionAlertRef;
    this.sessionAlertRef = undefined;
    const alertUnanswered = opening && !commands.some((c) => c.kind === 'Status' && c.msgRef?.trim() === opening.msgID && c.cmdRef?.trim() === opening.cmdID);
    if (alertUnanswered && !this.behaviour.tolerateMissingAlertStatus) {
      this.pending = commands
        .filter((c) => c.kind !== 'Status' && c.kind !== 'Results')
        .map((c) => status({ msgRef: serverMsgID, cmdRef: c.cmdID ?? '', cmd: c.kind === 'Unknown' ? c.name : c.kind, code: 500 }));
      return this.compose(hdrStatus, true);
    }

    const maxObj = Number(metaValue(server.hdr.meta, 'MaxObjSize'));
    if (maxObj > 0) this.serverMaxObjSize = maxObj;
    let owed: Command[] = [];
    let nextMessageRequested = false;
    for (const command of commands) {
      if (command.kind === 'Status' || command.kind === 'Results') continue;
      if (command.kind === 'Alert' && codeOf(command) === '1222') {
        nextMessageRequested = true;
        if (this.behaviour.statusFor1222) owed.push(status({ msgRef: serverMsgID, cmdRef: command.cmdID ?? '', cmd: 'Alert', code: 200 })); // MDM-LO-006
        continue;
      }
      owed.push(...this.handle(command, serverMsgID));
    }
    if (this.behaviour.honourServerMaxObjSize) owed = this.withinServerMaxObjSize(owed);

    const continuingOwnPackage = this.pending.length > 0 || this.upload !== undefined;
    const serverCommands = commands.filter((c) => c.kind !== 'Status' && c.kind !== 'Results');
    const onlyNextMessage = serverCommands.length > 0 && serverCommands.every((c) => c.kind === 'Alert' && codeOf(c) === '1222');
    if (!this.behaviour.finalOnReplies && onlyNextMessage && !continuingOwnPackage) {
      this.ended = { reason: 'completed' }; // its package was complete in its own eyes, Final or not
      return undefined;
    }
    if (server.body.final && serverCommands.length === 0 && !continuingOwnPackage) {
      // MDM-TERM-001 / MDM-STS-011: the reply would hold only the SyncHdr Status, so nothing is sent.
      this.ended = { reason: 'completed' };
      if (!this.behaviour.silentWhenDone) return this.compose(hdrStatus, true);
      return undefined;
    }

    // Statuses first, then Results, as Windows lays them out (MDM-RES-007).
    // Answers to this message go ahead of anything still owed from earlier messages.
    const statuses = owed.filter((c) => c.kind !== 'Results');
    const results = owed.filter((c) => c.kind === 'Results');
    this.pending = [...statuses, ...this.pending, ...results];
    if (this.opts.laterAlerts?.length && !this.laterAlertsSent && serverCommands.length) {
      this.pending.push(...this.opts.laterAlerts); // new client alerts close package 3 (OMA-DMP 8.5)
      this.laterAlertsSent = true;
    }
    if ((this.opts.abortWhenCommanded || this.behaviour.abortOnCommands) && serverCommands.length) {
      this.pending.push(alert('1223')); // MDM-TERM-005: the aborting message carries Final
      this.ended = { reason: 'aborted-by-device' };
      return this.compose(hdrStatus, true);
    }
    // The server's package is closed when its message carries Final, or when it only asked for our next message.
    // After a keep-alive, the reply answers the package the keep-alive held off.
    const heldOff = this.closedBeforeKeepAlive;
    const serverPackageClosed = heldOff ?? (!!server.body.final || (continuingOwnPackage && nextMessageRequested) || !this.behaviour.waitForServerPackage);
    this.closedBeforeKeepAlive = undefined;
    if (this.keepAlivesLeft > 0 && serverPackageClosed && (serverCommands.length || heldOff !== undefined)) {
      this.keepAlivesLeft--;
      this.closedBeforeKeepAlive = serverPackageClosed;
      return this.keepAlive(hdrStatus);
    }
    return this.compose(hdrStatus, serverPackageClosed);
  }

  // -------------------------------------------------------------------------------------------------------------

  private package1(leading: Command[]): SyncML {
    const { sessionAlert = '1201', loginStatus = 'none', devInfo, extraAlerts = [], cmdIDs = { first: 2, gap: 0 } } = this.opts;
    const assembler = this.assembler(leading.length ? 1 : cmdIDs.first);
    const add = (c: Command) => {
      const numbered = assembler.add(c, { force: true });
      assembler.skip(cmdIDs.gap);
      return numbered;
    };
    leading.forEach(add);
    const opening = add(alert(sessionAlert));
    this.sessionAlertRef = { msgID: String(this.msgID), cmdID: opening?.cmdID ?? '' };
    if (loginStatus) add(alert('1224', [item({ type: 'com.microsoft/MDM/LoginStatus', data: loginStatus })]));
    extraAlerts.forEach(add);
    add({ kind: 'Replace', items: devInfo.map((n) => item({ source: n.uri, data: n.value })) });
    return assembler.build(true);
  }

  /**
   * The device as authenticator of the server (OMA-DMS 5.3): the server's SyncHdr Cred is checked against the
   * configured credentials and the nonce this device handed it. Accepted: 212 with the nonce for the server's next
   * session (MDM-AUTH-008, -010, -020), or 200 with the nonce for its next message (MDM-AUTH-009). Missing: 407, wrong:
   * 401, each with a Chal and a fresh nonce (MDM-AUTH-004, -005, -022) — but never for a message that holds neither a
   * command nor a challenge, since the server could not answer it (MDM-AUTH-012).
   */
  private judgeServer(server: SyncML, msgRef: string): ServerVerdict {
    const plain: ServerVerdict = { hdr: status({ msgRef, ...HDR, code: 200 }) };
    const configured = this.opts.serverAuth;
    if (!configured || !this.behaviour.requireServerCredentials) return plain;
    const auth = { ...configured, scheme: this.behaviour.serverScheme || configured.scheme };
    const cred = server.hdr.cred;
    if (this.serverAuthenticated && (this.behaviour.trustServerAfter212 || cred)) return plain; // MDM-AUTH-008
    if (!cred) {
      const commands = server.body.commands.some((c) => c.kind !== 'Status');
      const challengesUs = server.body.commands.some((c) => c.kind === 'Status' && c.cmdRef?.trim() === '0' && !!c.chal);
      if (!commands && !challengesUs && !this.behaviour.challengeEmptyMessages) return plain; // MDM-AUTH-012
      return this.challengeServer(msgRef, this.behaviour.challenge407WhenMissing ? '407' : '401');
    }
    const type = metaValue(cred.meta, 'Type')?.trim() ?? '';
    if (type !== auth.scheme && this.behaviour.requireChallengedScheme) {
      const answeredChallenge = this.serverChallenged;
      const refusal = this.challengeServer(msgRef, '401');
      // MDM-AUTH-025: a challenge answered in another scheme, even with valid credentials, ends the session.
      return answeredChallenge ? { ...refusal, end: `the server answered the ${auth.scheme} challenge with ${type || 'a Cred without Type'}` } : refusal;
    }
    const scheme = (type === AuthScheme.Basic || type === AuthScheme.Md5 ? type : auth.scheme) as CredScheme;
    const locName = server.hdr.source?.locName?.trim();
    const user = scheme === AuthScheme.Md5 && locName !== undefined ? locName : auth.user;
    const nonce = this.serverNonce === undefined ? undefined : nonceBytes(this.serverNonce);
    // A device that only collects what servers present takes whatever answers its own challenge, nothing before it.
    const ok = auth.acceptAny ? this.serverChallenged : !this.behaviour.checkServerCredentials || (user === auth.user
      && verifyCredential({ scheme, data: cred.data?.text.trim() ?? '', user: auth.user, password: auth.password, nonce }));
    if (!ok) return this.challengeServer(msgRef, '401');
    this.serverTrusted = true;
    this.serverChallenges = 0;
    const next = this.handNonce();
    const md5 = auth.scheme === AuthScheme.Md5;
    if (this.behaviour.acceptServerWith200) {
      this.serverNonce = this.serverNonceForNextSession = next;
      return { hdr: status({ msgRef, ...HDR, code: 200, chal: md5 ? chal(auth.scheme, next) : undefined }) };
    }
    this.serverAuthenticated = true;
    if (!md5 || !this.behaviour.handNextNonce) return { hdr: status({ msgRef, ...HDR, code: 212 }) };
    this.serverNonceForNextSession = next;
    return { hdr: status({ msgRef, ...HDR, code: 212, chal: chal(auth.scheme, next) }) };
  }

  private challengeServer(msgRef: string, code: '401' | '407'): ServerVerdict {
    const scheme = this.behaviour.serverScheme || this.opts.serverAuth!.scheme;
    this.serverChallenges++;
    const fresh = this.behaviour.freshNonceOnServerRefusal || this.serverNonce === undefined;
    if (fresh) this.serverNonce = this.handNonce();
    const md5 = scheme === AuthScheme.Md5;
    const challenge = this.behaviour.challengeServerWithChal ? chal(scheme, md5 ? this.serverNonce : undefined) : undefined;
    const verdict: ServerVerdict = { hdr: status({ msgRef, ...HDR, code, chal: challenge }), refused: code };
    this.serverChallenged = true;
    if (this.serverChallenges >= SERVER_AUTH_ATTEMPTS) verdict.end = `the server's credentials were refused ${this.serverChallenges} times`;
    return verdict;
  }

  private handNonce(): string {
    return this.opts.serverAuth!.newNonce(this.behaviour.serverNonceBytes);
  }

  /** Returns 'resend' to re-send package 1 with credentials, 'give-up' after repeated failure, else undefined. */
  private readHeaderStatus(commands: Command[]): 'resend' | 'give-up' | undefined {
    const hdr = commands.find((c): c is Status => c.kind === 'Status' && c.cmdRef?.trim() === '0');
    if (!hdr) return undefined;
    const code = codeOf(hdr);
    const chalMeta = hdr.chal?.meta;
    const offeredNonce = metaValue(chalMeta, 'NextNonce');
    if (code === '212') {
      this.sendCred = false; // MDM-AUTH-008: authenticated for the rest of the session
      if (offeredNonce) this.nextSessionNonce = this.behaviour.nextNonceFrom212 ? offeredNonce : this.nonce ?? offeredNonce; // MDM-AUTH-010
      return undefined;
    }
    if (code === '200') {
      // MDM-AUTH-009: credentials accepted for this message only; the next one carries them again.
      if (offeredNonce) this.nonce = this.nextSessionNonce = offeredNonce;
      if (this.sendCred && !this.behaviour.credentialsAfter200) this.sendCred = false;
      if (this.sendCred && this.behaviour.schemeAfterAcceptance) this.scheme = this.behaviour.schemeAfterAcceptance;
      return undefined;
    }
    if ((code === '401' || code === '407') && chalMeta && this.opts.credentials && this.behaviour.answerChallenges) {
      if (this.authAttempts >= AUTH_ATTEMPTS) {
        this.ended = { reason: 'auth-failed', detail: `server refused credentials ${this.authAttempts} times (status ${code})` };
        return 'give-up';
      }
      this.authAttempts++;
      if (this.behaviour.answerInChallengedScheme) this.scheme = (metaValue(chalMeta, 'Type')?.trim() as CredScheme | undefined) ?? this.scheme; // MDM-AUTH-025
      if (offeredNonce) this.nonce = offeredNonce;
      this.sendCred = true;
      return 'resend';
    }
    if (code === '401' || code === '407') {
      this.ended = { reason: 'auth-failed', detail: `server answered ${code} and the device has no credentials` };
      return 'give-up';
    }
    return undefined;
  }

  /** One server command: a chunk of a large object, or a command for the executor. */
  private handle(command: Command, msgRef: string): Command[] {
    const out: Command[] = [];
    const chunk = this.chunkOf(command);
    if (this.download && !(chunk && chunk.uri === this.download.assembly.uri)) {
      // MDM-LO-014: something else arrived before the last chunk; the object is abandoned, not applied.
      if (this.behaviour.alertInterruptedObject) out.push(alert('1225', [item({ target: this.download.assembly.uri })]));
      this.download = undefined;
    }
    if (chunk) {
      const ref = { msgRef, cmdRef: command.cmdID ?? '', cmd: command.kind };
      this.download ??= { assembly: new ChunkAssembly(chunk.uri, chunk.size), command };
      this.download.assembly.append(chunk.data);
      if (chunk.more) {
        if (!this.behaviour.atomicChunkedObjects) this.applySoFar(msgRef);
        return [...out, status({ ...ref, code: this.behaviour.ackChunks ? 213 : 200 })]; // MDM-LO-010
      }
      const { assembly, command: first } = this.download;
      this.download = undefined;
      if (!assembly.sizeMatches && this.behaviour.checkChunkSize) return [...out, status({ ...ref, code: 424 })]; // MDM-LO-012
      // MDM-LO-015: only now is the whole object applied.
      const whole = structuredClone(first) as Command & { items: Item[] };
      whole.cmdID = command.cmdID;
      whole.items[0].data = { text: assembly.text };
      delete whole.items[0].moreData;
      return [...out, ...this.execute(whole, msgRef)];
    }
    return [...out, ...this.execute(command, msgRef)];
  }

  private execute(command: Command, msgRef: string): Command[] {
    const { statuses, results } = this.opts.executor([command], { msgRef });
    return [...statuses, ...results];
  }

  /** The MDM-LO-015 fault: the object received so far is written at once, as a device without atomic chunks does. */
  private applySoFar(msgRef: string): void {
    const d = this.download!;
    if (d.command.kind !== 'Add' && d.command.kind !== 'Replace') return;
    const partial = structuredClone(d.command);
    partial.items[0].data = { text: d.assembly.text };
    delete partial.items[0].moreData;
    // The first write creates what an Add names; each later one overwrites it.
    const write: Command = d.written ? { ...partial, kind: 'Replace' } : partial;
    d.written = true;
    this.opts.executor([write], { msgRef });
  }

  /**
   * MDM-LO-018: an object larger than the server's MaxObjSize is not sent; its Get is answered 413 (the Results
   * would be larger than the recipient accepts) instead of 200 with Results.
   */
  private withinServerMaxObjSize(owed: Command[]): Command[] {
    const limit = this.serverMaxObjSize;
    if (limit === undefined) return owed;
    const tooLarge = owed.filter((c): c is Results => c.kind === 'Results' && c.items.some((it) => byteLength(it.data?.text ?? '') > limit));
    if (!tooLarge.length) return owed;
    const withheld = (s: Status) => tooLarge.some((r) => s.cmd === 'Get' && (s.msgRef ?? '').trim() === (r.msgRef ?? '').trim() && (s.cmdRef ?? '').trim() === (r.cmdRef ?? '').trim());
    return owed.filter((c) => !tooLarge.includes(c as Results)).map((c) => (c.kind === 'Status' && withheld(c) ? { ...c, data: { text: '413' } } : c));
  }

  private chunkOf(command: Command): { uri: string; data: string; more: boolean; size?: number } | undefined {
    if (command.kind !== 'Add' && command.kind !== 'Replace') return undefined;
    if (command.items.length !== 1) return undefined;
    const it = command.items[0];
    // a continuation chunk is known by its place in the message sequence; one that leaves out its Target
    // (a SHOULD, MDM-LO-016) still continues the open object.
    const open = this.download?.assembly.uri;
    const continuing = open !== undefined && (!it.target || it.target.locURI === open);
    const uri = continuing ? open : it.target?.locURI ?? '';
    if (!it.moreData && !continuing) return undefined;
    const size = itemMeta(it, command, 'Size');
    return { uri, data: it.data?.text ?? '', more: !!it.moreData, size: size === undefined ? undefined : Number(size) };
  }

  /** "Still working": the SyncHdr Status and a request-pending Alert 1224, without Final (MDM-CMD-ALT-015). */
  private keepAlive(hdrStatus: Status): SyncML {
    const assembler = this.assembler(1);
    assembler.add(hdrStatus, { force: true });
    assembler.add(alert('1224', [item({ type: REQUEST_PENDING, data: '1' })]), { force: true });
    return assembler.build(false);
  }

  /** Next message of the device's package: as much of what is owed as fits; Final only on the last one. */
  private compose(hdrStatus: Status, serverPackageClosed: boolean): SyncML {
    const assembler = this.assembler(1);
    assembler.add(hdrStatus, { force: true });
    while (this.pending[0]?.kind === 'Status' && assembler.add(this.pending[0])) this.pending.shift();
    const somethingElseOwed = this.pending.some((c) => c.kind !== 'Status');
    if (this.upload && !this.upload.first && this.opts.interruptUpload && !this.uploadInterrupted && somethingElseOwed) {
      // The scenario tool of MDM-LO-014: the rest of the object never comes; what else is owed goes instead.
      this.upload = undefined;
      this.uploadInterrupted = true;
    }
    if (this.upload && !this.behaviour.contiguousUploads) {
      // The MDM-LO-013 fault: the next owed command goes between two chunks of the object.
      const other = this.pending.findIndex((c) => c.kind !== 'Status');
      if (other >= 0 && assembler.add(this.pending[other])) this.pending.splice(other, 1);
    }
    this.continueUpload(assembler);
    while (this.pending.length && !this.upload) {
      const next = this.pending[0];
      if (assembler.add(next)) {
        this.pending.shift();
        continue;
      }
      if (next.kind === 'Results' && this.startUpload(next, assembler)) {
        this.pending.shift();
        continue;
      }
      if (next.kind === 'Results' && this.behaviour.splitResultsOverMessages && this.splitResults(next, assembler)) break;
      // Never stall on one big command: one that cannot go in chunks (MDM-LO-022: a command is never split across
      // messages) goes whole once nothing but Statuses is ahead of it.
      const chunkable = next.kind === 'Results' && next.items.length === 1 && !!next.items[0].data;
      if (assembler.count === 1 || (!chunkable && assembler.added.every((c) => c.kind === 'Status'))) {
        assembler.add(this.pending.shift()!, { force: true });
      }
      break;
    }
    if (!serverPackageClosed && assembler.added.every((c) => c.kind === 'Status') && this.behaviour.pullWithAlert1222) {
      // MDM-LO-003, MDM-LO-010: with nothing but statuses to say, pull the server's next message.
      assembler.add(alert('1222'), { force: true });
    }
    const packageDone = this.pending.length === 0 && !this.upload;
    return assembler.build(packageDone && serverPackageClosed && this.behaviour.finalOnReplies); // MDM-LO-001, MDM-LO-002
  }

  /**
   * The MDM-LO-022 fault: the Items of `results` that fit go out as a Results of their own; the rest stays owed,
   * under the same MsgRef and CmdRef, for the next message.
   */
  private splitResults(results: Results, assembler: MessageAssembler): boolean {
    let n = 0;
    while (n < results.items.length - 1 && assembler.sizeOf({ ...results, items: results.items.slice(0, n + 1) }) <= assembler.room) n++;
    if (n === 0) return false;
    assembler.add({ ...results, items: results.items.slice(0, n) }, { force: true });
    this.pending[0] = { ...results, items: results.items.slice(n) };
    return true;
  }

  /** First chunk of a Results item too large for one message (MDM-LO-009, MDM-LO-011, MDM-LO-020). */
  private startUpload(results: Results, assembler: MessageAssembler): boolean {
    if (results.items.length !== 1 || !results.items[0].data) return false;
    const whole = results.items[0];
    this.upload = { results, item: whole, rest: whole.data!.text, first: true };
    if (!this.continueUpload(assembler)) {
      this.upload = undefined;
      return false;
    }
    return true;
  }

  private continueUpload(assembler: MessageAssembler): boolean {
    const up = this.upload;
    if (!up) return false;
    const chunkItem = (data: string, more: boolean): Item => {
      const it: Item = structuredClone(up.item);
      if (up.first) {
        const size = byteLength(up.item.data!.text) + (this.opts.uploadSizeError ?? 0);
        it.meta = { fields: [...(it.meta?.fields ?? []), ...meta({ size })!.fields] };
      }
      it.data = { text: data };
      if (more) it.moreData = true;
      return it;
    };
    const shell: Results = { ...up.results, items: [chunkItem('', true)] };
    const budget = assembler.room - assembler.sizeOf(shell);
    if (budget <= 0) return false;
    const data = prefixWithin(up.rest, budget);
    if (!data) return false;
    const more = data.length < up.rest.length;
    assembler.add({ ...up.results, items: [chunkItem(data, more && this.behaviour.moreDataOnChunks)] }, { force: true });
    up.rest = up.rest.slice(data.length);
    up.first = false;
    if (!more) this.upload = undefined;
    return true;
  }

  private assembler(firstCmdID: number): MessageAssembler {
    this.msgID++;
    const { sessionID, serverUrl, deviceId, maxMsgSize, maxObjSize, maxSendSize, credentials } = this.opts;
    const scheme = this.behaviour.forceScheme || this.scheme;
    // An HMAC travels in the HTTP header, never in Cred (MDM-AUTH-027); its user is the Source LocName (MDM-AUTH-028).
    const mac = !!this.integrity();
    const cred = this.sendCred && credentials && scheme && scheme !== AuthScheme.Mac
      ? credentialFor({ ...credentials, scheme, nonce: this.nonce }, { nonceAsText: this.behaviour.md5OverNonceText, passwordOnly: this.behaviour.credentialsWithoutUserId })
      : undefined;
    return new MessageAssembler(
      {
        sessionID,
        msgID: this.msgID,
        target: serverUrl,
        source: deviceId,
        sourceName: cred || mac ? credentials!.user : undefined, // MDM-AUTH-017
        cred,
        meta: meta({ maxMsgSize, maxObjSize }),
      },
      maxSendSize,
      firstCmdID,
    );
  }
}
