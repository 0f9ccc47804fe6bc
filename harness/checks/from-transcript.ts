/** Turns a transport transcript (HTTP exchanges, raw bytes, parse results) into the session view checks read. */
import { sniffEncoding } from '../syncml';
import type { Exchange as HttpExchange, HttpMessage } from '../transport';
import type { Exchange, HttpFacts, Party, SessionView, WireMessage } from './session';

function facts(m: HttpMessage, httpVersion: HttpExchange['httpVersion']): HttpFacts {
  // A body that stalled short of its Content-Length until a timeout is a mismatch as much as one cut by a close.
  const short = m.declaredLength !== undefined && m.body.byteLength < m.declaredLength ? { declared: m.declaredLength, received: m.body.byteLength } : undefined;
  const mismatch = m.lengthMismatch ?? short;
  return {
    method: m.method,
    url: m.url,
    status: m.status,
    contentType: m.headers['content-type'],
    userAgent: m.headers['user-agent'],
    lengthMismatch: mismatch
      ? `body of ${mismatch.received} bytes ${mismatch.received < mismatch.declared ? 'shorter' : 'longer'} than its Content-Length ${mismatch.declared}`
        + (httpVersion === '2' ? ' (a malformed HTTP/2 message, RFC 9113 8.1.1)' : '')
      : undefined,
    bodyBytes: m.body.byteLength,
    headers: m.headers,
    ...(httpVersion ? { httpVersion } : {}),
    ...(m.body.byteLength ? { bodyEncoding: sniffEncoding(m.body), body: m.body } : {}),
  };
}

function wire(n: number, from: Party, m: HttpMessage, httpVersion?: HttpExchange['httpVersion']): WireMessage {
  const http = facts(m, httpVersion);
  if (m.parsed) return { n, from, syncml: m.parsed.message, deviations: m.parsed.deviations, http };
  return { n, from, deviations: [], parseError: m.body.byteLength === 0 ? 'empty body' : m.parseError?.message ?? 'unreadable body', http };
}

/** A reply is judged as a message unless the exchange failed before one was read (timeout, reset, refused, too large). */
function readableReply(x: HttpExchange): boolean {
  if (!x.response || x.response.status === undefined) return false;
  return !x.error || x.error.kind === 'protocol';
}

/** The Retry-After of a throttling reply (HTTP 429 or 503 that says when to come back, MDM-TRN-022), live or captured. */
export function retryAfterOf(reply: { status?: number; headers: Record<string, string> } | undefined): string | undefined {
  const retryAfter = reply?.headers['retry-after'];
  return (reply?.status === 429 || reply?.status === 503) && retryAfter !== undefined ? retryAfter : undefined;
}

export function throttledBy(x: HttpExchange): string | undefined {
  return retryAfterOf(x.response);
}

export function sessionFromTranscript(exchanges: readonly HttpExchange[], outcome?: string): SessionView {
  let n = 0;
  const out: Exchange[] = exchanges.map((x) => {
    const request = wire(++n, 'device', x.request, x.httpVersion);
    const response = readableReply(x) ? wire(++n, 'server', x.response!, x.httpVersion) : undefined;
    const exchange: Exchange = { request, response, failure: x.error ? `${x.error.kind}: ${x.error.message}` : undefined };
    const throttled = throttledBy(x);
    if (throttled !== undefined) exchange.throttled = throttled;
    return exchange;
  });
  // A live transport records a session from its first exchange on.
  return { exchanges: out, outcome, startsAtPackage1: true };
}
