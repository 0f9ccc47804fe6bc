/**
 * The reference server's enrollment service (MS-MDE2 3.1 discovery, 3.3 MS-XCEP policy, 3.4 MS-WSTEP enrollment),
 * a request handler for the harness's HTTPS server: `handle(req)` answers the enrollment paths and returns
 * undefined for anything else, so that the DM handler sees the rest.
 *
 * It accepts the three authentication policies: OnPremise (one account), Federated (the account's secret as the
 * security token) and Certificate (a signed request with a certificate from a trusted CA, matching the TLS client
 * certificate when one is presented). It issues device certificates from the test CA, EKU clientAuth, CN the
 * device id or a GUID of its own, answers with a provisioning document naming the DM URL and a provider id, and
 * keeps a registry of what it issued, so the DM side can accept only identities it knows.
 */
import { timingSafeEqual, X509Certificate } from 'node:crypto';
import { authorityFromIdentity, createAuthority, issueCertificate, type SigningAuthority } from '../pki/certificates';
import type { Identity } from '../pki';
import type { HandlerResponse, IncomingRequest } from '../transport';
import { readCertificateRequest } from './csr';
import { discoverResponse, readDiscoverRequest } from './discovery';
import { ACTION, ENROLLMENT_PATHS, isAuthPolicy, SOAP_CONTENT_TYPE, TOKEN, type AuthPolicy } from './names';
import { getPoliciesResponse, isGetPolicies } from './policy';
import { buildProvisioningDocument } from './provisioning';
import { seededRandom, type SeededRandom } from './random';
import { presentedCredential } from './security';
import { CONFORMING_ENROLLMENT_SERVICE, type EnrollmentServiceBehaviour, type EnrollmentServiceFault } from './service-faults';
import { parseEnvelope, soapFaultEnvelope, type ParsedEnvelope, type SoapFault } from './soap';
import { contextValue, readRequestSecurityToken, requestSecurityTokenResponse } from './wstep';

/** The DM endpoint the provisioning document points at (the reference server's management path). */
const MANAGEMENT_PATH = '/ManagementServer/MDM.svc';
const SHA256_OID = '2.16.840.1.101.3.4.2.1';
const DAY_MS = 86_400_000;

export interface EnrollmentServiceOptions {
  /** The CA that issues device certificates (TestPki.ca); its certificate is the root the document delivers. */
  ca: Identity;
  /** The OnPremise account; its secret is also the accepted Federated token. */
  credentials: { user: string; password: string };
  /** CA certificate(s) whose certificates the Certificate policy accepts; default the issuing CA. */
  certificateAuthCa?: string | string[];
  /** Answer Discover with this policy; default the first the client lists (OnPremise when it lists none). */
  authPolicy?: AuthPolicy;
  /** CN of issued certificates: the DeviceID the client sent (default) or a GUID the service picks. */
  subjectName?: 'device-id' | 'guid';
  /** PROVIDER-ID of the provisioning document. Default `mdm-conformance`. */
  providerId?: string;
  /** The DM server address; default https://<Host of the request>/ManagementServer/MDM.svc. */
  dmUrl?: string;
  /** Offer an MS-XCEP policy service. Default true. */
  offerPolicy?: boolean;
  /** The policy's minimal key length. Default 2048. */
  minimalKeyLength?: number;
  /**
   * Devices one user may enroll; a further device is refused with the DeviceCapReached fault of MS-MDE2 2.2.10, as a
   * service that allows one device per user does. Enrolling a device again is a renewal and always allowed. Default
   * no limit.
   */
  maxDevicesPerUser?: number;
  faults?: readonly EnrollmentServiceFault[];
  /** Seed of the GUIDs the service picks. */
  seed?: number;
  /** Called for every certificate issued. */
  onIssued?: (issued: IssuedCertificate) => void;
  now?: () => Date;
}

export interface IssuedCertificate {
  deviceId: string;
  certPem: string;
  /** SHA-256 of the DER, colon-separated upper-case hex (as Node reports fingerprint256). */
  fingerprint256: string;
  authPolicy: AuthPolicy;
  /** Who authenticated: the user, `token`, or the client certificate's subject. */
  principal: string;
  issuedAt: string;
}

