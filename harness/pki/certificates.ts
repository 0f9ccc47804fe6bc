/**
 * X.509 issuing: node:crypto makes the keys and the signatures, node-forge's ASN.1 layer lays out the
 * TBSCertificate. forge's own `cert.sign` is not used because it only signs with RSA keys and its
 * SubjectPublicKeyInfo encoder only knows RSA, while fleets of test devices want P-256 keys; one signing
 * path for both key types keeps RSA and EC certificates byte-for-byte alike in everything but the key.
 */
import { createHash, createPrivateKey, generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import forge from 'node-forge';

export type KeyType = 'rsa' | 'ec';

export interface Identity {
  certPem: string;
  keyPem: string;
}

export interface Validity {
  notBefore: Date;
  notAfter: Date;
}

export type ExtendedKeyUsage = 'serverAuth' | 'clientAuth';

export interface CertificateTemplate {
  commonName: string;
  validity: Validity;
  isCertificateAuthority?: boolean;
  extendedKeyUsage?: ExtendedKeyUsage[];
  /** Host names and IP addresses, for server certificates. */
  subjectAltNames?: string[];
  /** 16 octets for the serial number (from the run's seed); random when absent. */
  serial?: Uint8Array;
}

/** What signing a certificate needs from its issuer: the key, and the name and key id the certificate must carry. */
export interface SigningAuthority {
  privateKey: KeyObject;
  keyType: KeyType;
  name: forge.asn1.Asn1;
  keyIdentifier?: Buffer;
}

const { asn1 } = forge;
const { Class, Type } = asn1;

const OID = {
  commonName: '2.5.4.3',
  organizationName: '2.5.4.10',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  ecdsaWithSHA256: '1.2.840.10045.4.3.2',
} as const;

/** Bit masks of the first KeyUsage octet (RFC 5280 4.2.1.3, bit 0 is the most significant). */
const KEY_USAGE = { digitalSignature: 0x80, keyEncipherment: 0x20, keyCertSign: 0x04, cRLSign: 0x02 } as const;

const ORGANIZATION = 'mdm-conformance';

export function generateKeyPair(keyType: KeyType): { privateKey: KeyObject; publicKey: KeyObject } {
  return keyType === 'ec'
    ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : generateKeyPairSync('rsa', { modulusLength: 2048 });
}

export function keyTypeOf(key: KeyObject): KeyType {
  const type = key.asymmetricKeyType;
  if (type === 'rsa' || type === 'ec') return type;
  throw new Error(`unsupported key type "${type ?? 'unknown'}": the test PKI uses RSA or EC (P-256) keys`);
}

/** A fresh self-signed root; its SigningAuthority issues the leaves. */
export function createAuthority(commonName: string, validity: Validity, keyType: KeyType): { identity: Identity; authority: SigningAuthority } {
  const keys = generateKeyPair(keyType);
  const authority: SigningAuthority = {
    privateKey: keys.privateKey,
    keyType,
    name: distinguishedName(commonName),
    keyIdentifier: subjectKeyIdentifier(keys.publicKey),
  };
  const certPem = issueCertificate({ commonName, validity, isCertificateAuthority: true }, keys.publicKey, authority);
  return { identity: { certPem, keyPem: privateKeyPem(keys.privateKey) }, authority };
}

/** A new key pair and a certificate for it; the key type follows the issuer's so a PKI stays all-RSA or all-EC. */
export function issueIdentity(template: CertificateTemplate, authority: SigningAuthority): Identity {
  const keys = generateKeyPair(authority.keyType);
  return { certPem: issueCertificate(template, keys.publicKey, authority), keyPem: privateKeyPem(keys.privateKey) };
}

/**
 * Rebuilds the SigningAuthority of a CA read back from PEM. The issuer name is copied byte for byte from the CA
 * certificate and the key id from its SubjectKeyIdentifier, because chain building matches on both.
 */
export function authorityFromIdentity(ca: Identity): SigningAuthority {
  const privateKey = createPrivateKey(ca.keyPem);
  const tbsFields = children(children(asn1.fromDer(new X509Certificate(ca.certPem).raw.toString('binary')))[0]);
  const versionPresent = tbsFields[0].tagClass === Class.CONTEXT_SPECIFIC && tbsFields[0].type === 0;
  const subject = tbsFields[(versionPresent ? 1 : 0) + 4];
  return { privateKey, keyType: keyTypeOf(privateKey), name: subject, keyIdentifier: findSubjectKeyIdentifier(tbsFields) };
}

export function issueCertificate(template: CertificateTemplate, subjectPublicKey: KeyObject, authority: SigningAuthority): string {
  const signatureAlgorithm = signatureAlgorithmFor(authority.keyType);
  const spkiDer = subjectPublicKey.export({ type: 'spki', format: 'der' });
  const tbs = sequence([
    asn1.create(Class.CONTEXT_SPECIFIC, 0, true, [integer(asn1.integerToDer(2).getBytes())]),
    integer(serialNumber(template.serial)),
    signatureAlgorithm,
    authority.name,
    sequence([time(template.validity.notBefore), time(template.validity.notAfter)]),
    distinguishedName(template.commonName),
    asn1.fromDer(spkiDer.toString('binary')),
    asn1.create(Class.CONTEXT_SPECIFIC, 3, true, [sequence(extensionsFor(template, subjectPublicKey, spkiDer, authority))]),
  ]);
  const signature = sign('sha256', der(tbs), authority.privateKey);
  const certificate = sequence([tbs, signatureAlgorithm, bitString(signature)]);
  return pem('CERTIFICATE', der(certificate));
}

export function privateKeyPem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}

