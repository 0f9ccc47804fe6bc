/**
 * The reference server's HTTPS endpoint: answers a client under test through a handler and records every exchange.
 *
 * Client certificates are requested but never enforced by TLS: the harness judges them itself (MDM-TRN-004), so a
 * session with a missing or untrusted certificate still reaches the handler, which sees the facts and decides. What
 * the client does wrong at the HTTP or TLS level (garbage, a short body, an aborted handshake) is recorded, answered
 * where HTTP allows, and never stops the server.
 *
 * HTTP/2 and HTTP/1.1 share the port: one TLS listener offers both by ALPN and hands each connection to Node's
 * HTTP/1.1 server or to an HTTP/2 session, and both paths end in the same handler, limits and records.
 */
import { createServer, type Server } from 'node:https';
import { validateHeaderName, validateHeaderValue, type IncomingMessage, type ServerResponse } from 'node:http';
import {
  constants as h2, createServer as createHttp2Server, type Http2Server, type Http2Session, type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import { isIP, type Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { ParsedSyncML } from '../syncml';
import { h2ErrorName } from './h2-frames';
import { hopByHopNames } from './headers';
import { attachParse, DEFAULT_MAX_BODY_BYTES, declaredLength, errorCode, errorText, headersFromRaw, tlsFacts } from './record';
import { Transcript, type Exchange, type ExchangeError, type HttpMessage, type HttpVersion, type TlsFacts } from './transcript';

export interface IncomingRequest {
  method: string;
  /** The request-target as received: path and query. */
  url: string;
  headers: Record<string, string>;
  rawHeaders: string[];
  body: Buffer;
  declaredLength?: number;
  parsed?: ParsedSyncML;
  parseError?: { code: string; message: string };
  tls: TlsFacts;
  /** `host:port` of the client. */
  peer: string;
  startedAt: number;
  /** `2` when the client spoke h2 (then `headers` and `rawHeaders` include the pseudo-header fields). */
  httpVersion: HttpVersion;
  /** For fault injection that needs the raw connection (for example writing a malformed response). */
  socket: TLSSocket;
}

export interface HandlerResponse {
  status: number;
  headers?: Record<string, string>;
  /**
   * Name/value pairs sent in this order and spelling, repeated names included (a proxy relaying Set-Cookie, say);
   * used instead of `headers` when given.
   */
  rawHeaders?: readonly string[];
  body?: Uint8Array | string;
  /** Wait this long before answering: a slow server. */
  delayMs?: number;
  /** Drop the connection without answering: a reset. Takes effect after `delayMs`. */
  destroy?: boolean;
}

export type RequestHandler = (request: IncomingRequest) => HandlerResponse | Promise<HandlerResponse>;

export interface HttpsServerOptions {
  /** The server certificate and key. */
  identity: { certPem: string; keyPem: string };
  /** CA certificate(s) client certificates are judged against. */
  ca?: string | string[];
  /** A loopback address or `localhost`, unless `exposed`. Default `127.0.0.1`. */
  host?: string;
  /**
   * Allow a `host` that is not a loopback address. Only for an address the user named: the server answers anyone
   * who reaches it. Default false.
   */
  exposed?: boolean;
  /** Offer h2 by ALPN beside HTTP/1.1, as Windows' servers do. Default true. */
  http2?: boolean;
  /** Default 0: a free port. */
  port?: number;
  /** A larger request body is answered 413 without being read whole. Default 16 MiB. */
  maxRequestBytes?: number;
  /** Status of that answer; default 413. A fragile server's 500 is a fault of the reference server (MDM-ROB-006). */
  tooLargeStatus?: number;
  /** TLS handshake, and the request head once connected. Default 5 000 ms. */
  headersMs?: number;
  /** The request body, from the end of the head. Default 10 000 ms. */
  bodyMs?: number;
  /** An idle keep-alive connection is closed after this. Default 5 000 ms. */
  keepAliveMs?: number;
  transcript?: Transcript;
  handler: RequestHandler;
  /**
   * Called as each exchange is recorded, with the request the handler saw when it got that far (not for garbage,
   * TLS failures, refused or abandoned requests).
   */
  onExchange?: (exchange: Exchange, request?: IncomingRequest) => void;
}

type ExchangeBase = Pick<Exchange, 'startedAt' | 'request' | 'tls' | 'peer' | 'httpVersion'>;

/**
 * One request's way back to its client: a ServerResponse over HTTP/1.1, a stream over HTTP/2. The answering logic
 * (handler, delay, fault, record) is the same for both.
 */
interface ReplyChannel {
  socket: TLSSocket;
  /** The client can no longer be answered. */
  gone(): boolean;
  /** Sends an answer; throws before anything is sent when a header cannot be sent. */
  send(status: number, raw: string[], body: Buffer): HttpMessage;
  /** Calls back once: `true` when the answer went out in full, `false` when the client went away first. */
  whenSent(done: (complete: boolean) => void): void;
  /** Drops the connection without an answer (a fault the handler asks for). */
  drop(): void;
}

/** What HTTP/2 sessions need beside the session itself. */
interface Http2Connection {
  socket: TLSSocket;
  peer: string;
  /** When the connection was handed over. */
  since: number;
  /** Streams in progress. */
  open: number;
  /** Streams the client has opened so far. */
  seen: number;
  /** Waits for a request head, or lets an idle connection go. */
  timer?: NodeJS.Timeout;
}

export class HttpsServer {
  readonly transcript: Transcript;
  handler: RequestHandler;
  private readonly server: Server;
  /** Never listens: it only runs the HTTP/2 sessions of connections the TLS listener hands over. */
  private readonly http2: Http2Server;
  private readonly http2Connections = new WeakMap<Http2Session, Http2Connection>();
  /** The connection being handed to the HTTP/2 server, whose session is created synchronously. */
  private handingOver?: Http2Connection;
  private readonly host: string;
  private readonly maxRequestBytes: number;
  private readonly tooLargeStatus: number;
  private readonly bodyMs: number;
  private readonly headersMs: number;
  private readonly keepAliveMs: number;
  private readonly connections = new Set<Socket>();
  /** Connections with a request in progress: their failures are recorded by the request, not as client errors. */
  private readonly busy = new WeakSet<Socket>();
  /** Requests (HTTP/1.1 or HTTP/2) received and not yet recorded. */
  private requestsOpen = 0;
  /** Connections whose TLS handshake is under way, by peer address: a refused handshake is recorded when it ends. */
  private readonly handshaking = new Map<string, Socket>();
  private listening = false;

  constructor(private readonly options: HttpsServerOptions) {
    this.host = options.host ?? '127.0.0.1';
    if (!options.exposed) assertLoopback(this.host);
    this.transcript = options.transcript ?? new Transcript();
    this.handler = options.handler;
    this.maxRequestBytes = options.maxRequestBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.tooLargeStatus = options.tooLargeStatus ?? 413;
    this.bodyMs = options.bodyMs ?? 10_000;
    const headersMs = options.headersMs ?? 5_000;
    this.headersMs = headersMs;
    this.keepAliveMs = options.keepAliveMs ?? 5_000;
    this.server = createServer({
      cert: options.identity.certPem,
      key: options.identity.keyPem,
      ...(options.ca !== undefined ? { ca: options.ca } : {}),
      requestCert: true,
      rejectUnauthorized: false,
      ALPNProtocols: options.http2 === false ? ['http/1.1'] : ['h2', 'http/1.1'],
      handshakeTimeout: headersMs,
      headersTimeout: headersMs,
      // Node's own limit is only a backstop: the body timer below answers first and records why.
      requestTimeout: headersMs + this.bodyMs + 1_000,
      keepAliveTimeout: this.keepAliveMs,
      // Node checks those timeouts on this period (30 s by default), far too coarse for short test timeouts.
      connectionsCheckingInterval: Math.max(25, Math.min(1_000, Math.floor(headersMs / 4))),
    });
    this.server.on('connection', (socket: Socket) => {
      this.connections.add(socket);
      const peer = `${socket.remoteAddress}:${socket.remotePort}`;
      this.handshaking.set(peer, socket);
      socket.on('close', () => {
        this.connections.delete(socket);
        if (this.handshaking.get(peer) === socket) this.handshaking.delete(peer);
      });
    });
    this.server.on('request', (req: IncomingMessage, res: ServerResponse) => this.onRequest(req, res));
    this.server.on('clientError', (err: Error, socket: Socket) => this.onClientError(err, socket));
    this.server.on('tlsClientError', (err: Error, socket: TLSSocket) => this.onTlsClientError(err, socket));

    // The HTTPS server parses HTTP/1.1 on every secure connection; those that chose h2 go to the HTTP/2 server.
    const http1 = this.server.listeners('secureConnection') as Array<(socket: TLSSocket) => void>;
    this.server.removeAllListeners('secureConnection');
    this.server.on('secureConnection', (socket: TLSSocket) => {
      this.handshaking.delete(`${socket.remoteAddress}:${socket.remotePort}`);
      if (socket.alpnProtocol === 'h2') this.acceptHttp2(socket);
      else for (const listener of http1) listener.call(this.server, socket);
    });
    // Room (in MB) for a body at the 16 MiB limit in flight; Node's default of 10 would refuse it.
    this.http2 = createHttp2Server({ maxSessionMemory: 64 });
    this.http2.on('session', (session: ServerHttp2Session) => this.onSession(session));
    this.http2.on('stream', (stream: ServerHttp2Stream, _headers: unknown, _flags: number, rawHeaders: string[]) => {
      this.onStream(stream, rawHeaders);
    });
  }

  listen(): Promise<{ url: string; port: number }> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => {
        reject(new Error(`cannot listen on ${this.host}:${this.options.port ?? 0}: ${errorText(err)}`));
      };
      this.server.once('error', onError);
      this.server.listen(this.options.port ?? 0, this.host, () => {
        this.server.off('error', onError);
        this.listening = true;
        const address = this.server.address();
        const port = typeof address === 'object' && address ? address.port : 0;
        const host = isIP(this.host) === 6 ? `[${this.host}]` : this.host;
        resolve({ url: `https://${host}:${port}`, port });
      });
    });
  }

  /**
   * Everything the clients sent has been recorded: no TLS handshake and no request under way, and every open
   * connection a kept-alive one from this machine. A client that has gone quiet can be judged on the transcript.
   */
  get idle(): boolean {
    if (this.requestsOpen !== 0 || this.handshaking.size !== 0) return false;
    // A kept-alive connection from this machine carries nothing unseen: loopback delivers at once, and a request
    // that has arrived is counted above. Bytes from another machine may still be on the way.
    for (const socket of this.connections) if (!isLoopback(socket.remoteAddress ?? '')) return false;
    return true;
  }

  /** Stops listening and drops every connection, idle keep-alive ones included. */
  close(): Promise<void> {
    if (!this.listening) return Promise.resolve();
    this.listening = false;
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
      for (const socket of this.connections) socket.destroy();
    });
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const startedAt = Date.now();
    this.requestsOpen++;
    const socket = req.socket as TLSSocket;
    this.busy.add(socket);
    const request: HttpMessage = {
      method: req.method ?? '',
      url: req.url ?? '',
      ...headersFromRaw(req.rawHeaders),
      body: Buffer.alloc(0),
    };
    const declared = declaredLength(request.headers);
    if (declared !== undefined) request.declaredLength = declared;
    const base: ExchangeBase = { startedAt, request, tls: tlsFacts(socket), peer: `${socket.remoteAddress}:${socket.remotePort}`, httpVersion: '1.1' };
    req.on('error', () => undefined);
    res.on('error', () => undefined);
    this.readBody(req, base, {
      refuse: (status, error) => this.refuse(res, socket, base, status, error),
      complete: () => void this.answer(base, http1Channel(req, res, socket)),
      abandoned: (exchange) => {
        this.busy.delete(socket);
        this.append(exchange);
      },
      endedBy: () => 'client closed the connection',
    });
  }

  /**
   * Reads a request body within the server's bounds. A declared or actual size above the limit is refused (413 by
   * default) and so is a body that stalls (408); a client that goes away mid-body is recorded; a complete body is
   * parsed and answered.
   */
  private readBody(
    source: Readable,
    base: ExchangeBase,
    on: {
      refuse: (status: number, error: ExchangeError) => void;
      complete: () => void;
      abandoned: (exchange: Omit<Exchange, 'index'>) => void;
      /** How the body ended early, for example "client closed the connection". */
      endedBy: () => string;
      /** HTTP/2: a stream the client resets also ends its body, as aborted. */
      aborted?: () => boolean;
    },
  ): void {
    const { request } = base;
    const declared = request.declaredLength;
    if (declared !== undefined && declared > this.maxRequestBytes) {
      on.refuse(this.tooLargeStatus, {
        kind: 'too-large',
        message: `request declares Content-Length ${declared}, above the limit of ${this.maxRequestBytes} bytes; answered ${this.tooLargeStatus} without reading it`,
      });
      return;
    }

    const chunks: Buffer[] = [];
    let received = 0;
    let done = false;
    const stop = () => {
      done = true;
      clearTimeout(timer);
      source.removeAllListeners('data');
    };
    const timer = setTimeout(() => {
      if (done) return;
      stop();
      request.body = Buffer.concat(chunks);
      const of = declared !== undefined ? ` of ${declared}` : '';
      on.refuse(408, {
        kind: 'timeout',
        message: `request body incomplete after ${this.bodyMs} ms: ${received}${of} bytes received; answered 408`,
      });
    }, this.bodyMs);

    source.on('data', (chunk: Buffer) => {
      if (done) return;
      if (received + chunk.length > this.maxRequestBytes) {
        stop();
        request.body = Buffer.concat(chunks);
        on.refuse(this.tooLargeStatus, {
          kind: 'too-large',
          message: `request body exceeds the limit of ${this.maxRequestBytes} bytes; answered ${this.tooLargeStatus} after ${received} bytes`,
        });
        return;
      }
      chunks.push(chunk);
      received += chunk.length;
    });
    const complete = () => {
      if (done) return;
      stop();
      request.body = Buffer.concat(chunks);
      attachParse(request);
      on.complete();
    };
    source.on('end', () => (on.aborted?.() ? abandon() : complete()));
    const abandon = () => {
      if (done) return;
      stop();
      request.body = Buffer.concat(chunks);
      attachParse(request);
      const exchange: Omit<Exchange, 'index'> = { ...base, endedAt: Date.now() };
      const how = on.endedBy();
      if (declared !== undefined) {
        request.lengthMismatch = { declared, received };
        exchange.error = {
          kind: 'protocol',
          message: `request body shorter than Content-Length ${declared}: ${received} bytes arrived before the ${how}`,
        };
      } else {
        exchange.error = { kind: 'reset', message: `${how} before the request body ended (${received} bytes received)` };
      }
      on.abandoned(exchange);
    };
    source.on('close', abandon);
  }

  private async answer(base: ExchangeBase, channel: ReplyChannel): Promise<void> {
    const { request } = base;
    const incoming: IncomingRequest = {
      method: request.method ?? '',
      url: request.url ?? '',
      headers: request.headers,
      rawHeaders: request.rawHeaders ?? [],
      body: request.body,
      tls: base.tls!,
      peer: base.peer!,
      startedAt: base.startedAt,
      httpVersion: base.httpVersion ?? '1.1',
      socket: channel.socket,
    };
    if (request.declaredLength !== undefined) incoming.declaredLength = request.declaredLength;
    if (request.parsed) incoming.parsed = request.parsed;
    if (request.parseError) incoming.parseError = request.parseError;

    const { result, error: handlerError } = await this.callHandler(incoming);
    if (result.delayMs) await new Promise((r) => setTimeout(r, result.delayMs));

    const exchange: Omit<Exchange, 'index'> = { ...base, endedAt: 0 };
    if (handlerError) exchange.error = handlerError;
    const record = () => {
      exchange.endedAt = Date.now();
      this.busy.delete(channel.socket);
      this.append(exchange, incoming);
    };
    if (result.destroy) {
      channel.drop();
      exchange.error ??= { kind: 'reset', message: 'connection dropped without an answer (fault injected by the handler)' };
      record();
      return;
    }
    if (channel.gone()) {
      exchange.error ??= { kind: 'reset', message: 'client closed the connection before the response was sent' };
      record();
      return;
    }
    channel.whenSent((complete) => {
      if (!complete) exchange.error ??= { kind: 'reset', message: 'client closed the connection before the response was fully sent' };
      record();
    });
    const written = this.write(channel, result);
    exchange.response = written.message;
    if (written.error) exchange.error ??= written.error;
  }

  /** A handler that throws or returns nonsense is the harness's fault: answer 500 and say so in the record. */
  private async callHandler(incoming: IncomingRequest): Promise<{ result: HandlerResponse; error?: ExchangeError }> {
    try {
      const result = await this.handler(incoming);
      if (!result || !Number.isInteger(result.status) || result.status < 100 || result.status > 999) {
        throw new Error(`handler returned no valid status (${JSON.stringify(result?.status)})`);
      }
      return { result };
    } catch (e) {
      const error: ExchangeError = { kind: 'handler', message: `request handler failed: ${errorText(e)}` };
      return { result: { status: 500, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: error.message }, error };
    }
  }

  /**
   * Writes the handler's answer; Content-Length is added unless the handler framed the body itself. A Content-Length
   * the handler chose is sent as it is, whatever the body: that is how framing faults are injected.
   */
  private write(channel: ReplyChannel, result: HandlerResponse): { message: HttpMessage; error?: ExchangeError } {
    const body = Buffer.isBuffer(result.body) ? result.body : Buffer.from(result.body ?? '');
    const raw = result.rawHeaders ? [...result.rawHeaders] : Object.entries(result.headers ?? {}).flat();
    const names = raw.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
    if (!names.includes('content-length') && !names.includes('transfer-encoding')) raw.push('Content-Length', String(body.length));
    try {
      return { message: channel.send(result.status, raw, body) };
    } catch (e) {
      const error: ExchangeError = { kind: 'handler', message: `request handler failed: ${errorText(e)}` };
      const text = Buffer.from(error.message);
      return { message: channel.send(500, plainHeaders(text), text), error };
    }
  }

  private writePlain(res: ServerResponse, status: number, body: Buffer, extra: string[] = []): HttpMessage {
    const raw = [...plainHeaders(body), ...extra];
    res.statusCode = status;
    for (let i = 0; i < raw.length; i += 2) res.setHeader(raw[i]!, raw[i + 1]!);
    res.end(body);
    return responseRecord(res.statusCode, res.statusMessage, body, raw);
  }

  /** Answers without calling the handler and closes the connection, which may still carry unread body bytes. */
  private refuse(
    res: ServerResponse,
    socket: TLSSocket,
    base: ExchangeBase,
    status: number,
    error: ExchangeError,
  ): void {
    const body = Buffer.from(`${error.message}\n`);
    const exchange: Omit<Exchange, 'index'> = { ...base, endedAt: 0, error };
    // A body refused as too large is read on and discarded rather than cut off: closing a connection with unread
    // bytes resets it, and a client still uploading would never read the answer. A declared length up to four times
    // the limit is drained whole and the connection stays usable; a larger or unknown length is drained only for
    // the body timeout (or until it ends), then the connection is closed. Discarded bytes cost no memory.
    const declared = base.request.declaredLength;
    const tooLarge = error.kind === 'too-large';
    const drainWhole = tooLarge && declared !== undefined && declared <= 4 * this.maxRequestBytes;
    if (!res.headersSent && !socket.destroyed) exchange.response = this.writePlain(res, status, body, tooLarge ? [] : ['Connection', 'close']);
    if (tooLarge) {
      const limit = setTimeout(() => socket.destroy(), this.bodyMs);
      socket.once('close', () => clearTimeout(limit));
      res.req.once('end', () => {
        clearTimeout(limit);
        if (drainWhole) return;
        socket.end();
        setTimeout(() => socket.destroy(), 1_000).unref();
      });
    } else res.once('close', () => socket.destroy());
    exchange.endedAt = Date.now();
    this.busy.delete(socket);
    this.append(exchange);
  }

  private append(exchange: Omit<Exchange, 'index'>, request?: IncomingRequest): void {
    // Every request received is recorded exactly once; what is recorded without a method never was a request.
    if (exchange.request.method !== undefined) this.requestsOpen--;
    const recorded = this.transcript.append(exchange);
    this.options.onExchange?.(recorded, request);
  }

  private acceptHttp2(socket: TLSSocket): void {
    const connection: Http2Connection = {
      socket, peer: `${socket.remoteAddress}:${socket.remotePort}`, since: Date.now(), open: 0, seen: 0,
    };
    this.handingOver = connection;
    try {
      this.http2.emit('connection', socket);
    } finally {
      this.handingOver = undefined;
    }
  }

  private onSession(session: ServerHttp2Session): void {
    const connection = this.handingOver;
    if (!connection) {
      session.destroy();
      return;
    }
    this.http2Connections.set(session, connection);
    session.on('error', (err: Error) => this.onSessionError(connection, err));
    session.on('close', () => clearTimeout(connection.timer));
    this.awaitRequest(session, connection);
  }

  /**
   * A connection with no stream in progress waits for a request head: the first for `headersMs` (a client that
   * connects and says nothing, or trickles its HEADERS, is recorded and dropped, as over HTTP/1.1), later ones for
   * the keep-alive time, after which the connection is let go quietly.
   */
  private awaitRequest(session: Http2Session, connection: Http2Connection): void {
    clearTimeout(connection.timer);
    const first = connection.seen === 0;
    const waitMs = first ? this.headersMs : this.keepAliveMs;
    connection.timer = setTimeout(() => {
      if (connection.open > 0 || session.destroyed) return;
      if (first) {
        this.append({
          startedAt: connection.since,
          endedAt: Date.now(),
          request: { headers: {}, body: Buffer.alloc(0) },
          tls: tlsFacts(connection.socket),
          peer: connection.peer,
          httpVersion: '2',
          error: { kind: 'timeout', message: `no complete request head within ${this.headersMs} ms` },
        });
      }
      // Sends GOAWAY before the connection closes.
      session.destroy();
    }, waitMs);
  }

  /** A client that breaks HTTP/2 outside any request is recorded; inside one, the request records it. */
  private onSessionError(connection: Http2Connection, err: Error): void {
    const code = errorCode(err);
    if (connection.open > 0 || code === 'ECONNRESET' || code === 'EPIPE') return;
    this.append({
      startedAt: Date.now(),
      endedAt: Date.now(),
      request: { headers: {}, body: Buffer.alloc(0) },
      tls: tlsFacts(connection.socket),
      peer: connection.peer,
      httpVersion: '2',
      error: { kind: 'protocol', message: `the client broke the HTTP/2 protocol: ${err.message}${code ? ` (${code})` : ''}` },
    });
  }

  private onStream(stream: ServerHttp2Stream, rawHeaders: string[]): void {
    const startedAt = Date.now();
    const session = stream.session;
    const connection = session ? this.http2Connections.get(session) : undefined;
    stream.on('error', () => undefined);
    if (!session || !connection) {
      stream.close(h2.NGHTTP2_REFUSED_STREAM);
      return;
    }
    connection.open++;
    connection.seen++;
    this.requestsOpen++;
    clearTimeout(connection.timer);
    stream.once('close', () => {
      connection.open--;
      if (connection.open === 0 && !session.destroyed && !session.closed) this.awaitRequest(session, connection);
    });
    const fields = headersFromRaw(rawHeaders);
    const request: HttpMessage = {
      method: fields.headers[':method'] ?? '',
      url: fields.headers[':path'] ?? '',
      ...fields,
      body: Buffer.alloc(0),
    };
    const declared = declaredLength(request.headers);
    if (declared !== undefined) request.declaredLength = declared;
    const base: ExchangeBase = { startedAt, request, tls: tlsFacts(connection.socket), peer: connection.peer, httpVersion: '2' };
    this.readBody(stream, base, {
      refuse: (status, error) => this.refuseStream(stream, base, status, error),
      complete: () => void this.answer(base, http2Channel(stream, connection.socket)),
      abandoned: (exchange) => this.append(exchange),
      aborted: () => stream.aborted,
      endedBy: () => {
        const code = stream.rstCode;
        if (session.destroyed) return 'client closed the connection';
        if (code === h2.NGHTTP2_PROTOCOL_ERROR) return 'stream was reset as malformed (PROTOCOL_ERROR: its DATA disagreed with its content-length or broke RFC 9113 8.1.1)';
        if (code !== undefined && code !== h2.NGHTTP2_NO_ERROR) return `client reset the stream (RST_STREAM ${h2ErrorName(code)})`;
        return 'client closed the connection';
      },
    });
  }

  /**
   * Answers an HTTP/2 request without calling the handler. Once the answer is sent in full, RST_STREAM NO_ERROR asks
   * the client to stop sending the rest of its body (RFC 9113 8.1), so nothing needs draining and other streams on
   * the connection go on.
   */
  private refuseStream(stream: ServerHttp2Stream, base: ExchangeBase, status: number, error: ExchangeError): void {
    const body = Buffer.from(`${error.message}\n`);
    const exchange: Omit<Exchange, 'index'> = { ...base, endedAt: 0, error };
    const stopUpload = () => {
      if (!stream.closed && !stream.destroyed) stream.close(h2.NGHTTP2_NO_ERROR);
    };
    if (!stream.headersSent && !stream.destroyed) {
      exchange.response = http2Channel(stream, undefined).send(status, plainHeaders(body), body);
      stream.once('finish', stopUpload);
    } else stopUpload();
    exchange.endedAt = Date.now();
    this.append(exchange);
  }

  private onClientError(err: Error, socket: Socket): void {
    const code = errorCode(err);
    // A handshake that timed out is reported here too; onTlsClientError records it, once.
    if (this.busy.has(socket) || code === 'ECONNRESET' || code === 'EPIPE' || code === 'ERR_TLS_HANDSHAKE_TIMEOUT') {
      socket.destroy();
      return;
    }
    const [status, error]: [number, ExchangeError] =
      code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, { kind: 'timeout', message: `no complete request head within ${this.options.headersMs ?? 5_000} ms` }]
        : code === 'HPE_HEADER_OVERFLOW'
          ? [431, { kind: 'too-large', message: `request head too large: ${err.message}` }]
          : [400, { kind: 'protocol', message: `request is not valid HTTP/1.1: ${err.message}${code ? ` (${code})` : ''}` }];
    const raw = (err as { rawPacket?: unknown }).rawPacket;
    const exchange: Omit<Exchange, 'index'> = {
      startedAt: Date.now(),
      endedAt: Date.now(),
      request: { headers: {}, body: Buffer.isBuffer(raw) ? raw : Buffer.alloc(0) },
      httpVersion: '1.1',
      error,
    };
    const tlsSocket = socket as TLSSocket;
    if (typeof tlsSocket.getPeerCertificate === 'function') exchange.tls = tlsFacts(tlsSocket);
    if (socket.remoteAddress) exchange.peer = `${socket.remoteAddress}:${socket.remotePort}`;
    if (socket.writable) {
      const reason = status === 408 ? 'Request Timeout' : status === 431 ? 'Request Header Fields Too Large' : 'Bad Request';
      socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      exchange.response = { status, statusText: reason, headers: { connection: 'close', 'content-length': '0' }, body: Buffer.alloc(0), declaredLength: 0 };
    }
    socket.destroySoon?.();
    this.append(exchange);
  }

  /** A client that refuses our certificate, or speaks something other than TLS, is recorded: that is evidence. */
  private onTlsClientError(err: Error, socket: TLSSocket): void {
    const code = errorCode(err);
    const exchange: Omit<Exchange, 'index'> = {
      startedAt: Date.now(),
      endedAt: Date.now(),
      request: { headers: {}, body: Buffer.alloc(0) },
      error: code === 'ERR_TLS_HANDSHAKE_TIMEOUT'
        ? { kind: 'timeout', message: `TLS handshake not completed within ${this.options.headersMs ?? 5_000} ms` }
        : { kind: 'tls', message: `TLS handshake with the client failed: ${err.message}${code ? ` (${code})` : ''}` },
    };
    if (socket.remoteAddress) exchange.peer = `${socket.remoteAddress}:${socket.remotePort}`;
    socket.destroy();
    this.append(exchange);
  }
}

