/**
 * The reference server: MS-MDM over HTTPS with mutual TLS on a loopback port, sessions keyed by device and
 * SessionID, an in-process command queue per device, and switchable faults.
 *
 * Identity comes from the client certificate; a certificate that does not verify, lacks clientAuth, or whose CN is
 * not the device named in the header Source is refused with HTTP 403 (MDM-TRN-004).
 *
 * Replies go in the encoding of the request, XML or WBXML (MDM-TRN-007, MDM-TRN-008). With `requireSignatures` (the
 * server set DMClient RequireMessageSigning) every message must carry an MS-Signature made with the certificate of
 * the device the session is for (MDM-TRN-015). The DMClient CSP says the provider validates the signature and its
 * time against the identity certificate enrolled for the device and checks that it is trusted, but names no answer
 * for a message that fails; such a message is refused as a certificate is: HTTP 403 before any SyncML is processed.
 */
import type { EnrollmentService } from '../enrollment/service';
import type { Identity } from '../pki';
import { MS_SIGNATURE_HEADER, verifyMessageSignature } from '../pki/ms-signature';
import { encodeBody, mediaTypeOf } from '../protocol/encoding';
import { fetchLoopbackEntities } from '../protocol/external-entities';
import { behaviourOf, render, type WireOut } from '../protocol/fault';
import { seeded, type Rng } from '../protocol/random';
import { ServerSession, CONFORMING_SERVER, type ServerCredentialCheck, type ServerEvent } from '../protocol/server-session';
import { acceptedCredentialChanges, credentialChangesIn, withCredentialChanges } from '../protocol/credential-change';
import { AuthScheme, HMAC_HEADER, newNonce } from '../protocol/auth';
import { CONFORMING_SERVER_HMAC, ServerHmac, type IntegrityVerdict } from '../protocol/hmac-integrity';
import type { CredScheme } from '../protocol/credentials';
import { sniffEncoding, type Command, type SyncML, type SyncMLEncoding } from '../syncml';
import { HttpsServer, Transcript, type Exchange, type HandlerResponse, type IncomingRequest } from '../transport';
import type { ReferenceServerBehaviour, ServerFault } from './faults';
import { malformedBody, malformsThis, type MalformedReply } from './malformed';

export const MANAGEMENT_PATH = '/ManagementServer/MDM.svc';
const CLIENT_AUTH_OID = '1.3.6.1.5.5.7.3.2';

export const CONFORMING_REFERENCE_SERVER: ReferenceServerBehaviour = {
  ...CONFORMING_SERVER,
  ...CONFORMING_SERVER_HMAC,
  verifyClientCertificate: true,
  matchCertificateToDevice: true,
  requireClientAuthEku: true,
  survivesMalformedInput: true,
  opaqueSessionIDs: true,
  acceptsMsftExtensions: true,
  sessionsKeyedByDevice: true,
  resolveExternalEntities: false,
  limitRequestBody: true,
  refuseOversizedWith413: true,
  answerInRequestEncoding: true,
  answerXmlInWbxml: false,
  signatureCheck: 'full',
  toleratesStatusChildOrder: true,
  serverSecretPerDevice: true,
  rememberIssuedNonce: true,
  acceptUnknownQueryParameters: true,
  takeNewSessionWhileOneIsOpen: true,
  throttle: { requests: 0, seconds: 0 },
  serverCertificate: 'valid',
  appliesCredentialChangeAtOnce: false,
};

/** Query parameters Windows appends to the management URL (MS-MDM 2.1 note 1). */
const WINDOWS_QUERY = new Set(['mode', 'Platform']);

/** How far a signing time may be from the server's clock by default (DMClient CSP: the provider validates the time). */
const SIGNATURE_SKEW_MS = 10 * 60_000;

/** Credentials of one side: a scheme, a user id and a secret. */
export interface SchemeCredentials {
  scheme: CredScheme;
  user: string;
  password: string;
}

