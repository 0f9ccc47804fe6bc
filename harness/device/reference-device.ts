/**
 * The reference device: a Windows-like DM client that runs sessions against a server over HTTPS with mutual TLS,
 * driven by the sans-IO DeviceSession, executing commands on its DM tree, with switchable faults.
 *
 * It writes XML unless provisioned WBXML (`encoding`, MDM-TRN-006), reads replies in either encoding by their media
 * type, and signs every message with MS-Signature when told to (`signing`, DMClient RequireMessageSigning,
 * MDM-TRN-014).
 */
import { sessionFromTranscript, throttledBy } from '../checks/from-transcript';
import type { SessionView } from '../checks/session';
import type { Identity } from '../pki';
import { MS_SIGNATURE_HEADER, signMessage, type SigningIdentity } from '../pki/ms-signature';
import { AuthScheme, HMAC_HEADER, newNonce } from '../protocol/auth';
import { hmacHeaderFor, withMacInCred, type HmacKey } from '../protocol/hmac-integrity';
import type { CredScheme } from '../protocol/credentials';
import { encodeBody, mediaTypeOf, type SyncMLEncoding } from '../protocol/encoding';
import { DeviceSession, type DeviceCredentials, type DeviceSessionOptions, type SessionEnd } from '../protocol/device-session';
import { fetchLoopbackEntities } from '../protocol/external-entities';
import { behaviourOf, render, type WireOut } from '../protocol/fault';
import { seeded, type Rng } from '../protocol/random';
import { chal, status, type Alert, type Command, type ParsedSyncML, type SyncML } from '../syncml';
import { HttpsClient, Transcript, WINDOWS_DEVICE_HEADERS, type Exchange, type HeaderOverrides } from '../transport';
import { accountCredentials, provisionAccount } from './dm-account';
import { executeCommands, type SessionScope } from './execute';
import type { DeviceFault, ReferenceDeviceBehaviour } from './faults';
import { HWDEVID_URI, WINDOWS_PACKAGE_1, type Package1Shape } from './package1';
import { loadDefaultTree } from './profile';
import type { DmTree } from './tree';
import {
  isOldProtocol, numberedByPosition, refuseAll, sessionExtras, syncTypeAlert, WINDOWS_SESSION_BEHAVIOUR, withMsftExtensions,
  type SessionExtras, type WindowsSessionBehaviour,
} from './windows-session';

const DEVINFO = ['DevId', 'Man', 'Mod', 'DmV', 'Lang'];

/** How the device signs its messages once RequireMessageSigning is set (MDM-TRN-014). */
export interface MessageSigning {
  /** The PKCS#9 signing time of each signature; default the clock. */
  signingTime?: () => Date;
  /** Sign with this identity instead of the device's own (probes: a signature by another device's certificate). */
  identity?: SigningIdentity;
}

/** The server's credentials, as a device configured to authenticate its server keeps them (w7 `CLIENT`, DMAcc `SRVCRED`). */
export interface DeviceServerCredentials {
  scheme: CredScheme;
  user: string;
  password: string;
  /** The nonce this device handed the server in an earlier session (base64), for the server's first Cred. */
  nonce?: string;
  /** Take whatever Cred of the scheme the server presents, without checking it (to compare what servers present). */
  acceptAny?: boolean;
  /** Hand the server this nonce every time instead of fresh ones (to compare what a server presents to two devices). */
  fixedNonce?: string;
}

/** What a device keeps from one session to the next, as Windows keeps it in its DM account. */
export interface DeviceMemory {
  /** The last nonce the server gave for the device's credentials (MDM-AUTH-010, MDM-AUTH-022). */
  nonce?: string;
  /** The nonce the device handed the server for the server's next credentials (MDM-AUTH-010, MDM-AUTH-020). */
  serverNonce?: string;
  /** The number of the last session (MDM-HDR-006). */
  sessionCounter: number;
}