function extensionsFor(template: CertificateTemplate, subjectPublicKey: KeyObject, spkiDer: Buffer, authority: SigningAuthority): forge.asn1.Asn1[] {
  const isCA = template.isCertificateAuthority === true;
  const keyUsage = isCA
    ? KEY_USAGE.keyCertSign | KEY_USAGE.cRLSign
    : KEY_USAGE.digitalSignature | (keyTypeOf(subjectPublicKey) === 'rsa' ? KEY_USAGE.keyEncipherment : 0);
  const extensions = [
    extension(OID.basicConstraints, true, sequence(isCA ? [asn1.create(Class.UNIVERSAL, Type.BOOLEAN, false, '\xff')] : [])),
    extension(OID.keyUsage, true, keyUsageBits(keyUsage)),
    extension(OID.subjectKeyIdentifier, false, octetString(keyIdentifierOf(spkiDer))),
  ];
  if (authority.keyIdentifier) {
    extensions.push(extension(OID.authorityKeyIdentifier, false, sequence([
      asn1.create(Class.CONTEXT_SPECIFIC, 0, false, authority.keyIdentifier.toString('binary')),
    ])));
  }
  if (template.extendedKeyUsage?.length) {
    extensions.push(extension(OID.extKeyUsage, false, sequence(template.extendedKeyUsage.map((usage) => objectId(OID[usage])))));
  }
  if (template.subjectAltNames?.length) {
    extensions.push(extension(OID.subjectAltName, false, sequence(template.subjectAltNames.map(generalName))));
  }
  return extensions;
}

function generalName(host: string): forge.asn1.Asn1 {
  if (isIPv4(host) || isIPv6(host)) return asn1.create(Class.CONTEXT_SPECIFIC, 7, false, ipAddressBytes(host).toString('binary'));
  return asn1.create(Class.CONTEXT_SPECIFIC, 2, false, host);
}

