/** Prints a transcript for people: one block per message, Cred data and Authorization headers redacted. */
import type { Exchange } from '../transport';

export function redact(xml: string): string {
  return xml.replace(/(<Cred>(?:(?!<\/Cred>)[\s\S])*?<Data>)[^<]*(<\/Data>)/g, '$1[redacted]$2');
}

function body(b: Buffer): string {
  if (!b.byteLength) return '(empty body)';
  const text = b.toString('utf8');
  return redact(text.length > 4000 ? `${text.slice(0, 4000)}… (${b.byteLength} bytes)` : text);
}

export function printExchanges(exchanges: readonly Exchange[], out: (line: string) => void): void {
  for (const x of exchanges) {
    out(`--> ${x.request.method ?? 'POST'} ${x.request.url ?? ''}`);
    out(body(x.request.body));
    if (x.response) {
      out(`<-- HTTP ${x.response.status ?? '?'} ${x.response.headers['content-type'] ?? ''}`);
      out(body(x.response.body));
    }
    if (x.error) out(`!!! ${x.error.kind}: ${x.error.message}`);
  }
}
