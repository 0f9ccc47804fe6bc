/**
 * The server under test as scenarios see it, and the helpers they share: a reference device bound to it, and the
 * passive checks run on every session.
 */
import { runChecks, type Finding } from '../../checks/finding';
import { SERVER_CHECKS } from '../../checks/server-checks';
import type { SessionView } from '../../checks/session';
import { describePackage1, varyPackage1 } from '../../device/package1';
import { ReferenceDevice, SessionCounter, type DeviceRun, type ReferenceDeviceOptions } from '../../device/reference-device';
import { EnrollmentError } from '../../enrollment/errors';
import { seeded } from '../../protocol/random';
import type { Identity, TestPki } from '../../pki';
import type { CredScheme } from '../../protocol/credentials';
import type { SyncMLEncoding } from '../../protocol/encoding';
import type { Command } from '../../syncml';
import type { ScenarioLog, SeededTarget } from '../scenario';

export interface ServerUnderTest extends SeededTarget {
  /** Management endpoint. */
  url: string;
  /** CA the server certificate chains to. */
  serverCa: string;
  /** The enrolled device the harness plays. */
  deviceId: string;
  identity: Identity;
  /** Present when identities are harness-issued: bad identities can then be minted for the auth cases. */
  pki?: TestPki;
  /**
   * Present when the run enrolled its device (`--enroll`): enrolls another device the same way and gives its
   * identity, or throws (an EnrollmentError naming the step) when the server refuses it. Scenarios that need a second
   * device take it from here before minting one from `pki`: a server that trusts only what it enrolled knows it.
   */
  enrollDevice?: (deviceId: string) => Promise<Identity>;
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
  /** The encoding the device speaks in every scenario (`--encoding`): the server provisioned it. Default XML. */
  encoding?: SyncMLEncoding;
  /** The server requires MS-Signature (it set RequireMessageSigning, `--sign`): the device signs every message. */
  signing?: boolean;
}

/** The device id of the second device scenarios play beside the run's own. */
export const secondDeviceId = (t: ServerUnderTest) => `${t.deviceId}-second`;

/** A second device enrolled like the run's own; `why` in one line when it could not be (a server that allows one enrollment). */
export async function enrollSecondDevice(t: ServerUnderTest, deviceId: string): Promise<{ identity: Identity } | { why: string }> {
  try {
    return { identity: await t.enrollDevice!(deviceId) };
  } catch (e) {
    const at = e instanceof EnrollmentError ? ` at ${e.step}` : '';
    return { why: `enrolling a second device (${deviceId}) the way the run enrolled failed${at}: ${(e as Error).message}` };
  }
}

export const needsControl = (t: ServerUnderTest) =>
  t.queue ? undefined : 'needs queued commands: pass --control to let the harness queue commands on the server';

/** One session counter per device the harness plays against a server, for the whole run, as a device keeps one. */
const counters = new WeakMap<ServerUnderTest, Map<string, SessionCounter>>();
function counterOf(t: ServerUnderTest, deviceId: string): SessionCounter {
  let byDevice = counters.get(t);
  if (!byDevice) counters.set(t, (byDevice = new Map()));
  let counter = byDevice.get(deviceId);
  if (!counter) byDevice.set(deviceId, (counter = new SessionCounter(seeded(t.seed, 'sessions', deviceId).int(1, 200))));
  return counter;
}

/**
 * A reference device bound to the server under test; its random choices come from the scenario's seed, the shape of
 * its package 1 among them (varyPackage1: CmdID numbering, LoginStatus alert, HWDevID item).
 */
export function deviceFor(t: ServerUnderTest, log: ScenarioLog, opts: Partial<ReferenceDeviceOptions> = {}): ReferenceDevice {
  const rng = opts.rng ?? log.nextRng('device');
  const device = new ReferenceDevice({
    rng,
    package1: varyPackage1(rng.fork('package-1')),
    sessionCounter: counterOf(t, opts.deviceId ?? t.deviceId),
    deviceId: t.deviceId,
    identity: t.identity,
    serverCa: t.serverCa,
    timeoutMs: t.timeoutMs ?? 5_000,
    credentials: t.credentials,
    http2: t.http2,
    clientCertHeader: t.clientCertHeader,
    encoding: t.encoding,
    signing: t.signing ? {} : undefined,
    ...opts,
  });
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
    log.note(`session ${result.sessionID} (package 1: ${describePackage1(device.package1Shape)}): ${result.rounds} round trip(s), ${result.view.outcome}`);
    judgeSession(log, result.view);
    return result;
  } finally {
    await device.close();
  }
}

/**
 * The harness could not talk to the server at all (connection refused, TLS refused): no requirement can be judged,
 * and the run ends as one that could not be judged (exit 2) with this as the reason, not as a failure.
 */
export class SetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SetupError';
  }
}

/**
 * Whether the session reached the server. A server that broke an exchange (no answer, a reset, no SyncML) fails
 * MDM-TERM-003; one that could not be connected to at all is a setup problem (SetupError); one that kept throttling
 * the device (MDM-TRN-022) judged nothing, and the throttling check says so.
 */
/** Ends where the server gave no SyncML reply to a message that needed one. */
export const NO_REPLY: ReadonlySet<string> = new Set(['transport-error', 'protocol-error', 'empty-reply']);

export function reachable(log: ScenarioLog, run: DeviceRun, check: string): boolean {
  if (run.end.reason === 'throttled') {
    log.note(run.end.detail);
    return false;
  }
  if (!NO_REPLY.has(run.end.reason)) return true;
  // An empty HTTP 200 is a reply the passive checks judge (MDM-TERM-003, once); nothing more to say here.
  if (run.end.reason === 'empty-reply') return false;
  const first = run.exchanges.at(-1)?.error;
  if (first && (first.kind === 'connect' || (first.kind === 'tls' && !run.exchanges.some((x) => x.response)))) {
    throw new SetupError(`cannot reach the server: ${first.message}`);
  }
  log.add([{ id: 'MDM-TERM-003', verdict: 'fail', check, evidence: `no SyncML reply from the server: ${'detail' in run.end ? run.end.detail : run.end.reason}` }]);
  return false;
}
