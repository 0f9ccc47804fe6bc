/**
 * The reference device's HTTPS client: POSTs SyncML over mutual TLS and records every exchange.
 *
 * A network, TLS or HTTP problem is a finding about the peer, not a harness failure, so `post` never throws for one:
 * it returns the exchange with `error` set and a message that names the problem. Requests go out one at a time, as a
 * device sends them within a DM session; run several clients for concurrent load.
 *
 * The server certificate is checked by this module rather than by Node's `rejectUnauthorized`, so that a refused
 * certificate is still described in the transcript (subject, issuer, validity) and nothing is written to the socket.
 *
 * HTTP/1.1 by default. With `http2`, h2 is offered by ALPN as Windows does and spoken when the server picks it; the
 * frames are then read off the wire as well (see h2-frames.ts), so that a body that disagrees with its
 * content-length is recorded with its true length. An `http://` URL is spoken over plain TCP, HTTP/1.1.
 */
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, createSecureContext, type SecureContext, type TLSSocket } from 'node:tls';
import { Client, type buildConnector, type Dispatcher } from 'undici';
import { ResponseFramer } from './framing';
import { rememberIdentity } from './identities';
import { FRAME, FrameReader, h2ErrorName, StreamLedger } from './h2-frames';
import { TappedConnection } from './h2-tap';
import {
  attachParse, DEFAULT_MAX_BODY_BYTES, declaredLength, describeCertificate, errorCode, errorText, headersFromRaw, tlsFacts,
} from './record';
import {
  Transcript, type Exchange, type ExchangeError, type ExchangeErrorKind, type HttpMessage, type HttpVersion, type TlsFacts,
} from './transcript';

/** What a Windows device sends with every DM message (MS-MDM 2.1; catalogue section 3.1). */
export const WINDOWS_DEVICE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'application/vnd.syncml.dm+xml',
  accept: 'application/vnd.syncml.dm+xml, application/vnd.syncml.dm+wbxml, application/octet-stream',
  'accept-charset': 'UTF-8',
  'user-agent': 'MSFT OMA DM Client/1.2.0.1',
});

/** Header values to send; `null` removes a header the defaults would send. Names are case-insensitive. */
export type HeaderOverrides = Record<string, string | null>;

export interface HttpsClientOptions {
  /** CA certificate(s) in PEM. When given, only these are trusted for the server certificate (pinning). */
  ca?: string | string[];
  /** The client certificate presented for mutual TLS. */
  identity?: { certPem: string; keyPem: string };
  /** Name to send as SNI and to check the server certificate against, instead of the URL's host. */
  servername?: string;
  /** Refuse a server certificate that is not trusted or not for the host. Default true. */
  rejectUnauthorized?: boolean;
  /** TCP connect plus TLS handshake. Default 10 000 ms. */
  connectMs?: number;
  /** From writing the request to the last byte of the response. Default 30 000 ms. */
  responseMs?: number;
  /** A response body above this is aborted, never buffered whole. Default 16 MiB. */
  maxResponseBytes?: number;
  /**
   * How long a kept-alive connection is watched after a response for bytes trailing its body, before the exchange
   * is returned. Later bytes are still added to the recorded exchange when they come. Default 20 ms; 0 only drains
   * what has already arrived.
   */
  trailingWindowMs?: number;
  /** Headers for every request of this client, applied over the Windows defaults. */
  headers?: HeaderOverrides;
  /** Where exchanges are recorded; a new transcript when absent. */
  transcript?: Transcript;
  /**
   * Offer HTTP/2 by ALPN (`h2`, then `http/1.1`) and speak it when the server picks it, as Windows does. Default
   * false: only `http/1.1` is offered.
   */
  http2?: boolean;
  /**
   * Send the certificate of `identity` in this request header with every `post`, URL-encoded PEM as nginx's
   * `$ssl_client_escaped_cert` forwards it: for a server behind a proxy that terminates TLS (use an `http://` URL).
   */
  clientCertHeader?: string;
}

/** A request sent as given, without the Windows defaults: what a proxy forwards. */
export interface OutgoingRequest {
  method: string;
  /**
   * Name/value pairs in the order and spelling to send. `host` names the authority (Host, or `:authority` over h2);
   * Content-Length is always the body's own length.
   */
  headers: readonly string[];
  body: Uint8Array;
}