export class EnrollmentService {
  private readonly behaviour: EnrollmentServiceBehaviour;
  private readonly authority: SigningAuthority;
  private readonly random: SeededRandom;
  private readonly registry = new Map<string, IssuedCertificate>();
  private readonly trustedClientCas: X509Certificate[];

  constructor(private readonly opts: EnrollmentServiceOptions) {
    this.behaviour = { ...CONFORMING_ENROLLMENT_SERVICE, ...Object.assign({}, ...(opts.faults ?? []).map((f) => f.behaviour)) };
    this.authority = authorityFromIdentity(opts.ca);
    this.random = seededRandom(opts.seed ?? 7);
    const cas = opts.certificateAuthCa ?? opts.ca.certPem;
    this.trustedClientCas = (Array.isArray(cas) ? cas : [cas]).map((pem) => new X509Certificate(pem));
  }

  /** The device id of a certificate this service issued (PEM or SHA-256 fingerprint), else undefined. */
  knows(certPemOrFingerprint: string): string | undefined {
    return this.registry.get(fingerprintKey(certPemOrFingerprint))?.deviceId;
  }

  /** Every certificate issued, oldest first. */
  issued(): IssuedCertificate[] {
    return [...this.registry.values()];
  }

  /** The discovery URL on a server listening at `origin` (https://host:port). */
  static discoveryUrl(origin: string): string {
    return `${origin.replace(/\/$/, '')}${ENROLLMENT_PATHS.discovery}`;
  }

  handle(req: IncomingRequest): HandlerResponse | undefined {
    const path = req.url.split('?')[0].toLowerCase();
    const endpoint = (Object.keys(ENROLLMENT_PATHS) as (keyof typeof ENROLLMENT_PATHS)[]).find((k) => ENROLLMENT_PATHS[k].toLowerCase() === path);
    if (!endpoint) return undefined;
    if (endpoint === 'discovery' && req.method === 'GET') {
      // MS-MDE2 3.1: the client's GET probe only needs an answer.
      if (this.behaviour.probeServerError) return { status: 500, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'internal error\n' };
      return { status: 200, headers: { 'content-type': 'text/html' }, body: '' };
    }
    if (req.method !== 'POST') return { status: 405, headers: { 'content-type': 'text/plain; charset=utf-8', allow: endpoint === 'discovery' ? 'GET, POST' : 'POST' }, body: 'POST a SOAP message\n' };
    const env = parseEnvelope(req.body);
    if ('error' in env) return fault({ code: 's:Sender', subcode: 's:MessageFormat', reason: `Message format is bad: ${env.error}` }, ACTION.fault);
    switch (endpoint) {
      case 'discovery':
        return this.discover(req, env);
      case 'policy':
        return this.policy(req, env);
      case 'enrollment':
        return this.enroll(req, env);
    }
  }

  private discover(req: IncomingRequest, env: ParsedEnvelope): HandlerResponse {
    const request = readDiscoverRequest(env);
    if (!request) return fault({ code: 's:Sender', subcode: 's:MessageFormat', reason: 'Message format is bad: the Body holds no Discover request' }, ACTION.fault, env.messageId);
    const offered = request.authPolicies ?? [];
    const policy = this.opts.authPolicy ?? offered.find(isAuthPolicy) ?? 'OnPremise';
    const base = this.baseUrl(req);
    return soap(discoverResponse({
      authPolicy: policy,
      enrollmentVersion: '3.0',
      enrollmentPolicyServiceUrl: this.opts.offerPolicy === false ? undefined : `${base}${ENROLLMENT_PATHS.policy}`,
      enrollmentServiceUrl: this.behaviour.omitEnrollmentServiceUrl ? undefined : `${base}${ENROLLMENT_PATHS.enrollment}`,
      authenticationServiceUrl: policy === 'Federated' ? `${base}/EnrollmentServer/Authenticate` : undefined,
    }, env.messageId));
  }

