/**
 * Which header fields belong to one connection rather than to the message, and so never cross a hop.
 *
 * RFC 9110 7.6.1: a proxy removes the Connection field and every field it names, and should remove Proxy-Connection,
 * Keep-Alive, TE, Transfer-Encoding and Upgrade whether named or not. RFC 9113 8.2.2 forbids the same fields in an
 * HTTP/2 message (TE only with a value other than "trailers"), which is why the server leaves them out of an h2 reply.
 */

const ALWAYS_HOP_BY_HOP: ReadonlySet<string> = new Set(['connection', 'proxy-connection', 'keep-alive', 'te', 'transfer-encoding', 'upgrade']);

/**
 * The lower-cased names of the hop-by-hop fields among `rawHeaders` (name/value pairs as on the wire): the fixed
 * set above and every name a Connection field lists.
 */
export function hopByHopNames(rawHeaders: readonly string[]): Set<string> {
  const names = new Set(ALWAYS_HOP_BY_HOP);
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() !== 'connection') continue;
    for (const option of rawHeaders[i + 1]!.split(',')) {
      const name = option.trim().toLowerCase();
      if (name) names.add(name);
    }
  }
  return names;
}

/** HTTP/2 pseudo-header fields (`:method`, `:path`, `:status`, …) describe the message's frame, not its content. */
export function isPseudoHeader(name: string): boolean {
  return name.startsWith(':');
}

/** `rawHeaders` without its hop-by-hop fields and pseudo-header fields, order and spelling kept. */
export function endToEndHeaders(rawHeaders: readonly string[]): string[] {
  const drop = hopByHopNames(rawHeaders);
  const kept: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const lower = name.toLowerCase();
    if (drop.has(lower) || isPseudoHeader(lower)) continue;
    kept.push(name, rawHeaders[i + 1]!);
  }
  return kept;
}