export interface PostOptions {
  headers?: HeaderOverrides;
  /** Replaces `responseMs` for this request. */
  timeoutMs?: number;
}

/** A failure with its transcript classification, carried through undici's error path. */
class TransportFailure extends Error {
  constructor(
    readonly kind: ExchangeErrorKind,
    message: string,
    readonly tls?: TlsFacts,
  ) {
    super(message);
  }
}

/** What one exchange has seen on its connection so far. */
class Capture {
  bytesSent = 0;
  bytesReceived = 0;
  /** The start of what was written: enough to read the request head back (HTTP/1.1). */
  sentHead = Buffer.alloc(0);
  readonly framer = new ResponseFramer();
  /** HTTP/2: the stream that carries this exchange, known from the HEADERS frame that opened it. */
  streamId?: number;
  /** Set once the exchange is recorded; bytes that trail the response later are added to it. */
  recorded?: Exchange;
  /** The exchange's error is the trailing-bytes finding, which later bytes may update. */
  trailingNoted = false;
}

/** HTTP/2 only: the frames of the connection, read in both directions. */
interface H2Wire {
  /** What the server sent, per stream. */
  inbound: StreamLedger;
  reader: FrameReader;
  writer: FrameReader;
}

/** Per connection: the TLS facts and which exchange the bytes on it belong to. */
interface SocketTap {
  socket: Socket;
  /** Absent over plain TCP. */
  tls?: TlsFacts;
  httpVersion: HttpVersion;
  h2?: H2Wire;
  /**
   * The first TLS error on the connection. undici reports the close that follows a TLS alert as "other side closed"
   * and loses the alert, which is the part that says why (for example the server wanted a client certificate).
   */
  tlsError?: Error;
  peer: string;
  capture?: Capture;
  /** Bytes handed back to the socket by the parser, which it will read again. */
  reread: number;
}

interface Origin {
  dispatcher: Client;
  /** The stream undici speaks through: the TLS or TCP socket, or the tap over it for HTTP/2. */
  socket?: object;
}

const taps = new WeakMap<object, SocketTap>();

/**
 * TLS contexts by trust anchors and identity: building one parses the key and certificates again, a cost every
 * connection of a session would otherwise pay. A client context holds no TLS sessions (a client resumes only when
 * handed a session), so sharing one changes nothing on the wire. Bounded: a run mints a few identities per test.
 */
const secureContexts = new Map<string, SecureContext>();
const MAX_SECURE_CONTEXTS = 64;

function secureContextFor(ca: string | string[] | undefined, identity: { certPem: string; keyPem: string } | undefined): SecureContext {
  const key = `${[ca ?? []].flat().join('\n')}\0${identity?.certPem ?? ''}\0${identity?.keyPem ?? ''}`;
  let context = secureContexts.get(key);
  if (!context) {
    context = createSecureContext({ ...(ca !== undefined ? { ca } : {}), ...(identity ? { cert: identity.certPem, key: identity.keyPem } : {}) });
    if (secureContexts.size >= MAX_SECURE_CONTEXTS) secureContexts.delete(secureContexts.keys().next().value!);
    secureContexts.set(key, context);
  }
  return context;
}
const HEAD_CAPTURE_BYTES = 64 * 1024;

export class HttpsClient {
  readonly transcript: Transcript;
  private readonly origins = new Map<string, Origin>();
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly limits: Limits;
  private readonly presented?: string;

  constructor(private readonly options: HttpsClientOptions = {}) {
    this.transcript = options.transcript ?? new Transcript();
    if (options.identity) this.presented = rememberIdentity(options.identity);
    this.limits = {
      connectMs: options.connectMs ?? 10_000,
      responseMs: options.responseMs ?? 30_000,
      maxResponseBytes: options.maxResponseBytes ?? DEFAULT_MAX_BODY_BYTES,
      trailingWindowMs: options.trailingWindowMs ?? 20,
    };
  }

  /**
   * POSTs one message and returns the recorded exchange. Rejects only for misuse (a URL that is not https, a closed
   * client, an invalid header value); everything the peer does is in the exchange.
   */
  post(url: string, body: Uint8Array | string, opts: PostOptions = {}): Promise<Exchange> {
    const { identity, clientCertHeader } = this.options;
    const certificate = clientCertHeader && identity ? { [clientCertHeader]: encodeURIComponent(identity.certPem) } : undefined;
    const headers = mergeHeaders(WINDOWS_DEVICE_HEADERS, this.options.headers, certificate, opts.headers);
    return this.enqueue(url, { method: 'POST', headers: Object.entries(headers).flat(), body: Buffer.from(body) }, opts.timeoutMs);
  }

