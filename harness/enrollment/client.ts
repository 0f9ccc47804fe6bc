/**
 * A Windows-like enrollment client (MS-MDE2 3.1 to 3.4): the GET probe and the Discover request to the discovery
 * URL, MS-XCEP GetPolicies where the service offers a policy URL, and an MS-WSTEP RequestSecurityToken with a fresh
 * key's PKCS#10 request, authenticated as the discovered AuthPolicy asks (OnPremise, Federated or Certificate).
 * The provisioning document of the answer is read and checked: the issued certificate must be for our key and chain
 * to the roots the document delivers, and it must name the DM server.
 *
 * Every failure is an EnrollmentError naming its step. Everything random in the messages comes from the seed.
 */
import { createHash, X509Certificate, type KeyObject } from 'node:crypto';
import type { Identity } from '../pki';
import { Redactor } from '../report/redact';
import { makeCertificateRequest } from './csr';
import { discoverRequest, readDiscoverResponse, type DiscoverRequest, type DiscoverResult } from './discovery';
import { EnrollmentError, type EnrollmentAdvisory, type EnrollmentStep } from './errors';
import { EnrollmentHttp, type RecordedExchange } from './http';
import { ACTION, isAuthPolicy, type AuthPolicy } from './names';
import { DEFAULT_POLICY, getPoliciesBody, readGetPoliciesResponse, type EnrollmentPolicy } from './policy';
import { readProvisioningDocument, type ProvisioningDocument } from './provisioning';
import { seededRandom, type SeededRandom } from './random';
import { bodyAttributes, securityHeader, signEnvelope, type ClientCredential } from './security';
import { describeFault, parseEnvelope, soapEnvelope, type ParsedEnvelope } from './soap';
import { readRequestSecurityTokenResponse, requestSecurityTokenBody, type ContextItem } from './wstep';

/** What the client says about itself, defaulting to a Windows 11 Enterprise PC. */
export interface DeviceFacts {
  deviceType: string;
  applicationVersion: string;
  osVersion: string;
  osEdition: number;
  locale: string;
  deviceName: string;
  macAddresses: string[];
}

export interface EnrollOptions {
  discoveryUrl: string;
  email: string;
  /** The policy asked for in Discover; the service's answer decides. Default OnPremise. */
  authPolicy?: AuthPolicy;
  user?: string;
  password?: string;
  /** The security token for the Federated policy (what the authentication service's page hands back). */
  token?: string;
  /** The certificate and key of the Certificate policy: presented in TLS and signing the request. */
  clientIdentity?: Identity;
  /** CA certificate(s) of the discovery and enrollment servers' TLS certificates; the system's roots when absent. */
  serverCa?: string;
  /** DeviceID sent in the request; default an upper-case GUID from the seed. */
  deviceId?: string;
  device?: Partial<DeviceFacts>;
  /** Seed of MessageIDs and default ids. Default 1. */
  seed?: number;
  /** Per HTTP exchange. Default 10 000 ms. */
  timeoutMs?: number;
  now?: () => Date;
  /** One line per step, as it completes. */
  onStep?: (step: EnrollmentStep, line: string) => void;
}

export interface EnrollmentResult {
  discoveryUrl: string;
  deviceId: string;
  authPolicy: AuthPolicy;
  discovery: DiscoverResult;
  policy: EnrollmentPolicy & { source: 'service' | 'default' };
  /** The issued certificate and its private key. */
  identity: Identity;
  intermediates: string[];
  roots: string[];
  dmUrl: string;
  providerId?: string;
  provisioning: ProvisioningDocument;
  provisioningXml: string;
  /** The raw exchanges, passwords and tokens already redacted. */
  exchanges: RecordedExchange[];
  advisories: EnrollmentAdvisory[];
}

const DEFAULT_DEVICE: Omit<DeviceFacts, 'deviceName' | 'macAddresses'> = {
  deviceType: 'CIMClient_Windows',
  applicationVersion: '10.0.22631.0',
  osVersion: '10.0.22631.0',
  osEdition: 4,
  locale: 'en-US',
};

