/**
 * Before any suite runs against a vendor's server, one session with the valid identity: can the harness reach the
 * server, is the TLS channel trusted both ways, is this the management endpoint, does it answer SyncML? A setup
 * mistake is not a verdict: it ends the run within twice the request timeout with one line naming the cause and
 * what to do (exit 2), instead of failing every requirement or waiting out every test's time.
 */
import { ReferenceDevice } from '../device/reference-device';
import type { Identity } from '../pki';
import type { CredScheme } from '../protocol/credentials';
import type { SyncMLEncoding } from '../protocol/encoding';
import { seeded } from '../protocol/random';
import { codeOf, type Status } from '../syncml';
import type { Exchange } from '../transport';

export interface PreflightTarget {
  url: string;
  deviceId: string;
  identity?: Identity;
  serverCa: string;
  credentials?: { scheme: CredScheme; user: string; password: string };
  /** Per request; the whole preflight takes at most twice this. */
  timeoutMs: number;
  http2?: boolean;
  clientCertHeader?: string;
  /** Where to point the vendor for a CA to trust (`pki/ca.pem`), in the advice. */
  caHint?: string;
  /** The identity is the one the server's own enrollment just issued (`--enroll`): a refusal is not a trust setting. */
  enrolled?: boolean;
  /** What the device speaks (`--encoding`). */
  encoding?: SyncMLEncoding;
  /** The device signs every message (`--sign`). */
  signing?: boolean;
}

function headerStatus(x: Exchange): Status | undefined {
  return x.response?.parsed?.message.body.commands.find((c): c is Status => c.kind === 'Status' && c.cmdRef?.trim() === '0');
}

/** The one-line cause and remedy of what the first exchange shows, or undefined when the server took the session. */
export function diagnose(x: Exchange | undefined, t: PreflightTarget): string | undefined {
  const where = new URL(t.url);
  const origin = `${where.hostname}:${where.port || (where.protocol === 'http:' ? 80 : 443)}`;
  const trust = t.enrolled ? 'it did not take the identity its enrollment just issued: check that the DM URL (--url, or the provisioning document\'s address) is the server that enrolled the device'
    : t.caHint ? `configure it to trust ${t.caHint} for client certificates` : 'configure it to trust the CA that issued the device certificate';
  if (!x) return `no exchange with ${origin} took place`;
  const e = x.error;
  if (e && !x.response?.status) {
    if (e.kind === 'connect') return `${e.message}: is the server running, and is --url right?`;
    if (e.kind === 'timeout') return `the server at ${origin} did not answer within ${t.timeoutMs} ms (${e.message}); check that it is up and that --url is its management endpoint`;
    if (e.kind === 'tls') {
      // A certificate that does not chain to the CA given is a setting; one expired or issued for another host is the
      // server's own defect (MDM-TRN-003), which no --server-ca mends.
      if (/server certificate (expired|not valid before|is not for)/i.test(e.message)) return `${e.message}: a device cannot validate the certificate the server authenticates with (MDM-TRN-003); renew it, or issue it for the host of --url`;
      if (/server certificate/i.test(e.message)) return `${e.message}: pass --server-ca FILE with the CA of your server's certificate`;
      if (t.enrolled) return `the server refused the enrolled device certificate in the TLS handshake (${e.message}): ${trust}`;
      return `the server refused the device certificate in the TLS handshake (${e.message}): your server does not trust the test CA; ${trust} (see pki init)`;
    }
    return `the server at ${origin} broke off the exchange (${e.kind}: ${e.message})`;
  }
  const status = x.response?.status ?? 0;
  const path = where.pathname;
  const unsigned = t.signing ? '' : '; if it requires MS-Signature (RequireMessageSigning), pass --sign';
  if (status === 401 || status === 403) {
    return t.enrolled ? `the server refused the enrolled device identity with HTTP ${status}: ${trust}${unsigned}`
      : `the server refused the valid device identity with HTTP ${status}: your server does not trust the test CA; ${trust} (see pki init), or enroll with --enroll${unsigned}`;
  }
  if (status === 404) return `HTTP 404 for ${path}: wrong URL path; the management endpoint of a Windows MDM server is usually /ManagementServer/MDM.svc`;
  if (status === 405) return `HTTP 405 for POST ${path}: this is not the management endpoint (it takes POST)`;
  if (status === 429 || status === 503) return `the server is throttling (HTTP ${status}${x.response?.headers['retry-after'] ? `, Retry-After ${x.response.headers['retry-after']}` : ''}); run again when it takes sessions`;
  if (!x.response?.parsed) {
    const type = x.response?.headers['content-type'] ?? 'no Content-Type';
    const why = x.response?.body.length ? (x.response.parseError?.message ?? 'not SyncML') : 'an empty body';
    return `the reply to package 1 is not SyncML (HTTP ${status}, ${type}: ${why}); is --url the management endpoint?`;
  }
  const hdr = headerStatus(x);
  const code = hdr ? codeOf(hdr) : undefined;
  if (code === '403') return t.enrolled ? `the server refused the enrolled device identity (SyncHdr Status 403): ${trust}` : `the server refused the valid device identity (SyncHdr Status 403): ${trust} (see pki init), or enroll with --enroll`;
  if ((code === '401' || code === '407') && !t.credentials) {
    const scheme = hdr?.chal?.meta?.fields.find((f) => f.name.endsWith('Type'))?.value.trim() ?? 'application-level';
    return `the server asks for ${scheme} credentials (SyncHdr Status ${code}): pass --auth md5|basic --client-credentials USER:SECRET`;
  }
  return undefined;
}

/** One session with the valid identity; undefined when the server took it, else the cause and what to do. */
export async function preflight(t: PreflightTarget): Promise<string | undefined> {
  const device = new ReferenceDevice({
    deviceId: t.deviceId, identity: t.identity, serverCa: t.serverCa, credentials: t.credentials, timeoutMs: t.timeoutMs,
    http2: t.http2, clientCertHeader: t.clientCertHeader, rng: seeded(undefined, 'preflight'), maxRounds: 3,
    encoding: t.encoding, signing: t.signing ? {} : undefined,
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    const overall = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), 2 * t.timeoutMs)));
    const run = await Promise.race([device.runSession(t.url), overall]);
    if (run === 'timeout') return `no SyncML session with ${t.url} within ${2 * t.timeoutMs} ms: the server is silent or too slow`;
    // The first exchange shows a setup problem; a challenge the credentials then answer is a working setup.
    const problem = diagnose(run.exchanges[0], t);
    if (problem) return problem;
    if (run.end.reason === 'auth-failed') return `the server refused the credentials of --client-credentials (${run.end.detail}); check USER:SECRET and --auth`;
    return undefined;
  } catch (e) {
    return `the preflight session failed: ${(e as Error).message}`;
  } finally {
    clearTimeout(timer);
    await device.close();
  }
}
