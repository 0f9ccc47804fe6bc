/**
 * The embedded server under test: the reference server on a free loopback port, with harness-issued identities
 * and MD5 application-level auth, so `test-server` without --url exercises every scenario (none inconclusive).
 */
import { createTestPki, type TestPki } from '../pki';
import { seeded } from '../protocol/random';
import type { Feature } from '../scenarios/scenario';
import type { ServerUnderTest } from '../scenarios/server';
import { runOptionsOf, type RunOptions } from '../protocol/fault';
import type { ServerFault } from '../server/faults';
import { ReferenceServer } from '../server/reference-server';

const MAX_REQUEST_BYTES = 1024 * 1024;

export const EMBEDDED_CREDENTIALS = { scheme: 'syncml:auth-md5' as const, user: 'harness-dev', password: 's3cret!' };
export const EMBEDDED_FEATURES: ReadonlySet<Feature> = new Set<Feature>(['md5-auth', 'large-objects', 'atomic']);

export interface EmbeddedServer {
  target: ServerUnderTest;
  server: ReferenceServer;
  stop(): Promise<void>;
}

export interface EmbeddedServerOptions extends RunOptions {
  pki?: TestPki;
  faults?: readonly ServerFault[];
  /** Leaves MD5 out, as a device fleet without application-level credentials needs. */
  mutualTlsOnly?: boolean;
  seed?: number;
}

/**
 * `encoding` is what the devices of the scenarios speak (the server answers in either); `signing` makes the server
 * require MS-Signature and the devices sign. Both default to what the faults need (`runsWith`), else XML, unsigned.
 */
export async function startEmbeddedServer(opts: EmbeddedServerOptions = {}): Promise<EmbeddedServer> {
  const pki = opts.pki ?? createTestPki();
  const run = { ...runOptionsOf(opts.faults ?? []), ...definedOnly({ encoding: opts.encoding, signing: opts.signing }) };
  // A 1 MiB request bound keeps the oversized-body probe cheap: the fault matrix runs it once per fault.
  const server = new ReferenceServer({
    rng: seeded(opts.seed, 'embedded-server'), identity: pki.server, ca: pki.ca.certPem, faults: opts.faults,
    clientAuth: opts.mutualTlsOnly ? undefined : EMBEDDED_CREDENTIALS, maxRequestBytes: MAX_REQUEST_BYTES, requireSignatures: run.signing,
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
    timeoutMs: 3_000,
    oversizedBodyBytes: MAX_REQUEST_BYTES + 64 * 1024,
    encoding: run.encoding,
    signing: run.signing,
  };
  return { target, server, stop: () => server.stop() };
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