export interface ReferenceServerOptions {
  identity: Identity;
  /** CA that issues device certificates. */
  ca: string;
  host?: string;
  /** Allow a `host` that is not a loopback address (HttpsServer). */
  exposed?: boolean;
  /** Offer h2 beside HTTP/1.1 (HttpsServer). Default true. */
  http2?: boolean;
  port?: number;
  faults?: readonly ServerFault[];
  /** Knobs a client-under-test scenario sets (e.g. abort with 1223, chunk large objects); applied over the faults. */
  behaviour?: Partial<ReferenceServerBehaviour>;
  /** Spoil one reply in this way, once (client-under-test robustness scenarios). */
  malformedReply?: MalformedReply;
  /** Where an `external-entities` reply points its entities (a scenario's loopback canary). */
  entityUrl?: string;
  /**
   * Application-level credentials the server requires of every device (MDM-AUTH-001). With `syncml:auth-MAC` the
   * server challenges for HMAC integrity (OMA-DMS 5.4); with md5 or basic it still takes HMAC from a device that uses
   * it with the same secret and the nonce it was handed.
   */
  clientAuth?: { scheme: ServerCredentialCheck['scheme'] | typeof AuthScheme.Mac; user: string; password: string };
  /**
   * Credentials the server presents to devices (server-to-client authentication, OMA-DMS 5.3): the same for every
   * device, or each device's own (MDM-AUTH-024); undefined for a device presents nothing to it.
   */
  serverCredentials?: SchemeCredentials | ((deviceId: string) => SchemeCredentials | undefined);
  /** Largest request body read; a larger one is answered 413. Default 16 MiB. */
  maxRequestBytes?: number;
  /** TLS handshake, and the request head once connected (HttpsServer). Default 5 000 ms. */
  headersMs?: number;
  /** The request body, from the end of the head (HttpsServer). Default 10 000 ms. */
  bodyMs?: number;
  /**
   * A session without a request for this long is expired: its record turns 'expired' and a later message with its
   * SessionID starts afresh (MDM-SES-021, MDM-TERM-008). Default 60 000 ms.
   */
  sessionIdleMs?: number;
  /** Called when a session closes, was aborted, or a request was refused. */
  onSessionEnd?: (record: SessionRecord) => void;
  /** Where the server's nonces come from: the run's seed, so a run repeats exactly. */
  rng?: Rng;
  /** MS-MDE2 enrollment endpoints, tried before the management endpoint. */
  enrollment?: EnrollmentService;
  /**
   * Accept a DM session only with a client certificate the enrollment service issued, for the device it was issued
   * to; anything else is refused with 403, as a real MDM server refuses identities it did not enroll.
   */
  acceptOnlyEnrolled?: boolean;
  /**
   * The server set RequireMessageSigning: a message without a valid MS-Signature by the certificate of the device
   * its session is for is refused with HTTP 403 (MDM-TRN-015).
   */
  requireSignatures?: boolean;
  /** Largest distance between a signature's signing time and the server's clock. Default 10 minutes. */
  signatureMaxSkewMs?: number;
}

export interface SessionRecord {
  deviceId: string;
  sessionID: string;
  events: ServerEvent[];
  /** 'expired': abandoned half-open, forgotten after `sessionIdleMs` without a request. */
  state: ServerSession['state'] | 'refused' | 'expired';
}

interface LiveSession {
  key: string;
  record: SessionRecord;
  engine: ServerSession;
  lastSeen: number;
  /** The device credentials this session verifies (absent when the server requires none). */
  clientAuth?: ServerCredentialCheck;
  /** Events of the session already read for credential changes the device took. */
  eventsRead: number;
  /** HMAC integrity of the session, and its verdict on the message being received (MDM-AUTH-027..029). */
  hmac: ServerHmac;
  verdict?: IntegrityVerdict;
}

/** Marks where one round of queued commands ends: what follows waits for the server's next package. */
const END_OF_ROUND = Symbol('end of round');

