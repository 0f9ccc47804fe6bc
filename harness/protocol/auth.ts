/**
 * Application-level authentication of OMA DM 1.2 (catalogue 3.9): `syncml:auth-basic` and `syncml:auth-md5`
 * credentials carried in `SyncHdr/Cred`, and `syncml:auth-MAC` integrity carried in the `x-syncml-hmac` HTTP header.
 *
 * All hash inputs are assembled as bytes. The nonce travels base64-encoded but its decoded octets are what get
 * hashed (MDM-AUTH-016); joining it into a JS string first would re-encode any byte >= 0x80 as two UTF-8 bytes, and
 * hashing the base64 text instead is the classic interop bug the test vectors pin down. Strings that the protocol
 * defines as text (user id, password) are hashed as UTF-8.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Rng } from './random';

export const AuthScheme = {
  Basic: 'syncml:auth-basic',
  Md5: 'syncml:auth-md5',
  Mac: 'syncml:auth-MAC',
} as const;
export type AuthSchemeName = (typeof AuthScheme)[keyof typeof AuthScheme];
/** The schemes that travel in `Cred` (MAC never does: MDM-AUTH-027). */
export type CredScheme = typeof AuthScheme.Basic | typeof AuthScheme.Md5;

/** HTTP header carrying the HMAC (MDM-AUTH-027); HTTP header names are case-insensitive. */
export const HMAC_HEADER = 'x-syncml-hmac';

/** 128 bits (MDM-AUTH-021). */
export const NONCE_BYTES = 16;

const MD5_BYTES = 16;
const COLON = Uint8Array.of(0x3a);

function md5(...parts: Uint8Array[]): Buffer {
  const hash = createHash('md5');
  for (const part of parts) hash.update(part);
  return hash.digest();
}

function utf8(text: string): Buffer {
  return Buffer.from(text, 'utf8');
}

/** Standard alphabet, padded: what `b64` means in SyncML meta `Format`. */
const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function isBase64(text: string): boolean {
  return BASE64_RE.test(text);
}

// ---------------------------------------------------------------------------------------------------------------
// Credentials

/** `syncml:auth-basic` Cred Data: B64("user:password") (MDM-AUTH-014). */
export function basicCredential(user: string, password: string): string {
  return utf8(`${user}:${password}`).toString('base64');
}

/**
 * B64(MD5("user:password")): the only secret an authenticator needs to store for MD5 and HMAC
 * (OMA-DMS 5.3.2), so the `...FromHash` variants below let a server-side peer work without the password.
 */
export function userPasswordHash(user: string, password: string): string {
  return md5(utf8(`${user}:${password}`)).toString('base64');
}

/** `syncml:auth-md5` digest from a stored B64(MD5("user:password")) and the decoded nonce bytes. */
export function md5DigestFromHash(hash: string, nonce: Uint8Array): string {
  return md5(Buffer.from(hash, 'ascii'), COLON, nonce).toString('base64');
}

/** `syncml:auth-md5` Cred Data: B64(MD5(B64(MD5("user:password")) ":" nonceBytes)) (MDM-AUTH-015, -016). */
export function md5Digest(user: string, password: string, nonce: Uint8Array): string {
  return md5DigestFromHash(userPasswordHash(user, password), nonce);
}

/** The MD5 digest for a nonce as it appears on the wire (base64 `NextNonce`). Throws if it is not base64. */
export function md5Credential(user: string, password: string, nonceBase64: string): string {
  return md5Digest(user, password, decodeNonce(nonceBase64));
}

// ---------------------------------------------------------------------------------------------------------------
// Nonces

/**
 * A fresh 16-octet nonce, base64 as it is sent in `NextNonce` (MDM-AUTH-018, -021); `bytes` for a weak peer. Drawn
 * from the run's seeded generator when one is given, so a run can be repeated exactly.
 */
export function newNonce(bytes: number = NONCE_BYTES, rng?: Rng): string {
  return (rng ? rng.bytes(bytes) : randomBytes(bytes)).toString('base64');
}

