/**
 * More devices for a run that enrolled its own (`test-server --enroll`): each is enrolled with the same discovery
 * URL, user, credentials and authentication policy as the first, so a server that trusts only the identities its
 * enrollment issued meets a second device it knows. Scenarios that need two devices (session isolation, a
 * certificate of one device presented for another) get them through the run channel from here.
 */
import { enroll, type EnrollmentResult, type EnrollOptions } from '../enrollment';
import type { Identity } from '../pki';

/** The options of the run's own enrollment, without what differs per device. */
export type DeviceEnrollment = Omit<EnrollOptions, 'deviceId' | 'onStep'>;

/**
 * `enroll(deviceId)`: each device id is enrolled once, so two scenarios that need the same second device do not
 * spend two of a server's enrollments; a refusal is kept and thrown again. `onEnrolled` hears of each outcome.
 */
export function deviceEnroller(
  opts: DeviceEnrollment,
  onEnrolled?: (deviceId: string, outcome: { result: EnrollmentResult } | { error: Error }) => void,
): (deviceId: string) => Promise<Identity> {
  const enrolled = new Map<string, Promise<Identity>>();
  return (deviceId) => {
    let identity = enrolled.get(deviceId);
    if (!identity) {
      identity = enroll({ ...opts, deviceId, seed: seedFor(opts.seed ?? 1, deviceId) }).then(
        (result) => {
          onEnrolled?.(deviceId, { result });
          // The TLS client presents the chain the provisioning document delivered, as the enrolled folder's device.pem holds it.
          return { certPem: [result.identity.certPem, ...result.intermediates].map((p) => (p.endsWith('\n') ? p : `${p}\n`)).join(''), keyPem: result.identity.keyPem };
        },
        (error: Error) => {
          onEnrolled?.(deviceId, { error });
          throw error;
        },
      );
      enrolled.set(deviceId, identity);
    }
    return identity;
  };
}

/**
 * Each device's requests get their own MessageIDs and hardware facts, as two real devices' would (a service may
 * refuse a MessageID it has seen), yet the same for the same run seed: FNV-1a of the device id over the seed.
 */
export function seedFor(seed: number, deviceId: string): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (const byte of Buffer.from(deviceId, 'utf8')) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return h;
}