class DeviceQueue {
  private readonly items: (Command | typeof END_OF_ROUND)[] = [];
  push(...commands: Command[]): void {
    this.items.push(...commands);
  }
  endRound(): void {
    if (this.items.length) this.items.push(END_OF_ROUND);
  }
  requeue(commands: Command[]): void {
    this.items.unshift(...commands);
  }
  peek(): Command | undefined {
    const head = this.items[0];
    return head === END_OF_ROUND ? undefined : head;
  }
  shift(): Command | undefined {
    return this.peek() === undefined ? undefined : (this.items.shift() as Command);
  }
  startPackage(): void {
    if (this.items[0] === END_OF_ROUND) this.items.shift();
  }
  get length(): number {
    return this.items.filter((c) => c !== END_OF_ROUND).length;
  }
}

export class ReferenceServer {
  private readonly http: HttpsServer;
  private readonly behaviour: ReferenceServerBehaviour;
  private readonly queues = new Map<string, DeviceQueue>();
  private readonly live = new Map<string, LiveSession>();
  private readonly nonces = new Map<string, string>();
  /** Per device, the nonce it handed over for the server's next Cred (MDM-AUTH-010, MDM-AUTH-020). */
  private readonly serverNonces = new Map<string, string>();
  /** The first device the server presented credentials to (a server with one secret for all presents its secret). */
  private firstPresentedTo: string | undefined;
  /**
   * Per device, its credentials as changed by a Replace of its DMAcc CLCRED AAuthName/AAuthSecret that it took with
   * 200: what the server verifies from the next session on (MDM-AUTH-030).
   */
  private readonly clientCredentials = new Map<string, { user: string; password: string }>();
  /** Each device's ./DevDetail/LrgObj as read in an earlier session (MDM-LO-019): it does not change. */
  private readonly largeObjects = new Map<string, boolean>();
  private malformedSent = false;
  /** The session and MsgID of the spoilt reply, so that it is spoilt again if the device refuses it unread. */
  private malformedIn: { key: string; msgID: string } | undefined;
  private throttled = 0;
  private sweep: NodeJS.Timeout | undefined;
  private readonly rng: Rng;
  readonly sessions: SessionRecord[] = [];
  readonly transcript = new Transcript();
  url = '';

  /** No connection open and no request unrecorded (HttpsServer.idle). */
  get idle(): boolean {
    return this.http.idle;
  }

  constructor(private readonly opts: ReferenceServerOptions) {
    this.behaviour = { ...CONFORMING_REFERENCE_SERVER, ...behaviourOf(opts.faults ?? []), ...opts.behaviour };
    this.rng = opts.rng ?? seeded(undefined, 'reference-server');
    this.http = new HttpsServer({
      identity: opts.identity,
      ca: opts.ca,
      host: opts.host,
      exposed: opts.exposed,
      http2: opts.http2,
      port: opts.port,
      maxRequestBytes: this.behaviour.limitRequestBody ? opts.maxRequestBytes : Number.POSITIVE_INFINITY,
      tooLargeStatus: this.behaviour.refuseOversizedWith413 ? 413 : 500,
      headersMs: opts.headersMs,
      bodyMs: opts.bodyMs,
      transcript: this.transcript,
      handler: (req) => this.handle(req),
    });
  }

  async start(): Promise<string> {
    const { url } = await this.http.listen();
    this.url = `${url.replace(/\/$/, '')}${MANAGEMENT_PATH}`;
    // Abandoned sessions expire on time even when no other request comes to notice them.
    const idle = this.idleMs();
    this.sweep = setInterval(() => this.expireIdle(), Math.max(10, Math.min(1_000, Math.floor(idle / 4))));
    this.sweep.unref();
    return this.url;
  }

  async stop(): Promise<void> {
    clearInterval(this.sweep);
    await this.http.close();
  }

  /** Queues management commands for a device; they go out in its next session(s). */
  queue(deviceId: string, ...commands: Command[]): void {
    this.queueFor(deviceId).push(...commands);
  }

  /**
   * Queues commands in rounds: each round goes out in its own server package, once the device has answered the
   * previous one (OMA-DMP 8.5, 8.6; MDM-SES-009), so later rounds can observe what earlier ones did.
   */
  queueRounds(deviceId: string, ...rounds: Command[][]): void {
    const q = this.queueFor(deviceId);
    for (const round of rounds) {
      q.endRound();
      q.push(...round);
    }
  }

