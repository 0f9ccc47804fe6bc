/**
 * The judging proxy's exchanges as DM sessions, judged as each one ends.
 *
 * Each exchange gives two captured messages: the device's request as the proxy received it, and the server's reply
 * as the proxy received it from the upstream (its framing facts included: a body longer or shorter than its
 * Content-Length is the server's, MDM-XML-001). When the proxy had to answer the device itself (upstream refused,
 * reset, timed out), the request carries that failure instead of a reply.
 *
 * Messages are kept per device and SessionID (MS-MDM 2.2.2; MDM-HDR-005): the device is the one its header Source
 * names, or, for a body that cannot be read, the one its TLS connection last spoke for, else its client certificate. A session is judged when
 * the server closes it (a package with no command, MDM-TERM-001), when either side aborts it (Alert 1223), when the
 * same device opens a new package 1, when it stays idle, or when the proxy stops: then it is judged as far as it
 * went (a capture that ends mid-session).
 */
import { groupSessions, headerOf, type CapturedHttp, type CapturedMessage } from '../grade';
import type { GradeRole } from '../grade/judge';
import { judgeCaptures, type JudgedCapture } from '../grade/reports';
import type { HttpMessage } from '../transport';
import type { ProxyExchange } from './reverse-proxy';

/** Where the proxy's messages are said to come from, in titles and evidence. */
export const PROXY_SOURCE = 'proxy';

interface Open {
  key: string;
  messages: CapturedMessage[];
  lastAt: number;
  hasDevice: boolean;
}

export interface ProxySessionsOptions {
  role: GradeRole;
  /** A session with no exchange for this long is judged as far as it went. Default 120 000 ms. */
  idleMs?: number;
  /** Called with each session as it is judged. */
  onSession?: (judged: JudgedCapture) => void;
  /** For tests: the clock. */
  now?: () => number;
  /** Origins devices use for the proxy, each mapped to the upstream's (see AnySessionView.originAliases). */
  originAliases?: Record<string, string>;
}

function httpOf(m: HttpMessage): CapturedHttp {
  const http: CapturedHttp = { headers: { ...m.headers } };
  if (m.method !== undefined) http.method = m.method;
  if (m.url !== undefined) http.url = m.url;
  if (m.status !== undefined) http.status = m.status;
  if (m.statusText) http.statusText = m.statusText;
  // A body that stalled short of its Content-Length is a mismatch as much as one cut by a close.
  const short = m.declaredLength !== undefined && m.body.byteLength < m.declaredLength ? { declared: m.declaredLength, received: m.body.byteLength } : undefined;
  const mismatch = m.lengthMismatch ?? short;
  if (mismatch) http.lengthMismatch = mismatch;
  return http;
}

/** The two halves of one exchange through the proxy, as captured messages; undefined when no HTTP request came. */
export function capturedExchange(record: ProxyExchange, n: number): { request: CapturedMessage; reply?: CapturedMessage } | undefined {
  const leg = record.device;
  if (leg.request.method === undefined) return undefined; // a connection that ended before an HTTP request
  const pairedWith = `${PROXY_SOURCE} exchange ${n}`;
  const request: CapturedMessage = {
    source: { file: PROXY_SOURCE, position: `exchange ${n} request` }, from: 'device', body: leg.request.body, http: httpOf(leg.request), startedAt: leg.startedAt, pairedWith,
  };
  const up = record.upstream;
  // As a live view judges it: a reply counts unless the exchange failed before one was read.
  const replied = up?.response?.status !== undefined && (!up.error || up.error.kind === 'protocol');
  if (!replied) {
    request.failure = record.failure?.reason ?? (up?.error ? `${up.error.kind}: ${up.error.message}` : leg.error ? `${leg.error.kind}: ${leg.error.message}` : 'no reply from the upstream');
    return { request };
  }
  const reply: CapturedMessage = {
    source: { file: PROXY_SOURCE, position: `exchange ${n} response` }, from: 'server', body: up!.response!.body, http: httpOf(up!.response!), startedAt: up!.startedAt, pairedWith,
  };
  return { request, reply };
}

export class ProxySessions {
  /** Every session judged so far, in the order they ended. */
  readonly judged: JudgedCapture[] = [];
  private readonly open = new Map<string, Open>();
  /** The session each device connection (its address) last spoke in, for bodies that cannot be read. */
  private readonly byConnection = new Map<string, string>();
  private count = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly now: () => number;

  constructor(private readonly options: ProxySessionsOptions) {
    this.now = options.now ?? Date.now;
    const idle = options.idleMs ?? 120_000;
    this.timer = setInterval(() => this.finishIdle(idle), Math.min(idle, 5_000));
    this.timer.unref();
  }

  /** Takes one exchange through the proxy; judges the session it ends, if it ends one. */
  add(record: ProxyExchange): void {
    const n = ++this.count;
    const halves = capturedExchange(record, n);
    if (!halves) return;
    const { request, reply } = halves;
    const connection = record.device.peer ?? '';
    const asked = headerOf(request);
    const answered = reply ? headerOf(reply) : undefined;
    let key: string | undefined;
    if (asked) key = `${asked.source ?? ''}\u0000${asked.sessionID ?? ''}`;
    else if (answered) key = `${answered.target ?? ''}\u0000${answered.sessionID ?? ''}`;
    else {
      // An unreadable body: the session its connection last spoke in, else one per client certificate.
      const cert = record.device.tls?.peerCertificate?.fingerprint256;
      key = this.byConnection.get(connection) ?? (cert ? `certificate ${cert}` : `connection ${connection}`);
    }
    let session = this.open.get(key);
    // The same device opening a new session under the same SessionID: the one before is over.
    if (session && asked?.package1 && session.hasDevice) {
      this.finish(session);
      session = undefined;
    }
    if (!session) {
      session = { key, messages: [], lastAt: 0, hasDevice: false };
      this.open.set(key, session);
    }
    session.messages.push(request);
    if (reply) session.messages.push(reply);
    session.hasDevice = true;
    session.lastAt = this.now();
    if (connection) this.byConnection.set(connection, key);
    const closed = answered !== undefined && answered.final && answered.commands === 0;
    if (closed || asked?.abort || answered?.abort) this.finish(session);
  }

  /** Judges every session still open, as far as each went (the proxy is stopping). */
  finishAll(): void {
    for (const s of [...this.open.values()]) this.finish(s);
  }

  /** Stops the idle timer. */
  close(): void {
    clearInterval(this.timer);
  }

  /** Sessions still open. */
  get pending(): number {
    return this.open.size;
  }

  private finishIdle(idleMs: number): void {
    const now = this.now();
    for (const s of [...this.open.values()]) if (now - s.lastAt >= idleMs) this.finish(s);
  }

  private finish(s: Open): void {
    if (this.open.get(s.key) === s) this.open.delete(s.key);
    for (const [connection, key] of this.byConnection) if (key === s.key) this.byConnection.delete(connection);
    const sessions = groupSessions(s.messages);
    if (this.options.originAliases) for (const session of sessions) session.view.originAliases = this.options.originAliases;
    for (const judged of judgeCaptures(sessions, this.options.role)) {
      this.judged.push(judged);
      this.options.onSession?.(judged);
    }
  }
}
