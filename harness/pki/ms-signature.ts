/**
 * MS-Signature: the message signature a Windows device adds to every SyncML message once the server has set
 * DMClient `Provider/{ProviderID}/RequireMessageSigning` (catalogue MDM-TRN-014 for the device, MDM-TRN-015 for
 * the server, section 3.1). The header holds the base64 of a CMS (PKCS#7) SignedData, detached, over the complete
 * SyncML body (SyncHdr and SyncBody) with a SHA-2 digest, made with the device identity key enrolled through
 * MS-MDE2. The DMClient CSP documentation describes the header (there named `MDM-Signature`) and says the signer's
 * key and a PKCS#9 UTC signing time are authenticated attributes.
 *
 * What `signMessage` writes: ContentInfo(id-signedData) with SignedData v1, digest SHA-256, no encapsulated
 * content, the signer certificate in `certificates`, one SignerInfo v1 identified by issuer and serial number,
 * signed attributes contentType (id-data), signingTime, messageDigest and ESS signingCertificateV2 (the SHA-256
 * of the signer certificate, RFC 5035, which binds the certificate itself into the authenticated attributes), and
 * an RSA PKCS#1 v1.5 or ECDSA P-256 signature over their DER SET. node-forge signs only with RSA and verifies no
 * PKCS#7, so the structure is laid out with the DER helpers of der.ts and signed and verified with node:crypto.
 *
 * `verifyMessageSignature` checks what a server must (MDM-TRN-015): the structure, that the signature is
 * detached, SHA-2, content type, messageDigest against the received body, the signature with the signer
 * certificate's key, the signing certificate attribute when present, a signing time, the signer against the
 * expected device certificate and/or trusted CAs, the certificate's validity and (optionally) the clock skew.
 */
import { createHash, createPrivateKey, sign, verify, X509Certificate, type KeyObject } from 'node:crypto';
import {
  bytesOf, childrenOf, contentOf, DerError, expectTlv, integer, oid, oidOf, readTlv, sequence, setOf, TAG, time, timeOf,
  tlv, type Tlv,
} from './der';

export const MS_SIGNATURE_HEADER = 'MS-Signature';

const OID = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
  sha256: '2.16.840.1.101.3.4.2.1',
  rsaEncryption: '1.2.840.113549.1.1.1',
  ecdsaWithSHA256: '1.2.840.10045.4.3.2',
  subjectKeyIdentifier: '2.5.29.14',
} as const;

/** SHA-2 digests a verifier accepts (MDM-TRN-014 says SHA-2), by AlgorithmIdentifier OID. */
const SHA2: Record<string, string> = {
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
  '2.16.840.1.101.3.4.2.4': 'sha224',
};
const NOT_SHA2: Record<string, string> = { '1.3.14.3.2.26': 'SHA-1', '1.2.840.113549.2.5': 'MD5' };

/** Signature algorithms: the key type each needs, and the digest it implies when it names one. */
const SIGNATURE_ALGORITHMS: Record<string, { key: 'rsa' | 'ec'; hash?: string }> = {
  '1.2.840.113549.1.1.1': { key: 'rsa' }, // rsaEncryption, as CryptoAPI and OpenSSL write it
  '1.2.840.113549.1.1.11': { key: 'rsa', hash: 'sha256' },
  '1.2.840.113549.1.1.12': { key: 'rsa', hash: 'sha384' },
  '1.2.840.113549.1.1.13': { key: 'rsa', hash: 'sha512' },
  '1.2.840.10045.4.3.2': { key: 'ec', hash: 'sha256' },
  '1.2.840.10045.4.3.3': { key: 'ec', hash: 'sha384' },
  '1.2.840.10045.4.3.4': { key: 'ec', hash: 'sha512' },
  '1.2.840.10045.2.1': { key: 'ec' }, // id-ecPublicKey, which some signers put here
};

export interface SigningIdentity {
  certPem: string;
  keyPem: string;
}

// ---------------------------------------------------------------------------------------------------------------
// Signing