export interface ReferenceDeviceOptions {
  deviceId: string;
  /** Client certificate for mutual TLS; without it the device connects with none. */
  identity?: Identity;
  /** CA the server certificate must chain to. */
  serverCa?: string;
  tree?: DmTree;
  credentials?: DeviceCredentials;
  preemptiveAuth?: boolean;
  /** Require and verify the server's credentials in every session (server-to-client authentication). */
  serverCredentials?: DeviceServerCredentials;
  maxMsgSize?: number;
  maxObjSize?: number;
  maxSendSize?: number;
  faults?: readonly DeviceFault[];
  /** Per HTTP request. Default 5 000 ms. */
  timeoutMs?: number;
  /** A session still going after this many round trips is stopped. Default 25. */
  maxRounds?: number;
  /** Query Windows appends to the management URL (MS-MDM 2.1 note 1). */
  query?: string;
  /** Answer the first N top-level server commands with 214 (cancelled) instead of running them. */
  cancelCommands?: number;
  /** Abort with Alert 1223 in the reply to the first server package that carries commands. */
  abortOnCommands?: boolean;
  /** Declare the Size of uploaded large objects off by this many bytes. */
  uploadSizeError?: number;
  /** Abandon a large Results after its first chunk and send what else is owed instead (MDM-LO-014). */
  interruptUpload?: boolean;
  /** Request-pending keep-alives sent before the reply to the first server package with commands (MDM-CMD-ALT-015). */
  keepAlives?: number;
  /**
   * How package 1 looks: CmdID numbering, LoginStatus alert, HWDevID item, session alert. Default: Windows' own
   * (WINDOWS_PACKAGE_1); server scenarios vary it by seed (varyPackage1).
   */
  package1?: Package1Shape;
  /**
   * Rewrites each outgoing body (robustness scenarios: pretty-printing, namespace artefacts). These are habits of XML
   * text: a rewritten message goes as XML whatever `encoding` says.
   */
  rewrite?: (xml: string) => string;
  /** Where the device's random choices (its first SessionID) come from; default the default seed's stream. */
  rng?: Rng;
  /** The longest wait for a Retry-After, so that a throttling server cannot stall a run. Default 5 000 ms. */
  throttleWaitMaxMs?: number;
  /** The session counter as a device that has run before keeps it: the next session is numbered one more. */
  sessionCounter?: number | SessionCounter;
  /** Offer h2 by ALPN, as Windows does, and speak it when the server picks it. Default false: HTTP/1.1. */
  http2?: boolean;
  /**
   * Send the device certificate in this request header (URL-encoded PEM, as nginx forwards it), for a server
   * behind a proxy that terminates TLS; use with an `http://` URL.
   */
  clientCertHeader?: string;
  /**
   * The encoding the device was provisioned with (DMAcc Ext/Microsoft/DefaultEncoding, MDM-TRN-006): `wbxml` sends
   * every message as WBXML in `application/vnd.syncml.dm+wbxml`. Default `xml`, as Windows with nothing configured.
   * Replies are read in the encoding their media type names, whichever this is.
   */
  encoding?: SyncMLEncoding;
  /**
   * Sign every message (DMClient RequireMessageSigning, MDM-TRN-014): an `MS-Signature` header over the exact body
   * sent, made with the device identity. A device without an identity cannot sign and sends none.
   */
  signing?: MessageSigning;
  /** Header values over Windows' for every message (probes: an Accept that names WBXML alone); `null` removes one. */
  headers?: HeaderOverrides;
  /**
   * An AVD multi-session host in multi-user mode: once the server set SyncApplicationVersion 5.0, each session
   * reports this SyncType in package 1 and takes only the settings of its scope (MS-MDM 3.2.5.1.5).
   */
  multiSession?: SessionScope;
  /**
   * While the device uses HMAC, hand the server a fresh nonce for its own mac in each Status for its SyncHdr (a Chal
   * of Type syncml:auth-MAC: OMA-DMS 5.4), so that the server's replies carry x-syncml-hmac too.
   */
  handServerHmacNonces?: boolean;
}

export interface SessionOptions {
  /** Client alerts for package 1, e.g. a generic alert 1226. */
  alerts?: Alert[];
  sessionAlert?: '1201' | '1200';
  loginStatus?: 'user' | 'others' | 'none' | false;
  /** This SessionID instead of the device's next one (MDM-ROB-007 probes other forms). */
  sessionID?: string;
  /** Client alerts sent with the device's first response package, after package 1 (MDM-CMD-ALT-007). */
  laterAlerts?: Alert[];
}

/**
 * How a session ended beyond the protocol's own ends. `empty-reply`: an HTTP 200 with an empty body where a package
 * belonged, which the device takes as the end (MDM-ROB-009) but which is no SyncML reply (MDM-TERM-003).
 * `crashed`: a device fault made the client die mid-session (a client under test exits with a signal then).
 */
