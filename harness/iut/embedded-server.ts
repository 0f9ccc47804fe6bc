/**
 * The embedded server under test: the reference server on a free loopback port, with harness-issued identities
 * and MD5 application-level auth in both directions, so `test-server` without --url exercises every scenario
 * (none inconclusive).
 */
import { createTestPki, type TestPki } from '../pki';
import { seeded } from '../protocol/random';
import type { Feature } from '../scenarios/scenario';
import type { ServerUnderTest } from '../scenarios/server';
import type { ServerFault } from '../server/faults';
import { ReferenceServer } from '../server/reference-server';

const MAX_REQUEST_BYTES = 1024 * 1024;

export const EMBEDDED_CREDENTIALS = { scheme: 'syncml:auth-md5' as const, user: 'harness-dev', password: 's3cret!' };

/** What the embedded server presents to each device: DIGEST (MDM-AUTH-031), a secret of each device's own (MDM-AUTH-024). */
export function embeddedServerCredentials(deviceId: string) {
  return { scheme: 'syncml:auth-md5' as const, user: 'harness-server', password: `srv-${deviceId}` };
}
export const EMBEDDED_FEATURES: ReadonlySet<Feature> = new Set<Feature>(['md5-auth', 'large-objects', 'atomic']);

export interface EmbeddedServer {
  target: ServerUnderTest;
  server: ReferenceServer;
  stop(): Promise<void>;
}

/** `mutualTlsOnly` leaves MD5 out, as a device fleet without application-level credentials needs. */
export async function startEmbeddedServer(opts: { pki?: TestPki; faults?: readonly ServerFault[]; mutualTlsOnly?: boolean; seed?: number } = {}): Promise<EmbeddedServer> {
  const pki = opts.pki ?? createTestPki();
  // A 1 MiB request bound keeps the oversized-body probe cheap: the fault matrix runs it once per fault.
  const server = new ReferenceServer({ rng: seeded(opts.seed, 'embedded-server'), identity: pki.server, ca: pki.ca.certPem, faults: opts.faults, clientAuth: opts.mutualTlsOnly ? undefined : EMBEDDED_CREDENTIALS, serverCredentials: opts.mutualTlsOnly ? undefined : embeddedServerCredentials, maxRequestBytes: MAX_REQUEST_BYTES });
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
    serverCredentials: opts.mutualTlsOnly ? undefined : embeddedServerCredentials(pki.deviceId),
    timeoutMs: 3_000,
    oversizedBodyBytes: MAX_REQUEST_BYTES + 64 * 1024,
  };
  return { target, server, stop: () => server.stop() };
}