  pending(deviceId: string): number {
    return this.queueFor(deviceId).length;
  }

  /** Sessions of one device, oldest first. */
  sessionsOf(deviceId: string): SessionRecord[] {
    return this.sessions.filter((s) => s.deviceId === deviceId);
  }

  /** The HTTP exchanges of one session, read from the server transcript by the request headers. */
  exchangesOf(record: Pick<SessionRecord, 'deviceId' | 'sessionID'>): Exchange[] {
    return this.transcript.exchanges.filter((x) => {
      const hdr = x.request.parsed?.message.hdr;
      return hdr?.source?.locURI?.trim() === record.deviceId && hdr.sessionID?.trim() === record.sessionID;
    });
  }

  private queueFor(deviceId: string): DeviceQueue {
    let q = this.queues.get(deviceId);
    if (!q) this.queues.set(deviceId, (q = new DeviceQueue()));
    return q;
  }

  private handle(req: IncomingRequest): HandlerResponse | Promise<HandlerResponse> {
    const enrollment = this.opts.enrollment?.handle(req);
    if (enrollment) return enrollment;
    const path = req.url.split('?')[0];
    if (path !== MANAGEMENT_PATH) return text(404, `no management endpoint at ${path}; POST to ${MANAGEMENT_PATH}`);
    if (req.method !== 'POST') return text(405, 'the management endpoint takes POST only (MS-MDM 2.1)');
    if (this.throttled < this.behaviour.throttle.requests) {
      this.throttled++;
      return { status: 429, headers: { 'content-type': 'text/plain; charset=utf-8', 'retry-after': String(this.behaviour.throttle.seconds) }, body: 'too many requests\n' };
    }
    const unknownParameter = [...new URLSearchParams(req.url.split('?')[1] ?? '').keys()].find((k) => !WINDOWS_QUERY.has(k));
    if (unknownParameter && !this.behaviour.acceptUnknownQueryParameters) return text(400, `unknown query parameter "${unknownParameter}"`);
    const refusal = this.refuseIdentity(req);
    if (refusal) return this.refuse(req, refusal);
    const enrolledAs = this.opts.acceptOnlyEnrolled ? this.opts.enrollment?.knows(req.tls.peerCertificate?.fingerprint256 ?? '') : undefined;
    if (this.opts.acceptOnlyEnrolled && !enrolledAs) {
      return this.refuse(req, 'client certificate was not issued by this server\'s enrollment service: enroll the device first (MS-MDE2)');
    }
    const unsigned = this.opts.requireSignatures ? this.refuseSignature(req) : undefined;
    if (unsigned) return this.refuse(req, unsigned);
    if (!req.parsed) {
      if (!this.behaviour.survivesMalformedInput) return text(500, 'internal error');
      const notSyncML = text(400, `not a SyncML message: ${req.parseError?.message ?? 'empty body'}`);
      if (this.behaviour.resolveExternalEntities) return fetchLoopbackEntities(req.body).then(() => notSyncML);
      return notSyncML;
    }
    const msg = req.parsed.message;
    const deviceId = (msg.hdr.source?.locURI ?? '').trim();
    const sessionID = (msg.hdr.sessionID ?? '').trim();
    if (!this.behaviour.opaqueSessionIDs && sessionID && !/^\d+$/.test(sessionID)) return text(500, `internal error: SessionID "${sessionID}" is not a number`);
    if (!this.behaviour.acceptsMsftExtensions && req.body.includes('msft:')) return text(400, 'unknown attribute prefix msft');
    if (!this.behaviour.toleratesStatusChildOrder && req.parsed.deviations.some((d) => d.id === 'MDM-STS-001')) return text(400, 'Status children out of schema order');
    const cn = req.tls.peerCertificate?.subjectCN;
    if (enrolledAs !== undefined && enrolledAs !== deviceId) {
      return this.refuse(req, `client certificate was enrolled for device "${enrolledAs}", not the device "${deviceId}" in the SyncHdr Source`);
    }
    if (this.behaviour.matchCertificateToDevice && enrolledAs === undefined && cn !== undefined && cn !== deviceId) {
      return this.refuse(req, `client certificate CN "${cn}" does not match the device "${deviceId}" in the SyncHdr Source`);
    }
    if (!this.behaviour.takeNewSessionWhileOneIsOpen && isPackage1(msg)) {
      this.expireIdle();
      const open = [...this.live.values()].find((l) => l.record.deviceId === deviceId && l.record.sessionID !== sessionID);
      if (open) return text(409, `session ${open.record.sessionID} of this device is still open; try again when it has expired`);
    }
    const live = this.sessionFor(deviceId, sessionID, isPackage1(msg));
    if (this.refusesSpoiltReply(live, msg)) this.malformedSent = false;
    // A request was read in the encoding its media type names (or its first bytes show): answer in the same.
    const asked = sniffEncoding(req.body);
    const encoding: SyncMLEncoding = asked === 'xml' && this.behaviour.answerXmlInWbxml ? 'wbxml' : this.behaviour.answerInRequestEncoding ? asked : 'xml';
    live.verdict = live.hmac.judge(msg, req.body, req.headers);
    const reply = live.hmac.prepareReply(live.engine.receive(msg), (m) => encodeBody(render(m, this.opts.faults ?? []), encoding));
    this.followCredentialChanges(live, reply);
    const closing = live.engine.state !== 'open';
    const xml = render(reply, this.opts.faults ?? []);
    const out: WireOut = { headers: { 'content-type': mediaTypeOf(encoding) }, body: encodeBody(xml, encoding) };
    const spoil = this.opts.malformedReply;
    if (spoil && !this.malformedSent && malformsThis(spoil, reply, closing)) {
      this.malformedSent = true;
      this.malformedIn = { key: live.key, msgID: reply.hdr.msgID ?? '' };
      Object.assign(out, spoilt(malformedBody(spoil, reply, xml, this.opts.entityUrl), encoding));
    }
    for (const f of this.opts.faults ?? []) f.wire?.(out, { closing });
    const mac = live.hmac.headerForReply(out.body); // over the very bytes that go out (MDM-AUTH-027)
    if (mac !== undefined) out.headers[HMAC_HEADER] = mac;
    live.lastSeen = Date.now();
    if (closing) this.close(live);
    return { status: out.status ?? 200, headers: out.declaredLength === undefined ? out.headers : { ...out.headers, 'content-length': String(out.declaredLength) }, body: out.body };
  }

