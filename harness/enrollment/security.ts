/**
 * The WS-Security header that authenticates GetPolicies and RequestSecurityToken, one form per authentication
 * policy (MS-MDE2 3.3 and 3.4; RequestSecurityToken 3.4.4.1.1.1.1 Federated, 3.4.4.1.1.1.2 Certificate,
 * 3.4.4.1.1.1.3 OnPremise):
 *   OnPremise    a UsernameToken with the u:Id MS-MDE2 prescribes and a PasswordText password;
 *   Federated    the security token from the authentication service, base64, in a BinarySecurityToken of value type
 *                DeviceEnrollmentUserToken;
 *   Certificate  a u:Timestamp, the client certificate in a BinarySecurityToken, and an XML signature over the
 *                Timestamp and the Body, exclusive-c14n canonicalized (the body is signed too, so that the
 *                certificate request cannot be swapped under a valid signature).
 * Reading the header back, for a service, is here too.
 */
import { createHash, createPrivateKey, sign, verify, X509Certificate, type KeyObject } from 'node:crypto';
import { escapeText, type XmlElement } from '../syncml/xml';
import type { Identity } from '../pki';
import { exclusiveCanonical } from './c14n';
import { attr, child, children, findWithScope, parseEnrollmentXml, trimmedText } from './dom';
import { DSIG, NS, TOKEN } from './names';

export type ClientCredential =
  | { policy: 'OnPremise'; user: string; password: string }
  | { policy: 'Federated'; token: string }
  | { policy: 'Certificate'; identity: Identity };

/** The u:Id values the Certificate policy's signature refers to. */
export const SIGNED_IDS = { timestamp: '_0', body: '_1', certificate: 'X509Token' } as const;
const SIGNATURE_PLACEHOLDER = '<!--signature-->';
const SIGNATURE_VALUE_PLACEHOLDER = 'SIGNATURE-VALUE';

/** How long a signed request stays valid (u:Expires - u:Created). */
const TIMESTAMP_LIFETIME_MS = 5 * 60_000;
/** Clock difference tolerated between client and service. */
const CLOCK_SKEW_MS = 5 * 60_000;

/**
 * The `<wsse:Security>` element for a credential. For the Certificate policy it carries a placeholder where
 * `signEnvelope` puts the signature once the whole envelope exists.
 */
export function securityHeader(credential: ClientCredential, now: Date): string {
  switch (credential.policy) {
    case 'OnPremise':
      return `<wsse:Security s:mustUnderstand="1"><wsse:UsernameToken u:Id="${TOKEN.onPremiseUsernameTokenId}">` +
        `<wsse:Username>${escapeText(credential.user)}</wsse:Username>` +
        `<wsse:Password wsse:Type="${TOKEN.passwordText}">${escapeText(credential.password)}</wsse:Password>` +
        `</wsse:UsernameToken></wsse:Security>`;
    case 'Federated':
      return `<wsse:Security s:mustUnderstand="1">` +
        `<wsse:BinarySecurityToken ValueType="${TOKEN.userToken}" EncodingType="${TOKEN.base64Encoding}">` +
        `${Buffer.from(credential.token, 'utf8').toString('base64')}</wsse:BinarySecurityToken></wsse:Security>`;
    case 'Certificate': {
      const der = new X509Certificate(credential.identity.certPem).raw.toString('base64');
      const expires = new Date(now.getTime() + TIMESTAMP_LIFETIME_MS);
      return `<wsse:Security s:mustUnderstand="1">` +
        `<u:Timestamp u:Id="${SIGNED_IDS.timestamp}"><u:Created>${iso(now)}</u:Created><u:Expires>${iso(expires)}</u:Expires></u:Timestamp>` +
        `<wsse:BinarySecurityToken ValueType="${TOKEN.userToken}" EncodingType="${TOKEN.base64Encoding}" u:Id="${SIGNED_IDS.certificate}">${der}</wsse:BinarySecurityToken>` +
        `${SIGNATURE_PLACEHOLDER}</wsse:Security>`;
    }
  }
}

/** The attributes the Body needs for a credential (the Certificate policy signs it by its u:Id). */
export function bodyAttributes(credential: ClientCredential): string {
  return credential.policy === 'Certificate' ? ` u:Id="${SIGNED_IDS.body}"` : '';
}

