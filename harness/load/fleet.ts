/**
 * A fleet of simulated reference devices checking in concurrently, each with its own identity, every session judged
 * by the same passive checks as the suites: a server that mixes up devices or references under load fails.
 */
import type { SyncMLEncoding } from '../protocol/encoding';
import { seeded, type Rng } from '../protocol/random';
import { runChecks, type Finding } from '../checks/finding';
import { SERVER_CHECKS } from '../checks/server-checks';
import { ReferenceDevice } from '../device/reference-device';
import { mintDeviceIdentity, type Identity, type TestPki } from '../pki';

export interface FleetOptions {
  /** The run's seed: device ids follow it. */
  seed?: number;
  url: string;
  /** CA used to mint one identity per device; the server under test must trust it for client certificates. */
  pki: TestPki;
  devices: number;
  concurrency: number;
  /** Stop after this many sessions in all, or after `durationMs`, whichever is given. */
  sessions?: number;
  durationMs?: number;
  timeoutMs?: number;
  /** Called about twice a second with the progress so far. */
  onProgress?: (p: FleetProgress) => void;
  /** Called once per device before its first session (to queue commands on an embedded server, for example). */
  beforeSession?: (deviceId: string) => void | Promise<void>;
  /** Devices offer h2 by ALPN (ReferenceDeviceOptions.http2). */
  http2?: boolean;
  /** Devices send their certificate in this header (ReferenceDeviceOptions.clientCertHeader). */
  clientCertHeader?: string;
  /** What the devices speak (ReferenceDeviceOptions.encoding); default XML. */
  encoding?: SyncMLEncoding;
}

export interface FleetProgress {
  sessions: number;
  target?: number;
  elapsedMs: number;
  errors: number;
}

export interface LoadResult {
  devices: number;
  concurrency: number;
  sessions: number;
  durationMs: number;
  sessionsPerSecond: number;
  latencyMs: { roundTrip: Percentiles; session: Percentiles };
  /** Sessions that did not complete, by kind (transport-error, protocol-error, round-limit, auth-failed, …). */
  errors: Record<string, number>;
  /** Requirement failures seen under load: id -> count of sessions, and one example. */
  failures: Record<string, { sessions: number; example: string }>;
  /** One finding per requirement judged: a failure (with its count and example) or a pass. */
  findings: Finding[];
}

export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

interface SimulatedDevice {
  id: string;
  identity: Identity;
}

export function percentiles(values: number[]): Percentiles {
  if (!values.length) return { p50: 0, p95: 0, p99: 0, max: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted[sorted.length - 1] };
}

/** One identity per device, minted from the CA; with an EC CA this takes about a millisecond each. Ids follow the seed. */
export function mintFleet(pki: TestPki, count: number, rng: Rng = seeded(undefined, 'fleet')): SimulatedDevice[] {
  return Array.from({ length: count }, () => {
    const id = rng.uuid();
    return { id, identity: mintDeviceIdentity(pki, 'valid', { deviceId: id }) };
  });
}

export async function runFleet(opts: FleetOptions, fleet = mintFleet(opts.pki, opts.devices, seeded(opts.seed, 'fleet'))): Promise<LoadResult> {
  if (!opts.sessions && !opts.durationMs) throw new Error('give a number of sessions or a duration');
  const started = Date.now();
  const deadline = opts.durationMs ? started + opts.durationMs : Infinity;
  const roundTrips: number[] = [];
  const sessionTimes: number[] = [];
  const errors: Record<string, number> = {};
  const failures: Record<string, { sessions: number; example: string }> = {};
  const passed = new Set<string>();
  let issued = 0;
  let done = 0;
  const firstSeen = new Set<string>();

  const progress = setInterval(() => opts.onProgress?.({ sessions: done, target: opts.sessions, elapsedMs: Date.now() - started, errors: Object.values(errors).reduce((a, b) => a + b, 0) }), 500);
  const worker = async () => {
    while ((opts.sessions === undefined || issued < opts.sessions) && Date.now() < deadline) {
      const d = fleet[issued++ % fleet.length];
      if (!firstSeen.has(d.id)) {
        firstSeen.add(d.id);
        await opts.beforeSession?.(d.id);
      }
      const device = new ReferenceDevice({
        deviceId: d.id, identity: d.identity, serverCa: opts.pki.ca.certPem, timeoutMs: opts.timeoutMs ?? 10_000,
        http2: opts.http2, clientCertHeader: opts.clientCertHeader, encoding: opts.encoding,
      });
      const t0 = Date.now();
      try {
        const run = await device.runSession(opts.url);
        sessionTimes.push(Date.now() - t0);
        for (const x of run.exchanges) roundTrips.push(x.endedAt - x.startedAt);
        if (run.end.reason !== 'completed') errors[run.end.reason] = (errors[run.end.reason] ?? 0) + 1;
        const judged = runChecks(SERVER_CHECKS, run.view);
        const failed = new Set<string>();
        for (const f of judged) {
          if (f.verdict === 'pass') passed.add(f.id);
          if (f.verdict !== 'fail' || failed.has(f.id)) continue;
          failed.add(f.id);
          const entry = (failures[f.id] ??= { sessions: 0, example: `device ${d.id}: ${f.evidence}` });
          entry.sessions++;
        }
      } finally {
        await device.close();
        done++;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, opts.concurrency) }, worker));
  } finally {
    clearInterval(progress);
  }
  const durationMs = Date.now() - started;
  return {
    devices: fleet.length,
    concurrency: opts.concurrency,
    sessions: done,
    durationMs,
    sessionsPerSecond: done / (durationMs / 1000),
    latencyMs: { roundTrip: percentiles(roundTrips), session: percentiles(sessionTimes) },
    errors,
    failures,
    findings: [
      ...Object.entries(failures).map(([id, f]): Finding => ({ id, verdict: 'fail', check: 'load', evidence: `in ${f.sessions} of ${done} sessions under load; e.g. ${f.example}` })),
      ...[...passed].filter((id) => !failures[id]).map((id): Finding => ({ id, verdict: 'pass', check: 'load', evidence: `no deviation in ${done} sessions under load` })),
    ],
  };
}
