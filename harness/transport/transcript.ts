/**
 * The transcript: every HTTP exchange either reference peer took part in, as plain data.
 *
 * Checks read it and never talk to the network (architecture principle 2), so an exchange keeps everything a check
 * may need as evidence: the raw bytes, the parsed message, the framing facts and the TLS facts. Exchanges that went
 * wrong are recorded too, with what was seen before it went wrong; a missing answer is evidence as much as an answer.
 */
import type { ParsedSyncML } from '../syncml';

/**
 * Why an exchange did not complete.
 * `handler` is the harness's own fault (the reference server's handler threw): it must never be blamed on the
 * implementation under test.
 */
export type ExchangeErrorKind = 'timeout' | 'connect' | 'tls' | 'reset' | 'protocol' | 'too-large' | 'handler';

export type HttpVersion = '1.1' | '2';

export interface ExchangeError {
  kind: ExchangeErrorKind;
  message: string;
}

export interface HttpMessage {
  /** Request only. */
  method?: string;
  /**
   * Request only. The client side records the absolute URL it posted to; the server side records the
   * request-target exactly as received (path and query).
   */
  url?: string;
  /** Response only. */
  status?: number;
  statusText?: string;
  /** Lower-cased names; repeated fields joined with ", " (RFC 9110 5.3). */
  headers: Record<string, string>;
  /** Name/value pairs in wire order and case, for checks that care about repetition or spelling. */
  rawHeaders?: string[];
  /** The entity body as received (or as sent), never decoded or re-encoded. */
  body: Buffer;
  /** The Content-Length field, when there was one and it was a number. */
  declaredLength?: number;
  /** The body on the wire disagreed with Content-Length: fewer bytes before the connection ended, or more after. */
  lengthMismatch?: { declared: number; received: number };
  /**
   * HTTP/1.1 responses only: bytes that followed the end of the response on its connection (at most 64 KiB), which
   * is the rest of a body longer than its Content-Length, or garbage. Not part of `body`.
   */
  trailing?: Buffer;
  /** Set when the body is non-empty and is a SyncML document. */
  parsed?: ParsedSyncML;
  /** Set when the body is non-empty and is not a SyncML document (the code comes from the codec). */
  parseError?: { code: string; message: string };
}

export interface PeerCertificateFacts {
  subjectCN?: string;
  issuerCN?: string;
  /** As Node reports it, for example `DNS:localhost, IP Address:127.0.0.1`. */
  subjectAltName?: string;
  serialNumber?: string;
  /** ISO 8601. */
  validFrom: string;
  /** ISO 8601. */
  validTo: string;
  /** Colon-separated upper-case hex, as Node reports it. */
  fingerprint256: string;
  pem: string;
}

export interface TlsFacts {
  /** The peer certificate chains to the configured CA (and, seen from the client, names the host). */
  authorized: boolean;
  /** Node's code for why it is not authorized, for example `CERT_HAS_EXPIRED`; `NO_PEER_CERTIFICATE` when none came. */
  authorizationError?: string;
  /** Absent when the peer presented no certificate. */
  peerCertificate?: PeerCertificateFacts;
  /** For example `TLSv1.3`. */
  protocol?: string;
  cipher?: string;
  /** The application protocol ALPN settled on (`h2`, `http/1.1`); absent when the peers negotiated none. */
  alpnProtocol?: string;
}

export interface Exchange {
  /** Position in the transcript, from 0. */
  index: number;
  /** Milliseconds since the epoch. */
  startedAt: number;
  endedAt: number;
  request: HttpMessage;
  /** Absent when no response was received (client side) or none was sent (server side). */
  response?: HttpMessage;
  /** Absent when no TLS session was established (for example the connection was refused). */
  tls?: TlsFacts;
  /** The peer's address as `host:port`, when a connection existed. */
  peer?: string;
  /**
   * The HTTP version the exchange used: `2` when the peers agreed on h2 by ALPN. Absent when no connection carried
   * the exchange (refused, TLS failure).
   */
  httpVersion?: HttpVersion;
  /**
   * Set when the exchange went over plain TCP (an `http://` URL, a server behind a TLS-terminating proxy): there
   * are no TLS facts because there was no TLS, not because the handshake failed.
   */
  cleartext?: true;
  /**
   * Plaintext bytes that crossed the connection for this exchange, client side only. `bytesSent: 0` proves that
   * nothing was sent, for example after refusing the server certificate.
   */
  wire?: { bytesSent: number; bytesReceived: number };
  /** Client side: SHA-256 fingerprint of the certificate the client presented; absent when it presented none. */
  clientCertificate?: string;
  error?: ExchangeError;
}

/** An HttpMessage with the body as text when it is valid UTF-8 and as base64 otherwise. */
export interface HttpMessageJSON extends Omit<HttpMessage, 'body' | 'parsed' | 'trailing'> {
  body: { encoding: 'utf8'; text: string } | { encoding: 'base64'; data: string };
  trailing?: HttpMessageJSON['body'];
  /** The element tree is left out: the body already holds the exact document. */
  parsed?: Omit<ParsedSyncML, 'root'>;
}

export interface ExchangeJSON extends Omit<Exchange, 'request' | 'response'> {
  request: HttpMessageJSON;
  response?: HttpMessageJSON;
}

export interface TranscriptJSON {
  exchanges: ExchangeJSON[];
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

export function bodyToJSON(body: Uint8Array): HttpMessageJSON['body'] {
  try {
    return { encoding: 'utf8', text: strictUtf8.decode(body) };
  } catch {
    return { encoding: 'base64', data: Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('base64') };
  }
}

export function httpMessageToJSON(m: HttpMessage): HttpMessageJSON {
  const { body, parsed, trailing, ...rest } = m;
  const out: HttpMessageJSON = { ...rest, body: bodyToJSON(body) };
  if (trailing) out.trailing = bodyToJSON(trailing);
  if (parsed) out.parsed = { message: parsed.message, deviations: parsed.deviations };
  return out;
}

export function exchangeToJSON(e: Exchange): ExchangeJSON {
  const { index, request, response, ...rest } = e;
  const out: ExchangeJSON = { index, ...rest, request: httpMessageToJSON(request) };
  if (response) out.response = httpMessageToJSON(response);
  return out;
}

/** Append-only, in the order exchanges ended; `exchanges[i].index === i`. */
export class Transcript {
  readonly exchanges: Exchange[] = [];

  /**
   * Records the exchange object itself (not a copy) and sets its index: a transport that learns more about a
   * response after returning it (bytes that trail the body) adds that to the recorded exchange.
   */
  append(exchange: Omit<Exchange, 'index'>): Exchange {
    const recorded = exchange as Exchange;
    recorded.index = this.exchanges.length;
    this.exchanges.push(recorded);
    return recorded;
  }

  get length(): number {
    return this.exchanges.length;
  }

  last(): Exchange | undefined {
    return this.exchanges[this.exchanges.length - 1];
  }

  toJSON(): TranscriptJSON {
    return { exchanges: this.exchanges.map(exchangeToJSON) };
  }
}