  private policy(req: IncomingRequest, env: ParsedEnvelope): HandlerResponse {
    if (!isGetPolicies(env)) return fault({ code: 's:Sender', subcode: 's:MessageFormat', reason: 'Message format is bad: the Body holds no GetPolicies request' }, ACTION.fault, env.messageId);
    const who = this.authenticate(req, env);
    if ('fault' in who) return fault(who.fault, ACTION.fault, env.messageId);
    if (this.behaviour.faultOnPolicy) {
      return fault({ code: 's:Receiver', subcode: 'a:InternalServiceFault', reason: 'The server hit an unexpected issue.' }, ACTION.fault, env.messageId);
    }
    return soap(getPoliciesResponse({ minimalKeyLength: this.opts.minimalKeyLength ?? 2048, hashAlgorithmOid: SHA256_OID }, env.messageId));
  }

  private enroll(req: IncomingRequest, env: ParsedEnvelope): HandlerResponse {
    const relates = env.messageId;
    const refuse = (f: SoapFault) => fault(f, ACTION.requestSecurityTokenResponse, relates);
    const rst = readRequestSecurityToken(env);
    if (!rst) return refuse({ code: 's:Sender', subcode: 's:MessageFormat', reason: 'Message format is bad: the Body holds no RequestSecurityToken' });
    const who = this.authenticate(req, env);
    if ('fault' in who) return refuse(who.fault);
    // MS-MDE2 3.4.4.1.1.1.x: the token and request types and the request's value type are fixed.
    if (rst.tokenType !== TOKEN.deviceEnrollment) return refuse({ code: 's:Sender', subcode: 's:MessageFormat', reason: `Message format is bad: TokenType must be ${TOKEN.deviceEnrollment}` });
    if (rst.requestType !== TOKEN.issue) return refuse({ code: 's:Sender', subcode: 's:MessageFormat', reason: `Message format is bad: RequestType must be ${TOKEN.issue}` });
    if (rst.csrValueType !== TOKEN.pkcs10) return refuse({ code: 's:Sender', subcode: 's:MessageFormat', reason: `Message format is bad: the BinarySecurityToken ValueType must be ${TOKEN.pkcs10}` });
    const csr = readCertificateRequest(rst.csrBase64 ?? '');
    if ('error' in csr) return refuse({ code: 's:Receiver', subcode: 's:CertificateRequest', reason: `Failed to get certificate: ${csr.error}` });
    const minimal = this.opts.minimalKeyLength ?? 2048;
    if ((csr.keyBits ?? 0) < minimal) return refuse({ code: 's:Receiver', subcode: 's:CertificateRequest', reason: `Failed to get certificate: the key has ${csr.keyBits} bits, the policy asks for ${minimal}` });
    if (this.behaviour.faultInsteadOfToken) return refuse({ code: 's:Receiver', subcode: 's:EnrollmentServer', reason: 'Generic failure from management server.' });

    const deviceId = contextValue(rst.context, 'DeviceID') || csr.subjectCN || this.random.uuid().toUpperCase();
    if (this.capReached(who.principal, deviceId)) {
      return refuse({ code: 's:Receiver', subcode: 's:Authorization', reason: `User already enrolled in too many devices (DeviceCapReached: ${this.opts.maxDevicesPerUser} per user)` });
    }
    const commonName = this.opts.subjectName === 'guid' ? this.random.uuid().toUpperCase() : deviceId;
    const now = this.now();
    const issuer = this.behaviour.issueFromForeignCa
      ? createAuthority('mdm-conformance foreign CA', { notBefore: new Date(now.getTime() - DAY_MS), notAfter: new Date(now.getTime() + 365 * DAY_MS) }, 'ec').authority
      : this.authority;
    const certPem = issueCertificate(
      { commonName, validity: { notBefore: new Date(now.getTime() - DAY_MS), notAfter: new Date(now.getTime() + 365 * DAY_MS) }, extendedKeyUsage: ['clientAuth'] },
      csr.publicKey,
      issuer,
    );
    const fingerprint256 = new X509Certificate(certPem).fingerprint256;
    const issued: IssuedCertificate = { deviceId, certPem, fingerprint256, authPolicy: who.policy, principal: who.principal, issuedAt: now.toISOString() };
    this.registry.set(fingerprintKey(fingerprint256), issued);
    this.opts.onIssued?.(issued);
    const deviceName = contextValue(rst.context, 'DeviceName');
    const provisioning = buildProvisioningDocument({
      deviceCertPem: certPem,
      roots: [this.opts.ca.certPem],
      dmUrl: this.behaviour.omitDmAddress ? undefined : (this.opts.dmUrl ?? `${this.baseUrl(req)}${MANAGEMENT_PATH}`),
      providerId: this.opts.providerId ?? 'mdm-conformance',
      name: 'mdm-conformance reference server',
      dmClientSettings: {
        ...(who.policy === 'OnPremise' ? { UPN: who.principal } : {}),
        ...(deviceName ? { EntDeviceName: deviceName } : {}),
      },
    });
    return soap(requestSecurityTokenResponse(provisioning, relates, now));
  }