  /**
   * The device refused the spoilt reply at its SyncHdr (the server's credentials were missing or wrong) and ran none
   * of it: the server sends the message again with credentials, and the spoilt form must reach the device then.
   */
  private refusesSpoiltReply(live: LiveSession, msg: SyncML): boolean {
    const spoilt = this.malformedIn;
    if (!spoilt || spoilt.key !== live.key) return false;
    return msg.body.commands.some((c) => c.kind === 'Status' && c.cmdRef?.trim() === '0' && c.msgRef?.trim() === spoilt.msgID && ['401', '407'].includes(c.data?.text.trim() ?? ''));
  }

  private refuseIdentity(req: IncomingRequest): string | undefined {
    const { tls } = req;
    // Node reports a certificate without clientAuth as INVALID_PURPOSE; that case is the EKU knob's to judge.
    const wrongPurposeOnly = tls.authorizationError === 'INVALID_PURPOSE';
    if (this.behaviour.verifyClientCertificate && !tls.authorized && !(wrongPurposeOnly && !this.behaviour.requireClientAuthEku)) {
      return tls.peerCertificate
        ? `client certificate refused: ${tls.authorizationError ?? 'not trusted'}`
        : 'no client certificate: the management endpoint requires mutual TLS (MS-MDM 1.5)';
    }
    if (this.behaviour.requireClientAuthEku && tls.peerCertificate && !this.hasClientAuth(req)) {
      return 'client certificate lacks the clientAuth extended key usage';
    }
    return undefined;
  }

