import { expect, test } from '@playwright/test';
import { X509Certificate } from 'node:crypto';
import { makeCertificateRequest, readCertificateRequest } from '../../harness/enrollment/csr';
import { discoverRequest, discoverResponse, readDiscoverRequest, readDiscoverResponse } from '../../harness/enrollment/discovery';
import { parseEnrollmentXml } from '../../harness/enrollment/dom';
import { exclusiveCanonical } from '../../harness/enrollment/c14n';
import { ACTION, NS, TOKEN } from '../../harness/enrollment/names';
import { getPoliciesResponse, readGetPoliciesResponse } from '../../harness/enrollment/policy';
import { buildProvisioningDocument, readProvisioningDocument, thumbprint } from '../../harness/enrollment/provisioning';
import { seededRandom } from '../../harness/enrollment/random';
import { describeFault, parseEnvelope, soapFaultEnvelope, type ParsedEnvelope } from '../../harness/enrollment/soap';
import { readRequestSecurityToken, readRequestSecurityTokenResponse, requestSecurityTokenBody, requestSecurityTokenResponse } from '../../harness/enrollment/wstep';
import { soapEnvelope } from '../../harness/enrollment/soap';
import { createTestPki } from '../../harness/pki';

function envelope(xml: string): ParsedEnvelope {
  const env = parseEnvelope(xml);
  if ('error' in env) throw new Error(env.error);
  return env;
}

test('Discover: the request carries the Windows fields and reads back; the response reads back with its URLs', () => {
  const xml = discoverRequest({
    emailAddress: 'user@example.com', requestVersion: '3.0', deviceType: 'CIMClient_Windows', applicationVersion: '10.0.22631.0',
    osEdition: 4, osVersion: '10.0.22631.0', authPolicies: ['OnPremise', 'Federated'],
  }, 'urn:uuid:1', 'https://e.example/EnrollmentServer/Discovery.svc');
  const env = envelope(xml);
  expect(env.action).toBe(ACTION.discover);
  expect(env.messageId).toBe('urn:uuid:1');
  expect(readDiscoverRequest(env)).toEqual({
    emailAddress: 'user@example.com', requestVersion: '3.0', deviceType: 'CIMClient_Windows', applicationVersion: '10.0.22631.0',
    osEdition: 4, osVersion: '10.0.22631.0', authPolicies: ['OnPremise', 'Federated'],
  });
  const answer = envelope(discoverResponse({ authPolicy: 'Federated', enrollmentServiceUrl: 'https://e/x', authenticationServiceUrl: 'https://e/auth' }, 'urn:uuid:1'));
  expect(answer.relatesTo).toBe('urn:uuid:1');
  expect(readDiscoverResponse(answer)).toEqual({
    result: { authPolicy: 'Federated', enrollmentServiceUrl: 'https://e/x', authenticationServiceUrl: 'https://e/auth', enrollmentPolicyServiceUrl: undefined, enrollmentVersion: undefined },
    advisories: [],
  });
});

test('DiscoverResponse as the Windows examples write it (URLs wrapped in new lines, nil policy URL) reads; missing MUST elements become advisories', () => {
  const example = `<s:Envelope xmlns:s="${NS.soap}" xmlns:a="${NS.addressing}"><s:Header><a:Action s:mustUnderstand="1">
      ${ACTION.discoverResponse}
    </a:Action></s:Header><s:Body xmlns:xsi="${NS.xsi}"><DiscoverResponse xmlns="${NS.enrollment}"><DiscoverResult>
      <AuthPolicy>OnPremise</AuthPolicy><EnrollmentPolicyServiceUrl xsi:nil="true"/>
      <EnrollmentServiceUrl>
        https://enrolltest.contoso.com/ENROLLMENTSERVER/DEVICEENROLLMENTWEBSERVICE.SVC
      </EnrollmentServiceUrl></DiscoverResult></DiscoverResponse></s:Body></s:Envelope>`;
  const env = envelope(example);
  expect(env.action).toBe(ACTION.discoverResponse);
  expect(readDiscoverResponse(env).result).toMatchObject({
    authPolicy: 'OnPremise', enrollmentPolicyServiceUrl: undefined, enrollmentServiceUrl: 'https://enrolltest.contoso.com/ENROLLMENTSERVER/DEVICEENROLLMENTWEBSERVICE.SVC',
  });
  const broken = readDiscoverResponse(envelope(discoverResponse({ authPolicy: 'Kerberos' }, undefined)));
  expect(broken.advisories.map((a) => [a.probe, a.section])).toEqual([
    ['mde2-discover-auth-policy', 'MS-MDE2 3.1.4.1.3.2'],
    ['mde2-discover-enrollment-url', 'MS-MDE2 3.1.4.1.3.2'],
  ]);
  expect(readDiscoverResponse(envelope(discoverResponse({ authPolicy: 'Federated', enrollmentServiceUrl: 'https://e/x' }, undefined))).advisories[0].probe).toBe('mde2-discover-authentication-url');
});