  /**
   * Sends one request exactly as given (no Windows defaults, no certificate header) and returns the recorded
   * exchange; rejects only for misuse, as `post` does.
   */
  send(url: string, request: OutgoingRequest, opts: { timeoutMs?: number } = {}): Promise<Exchange> {
    const headers: string[] = [];
    for (let i = 0; i + 1 < request.headers.length; i += 2) {
      if (request.headers[i]!.toLowerCase() !== 'content-length') headers.push(request.headers[i]!, request.headers[i + 1]!);
    }
    // A Buffer goes as it is: a proxy relays the very bytes it received, and their parse is then shared (attachParse).
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.from(request.body);
    return this.enqueue(url, { method: request.method, headers, body }, opts.timeoutMs);
  }

  private enqueue(url: string, request: { method: string; headers: string[]; body: Buffer }, timeoutMs: number | undefined): Promise<Exchange> {
    if (this.closed) return Promise.reject(new Error('HttpsClient is closed'));
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return Promise.reject(new Error(`not a URL: ${url}`));
    }
    if (target.protocol !== 'https:' && target.protocol !== 'http:') {
      return Promise.reject(new Error(`only https URLs are supported (MS-MDM 2.1), and http behind a TLS-terminating proxy; got ${target.protocol}//`));
    }
    const outgoing: Outgoing = { target, ...request, timeoutMs: timeoutMs ?? this.limits.responseMs, presented: this.presented };
    const run = () => (this.closed ? Promise.reject(new Error('HttpsClient is closed')) : this.exchange(outgoing));
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  async close(): Promise<void> {
    this.closed = true;
    const dispatchers = [...this.origins.values()].map((o) => o.dispatcher);
    this.origins.clear();
    await Promise.all(dispatchers.map((d) => d.destroy().catch(() => undefined)));
  }

  private exchange(outgoing: Outgoing): Promise<Exchange> {
    const { target, method, headers, body, timeoutMs } = outgoing;
    const origin = this.originFor(target.origin);
    return new Promise<Exchange>((resolve, reject) => {
      const recorder = new ExchangeRecorder(outgoing, origin, this.limits, this.transcript, { resolve, reject });
      const backstop = timeoutMs + 1_000;
      const bodiless = body.length === 0 && (method === 'GET' || method === 'HEAD');
      origin.dispatcher.dispatch(
        { method, path: `${target.pathname}${target.search}`, headers, body: bodiless ? null : body, headersTimeout: backstop, bodyTimeout: backstop },
        recorder,
      );
    });
  }

  private originFor(origin: string): Origin {
    const known = this.origins.get(origin);
    if (known) return known;
    const created: Origin = { dispatcher: undefined as unknown as Client };
    created.dispatcher = new Client(origin, { connect: this.connector(created), pipelining: 1, allowH2: this.options.http2 === true });
    this.origins.set(origin, created);
    return created;
  }

