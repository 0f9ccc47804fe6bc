/**
 * The reference device: a Windows-like DM client that runs sessions against a server over HTTPS with mutual TLS,
 * driven by the sans-IO DeviceSession, executing commands on its DM tree, with switchable faults.
 */
import { sessionFromTranscript, throttledBy } from '../checks/from-transcript';
import type { SessionView } from '../checks/session';
import type { Identity } from '../pki';
import { DeviceSession, type DeviceCredentials, type SessionEnd } from '../protocol/device-session';
import { fetchLoopbackEntities } from '../protocol/external-entities';
import { behaviourOf, render, type WireOut } from '../protocol/fault';
import { seeded, type Rng } from '../protocol/random';
import { status, type Alert, type Command, type SyncML } from '../syncml';
import { HttpsClient, Transcript, WINDOWS_DEVICE_HEADERS, type Exchange } from '../transport';
import { executeCommands } from './execute';
import type { DeviceFault, ReferenceDeviceBehaviour } from './faults';
import { HWDEVID_URI, WINDOWS_PACKAGE_1, type Package1Shape } from './package1';
import { loadDefaultTree } from './profile';
import type { DmTree } from './tree';

const DEVINFO = ['DevId', 'Man', 'Mod', 'DmV', 'Lang'];

export interface ReferenceDeviceOptions {
  deviceId: string;
  /** Client certificate for mutual TLS; without it the device connects with none. */
  identity?: Identity;
  /** CA the server certificate must chain to. */
  serverCa?: string;
  tree?: DmTree;
  credentials?: DeviceCredentials;
  preemptiveAuth?: boolean;
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
  /**
   * How package 1 looks: CmdID numbering, LoginStatus alert, HWDevID item, session alert. Default: Windows' own
   * (WINDOWS_PACKAGE_1); server scenarios vary it by seed (varyPackage1).
   */
  package1?: Package1Shape;
  /** Rewrites each outgoing body (robustness scenarios: pretty-printing, namespace artefacts). */
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
  private lastSession: { id: string; completed: boolean } | undefined;

  constructor(private readonly opts: ReferenceDeviceOptions) {
    this.id = opts.deviceId;
    // Windows numbers sessions with a small decimal counter (MDM-SES-014, MDM-HDR-006); where it starts is seeded.
    const counter = opts.sessionCounter ?? (opts.rng ?? seeded(undefined, 'device', opts.deviceId)).int(1, 200);
    this.sessions = counter instanceof SessionCounter ? counter : new SessionCounter(counter);
    this.tree = opts.tree ?? loadDefaultTree(opts.deviceId);
    this.package1Shape = opts.package1 ?? WINDOWS_PACKAGE_1;
    this.behaviour = behaviourOf(opts.faults ?? []);
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
      const exchange = await this.sendHonouringThrottle(session.respURI ?? url, next, session.end !== undefined);
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
      next = session.receive(reply.parsed.message);
    }
    end ??= session.end ?? { reason: 'completed' };
    this.lastSession = { id: sessionID, completed: end.reason === 'completed' };
    if (session.nextSessionNonce) this.nonce = session.nextSessionNonce;
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
        const exchange = await this.send(session.respURI ?? url, next, session.end !== undefined);
        exchanges.push(exchange);
        const reply = exchange.response?.parsed?.message;
        next = reply ? session.receive(reply) : undefined;
        return exchange;
      },
    };
  }

  private engine(url: string, sessionID: string, opts: SessionOptions): DeviceSession {
    const shape = this.package1Shape;
    return new DeviceSession({
      deviceId: this.id,
      serverUrl: url,
      sessionID,
      sessionAlert: opts.sessionAlert ?? shape.sessionAlert,
      loginStatus: opts.loginStatus ?? (shape.loginStatus ? undefined : false),
      devInfo: this.devInfoItems(shape),
      extraAlerts: opts.alerts,
      laterAlerts: opts.laterAlerts,
      cmdIDs: { first: shape.firstCmdID, gap: shape.cmdIDGap },
      executor: (commands, ctx) => this.execute(commands, ctx.msgRef),
      abortWhenCommanded: this.opts.abortOnCommands,
      uploadSizeError: this.opts.uploadSizeError,
      maxMsgSize: this.opts.maxMsgSize,
      maxObjSize: this.opts.maxObjSize,
      maxSendSize: this.opts.maxSendSize,
      credentials: this.opts.credentials && { ...this.opts.credentials, nonce: this.nonce },
      preemptiveAuth: this.opts.preemptiveAuth,
      behaviour: this.behaviour,
    });
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

  /** Posts arbitrary bytes as this device (robustness scenarios); recorded like any exchange. */
  post(url: string, body: string | Uint8Array, headers: Record<string, string | null> = {}): Promise<Exchange> {
    return this.client.post(this.withQuery(url), body, { headers });
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

  private execute(commands: Command[], msgRef: string): ReturnType<typeof executeCommands> {
    if (this.toCancel > 0 && commands.length) {
      this.toCancel--;
      const c = commands[0];
      return { statuses: [status({ msgRef, cmdRef: c.cmdID ?? '', cmd: c.kind === 'Unknown' ? c.name : c.kind, code: 214 })], results: [] };
    }
    return executeCommands(this.tree, commands, { msgRef, behaviour: this.behaviour });
  }

  private async send(url: string, msg: SyncML, closing: boolean): Promise<Exchange> {
    const body = render(msg, this.opts.faults ?? []);
    const out: WireOut = { headers: { ...WINDOWS_DEVICE_HEADERS }, body: this.opts.rewrite ? this.opts.rewrite(body) : body };
    for (const f of this.opts.faults ?? []) f.wire?.(out, { closing });
    if (out.method && out.method !== 'POST') {
      return this.client.send(this.withQuery(url), { method: out.method, headers: Object.entries(out.headers).flat(), body: Buffer.from(out.body) });
    }
    return this.client.post(this.withQuery(url), out.body, { headers: out.headers });
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
