/**
 * The discovery exchange (MS-MDE2 3.1): the Discover request a Windows client POSTs to the discovery URL after its
 * GET probe (MS-MDE2 3.1.4.1; DiscoveryRequest 3.1.4.1.3.1) and the DiscoverResponse that names the authentication
 * policy and the policy, enrollment and authentication service URLs (DiscoveryResponse 3.1.4.1.3.2).
 */
import { escapeText, type XmlElement } from '../syncml/xml';
import { child, children, isNil, trimmedText } from './dom';
import type { EnrollmentAdvisory } from './errors';
import { ACTION, isAuthPolicy, NS, type AuthPolicy } from './names';
import { soapEnvelope, type ParsedEnvelope } from './soap';

const DISCOVERY_NS = [NS.enrollment, NS.enrollmentWithSlash] as const;

/** The fields of DiscoveryRequest (MS-MDE2 3.1.4.1.3.1) with the values a Windows 10/11 client sends. */
export interface DiscoverRequest {
  emailAddress: string;
  /** Windows 10 sends 3.0 in the documented examples. */
  requestVersion: string;
  /** `CIMClient_Windows` for a Windows PC. */
  deviceType: string;
  /** Dotted quad, the OS build. */
  applicationVersion: string;
  /** The product enumeration value (MS-MDE2 2.2.9.6); 4 is Enterprise, 48 Professional. */
  osEdition: number;
  /** The OS version, sent since Windows 10. */
  osVersion?: string;
  authPolicies: AuthPolicy[];
}

export interface DiscoverResult {
  authPolicy?: string;
  enrollmentVersion?: string;
  enrollmentPolicyServiceUrl?: string;
  enrollmentServiceUrl?: string;
  authenticationServiceUrl?: string;
}

export function discoverRequestBody(req: DiscoverRequest): string {
  const policies = req.authPolicies.map((p) => `<AuthPolicy>${p}</AuthPolicy>`).join('');
  return `<Discover xmlns="${NS.enrollmentWithSlash}"><request xmlns:i="${NS.xsi}">` +
    `<EmailAddress>${escapeText(req.emailAddress)}</EmailAddress>` +
    `<RequestVersion>${escapeText(req.requestVersion)}</RequestVersion>` +
    `<DeviceType>${escapeText(req.deviceType)}</DeviceType>` +
    `<ApplicationVersion>${escapeText(req.applicationVersion)}</ApplicationVersion>` +
    `<OSEdition>${req.osEdition}</OSEdition>` +
    (req.osVersion ? `<OSVersion>${escapeText(req.osVersion)}</OSVersion>` : '') +
    `<AuthPolicies>${policies}</AuthPolicies></request></Discover>`;
}

export function discoverRequest(req: DiscoverRequest, messageId: string, to: string): string {
  return soapEnvelope({ action: ACTION.discover, messageId, to }, discoverRequestBody(req));
}

/** What a service reads from a Discover request; missing fields stay undefined for the service to judge. */
export function readDiscoverRequest(env: ParsedEnvelope): Partial<DiscoverRequest> | undefined {
  const discover = env.payload;
  if (!discover || !DISCOVERY_NS.includes(discover.ns as (typeof DISCOVERY_NS)[number]) || !discover.name.endsWith('Discover')) return undefined;
  const request = child(discover, DISCOVERY_NS, 'request');
  const field = (name: string) => trimmedText(child(request, DISCOVERY_NS, name));
  const policies = children(child(request, DISCOVERY_NS, 'AuthPolicies'), DISCOVERY_NS, 'AuthPolicy')
    .map((p) => trimmedText(p) ?? '')
    .filter(isAuthPolicy);
  const edition = field('OSEdition');
  return {
    emailAddress: field('EmailAddress'),
    requestVersion: field('RequestVersion'),
    deviceType: field('DeviceType'),
    applicationVersion: field('ApplicationVersion'),
    osEdition: edition !== undefined && /^\d+$/.test(edition) ? Number(edition) : undefined,
    osVersion: field('OSVersion'),
    authPolicies: policies,
  };
}

export function discoverResponse(result: DiscoverResult, relatesTo: string | undefined): string {
  const field = (name: string, value: string | undefined) => (value === undefined ? '' : `<${name}>${escapeText(value)}</${name}>`);
  const body = `<DiscoverResponse xmlns="${NS.enrollment}"><DiscoverResult>` +
    field('AuthPolicy', result.authPolicy) +
    field('EnrollmentVersion', result.enrollmentVersion) +
    field('EnrollmentPolicyServiceUrl', result.enrollmentPolicyServiceUrl) +
    field('EnrollmentServiceUrl', result.enrollmentServiceUrl) +
    field('AuthenticationServiceUrl', result.authenticationServiceUrl) +
    `</DiscoverResult></DiscoverResponse>`;
  return soapEnvelope({ action: ACTION.discoverResponse, relatesTo }, body, ` xmlns:xsi="${NS.xsi}" xmlns:xsd="http://www.w3.org/2001/XMLSchema"`);
}

/** The DiscoverResult of a response, with advisories for the MUSTs of MS-MDE2 3.1.4.1.3.2 it breaks. */
export function readDiscoverResponse(env: ParsedEnvelope): { result?: DiscoverResult; advisories: EnrollmentAdvisory[] } {
  const advisories: EnrollmentAdvisory[] = [];
  const response = env.payload;
  const discoverResult = response && DISCOVERY_NS.includes(response.ns as (typeof DISCOVERY_NS)[number]) ? child(response, DISCOVERY_NS, 'DiscoverResult') : undefined;
  if (!discoverResult) return { advisories };
  const field = (name: string): string | undefined => {
    const el: XmlElement | undefined = child(discoverResult, DISCOVERY_NS, name);
    return el && !isNil(el) ? trimmedText(el) || undefined : undefined;
  };
  const result: DiscoverResult = {
    authPolicy: field('AuthPolicy'),
    enrollmentVersion: field('EnrollmentVersion'),
    enrollmentPolicyServiceUrl: field('EnrollmentPolicyServiceUrl'),
    enrollmentServiceUrl: field('EnrollmentServiceUrl'),
    authenticationServiceUrl: field('AuthenticationServiceUrl'),
  };
  if (result.authPolicy === undefined) {
    advisories.push({ probe: 'mde2-discover-auth-policy', evidence: 'DiscoverResult has no AuthPolicy (minOccurs 1)', section: 'MS-MDE2 3.1.4.1.3.2' });
  } else if (!isAuthPolicy(result.authPolicy)) {
    advisories.push({ probe: 'mde2-discover-auth-policy', evidence: `AuthPolicy "${result.authPolicy}" is none of Federated, Certificate, OnPremise`, section: 'MS-MDE2 3.1.4.1.3.2' });
  }
  if (result.enrollmentServiceUrl === undefined) {
    advisories.push({ probe: 'mde2-discover-enrollment-url', evidence: 'DiscoverResult has no EnrollmentServiceUrl (minOccurs 1)', section: 'MS-MDE2 3.1.4.1.3.2' });
  }
  if (result.authPolicy === 'Federated' && result.authenticationServiceUrl === undefined) {
    advisories.push({ probe: 'mde2-discover-authentication-url', evidence: 'AuthPolicy Federated without an AuthenticationServiceUrl to get the security token from', section: 'MS-MDE2 3.2' });
  }
  return { result, advisories };
}
