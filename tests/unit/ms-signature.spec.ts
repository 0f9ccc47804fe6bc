import { expect, test } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestPki, mintDeviceIdentity, type KeyType, type TestPki } from '../../harness/pki';
import { childrenOf, expectTlv, oidOf, TAG } from '../../harness/pki/der';
import { signMessage, verifyMessageSignature } from '../../harness/pki/ms-signature';
import { message, replace, serializeSyncML } from '../../harness/syncml';

const BODY = Buffer.from(
  serializeSyncML(message({ sessionID: '1', msgID: 1, target: 'https://mdm.example.test/omadm', source: 'DEV-1', commands: [replace('./Vendor/MSFT/X', 'v')], final: true })),
);
// Test certificates are valid from a day ago: sign a minute ago, with a fraction of a second to see it dropped.
const SIGNED_AT = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000 + 750);
const SIGNED_AT_SECONDS = new Date(SIGNED_AT.getTime() - 750);
const NOW = new Date(SIGNED_AT.getTime() + 120_000);

const OPENSSL = !spawnSync('openssl', ['version'], { timeout: 10_000 }).error;

function fail(reason: string | RegExp) {
  return { ok: false, reason: typeof reason === 'string' ? reason : expect.stringMatching(reason) };
}

/** Attribute OIDs of the (single) SignerInfo's signed attributes, and the number of certificates carried. */
function anatomy(header: string): { attributes: string[]; certificates: number; detached: boolean; digest: string } {
  const der = Buffer.from(header, 'base64');
  const contentInfo = expectTlv(der, 0, TAG.SEQUENCE, 'ContentInfo');
  const explicit = childrenOf(der, contentInfo)[1];
  const fields = childrenOf(der, expectTlv(der, explicit.contentStart, TAG.SEQUENCE, 'SignedData', explicit.end));
  const certificates = fields.find((f, i) => i > 2 && f.tag === TAG.CONTEXT_0);
  const signerInfo = childrenOf(der, fields[fields.length - 1])[0];
  const parts = childrenOf(der, signerInfo);
  const signed = parts.find((p) => p.tag === TAG.CONTEXT_0)!;
  return {
    attributes: childrenOf(der, signed).map((a) => oidOf(der, childrenOf(der, a)[0])).sort(),
    certificates: certificates ? childrenOf(der, certificates).length : 0,
    detached: childrenOf(der, fields[2]).length === 1,
    digest: oidOf(der, childrenOf(der, parts[2])[0]),
  };
}

