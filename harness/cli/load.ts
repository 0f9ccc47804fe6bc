/**
 * `mdm-conformance load`: N simulated devices checking in concurrently. Prints sessions
 * per second, latency percentiles, errors by kind and the requirement failures seen under load, and writes the
 * conformance report with a `load` section.
 */
import { resolve } from 'node:path';
import { startEmbeddedServer } from '../iut/embedded-server';
import { runFleet, type LoadResult } from '../load/fleet';
import { createTestPki } from '../pki';
import { get } from '../syncml';
import { buildReport, writeReport } from '../report/report';
import { seeded } from '../protocol/random';
import { preflight } from '../iut/preflight';
import { one, seedOf, UsageError } from './args';
import { parseCommand, refuseIgnored, type CommandSpec } from './command';
import { durationOf } from './duration';
import { loadPki } from './identity';
import { encodingOf } from './options';

function positive(value: string | undefined, flag: string, fallback?: number): number | undefined {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${flag} takes a positive whole number`);
  return n;
}

export const LOAD: CommandSpec = {
  name: 'load',
  summary: 'A fleet of simulated reference devices checking in concurrently, each with its own identity minted from the CA, every session '
    + 'judged by the passive checks: sessions per second, latency percentiles, errors by kind, the failures seen under load. Without --url, '
    + 'the embedded reference server. Exit 0 no failure, 1 a requirement failed under load, 2 unreachable or bad usage.',
  flags: [
    { name: 'url', value: 'URL', default: 'the embedded reference server', help: 'the management endpoint of the server under test' },
    { name: 'pki', value: 'DIR', help: 'pki init folder whose CA your server trusts (required with --url): each device gets an identity from it' },
    { name: 'devices', value: 'N', default: '100', help: 'simulated devices' },
    { name: 'concurrency', value: 'C', default: '8', help: 'sessions in flight at once' },
    { name: 'sessions', value: 'S', help: 'stop after this many sessions' },
    { name: 'duration', value: 'DURATION', help: 'stop after this long (30s, 2m); give --sessions or --duration' },
    { name: 'http2', help: 'the devices offer HTTP/2, as Windows does' },
    { name: 'encoding', value: 'xml|wbxml', default: 'xml', help: 'what every device speaks: wbxml posts application/vnd.syncml.dm+wbxml' },
    { name: 'reports', value: 'DIR', default: './reports', help: 'where conformance-report.json (with a load section) is written' },
    { name: 'seed', value: 'N', default: 'a fixed seed', help: 'device ids and every random choice follow it' },
  ],
};

export async function loadCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const args = parseCommand(argv, LOAD);
  const devices = positive(one(args, 'devices'), '--devices', 100)!;
  const concurrency = positive(one(args, 'concurrency'), '--concurrency', 8)!;
  const sessions = positive(one(args, 'sessions'), '--sessions');
  const durationMs = durationOf(one(args, 'duration'), '--duration');
  if (!sessions && !durationMs) throw new UsageError('give --sessions S or --duration D (e.g. --sessions 1000 or --duration 30s)');
  if (sessions && durationMs) throw new UsageError('--sessions and --duration exclude each other: the run stops at one of them');
  refuseIgnored(args, [{ flag: 'pki', when: !one(args, 'url'), why: 'the embedded reference server makes its own PKI; --pki is for --url' }]);
  const seed = seedOf(args);
  const encoding = encodingOf(args);
  const reportsDir = resolve(one(args, 'reports') ?? 'reports');
  const url = one(args, 'url');
  const pkiDir = one(args, 'pki');
  if (url && !pkiDir) throw new UsageError('load against your server needs --pki DIR: each simulated device gets an identity issued by its CA');
  const pki = pkiDir ? loadPki(pkiDir) : createTestPki({ keyType: 'ec', rng: seeded(seed, 'load-pki') });
  if (url) {
    // Unreachable, untrusted or silent is a setup problem (exit 2), found in seconds: not a failure of every session.
    const problem = await preflight({ url, deviceId: pki.deviceId, identity: pki.device, serverCa: pki.ca.certPem, timeoutMs: 5_000, http2: args.switches.has('http2'), caHint: `${pkiDir}/ca.pem`, encoding });
    if (problem) {
      out(`error: ${problem}`);
      return 2;
    }
  }
  const embedded = url ? undefined : await startEmbeddedServer({ pki, mutualTlsOnly: true, seed });
  const target = url ?? embedded!.target.url;
  out(`${devices} devices, concurrency ${concurrency}, ${sessions ? `${sessions} sessions` : `${durationMs} ms`} against ${url ?? 'the embedded reference server'}${encoding === 'wbxml' ? ', in WBXML' : ''}`);
  const startedAt = new Date().toISOString();
  const tty = process.stderr.isTTY;
  let result: LoadResult;
  try {
    result = await runFleet({
      url: target, pki, devices, concurrency, sessions, durationMs, http2: args.switches.has('http2'), seed, encoding,
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
    { mode: 'server', reportsDir, startedAt, strict: false, seed, suites: ['load'], features: [], server: { embedded: !url, url, serverCa: '', clientCert: '', clientKey: '', deviceId: `${devices} simulated devices` } },
    [{ test: 'load', findings: result.findings }],
    { executedTests: 1, harnessErrors: [] },
  );
  const path = writeReport(reportsDir, { ...report, load: { ...result, findings: undefined } } as typeof report);
  out(`report: ${path}`);
  if (result.sessions === 0) return 2;
  return Object.keys(result.failures).length ? 1 : 0;
}