export type DeviceRunEnd = SessionEnd | { reason: 'transport-error' | 'protocol-error' | 'empty-reply' | 'round-limit' | 'throttled' | 'crashed'; detail: string };

/** How often a throttled message is sent again before the device gives up for this session. */
const THROTTLE_RETRIES = 3;

/** Retry-After in milliseconds: delay-seconds or an HTTP-date (RFC 9110 10.2.3), at most `maxMs`. */
export function retryAfterMs(value: string, maxMs: number): number {
  const seconds = /^\d+$/.test(value.trim()) ? Number(value.trim()) : (Date.parse(value) - Date.now()) / 1000;
  return Math.max(0, Math.min(maxMs, Number.isFinite(seconds) ? seconds * 1000 : maxMs));
}

export interface DeviceRun {
  sessionID: string;
  exchanges: Exchange[];
  view: SessionView;
  end: DeviceRunEnd;
  rounds: number;
}

/** A session of the reference device driven step by step (see ReferenceDevice.openSession). */
export interface SteppedSession {
  readonly sessionID: string;
  /** The message the next `step` posts; undefined once the session has ended or the server stopped answering SyncML. */
  readonly next: SyncML | undefined;
  /** Exchanges of this session so far. */
  readonly exchanges: Exchange[];
  /** Posts `next` and feeds the reply to the session; undefined when there was nothing left to send. */
  step(): Promise<Exchange | undefined>;
}

/** A device's session counter, shared by the ReferenceDevice objects that play one device (as one Windows keeps one). */
export class SessionCounter {
  constructor(private value: number) {}

  /** The number of the last session. */
  get current(): number {
    return this.value;
  }

  /** Opaque, at most 4 bytes: a decimal counter, as Windows sends until SyncApplicationVersion 2.0 (MDM-SES-014). */
  next(): string {
    this.value = (this.value % 9999) + 1;
    return String(this.value);
  }
}

export class ReferenceDevice {
  readonly id: string;
  readonly tree: DmTree;
  readonly transcript = new Transcript();
  /** How this device's package 1 looks. */
  readonly package1Shape: Readonly<Package1Shape>;
  private readonly behaviour: Partial<ReferenceDeviceBehaviour>;
  private readonly client: HttpsClient;
  private readonly sessions: SessionCounter;
  private toCancel: number;
  private nonce: string | undefined;
  /** The nonce handed to the server for its next session's Cred (MDM-AUTH-010, MDM-AUTH-020). */
  serverNonce: string | undefined;
  private readonly nonceRng: Rng;
  private readonly windows: WindowsSessionBehaviour;
  /** What each session is like (SyncApplicationVersion, SyncType), fixed when it starts. */
  private readonly extras = new WeakMap<DeviceSession, SessionExtras>();
  private lastSession: { id: string; completed: boolean } | undefined;
  /** The HMAC key of each message about to go out (MDM-AUTH-027), and how many messages of a session carried one. */
  private readonly hmacKeys = new WeakMap<SyncML, HmacKey>();
  private readonly hmacSent = new WeakMap<DeviceSession, number>();
  /** The nonces handed to the server for its own macs, latest last (scenarios verify the server's headers with them). */
  readonly handedHmacNonces: string[] = [];

  constructor(private readonly opts: ReferenceDeviceOptions) {
    this.id = opts.deviceId;
    // Windows numbers sessions with a small decimal counter (MDM-SES-014, MDM-HDR-006); where it starts is seeded.
    const rng = opts.rng ?? seeded(undefined, 'device', opts.deviceId);
    const counter = opts.sessionCounter ?? rng.int(1, 200);
    this.sessions = counter instanceof SessionCounter ? counter : new SessionCounter(counter);
    this.nonceRng = rng.fork('server-nonces');
    this.serverNonce = opts.serverCredentials?.nonce;
    this.tree = opts.tree ?? loadDefaultTree(opts.deviceId);
    if (opts.credentials) provisionAccount(this.tree, opts.credentials);
    this.package1Shape = opts.package1 ?? WINDOWS_PACKAGE_1;
    this.behaviour = behaviourOf(opts.faults ?? []);
    this.windows = { ...WINDOWS_SESSION_BEHAVIOUR, ...this.behaviour };
    this.nonce = opts.credentials?.nonce;
    this.toCancel = opts.cancelCommands ?? 0;
    this.client = new HttpsClient({
      ca: opts.serverCa,
      identity: this.behaviour.presentClientCertificate === false ? undefined : opts.identity,
      rejectUnauthorized: this.behaviour.verifyServerCertificate ?? true,
      responseMs: opts.timeoutMs ?? 5_000,
      connectMs: opts.timeoutMs ?? 5_000,
      // Bytes trailing a response are added to its record whenever they come (before the session's checks run,
      // as the next round trip follows); waiting for them on every exchange would halve the session rate.
      trailingWindowMs: 0,
      transcript: this.transcript,
      http2: opts.http2,
      clientCertHeader: opts.clientCertHeader,
    });
  }

