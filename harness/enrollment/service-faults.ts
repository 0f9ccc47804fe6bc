/**
 * The reference enrollment service's switchable faults, as data: each one realistic way a service breaks an
 * enrollment, with the step at which a Windows-like client must stop (and, where the break is a MUST of MS-MDE2
 * the client notes, the advisory it records). The self suite runs the client against each and checks both.
 */
import type { EnrollmentStep } from './errors';

export interface EnrollmentServiceBehaviour {
  /** Answer the discovery GET probe with HTTP 500. */
  probeServerError: boolean;
  /** Leave EnrollmentServiceUrl out of the DiscoverResult. */
  omitEnrollmentServiceUrl: boolean;
  /** Answer GetPolicies with a SOAP fault. */
  faultOnPolicy: boolean;
  /** Answer RequestSecurityToken with a SOAP fault instead of a token. */
  faultInsteadOfToken: boolean;
  /** Sign the device certificate with a CA that the provisioning document does not deliver. */
  issueFromForeignCa: boolean;
  /** Leave ADDR out of the APPLICATION characteristic. */
  omitDmAddress: boolean;
}

export const CONFORMING_ENROLLMENT_SERVICE: EnrollmentServiceBehaviour = {
  probeServerError: false,
  omitEnrollmentServiceUrl: false,
  faultOnPolicy: false,
  faultInsteadOfToken: false,
  issueFromForeignCa: false,
  omitDmAddress: false,
};

export interface EnrollmentServiceFault {
  name: string;
  /** What the faulty service does, in one line. */
  summary: string;
  /** The step at which the client must fail. */
  failsAt: EnrollmentStep;
  /** Words the client's one-line error must contain. */
  clientSays: RegExp;
  /** The advisory probe the client records, where the fault breaks an MS-MDE2 MUST. */
  advises?: string;
  behaviour: Partial<EnrollmentServiceBehaviour>;
}

export const ENROLLMENT_SERVICE_FAULTS: readonly EnrollmentServiceFault[] = [
  {
    name: 'probe-server-error', summary: 'answers the discovery GET probe with HTTP 500',
    failsAt: 'discovery-probe', clientSays: /HTTP 500/, behaviour: { probeServerError: true },
  },
  {
    name: 'discover-without-enrollment-url', summary: 'answers Discover without an EnrollmentServiceUrl',
    failsAt: 'discovery', clientSays: /no EnrollmentServiceUrl/, advises: 'mde2-discover-enrollment-url', behaviour: { omitEnrollmentServiceUrl: true },
  },
  {
    name: 'policy-fault', summary: 'answers GetPolicies with a SOAP fault s:Receiver/a:InternalServiceFault',
    failsAt: 'policy', clientSays: /SOAP fault s:Receiver\/a:InternalServiceFault/, behaviour: { faultOnPolicy: true },
  },
  {
    name: 'fault-instead-of-token', summary: 'answers RequestSecurityToken with a SOAP fault s:Receiver/s:EnrollmentServer instead of a token',
    failsAt: 'enrollment', clientSays: /SOAP fault s:Receiver\/s:EnrollmentServer/, behaviour: { faultInsteadOfToken: true },
  },
  {
    name: 'certificate-not-chaining', summary: 'issues the device certificate from a CA the provisioning document does not deliver',
    failsAt: 'provisioning', clientSays: /does not chain to the delivered roots/, behaviour: { issueFromForeignCa: true },
  },
  {
    name: 'provisioning-without-dm-address', summary: 'delivers a provisioning document whose APPLICATION characteristic has no ADDR',
    failsAt: 'provisioning', clientSays: /no DM server address/, behaviour: { omitDmAddress: true },
  },
];

export function enrollmentFaultNamed(name: string): EnrollmentServiceFault {
  const fault = ENROLLMENT_SERVICE_FAULTS.find((f) => f.name === name);
  if (!fault) throw new Error(`unknown enrollment service fault "${name}"; known faults: ${ENROLLMENT_SERVICE_FAULTS.map((f) => f.name).join(', ')}`);
  return fault;
}