  /** Checks the request's security header; a failure is the MS-MDE2 2.2.10 Authentication fault. */
  private authenticate(req: IncomingRequest, env: ParsedEnvelope): { policy: AuthPolicy; principal: string } | { fault: SoapFault } {
    const refused = (why: string) => ({ fault: { code: 's:Receiver', subcode: 's:Authentication', reason: `User not recognized: ${why}` } });
    const presented = presentedCredential(env.root, env.header, this.now());
    if (presented.policy === 'none') {
      return presented.malformed
        ? { fault: { code: 's:Sender', subcode: 'a:InvalidSecurity', reason: `Cannot parse the security header: ${presented.problem}` } }
        : refused(presented.problem);
    }
    if (this.opts.authPolicy && presented.policy !== this.opts.authPolicy) return refused(`this service takes ${this.opts.authPolicy} authentication, not ${presented.policy}`);
    const { user, password } = this.opts.credentials;
    switch (presented.policy) {
      case 'OnPremise':
        if (presented.user !== user || !sameSecret(presented.password, password)) return refused('wrong user name or password');
        return { policy: 'OnPremise', principal: presented.user };
      case 'Federated':
        if (!sameSecret(presented.token, password)) return refused('the security token is not valid');
        return { policy: 'Federated', principal: 'token' };
      case 'Certificate': {
        const cert = new X509Certificate(presented.certPem);
        const now = this.now().getTime();
        if (Date.parse(cert.validTo) < now || Date.parse(cert.validFrom) > now) return refused('the client certificate is outside its validity period');
        if (!this.trustedClientCas.some((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey))) return refused('the client certificate was not issued by a CA this service trusts');
        const tlsCert = req.tls.peerCertificate;
        if (tlsCert && fingerprintKey(tlsCert.fingerprint256) !== fingerprintKey(cert.fingerprint256)) {
          return refused('the certificate that signed the request is not the TLS client certificate');
        }
        return { policy: 'Certificate', principal: cert.subject.replace(/\n/g, ', ') };
      }
    }
  }

  /** Whether enrolling `deviceId` would take `principal` over the device cap (a device enrolled before is not new). */
  private capReached(principal: string, deviceId: string): boolean {
    const cap = this.opts.maxDevicesPerUser;
    if (cap === undefined) return false;
    const devices = new Set(this.issued().filter((i) => i.principal === principal).map((i) => i.deviceId));
    return !devices.has(deviceId) && devices.size >= cap;
  }

  private baseUrl(req: IncomingRequest): string {
    return `https://${req.headers.host ?? '127.0.0.1'}`;
  }

  private now(): Date {
    return this.opts.now?.() ?? new Date();
  }
}

function soap(body: string): HandlerResponse {
  return { status: 200, headers: { 'content-type': SOAP_CONTENT_TYPE }, body };
}

/** SOAP 1.2 over HTTP: a Sender fault is a 400, a Receiver fault a 500. */
function fault(f: SoapFault, action: string, relatesTo?: string): HandlerResponse {
  return { status: f.code === 's:Sender' ? 400 : 500, headers: { 'content-type': SOAP_CONTENT_TYPE }, body: soapFaultEnvelope(f, action, relatesTo) };
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Registry key: the SHA-256 of the DER in plain upper-case hex, from a PEM or a fingerprint in either notation. */
function fingerprintKey(certPemOrFingerprint: string): string {
  if (certPemOrFingerprint.includes('-----BEGIN')) {
    try {
      return new X509Certificate(certPemOrFingerprint).fingerprint256.replace(/:/g, '').toUpperCase();
    } catch {
      return '';
    }
  }
  return certPemOrFingerprint.replace(/[:\s]/g, '').toUpperCase();
}
