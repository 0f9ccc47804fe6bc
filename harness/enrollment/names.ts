/**
 * The names MS-MDE2 enrollment messages are made of: XML namespaces, WS-Addressing actions, WS-Trust token and
 * value types, and the paths the reference enrollment service answers on.
 *
 * Follows MS-MDE2 3.1.4.1 (Discover), 3.3 (MS-XCEP GetPolicies), 3.4 and 3.4.4.1.1.1.x (MS-WSTEP
 * RequestSecurityToken per authentication policy) and 2.2.10 (faults); the values are those of MS-MDE2 and of the
 * Windows "Mobile device enrollment" example pages.
 */

export const NS = {
  soap: 'http://www.w3.org/2003/05/soap-envelope',
  addressing: 'http://www.w3.org/2005/08/addressing',
  /** Discover request and response; Windows writes the request namespace with a trailing slash, the response without. */
  enrollment: 'http://schemas.microsoft.com/windows/management/2012/01/enrollment',
  enrollmentWithSlash: 'http://schemas.microsoft.com/windows/management/2012/01/enrollment/',
  policy: 'http://schemas.microsoft.com/windows/pki/2009/01/enrollmentpolicy',
  wstep: 'http://schemas.microsoft.com/windows/pki/2009/01/enrollment',
  wsse: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd',
  wsu: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd',
  wst: 'http://docs.oasis-open.org/ws-sx/ws-trust/200512',
  ac: 'http://schemas.xmlsoap.org/ws/2006/12/authorization',
  ds: 'http://www.w3.org/2000/09/xmldsig#',
  xsi: 'http://www.w3.org/2001/XMLSchema-instance',
  /** Windows Communication Foundation's dispatcher namespace, which `a:InternalServiceFault` lives in on real services. */
  wcfDispatcher: 'http://schemas.microsoft.com/net/2005/12/windowscommunicationfoundation/dispatcher',
} as const;

export const ACTION = {
  discover: 'http://schemas.microsoft.com/windows/management/2012/01/enrollment/IDiscoveryService/Discover',
  discoverResponse: 'http://schemas.microsoft.com/windows/management/2012/01/enrollment/IDiscoveryService/DiscoverResponse',
  getPolicies: 'http://schemas.microsoft.com/windows/pki/2009/01/enrollmentpolicy/IPolicy/GetPolicies',
  getPoliciesResponse: 'http://schemas.microsoft.com/windows/pki/2009/01/enrollmentpolicy/IPolicy/GetPoliciesResponse',
  requestSecurityToken: 'http://schemas.microsoft.com/windows/pki/2009/01/enrollment/RST/wstep',
  requestSecurityTokenResponse: 'http://schemas.microsoft.com/windows/pki/2009/01/enrollment/RSTRC/wstep',
  fault: 'http://www.w3.org/2005/08/addressing/soap/fault',
} as const;

export const ANONYMOUS_REPLY_TO = 'http://www.w3.org/2005/08/addressing/anonymous';

export const TOKEN = {
  /** wst:TokenType of the request and the response (MS-MDE2 3.4.4.1.1.1.x). */
  deviceEnrollment: 'http://schemas.microsoft.com/5.0.0.0/ConfigurationManager/Enrollment/DeviceEnrollmentToken',
  /** wst:RequestType. */
  issue: 'http://docs.oasis-open.org/ws-sx/ws-trust/200512/Issue',
  /** ValueType of the BinarySecurityToken carrying the certificate request. */
  pkcs10: 'http://schemas.microsoft.com/windows/pki/2009/01/enrollment#PKCS10',
  /** ValueType of the header BinarySecurityToken of the Federated and Certificate policies. */
  userToken: 'http://schemas.microsoft.com/5.0.0.0/ConfigurationManager/Enrollment/DeviceEnrollmentUserToken',
  /** ValueType of the BinarySecurityToken carrying the provisioning document in the response. */
  provisionDoc: 'http://schemas.microsoft.com/5.0.0.0/ConfigurationManager/Enrollment/DeviceEnrollmentProvisionDoc',
  base64Encoding: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd#base64binary',
  passwordText: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText',
  x509Reference: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3',
  /** The u:Id MS-MDE2 3.4.4.1.1.1.3 prescribes for the UsernameToken of the OnPremise policy. */
  onPremiseUsernameTokenId: 'uuid-cc1ccc1f-2fba-4bcf-b063-ffc0cac77917-4',
} as const;

export const DSIG = {
  excC14n: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  rsaSha256: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  ecdsaSha256: 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256',
  sha256: 'http://www.w3.org/2001/04/xmlenc#sha256',
} as const;

export const AUTH_POLICIES = ['OnPremise', 'Federated', 'Certificate'] as const;
export type AuthPolicy = (typeof AUTH_POLICIES)[number];

export function isAuthPolicy(value: string): value is AuthPolicy {
  return (AUTH_POLICIES as readonly string[]).includes(value);
}

/** Where the reference enrollment service answers, and the path Windows probes first (MS-MDE2 3.1). */
export const ENROLLMENT_PATHS = {
  discovery: '/EnrollmentServer/Discovery.svc',
  policy: '/EnrollmentServer/Policy.svc',
  enrollment: '/EnrollmentServer/Enrollment.svc',
} as const;

export const SOAP_CONTENT_TYPE = 'application/soap+xml; charset=utf-8';