  /** What this device would keep for its next session (a device run one session per process saves it). */
  memory(): DeviceMemory {
    return { nonce: this.nonce, serverNonce: this.serverNonce, sessionCounter: this.sessions.current };
  }

  /** One DM session against `url`; never throws for anything the server does. */
  async runSession(url: string, opts: SessionOptions = {}): Promise<DeviceRun> {
    const sessionID = opts.sessionID ?? (this.behaviour.newSessionIdEverySession === false && this.lastSession?.completed ? this.lastSession.id : this.nextSessionID());
    const first = this.transcript.exchanges.length;
    const session = this.engine(url, sessionID, opts);
    let end: DeviceRunEnd | undefined;
    let next: SyncML | undefined = session.start();
    let rounds = 0;
    const maxRounds = this.opts.maxRounds ?? 25;
    while (next && !end) {
      if (rounds >= maxRounds) {
        end = { reason: 'round-limit', detail: `the server was still sending commands after ${maxRounds} round trips` };
        break;
      }
      rounds++;
      const exchange = await this.sendHonouringThrottle(session.respURI ?? url, this.outgoing(session, next), session.end !== undefined);
      if (throttledBy(exchange) !== undefined) {
        end = { reason: 'throttled', detail: `the server still throttled the device (HTTP ${exchange.response?.status}, Retry-After ${throttledBy(exchange)}) after ${THROTTLE_RETRIES} waits` };
        break;
      }
      if (exchange.error && !exchange.response?.parsed) {
        end = { reason: 'transport-error', detail: `${exchange.error.kind}: ${exchange.error.message}` };
        break;
      }
      const reply = exchange.response;
      if (reply?.status === 200 && reply.body.length === 0 && !session.end) {
        end = this.behaviour.endSessionOnEmptyReply === false
          ? { reason: 'crashed', detail: 'the empty HTTP 200 reply crashed the device' }
          : { reason: 'empty-reply', detail: 'the server answered HTTP 200 with an empty body; the device took it as the end of the session' };
        break;
      }
      const crashOn = this.behaviour.crashOnCommand;
      if (crashOn && reply?.parsed?.message.body.commands.some((c) => c.kind === crashOn)) {
        end = { reason: 'crashed', detail: `the device died on the server's ${crashOn}` };
        break;
      }
      if (!reply?.parsed) {
        if (this.behaviour.resolveExternalEntities && reply) await fetchLoopbackEntities(reply.body);
        if (session.end) break; // the device sent its last word; whatever came back ends nothing more
        const why = reply && reply.status !== 200 ? `HTTP ${reply.status}` : reply?.parseError?.message ?? 'empty body';
        end = { reason: 'protocol-error', detail: `the server's reply is not SyncML (${why})` };
        break;
      }
      this.reading(session, reply.parsed);
      next = session.receive(reply.parsed.message);
    }
    end ??= session.end ?? { reason: 'completed' };
    this.lastSession = { id: sessionID, completed: end.reason === 'completed' };
    // A nonce from a server this device could not authenticate does not replace the one it keeps (MDM-AUTH-023).
    const trusted = !this.opts.serverCredentials || session.serverTrusted || this.behaviour.nextNonceOnlyFromAuthenticated === false;
    if (session.nextSessionNonce && trusted) this.nonce = session.nextSessionNonce;
    if (session.serverNonceForNextSession && this.behaviour.rememberHandedNonce !== false) this.serverNonce = session.serverNonceForNextSession;
    const exchanges = this.transcript.exchanges.slice(first);
    return { sessionID, exchanges, view: sessionFromTranscript(exchanges, describe(end)), end, rounds };
  }

