import { test, expect } from '@playwright/test';
import {
  AuthScheme,
  NONCE_BYTES,
  basicCredential,
  decodeNonce,
  formatHmacHeader,
  hmacMac,
  hmacMacFromHash,
  md5Credential,
  md5Digest,
  md5DigestFromHash,
  newNonce,
  parseHmacHeader,
  userPasswordHash,
  verifyCredential,
  verifyMac,
  type HmacHeaderParse,
} from '../../harness/protocol/auth';

// Test vectors of catalogue 3.9.
const USER = 'harness-dev';
const PASSWORD = 's3cret!';
const BINARY_NONCE = Uint8Array.from({ length: 16 }, (_, i) => i);
const BINARY_NONCE_WIRE = 'AAECAwQFBgcICQoLDA0ODw==';
const RIGHT_DIGEST = 'oTXTWWWJwTJRha9P+zTs6A==';
const WRONG_DIGEST = 'JA5lHhrHXgU70wufICe5lg==';
const HMAC_BODY = new TextEncoder().encode('<SyncML xmlns="SYNCML:SYNCML1.2"></SyncML>');
const HMAC_MAC = 'D9Gzu+NZMI2CPCXkiJ5HBA==';

const ascii = (s: string) => new TextEncoder().encode(s);
const error = (r: HmacHeaderParse) => (r.ok ? `parsed: ${JSON.stringify(r.header)}` : r.error);

