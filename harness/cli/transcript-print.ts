/** Prints a transcript for people: one block per message, secrets redacted as in every report file. */
import { redact as redactor } from '../report/redact';
import { wbxmlView } from '../report/transcript-export';
import { sniffEncoding } from '../syncml';
import type { Exchange } from '../transport';

export function redact(xml: string): string {
  return redactor.text(xml);
}

function body(b: Buffer): string {
  if (!b.byteLength) return '(empty body)';
  if (sniffEncoding(b) === 'wbxml') {
    const { xml } = wbxmlView(b, redactor);
    if (xml === undefined) return `(WBXML body of ${b.byteLength} bytes that does not decode)`;
    return `(WBXML body of ${b.byteLength} bytes, decoded)\n${xml.length > 4000 ? `${xml.slice(0, 4000)}…` : xml}`;
  }
  // Redacted before it is cut, so a cut through a Cred cannot leave its data behind.
  const text = redact(b.toString('utf8'));
  return text.length > 4000 ? `${text.slice(0, 4000)}… (${b.byteLength} bytes)` : text;
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
