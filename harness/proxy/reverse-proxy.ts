/**
 * The judging reverse proxy: a real device is pointed at it, and it forwards each request to the real server and
 * each reply back, unchanged, while recording both legs of every exchange for the checks.
 *
 * Towards the device it is an HttpsServer (h2 and HTTP/1.1, the device's client certificate requested and recorded,
 * the same limits and hostile-client handling as the reference server); towards the server it is an HttpsClient
 * (the configured client identity, the upstream certificate verified against the configured CA). Each device
 * connection gets its own upstream connection, in the device's HTTP version when the upstream offers it, so the
 * server sees one client per device connection and requests keep their order. An upstream that fails is answered
 * 502 (504 for a timeout) with the reason, and recorded.
 */
import type { TLSSocket } from 'node:tls';
import type { Identity } from '../pki';
import {
  DEFAULT_MAX_BODY_BYTES, HttpsClient, HttpsServer, Transcript,
  type Exchange, type HandlerResponse, type IncomingRequest,
} from '../transport';
import { deviceReply, failureReply, unrelayable, upstreamRequest } from './forward';

export interface ProxyOptions {
  /** The server identity the device trusts. */
  identity: Identity;
  /** CA(s) the device's client certificate is judged against: recorded as facts, never a reason to refuse. */
  deviceCa?: string | string[];
  /** Default `127.0.0.1`; another address only with `exposed`. */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
  /** Listen on an address that is not loopback: only for an address the user named. */
  exposed?: boolean;
  /** The server's URL, `https://` (or `http://` behind a TLS-terminating proxy); its origin is used. */
  upstream: string;
  /** The client identity presented to the upstream. */
  upstreamIdentity?: Identity;
  /** CA(s) the upstream certificate must chain to; the system's trust store when absent. */
  upstreamCa?: string | string[];
  /**
   * Offer h2 to the upstream on every connection. By default the proxy speaks to the upstream in the HTTP version
   * the device chose, so that the server sees what the device would have sent it.
   */
  upstreamHttp2?: boolean;
  /** Name the upstream certificate must carry (and SNI), instead of the upstream URL's host. */
  upstreamServername?: string;
  /** TCP and TLS set-up towards the upstream. Default 10 000 ms. */
  connectMs?: number;
  /** From sending a request upstream to the end of its reply. Default 30 000 ms. */
  responseMs?: number;
  /** The device's request head (and TLS handshake), as HttpsServer. Default 5 000 ms. */
  headersMs?: number;
  /** The device's request body, as HttpsServer. Default 10 000 ms. */
  bodyMs?: number;
  /** Bodies either way above this are refused (413 to the device, 502 for an upstream reply). Default 16 MiB. */
  maxBodyBytes?: number;
  /** Called as each exchange completes, with both legs. */
  onExchange?: (record: ProxyExchange) => void;
}

/** One exchange through the proxy, both legs. */
export interface ProxyExchange {
  /**
   * What the device sent and got, seen from the proxy's server side: the request as received, the reply as sent,
   * the device's TLS facts (its client certificate included), its address and HTTP version.
   */
  device: Exchange;
  /**
   * What went to the upstream server and came back, seen from the proxy's client side: the request as sent, the
   * reply as received with its framing facts, the upstream's TLS facts. Absent when nothing was forwarded (the
   * device's request was refused or broken, or could not be sent).
   */
  upstream?: Exchange;
  /** Set when the proxy answered the device itself because the upstream failed. */
  failure?: { status: 502 | 504; reason: string };
}

interface Forwarded {
  upstream?: Exchange;
  failure?: ProxyExchange['failure'];
}

export class ReverseProxy {
  /** Every exchange, in the order they completed. */
  readonly records: ProxyExchange[] = [];
  /** The device leg of every exchange, failed ones included. */
  readonly deviceTranscript = new Transcript();
  /** The upstream leg of every forwarded exchange. */
  readonly upstreamTranscript = new Transcript();
  private readonly server: HttpsServer;
  private readonly upstream: URL;
  private readonly clients = new Map<TLSSocket, HttpsClient>();
  private readonly forwarded = new WeakMap<IncomingRequest, Forwarded>();
  private closed = false;

  constructor(private readonly options: ProxyOptions) {
    this.upstream = parseUpstream(options.upstream);
    this.server = new HttpsServer({
      identity: options.identity,
      ca: options.deviceCa,
      host: options.host,
      port: options.port,
      exposed: options.exposed,
      headersMs: options.headersMs,
      bodyMs: options.bodyMs,
      maxRequestBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
      transcript: this.deviceTranscript,
      handler: (req) => this.forward(req),
      onExchange: (exchange, req) => this.onDeviceExchange(exchange, req),
    });
  }

  /** Starts listening; the URL is the proxy's origin, to which the device's management path is appended. */
  listen(): Promise<{ url: string; port: number }> {
    return this.server.listen();
  }

  async close(): Promise<void> {
    this.closed = true;
    const clients = [...this.clients.values()];
    this.clients.clear();
    await Promise.all([this.server.close(), ...clients.map((c) => c.close())]);
  }

  private async forward(req: IncomingRequest): Promise<HandlerResponse> {
    const where = this.upstream.origin;
    const { url, request } = upstreamRequest(req, this.upstream);
    const forwarded: Forwarded = {};
    this.forwarded.set(req, forwarded);
    let upstream: Exchange;
    try {
      upstream = await this.clientFor(req).send(url, request);
    } catch (e) {
      // The client refuses only what cannot be put on the wire (a header value undici rejects, a closed proxy).
      const reason = `the request could not be forwarded: ${e instanceof Error ? e.message : String(e)}`;
      forwarded.failure = { status: 502, reason };
      return failureReply(502, where, reason);
    }
    forwarded.upstream = upstream;
    const failure = unrelayable(upstream);
    if (failure) {
      forwarded.failure = failure;
      return failureReply(failure.status, where, failure.reason);
    }
    return deviceReply(upstream, req);
  }

  /** One upstream client per device connection, speaking h2 towards the upstream when the device spoke h2. */
  private clientFor(req: IncomingRequest): HttpsClient {
    if (this.closed) throw new Error('the proxy is closed');
    const known = this.clients.get(req.socket);
    if (known) return known;
    const { options } = this;
    const client = new HttpsClient({
      ca: options.upstreamCa,
      identity: options.upstreamIdentity,
      servername: options.upstreamServername,
      connectMs: options.connectMs,
      responseMs: options.responseMs,
      maxResponseBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
      // Bytes that follow an HTTP/1.1 body in the same read are caught at once; waiting for later ones would
      // delay every reply. Later ones are still added to the upstream record.
      trailingWindowMs: 0,
      http2: options.upstreamHttp2 === true || req.httpVersion === '2',
      transcript: this.upstreamTranscript,
    });
    this.clients.set(req.socket, client);
    req.socket.once('close', () => {
      this.clients.delete(req.socket);
      void client.close();
    });
    return client;
  }

  private onDeviceExchange(device: Exchange, req: IncomingRequest | undefined): void {
    const forwarded = req ? this.forwarded.get(req) : undefined;
    const record: ProxyExchange = { device };
    if (forwarded?.upstream) record.upstream = forwarded.upstream;
    if (forwarded?.failure) record.failure = forwarded.failure;
    this.records.push(record);
    this.options.onExchange?.(record);
  }
}

function parseUpstream(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`--upstream is not a URL: ${text}; give the server's address, for example https://mdm.example.com/ManagementServer/MDM.svc`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new Error(`--upstream must be an https:// URL (or http:// behind a TLS-terminating proxy), got ${url.protocol}//`);
  }
  return url;
}
