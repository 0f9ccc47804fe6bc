/**
 * What the embedded peers are set up with: the credentials they use and the optional features they declare. Kept
 * apart from the peers themselves, so that a command can describe an embedded run without loading a peer.
 */
import type { RunOptions } from '../protocol/fault';
import type { Feature } from '../scenarios/scenario';

// The embedded reference server (test-server without --url).
export const EMBEDDED_CREDENTIALS = { scheme: 'syncml:auth-md5' as const, user: 'harness-dev', password: 's3cret!' };

/** What the embedded server presents to each device: DIGEST (MDM-AUTH-031), a secret of each device's own (MDM-AUTH-024). */
export function embeddedServerCredentials(deviceId: string, scheme: NonNullable<RunOptions['serverScheme']> = 'syncml:auth-md5') {
  return { scheme, user: 'harness-server', password: `srv-${deviceId}` };
}
export const EMBEDDED_FEATURES: ReadonlySet<Feature> = new Set<Feature>(['md5-auth', 'large-objects', 'atomic', 'hmac']);
/** The account of the embedded enrollment service: OnPremise user and password; the password is also the Federated token. */
export const EMBEDDED_ENROLLMENT_ACCOUNT = { user: 'enrollee@mdm-conformance.test', password: 'enroll-s3cret!' };

// The embedded reference device (test-client without --trigger or --wait).
export const EMBEDDED_CLIENT_CREDENTIALS = { scheme: 'syncml:auth-md5' as const, user: 'harness-dev', password: 's3cret!' };
/** What the reference server presents to the embedded device, which requires and verifies it (DIGEST, MDM-AUTH-031). */
export const EMBEDDED_CLIENT_SERVER_CREDENTIALS = { scheme: 'syncml:auth-md5' as const, user: 'harness-server', password: 'srv-s3cret!' };
export const EMBEDDED_CLIENT_FEATURES: ReadonlySet<Feature> = new Set<Feature>(['md5-auth', 'basic-auth', 'large-objects', 'atomic', 'hmac']);
