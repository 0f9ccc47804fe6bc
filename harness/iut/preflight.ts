/**
 * Before any suite runs against a vendor's server: can the harness reach it and complete a TLS handshake? A run
 * that could not reach the implementation exits 2 with the reason, rather than failing every requirement.
 */
import { connect } from 'node:tls';

export async function reachServer(url: string, tls: { ca: string; certPem?: string; keyPem?: string }, timeoutMs = 5_000): Promise<string | undefined> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return `--url ${url} is not a URL`;
  }
  if (target.protocol !== 'https:') return `--url ${url}: the management endpoint is HTTPS (MS-MDM 2.1)`;
  const host = target.hostname.replace(/^\[|\]$/g, '');
  const port = Number(target.port || 443);
  return new Promise((resolve) => {
    const socket = connect({ host, port, ca: tls.ca, cert: tls.certPem, key: tls.keyPem, servername: /^[\d.:]+$/.test(host) ? undefined : host, rejectUnauthorized: true });
    const timer = setTimeout(() => finish(`no TLS handshake with ${host}:${port} within ${timeoutMs} ms`), timeoutMs);
    function finish(problem: string | undefined) {
      clearTimeout(timer);
      socket.destroy();
      resolve(problem);
    }
    socket.once('secureConnect', () => finish(undefined));
    socket.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ECONNREFUSED') finish(`connection refused by ${host}:${port}: is the server running?`);
      else if (/certificate|self.signed|CERT_|unable to (get|verify)/i.test(`${e.code} ${e.message}`)) {
        finish(`server certificate not trusted (${e.code ?? e.message}): pass --server-ca FILE, or run pki init and give the server its certificate`);
      } else finish(`cannot reach ${host}:${port}: ${e.message}`);
    });
  });
}