/**
 * The `MS-Signature` header value for a message body: base64 of a detached CMS SignedData (MDM-TRN-014).
 * Deterministic for a given signingTime with an RSA key (PKCS#1 v1.5); ECDSA signatures vary.
 */
export function signMessage(body: Uint8Array, identity: SigningIdentity, opts: { signingTime: Date }): string {
  const cert = new X509Certificate(identity.certPem);
  const key = createPrivateKey(identity.keyPem);
  const keyType = key.asymmetricKeyType;
  if (keyType !== 'rsa' && keyType !== 'ec') throw new Error(`cannot sign with a ${keyType ?? 'unknown'} key: MS-Signature uses the RSA or EC device identity key`);
  if (!cert.checkPrivateKey(key)) throw new Error('the private key does not belong to the certificate: sign with the device identity key and its certificate');
  const certDer = cert.raw;
  const { issuer, serial } = issuerAndSerial(certDer);
  const attributes = [
    attribute(OID.contentType, oid(OID.data)),
    attribute(OID.signingTime, time(opts.signingTime)),
    attribute(OID.messageDigest, tlv(TAG.OCTET_STRING, createHash('sha256').update(body).digest())),
    // SigningCertificateV2 { certs SEQUENCE OF ESSCertIDv2 { certHash } } (hashAlgorithm defaults to SHA-256).
    attribute(OID.signingCertificateV2, sequence(sequence(sequence(tlv(TAG.OCTET_STRING, createHash('sha256').update(certDer).digest()))))),
  ];
  const signedAttributes = setOf(TAG.SET, attributes);
  const signature = sign('sha256', signedAttributes, key);
  const signatureAlgorithm = keyType === 'rsa' ? sequence(oid(OID.rsaEncryption), tlv(TAG.NULL)) : sequence(oid(OID.ecdsaWithSHA256));
  const signerInfo = sequence(
    integer(1),
    sequence(issuer, serial),
    sequence(oid(OID.sha256)),
    // [0] IMPLICIT SignedAttributes: the same encoding with the context tag in place of SET.
    Buffer.concat([Buffer.from([TAG.CONTEXT_0]), signedAttributes.subarray(1)]),
    signatureAlgorithm,
    tlv(TAG.OCTET_STRING, signature),
  );
  const signedData = sequence(
    integer(1),
    setOf(TAG.SET, [sequence(oid(OID.sha256))]),
    sequence(oid(OID.data)),
    tlv(TAG.CONTEXT_0, certDer),
    setOf(TAG.SET, [signerInfo]),
  );
  return sequence(oid(OID.signedData), tlv(TAG.CONTEXT_0, signedData)).toString('base64');
}

function attribute(type: string, value: Buffer): Buffer {
  return sequence(oid(type), tlv(TAG.SET, value));
}

// ---------------------------------------------------------------------------------------------------------------
// Verifying

export type SignatureVerdict =
  | { ok: true; signerPem: string; signerCN?: string; signingTime?: Date }
  | { ok: false; reason: string };

export interface VerifyOptions {
  /** PEM certificates of the CAs the signer must chain to. */
  trusted?: string[];
  /** The certificate (PEM) the signer must be: the device identity certificate issued at enrollment. */
  expected?: string;
  /** The time to judge validity and skew at (default: now). */
  now?: Date;
  /** Largest accepted distance between the signing time and `now`. */
  maxSkewMs?: number;
}

class Refusal extends Error {}

function refuse(reason: string): never {
  throw new Refusal(reason);
}

/** Checks an `MS-Signature` header against the body it came with (MDM-TRN-015). Never throws. */
export function verifyMessageSignature(body: Uint8Array, header: string, opts: VerifyOptions = {}): SignatureVerdict {
  try {
    return check(body, header, opts);
  } catch (e) {
    if (e instanceof Refusal) return { ok: false, reason: e.message };
    if (e instanceof DerError) return { ok: false, reason: `not a CMS SignedData: ${e.message}` };
    if (e instanceof UsageError) throw e;
    // node:crypto refusing a damaged key or signature inside the header.
    return { ok: false, reason: `the signature cannot be checked: ${(e as Error).message}` };
  }
}