export async function enroll(opts: EnrollOptions): Promise<EnrollmentResult> {
  const random = seededRandom(opts.seed ?? 1);
  const now = opts.now ?? (() => new Date());
  const deviceId = opts.deviceId ?? random.uuid().toUpperCase();
  const device: DeviceFacts = {
    ...DEFAULT_DEVICE,
    deviceName: `DESKTOP-${deviceId.replace(/[^A-Z0-9]/gi, '').slice(0, 7).toUpperCase()}`,
    macAddresses: [macAddress(random)],
    ...opts.device,
  };
  const secrets = [opts.password, opts.token].filter((s): s is string => !!s);
  const http = new EnrollmentHttp({
    ca: opts.serverCa, identity: opts.clientIdentity, timeoutMs: opts.timeoutMs ?? 10_000, redactor: new EnrollmentRedactor(secrets),
  });
  const advisories: EnrollmentAdvisory[] = [];
  const say = (step: EnrollmentStep, line: string) => opts.onStep?.(step, line);
  try {
    // MS-MDE2 3.1: Windows probes the discovery URL with a plain GET first; any answer but a server error will do.
    const probe = await http.get('discovery-probe', opts.discoveryUrl);
    if ('error' in probe) throw new EnrollmentError('discovery-probe', probe.error);
    if (probe.status >= 500) throw new EnrollmentError('discovery-probe', `GET ${opts.discoveryUrl} answered HTTP ${probe.status}`);
    say('discovery-probe', `GET ${opts.discoveryUrl}: HTTP ${probe.status}`);

    const asked = opts.authPolicy ?? 'OnPremise';
    const discoverReq: DiscoverRequest = {
      emailAddress: opts.email, requestVersion: '3.0', deviceType: device.deviceType, applicationVersion: device.applicationVersion,
      osEdition: device.osEdition, osVersion: device.osVersion, authPolicies: [asked],
    };
    const discoverEnv = await soapCall(http, 'discovery', opts.discoveryUrl, discoverRequest(discoverReq, messageId(random), opts.discoveryUrl));
    const discovered = readDiscoverResponse(discoverEnv);
    advisories.push(...discovered.advisories);
    const discovery = discovered.result;
    if (!discovery) throw new EnrollmentError('discovery', `the answer is not a DiscoverResponse with a DiscoverResult (Body holds <${discoverEnv.payload?.name ?? 'nothing'}>)`);
    if (!discovery.enrollmentServiceUrl) throw new EnrollmentError('discovery', 'DiscoverResponse names no EnrollmentServiceUrl (MS-MDE2 3.1.4.1.3.2 requires one)');
    if (!discovery.authPolicy || !isAuthPolicy(discovery.authPolicy)) {
      throw new EnrollmentError('discovery', `DiscoverResponse has ${discovery.authPolicy ? `an unknown AuthPolicy "${discovery.authPolicy}"` : 'no AuthPolicy'} (MS-MDE2 3.1.4.1.3.2: Federated, Certificate or OnPremise)`);
    }
    const authPolicy = discovery.authPolicy;
    const credential = credentialFor(authPolicy, opts);
    say('discovery', `AuthPolicy ${authPolicy}; enrollment service ${discovery.enrollmentServiceUrl}` +
      (discovery.enrollmentPolicyServiceUrl ? `; policy service ${discovery.enrollmentPolicyServiceUrl}` : '; no policy service') +
      (authPolicy === 'Federated' ? `; token given with --token${discovery.authenticationServiceUrl ? ` (authentication service ${discovery.authenticationServiceUrl} not visited)` : ''}` : ''));

    let policy: EnrollmentResult['policy'] = { ...DEFAULT_POLICY, source: 'default' };
    if (discovery.enrollmentPolicyServiceUrl) {
      const url = discovery.enrollmentPolicyServiceUrl;
      const env = await soapCall(http, 'policy', url, signedEnvelope(ACTION.getPolicies, url, getPoliciesBody(), credential, random, now()));
      const read = readGetPoliciesResponse(env);
      if ('error' in read) throw new EnrollmentError('policy', read.error);
      policy = { ...read.policy, source: 'service' };
      say('policy', `minimal key length ${policy.minimalKeyLength}, hash ${policy.hashAlgorithm}${policy.hashAlgorithmOid ? ` (OID ${policy.hashAlgorithmOid})` : ''}`);
    } else {
      say('policy', `no policy service offered: ${policy.minimalKeyLength}-bit key, ${policy.hashAlgorithm} (Windows defaults)`);
    }

    const csr = makeCertificateRequest({ commonName: deviceId, keyBits: policy.minimalKeyLength, hash: policy.hashAlgorithm });
    const context: ContextItem[] = [
      ['UXInitiated', 'true'],
      ['HWDevID', createHash('sha256').update(`hwdevid:${deviceId}`).digest('hex').toUpperCase()],
      ['Locale', device.locale],
      ['TargetedUserLoggedIn', 'true'],
      ['OSEdition', String(device.osEdition)],
      ['DeviceName', device.deviceName],
      ...device.macAddresses.map((mac): ContextItem => ['MAC', mac]),
      ['DeviceID', deviceId],
      ['EnrollmentType', 'Full'],
      ['DeviceType', device.deviceType],
      ['OSVersion', device.osVersion],
      ['ApplicationVersion', device.applicationVersion],
    ];
    const enrollUrl = discovery.enrollmentServiceUrl;
    const rstEnv = await soapCall(http, 'enrollment', enrollUrl,
      signedEnvelope(ACTION.requestSecurityToken, enrollUrl, requestSecurityTokenBody(csr.base64, context), credential, random, now()));
    const rstr = readRequestSecurityTokenResponse(rstEnv);
    advisories.push(...rstr.advisories);
    if (!rstr.provisioningXml) throw new EnrollmentError('enrollment', rstr.problem ?? 'no provisioning document in the answer');
    say('enrollment', `RequestSecurityTokenResponse with a provisioning document of ${Buffer.byteLength(rstr.provisioningXml)} bytes`);

    const result = checkProvisioning(rstr.provisioningXml, csr.publicKey, now());
    say('provisioning', `device certificate CN=${certificateCN(result.leaf)} chains to ${result.chainTo}; DM server ${result.dmUrl}` +
      (result.providerId ? `; provider ${result.providerId}` : ''));
    return {
      discoveryUrl: opts.discoveryUrl, deviceId, authPolicy, discovery, policy,
      identity: { certPem: result.leaf, keyPem: csr.keyPem },
      intermediates: result.intermediates, roots: result.doc.roots, dmUrl: result.dmUrl, providerId: result.providerId,
      provisioning: result.doc, provisioningXml: rstr.provisioningXml, exchanges: http.exchanges, advisories,
    };
  } catch (e) {
    if (e instanceof EnrollmentError) Object.assign(e, { exchanges: http.exchanges, advisories });
    throw e;
  } finally {
    await http.close();
  }
}

