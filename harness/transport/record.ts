/**
 * Building transcript entries from what a connection showed: header fields, bodies, TLS facts.
 * Shared by the client and the server so that both sides describe the same things the same way.
 */
import type { PeerCertificate, TLSSocket } from 'node:tls';
import { parseSyncMLBody, SyncMLParseError } from '../syncml';
import type { HttpMessage, PeerCertificateFacts, TlsFacts } from './transcript';

/** The default bound on a body either side reads: far above any DM message, far below what would hurt the host. */
export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;

export function headersFromRaw(raw: ReadonlyArray<string | Buffer>): Pick<HttpMessage, 'headers' | 'rawHeaders'> {
  const rawHeaders = raw.map((v) => (typeof v === 'string' ? v : v.toString('latin1')));
  const headers: Record<string, string> = {};
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    const value = rawHeaders[i + 1]!;
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  return { headers, rawHeaders };
}

/**
 * The Content-Length a message declares, or undefined when absent or unusable. Repeated identical values count as
 * one (RFC 9110 8.6 allows a recipient to do so).
 */
export function declaredLength(headers: Record<string, string>): number | undefined {
  const field = headers['content-length'];
  if (field === undefined) return undefined;
  const values = new Set(field.split(',').map((v) => v.trim()));
  if (values.size !== 1) return undefined;
  const [value] = values;
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
}

/**
 * The parse of each body recorded so far, by the Buffer itself and the Content-Type it came with: a body relayed as
 * it is (the proxy's two legs see the same bytes) is parsed once. Recorded bodies are never written to.
 */
type ParseResult = Pick<HttpMessage, 'parsed' | 'parseError'>;
const parses = new WeakMap<Buffer, Map<string, ParseResult>>();

/**
 * Adds `parsed` or `parseError`; a body that is not SyncML is a fact to record, never an exception. The body is read
 * in the encoding its Content-Type names (XML or WBXML, MDM-TRN-005), by its first bytes when the type names none:
 * a WBXML exchange is judged like an XML one, and a body declared in one encoding but written in the other does not
 * parse, which is what a peer that trusts the media type sees.
 */
export function attachParse(message: HttpMessage): HttpMessage {
  if (message.body.length === 0) return message;
  const contentType = message.headers['content-type'] ?? '';
  let byType = parses.get(message.body);
  if (!byType) parses.set(message.body, (byType = new Map()));
  let result = byType.get(contentType);
  if (!result) {
    try {
      const { encoding: _encoding, ...parsed } = parseSyncMLBody(message.body, contentType || undefined);
      result = { parsed };
    } catch (e) {
      result = e instanceof SyncMLParseError
        ? { parseError: { code: e.code, message: e.message } }
        : { parseError: { code: 'internal', message: `the codec failed on this body: ${errorText(e)}` } };
    }
    byType.set(contentType, result);
  }
  if (result.parsed) message.parsed = result.parsed;
  if (result.parseError) message.parseError = result.parseError;
  return message;
}

function firstOf(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function isoDate(text: string): string {
  const d = new Date(text);
  return Number.isNaN(d.getTime()) ? text : d.toISOString();
}

export function toPem(der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

export function certificateFacts(cert: PeerCertificate | undefined): PeerCertificateFacts | undefined {
  if (!cert || !cert.raw) return undefined;
  const facts: PeerCertificateFacts = {
    validFrom: isoDate(cert.valid_from),
    validTo: isoDate(cert.valid_to),
    fingerprint256: cert.fingerprint256,
    pem: toPem(cert.raw),
  };
  const subjectCN = firstOf(cert.subject?.CN);
  const issuerCN = firstOf(cert.issuer?.CN);
  if (subjectCN !== undefined) facts.subjectCN = subjectCN;
  if (issuerCN !== undefined) facts.issuerCN = issuerCN;
  if (cert.subjectaltname) facts.subjectAltName = cert.subjectaltname;
  if (cert.serialNumber) facts.serialNumber = cert.serialNumber;
  return facts;
}

export function tlsFacts(socket: TLSSocket): TlsFacts {
  const peerCertificate = certificateFacts(socket.getPeerCertificate());
  const facts: TlsFacts = { authorized: socket.authorized === true };
  if (!facts.authorized) {
    const reason = socket.authorizationError as unknown;
    facts.authorizationError = !peerCertificate
      ? 'NO_PEER_CERTIFICATE'
      : reason instanceof Error ? ((reason as NodeJS.ErrnoException).code ?? reason.message) : String(reason ?? 'UNKNOWN');
  }
  if (peerCertificate) facts.peerCertificate = peerCertificate;
  const protocol = socket.getProtocol();
  if (protocol) facts.protocol = protocol;
  const cipher = socket.getCipher();
  if (cipher?.name) facts.cipher = cipher.name;
  if (typeof socket.alpnProtocol === 'string') facts.alpnProtocol = socket.alpnProtocol;
  return facts;
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function errorCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function describeCertificate(cert: PeerCertificateFacts | undefined): string {
  if (!cert) return 'no certificate';
  return `CN=${cert.subjectCN ?? '?'} issued by CN=${cert.issuerCN ?? '?'}`;
}