/**
 * Decodes a wire nonce to the bytes that enter the hash. Throws a RangeError when the text is not padded standard
 * base64, since Node's decoder would otherwise skip bad characters and hash something the peer never sent.
 */
export function decodeNonce(b64: string): Uint8Array {
  if (!isBase64(b64)) throw new RangeError(`nonce is not padded standard base64: ${JSON.stringify(b64.length > 40 ? `${b64.slice(0, 40)}…` : b64)}`);
  return new Uint8Array(Buffer.from(b64, 'base64'));
}

// ---------------------------------------------------------------------------------------------------------------
// Verification

export interface CredentialCheck {
  /** `Cred/Meta/Type`. */
  scheme: CredScheme;
  /** `Cred/Data` exactly as received. */
  data: string;
  user: string;
  password: string;
  /** Decoded nonce bytes the peer was told to use; required for MD5. */
  nonce?: Uint8Array;
}

/**
 * Whether `data` is the credential `user`/`password` produce under `scheme`. False (never a throw) for an unknown
 * scheme or an MD5 check without a nonce, because the caller is judging peer input. The comparison runs over
 * fixed-length hashes of both sides so neither content nor length leaks through timing.
 */
export function verifyCredential(check: CredentialCheck): boolean {
  let expected: string;
  switch (check.scheme) {
    case AuthScheme.Basic:
      expected = basicCredential(check.user, check.password);
      break;
    case AuthScheme.Md5:
      if (!check.nonce) return false;
      expected = md5Digest(check.user, check.password, check.nonce);
      break;
    default:
      return false;
  }
  return constantTimeEqual(expected, check.data);
}

function constantTimeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a, 'utf8').digest();
  const hb = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(ha, hb);
}

// ---------------------------------------------------------------------------------------------------------------
// HMAC (syncml:auth-MAC)

/** mac from a stored B64(MD5("user:password")): B64(MD5(hash ":" nonceBytes ":" B64(MD5(body)))). */
export function hmacMacFromHash(hash: string, nonce: Uint8Array, body: Uint8Array): string {
  const bodyHash = Buffer.from(md5(body).toString('base64'), 'ascii');
  return md5(Buffer.from(hash, 'ascii'), COLON, nonce, COLON, bodyHash).toString('base64');
}

/** HMAC over the exact transmitted body, XML or WBXML (MDM-AUTH-027). */
export function hmacMac(user: string, password: string, nonce: Uint8Array, body: Uint8Array): string {
  return hmacMacFromHash(userPasswordHash(user, password), nonce, body);
}

export interface MacCheck {
  mac: string;
  user: string;
  password: string;
  nonce: Uint8Array;
  body: Uint8Array;
}

export function verifyMac(check: MacCheck): boolean {
  return constantTimeEqual(hmacMac(check.user, check.password, check.nonce, check.body), check.mac);
}

export interface HmacHeader {
  /** The only algorithm OMA DM defines; assumed when the header omits it. */
  algorithm: 'MD5';
  /** Whether the header named the algorithm explicitly. */
  algorithmGiven: boolean;
  /** Must equal `SyncHdr/Source/LocName` (MDM-AUTH-028); comparing is the caller's job. */
  username: string;
  mac: string;
}

export type HmacHeaderParse = { ok: true; header: HmacHeader } | { ok: false; error: string };

/**
 * `[algorithm=MD5, ]username="<quoted>", mac=<base64>` (MDM-AUTH-028). The algorithm is written only when given,
 * since it is optional on the wire. Throws for a username that cannot be carried in a header (control characters)
 * or a mac that is not base64: those are bugs in the caller, not peer behaviour to report.
 */
export function formatHmacHeader(h: { username: string; mac: string; algorithm?: 'MD5' }): string {
  if (/[\u0000-\u001f\u007f]/.test(h.username)) throw new RangeError('x-syncml-hmac username must not contain control characters');
  if (!isBase64(h.mac)) throw new RangeError(`x-syncml-hmac mac is not base64: ${JSON.stringify(h.mac)}`);
  const parts: string[] = [];
  if (h.algorithm) parts.push(`algorithm=${h.algorithm}`);
  parts.push(`username="${h.username.replace(/["\\]/g, (c) => `\\${c}`)}"`);
  parts.push(`mac=${h.mac}`);
  return parts.join(', ');
}