/** A redactor that also blanks the password of a UsernameToken and the token of a Federated header. */
class EnrollmentRedactor extends Redactor {
  override text(input: string): string {
    return super.text(input)
      .replace(/(<(?:[\w.-]+:)?Password\b[^>]*>)[\s\S]*?(<\/(?:[\w.-]+:)?Password>)/g, '$1[redacted]$2')
      .replace(/(<(?:[\w.-]+:)?BinarySecurityToken\b[^>]*DeviceEnrollmentUserToken[^>]*>)([^<]*)(<)/g, (m, open: string, _content: string, close: string) =>
        // The Certificate policy's token is a public certificate: only the Federated secret is blanked.
        /u:Id=|wsu:Id=/.test(open) ? m : `${open}[redacted]${close}`);
  }
}

async function soapCall(http: EnrollmentHttp, step: EnrollmentStep, url: string, body: string): Promise<ParsedEnvelope> {
  const answer = await http.post(step, url, body);
  if ('error' in answer) throw new EnrollmentError(step, answer.error);
  const env = answer.body.length ? parseEnvelope(answer.body) : { error: 'empty body' };
  if (!('error' in env) && env.fault) throw new EnrollmentError(step, `${describeFault(env.fault)} (HTTP ${answer.status})`);
  if (answer.status !== 200) throw new EnrollmentError(step, `POST ${url} answered HTTP ${answer.status}${'error' in env ? '' : ' without a SOAP fault'}`);
  if ('error' in env) throw new EnrollmentError(step, `the answer of ${url} is ${env.error}`);
  return env;
}

function signedEnvelope(action: string, to: string, body: string, credential: ClientCredential, random: SeededRandom, now: Date): string {
  const envelope = soapEnvelope({ action, messageId: messageId(random), to, security: securityHeader(credential, now) }, body, bodyAttributes(credential));
  return signEnvelope(envelope, credential);
}

function credentialFor(policy: AuthPolicy, opts: EnrollOptions): ClientCredential {
  switch (policy) {
    case 'OnPremise':
      if (opts.user === undefined || opts.password === undefined) {
        throw new EnrollmentError('discovery', 'the discovery service asks for OnPremise authentication: pass --user U --password P');
      }
      return { policy, user: opts.user, password: opts.password };
    case 'Federated':
      if (opts.token === undefined) {
        throw new EnrollmentError('discovery', 'the discovery service asks for Federated authentication: pass --token T (the security token of its authentication service)');
      }
      return { policy, token: opts.token };
    case 'Certificate':
      if (!opts.clientIdentity) throw new EnrollmentError('discovery', 'the discovery service asks for Certificate authentication: pass --cert FILE --key FILE');
      return { policy, identity: opts.clientIdentity };
  }
}

