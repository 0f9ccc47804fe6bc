/**
 * What the judging proxy passes on, and what it changes: the request a device sent, rewritten for the upstream
 * server, and the upstream's reply, rewritten for the device. Bodies are never touched; header fields are dropped
 * only where a hop requires it (RFC 9110 7.6.1), so that what the judge sees is what the peers produced.
 */
import { endToEndHeaders, type Exchange, type HandlerResponse, type IncomingRequest, type OutgoingRequest } from '../transport';

/**
 * The device's request as it goes to `upstream`: same method, same path and query (the upstream URL gives the
 * origin; its own path is not used, since the device already addressed the management endpoint), same body.
 *
 * Header fields, in the device's order and spelling:
 * - hop-by-hop fields and those Connection names are dropped (RFC 9110 7.6.1): they describe the device's connection
 *   to the proxy; HTTP/2 pseudo-header fields likewise, the upstream request gets its own;
 * - Host becomes the upstream's authority: the device addressed the proxy, and an upstream that routes by host name
 *   (virtual hosts, a load balancer) would refuse the proxy's name;
 * - Content-Length is set by the client from the body, which is the same length (a request whose body disagreed
 *   with it never reaches the handler);
 * - Expect is dropped: the proxy has read the whole body already, and has no interim answer to relay;
 * - Cookie fields an h2 device split up are joined with "; " (RFC 9113 8.2.3), as HTTP/1.1 wants one field;
 * - every other field is end-to-end and goes as it came: User-Agent, Content-Type, Accept, authorization fields,
 *   MS-CV and the rest are what the server under judgement must see, and what its checks are about.
 */
export function upstreamRequest(incoming: IncomingRequest, upstream: URL): { url: string; request: OutgoingRequest } {
  const headers: string[] = [];
  const cookies: string[] = [];
  for (const [name, value] of pairs(endToEndHeaders(incoming.rawHeaders))) {
    const lower = name.toLowerCase();
    if (lower === 'host' || lower === 'content-length' || lower === 'expect') continue;
    if (lower === 'cookie' && incoming.httpVersion === '2') {
      if (!cookies.length) headers.push(name, '');
      cookies.push(value);
      continue;
    }
    headers.push(name, value);
  }
  if (cookies.length) headers[headers.findIndex((h, i) => i % 2 === 0 && h.toLowerCase() === 'cookie') + 1] = cookies.join('; ');
  headers.unshift('host', upstream.host);
  return {
    url: `${upstream.origin}${incoming.url.startsWith('/') ? incoming.url : `/${incoming.url}`}`,
    request: { method: incoming.method, headers, body: incoming.body },
  };
}

/** Why an upstream exchange cannot be relayed, or undefined when its reply can. */
export function unrelayable(upstream: Exchange): { status: 502 | 504; reason: string } | undefined {
  const { error, response } = upstream;
  if (!error) return response ? undefined : { status: 502, reason: 'no response' };
  // A framing defect with a body is the upstream's reply as it really was: the device must see it as it came.
  const framingDefect = error.kind === 'protocol' && response?.status !== undefined
    && (response.lengthMismatch !== undefined || response.trailing !== undefined);
  if (framingDefect) return undefined;
  return { status: error.kind === 'timeout' ? 504 : 502, reason: `${error.kind}: ${error.message}` };
}

/**
 * The upstream's reply as it goes to the device: same status, same body bytes, same header fields in the same order
 * and spelling but for the hop-by-hop ones (RFC 9110 7.6.1), which belonged to the upstream connection.
 *
 * Content-Length goes as the upstream declared it, never recomputed, so that a body longer or shorter than declared
 * reaches the device as the same defect: the bytes that followed an HTTP/1.1 body on the upstream connection are
 * sent after the body, and when the upstream's body ended short the device's HTTP/1.1 connection is closed after it
 * (the proxy's own Connection field), as the upstream's was. Over h2 the short or long DATA is the same malformed
 * message (RFC 9113 8.1.1). A reply without Content-Length (chunked, or delimited by the close) gets one from the
 * server side: framing is per hop.
 */
export function deviceReply(upstream: Exchange, device: IncomingRequest): HandlerResponse {
  const response = upstream.response!;
  const rawHeaders = endToEndHeaders(response.rawHeaders ?? Object.entries(response.headers).flat());
  const body = response.trailing ? Buffer.concat([response.body, response.trailing]) : response.body;
  const short = response.lengthMismatch !== undefined && response.lengthMismatch.received < response.lengthMismatch.declared;
  if (short && device.httpVersion === '1.1') rawHeaders.push('Connection', 'close');
  return { status: response.status!, rawHeaders, body };
}

/** The proxy's own answer when the upstream failed: a short text saying why. */
export function failureReply(status: 502 | 504, upstream: string, reason: string): HandlerResponse {
  return {
    status,
    headers: { 'Content-Type': 'text/plain; charset=utf-8' },
    body: `${status === 504 ? 'upstream timed out' : 'upstream failed'} (${upstream}): ${reason}\n`,
  };
}

function* pairs(raw: readonly string[]): Generator<[string, string]> {
  for (let i = 0; i + 1 < raw.length; i += 2) yield [raw[i]!, raw[i + 1]!];
}
