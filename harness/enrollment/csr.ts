/**
 * The PKCS#10 certificate request of the enrollment (MS-MDE2 3.4: the BinarySecurityToken of value type
 * `…enrollment#PKCS10`, base64 DER). The key is a fresh RSA key from node:crypto, as long as the policy's
 * minimalKeyLength asks (at least 2048 bits); node-forge lays out and signs the request with the policy's hash.
 */
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import type { HashName } from './policy';

export interface CertificateRequest {
  /** Base64 of the DER request, as it goes into the BinarySecurityToken. */
  base64: string;
  keyPem: string;
  publicKey: KeyObject;
}

export function makeCertificateRequest(opts: { commonName: string; keyBits: number; hash: HashName }): CertificateRequest {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: Math.max(2048, opts.keyBits) });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const forgeKey = forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs1', format: 'pem' }).toString());
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e);
  csr.setSubject([{ name: 'commonName', value: opts.commonName }]);
  csr.sign(forgeKey, forge.md[opts.hash].create());
  const der = forge.asn1.toDer(forge.pki.certificationRequestToAsn1(csr)).getBytes();
  return { base64: Buffer.from(der, 'binary').toString('base64'), keyPem, publicKey };
}

export interface ReadRequest {
  publicKey: KeyObject;
  subjectCN?: string;
  keyBits?: number;
}

/** Reads and verifies a base64 PKCS#10 request; the problem in one line when it is not a valid one. */
export function readCertificateRequest(base64: string): ReadRequest | { error: string } {
  const text = base64.replace(/\s+/g, '');
  if (!text || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return { error: 'the certificate request is not base64' };
  let csr: forge.pki.CertificateSigningRequest;
  try {
    csr = forge.pki.certificationRequestFromAsn1(forge.asn1.fromDer(Buffer.from(text, 'base64').toString('binary')));
  } catch (e) {
    return { error: `the certificate request is not a PKCS#10 request: ${(e as Error).message}` };
  }
  if (!csr.publicKey) return { error: 'the certificate request has no RSA public key' };
  let verified = false;
  try {
    verified = csr.verify();
  } catch {
    verified = false;
  }
  if (!verified) return { error: 'the signature of the certificate request does not verify' };
  const publicKey = createPublicKey(forge.pki.publicKeyToPem(csr.publicKey));
  const cn = csr.subject.getField('CN') as { value?: string } | null;
  return { publicKey, subjectCN: cn?.value, keyBits: publicKey.asymmetricKeyDetails?.modulusLength };
}
