/**
 * The embedded server under test: the reference server on a free loopback port, with harness-issued identities
 * and MD5 application-level auth in both directions, so `test-server` without --url exercises every scenario
 * (none inconclusive).
 *
 * With `enrollment`, it also runs its MS-MDE2 enrollment service and takes DM sessions only from certificates that
 * service issued (`test-server --enroll`): the device must enroll before it is managed, as with a real server.
 */
// The service alone: the enrollment client (and what it loads) is not needed to serve.
import { EnrollmentService } from '../enrollment/service';
import { createTestPki, mintServerIdentity, type TestPki } from '../pki';
import { behaviourOf } from '../protocol/fault';
import { seeded } from '../protocol/random';
import type { ServerUnderTest } from '../scenarios/server';
import { runOptionsOf, type RunOptions } from '../protocol/fault';
import type { ServerFault } from '../server/faults';
import { ReferenceServer } from '../server/reference-server';
import { EMBEDDED_CREDENTIALS, EMBEDDED_ENROLLMENT_ACCOUNT, EMBEDDED_FEATURES, embeddedServerCredentials } from './embedded-settings';

const MAX_REQUEST_BYTES = 1024 * 1024;

export { EMBEDDED_CREDENTIALS, EMBEDDED_ENROLLMENT_ACCOUNT, EMBEDDED_FEATURES, embeddedServerCredentials };
/** The oversized-body probe's size against the embedded server: just over its request bound. */
export const EMBEDDED_OVERSIZED_BODY_BYTES = MAX_REQUEST_BYTES + 64 * 1024;

export interface EmbeddedServer {
  target: ServerUnderTest;
  server: ReferenceServer;
  /** Present when started with `enrollment`. */
  enrollment?: EnrollmentService;
  /** The discovery URL of the enrollment service, when there is one. */
  discoveryUrl?: string;
  stop(): Promise<void>;
}

export interface EmbeddedServerOptions extends RunOptions {
  pki?: TestPki;
  faults?: readonly ServerFault[];
  /** Leaves MD5 out, as a device fleet without application-level credentials needs. */
  mutualTlsOnly?: boolean;
  seed?: number;
  /** Run the enrollment service (EMBEDDED_ENROLLMENT_ACCOUNT) and accept only the identities it issued. */
  enrollment?: { onIssued?: (issued: { deviceId: string; fingerprint256: string; authPolicy: string }) => void };
}

/**
 * `encoding` is what the devices of the scenarios speak (the server answers in either); `signing` makes the server
 * require MS-Signature and the devices sign. Both default to what the faults need (`runsWith`), else XML, unsigned.
 */
export async function startEmbeddedServer(opts: EmbeddedServerOptions = {}): Promise<EmbeddedServer> {
  const pki = opts.pki ?? createTestPki({ rng: seeded(opts.seed, 'embedded-pki') });
  const run = { ...runOptionsOf(opts.faults ?? []), ...definedOnly({ encoding: opts.encoding, signing: opts.signing }) };
  const enrollment = opts.enrollment
    ? new EnrollmentService({ ca: pki.ca, credentials: EMBEDDED_ENROLLMENT_ACCOUNT, seed: opts.seed, onIssued: opts.enrollment.onIssued })
    : undefined;
  // A 1 MiB request bound keeps the oversized-body probe cheap: the fault matrix runs it once per fault.
  // A fault may have the server authenticate with a certificate the device cannot validate (MDM-TRN-003).
  const certificate = behaviourOf(opts.faults ?? []).serverCertificate ?? 'valid';
  const server = new ReferenceServer({
    rng: seeded(opts.seed, 'embedded-server'), identity: certificate === 'valid' ? pki.server : mintServerIdentity(pki, certificate), ca: pki.ca.certPem, faults: opts.faults,
    clientAuth: opts.mutualTlsOnly ? undefined : EMBEDDED_CREDENTIALS, serverCredentials: opts.mutualTlsOnly ? undefined : (deviceId: string) => embeddedServerCredentials(deviceId, run.serverScheme),
    maxRequestBytes: MAX_REQUEST_BYTES, requireSignatures: run.signing, enrollment, acceptOnlyEnrolled: !!enrollment,
  });
  const url = await server.start();
  const target: ServerUnderTest = {
    seed: opts.seed,
    url,
    serverCa: pki.ca.certPem,
    deviceId: pki.deviceId,
    identity: pki.device,
    pki,
    queue: async (deviceId, commands) => server.queue(deviceId, ...commands),
    credentials: opts.mutualTlsOnly ? undefined : EMBEDDED_CREDENTIALS,
    serverCredentials: opts.mutualTlsOnly ? undefined : embeddedServerCredentials(pki.deviceId, run.serverScheme),
    timeoutMs: 3_000,
    oversizedBodyBytes: EMBEDDED_OVERSIZED_BODY_BYTES,
    encoding: run.encoding,
    signing: run.signing,
  };
  const discoveryUrl = enrollment ? EnrollmentService.discoveryUrl(new URL(url).origin) : undefined;
  return { target, server, enrollment, discoveryUrl, stop: () => server.stop() };
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