test.describe('application-level authentication (catalogue 3.9)', () => {
  test('MDM-AUTH-014: Basic Bruce2/OhBehave', () => {
    expect(basicCredential('Bruce2', 'OhBehave')).toBe('QnJ1Y2UyOk9oQmVoYXZl');
  });

  test('MDM-AUTH-014: Basic harness-dev/s3cret!', () => {
    expect(basicCredential(USER, PASSWORD)).toBe('aGFybmVzcy1kZXY6czNjcmV0IQ==');
  });

  test('MDM-AUTH-015: MD5 Bruce2/OhBehave with ASCII nonce "Nonce"', () => {
    expect(md5Digest('Bruce2', 'OhBehave', ascii('Nonce'))).toBe('Zz6EivR3yeaaENcRN6lpAQ==');
    expect(md5Credential('Bruce2', 'OhBehave', Buffer.from('Nonce').toString('base64'))).toBe('Zz6EivR3yeaaENcRN6lpAQ==');
  });

  test('MDM-AUTH-015: B64(MD5(user:password)) is the stored secret', () => {
    expect(userPasswordHash(USER, PASSWORD)).toBe('YqPdZUfREAxsXebNMd4Maw==');
    expect(md5DigestFromHash('YqPdZUfREAxsXebNMd4Maw==', BINARY_NONCE)).toBe(RIGHT_DIGEST);
  });

  test('MDM-AUTH-016: MD5 hashes the decoded binary nonce 0x00..0x0F', () => {
    expect(decodeNonce(BINARY_NONCE_WIRE)).toEqual(BINARY_NONCE);
    expect(md5Digest(USER, PASSWORD, BINARY_NONCE)).toBe(RIGHT_DIGEST);
    expect(md5Credential(USER, PASSWORD, BINARY_NONCE_WIRE)).toBe(RIGHT_DIGEST);
  });

  test('MDM-AUTH-016: bytes >= 0x80 enter the hash as single octets', () => {
    const high = Uint8Array.from({ length: 16 }, (_, i) => 0xf0 + i);
    const digest = md5Digest(USER, PASSWORD, high);
    // A digest computed from a string would UTF-8 encode each of these bytes as two octets.
    const viaString = md5Digest(USER, PASSWORD, new TextEncoder().encode(String.fromCharCode(...high)));
    expect(digest).not.toBe(viaString);
    expect(verifyCredential({ scheme: AuthScheme.Md5, data: digest, user: USER, password: PASSWORD, nonce: high })).toBe(true);
  });

  test('MDM-AUTH-016: hashing the base64 text of the nonce gives the wrong digest, which is rejected', () => {
    expect(md5Digest(USER, PASSWORD, ascii(BINARY_NONCE_WIRE))).toBe(WRONG_DIGEST);
    expect(WRONG_DIGEST).not.toBe(RIGHT_DIGEST);
    expect(verifyCredential({ scheme: AuthScheme.Md5, data: WRONG_DIGEST, user: USER, password: PASSWORD, nonce: BINARY_NONCE })).toBe(false);
    expect(verifyCredential({ scheme: AuthScheme.Md5, data: RIGHT_DIGEST, user: USER, password: PASSWORD, nonce: BINARY_NONCE })).toBe(true);
  });

  test('MDM-AUTH-013: verifyCredential accepts exactly the credential of its scheme', () => {
    const basic = basicCredential(USER, PASSWORD);
    expect(verifyCredential({ scheme: AuthScheme.Basic, data: basic, user: USER, password: PASSWORD })).toBe(true);
    expect(verifyCredential({ scheme: AuthScheme.Basic, data: basic, user: USER, password: 'wrong' })).toBe(false);
    expect(verifyCredential({ scheme: AuthScheme.Basic, data: `${basic} `, user: USER, password: PASSWORD })).toBe(false);
    expect(verifyCredential({ scheme: AuthScheme.Basic, data: '', user: USER, password: PASSWORD })).toBe(false);
    // MDM-AUTH-025: a credential of the other scheme is not an answer to this one.
    expect(verifyCredential({ scheme: AuthScheme.Md5, data: basic, user: USER, password: PASSWORD, nonce: BINARY_NONCE })).toBe(false);
    expect(verifyCredential({ scheme: AuthScheme.Basic, data: RIGHT_DIGEST, user: USER, password: PASSWORD })).toBe(false);
    // Without the nonce an MD5 credential cannot be checked, so it is not accepted.
    expect(verifyCredential({ scheme: AuthScheme.Md5, data: RIGHT_DIGEST, user: USER, password: PASSWORD })).toBe(false);
    expect(verifyCredential({ scheme: AuthScheme.Md5, data: RIGHT_DIGEST, user: USER, password: PASSWORD, nonce: ascii('Nonce') })).toBe(false);
    const unknown = { scheme: AuthScheme.Mac, data: RIGHT_DIGEST, user: USER, password: PASSWORD } as unknown as Parameters<typeof verifyCredential>[0];
    expect(verifyCredential(unknown)).toBe(false);
  });

  test('MDM-AUTH-027: HMAC over the given body with the binary nonce', () => {
    expect(hmacMac(USER, PASSWORD, BINARY_NONCE, HMAC_BODY)).toBe(HMAC_MAC);
    expect(hmacMacFromHash('YqPdZUfREAxsXebNMd4Maw==', BINARY_NONCE, HMAC_BODY)).toBe(HMAC_MAC);
    expect(verifyMac({ mac: HMAC_MAC, user: USER, password: PASSWORD, nonce: BINARY_NONCE, body: HMAC_BODY })).toBe(true);
    // One byte of body or nonce changed: no longer valid.
    const body = Uint8Array.from(HMAC_BODY);
    body[body.length - 2] ^= 1;
    expect(verifyMac({ mac: HMAC_MAC, user: USER, password: PASSWORD, nonce: BINARY_NONCE, body })).toBe(false);
    const nonce = Uint8Array.from(BINARY_NONCE);
    nonce[0] = 1;
    expect(verifyMac({ mac: HMAC_MAC, user: USER, password: PASSWORD, nonce, body: HMAC_BODY })).toBe(false);
  });

  test('MDM-AUTH-018, MDM-AUTH-021: newNonce is 16 random octets in base64', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 32; i++) {
      const nonce = newNonce();
      expect(nonce).toMatch(/^[A-Za-z0-9+/]{22}==$/);
      expect(decodeNonce(nonce)).toHaveLength(NONCE_BYTES);
      seen.add(nonce);
    }
    expect(seen.size).toBe(32);
  });

  test('MDM-AUTH-016: decodeNonce refuses text that is not base64 instead of hashing a guess', () => {
    expect(decodeNonce('')).toEqual(new Uint8Array(0));
    expect(() => decodeNonce('AAECAwQFBgcICQoLDA0ODw')).toThrow(/not padded standard base64/);
    expect(() => decodeNonce('AAEC AwQF')).toThrow(RangeError);
    expect(() => decodeNonce('AAECAwQFBgcICQoLDA0OD*==')).toThrow(RangeError);
    expect(() => decodeNonce('AAECAwQFBgcICQoLDA0OD_-')).toThrow(RangeError);
  });
});

