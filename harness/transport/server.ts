/**
 * The reference server's HTTPS endpoint: answers a client under test through a handler and records every exchange.
 *
 * Client certificates are requested but never enforced by TLS: the harness judges them itself (MDM-TRN-004), so a
 * session with a missing or untrusted certificate still reaches the handler, which sees the facts and decides. What
 * the client does wrong at the HTTP or TLS level (garbage, a short body, an aborted handshake) is recorded, answered
 * where HTTP allows, and never stops the server.
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { ParsedSyncML } from '../syncml';
import { attachParse, DEFAULT_MAX_BODY_BYTES, declaredLength, errorCode, errorText, headersFromRaw, tlsFacts } from './record';
import { Transcript, type Exchange, type ExchangeError, type HttpMessage, type TlsFacts } from './transcript';

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
  /** For fault injection that needs the raw connection (for example writing a malformed response). */
  socket: TLSSocket;
}

export interface HandlerResponse {
  status: number;
  headers?: Record<string, string>;
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
  /** A loopback address or `localhost`. Default `127.0.0.1`. */
  host?: string;
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
}

export class HttpsServer {
  readonly transcript: Transcript;
  handler: RequestHandler;
  private readonly server: Server;
  private readonly host: string;
  private readonly maxRequestBytes: number;
  private readonly tooLargeStatus: number;
  private readonly bodyMs: number;
  private readonly connections = new Set<Socket>();
  /** Connections with a request in progress: their failures are recorded by the request, not as client errors. */
  private readonly busy = new WeakSet<Socket>();
  private listening = false;