/** Options are the caller's: an unreadable PEM there is a usage error, thrown rather than returned as a verdict. */
class UsageError extends Error {}

interface ParsedSignerInfo {
  sid: Tlv;
  digestAlgorithm: string;
  signedAttributes?: Tlv;
  signatureAlgorithm: string;
  signature: Buffer;
}

function check(body: Uint8Array, header: string, opts: VerifyOptions): SignatureVerdict {
  const value = header.trim();
  if (value === '') refuse(`the ${MS_SIGNATURE_HEADER} header is empty`);
  if (value.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(value)) refuse(`the ${MS_SIGNATURE_HEADER} header is not base64`);
  const der = Buffer.from(value, 'base64');

  // ContentInfo { contentType, [0] EXPLICIT content }
  const contentInfo = expectTlv(der, 0, TAG.SEQUENCE, 'ContentInfo');
  if (contentInfo.end !== der.length) refuse(`not a CMS SignedData: ${der.length - contentInfo.end} bytes follow the ContentInfo`);
  const [contentType, explicit] = childrenOf(der, contentInfo);
  if (!contentType || !explicit) refuse('not a CMS SignedData: the ContentInfo is incomplete');
  const type = oidOf(der, contentType);
  if (type !== OID.signedData) refuse(`not a CMS SignedData: the content type is ${type}`);
  if (explicit.tag !== TAG.CONTEXT_0) refuse('not a CMS SignedData: the content is not tagged [0]');
  const signedData = expectTlv(der, explicit.contentStart, TAG.SEQUENCE, 'SignedData', explicit.end);

  // SignedData { version, digestAlgorithms, encapContentInfo, [0] certificates?, [1] crls?, signerInfos }
  const fields = childrenOf(der, signedData);
  const encap = fields[2];
  if (fields.length < 4 || !encap || encap.tag !== TAG.SEQUENCE) refuse('not a CMS SignedData: SignedData is incomplete');
  const [eContentType, eContent] = childrenOf(der, encap);
  if (!eContentType) refuse('not a CMS SignedData: the encapsulated content info has no content type');
  if (eContent) refuse(`the signature carries its own content; ${MS_SIGNATURE_HEADER} is a detached signature over the HTTP body (MDM-TRN-014)`);
  const certificates = fields.find((f, i) => i > 2 && f.tag === TAG.CONTEXT_0);
  const signerInfos = fields[fields.length - 1];
  if (signerInfos.tag !== TAG.SET) refuse('not a CMS SignedData: no SignerInfos');
  const signers = childrenOf(der, signerInfos);
  if (signers.length !== 1) refuse(`${signers.length} signers, expected exactly one (the device identity)`);
  const signer = parseSignerInfo(der, signers[0]);
  // RFC 5652 5.1: 3 when the signer is named by key identifier, 1 otherwise (no attribute certificates here).
  const version = integerOf(der, fields[0]);
  const expectedVersion = signer.sid.tag === TAG.SEQUENCE ? 1 : 3;
  if (version !== expectedVersion) refuse(`SignedData version ${version}, expected ${expectedVersion} for this content and signer (RFC 5652 5.1)`);
  if (fields[1].tag !== TAG.SET || !childrenOf(der, fields[1]).some((alg) => algorithmOid(der, alg) === signer.digestAlgorithm)) {
    refuse(`the SignedData digestAlgorithms do not list the signer's digest algorithm ${signer.digestAlgorithm}`);
  }

  const hash = SHA2[signer.digestAlgorithm];
  if (!hash) {
    const weak = NOT_SHA2[signer.digestAlgorithm];
    refuse(weak ? `digest algorithm ${weak} is not SHA-2 (MDM-TRN-014)` : `digest algorithm ${signer.digestAlgorithm} is not a SHA-2 digest (MDM-TRN-014)`);
  }
  if (!signer.signedAttributes) {
    refuse('no authenticated attributes: the signature must carry the content type, message digest, signing time and signer (MDM-TRN-014)');
  }
  const attributes = parseAttributes(der, signer.signedAttributes!);

  const declaredType = attributes.get(OID.contentType);
  if (!declaredType) refuse('no content-type attribute among the authenticated attributes');
  const eType = oidOf(der, eContentType);
  if (oidOf(der, declaredType!) !== eType) refuse(`the content-type attribute (${oidOf(der, declaredType!)}) differs from the signed content type (${eType})`);
  if (eType !== OID.data) refuse(`the signed content type is ${eType}, expected id-data (the SyncML body)`);

  const digest = attributes.get(OID.messageDigest);
  if (!digest || digest.tag !== TAG.OCTET_STRING) refuse('no messageDigest attribute among the authenticated attributes');
  if (!contentOf(der, digest!).equals(createHash(hash).update(body).digest())) refuse('messageDigest does not match the body');

  // The signer certificate: in the signature's certificates, or the expected one.
  const candidates = certificates ? childrenOf(der, certificates).filter((c) => c.tag === TAG.SEQUENCE).map((c) => readCertificate(bytesOf(der, c))) : [];
  const expected = opts.expected ? pemCertificate(opts.expected, 'the expected certificate') : undefined;
  const signerCert = [...candidates, ...(expected ? [expected] : [])].find((c) => identifies(der, signer.sid, c.raw));
  if (!signerCert) refuse(`the signer certificate is not in the signature (${MS_SIGNATURE_HEADER} carries it, MDM-TRN-014)`);
  const cert = signerCert!;
  const cn = commonName(cert.subject);

  const keyType = cert.publicKey.asymmetricKeyType;
  const algorithm = SIGNATURE_ALGORITHMS[signer.signatureAlgorithm];
  if (!algorithm) refuse(`signature algorithm ${signer.signatureAlgorithm} is not supported (RSA PKCS#1 v1.5 or ECDSA)`);
  if (algorithm.key !== keyType) refuse(`signature algorithm ${signer.signatureAlgorithm} does not fit the ${keyType ?? 'unknown'} key of CN=${cn}`);
  if (algorithm.hash && algorithm.hash !== hash) refuse(`signature algorithm ${signer.signatureAlgorithm} hashes with ${algorithm.hash}, the digest algorithm is ${hash}`);
  const setEncoding = Buffer.concat([Buffer.from([TAG.SET]), bytesOf(der, signer.signedAttributes!).subarray(1)]);
  if (!verify(hash, setEncoding, cert.publicKey as KeyObject, signer.signature)) {
    refuse(`the signature does not verify with the public key of CN=${cn}`);
  }

  const essCertificate = attributes.get(OID.signingCertificateV2);
  if (essCertificate && !signingCertificateNames(der, essCertificate, cert.raw)) {
    refuse(`the signingCertificateV2 attribute names another certificate than the signer CN=${cn}`);
  }

  const signingTimeTlv = attributes.get(OID.signingTime);
  if (!signingTimeTlv) refuse('no PKCS#9 signing time among the authenticated attributes (MDM-TRN-014)');
  const signingTime = timeOf(der, signingTimeTlv!);

  if (!expected && !opts.trusted?.length) refuse('nothing to check the signer against: give the trusted CA certificates or the expected device certificate');
  if (expected && !expected.raw.equals(cert.raw)) {
    refuse(`signed by CN=${cn}, not the device certificate (CN=${commonName(expected.subject)})`);
  }
  if (opts.trusted?.length && !chainsToTrusted(cert, candidates, opts.trusted.map((pem, i) => pemCertificate(pem, `trusted CA certificate ${i + 1}`)))) {
    refuse(`the signer CN=${cn} (issued by CN=${commonName(cert.issuer)}) does not chain to a trusted CA`);
  }

  const now = opts.now ?? new Date();
  const notBefore = new Date(cert.validFrom);
  const notAfter = new Date(cert.validTo);
  if (now < notBefore) refuse(`the signer certificate CN=${cn} is not valid before ${notBefore.toISOString()}`);
  if (now > notAfter) refuse(`the signer certificate CN=${cn} expired at ${notAfter.toISOString()}`);
  if (signingTime < notBefore || signingTime > notAfter) refuse(`signed at ${signingTime.toISOString()}, outside the validity of CN=${cn}`);
  if (opts.maxSkewMs !== undefined && Math.abs(signingTime.getTime() - now.getTime()) > opts.maxSkewMs) {
    const seconds = Math.round(Math.abs(signingTime.getTime() - now.getTime()) / 1000);
    refuse(`signing time ${signingTime.toISOString()} is ${seconds} s from ${now.toISOString()}, more than the ${Math.round(opts.maxSkewMs / 1000)} s allowed`);
  }
  return { ok: true, signerPem: cert.toString(), signerCN: cn, signingTime };
}