/** Node adds Date and keep-alive framing fields of its own; the record holds what the handler chose. */
function responseRecord(status: number, statusText: string, body: Buffer, raw: string[]): HttpMessage {
  const record: HttpMessage = { status, statusText, ...headersFromRaw(raw), body };
  const declared = declaredLength(record.headers);
  if (declared !== undefined) record.declaredLength = declared;
  return attachParse(record);
}

/** The reference server serves test identities and answers anything: it stays on the loopback interface. */
function isLoopback(host: string): boolean {
  const family = isIP(host);
  return host === 'localhost'
    || (family === 4 && host.startsWith('127.'))
    || (family === 6 && (host === '::1' || /^::ffff:127\./i.test(host)));
}

export function assertLoopback(host: string): void {
  if (!isLoopback(host)) {
    throw new Error(
      `refusing to listen on ${host}: the reference server only binds a loopback address (127.0.0.1, ::1 or localhost); ` +
      'to reach it from another machine, forward a port to it',
    );
  }
}

function plainHeaders(body: Buffer): string[] {
  return ['Content-Type', 'text/plain; charset=utf-8', 'Content-Length', String(body.length)];
}

function once(done: (complete: boolean) => void, complete: () => boolean): () => void {
  let called = false;
  return () => {
    if (called) return;
    called = true;
    done(complete());
  };
}

