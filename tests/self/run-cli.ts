/** Runs the `mdm-conformance` command as a user would, in its own process, for the command-line tests. */
import { expect } from '@playwright/test';
import { spawn } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import type { ConformanceReport } from '../../harness/report/report';
import { rowsOf } from '../../harness/report/verdicts';

export const ROOT = join(__dirname, '../..');
export const BIN = join(ROOT, 'bin/mdm-conformance.js');

export interface CliRun {
  code: number | null;
  /** stdout and stderr, interleaved as they came. */
  out: string;
  /** The command was stopped for overrunning its time. */
  timedOut?: true;
}

/**
 * A time budget for a child process, stretched on a loaded machine: a command that takes 20 s on an idle two-core
 * machine can take three times that while other tests share the cores, and a killed child leaves no report to read.
 */
export function scaled(ms: number): number {
  const load = loadavg()[0] / Math.max(1, cpus().length);
  return Math.round(ms * Math.min(4, Math.max(1, load)));
}

export function runCli(args: string[], timeoutMs = scaled(120_000), extraEnv: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    // The command must not inherit a conformance run's configuration from the runner that started the test.
    const env = { ...process.env, MDM_CONFORMANCE_MODE: '', MDM_CONFORMANCE_CONFIG: '', ...extraEnv };
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve(timedOut ? { code, out: `${out}\n[stopped after ${timeoutMs} ms]`, timedOut: true } : { code, out });
    });
  });
}

/** Every row of the mode is in the report once, the counts add up, and a row not judged says why (and was not skipped for want of a flag). */
export function expectEveryRowAccountedFor(r: ConformanceReport, mode: 'server' | 'client'): void {
  expect(r.requirements.map((x) => x.id)).toEqual(rowsOf(mode).map((x) => x.id).sort((a, b) => a.localeCompare(b, 'en', { numeric: true })));
  const s = r.summary;
  expect(s.passed + s.failed + s.warned + s.inconclusive + s.notApplicable).toBe(r.requirements.length);
  expect(s.notJudged + s.outOfScope).toBe(s.inconclusive);
  for (const x of r.requirements) {
    if (x.verdict === 'inconclusive') expect(x.reason, x.id).toBeTruthy();
    else expect(x.tests.length, x.id).toBeGreaterThan(0);
  }
  // The embedded peer offers everything: nothing is inconclusive for want of --control, --auth or a feature.
  expect(r.requirements.filter((x) => /pass --|not declared/.test(x.reason ?? '')).map((x) => `${x.id}: ${x.reason}`)).toEqual([]);
}