function readCertificate(der: Buffer): X509Certificate {
  try {
    const cert = new X509Certificate(der);
    void cert.publicKey; // a damaged key only shows when it is read
    return cert;
  } catch (e) {
    return refuse(`a certificate in the signature cannot be read (${(e as Error).message})`);
  }
}

function pemCertificate(pem: string, what: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (e) {
    throw new UsageError(`${what} is not a PEM certificate: ${(e as Error).message}`);
  }
}

/**
 * The OID of an AlgorithmIdentifier SEQUENCE { algorithm, parameters? }. SHA-2, RSA and ECDSA identifiers carry
 * no parameters or NULL (RFC 5754, RFC 4055, RFC 5758); anything else there is refused.
 */
function algorithmOid(der: Buffer, tlv: Tlv): string {
  if (tlv.tag !== TAG.SEQUENCE) refuse(`not a CMS SignedData: expected an AlgorithmIdentifier at byte ${tlv.start}`);
  const [algorithm, parameters, extra] = childrenOf(der, tlv);
  if (!algorithm) refuse(`not a CMS SignedData: empty AlgorithmIdentifier at byte ${tlv.start}`);
  if (extra || (parameters && (parameters.tag !== TAG.NULL || parameters.end !== parameters.contentStart))) {
    refuse(`not a CMS SignedData: unexpected algorithm parameters at byte ${parameters!.start}`);
  }
  return oidOf(der, algorithm);
}