interface RawParam {
  value: string;
  quoted: boolean;
}

const PARAMS = ['algorithm', 'username', 'mac'] as const;

/**
 * Parses an `x-syncml-hmac` value. Never throws: a malformed header is peer behaviour to report, so the error
 * string names the exact problem. Parameter names are matched case-insensitively (HTTP convention); whitespace
 * around `,` and `=` and empty list elements are tolerated; unknown or repeated parameters are errors.
 */
export function parseHmacHeader(text: string): HmacHeaderParse {
  const fail = (error: string): HmacHeaderParse => ({ ok: false, error });
  const params = new Map<string, RawParam>();
  let i = 0;
  const skipWs = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t')) i++;
  };

  if (text.trim() === '') return fail('x-syncml-hmac header is empty');
  while (i < text.length) {
    skipWs();
    if (text[i] === ',') {
      i++;
      continue;
    }
    if (i >= text.length) break;
    const nameStart = i;
    while (i < text.length && /[A-Za-z0-9_-]/.test(text[i])) i++;
    const name = text.slice(nameStart, i);
    if (!name) return fail(`expected a parameter name at offset ${nameStart}, found ${JSON.stringify(text[nameStart])}`);
    skipWs();
    if (text[i] !== '=') return fail(`parameter "${name}" has no "=value"`);
    i++;
    skipWs();
    let raw: string;
    let quoted = false;
    if (text[i] === '"') {
      quoted = true;
      i++;
      raw = '';
      let closed = false;
      while (i < text.length) {
        const ch = text[i++];
        if (ch === '"') {
          closed = true;
          break;
        }
        if (ch === '\\') {
          if (i >= text.length) break;
          raw += text[i++];
        } else {
          raw += ch;
        }
      }
      if (!closed) return fail(`parameter "${name}" has an unterminated quoted string`);
    } else {
      const start = i;
      while (i < text.length && text[i] !== ',' && text[i] !== ' ' && text[i] !== '\t') i++;
      raw = text.slice(start, i);
      if (raw.includes('"')) return fail(`parameter "${name}" has a stray quote in its value`);
    }
    skipWs();
    if (i < text.length && text[i] !== ',') {
      return fail(`unexpected ${JSON.stringify(text[i])} after parameter "${name}" at offset ${i} (parameters are separated by ",")`);
    }
    const key = name.toLowerCase();
    if (!(PARAMS as readonly string[]).includes(key)) return fail(`unknown parameter "${name}" (expected algorithm, username, mac)`);
    if (params.has(key)) return fail(`parameter "${key}" appears more than once`);
    params.set(key, { value: raw, quoted });
  }

  const algorithm = params.get('algorithm');
  if (algorithm) {
    if (algorithm.quoted) return fail('algorithm must be a bare token (algorithm=MD5), not a quoted string');
    if (algorithm.value.toUpperCase() !== 'MD5') return fail(`unsupported algorithm "${algorithm.value}" (only MD5 is defined)`);
  }
  const username = params.get('username');
  if (!username) return fail('missing required parameter username');
  if (!username.quoted) return fail('username must be a quoted string (username="…")');
  if (username.value === '') return fail('username is empty');
  const mac = params.get('mac');
  if (!mac) return fail('missing required parameter mac');
  if (mac.quoted) return fail('mac must be a bare base64 token (mac=…), not a quoted string');
  if (mac.value === '') return fail('mac is empty');
  if (!isBase64(mac.value)) return fail(`mac is not padded standard base64: ${JSON.stringify(mac.value)}`);
  const macBytes = Buffer.from(mac.value, 'base64').length;
  if (macBytes !== MD5_BYTES) return fail(`mac decodes to ${macBytes} bytes; an MD5 mac has ${MD5_BYTES}`);

  return { ok: true, header: { algorithm: 'MD5', algorithmGiven: algorithm !== undefined, username: username.value, mac: mac.value } };
}