  /**
   * Opens connections for undici: TLS with the identity and ALPN offer of this client (no session resumption, so
   * that every connection carries fresh certificate facts), or plain TCP for an `http://` origin.
   */
  private connector(origin: Origin): buildConnector.connector {
    const { ca, identity, servername } = this.options;
    const connectMs = this.limits.connectMs;
    const maxResponseBytes = this.limits.maxResponseBytes;
    const alpn = this.options.http2 ? ['h2', 'http/1.1'] : ['http/1.1'];
    return (options, callback) => {
      const secure = options.protocol === 'https:';
      const port = Number(options.port) || (secure ? 443 : 80);
      const where = `${options.hostname}:${options.port || (secure ? '443' : '80')}`;
      let settled = false;
      const settle = (err: Error | null, socket: Socket | null) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err || !socket) callback(err ?? new Error('no socket'), null);
        else callback(null, socket);
      };
      const sni = servername ?? (isIP(options.hostname) ? undefined : options.hostname);
      const socket: Socket = secure
        ? tlsConnect({
          host: options.hostname,
          port,
          ...(sni !== undefined ? { servername: sni } : {}),
          secureContext: secureContextFor(ca, identity),
          // Judged below, so that a refused certificate is still described in the transcript.
          rejectUnauthorized: false,
          ALPNProtocols: alpn,
        })
        : netConnect({ host: options.hostname, port });
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 60_000);
      socket.once('error', (err: Error) => settle(err, null));
      socket.once(secure ? 'secureConnect' : 'connect', () => {
        const peer = `${socket.remoteAddress}:${socket.remotePort}`;
        if (!secure) {
          tapSocket(socket, { socket, peer, reread: 0, httpVersion: '1.1' });
          origin.socket = socket;
          settle(null, socket);
          return;
        }
        const tlsSocket = socket as TLSSocket;
        const facts = tlsFacts(tlsSocket);
        const refusal = this.options.rejectUnauthorized === false ? undefined
          : refusalOf(facts, servername ?? options.hostname);
        if (refusal) {
          tlsSocket.destroy();
          settle(new TransportFailure('tls', refusal, facts), null);
          return;
        }
        if (tlsSocket.alpnProtocol === 'h2') {
          const tap: SocketTap = { socket: tlsSocket, tls: facts, peer, reread: 0, httpVersion: '2' };
          const connection = tapHttp2(tlsSocket, tap, maxResponseBytes);
          origin.socket = connection;
          settle(null, connection as unknown as Socket);
          return;
        }
        tapSocket(tlsSocket, { socket: tlsSocket, tls: facts, peer, reread: 0, httpVersion: '1.1' });
        origin.socket = tlsSocket;
        settle(null, tlsSocket);
      });
      const timer = setTimeout(() => {
        socket.destroy(new TransportFailure('timeout', `no ${secure ? 'TLS ' : ''}connection to ${where} within ${connectMs} ms`));
      }, connectMs);
    };
  }
}

interface Limits {
  connectMs: number;
  responseMs: number;
  maxResponseBytes: number;
  trailingWindowMs: number;
}

interface Outgoing {
  target: URL;
  /** Fingerprint of the client certificate presented, if any (Exchange.clientCertificate). */
  presented?: string;
  method: string;
  /** Name/value pairs as handed to undici. */
  headers: string[];
  body: Buffer;
  timeoutMs: number;
}

/** Follows one request through undici and records it, however it ends. */
class ExchangeRecorder implements Dispatcher.DispatchHandler {
  private readonly startedAt = Date.now();
  private readonly capture = new Capture();
  private tap?: SocketTap;
  private response?: HttpMessage;
  private readonly chunks: Buffer[] = [];
  private received = 0;
  private deadline?: NodeJS.Timeout;
  private settled = false;

  constructor(
    private readonly outgoing: Outgoing,
    private readonly origin: Origin,
    private readonly limits: Limits,
    private readonly transcript: Transcript,
    private readonly promise: { resolve: (e: Exchange) => void; reject: (e: unknown) => void },
  ) {}

  onRequestStart(controller: Dispatcher.DispatchController): void {
    const socket = this.origin.socket;
    this.tap = socket ? taps.get(socket) : undefined;
    if (this.tap) {
      this.tap.capture = this.capture;
      this.tap.reread = 0;
    }
    clearTimeout(this.deadline);
    this.deadline = setTimeout(() => controller.abort(new TransportFailure('timeout', this.timeoutMessage())), this.outgoing.timeoutMs);
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, _headers: unknown, statusMessage?: string): void {
    if (statusCode < 200) return;
    const raw = (controller.rawHeaders ?? []) as Array<string | Buffer>;
    const response: HttpMessage = { status: statusCode, statusText: statusMessage ?? '', ...headersFromRaw(raw), body: Buffer.alloc(0) };
    const declared = declaredLength(response.headers);
    if (declared !== undefined) response.declaredLength = declared;
    this.response = response;
    const max = this.limits.maxResponseBytes;
    if (declared !== undefined && declared > max) {
      controller.abort(new TransportFailure('too-large', `response declares Content-Length ${declared}, above the limit of ${max} bytes; not read`));
    }
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    const max = this.limits.maxResponseBytes;
    if (this.received + chunk.length > max) {
      this.chunks.push(chunk.subarray(0, max - this.received));
      this.received = max;
      controller.abort(new TransportFailure('too-large', `response body exceeds the limit of ${max} bytes; aborted after ${max} bytes`));
      return;
    }
    this.chunks.push(chunk);
    this.received += chunk.length;
  }