/** Fills in the signature of a Certificate-policy envelope built with `securityHeader`; other envelopes pass through. */
export function signEnvelope(envelope: string, credential: ClientCredential): string {
  if (credential.policy !== 'Certificate') return envelope;
  const key = createPrivateKey(credential.identity.keyPem);
  const references = [SIGNED_IDS.timestamp, SIGNED_IDS.body].map((id) => {
    const digest = digestOf(rootOf(envelope), id);
    if (digest === undefined) throw new Error(`cannot sign: no element with u:Id "${id}" in the envelope`);
    return `<ds:Reference URI="#${id}"><ds:Transforms><ds:Transform Algorithm="${DSIG.excC14n}"/></ds:Transforms>` +
      `<ds:DigestMethod Algorithm="${DSIG.sha256}"/><ds:DigestValue>${digest}</ds:DigestValue></ds:Reference>`;
  }).join('');
  const algorithm = key.asymmetricKeyType === 'ec' ? DSIG.ecdsaSha256 : DSIG.rsaSha256;
  const signature = `<ds:Signature xmlns:ds="${NS.ds}"><ds:SignedInfo>` +
    `<ds:CanonicalizationMethod Algorithm="${DSIG.excC14n}"/><ds:SignatureMethod Algorithm="${algorithm}"/>${references}</ds:SignedInfo>` +
    `<ds:SignatureValue>${SIGNATURE_VALUE_PLACEHOLDER}</ds:SignatureValue>` +
    `<ds:KeyInfo><wsse:SecurityTokenReference><wsse:Reference URI="#${SIGNED_IDS.certificate}" ValueType="${TOKEN.x509Reference}"/></wsse:SecurityTokenReference></ds:KeyInfo>` +
    `</ds:Signature>`;
  const withSignature = envelope.replace(SIGNATURE_PLACEHOLDER, signature);
  const signedInfo = findWithScope(rootOf(withSignature), (el) => el.ns === NS.ds && el.name.endsWith('SignedInfo'))!;
  const value = signatureBytes(key, Buffer.from(exclusiveCanonical(signedInfo.element, signedInfo.scope), 'utf8'));
  return withSignature.replace(SIGNATURE_VALUE_PLACEHOLDER, value.toString('base64'));
}

/** What a request's security header presents. */
export type PresentedCredential =
  | { policy: 'OnPremise'; user: string; password: string }
  | { policy: 'Federated'; token: string }
  | { policy: 'Certificate'; certPem: string }
  /** `malformed`: a header that is there but cannot be read or verified (MS-MDE2 2.2.10 InvalidSecurity). */
  | { policy: 'none'; problem: string; malformed: boolean };

/**
 * Reads and, for a signature, verifies the security header of a request. A signature that does not verify, an
 * expired Timestamp or a Body left unsigned is reported as `none` with the problem.
 */
export function presentedCredential(root: XmlElement, header: XmlElement | undefined, now: Date): PresentedCredential {
  const security = child(header, NS.wsse, 'Security');
  if (!security) return { policy: 'none', problem: 'no wsse:Security header', malformed: false };
  const username = child(security, NS.wsse, 'UsernameToken');
  if (username) {
    const user = trimmedText(child(username, NS.wsse, 'Username'));
    const password = child(username, NS.wsse, 'Password');
    if (!user || !password) return { policy: 'none', problem: 'UsernameToken without Username or Password', malformed: true };
    // The password is taken as written: white space can be part of it.
    return { policy: 'OnPremise', user, password: password.children.map((c) => (c.type === 'text' ? c.text : '')).join('') };
  }
  const signature = child(security, NS.ds, 'Signature');
  if (signature) return verifySignature(root, security, signature, now);
  const token = children(security, NS.wsse, 'BinarySecurityToken').find((t) => attr(t, 'ValueType') === TOKEN.userToken);
  if (token) {
    const text = (trimmedText(token) ?? '').replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return { policy: 'none', problem: 'BinarySecurityToken is not base64', malformed: true };
    return { policy: 'Federated', token: Buffer.from(text, 'base64').toString('utf8') };
  }
  return { policy: 'none', problem: 'wsse:Security carries no UsernameToken, BinarySecurityToken or Signature', malformed: false };
}