test.describe('x-syncml-hmac header (MDM-AUTH-028)', () => {
  test('MDM-AUTH-028: format then parse round-trips', () => {
    const cases = [
      { username: USER, mac: HMAC_MAC, algorithm: 'MD5' as const },
      { username: USER, mac: HMAC_MAC },
      { username: 'we"ird\\name, with=stuff', mac: HMAC_MAC, algorithm: 'MD5' as const },
      { username: 'Bruce2', mac: RIGHT_DIGEST },
    ];
    for (const c of cases) {
      const value = formatHmacHeader(c);
      const parsed = parseHmacHeader(value);
      expect(parsed, value).toEqual({
        ok: true,
        header: { algorithm: 'MD5', algorithmGiven: c.algorithm !== undefined, username: c.username, mac: c.mac },
      });
    }
    expect(formatHmacHeader({ username: USER, mac: HMAC_MAC, algorithm: 'MD5' })).toBe(`algorithm=MD5, username="harness-dev", mac=${HMAC_MAC}`);
    expect(formatHmacHeader({ username: USER, mac: HMAC_MAC })).toBe(`username="harness-dev", mac=${HMAC_MAC}`);
  });

  test('MDM-AUTH-028: parse accepts any order, spacing and parameter-name case', () => {
    for (const value of [
      `mac=${HMAC_MAC},username="harness-dev",algorithm=MD5`,
      `  algorithm = md5 ,  username = "harness-dev" , mac = ${HMAC_MAC}  `,
      `Algorithm=MD5, UserName="harness-dev", MAC=${HMAC_MAC}`,
      `username="harness-dev",, mac=${HMAC_MAC},`,
    ]) {
      const parsed = parseHmacHeader(value);
      expect(parsed.ok, `${value}: ${error(parsed)}`).toBe(true);
      if (parsed.ok) expect(parsed.header).toMatchObject({ username: USER, mac: HMAC_MAC, algorithm: 'MD5' });
    }
  });

  test('MDM-AUTH-028: algorithm is optional and MD5 is assumed', () => {
    const parsed = parseHmacHeader(`username="harness-dev", mac=${HMAC_MAC}`);
    expect(parsed).toEqual({ ok: true, header: { algorithm: 'MD5', algorithmGiven: false, username: USER, mac: HMAC_MAC } });
  });

  test('MDM-AUTH-028: precise errors for a missing username or mac', () => {
    expect(error(parseHmacHeader(`algorithm=MD5, mac=${HMAC_MAC}`))).toBe('missing required parameter username');
    expect(error(parseHmacHeader('algorithm=MD5, username="harness-dev"'))).toBe('missing required parameter mac');
    expect(error(parseHmacHeader(''))).toBe('x-syncml-hmac header is empty');
    expect(error(parseHmacHeader('  '))).toBe('x-syncml-hmac header is empty');
  });

  test('MDM-AUTH-028: precise errors for malformed values', () => {
    const cases: [string, string | RegExp][] = [
      [`username=harness-dev, mac=${HMAC_MAC}`, 'username must be a quoted string (username="…")'],
      [`username="", mac=${HMAC_MAC}`, 'username is empty'],
      [`username="harness-dev, mac=${HMAC_MAC}`, 'parameter "username" has an unterminated quoted string'],
      [`username="harness-dev", mac="${HMAC_MAC}"`, 'mac must be a bare base64 token (mac=…), not a quoted string'],
      ['username="harness-dev", mac=', 'mac is empty'],
      ['username="harness-dev", mac=not*base64', 'mac is not padded standard base64: "not*base64"'],
      ['username="harness-dev", mac=QUJD', 'mac decodes to 3 bytes; an MD5 mac has 16'],
      [`algorithm=SHA256, username="harness-dev", mac=${HMAC_MAC}`, 'unsupported algorithm "SHA256" (only MD5 is defined)'],
      [`algorithm="MD5", username="harness-dev", mac=${HMAC_MAC}`, 'algorithm must be a bare token (algorithm=MD5), not a quoted string'],
      [`username="a", username="b", mac=${HMAC_MAC}`, 'parameter "username" appears more than once'],
      [`username="harness-dev", mac=${HMAC_MAC}, nonce=abc`, 'unknown parameter "nonce" (expected algorithm, username, mac)'],
      [`username="harness-dev" mac=${HMAC_MAC}`, /^unexpected "m" after parameter "username" at offset \d+/],
      [`username, mac=${HMAC_MAC}`, 'parameter "username" has no "=value"'],
      [`="x", mac=${HMAC_MAC}`, 'expected a parameter name at offset 0, found "="'],
      [`username="harness-dev"; mac=${HMAC_MAC}`, /^unexpected ";" after parameter "username"/],
    ];
    for (const [value, expected] of cases) {
      const parsed = parseHmacHeader(value);
      expect(parsed.ok, value).toBe(false);
      if (typeof expected === 'string') expect(error(parsed), value).toBe(expected);
      else expect(error(parsed), value).toMatch(expected);
    }
  });

  test('MDM-AUTH-028: parse never throws, whatever the input', () => {
    const samples = ['"', '\\', '=', ',', 'a=', 'a="\\', 'username="\\"', 'mac==', '\u0000', 'x'.repeat(10_000), 'username="é", mac=AAAA'];
    for (const s of samples) expect(() => parseHmacHeader(s), JSON.stringify(s.slice(0, 20))).not.toThrow();
  });

  test('formatHmacHeader refuses values that cannot be carried in a header', () => {
    expect(() => formatHmacHeader({ username: 'a\r\nInjected: x', mac: HMAC_MAC })).toThrow(/control characters/);
    expect(() => formatHmacHeader({ username: USER, mac: 'not base64!' })).toThrow(/not base64/);
  });
});