  onResponseEnd(): void {
    this.finish();
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, err: Error): void {
    if (errorCode(err) === 'UND_ERR_INVALID_ARG') {
      this.settled = true;
      clearTimeout(this.deadline);
      this.promise.reject(err);
      return;
    }
    this.finish(err);
  }

  private finish(failure?: unknown): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.deadline);
    const endedAt = Date.now();
    if (this.response) this.response.body = Buffer.concat(this.chunks);
    const tap = this.tap;
    // On a connection that stays open, give bytes sent right after the body a moment to arrive before returning.
    // HTTP/2 frames every body, so nothing can trail one.
    const watch = failure === undefined && tap !== undefined && tap.httpVersion === '1.1' && !tap.socket.destroyed
      && this.limits.trailingWindowMs > 0;
    const record = () => this.record(endedAt, failure);
    if (watch) setTimeout(record, this.limits.trailingWindowMs);
    else setImmediate(record);
  }

  private record(endedAt: number, failure: unknown): void {
    const { capture, response, tap } = this;
    const exchange: Omit<Exchange, 'index'> = {
      startedAt: this.startedAt,
      endedAt,
      request: requestRecord(this.outgoing, capture, tap?.httpVersion),
      wire: { bytesSent: capture.bytesSent, bytesReceived: capture.bytesReceived },
    };
    if (response) exchange.response = response;
    if (this.outgoing.presented) exchange.clientCertificate = this.outgoing.presented;
    if (tap) {
      if (tap.tls) exchange.tls = tap.tls;
      exchange.peer = tap.peer;
      exchange.httpVersion = tap.httpVersion;
    }
    if (this.outgoing.target.protocol === 'http:') exchange.cleartext = true;
    if (failure !== undefined) {
      const { error, lengthMismatch, body } = this.classify(failure);
      if (failure instanceof TransportFailure && failure.tls) exchange.tls = failure.tls;
      exchange.error = error;
      if (response && lengthMismatch) response.lengthMismatch = lengthMismatch;
      if (response && body) response.body = body;
    }
    if (tap?.h2 && capture.streamId !== undefined) tap.h2.inbound.forget(capture.streamId);
    // A body cut off at the size limit is not a document to judge.
    if (response && exchange.error?.kind !== 'too-large') attachParse(response);
    capture.recorded = this.transcript.append(exchange);
    noteTrailing(capture);
    this.promise.resolve(capture.recorded);
  }

  /**
   * Over HTTP/2 the frames tell what Node's stack only summarises as a stream error: a body whose DATA disagrees
   * with its content-length (a malformed response, RFC 9113 8.1.1, whose bytes Node drops), a RST_STREAM or a
   * GOAWAY from the server.
   */
  private classifyHttp2(failure: unknown): Classified | undefined {
    const evidence = h2Evidence(this.tap, this.capture);
    if (!evidence) return undefined;
    const { streamId, stream, goaway } = evidence;
    const { response } = this;
    const declared = response?.declaredLength;
    if (response && declared !== undefined && stream && (stream.dataBytes > declared || (stream.ended && stream.dataBytes < declared))) {
      const received = stream.dataBytes;
      const message = received > declared
        ? `body longer than Content-Length ${declared}: ${received} bytes of DATA on HTTP/2 stream ${streamId}, a malformed response (RFC 9113 8.1.1)`
        : `body shorter than Content-Length ${declared}: HTTP/2 stream ${streamId} ended after ${received} bytes of DATA, a malformed response (RFC 9113 8.1.1)`;
      return { error: { kind: 'protocol', message }, lengthMismatch: { declared, received }, body: Buffer.concat(stream.data) };
    }
    const during = response ? 'during the response body' : 'before answering';
    if (stream?.reset !== undefined) {
      return { error: { kind: 'reset', message: `the server reset HTTP/2 stream ${streamId} ${during} (RST_STREAM ${h2ErrorName(stream.reset)})` } };
    }
    if (goaway && goaway.lastStreamId < streamId) {
      return { error: { kind: 'reset', message: `the server sent GOAWAY (${h2ErrorName(goaway.code)}) and did not process HTTP/2 stream ${streamId}` } };
    }
    const code = errorCode(failure);
    if (code === 'ERR_HTTP2_STREAM_ERROR') {
      return { error: { kind: 'protocol', message: `the response on HTTP/2 stream ${streamId} is malformed (RFC 9113 8.1.1): ${errorText(failure)}` } };
    }
    if (code?.startsWith('ERR_HTTP2_') || code === 'UND_ERR_INFO') {
      return { error: { kind: 'protocol', message: `HTTP/2 exchange on stream ${streamId} failed ${during}: ${errorText(failure)}${code ? ` (${code})` : ''}` } };
    }
    return undefined;
  }

  private timeoutMessage(): string {
    const { response, received } = this;
    const timeoutMs = this.outgoing.timeoutMs;
    if (!response) return `no response within ${timeoutMs} ms`;
    const of = response.declaredLength !== undefined ? ` of ${response.declaredLength}` : '';
    return `response body incomplete after ${timeoutMs} ms: ${received}${of} bytes received`;
  }

  private classify(failure: unknown): Classified {
    if (failure instanceof TransportFailure) return { error: { kind: failure.kind, message: failure.message } };
    if (this.tap?.tlsError) return { error: { kind: 'tls', message: tlsAlertMessage(this.tap.tlsError) } };
    const h2 = this.classifyHttp2(failure);
    if (h2) return h2;
    const { response, received } = this;
    const code = errorCode(failure);
    const message = errorText(failure);
    const { hostname, port, protocol } = this.outgoing.target;
    const where = `${hostname}:${port || (protocol === 'http:' ? '80' : '443')}`;
    const declared = response?.declaredLength;
    // undici says "other side closed" or "content-length mismatch" depending on keep-alive; both mean a short body.
    const ended = code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH' || code === 'UND_ERR_SOCKET' || code === 'ECONNRESET';
    if (response && declared !== undefined && received < declared && ended) {
      return {
        error: { kind: 'protocol', message: `body shorter than Content-Length ${declared}: ${received} bytes arrived before the connection ended` },
        lengthMismatch: { declared, received },
      };
    }
    const error = (kind: ExchangeErrorKind, text: string) => ({ error: { kind, message: text } });
    switch (code) {
      case 'ECONNREFUSED': return error('connect', `connection refused by ${where}`);
      case 'ENOTFOUND':
      case 'EAI_AGAIN': return error('connect', `cannot resolve host name ${hostname}`);
      case 'EHOSTUNREACH':
      case 'ENETUNREACH': return error('connect', `no route to ${where} (${code})`);
      case 'ETIMEDOUT': return error('timeout', `no ${protocol === 'http:' ? '' : 'TLS '}connection to ${where} within ${this.limits.connectMs} ms`);
      case 'UND_ERR_HEADERS_TIMEOUT':
      case 'UND_ERR_BODY_TIMEOUT': return error('timeout', this.timeoutMessage());
      case 'UND_ERR_DESTROYED': return error('reset', 'the client was closed before the exchange completed');
      case 'ECONNRESET':
      case 'EPIPE': return error('reset', `connection reset by ${where} ${response ? 'during the response body' : 'before any response'}`);
      case 'UND_ERR_SOCKET':
        return response
          ? error('reset', `connection to ${where} ended during the response body (${message})`)
          : error('reset', `${where} closed the connection without answering`);
    }
    if (code?.startsWith('HPE_') || (failure instanceof Error && failure.name === 'HTTPParserError')) {
      return error('protocol', `response from ${where} is not valid HTTP/1.1: ${message}`);
    }
    if (code?.startsWith('ERR_SSL_') || code?.startsWith('ERR_TLS_')) {
      return error('tls', `TLS failure with ${where}: ${tlsAlertMessage(failure as Error)}`);
    }
    return error('protocol', `exchange with ${where} failed: ${message}${code ? ` (${code})` : ''}`);
  }
}