interface CheckedProvisioning {
  doc: ProvisioningDocument;
  leaf: string;
  intermediates: string[];
  chainTo: string;
  dmUrl: string;
  providerId?: string;
}

/** The checks of the provisioning step: our certificate, its chain to a delivered root, a DM address. */
function checkProvisioning(xml: string, publicKey: KeyObject, now: Date): CheckedProvisioning {
  const fail = (why: string): never => {
    throw new EnrollmentError('provisioning', why);
  };
  const doc = readProvisioningDocument(xml);
  if ('error' in doc) return fail(doc.error);
  if (doc.badCertificates.length) fail(doc.badCertificates[0]);
  if (!doc.myCertificates.length) fail('the provisioning document holds no device certificate (CertificateStore/My/User or Device)');
  const ours = spki(publicKey);
  const leaf = doc.myCertificates.find((c) => spki(new X509Certificate(c.certPem).publicKey) === ours);
  if (!leaf) fail('the issued certificate (CertificateStore/My) is not for the key of our certificate request');
  const intermediates = [
    ...doc.intermediates,
    ...doc.myCertificates.filter((c) => c !== leaf && new X509Certificate(c.certPem).ca).map((c) => c.certPem),
  ];
  if (!doc.roots.length) fail('the provisioning document delivers no root certificate (CertificateStore/Root/System) to chain the device certificate to');
  const chainTo = chainToRoot(leaf!.certPem, intermediates, doc.roots, now);
  if (typeof chainTo !== 'string') fail(`the issued certificate does not chain to the delivered roots: ${chainTo.problem}`);
  const dmUrl = doc.application?.parms.ADDR;
  if (!doc.application) fail('the provisioning document has no APPLICATION characteristic with APPID w7, so no DM server address');
  if (!dmUrl) fail('the provisioning document names no DM server address (APPLICATION w7 ADDR)');
  if (!/^https:\/\//i.test(dmUrl!)) fail(`the DM server address ${dmUrl} is not an https URL`);
  return { doc, leaf: leaf!.certPem, intermediates, chainTo: chainTo as string, dmUrl: dmUrl!, providerId: doc.application!.parms['PROVIDER-ID'] || undefined };
}

/** Walks issuer links from the leaf to one of the roots; returns the root's subject CN, or why it cannot. */
export function chainToRoot(leafPem: string, intermediates: string[], roots: string[], now: Date): string | { problem: string } {
  const pool = intermediates.map((p) => new X509Certificate(p));
  const anchors = roots.map((p) => new X509Certificate(p));
  let current = new X509Certificate(leafPem);
  for (let depth = 0; depth < 6; depth++) {
    const when = now.getTime();
    if (Date.parse(current.validTo) < when || Date.parse(current.validFrom) > when) return { problem: `${cnOf(current.subject)} is outside its validity period` };
    const root = anchors.find((r) => current.checkIssued(r) && current.verify(r.publicKey));
    if (root) return cnOf(root.subject);
    const next = pool.find((i) => i !== current && current.checkIssued(i) && current.verify(i.publicKey));
    if (!next) return { problem: `no delivered certificate issued ${cnOf(current.subject)} (issuer ${cnOf(current.issuer)})` };
    current = next;
  }
  return { problem: 'the chain is longer than six certificates' };
}

function spki(key: KeyObject): string {
  return key.export({ type: 'spki', format: 'der' }).toString('base64');
}

function cnOf(dn: string): string {
  return dn.split('\n').find((l) => l.startsWith('CN='))?.slice(3) ?? dn.replace(/\n/g, ', ');
}

function certificateCN(pem: string): string {
  return cnOf(new X509Certificate(pem).subject);
}

function messageId(random: SeededRandom): string {
  return `urn:uuid:${random.uuid()}`;
}

/** A locally administered unicast MAC, written as Windows does (dash-separated). */
function macAddress(random: SeededRandom): string {
  const b = random.bytes(6);
  b[0] = (b[0] & 0xfc) | 0x02;
  return [...b].map((x) => x.toString(16).padStart(2, '0').toUpperCase()).join('-');
}

/** The exchanges of a failed enrollment, for a caller that wants to show them. */
export function exchangesOf(error: EnrollmentError): RecordedExchange[] {
  return (error as EnrollmentError & { exchanges?: RecordedExchange[] }).exchanges ?? [];
}

/** The advisories noted before an enrollment failed. */
export function advisoriesOf(error: EnrollmentError): EnrollmentAdvisory[] {
  return (error as EnrollmentError & { advisories?: EnrollmentAdvisory[] }).advisories ?? [];
}