function integerOf(der: Buffer, tlv: Tlv): number {
  if (tlv.tag !== TAG.INTEGER || tlv.end - tlv.contentStart !== 1) refuse(`not a CMS SignedData: expected a small INTEGER at byte ${tlv.start}`);
  return der[tlv.contentStart];
}

function parseSignerInfo(der: Buffer, info: Tlv): ParsedSignerInfo {
  if (info.tag !== TAG.SEQUENCE) refuse('not a CMS SignedData: a SignerInfo is not a SEQUENCE');
  const f = childrenOf(der, info);
  if (f.length < 5) refuse('not a CMS SignedData: the SignerInfo is incomplete');
  const version = integerOf(der, f[0]);
  // RFC 5652 5.3: version 1 goes with issuerAndSerialNumber, 3 with subjectKeyIdentifier.
  if (version !== (f[1].tag === TAG.SEQUENCE ? 1 : 3)) refuse(`SignerInfo version ${version} does not fit its signer identifier`);
  let i = 1;
  const sid = f[i++];
  const digestAlgorithm = algorithmOid(der, f[i++]);
  const signedAttributes = f[i].tag === TAG.CONTEXT_0 ? f[i++] : undefined;
  const algorithm = f[i++];
  const signature = f[i++];
  if (!algorithm || !signature || signature.tag !== TAG.OCTET_STRING) refuse('not a CMS SignedData: the SignerInfo is incomplete');
  const signatureAlgorithm = algorithmOid(der, algorithm);
  return { sid, digestAlgorithm, signedAttributes, signatureAlgorithm, signature: contentOf(der, signature) };
}

/** Attribute type -> its first value. A type given twice is refused (RFC 5652 5.3: each at most once). */
function parseAttributes(der: Buffer, set: Tlv): Map<string, Tlv> {
  const out = new Map<string, Tlv>();
  for (const attr of childrenOf(der, set)) {
    const [type, values] = childrenOf(der, attr);
    if (!type || !values || values.tag !== TAG.SET) refuse('not a CMS SignedData: a malformed authenticated attribute');
    const name = oidOf(der, type);
    if (out.has(name)) refuse(`authenticated attribute ${name} appears twice`);
    const [first] = childrenOf(der, values);
    if (!first) refuse(`authenticated attribute ${name} has no value`);
    out.set(name, first);
  }
  return out;
}