type Classified = { error: ExchangeError; lengthMismatch?: { declared: number; received: number }; body?: Buffer };

/** The HTTP/2 evidence read off the wire for one exchange: its stream in the server's frames, and any GOAWAY. */
function h2Evidence(tap: SocketTap | undefined, capture: Capture) {
  if (!tap?.h2 || capture.streamId === undefined) return undefined;
  return { streamId: capture.streamId, stream: tap.h2.inbound.get(capture.streamId), goaway: tap.h2.inbound.goaway };
}

function mergeHeaders(...layers: Array<Readonly<HeaderOverrides> | undefined>): Record<string, string> {
  const merged: Record<string, string> = {};
  for (const layer of layers) {
    for (const [name, value] of Object.entries(layer ?? {})) {
      const key = name.toLowerCase();
      if (value === null) delete merged[key];
      else merged[key] = value;
    }
  }
  return merged;
}

/**
 * The request as it went on the wire when it did; as it was meant to go when nothing was written. Over HTTP/2 the
 * header block is compressed, so the fields are those undici hands to Node, pseudo-header fields first.
 */
function requestRecord(outgoing: Outgoing, capture: Capture, httpVersion: HttpVersion | undefined): HttpMessage {
  const { target, method, headers, body } = outgoing;
  const record: HttpMessage = { method, url: target.href, headers: {}, body };
  const head = capture.sentHead;
  const end = httpVersion === '2' ? -1 : head.indexOf('\r\n\r\n');
  if (httpVersion === '2') {
    Object.assign(record, headersFromRaw(http2RequestFields(outgoing)));
  } else if (end >= 0) {
    const lines = head.subarray(0, end).toString('latin1').split('\r\n').slice(1);
    const raw = lines.flatMap((l) => {
      const colon = l.indexOf(':');
      return [l.slice(0, colon).trim(), l.slice(colon + 1).trim()];
    });
    Object.assign(record, headersFromRaw(raw));
  } else {
    Object.assign(record, headersFromRaw(headers));
  }
  const declared = declaredLength(record.headers);
  if (declared !== undefined) record.declaredLength = declared;
  return attachParse(record);
}