for (const keyType of ['rsa', 'ec'] as KeyType[]) {
  test.describe(`MS-Signature with ${keyType} device identities (MDM-TRN-014, MDM-TRN-015)`, () => {
    let pki: TestPki;
    test.beforeAll(() => {
      pki = createTestPki({ keyType, deviceId: `SIGNING-${keyType.toUpperCase()}-DEVICE` });
    });

    test('a signed body verifies against the trusted CA and the expected device certificate', () => {
      const header = signMessage(BODY, pki.device, { signingTime: SIGNED_AT });
      const verdict = verifyMessageSignature(BODY, header, { trusted: [pki.ca.certPem], expected: pki.device.certPem, now: NOW, maxSkewMs: 300_000 });
      expect(verdict).toEqual({
        ok: true,
        signerPem: expect.stringContaining('-----BEGIN CERTIFICATE-----'),
        signerCN: `SIGNING-${keyType.toUpperCase()}-DEVICE`,
        signingTime: SIGNED_AT_SECONDS,
      });
    });

    test('the CMS is detached SHA-256 with the certificate, content type, signing time, digest and signing-certificate attributes', () => {
      const header = signMessage(BODY, pki.device, { signingTime: SIGNED_AT });
      expect(anatomy(header)).toEqual({
        attributes: ['1.2.840.113549.1.9.16.2.47', '1.2.840.113549.1.9.3', '1.2.840.113549.1.9.4', '1.2.840.113549.1.9.5'],
        certificates: 1,
        detached: true,
        digest: '2.16.840.1.101.3.4.2.1',
      });
    });

    test(keyType === 'rsa' ? 'RSA signatures are deterministic for a signing time' : 'ECDSA signatures differ each time and all verify', () => {
      const a = signMessage(BODY, pki.device, { signingTime: SIGNED_AT });
      const b = signMessage(BODY, pki.device, { signingTime: SIGNED_AT });
      if (keyType === 'rsa') expect(a).toBe(b);
      else expect(a).not.toBe(b);
      for (const h of [a, b]) expect(verifyMessageSignature(BODY, h, { trusted: [pki.ca.certPem], now: NOW }).ok).toBe(true);
    });

    test('a body changed by one byte fails: messageDigest does not match the body', () => {
      const header = signMessage(BODY, pki.device, { signingTime: SIGNED_AT });
      const changed = Buffer.from(BODY);
      changed[changed.length - 20] ^= 0x01;
      expect(verifyMessageSignature(changed, header, { trusted: [pki.ca.certPem], now: NOW })).toEqual(fail('messageDigest does not match the body'));
    });

    test('another device of the same CA fails the expected certificate', () => {
      const other = mintDeviceIdentity(pki, 'cn-mismatch');
      const header = signMessage(BODY, other, { signingTime: SIGNED_AT });
      const verdict = verifyMessageSignature(BODY, header, { trusted: [pki.ca.certPem], expected: pki.device.certPem, now: NOW });
      expect(verdict).toEqual(fail(new RegExp(`^signed by CN=[0-9A-F-]{36}, not the device certificate \\(CN=SIGNING-${keyType.toUpperCase()}-DEVICE\\)$`)));
      // The same signature passes where only the CA is checked: it is the identity that is wrong, not the signature.
      expect(verifyMessageSignature(BODY, header, { trusted: [pki.ca.certPem], now: NOW }).ok).toBe(true);
    });

    test('a signer from an untrusted CA fails the trusted CAs', () => {
      const rogue = mintDeviceIdentity(pki, 'untrusted-ca');
      const header = signMessage(BODY, rogue, { signingTime: SIGNED_AT });
      expect(verifyMessageSignature(BODY, header, { trusted: [pki.ca.certPem], now: NOW })).toEqual(
        fail(/^the signer CN=SIGNING-\w+-DEVICE \(issued by CN=mdm-conformance untrusted CA \w+\) does not chain to a trusted CA$/),
      );
    });

    test('a tampered signature value, an expired certificate and clock skew fail with their reason', () => {
      const header = signMessage(BODY, pki.device, { signingTime: SIGNED_AT });
      const der = Buffer.from(header, 'base64');
      der[der.length - 3] ^= 0x40; // inside the signature OCTET STRING, the last field
      expect(verifyMessageSignature(BODY, der.toString('base64'), { trusted: [pki.ca.certPem], now: NOW })).toEqual(
        fail(/^the signature does not verify with the public key of CN=SIGNING-/),
      );
      const expired = mintDeviceIdentity(pki, 'expired');
      expect(verifyMessageSignature(BODY, signMessage(BODY, expired, { signingTime: new Date() }), { trusted: [pki.ca.certPem] })).toEqual(
        fail(/^the signer certificate CN=SIGNING-\w+-DEVICE expired at /),
      );
      const late = new Date(SIGNED_AT.getTime() + 3_600_000);
      expect(verifyMessageSignature(BODY, header, { trusted: [pki.ca.certPem], now: late, maxSkewMs: 300_000 })).toEqual(
        fail(`signing time ${SIGNED_AT_SECONDS.toISOString()} is 3601 s from ${late.toISOString()}, more than the 300 s allowed`),
      );
    });

    test('garbage headers fail cleanly', () => {
      const opts = { trusted: [pki.ca.certPem], now: NOW };
      expect(verifyMessageSignature(BODY, '', opts)).toEqual(fail('the MS-Signature header is empty'));
      expect(verifyMessageSignature(BODY, 'not base64!', opts)).toEqual(fail('the MS-Signature header is not base64'));
      expect(verifyMessageSignature(BODY, Buffer.from('hello, this is not DER').toString('base64'), opts)).toEqual(fail(/^not a CMS SignedData: /));
      const certificateDer = Buffer.from(pki.device.certPem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
      expect(verifyMessageSignature(BODY, certificateDer.toString('base64'), opts)).toEqual(fail(/^not a CMS SignedData: /));
      const header = signMessage(BODY, pki.device, { signingTime: SIGNED_AT });
      expect(verifyMessageSignature(BODY, header.slice(0, 400), opts)).toEqual(fail(/^not a CMS SignedData: /));
      expect(verifyMessageSignature(BODY, header, { now: NOW })).toEqual(fail(/^nothing to check the signer against/));
      // Every truncation and every single-bit flip gives a verdict, never an exception.
      const der = Buffer.from(header, 'base64');
      for (let i = 0; i < der.length; i += 3) {
        const flipped = Buffer.from(der);
        flipped[i] ^= 1 << (i % 8);
        for (const bytes of [der.subarray(0, i), flipped]) expect(verifyMessageSignature(BODY, bytes.toString('base64'), opts).ok).toBe(false);
      }
    });
  });
}

test.describe('MS-Signature cross-checked with OpenSSL', () => {
  test.skip(!OPENSSL, 'openssl is not installed: no independent CMS implementation to compare with');

  let dir = '';
  test.beforeAll(() => {
    if (OPENSSL) dir = mkdtempSync(join(tmpdir(), 'mdm-cms-'));
  });
  test.afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function openssl(args: string[]): { status: number | null; stderr: string } {
    const r = spawnSync('openssl', args, { timeout: 30_000, encoding: 'utf8' });
    return { status: r.status, stderr: r.stderr };
  }

  for (const keyType of ['rsa', 'ec'] as KeyType[]) {
    test(`${keyType}: openssl cms -verify accepts our signature, and rejects it over another body`, () => {
      const pki = createTestPki({ keyType });
      writeFileSync(join(dir, 'body.xml'), BODY);
      writeFileSync(join(dir, 'other.xml'), Buffer.concat([BODY, Buffer.from(' ')]));
      writeFileSync(join(dir, 'ca.pem'), pki.ca.certPem);
      writeFileSync(join(dir, 'sig.der'), Buffer.from(signMessage(BODY, pki.device, { signingTime: new Date() }), 'base64'));
      const args = (content: string) => ['cms', '-verify', '-binary', '-inform', 'DER', '-in', join(dir, 'sig.der'), '-content', join(dir, content), '-CAfile', join(dir, 'ca.pem'), '-purpose', 'any', '-out', join(dir, 'out')];
      const ok = openssl(args('body.xml'));
      expect(ok.stderr).toContain('Verification successful');
      expect(ok.status).toBe(0);
      const bad = openssl(args('other.xml'));
      expect(bad.status).not.toBe(0);
      expect(bad.stderr).toMatch(/verification failure|content verify error/);
    });

    test(`${keyType}: a detached signature made by openssl cms -sign verifies with ours`, () => {
      const pki = createTestPki({ keyType });
      writeFileSync(join(dir, 'body.xml'), BODY);
      writeFileSync(join(dir, 'device.pem'), pki.device.certPem);
      writeFileSync(join(dir, 'device.key'), pki.device.keyPem);
      const sign = (extra: string[], out: string) => {
        const r = openssl(['cms', '-sign', '-binary', '-outform', 'DER', '-signer', join(dir, 'device.pem'), '-inkey', join(dir, 'device.key'), '-in', join(dir, 'body.xml'), '-out', join(dir, out), ...extra]);
        expect(r.status, r.stderr).toBe(0);
        return readFileSync(join(dir, out)).toString('base64');
      };
      const opts = { trusted: [pki.ca.certPem], expected: pki.device.certPem, maxSkewMs: 600_000 };
      const detached = sign(['-md', 'sha256'], 'sig.der');
      expect(verifyMessageSignature(BODY, detached, opts)).toMatchObject({ ok: true, signerCN: pki.deviceId });
      expect(verifyMessageSignature(Buffer.concat([BODY, Buffer.from(' ')]), detached, opts)).toEqual(fail('messageDigest does not match the body'));
      // Not what MS-Signature is: content carried inside, or a digest that is not SHA-2.
      expect(verifyMessageSignature(BODY, sign(['-md', 'sha256', '-nodetach'], 'attached.der'), opts)).toEqual(fail(/^the signature carries its own content; MS-Signature is a detached signature/));
      expect(verifyMessageSignature(BODY, sign(['-md', 'sha1'], 'sha1.der'), opts)).toEqual(fail('digest algorithm SHA-1 is not SHA-2 (MDM-TRN-014)'));
    });
  }

  test('openssl reads our attributes as contentType, signingTime, messageDigest and signingCertificateV2', () => {
    const pki = createTestPki({ keyType: 'ec' });
    writeFileSync(join(dir, 'sig.der'), Buffer.from(signMessage(BODY, pki.device, { signingTime: SIGNED_AT }), 'base64'));
    const r = spawnSync('openssl', ['cms', '-cmsout', '-print', '-inform', 'DER', '-in', join(dir, 'sig.der')], { timeout: 30_000, encoding: 'utf8' });
    expect(r.status).toBe(0);
    for (const name of ['contentType', 'signingTime', 'messageDigest', 'id-smime-aa-signingCertificateV2', 'pkcs7-data']) expect(r.stdout).toContain(name);
  });
});