/** The TBSCertificate fields of a certificate's DER. */
function tbsFields(certDer: Buffer): Tlv[] {
  const cert = expectTlv(certDer, 0, TAG.SEQUENCE, 'Certificate');
  const tbs = expectTlv(certDer, cert.contentStart, TAG.SEQUENCE, 'TBSCertificate', cert.end);
  return childrenOf(certDer, tbs);
}

/** The issuer Name and serialNumber INTEGER of a certificate, as encoded in it. */
function issuerAndSerial(certDer: Buffer): { issuer: Buffer; serial: Buffer } {
  const fields = tbsFields(certDer);
  const base = fields[0].tag === TAG.CONTEXT_0 ? 1 : 0; // [0] version, absent in v1 certificates
  return { serial: bytesOf(certDer, fields[base]), issuer: bytesOf(certDer, fields[base + 2]) };
}

function subjectKeyIdentifier(certDer: Buffer): Buffer | undefined {
  const extensions = tbsFields(certDer).find((f) => f.tag === 0xa3);
  if (!extensions) return undefined;
  for (const ext of childrenOf(certDer, readTlv(certDer, extensions.contentStart, extensions.end))) {
    const parts = childrenOf(certDer, ext);
    if (oidOf(certDer, parts[0]) !== OID.subjectKeyIdentifier) continue;
    const wrapped = parts[parts.length - 1];
    return contentOf(certDer, readTlv(certDer, wrapped.contentStart, wrapped.end));
  }
  return undefined;
}

/** Whether a SignerIdentifier (issuerAndSerialNumber, or [0] subjectKeyIdentifier) names this certificate. */
function identifies(der: Buffer, sid: Tlv, certDer: Buffer): boolean {
  if (sid.tag === TAG.SEQUENCE) {
    const [issuer, serial] = childrenOf(der, sid);
    const own = issuerAndSerial(certDer);
    return !!issuer && !!serial && bytesOf(der, issuer).equals(own.issuer) && bytesOf(der, serial).equals(own.serial);
  }
  if (sid.tag === 0x80) return subjectKeyIdentifier(certDer)?.equals(contentOf(der, sid)) ?? false;
  return false;
}

/** ESS SigningCertificateV2: the first ESSCertIDv2's certHash (SHA-256 unless another hash is named) is the signer's. */
function signingCertificateNames(der: Buffer, value: Tlv, certDer: Buffer): boolean {
  const [certs] = childrenOf(der, value);
  const [first] = certs ? childrenOf(der, certs) : [];
  if (!first) return false;
  const parts = childrenOf(der, first);
  let hash = 'sha256';
  let index = 0;
  if (parts[0]?.tag === TAG.SEQUENCE) {
    const named = SHA2[oidOf(der, childrenOf(der, parts[0])[0])];
    if (!named) return false;
    hash = named;
    index = 1;
  }
  const certHash = parts[index];
  return !!certHash && certHash.tag === TAG.OCTET_STRING && contentOf(der, certHash).equals(createHash(hash).update(certDer).digest());
}

/** The signer is a trusted certificate, or is issued (signature checked) by one, possibly through CA certificates carried in the signature. */
function chainsToTrusted(cert: X509Certificate, carried: X509Certificate[], trusted: X509Certificate[], depth = 0): boolean {
  if (trusted.some((t) => t.raw.equals(cert.raw))) return true;
  if (trusted.some((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey))) return true;
  if (depth >= 4) return false;
  return carried.some((ca) => ca.ca && !ca.raw.equals(cert.raw) && cert.checkIssued(ca) && cert.verify(ca.publicKey) && chainsToTrusted(ca, carried, trusted, depth + 1));
}

function commonName(distinguishedName: string): string {
  return distinguishedName.split('\n').find((line) => line.startsWith('CN='))?.slice(3) ?? distinguishedName.replace(/\n/g, ', ');
}