/** The fields of an HTTP/2 request as undici builds them: pseudo-header fields, the rest lower-cased, content-length. */
function http2RequestFields({ target, method, headers, body }: Outgoing): string[] {
  let authority = target.host;
  const fields: string[] = [];
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i]!.toLowerCase();
    if (name === 'host') authority = headers[i + 1]!;
    else fields.push(name, headers[i + 1]!);
  }
  const pseudo = [':method', method, ':path', `${target.pathname}${target.search}`, ':scheme', target.protocol.slice(0, -1), ':authority', authority];
  return [...pseudo, ...fields, 'content-length', String(body.length)];
}

/** OpenSSL's one-line reason, with what a refused client certificate usually means. */
function tlsAlertMessage(err: Error): string {
  const code = errorCode(err) ?? '';
  const reason = (err as { reason?: unknown }).reason;
  const text = typeof reason === 'string' ? reason : err.message.split('\n')[0];
  if (code.endsWith('_ALERT_CERTIFICATE_REQUIRED')) return `the server requires a client certificate: ${text} (${code})`;
  if (/_ALERT_(BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_EXPIRED|CERTIFICATE_REVOKED|CERTIFICATE_UNKNOWN|UNSUPPORTED_CERTIFICATE|ACCESS_DENIED)$/.test(code)) {
    return `the server refused the client certificate: ${text} (${code})`;
  }
  return `the TLS session failed: ${text} (${code})`;
}

/** Why the server certificate is refused, or undefined when it is acceptable. */
function refusalOf(facts: TlsFacts, host: string): string | undefined {
  if (facts.authorized) return undefined;
  const cert = facts.peerCertificate;
  const who = describeCertificate(cert);
  switch (facts.authorizationError) {
    case 'NO_PEER_CERTIFICATE':
      return 'server presented no certificate';
    case 'CERT_HAS_EXPIRED':
      return `server certificate expired on ${cert?.validTo} (${who})`;
    case 'CERT_NOT_YET_VALID':
      return `server certificate not valid before ${cert?.validFrom} (${who})`;
    case 'ERR_TLS_CERT_ALTNAME_INVALID': {
      const names = cert?.subjectAltName ?? `CN=${cert?.subjectCN ?? '?'}`;
      return `server certificate is not for ${host}: it names ${names} (${who})`;
    }
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'CERT_SIGNATURE_FAILURE':
      return `server certificate not trusted: ${who} does not chain to the configured CA (${facts.authorizationError})`;
    default:
      return `server certificate rejected: ${facts.authorizationError} (${who})`;
  }
}

/**
 * Observes the plaintext the HTTP client reads and writes, without changing how it reads: undici pulls with
 * `read()` and gives back what it did not consume with `unshift()`, so counting both keeps the tally exact.
 */