function verifySignature(root: XmlElement, security: XmlElement, signature: XmlElement, now: Date): PresentedCredential {
  const none = (problem: string): PresentedCredential => ({ policy: 'none', problem, malformed: true });
  const signedInfo = findWithScope(root, (el) => el === child(signature, NS.ds, 'SignedInfo'));
  if (!signedInfo) return none('ds:Signature without ds:SignedInfo');
  const method = attr(child(signedInfo.element, NS.ds, 'SignatureMethod'), 'Algorithm');
  if (method !== DSIG.rsaSha256 && method !== DSIG.ecdsaSha256) return none(`unsupported SignatureMethod ${method ?? '(none)'}`);
  const c14n = attr(child(signedInfo.element, NS.ds, 'CanonicalizationMethod'), 'Algorithm');
  if (c14n !== DSIG.excC14n) return none(`CanonicalizationMethod must be ${DSIG.excC14n} (MS-MDE2 3.4.4.1.1.1.2)`);
  const signed = new Set<string>();
  for (const reference of children(signedInfo.element, NS.ds, 'Reference')) {
    const id = (attr(reference, 'URI') ?? '').replace(/^#/, '');
    if (attr(child(reference, NS.ds, 'DigestMethod'), 'Algorithm') !== DSIG.sha256) return none(`Reference #${id}: unsupported DigestMethod`);
    const digest = digestOf(root, id);
    if (digest === undefined) return none(`Reference #${id} points at no element`);
    if (digest !== trimmedText(child(reference, NS.ds, 'DigestValue'))) return none(`Reference #${id}: digest does not match: the signed element was changed`);
    signed.add(id);
  }
  const timestamp = child(security, NS.wsu, 'Timestamp');
  const body = child(root, [NS.soap], 'Body');
  if (!timestamp || !signed.has(attr(timestamp, 'Id') ?? '')) return none('the signature does not cover the u:Timestamp');
  if (!body || !signed.has(attr(body, 'Id') ?? '')) return none('the signature does not cover the Body');
  const expires = Date.parse(trimmedText(child(timestamp, NS.wsu, 'Expires')) ?? '');
  const created = Date.parse(trimmedText(child(timestamp, NS.wsu, 'Created')) ?? '');
  if (!(expires > now.getTime() - CLOCK_SKEW_MS) || !(created < now.getTime() + CLOCK_SKEW_MS)) return none('u:Timestamp expired or not yet valid');
  const tokenId = (attr(descendantReference(signature), 'URI') ?? '').replace(/^#/, '');
  const token = children(security, NS.wsse, 'BinarySecurityToken').find((t) => attr(t, 'Id') === tokenId);
  if (!token) return none(`KeyInfo refers to no BinarySecurityToken #${tokenId}`);
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(Buffer.from((trimmedText(token) ?? '').replace(/\s+/g, ''), 'base64'));
  } catch {
    return none('the BinarySecurityToken of the signature is not an X.509 certificate');
  }
  const value = Buffer.from((trimmedText(child(signature, NS.ds, 'SignatureValue')) ?? '').replace(/\s+/g, ''), 'base64');
  const canonical = Buffer.from(exclusiveCanonical(signedInfo.element, signedInfo.scope), 'utf8');
  if (!signatureVerifies(cert.publicKey, canonical, value)) return none('the signature does not verify with the certificate it names');
  return { policy: 'Certificate', certPem: cert.toString() };
}

function descendantReference(signature: XmlElement): XmlElement | undefined {
  return child(child(child(signature, NS.ds, 'KeyInfo'), NS.wsse, 'SecurityTokenReference'), NS.wsse, 'Reference');
}

function rootOf(xml: string): XmlElement {
  const parsed = parseEnrollmentXml(xml);
  if ('error' in parsed) throw new Error(`cannot sign an envelope that does not parse: ${parsed.error}`);
  return parsed.root;
}

/** Base64 SHA-256 of the exclusive canonical form of the element with this u:Id. */
function digestOf(root: XmlElement, id: string): string | undefined {
  if (!id) return undefined;
  const found = findWithScope(root, (el) => attr(el, 'Id') === id);
  if (!found) return undefined;
  return createHash('sha256').update(exclusiveCanonical(found.element, found.scope), 'utf8').digest('base64');
}

function signatureBytes(key: KeyObject, data: Buffer): Buffer {
  // XML-DSig ECDSA values are r||s (RFC 4050), not DER.
  return key.asymmetricKeyType === 'ec' ? sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' }) : sign('sha256', data, key);
}

function signatureVerifies(key: KeyObject, data: Buffer, value: Buffer): boolean {
  try {
    return key.asymmetricKeyType === 'ec' ? verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, value) : verify('sha256', data, key, value);
  } catch {
    return false;
  }
}

function iso(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