function ipAddressBytes(ip: string): Buffer {
  if (isIPv4(ip)) return Buffer.from(ip.split('.').map(Number));
  // An embedded dotted IPv4 tail (::ffff:1.2.3.4) stands for the last two 16-bit groups.
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(ip);
  const text = dotted
    ? ip.slice(0, dotted.index) + [0, 2].map((i) => ((Number(dotted[i + 1]) << 8) | Number(dotted[i + 2])).toString(16)).join(':')
    : ip;
  const [head, tail] = text.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const groups = tail === undefined ? headGroups : [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  const bytes = Buffer.alloc(16);
  groups.forEach((group, i) => bytes.writeUInt16BE(parseInt(group, 16), i * 2));
  return bytes;
}

function subjectKeyIdentifier(publicKey: KeyObject): Buffer {
  return keyIdentifierOf(publicKey.export({ type: 'spki', format: 'der' }));
}

/** RFC 5280 4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING contents, the last field of the SPKI. */
function keyIdentifierOf(spkiDer: Buffer): Buffer {
  const spki = readTlv(spkiDer, 0);
  const algorithm = readTlv(spkiDer, spki.contentStart);
  const publicKeyBits = readTlv(spkiDer, algorithm.end);
  return createHash('sha1').update(spkiDer.subarray(publicKeyBits.contentStart + 1, publicKeyBits.end)).digest();
}

function readTlv(bytes: Buffer, offset: number): { contentStart: number; end: number } {
  const first = bytes[offset + 1];
  if (first < 0x80) return { contentStart: offset + 2, end: offset + 2 + first };
  const lengthOctets = first & 0x7f;
  const length = bytes.readUIntBE(offset + 2, lengthOctets);
  return { contentStart: offset + 2 + lengthOctets, end: offset + 2 + lengthOctets + length };
}

function findSubjectKeyIdentifier(tbsFields: forge.asn1.Asn1[]): Buffer | undefined {
  const extensionsField = tbsFields.find((field) => field.tagClass === Class.CONTEXT_SPECIFIC && field.type === 3);
  if (!extensionsField) return undefined;
  for (const ext of children(children(extensionsField)[0])) {
    const fields = children(ext);
    if (asn1.derToOid(bytesOf(fields[0])) !== OID.subjectKeyIdentifier) continue;
    const keyId = asn1.fromDer(bytesOf(fields[fields.length - 1]));
    return Buffer.from(bytesOf(keyId), 'binary');
  }
  return undefined;
}

function signatureAlgorithmFor(keyType: KeyType): forge.asn1.Asn1 {
  // RFC 5758 3.2: ECDSA AlgorithmIdentifiers omit the parameters; RFC 4055 5: RSA ones carry NULL.
  return keyType === 'ec'
    ? sequence([objectId(OID.ecdsaWithSHA256)])
    : sequence([objectId(OID.sha256WithRSAEncryption), asn1.create(Class.UNIVERSAL, Type.NULL, false, '')]);
}

function distinguishedName(commonName: string): forge.asn1.Asn1 {
  const attribute = (oid: string, value: string) =>
    asn1.create(Class.UNIVERSAL, Type.SET, true, [
      sequence([objectId(oid), asn1.create(Class.UNIVERSAL, Type.UTF8, false, forge.util.encodeUtf8(value))]),
    ]);
  return sequence([attribute(OID.organizationName, ORGANIZATION), attribute(OID.commonName, commonName)]);
}

/** Positive and minimally encoded: the top bit clear and the first octet never zero. */
function serialNumber(octets?: Uint8Array): string {
  const serial = Buffer.from(octets ?? randomBytes(16));
  serial[0] = (serial[0] & 0x7f) || 0x01;
  return serial.toString('binary');
}

/** RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime after, both without fractional seconds. */
function time(date: Date): forge.asn1.Asn1 {
  const whole = new Date(Math.floor(date.getTime() / 1000) * 1000);
  const year = whole.getUTCFullYear();
  return year >= 1950 && year < 2050
    ? asn1.create(Class.UNIVERSAL, Type.UTCTIME, false, asn1.dateToUtcTime(whole))
    : asn1.create(Class.UNIVERSAL, Type.GENERALIZEDTIME, false, asn1.dateToGeneralizedTime(whole));
}

function keyUsageBits(mask: number): forge.asn1.Asn1 {
  // DER drops trailing zero bits of a named bit list and counts them as unused.
  let unusedBits = 0;
  while (unusedBits < 7 && (mask & (1 << unusedBits)) === 0) unusedBits++;
  return asn1.create(Class.UNIVERSAL, Type.BITSTRING, false, String.fromCharCode(unusedBits, mask));
}

function extension(oid: string, critical: boolean, value: forge.asn1.Asn1): forge.asn1.Asn1 {
  return sequence([
    objectId(oid),
    ...(critical ? [asn1.create(Class.UNIVERSAL, Type.BOOLEAN, false, '\xff')] : []),
    octetString(der(value)),
  ]);
}

function sequence(items: forge.asn1.Asn1[]): forge.asn1.Asn1 {
  return asn1.create(Class.UNIVERSAL, Type.SEQUENCE, true, items);
}

function objectId(oid: string): forge.asn1.Asn1 {
  return asn1.create(Class.UNIVERSAL, Type.OID, false, asn1.oidToDer(oid).getBytes());
}

function integer(bytes: string): forge.asn1.Asn1 {
  return asn1.create(Class.UNIVERSAL, Type.INTEGER, false, bytes);
}

function octetString(bytes: Buffer): forge.asn1.Asn1 {
  return asn1.create(Class.UNIVERSAL, Type.OCTETSTRING, false, bytes.toString('binary'));
}

function bitString(bytes: Buffer): forge.asn1.Asn1 {
  return asn1.create(Class.UNIVERSAL, Type.BITSTRING, false, '\x00' + bytes.toString('binary'));
}

function children(node: forge.asn1.Asn1): forge.asn1.Asn1[] {
  if (!Array.isArray(node.value)) throw new Error('malformed certificate: expected a constructed ASN.1 value');
  return node.value;
}

function bytesOf(node: forge.asn1.Asn1): string {
  if (typeof node.value !== 'string') throw new Error('malformed certificate: expected a primitive ASN.1 value');
  return node.value;
}

function der(node: forge.asn1.Asn1): Buffer {
  return Buffer.from(asn1.toDer(node).getBytes(), 'binary');
}

function pem(label: string, body: Buffer): string {
  const lines = body.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