test('SOAP faults: SOAP 1.2 code, subcode and reason, and a WCF SOAP 1.1 fault, read as one line', () => {
  const f = envelope(soapFaultEnvelope({ code: 's:Receiver', subcode: 's:Authentication', reason: 'User not recognized.' }, ACTION.fault, 'urn:uuid:9'));
  expect(f.fault).toEqual({ code: 's:Receiver', subcode: 's:Authentication', reason: 'User not recognized.' });
  expect(describeFault(f.fault!)).toBe('SOAP fault s:Receiver/s:Authentication: User not recognized.');
  const wcf = envelope('<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode xmlns:a="urn:x">a:InternalServiceFault</faultcode>' +
    '<faultstring xml:lang="en-US">The server was unable to process the request.</faultstring></s:Fault></s:Body></s:Envelope>');
  expect(describeFault(wcf.fault!)).toBe('SOAP fault a:InternalServiceFault: The server was unable to process the request.');
});

test('untrusted XML: a DOCTYPE, a non-envelope and garbage are refused with a reason, never parsed', () => {
  expect(parseEnvelope('<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>')).toEqual({ error: expect.stringMatching(/^not XML: DOCTYPE declarations are refused/) });
  expect(parseEnvelope('<html><body>hi</body></html>')).toEqual({ error: 'not a SOAP envelope: the root element is <html>' });
  expect(parseEnvelope('not xml <<')).toEqual({ error: expect.stringMatching(/^not XML: /) });
});

test('GetPoliciesResponse: key length and hash OID read back; an unknown hash OID or a dangling reference is an error', () => {
  const ok = readGetPoliciesResponse(envelope(getPoliciesResponse({ minimalKeyLength: 3072, hashAlgorithmOid: '2.16.840.1.101.3.4.2.1' }, 'urn:uuid:2')));
  expect(ok).toEqual({ policy: { minimalKeyLength: 3072, hashAlgorithm: 'sha256', hashAlgorithmOid: '2.16.840.1.101.3.4.2.1' } });
  const sha1 = readGetPoliciesResponse(envelope(getPoliciesResponse({ minimalKeyLength: 2048, hashAlgorithmOid: '1.3.14.3.2.29' }, undefined)));
  expect(sha1).toMatchObject({ policy: { hashAlgorithm: 'sha1' } });
  expect(readGetPoliciesResponse(envelope(getPoliciesResponse({ minimalKeyLength: 2048, hashAlgorithmOid: '1.2.3.4' }, undefined))))
    .toEqual({ error: 'hash algorithm OID 1.2.3.4 is not one the client knows (SHA-1 or SHA-2)' });
  const dangling = getPoliciesResponse({ minimalKeyLength: 2048, hashAlgorithmOid: '1.3.14.3.2.29' }, undefined).replace('<oIDReferenceID>0</oIDReferenceID>', '<oIDReferenceID>7</oIDReferenceID>');
  expect(readGetPoliciesResponse(envelope(dangling))).toEqual({ error: 'hashAlgorithmOIDReference 0 names no oID of the response' });
});

