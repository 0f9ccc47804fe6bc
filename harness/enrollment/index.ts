/**
 * MS-MDE2 enrollment: a Windows-like client, the reference server's enrollment service, and the folder an
 * enrollment leaves.
 *
 *   enroll(opts)                       -> EnrollmentResult, or throws EnrollmentError { step }
 *   writeEnrollment(dir, result) / readEnrollment(dir)
 *   new EnrollmentService(opts).handle(req) / .knows(cert)
 *   ENROLLMENT_SERVICE_FAULTS          the service's switchable faults
 */
export { advisoriesOf, enroll, exchangesOf, type DeviceFacts, type EnrollOptions, type EnrollmentResult } from './client';
export { EnrollmentError, type EnrollmentAdvisory, type EnrollmentStep } from './errors';
export { enrollmentRecord, exchangeText, readEnrollment, writeEnrollment, type EnrollmentRecord } from './output';
export { EnrollmentService, type EnrollmentServiceOptions, type IssuedCertificate } from './service';
export { ENROLLMENT_SERVICE_FAULTS, enrollmentFaultNamed, type EnrollmentServiceFault } from './service-faults';
export { AUTH_POLICIES, ENROLLMENT_PATHS, isAuthPolicy, type AuthPolicy } from './names';
export type { RecordedExchange } from './http';
