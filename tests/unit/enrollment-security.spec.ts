import { expect, test } from '@playwright/test';
import { makeCertificateRequest } from '../../harness/enrollment/csr';
import { ACTION } from '../../harness/enrollment/names';
import { bodyAttributes, presentedCredential, securityHeader, signEnvelope, type ClientCredential } from '../../harness/enrollment/security';
import { parseEnvelope, soapEnvelope } from '../../harness/enrollment/soap';
import { requestSecurityTokenBody } from '../../harness/enrollment/wstep';
import { createTestPki, mintDeviceIdentity } from '../../harness/pki';

const NOW = new Date('2030-01-01T00:00:00Z');

function request(credential: ClientCredential, body = requestSecurityTokenBody(makeCertificateRequest({ commonName: 'D', keyBits: 2048, hash: 'sha256' }).base64, [['DeviceID', 'D']])): string {
  const xml = soapEnvelope({ action: ACTION.requestSecurityToken, messageId: 'urn:uuid:1', to: 'https://e/x', security: securityHeader(credential, NOW) }, body, bodyAttributes(credential));
  return signEnvelope(xml, credential);
}

function presented(xml: string, now = NOW) {
  const env = parseEnvelope(xml);
  if ('error' in env) throw new Error(env.error);
  return presentedCredential(env.root, env.header, now);
}

test('OnPremise: a UsernameToken with the MS-MDE2 u:Id and a PasswordText password, read back exactly', () => {
  const xml = request({ policy: 'OnPremise', user: 'u@example.com', password: ' p<&>w ' });
  expect(xml).toContain('<wsse:UsernameToken u:Id="uuid-cc1ccc1f-2fba-4bcf-b063-ffc0cac77917-4">');
  expect(presented(xml)).toEqual({ policy: 'OnPremise', user: 'u@example.com', password: ' p<&>w ' });
});

test('Federated: the token base64 in a DeviceEnrollmentUserToken BinarySecurityToken, read back', () => {
  const xml = request({ policy: 'Federated', token: 'opaque token ✓' });
  expect(xml).toContain('ValueType="http://schemas.microsoft.com/5.0.0.0/ConfigurationManager/Enrollment/DeviceEnrollmentUserToken"');
  expect(presented(xml)).toEqual({ policy: 'Federated', token: 'opaque token ✓' });
});

for (const keyType of ['rsa', 'ec'] as const) {
  test(`Certificate (${keyType}): the signed Timestamp and Body verify; a changed Body, another key, or an expired Timestamp do not`, () => {
    const pki = createTestPki({ keyType });
    const credential: ClientCredential = { policy: 'Certificate', identity: pki.device };
    const xml = request(credential);
    expect(presented(xml)).toEqual({ policy: 'Certificate', certPem: expect.stringContaining('BEGIN CERTIFICATE') });
    expect(xml).toMatch(/<ds:SignatureMethod Algorithm="http:\/\/www\.w3\.org\/2001\/04\/xmldsig-more#(rsa|ecdsa)-sha256"\/>/);

    const changed = xml.replace('<ac:Value>D</ac:Value>', '<ac:Value>E</ac:Value>');
    expect(presented(changed)).toMatchObject({ policy: 'none', malformed: true, problem: 'Reference #_1: digest does not match: the signed element was changed' });

    const other = mintDeviceIdentity(pki, 'valid');
    const otherCert = Buffer.from(other.certPem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64').toString('base64');
    const swapped = xml.replace(/(u:Id="X509Token">)[^<]+/, `$1${otherCert}`);
    expect(presented(swapped)).toMatchObject({ policy: 'none', problem: 'the signature does not verify with the certificate it names' });

    expect(presented(xml, new Date(NOW.getTime() + 60 * 60_000))).toMatchObject({ policy: 'none', problem: 'u:Timestamp expired or not yet valid' });
    const unsignedBody = xml.replace(/<ds:Reference URI="#_1">[\s\S]*?<\/ds:Reference>/, '');
    expect(presented(unsignedBody)).toMatchObject({ policy: 'none', problem: 'the signature does not cover the Body' });
  });
}

test('no security header, or one with nothing in it, is a missing credential rather than a malformed one', () => {
  const bare = soapEnvelope({ action: ACTION.requestSecurityToken }, '<x/>');
  expect(presented(bare)).toEqual({ policy: 'none', problem: 'no wsse:Security header', malformed: false });
  const empty = soapEnvelope({ action: ACTION.requestSecurityToken, security: '<wsse:Security/>' }, '<x/>');
  expect(presented(empty)).toMatchObject({ policy: 'none', malformed: false });
});