function http1Channel(req: IncomingMessage, res: ServerResponse, socket: TLSSocket): ReplyChannel {
  return {
    socket,
    gone: () => socket.destroyed || (req.destroyed && !req.complete),
    send: (status, raw, body) => {
      try {
        res.statusCode = status;
        const named = new Set<string>();
        for (let i = 0; i + 1 < raw.length; i += 2) {
          const name = raw[i]!.toLowerCase();
          if (named.has(name)) res.appendHeader(raw[i]!, raw[i + 1]!);
          else res.setHeader(raw[i]!, raw[i + 1]!);
          named.add(name);
        }
      } catch (e) {
        for (const name of res.getHeaderNames()) res.removeHeader(name);
        throw e;
      }
      res.end(body);
      return responseRecord(res.statusCode, res.statusMessage, body, raw);
    },
    whenSent: (done) => {
      const settle = once(done, () => res.writableFinished);
      res.once('finish', settle);
      res.once('close', settle);
    },
    drop: () => socket.destroy(),
  };
}

/**
 * Over HTTP/2 the answer goes out as HEADERS and DATA: connection-specific fields cannot be sent (RFC 9113 8.2.2)
 * and are left out of the answer and of its record. A content-length that disagrees with the body is sent as it is,
 * with the body's true DATA: the client sees the malformed response a broken server would send (RFC 9113 8.1.1).
 */