  /**
   * Why the request's MS-Signature (or MDM-Signature, as the DMClient CSP names it) is not acceptable, or undefined
   * when it is. The signer must be the TLS client certificate; without one (a server that takes clients without a
   * certificate), a certificate the CA issued to the device named in the header Source.
   */
  private refuseSignature(req: IncomingRequest): string | undefined {
    const header = req.headers[MS_SIGNATURE_HEADER.toLowerCase()] ?? req.headers['mdm-signature'];
    if (header === undefined) return `no ${MS_SIGNATURE_HEADER} header: this server requires every message signed with the device identity (RequireMessageSigning)`;
    const check = this.behaviour.signatureCheck;
    if (check === 'presence') return undefined;
    const expected = check === 'full' ? req.tls.peerCertificate?.pem : undefined;
    const verdict = verifyMessageSignature(req.body, header, {
      trusted: [this.opts.ca], expected, maxSkewMs: this.opts.signatureMaxSkewMs ?? SIGNATURE_SKEW_MS,
    });
    if (!verdict.ok) return `${MS_SIGNATURE_HEADER} refused: ${verdict.reason}`;
    const deviceId = req.parsed?.message.hdr.source?.locURI?.trim();
    if (check === 'full' && !expected && deviceId !== undefined && verdict.signerCN !== deviceId) {
      return `${MS_SIGNATURE_HEADER} refused: signed by CN=${verdict.signerCN ?? '?'}, not by the device "${deviceId}" in the SyncHdr Source`;
    }
    return undefined;
  }

  private hasClientAuth(req: IncomingRequest): boolean {
    const eku = (req.socket.getPeerCertificate() as { ext_key_usage?: string[] }).ext_key_usage;
    return !eku || eku.includes(CLIENT_AUTH_OID);
  }

  private refuse(req: IncomingRequest, reason: string): HandlerResponse {
    const deviceId = req.parsed?.message.hdr.source?.locURI?.trim() ?? '';
    this.sessions.push({ deviceId, sessionID: req.parsed?.message.hdr.sessionID?.trim() ?? '', events: [], state: 'refused' });
    this.opts.onSessionEnd?.(this.sessions.at(-1)!);
    return text(403, reason);
  }

  private sessionFor(deviceId: string, sessionID: string, opensSession = false): LiveSession {
    this.expireIdle();
    // MDM-SES-021: a session is the device's and its SessionID together; the SessionID alone is the device's choice
    // and says nothing about who sends it.
    const key = this.behaviour.sessionsKeyedByDevice ? `${deviceId}\u0000${sessionID}` : sessionID;
    let live = this.live.get(key);
    // A new package 1 (MsgID 1 with a session alert) opens a new session even under a SessionID still open: a device's
    // counter wraps (MDM-HDR-006), and a device that lost a session starts afresh (MDM-TERM-008).
    if (live && opensSession) {
      this.close(live, 'expired');
      live = undefined;
    }
    if (!live) {
      const record: SessionRecord = { deviceId, sessionID, events: [], state: 'open' };
      // The device's credentials as they stand for this session: a change it took in an earlier one holds (MDM-AUTH-030).
      const configured = this.opts.clientAuth && { ...this.opts.clientAuth, ...this.clientCredentials.get(deviceId) };
      // HMAC integrity is judged by ServerHmac, not by the session's Cred check (MDM-AUTH-027..029).
      const clientAuth: ServerCredentialCheck | undefined = configured && configured.scheme !== AuthScheme.Mac ? {
        ...configured, scheme: configured.scheme,
        nonce: this.nonces.get(deviceId), onNextNonce: (n) => void (this.behaviour.rememberIssuedNonce && this.nonces.set(deviceId, n)),
      } : undefined;
      const presented = this.serverCredentialsFor(deviceId);
      const nonces = this.rng.fork(`hmac/${deviceId}/${sessionID}/${this.sessions.length}`);
      const hmac = new ServerHmac({
        client: configured, required: configured?.scheme === AuthScheme.Mac, nonce: this.nonces.get(deviceId),
        onNextNonce: (n) => void (this.behaviour.rememberIssuedNonce && this.nonces.set(deviceId, n)),
        newNonce: () => newNonce(this.behaviour.nonceBytes, nonces), own: presented, behaviour: this.behaviour,
      });
      const engine = new ServerSession({
        serverUrl: this.url,
        deviceId,
        sessionID,
        queue: this.queueFor(deviceId),
        behaviour: this.behaviour,
        rng: this.rng.fork(`${deviceId}/${sessionID}/${this.sessions.length}`),
        clientAuth,
        serverAuth: presented && { ...presented, nonce: this.serverNonces.get(deviceId), onNextNonce: (n) => this.serverNonces.set(deviceId, n) },
        largeObjects: { known: () => this.largeObjects.get(deviceId), learned: (v) => void this.largeObjects.set(deviceId, v) },
        integrity: () => live?.verdict,
      });
      live = { key, record, engine, lastSeen: Date.now(), clientAuth, eventsRead: 0, hmac };
      record.events = engine.events;
      this.live.set(key, live);
      this.sessions.push(record);
    }
    return live;
  }