  /**
   * A session driven one round trip at a time, for scenarios that interleave devices or abandon a session half-way
   * (security probes, expiry of half-open sessions). `sessionID` picks the SessionID instead of the next one.
   */
  openSession(url: string, opts: SessionOptions = {}): SteppedSession {
    const sessionID = opts.sessionID ?? this.nextSessionID();
    const session = this.engine(url, sessionID, opts);
    let next: SyncML | undefined = session.start();
    const exchanges: Exchange[] = [];
    return {
      sessionID,
      exchanges,
      get next() {
        return next;
      },
      step: async () => {
        if (!next) return undefined;
        const exchange = await this.send(session.respURI ?? url, this.outgoing(session, next), session.end !== undefined);
        exchanges.push(exchange);
        const parsed = exchange.response?.parsed;
        if (parsed) this.reading(session, parsed);
        next = parsed ? session.receive(parsed.message) : undefined;
        return exchange;
      },
    };
  }

  private engine(url: string, sessionID: string, opts: SessionOptions): DeviceSession {
    const extras = sessionExtras(this.tree, this.opts.multiSession);
    const shape = this.package1Shape;
    // The credentials of the session are read from the DM account as it starts (MDM-AUTH-030).
    const credentials = this.opts.credentials && { ...this.opts.credentials, ...accountCredentials(this.tree), nonce: this.nonce };
    const session = new DeviceSession({
      deviceId: this.id,
      serverUrl: url,
      sessionID,
      sessionAlert: opts.sessionAlert ?? shape.sessionAlert,
      loginStatus: opts.loginStatus ?? (shape.loginStatus ? undefined : false),
      devInfo: this.devInfoItems(shape),
      extraAlerts: extras.scope ? [syncTypeAlert(extras.scope), ...(opts.alerts ?? [])] : opts.alerts,
      laterAlerts: opts.laterAlerts,
      cmdIDs: { first: shape.firstCmdID, gap: shape.cmdIDGap },
      executor: (commands, ctx) => this.executeWithAccount(commands, ctx.msgRef, extras, credentials),
      abortWhenCommanded: this.opts.abortOnCommands,
      uploadSizeError: this.opts.uploadSizeError,
      keepAlives: this.opts.keepAlives,
      interruptUpload: this.opts.interruptUpload,
      maxMsgSize: this.opts.maxMsgSize,
      maxObjSize: this.opts.maxObjSize,
      maxSendSize: this.opts.maxSendSize,
      credentials,
      preemptiveAuth: this.opts.preemptiveAuth,
      serverAuth: this.serverAuth(),
      behaviour: this.behaviour,
    });
    this.extras.set(session, extras);
    return session;
  }

  /** The server message the session is about to answer, and whether the device refuses what it says. */
  private reading(session: DeviceSession, parsed: ParsedSyncML): void {
    const extras = this.extras.get(session);
    if (!extras) return;
    extras.serverMessage = parsed.message;
    extras.refused = (this.windows.strictStatusChildOrder && parsed.deviations.some((d) => d.id === 'MDM-STS-001'))
      || (!this.windows.runOldProtocolCommands && isOldProtocol(parsed.message));
  }

  /** A message as this session sends it: with the `msft` extensions once SyncApplicationVersion is 3.0 or more. */
  private outgoing(session: DeviceSession, msg: SyncML): SyncML {
    const extras = this.extras.get(session);
    const out = extras ? withMsftExtensions(msg, extras, this.windows) : msg;
    return this.withIntegrity(session, out);
  }

  /**
   * HMAC integrity of one message (OMA-DMS 5.4): the key it is signed with when `send` encodes it, and, for a device
   * told to, a nonce for the server's own mac in the Status for its SyncHdr. The `hmacEveryMessage` fault stops after
   * the first message (MDM-AUTH-029).
   */
  private withIntegrity(session: DeviceSession, msg: SyncML): SyncML {
    const key = session.integrity();
    const sent = this.hmacSent.get(session) ?? 0;
    if (!key || (sent > 0 && this.behaviour.hmacEveryMessage === false)) return msg;
    this.hmacSent.set(session, sent + 1);
    let out = msg;
    const hdr = msg.body.commands.find((c) => c.kind === 'Status' && c.cmdRef?.trim() === '0');
    if (this.opts.handServerHmacNonces && hdr?.kind === 'Status' && !hdr.chal && ['200', '212'].includes(hdr.data?.text.trim() ?? '')) {
      const nonce = newNonce(undefined, this.nonceRng);
      this.handedHmacNonces.push(nonce);
      out = { ...msg, body: { ...msg.body, commands: msg.body.commands.map((c) => (c === hdr ? { ...hdr, chal: chal(AuthScheme.Mac, nonce) } : c)) } };
    }
    this.hmacKeys.set(out, key);
    return out;
  }

