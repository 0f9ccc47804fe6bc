/**
 * More devices for a run that enrolled its own (`test-server --enroll`): each is enrolled with the same discovery
 * URL, user and authentication policy as the first, so a server that trusts only the identities its enrollment
 * issued meets a second device it knows. Scenarios that need two devices (session isolation, a certificate of one
 * device presented for another) take them from here.
 */
import { readFileSync } from 'node:fs';
import { enroll } from '../enrollment';
import type { Identity } from '../pki';
import type { EnrollmentRunConfig } from './run-config';

/**
 * `enrollDevice(deviceId)` for a ServerUnderTest. Each device id is enrolled once per process, so two scenarios that
 * need the same second device do not spend two of a server's enrollments; a refusal is kept and thrown again.
 */
export function deviceEnroller(cfg: EnrollmentRunConfig, seed: number): (deviceId: string) => Promise<Identity> {
  const enrolled = new Map<string, Promise<Identity>>();
  return (deviceId) => {
    let identity = enrolled.get(deviceId);
    if (!identity) {
      identity = enroll({
        discoveryUrl: cfg.discoveryUrl,
        email: cfg.email,
        authPolicy: cfg.authPolicy,
        user: cfg.user,
        password: cfg.password,
        token: cfg.token,
        clientIdentity: cfg.certFile && cfg.keyFile ? { certPem: readFileSync(cfg.certFile, 'utf8'), keyPem: readFileSync(cfg.keyFile, 'utf8') } : undefined,
        serverCa: cfg.caFile ? readFileSync(cfg.caFile, 'utf8') : undefined,
        deviceId,
        seed,
        timeoutMs: cfg.timeoutMs,
      }).then((r) => ({ certPem: [r.identity.certPem, ...r.intermediates].map((p) => (p.endsWith('\n') ? p : `${p}\n`)).join(''), keyPem: r.identity.keyPem }));
      enrolled.set(deviceId, identity);
    }
    return identity;
  };
}