  constructor(private readonly options: HttpsServerOptions) {
    this.host = options.host ?? '127.0.0.1';
    assertLoopback(this.host);
    this.transcript = options.transcript ?? new Transcript();
    this.handler = options.handler;
    this.maxRequestBytes = options.maxRequestBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.tooLargeStatus = options.tooLargeStatus ?? 413;
    this.bodyMs = options.bodyMs ?? 10_000;
    const headersMs = options.headersMs ?? 5_000;
    this.server = createServer({
      cert: options.identity.certPem,
      key: options.identity.keyPem,
      ...(options.ca !== undefined ? { ca: options.ca } : {}),
      requestCert: true,
      rejectUnauthorized: false,
      handshakeTimeout: headersMs,
      headersTimeout: headersMs,
      // Node's own limit is only a backstop: the body timer below answers first and records why.
      requestTimeout: headersMs + this.bodyMs + 1_000,
      keepAliveTimeout: options.keepAliveMs ?? 5_000,
      // Node checks those timeouts on this period (30 s by default), far too coarse for short test timeouts.
      connectionsCheckingInterval: Math.max(25, Math.min(1_000, Math.floor(headersMs / 4))),
    });
    this.server.on('connection', (socket: Socket) => {
      this.connections.add(socket);
      socket.on('close', () => this.connections.delete(socket));
    });
    this.server.on('request', (req: IncomingMessage, res: ServerResponse) => this.onRequest(req, res));
    this.server.on('clientError', (err: Error, socket: Socket) => this.onClientError(err, socket));
    this.server.on('tlsClientError', (err: Error, socket: TLSSocket) => this.onTlsClientError(err, socket));
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
    const base = { startedAt, request, tls: tlsFacts(socket), peer: `${socket.remoteAddress}:${socket.remotePort}` };
    req.on('error', () => undefined);
    res.on('error', () => undefined);

    if (declared !== undefined && declared > this.maxRequestBytes) {
      this.refuse(res, socket, base, this.tooLargeStatus, {
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
      req.removeAllListeners('data');
    };
    const timer = setTimeout(() => {
      if (done) return;
      stop();
      request.body = Buffer.concat(chunks);
      const of = declared !== undefined ? ` of ${declared}` : '';
      this.refuse(res, socket, base, 408, {
        kind: 'timeout',
        message: `request body incomplete after ${this.bodyMs} ms: ${received}${of} bytes received; answered 408`,
      });
    }, this.bodyMs);

    req.on('data', (chunk: Buffer) => {
      if (done) return;
      if (received + chunk.length > this.maxRequestBytes) {
        stop();
        request.body = Buffer.concat(chunks);
        this.refuse(res, socket, base, this.tooLargeStatus, {
          kind: 'too-large',
          message: `request body exceeds the limit of ${this.maxRequestBytes} bytes; answered ${this.tooLargeStatus} after ${received} bytes`,
        });
        return;
      }
      chunks.push(chunk);
      received += chunk.length;
    });
    req.on('end', () => {
      if (done) return;
      stop();
      request.body = Buffer.concat(chunks);
      attachParse(request);
      void this.answer(req, res, socket, base);
    });
    req.on('close', () => {
      if (done) return;
      stop();
      request.body = Buffer.concat(chunks);
      attachParse(request);
      const exchange: Omit<Exchange, 'index'> = { ...base, endedAt: Date.now() };
      if (declared !== undefined) {
        request.lengthMismatch = { declared, received };
        exchange.error = {
          kind: 'protocol',
          message: `request body shorter than Content-Length ${declared}: ${received} bytes arrived before the client closed the connection`,
        };
      } else {
        exchange.error = { kind: 'reset', message: `client closed the connection before the request body ended (${received} bytes received)` };
      }
      this.busy.delete(socket);
      this.transcript.append(exchange);
    });
  }

  private async answer(
    req: IncomingMessage,
    res: ServerResponse,
    socket: TLSSocket,
    base: Pick<Exchange, 'startedAt' | 'request' | 'tls' | 'peer'>,
  ): Promise<void> {
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
      socket,
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
      this.busy.delete(socket);
      this.transcript.append(exchange);
    };
    if (result.destroy) {
      socket.destroy();
      exchange.error ??= { kind: 'reset', message: 'connection dropped without an answer (fault injected by the handler)' };
      record();
      return;
    }
    if (socket.destroyed || req.destroyed && !req.complete) {
      exchange.error ??= { kind: 'reset', message: 'client closed the connection before the response was sent' };
      record();
      return;
    }
    let recorded = false;
    const onDone = () => {
      if (recorded) return;
      recorded = true;
      if (!res.writableFinished) exchange.error ??= { kind: 'reset', message: 'client closed the connection before the response was fully sent' };
      record();
    };
    res.once('finish', onDone);
    res.once('close', onDone);
    const written = this.write(res, result);
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

  /** Writes the handler's answer; Content-Length is added unless the handler framed the body itself. */
  private write(res: ServerResponse, result: HandlerResponse): { message: HttpMessage; error?: ExchangeError } {
    const body = Buffer.from(result.body ?? '');
    const raw = Object.entries(result.headers ?? {}).flat();
    const names = raw.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
    if (!names.includes('content-length') && !names.includes('transfer-encoding')) raw.push('Content-Length', String(body.length));
    try {
      res.statusCode = result.status;
      for (let i = 0; i < raw.length; i += 2) res.setHeader(raw[i]!, raw[i + 1]!);
    } catch (e) {
      const error: ExchangeError = { kind: 'handler', message: `request handler failed: ${errorText(e)}` };
      for (const name of res.getHeaderNames()) res.removeHeader(name);
      return { message: this.writePlain(res, 500, Buffer.from(error.message)), error };
    }
    res.end(body);
    return { message: responseRecord(res, body, raw) };
  }

  private writePlain(res: ServerResponse, status: number, body: Buffer, extra: string[] = []): HttpMessage {
    const raw = ['Content-Type', 'text/plain; charset=utf-8', 'Content-Length', String(body.length), ...extra];
    res.statusCode = status;
    for (let i = 0; i < raw.length; i += 2) res.setHeader(raw[i]!, raw[i + 1]!);
    res.end(body);
    return responseRecord(res, body, raw);
  }

  /** Answers without calling the handler and closes the connection, which may still carry unread body bytes. */
  private refuse(
    res: ServerResponse,
    socket: TLSSocket,
    base: Pick<Exchange, 'startedAt' | 'request' | 'tls' | 'peer'>,
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
    this.transcript.append(exchange);
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
    this.transcript.append(exchange);
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
    this.transcript.append(exchange);
  }
}

/** Node adds Date and keep-alive framing fields of its own; the record holds what the handler chose. */
function responseRecord(res: ServerResponse, body: Buffer, raw: string[]): HttpMessage {
  const record: HttpMessage = { status: res.statusCode, statusText: res.statusMessage, ...headersFromRaw(raw), body };
  const declared = declaredLength(record.headers);
  if (declared !== undefined) record.declaredLength = declared;
  return attachParse(record);
}

/** The reference server serves test identities and answers anything: it stays on the loopback interface. */
export function assertLoopback(host: string): void {
  const family = isIP(host);
  const loopback = host === 'localhost'
    || (family === 4 && host.startsWith('127.'))
    || (family === 6 && (host === '::1' || /^::ffff:127\./i.test(host)));
  if (!loopback) {
    throw new Error(
      `refusing to listen on ${host}: the reference server only binds a loopback address (127.0.0.1, ::1 or localhost); ` +
      'to reach it from another machine, forward a port to it',
    );
  }
}
