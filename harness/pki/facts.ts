/**
 * What tests and error messages need to know about a certificate, read with node:crypto so that RSA and EC
 * certificates (and certificates from outside the harness) read alike.
 */
import { X509Certificate } from 'node:crypto';

export interface CertificateFacts {
  subjectCN?: string;
  issuerCN?: string;
  notBefore: Date;
  notAfter: Date;
  /** `serverAuth`, `clientAuth`, …; purposes without a short name stay dotted OIDs. */
  extKeyUsage: string[];
  /** `DNS:name` and `IP:address` (IPv6 in its compressed form, e.g. `IP:::1`). */
  sans: string[];
  /** SHA-256 of the DER, colon-separated upper-case hex. */
  fingerprint256: string;
}

const EXTENDED_KEY_USAGE_NAMES: Record<string, string> = {
  '1.3.6.1.5.5.7.3.1': 'serverAuth',
  '1.3.6.1.5.5.7.3.2': 'clientAuth',
  '1.3.6.1.5.5.7.3.3': 'codeSigning',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
  '1.3.6.1.5.5.7.3.8': 'timeStamping',
  '1.3.6.1.5.5.7.3.9': 'OCSPSigning',
};

export function certificateFacts(certPem: string): CertificateFacts {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch (error) {
    throw new Error(`not a PEM certificate: ${(error as Error).message}`);
  }
  return {
    subjectCN: commonNameOf(cert.subject),
    issuerCN: commonNameOf(cert.issuer),
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
    extKeyUsage: (cert.keyUsage ?? []).map((oid) => EXTENDED_KEY_USAGE_NAMES[oid] ?? oid),
    sans: subjectAltNames(cert.subjectAltName),
    fingerprint256: cert.fingerprint256,
  };
}

function commonNameOf(distinguishedName: string): string | undefined {
  const line = distinguishedName.split('\n').find((entry) => entry.startsWith('CN='));
  return line?.slice('CN='.length);
}

function subjectAltNames(text: string | undefined): string[] {
  if (!text) return [];
  return text.split(', ').map((entry) => {
    if (!entry.startsWith('IP Address:')) return entry;
    const address = entry.slice('IP Address:'.length);
    // OpenSSL prints IPv6 uncompressed (0:0:0:0:0:0:0:1); the URL parser gives the canonical short form.
    return `IP:${address.includes(':') ? new URL(`http://[${address}]/`).hostname.slice(1, -1) : address}`;
  });
}
