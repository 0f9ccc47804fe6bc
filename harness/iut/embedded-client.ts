/**
 * The embedded client under test: the reference device in-process, behind the same trigger interface a vendor's
 * command line has, so `test-client` without --trigger exercises every scenario (none inconclusive) and the self
 * suite can run every scenario against each device fault.
 *
 * One device lives as long as the client: its DM tree keeps what earlier sessions did to it, as a real device's
 * does, and each session gets a fresh SessionID.
 */
import { CLIENT_CREDENTIAL_SECRET } from '../device/dm-account';
import type { DeviceFault } from '../device/faults';
import { runOptionsOf, type RunOptions } from '../protocol/fault';
import { ReferenceDevice, type ReferenceDeviceOptions } from '../device/reference-device';
import { createTestPki, type TestPki } from '../pki';
import { seeded } from '../protocol/random';
import type { ClientUnderTest, Trigger, TriggerResult } from '../scenarios/client/target';
import { EMBEDDED_CLIENT_CREDENTIALS, EMBEDDED_CLIENT_FEATURES, EMBEDDED_CLIENT_SERVER_CREDENTIALS } from './embedded-settings';

export { EMBEDDED_CLIENT_CREDENTIALS, EMBEDDED_CLIENT_FEATURES, EMBEDDED_CLIENT_SERVER_CREDENTIALS };

/**
 * The largest message the embedded device sends. Small enough that the large-object scenarios see its Results go
 * out in chunks (MDM-LO-009, MDM-LO-020) and long replies span messages (MDM-LO-001), as Windows' do.
 */
export const EMBEDDED_CLIENT_MAX_SEND_SIZE = 6 * 1024;

/** A node of another management service's enrollment on the embedded device, which keeps this server out (425). */
export const EMBEDDED_CLIENT_DENIED_NODE = './Vendor/MSFT/DMClient/Provider/OtherMDM/EntDeviceName';

export interface EmbeddedClient {
  target: ClientUnderTest;
  device: ReferenceDevice;
  stop(): Promise<void>;
}

/**
 * `encoding` is what the device was provisioned with, `signing` whether it was told to sign (RequireMessageSigning);
 * both default to what the faults need (`runsWith`), else XML, unsigned.
 */
export interface EmbeddedClientOptions extends RunOptions {
  pki?: TestPki;
  faults?: readonly DeviceFault[];
  /** Per HTTP request of the device. Default 3 000 ms. */
  requestTimeoutMs?: number;
  /** The run's seed (`--seed`): the device's SessionIDs and every scenario's choices follow it. */
  seed?: number;
}

export async function startEmbeddedClient(opts: EmbeddedClientOptions = {}): Promise<EmbeddedClient> {
  const pki = opts.pki ?? createTestPki({ rng: seeded(opts.seed, 'embedded-pki') });
  const needs = runOptionsOf(opts.faults ?? []);
  const encoding = opts.encoding ?? needs.encoding;
  const signing = opts.signing ?? needs.signing;
  const base: ReferenceDeviceOptions = {
    deviceId: pki.deviceId,
    identity: pki.device,
    serverCa: pki.ca.certPem,
    credentials: EMBEDDED_CLIENT_CREDENTIALS,
    // As Windows does: MD5 credentials from the first session that gave a nonce on (MDM-AUTH-010, MDM-AUTH-032).
    preemptiveAuth: true,
    serverCredentials: EMBEDDED_CLIENT_SERVER_CREDENTIALS,
    maxSendSize: EMBEDDED_CLIENT_MAX_SEND_SIZE,
    faults: opts.faults,
    timeoutMs: opts.requestTimeoutMs ?? 3_000,
    rng: seeded(opts.seed, 'embedded-client'),
    encoding,
    signing: signing ? {} : undefined,
    // An AVD multi-session host whose sessions are mixed once the server sets SyncApplicationVersion 5.0.
    multiSession: 'mixed',
  };
  const device = new ReferenceDevice(base);
  const target: ClientUnderTest = {
    seed: opts.seed,
    pki,
    deviceId: pki.deviceId,
    trigger: embeddedTrigger(device, base),
    credentials: EMBEDDED_CLIENT_CREDENTIALS,
    serverCredentials: EMBEDDED_CLIENT_SERVER_CREDENTIALS,
    sessionTimeoutMs: 15_000,
    encoding,
    signing,
    // Its capability profile maps the roles Windows has no default for: another enrollment's DMClient node, and
    // ./User provisioning on a device that is Entra-joined with nobody signed in (LoginStatus none; MDM-SES-020).
    // and the secret of its own DM account (MDM-AUTH-030).
    nodes: {
      deniedNode: EMBEDDED_CLIENT_DENIED_NODE, userNodeWithoutEntraUser: './User/Vendor/MSFT/NodeCache/MDMConformance/CacheVersion',
      clientCredentialSecret: CLIENT_CREDENTIAL_SECRET,
    },
  };
  return { target, device, stop: () => device.close() };
}

/** A trigger that runs one session of the reference device; a session told to trust another CA gets a device of its own sharing the tree. */
export function embeddedTrigger(device: ReferenceDevice, base: ReferenceDeviceOptions): Trigger {
  return async (o) => {
    const started = Date.now();
    const own = o.ca !== undefined && o.ca !== base.serverCa;
    const d = own ? new ReferenceDevice({ ...base, serverCa: o.ca, tree: device.tree }) : device;
    let timer: NodeJS.Timeout | undefined;
    try {
      const overran = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), o.timeoutMs ?? 30_000)));
      const run = await Promise.race([d.runSession(o.url), overran]);
      if (run === 'timeout') return result(started, null, true, '', 'the session overran its time');
      if (run.end.reason === 'crashed') return { ...result(started, null, false, '', run.end.detail), signal: 'SIGABRT' };
      const ok = ['completed', 'empty-reply', 'aborted-by-server', 'aborted-by-device'].includes(run.end.reason);
      const line = `session ${run.sessionID}: ${run.rounds} round trip(s), ${'detail' in run.end ? `${run.end.reason}: ${run.end.detail}` : run.end.reason}`;
      return ok ? result(started, 0, false, line, '') : result(started, 1, false, '', line);
    } catch (e) {
      return result(started, 1, false, '', `the reference device failed: ${(e as Error).message}`);
    } finally {
      clearTimeout(timer);
      if (own) await d.close();
    }
  };
}

function result(started: number, exitCode: number | null, timedOut: boolean, stdout: string, stderr: string): TriggerResult {
  return { exitCode, timedOut, stdout, stderr, ms: Date.now() - started };
}