function tapSocket(socket: Socket, tap: SocketTap): void {
  taps.set(socket, tap);
  watchTlsErrors(socket, tap);
  const read = socket.read.bind(socket);
  const unshift = socket.unshift.bind(socket);
  const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
  socket.read = ((size?: number) => {
    const chunk: unknown = read(size);
    if (Buffer.isBuffer(chunk)) onReceived(tap, chunk);
    return chunk;
  }) as typeof socket.read;
  socket.unshift = ((chunk: Buffer, encoding?: BufferEncoding) => {
    tap.reread += chunk.length;
    unshift(chunk, encoding);
  }) as typeof socket.unshift;
  socket.write = ((...args: unknown[]) => {
    const capture = tap.capture;
    if (capture) noteSent(capture, args[0], typeof args[1] === 'string' ? (args[1] as BufferEncoding) : 'utf8');
    return write(...args);
  }) as typeof socket.write;
}

function watchTlsErrors(socket: Socket, tap: SocketTap): void {
  socket.on('error', (err: Error) => {
    if (!tap.tlsError && errorCode(err)?.startsWith('ERR_SSL_')) tap.tlsError = err;
  });
}

/**
 * Routes an h2 connection through a TappedConnection: bytes are counted for the exchange in progress, and the
 * frames read in both directions (the opening HEADERS names the exchange's stream; the server's frames are kept per
 * stream). Returns the stream undici speaks HTTP/2 through.
 */
function tapHttp2(socket: TLSSocket, tap: SocketTap, maxBodyBytes: number): TappedConnection {
  const inbound = new StreamLedger(maxBodyBytes);
  const h2: H2Wire = {
    inbound,
    reader: new FrameReader((frame) => inbound.note(frame)),
    writer: new FrameReader((frame) => {
      const capture = tap.capture;
      if (capture && capture.streamId === undefined && frame.type === FRAME.HEADERS) capture.streamId = frame.streamId;
    }, { preface: true }),
  };
  tap.h2 = h2;
  watchTlsErrors(socket, tap);
  const connection = new TappedConnection(socket, {
    received: (chunk) => {
      if (tap.capture) tap.capture.bytesReceived += chunk.length;
      h2.reader.feed(chunk);
    },
    sent: (chunk) => {
      if (tap.capture) tap.capture.bytesSent += chunk.length;
      h2.writer.feed(chunk);
    },
  });
  taps.set(connection, tap);
  return connection;
}

function noteSent(capture: Capture, chunk: unknown, encoding: BufferEncoding): void {
  const room = HEAD_CAPTURE_BYTES - capture.sentHead.length;
  if (typeof chunk === 'string') {
    capture.bytesSent += Buffer.byteLength(chunk, encoding);
    if (room > 0) capture.sentHead = Buffer.concat([capture.sentHead, Buffer.from(chunk.slice(0, room), encoding).subarray(0, room)]);
  } else if (chunk instanceof Uint8Array) {
    capture.bytesSent += chunk.byteLength;
    if (room > 0) capture.sentHead = Buffer.concat([capture.sentHead, chunk.subarray(0, room)]);
  }
}

function onReceived(tap: SocketTap, chunk: Buffer): void {
  let fresh = chunk;
  if (tap.reread > 0) {
    const skip = Math.min(tap.reread, chunk.length);
    tap.reread -= skip;
    fresh = chunk.subarray(skip);
  }
  const capture = tap.capture;
  if (!capture || fresh.length === 0) return;
  capture.bytesReceived += fresh.length;
  capture.framer.feed(fresh);
  if (capture.recorded) noteTrailing(capture);
}

/** Records bytes that followed the end of the response: undici would otherwise drop them without a word. */
function noteTrailing(capture: Capture): void {
  const exchange = capture.recorded;
  const response = exchange?.response;
  const extra = capture.framer.trailing;
  if (!exchange || !response || extra === 0) return;
  if (exchange.wire) exchange.wire.bytesReceived = capture.bytesReceived;
  response.trailing = Buffer.concat(capture.framer.trailingBytes);
  if (exchange.error && !capture.trailingNoted) return;
  capture.trailingNoted = true;
  const declared = response.declaredLength;
  if (declared !== undefined) {
    response.lengthMismatch = { declared, received: declared + extra };
    exchange.error = { kind: 'protocol', message: `body longer than Content-Length ${declared}: ${extra} more bytes followed on the connection` };
  } else if (/chunked/i.test(response.headers['transfer-encoding'] ?? '')) {
    exchange.error = { kind: 'protocol', message: `${extra} bytes followed the end of the chunked response body` };
  } else {
    exchange.error = { kind: 'protocol', message: `${extra} bytes followed a ${response.status} response, which has no body` };
  }
}
