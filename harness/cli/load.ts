/**
 * `mdm-conformance load`: N simulated devices checking in concurrently. Prints sessions
 * per second, latency percentiles, errors by kind and the requirement failures seen under load, and writes the
 * conformance report with a `load` section.
 */
import { DEFAULT_SEED } from '../protocol/random';
import { resolve } from 'node:path';
import { startEmbeddedServer } from '../iut/embedded-server';
import { runFleet, type LoadResult } from '../load/fleet';
import { createTestPki } from '../pki';
import { get } from '../syncml';
import { buildReport, writeReport } from '../report/report';
import { one, parseArgs, UsageError } from './args';
import { loadPki } from './identity';

function positive(value: string | undefined, flag: string, fallback?: number): number | undefined {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${flag} takes a positive whole number`);
  return n;
}

/** `30s`, `2m`, `500ms` or a number of seconds. */
export function duration(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(value);
  if (!m) throw new UsageError('--duration takes a time such as 30s, 2m or 500ms');
  return Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 'm' ? 60_000 : 1_000);
}

export async function loadCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const args = parseArgs(argv, { values: { url: false, pki: false, devices: false, concurrency: false, sessions: false, duration: false, reports: false } });
  const devices = positive(one(args, 'devices'), '--devices', 100)!;
  const concurrency = positive(one(args, 'concurrency'), '--concurrency', 8)!;
  const sessions = positive(one(args, 'sessions'), '--sessions');
  const durationMs = duration(one(args, 'duration'));
  if (!sessions && !durationMs) throw new UsageError('give --sessions S or --duration D (e.g. --sessions 1000 or --duration 30s)');
  const reportsDir = resolve(one(args, 'reports') ?? 'reports');
  const url = one(args, 'url');
  const pkiDir = one(args, 'pki');
  if (url && !pkiDir) throw new UsageError('load against your server needs --pki DIR: each simulated device gets an identity issued by its CA');
  const pki = pkiDir ? loadPki(pkiDir) : createTestPki({ keyType: 'ec' });
  const embedded = url ? undefined : await startEmbeddedServer({ pki, mutualTlsOnly: true });
  const target = url ?? embedded!.target.url;
  out(`${devices} devices, concurrency ${concurrency}, ${sessions ? `${sessions} sessions` : `${durationMs} ms`} against ${url ?? 'the embedded reference server'}`);
  const startedAt = new Date().toISOString();
  const tty = process.stderr.isTTY;
  let result: LoadResult;
  try {
    result = await runFleet({
      url: target, pki, devices, concurrency, sessions, durationMs,
      // Each device's first session carries one Get round, so the fleet exercises statuses and Results too.
      beforeSession: embedded ? (id) => embedded.server.queue(id, get('./DevDetail/SwV')) : undefined,
      onProgress: (p) => {
        const share = p.target ? p.sessions / p.target : Math.min(1, p.elapsedMs / (durationMs ?? 1));
        const bar = '#'.repeat(Math.round(share * 30)).padEnd(30, '.');
        const line = `[${bar}] ${p.sessions}${p.target ? `/${p.target}` : ''} sessions, ${Math.round(p.sessions / (p.elapsedMs / 1000))}/s, ${p.errors} errors`;
        process.stderr.write(tty ? `\r${line}` : `${line}\n`);
      },
    });
  } finally {
    if (tty) process.stderr.write('\n');
    await embedded?.stop();
  }
  const l = result.latencyMs;
  out(`sessions: ${result.sessions} in ${(result.durationMs / 1000).toFixed(1)} s = ${result.sessionsPerSecond.toFixed(1)} sessions/s`);
  out(`round trip ms: p50 ${l.roundTrip.p50}, p95 ${l.roundTrip.p95}, p99 ${l.roundTrip.p99}, max ${l.roundTrip.max}`);
  out(`session ms:    p50 ${l.session.p50}, p95 ${l.session.p95}, p99 ${l.session.p99}, max ${l.session.max}`);
  out(`errors: ${Object.entries(result.errors).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`);
  for (const [id, f] of Object.entries(result.failures)) out(`  FAIL ${id} in ${f.sessions} session(s): ${f.example}`);
  const report = buildReport(
    { mode: 'server', reportsDir, startedAt, strict: false, seed: DEFAULT_SEED, suites: ['load'], features: [], server: { embedded: !url, url, serverCa: '', clientCert: '', clientKey: '', deviceId: `${devices} simulated devices` } },
    [{ test: 'load', findings: result.findings }],
    { executedTests: 1, harnessErrors: [] },
  );
  const path = writeReport(reportsDir, { ...report, load: { ...result, findings: undefined } } as typeof report);
  out(`report: ${path}`);
  if (result.sessions === 0) return 2;
  return Object.keys(result.failures).length ? 1 : 0;
}
