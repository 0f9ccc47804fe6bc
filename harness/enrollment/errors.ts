/**
 * How an enrollment fails: one error type naming the step that failed and, in one line, why (the HTTP status, or
 * the SOAP fault's code, subcode and reason), and the advisories a client notes where a server's answer breaks an
 * MS-MDE2 MUST without stopping the enrollment.
 */

export type EnrollmentStep = 'discovery-probe' | 'discovery' | 'policy' | 'enrollment' | 'provisioning';

export class EnrollmentError extends Error {
  constructor(
    readonly step: EnrollmentStep,
    message: string,
  ) {
    super(message);
    this.name = 'EnrollmentError';
  }
}

/** A MUST of MS-MDE2 an exchange shows broken; reported, never a verdict. */
export interface EnrollmentAdvisory {
  /** `mde2-…`: what was checked. */
  probe: string;
  /** What the exchange showed. */
  evidence: string;
  /** Where MS-MDE2 states the requirement, e.g. `MS-MDE2 3.1.4.1.3.2`. */
  section: string;
}