test('RequestSecurityToken: the PKCS#10 request and the ContextItems (MAC repeated) read back; the response carries the provisioning document', () => {
  const csr = makeCertificateRequest({ commonName: 'DEV-1', keyBits: 2048, hash: 'sha256' });
  const body = requestSecurityTokenBody(csr.base64, [['DeviceID', 'DEV-1'], ['MAC', '02-00-00-00-00-01'], ['MAC', '02-00-00-00-00-02']]);
  const rst = readRequestSecurityToken(envelope(soapEnvelope({ action: ACTION.requestSecurityToken, messageId: 'urn:uuid:3' }, body)))!;
  expect(rst).toMatchObject({ tokenType: TOKEN.deviceEnrollment, requestType: TOKEN.issue, csrValueType: TOKEN.pkcs10, csrBase64: csr.base64 });
  expect(rst.context).toEqual([['DeviceID', 'DEV-1'], ['MAC', '02-00-00-00-00-01'], ['MAC', '02-00-00-00-00-02']]);
  const read = readCertificateRequest(rst.csrBase64!);
  expect(read).toMatchObject({ subjectCN: 'DEV-1', keyBits: 2048 });
  const tampered = Buffer.from(csr.base64, 'base64');
  tampered[tampered.length - 5] ^= 0xff;
  expect(readCertificateRequest(tampered.toString('base64'))).toEqual({ error: 'the signature of the certificate request does not verify' });
  expect(readCertificateRequest('%%%')).toEqual({ error: 'the certificate request is not base64' });

  const rstr = readRequestSecurityTokenResponse(envelope(requestSecurityTokenResponse('<wap-provisioningdoc version="1.1"/>', 'urn:uuid:3', new Date())));
  expect(rstr).toEqual({ provisioningXml: '<wap-provisioningdoc version="1.1"/>', advisories: [] });
  const wrongType = requestSecurityTokenResponse('<x/>', undefined, new Date()).replace(TOKEN.provisionDoc, 'urn:other');
  expect(readRequestSecurityTokenResponse(envelope(wrongType)).advisories.map((a) => a.probe)).toEqual(['mde2-rstr-value-type']);
});

test('provisioning document: certificates by store, APPLICATION w7 parameters and the DMClient poll schedule read back', () => {
  const pki = createTestPki({ keyType: 'ec' });
  const xml = buildProvisioningDocument({ deviceCertPem: pki.device.certPem, roots: [pki.ca.certPem], dmUrl: 'https://dm.example/ManagementServer/MDM.svc', providerId: 'P1', dmClientSettings: { UPN: 'u@example.com' } });
  const doc = readProvisioningDocument(xml);
  if ('error' in doc) throw new Error(doc.error);
  expect(doc.roots.map((p) => new X509Certificate(p).fingerprint256)).toEqual([new X509Certificate(pki.ca.certPem).fingerprint256]);
  expect(doc.myCertificates).toEqual([{ store: 'User', thumbprint: thumbprint(pki.device.certPem), certPem: new X509Certificate(pki.device.certPem).toString() }]);
  expect(doc.application?.parms).toMatchObject({ APPID: 'w7', 'PROVIDER-ID': 'P1', ADDR: 'https://dm.example/ManagementServer/MDM.svc', DEFAULTENCODING: 'application/vnd.syncml.dm+xml' });
  expect(doc.dmClient).toMatchObject({ providerId: 'P1', settings: { UPN: 'u@example.com' }, poll: { IntervalForRemainingScheduledRetries: '1560', PollOnLogin: 'true' } });
  expect(readProvisioningDocument('<html/>')).toEqual({ error: "the provisioning document's root is <html>, not <wap-provisioningdoc>" });
  const bad = readProvisioningDocument(xml.replace(/(name="EncodedCertificate" value=")[^"]*/, '$1AAAA'));
  expect('error' in bad ? [] : bad.badCertificates).toEqual([expect.stringMatching(/^CertificateStore\/Root\/System\/[0-9A-F]{40}: EncodedCertificate is not a base64 DER certificate/)]);
});

test('exclusive canonicalization: namespaces only where visibly used, attributes in namespace-URI order, empty elements with end tags', () => {
  const root = parseEnrollmentXml('<r xmlns:a="urn:a" xmlns:b="urn:b" xmlns:z="urn:0"><a:x z:k="3" b="2" a:y="1"><b:c/>t&amp;&lt;&gt;"</a:x></r>');
  if ('error' in root) throw new Error(root.error);
  const x = root.root.children.find((c) => c.type === 'element')!;
  if (x.type !== 'element') throw new Error('no element');
  // z (urn:0) sorts before a (urn:a) by namespace URI; the unqualified attribute comes first.
  expect(exclusiveCanonical(x, new Map([['a', 'urn:a'], ['b', 'urn:b'], ['z', 'urn:0']])))
    .toBe('<a:x xmlns:a="urn:a" xmlns:z="urn:0" b="2" z:k="3" a:y="1"><b:c xmlns:b="urn:b"></b:c>t&amp;&lt;&gt;"</a:x>');
});

test('the seeded generator: same seed, same UUIDs (version 4); another seed, others', () => {
  const a = seededRandom(3);
  const b = seededRandom(3);
  const ids = [a.uuid(), a.uuid()];
  expect([b.uuid(), b.uuid()]).toEqual(ids);
  expect(ids[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  expect(seededRandom(4).uuid()).not.toBe(ids[0]);
});