  /**
   * Sends a message; a throttling reply (HTTP 429 or 503 with Retry-After, MDM-TRN-022) is waited out and the same
   * message sent again, as Windows does (MDM-TRN-021), at most THROTTLE_RETRIES times and each wait bounded.
   */
  private async sendHonouringThrottle(url: string, msg: SyncML, closing: boolean): Promise<Exchange> {
    let exchange = await this.send(url, msg, closing);
    for (let i = 0; i < THROTTLE_RETRIES && throttledBy(exchange) !== undefined; i++) {
      const wait = this.behaviour.honourRetryAfter === false ? 0 : retryAfterMs(throttledBy(exchange)!, this.opts.throttleWaitMaxMs ?? 5_000);
      await new Promise((resolve) => setTimeout(resolve, wait));
      exchange = await this.send(url, msg, closing);
    }
    return exchange;
  }

  private serverAuth(): DeviceSessionOptions['serverAuth'] {
    const creds = this.opts.serverCredentials;
    if (!creds) return undefined;
    const { fixedNonce, ...rest } = creds;
    return { ...rest, nonce: this.serverNonce, newNonce: (bytes) => fixedNonce ?? newNonce(bytes, this.nonceRng) };
  }

  /**
   * Posts arbitrary bytes as this device (robustness scenarios); recorded like any exchange. A signing device signs
   * them too, as it signs everything it sends, so that a probe reaches whatever reads the body.
   */
  post(url: string, body: string | Uint8Array, headers: Record<string, string | null> = {}): Promise<Exchange> {
    const signed: HeaderOverrides = { ...this.opts.headers, ...headers };
    const signature = this.signatureFor(body);
    if (signature !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === MS_SIGNATURE_HEADER.toLowerCase())) signed[MS_SIGNATURE_HEADER] = signature;
    return this.client.post(this.withQuery(url), body, { headers: signed });
  }

  /** A Windows-shaped package 1 of a fresh session, for scenarios that send hand-varied messages. */
  package1(url: string): SyncML {
    const s = new DeviceSession({
      deviceId: this.id, serverUrl: url, sessionID: this.nextSessionID(), executor: () => ({ statuses: [], results: [] }),
      devInfo: DEVINFO.map((n) => ({ uri: `./DevInfo/${n}`, value: this.devInfo(n) })),
    });
    return s.start();
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  /**
   * Runs a server message's commands. A Replace of the account's AAuthName/AAuthSecret changes the tree, which the
   * next session reads; the session under way keeps its credentials (MDM-AUTH-030), unless the fault
   * `appliesCredentialChangeAtOnce` makes it take them at once.
   */
  private executeWithAccount(commands: Command[], msgRef: string, extras: SessionExtras, credentials: DeviceCredentials | undefined): ReturnType<typeof executeCommands> {
    const out = this.execute(commands, msgRef, extras);
    if (credentials && this.behaviour.appliesCredentialChangeAtOnce) Object.assign(credentials, accountCredentials(this.tree));
    return out;
  }

  private execute(commands: Command[], msgRef: string, extras?: SessionExtras): ReturnType<typeof executeCommands> {
    if (extras?.refused) return refuseAll(commands, msgRef);
    if (extras && this.windows.cmdRefsByPosition) commands = commands.map((c) => numberedByPosition(c, extras));
    if (this.toCancel > 0 && commands.length) {
      this.toCancel--;
      const c = commands[0];
      return { statuses: [status({ msgRef, cmdRef: c.cmdID ?? '', cmd: c.kind === 'Unknown' ? c.name : c.kind, code: 214 })], results: [] };
    }
    return executeCommands(this.tree, commands, { msgRef, behaviour: this.behaviour, sessionScope: extras?.scope });
  }

  private async send(url: string, msg: SyncML, closing: boolean): Promise<Exchange> {
    const encoding = this.opts.rewrite ? 'xml' : (this.opts.encoding ?? 'xml');
    const hmac = this.hmacKeys.get(msg);
    // The MDM-AUTH-027 fault: the mac in a Cred, made over the message without it.
    if (hmac && this.behaviour.hmacPlacement === 'cred') msg = withMacInCred(msg, hmac, (m) => encodeBody(render(m, this.opts.faults ?? []), encoding));
    const xml = render(msg, this.opts.faults ?? []);
    const out: WireOut = {
      headers: { ...WINDOWS_DEVICE_HEADERS, 'content-type': mediaTypeOf(encoding) },
      body: this.opts.rewrite ? this.opts.rewrite(xml) : encodeBody(xml, encoding),
    };
    for (const [name, value] of Object.entries(this.opts.headers ?? {})) {
      if (value === null) delete out.headers[name.toLowerCase()];
      else out.headers[name.toLowerCase()] = value;
    }
    for (const f of this.opts.faults ?? []) f.wire?.(out, { closing });
    if (hmac && this.behaviour.hmacPlacement !== 'cred') out.headers[HMAC_HEADER] = hmacHeaderFor(out.body, hmac, this.hmacUsername()); // MDM-AUTH-027, -028
    // Signed last, over the very bytes that go out (MDM-TRN-014).
    const signature = this.signatureFor(out.body);
    if (signature !== undefined) out.headers[MS_SIGNATURE_HEADER] = signature;
    // Every header is the message's own here: removing one that WINDOWS_DEVICE_HEADERS holds must reach the client.
    const headers: HeaderOverrides = { ...out.headers };
    for (const name of Object.keys(WINDOWS_DEVICE_HEADERS)) if (!(name in out.headers)) headers[name] = null;
    if (out.method && out.method !== 'POST') {
      return this.client.send(this.withQuery(url), { method: out.method, headers: Object.entries(out.headers).flat(), body: Buffer.from(out.body) });
    }
    return this.client.post(this.withQuery(url), out.body, { headers });
  }

  /**
   * The MS-Signature of a body, when the device signs: over the body itself, or (the `wrong-digest` fault) over
   * other bytes, so that the messageDigest does not match what was sent; none with the `none` fault.
   */
  private signatureFor(body: string | Uint8Array): string | undefined {
    const signing = this.opts.signing;
    const identity = signing?.identity ?? this.opts.identity;
    const mode = this.behaviour.messageSignature ?? 'valid';
    if (!signing || !identity || mode === 'none') return undefined;
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    const signed = mode === 'wrong-digest' ? Buffer.concat([bytes, Buffer.from(' ')]) : bytes;
    return signMessage(signed, identity, { signingTime: signing.signingTime?.() ?? new Date() });
  }

  /** The username of the device's x-syncml-hmac: its LocName, or what an MDM-AUTH-028 fault puts there. */
  private hmacUsername(): Parameters<typeof hmacHeaderFor>[2] {
    const mode = this.behaviour.hmacUsername ?? 'locName';
    return mode === 'device-id' ? { other: this.id } : mode;
  }

  private withQuery(url: string): string {
    const query = this.behaviour.appendWindowsQuery === false ? '' : this.opts.query ?? 'mode=Maintenance&Platform=WoA';
    if (!query) return url;
    return `${url}${url.includes('?') ? '&' : '?'}${query}`;
  }

  /** New per session, at most 4 bytes (MDM-HDR-004, MDM-HDR-006); other forms are MDM-ROB-007's probes. */
  private nextSessionID(): string {
    return this.sessions.next();
  }

  /** The DevInfo Replace of package 1: the five Windows nodes, and HWDevID when the shape adds it. */
  private devInfoItems(shape: Package1Shape): { uri: string; value: string }[] {
    const items = DEVINFO.map((n) => ({ uri: `./DevInfo/${n}`, value: this.devInfo(n) }));
    const hw = this.tree.get(HWDEVID_URI);
    if (shape.hwDevId && hw.ok) items.push({ uri: HWDEVID_URI, value: hw.data });
    return items;
  }

  private devInfo(name: string): string {
    const r = this.tree.get(`./DevInfo/${name}`);
    return r.ok ? r.data : '';
  }
}

function describe(end: DeviceRunEnd): string {
  return 'detail' in end ? `${end.reason}: ${end.detail}` : end.reason;
}
