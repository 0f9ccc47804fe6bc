/**
 * The client identities this process has presented, by certificate fingerprint. A recorded exchange names the
 * certificate it presented by fingerprint only (public, safe in any report); a repro script that must replay a
 * session with the very identity it used (an expired or foreign certificate of the auth suite) finds the key here.
 */
import { X509Certificate } from 'node:crypto';

export interface ClientIdentity {
  certPem: string;
  keyPem: string;
}

const presented = new Map<string, ClientIdentity>();
/** Fingerprints by PEM: a session asks for its certificate's fingerprint on every connection. */
const fingerprints = new Map<string, string>();

/** SHA-256 fingerprint of a PEM certificate, as Node prints it (colon-separated upper-case hex). */
export function fingerprintOf(certPem: string): string {
  let fingerprint = fingerprints.get(certPem);
  if (fingerprint === undefined) {
    fingerprint = new X509Certificate(certPem).fingerprint256;
    fingerprints.set(certPem, fingerprint);
  }
  return fingerprint;
}

/** Records an identity this process presents and returns its fingerprint. */
export function rememberIdentity(identity: ClientIdentity): string {
  const fingerprint = fingerprintOf(identity.certPem);
  presented.set(fingerprint, identity);
  return fingerprint;
}

export function identityByFingerprint(fingerprint: string): ClientIdentity | undefined {
  return presented.get(fingerprint);
}