  /**
   * MDM-AUTH-030: a change of the device's credentials the device took with 200 is what the server verifies from the
   * device's next session on; this session goes on with the credentials it started with. The fault
   * `appliesCredentialChangeAtOnce` switches the session over as soon as the Replace goes out.
   */
  private followCredentialChanges(live: LiveSession, reply: SyncML): void {
    const fresh = live.record.events.slice(live.eventsRead);
    live.eventsRead = live.record.events.length;
    const taken = acceptedCredentialChanges(fresh);
    const { deviceId } = live.record;
    const base = this.clientCredentials.get(deviceId) ?? this.opts.clientAuth;
    if (taken.length && base) this.clientCredentials.set(deviceId, withCredentialChanges({ user: base.user, password: base.password }, taken));
    if (this.behaviour.appliesCredentialChangeAtOnce && live.clientAuth) {
      Object.assign(live.clientAuth, withCredentialChanges({ user: live.clientAuth.user, password: live.clientAuth.password }, reply.body.commands.flatMap(credentialChangesIn)));
    }
  }

  /** The credentials presented to one device: its own (MDM-AUTH-024), unless the server has one secret for all. */
  private serverCredentialsFor(deviceId: string): SchemeCredentials | undefined {
    const configured = this.opts.serverCredentials;
    if (!configured) return undefined;
    if (typeof configured !== 'function') return configured;
    this.firstPresentedTo ??= deviceId;
    return configured(this.behaviour.serverSecretPerDevice ? deviceId : this.firstPresentedTo);
  }

  private close(live: LiveSession, state: SessionRecord['state'] = live.engine.state): void {
    this.live.delete(live.key);
    live.record.state = state;
    this.opts.onSessionEnd?.(live.record);
  }

  private idleMs(): number {
    return this.opts.sessionIdleMs ?? 60_000;
  }

  private expireIdle(): void {
    const limit = Date.now() - this.idleMs();
    for (const live of [...this.live.values()]) if (live.lastSeen < limit) this.close(live, 'expired');
  }
}

/**
 * A spoilt reply in the encoding of the session: what WBXML can carry (a foreign namespace, a command without CmdID)
 * goes as WBXML, what only XML text can (no XML at all, a DOCTYPE) goes as XML in the XML media type, which the
 * device accepts as well; an empty body stays empty.
 */
function spoilt(body: string, encoding: SyncMLEncoding): Pick<WireOut, 'body' | 'headers'> {
  if (encoding === 'xml' || body === '') return { body, headers: { 'content-type': mediaTypeOf(encoding) } };
  try {
    return { body: encodeBody(body, 'wbxml'), headers: { 'content-type': mediaTypeOf('wbxml') } };
  } catch {
    return { body, headers: { 'content-type': mediaTypeOf('xml') } };
  }
}

function text(status: number, message: string): HandlerResponse {
  return { status, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: `${message}\n` };
}

/** A device's package 1: MsgID 1 with the session alert (1201, or 1200 answering a notification). */
function isPackage1(msg: SyncML): boolean {
  return msg.hdr.msgID?.trim() === '1' && msg.body.commands.some((c) => c.kind === 'Alert' && ['1200', '1201'].includes(c.data?.text.trim() ?? ''));
}
