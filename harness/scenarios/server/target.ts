/**
 * The server under test as scenarios see it, and the helpers they share: a reference device bound to it, and the
 * passive checks run on every session.
 */
import { runChecks, type Finding } from '../../checks/finding';
import { SERVER_CHECKS } from '../../checks/server-checks';
import type { SessionView } from '../../checks/session';
import { ReferenceDevice, type DeviceRun, type ReferenceDeviceOptions } from '../../device/reference-device';
import type { Identity, TestPki } from '../../pki';
import type { CredScheme } from '../../protocol/credentials';
import type { Command } from '../../syncml';
import type { ScenarioLog } from '../scenario';

export interface ServerUnderTest {
  /** The run's seed (`--seed`). */
  seed?: number;
  /** Management endpoint. */
  url: string;
  /** CA the server certificate chains to. */
  serverCa: string;
  /** The enrolled device the harness plays. */
  deviceId: string;
  identity: Identity;
  /** Present when identities are harness-issued: bad identities can then be minted for the auth cases. */
  pki?: TestPki;
  /** Queues commands for a device on the server (the control adapter); absent when none was configured. */
  queue?: (deviceId: string, commands: Command[]) => Promise<void>;
  /** Application-level credentials of the device (`--auth`, `--client-credentials`). */
  credentials?: { scheme: CredScheme; user: string; password: string };
  /**
   * Credentials the server presents to the device (`--server-auth`, `--server-credentials`): the auth scenarios' device
   * requires and verifies them, as a device configured with w7 `CLIENT` / DMAcc `SRVCRED` does.
   */
  serverCredentials?: { scheme: CredScheme; user: string; password: string };
  /** Per HTTP request. */
  timeoutMs?: number;
  /** Offer HTTP/2, as Windows does (`--http2`). */
  http2?: boolean;
  /** Plain HTTP to a server behind a TLS-terminating proxy, the device certificate in this header. */
  clientCertHeader?: string;
  /** Size of the "oversized body" robustness probe; by default just over the 16 MiB most servers accept. */
  oversizedBodyBytes?: number;
}

export const needsControl = (t: ServerUnderTest) =>
  t.queue ? undefined : 'needs queued commands: pass --control to let the harness queue commands on the server';

/**
 * The harness's devices of one id are one device to the server: each new one goes on from the session number the last
 * one reached, as a device's counter does, so that a session a scenario left half-open is never continued by another
 * scenario's device that happened to draw the same SessionID (MDM-HDR-006, MDM-SES-021).
 */
const counters = new WeakMap<ServerUnderTest, Map<string, { counter?: number; last?: ReferenceDevice }>>();

function sessionCounterFor(t: ServerUnderTest, deviceId: string): { counter?: number; keep: (d: ReferenceDevice) => void } {
  let byDevice = counters.get(t);
  if (!byDevice) counters.set(t, (byDevice = new Map()));
  const known = byDevice.get(deviceId);
  const reached = [known?.counter, known?.last?.memory().sessionCounter].filter((n): n is number => n !== undefined);
  const counter = reached.length ? Math.max(...reached) : undefined;
  return { counter, keep: (last) => byDevice!.set(deviceId, { counter, last }) };
}

/** A reference device bound to the server under test; its random choices come from the scenario's seed. */
export function deviceFor(t: ServerUnderTest, log: ScenarioLog, opts: Partial<ReferenceDeviceOptions> = {}): ReferenceDevice {
  const numbering = sessionCounterFor(t, opts.deviceId ?? t.deviceId);
  const device = new ReferenceDevice({
    rng: log.nextRng('device'),
    sessionCounter: numbering.counter,
    deviceId: t.deviceId,
    identity: t.identity,
    serverCa: t.serverCa,
    timeoutMs: t.timeoutMs ?? 5_000,
    credentials: t.credentials,
    http2: t.http2,
    clientCertHeader: t.clientCertHeader,
    ...opts,
  });
  numbering.keep(device);
  return device;
}

/** Runs the passive server checks on a session and records it. */
export function judgeSession(log: ScenarioLog, view: SessionView): Finding[] {
  const findings = runChecks(SERVER_CHECKS, view);
  log.add(findings);
  return findings;
}

/** One session of a fresh reference device, judged; the device is closed afterwards. */
export async function session(t: ServerUnderTest, log: ScenarioLog, opts: Partial<ReferenceDeviceOptions> = {}, run?: (d: ReferenceDevice) => Promise<DeviceRun>): Promise<DeviceRun> {
  const device = deviceFor(t, log, opts);
  try {
    const result = await (run ? run(device) : device.runSession(t.url));
    log.transcripts.push(result.exchanges);
    log.note(`session ${result.sessionID}: ${result.rounds} round trip(s), ${result.view.outcome}`);
    judgeSession(log, result.view);
    return result;
  } finally {
    await device.close();
  }
}

/** A session that could not run at all is itself the finding: the server was not reachable or refused us. */
export function reachable(log: ScenarioLog, run: DeviceRun, check: string): boolean {
  if (run.end.reason !== 'transport-error' && run.end.reason !== 'protocol-error') return true;
  log.add([{ id: 'MDM-TERM-003', verdict: 'fail', check, evidence: `no SyncML reply from the server: ${run.end.detail}` }]);
  return false;
}