function http2Channel(stream: ServerHttp2Stream, socket: TLSSocket | undefined): ReplyChannel {
  const session = stream.session;
  return {
    socket: socket as TLSSocket,
    gone: () => stream.destroyed || stream.closed,
    send: (status, raw, body) => {
      const drop = hopByHopNames(raw);
      const fields: Record<string, string | string[]> = {};
      const sent: string[] = [];
      for (let i = 0; i + 1 < raw.length; i += 2) {
        const name = raw[i]!.toLowerCase();
        const value = raw[i + 1]!;
        if (drop.has(name)) continue;
        validateHeaderName(name);
        validateHeaderValue(name, value);
        const known = fields[name];
        fields[name] = known === undefined ? value : [...(Array.isArray(known) ? known : [known]), value];
        sent.push(name, value);
      }
      stream.respond({ ...fields, [h2.HTTP2_HEADER_STATUS]: status });
      stream.end(body);
      return responseRecord(status, '', body, sent);
    },
    // The stream closes once both sides sent END_STREAM; a reset or a lost connection closes it early. ('finish'
    // is no signal: Node may destroy a closed stream before emitting it.)
    whenSent: (done) => {
      stream.once('close', once(done, () => stream.rstCode === h2.NGHTTP2_NO_ERROR && session !== undefined && !session.destroyed));
    },
    drop: () => stream.session?.destroy(),
  };
}
