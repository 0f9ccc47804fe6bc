/**
 * How fast the command starts: `--help`, and the embedded `test-server` and `test-client` runs, from the compiled
 * harness, suites and fixtures (dist/, what `npx mdm-conformance` runs) beside the same command transpiled at start by
 * tsx, its suites by the test runner (the baseline, measured in the same run). Medians of `runs` starts each.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fmt } from './measure';

const ROOT = join(__dirname, '..');
/** Whether dist/ is as new as the sources (bin/build.js, the command's own answer). */
const { buildIsFresh } = require('../bin/build') as { buildIsFresh(): boolean };

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Wall seconds of one start of the command with `args`, compiled or through tsx. */
function timeOnce(args: string[], compiled: boolean): number {
  const entry = compiled
    ? [join(ROOT, 'dist/harness/cli.js')]
    : ['--require', 'tsx/cjs', join(ROOT, 'harness/cli.ts')];
  const reports = mkdtempSync(join(tmpdir(), 'mdm-bench-start-'));
  const withReports = args.map((a) => (a === '{reports}' ? reports : a));
  const t0 = process.hrtime.bigint();
  const run = spawnSync(process.execPath, [...entry, ...withReports], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, MDM_CONFORMANCE_CONFIG: '' } });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  rmSync(reports, { recursive: true, force: true });
  if (run.status !== 0) throw new Error(`${args.join(' ')} exited ${run.status}: ${(run.stdout + run.stderr).trim().split('\n').slice(-3).join(' | ')}`);
  return seconds;
}

export function benchStart(runs = 3): string[] {
  if (!buildIsFresh()) return ['start: no compiled harness in dist/ as new as the sources (npm run build)'];
  const cases: [string, string[]][] = [
    ['--help', ['--help']],
    ['test-server (embedded)', ['test-server', '--reports', '{reports}']],
    ['test-client (embedded)', ['test-client', '--reports', '{reports}']],
  ];
  const lines = ['start (median of ' + runs + '):'];
  const embedded = { compiled: 0, tsx: 0 };
  for (const [name, args] of cases) {
    const compiled = median(Array.from({ length: runs }, () => timeOnce(args, true)));
    const tsx = median(Array.from({ length: runs }, () => timeOnce(args, false)));
    lines.push(`  ${name.padEnd(24)} compiled ${fmt(compiled, 2)} s   tsx ${fmt(tsx, 2)} s   (${fmt(tsx / compiled, 2)}× faster)`);
    if (args[0] !== '--help') {
      embedded.compiled += compiled;
      embedded.tsx += tsx;
    }
  }
  lines.push(`  ${'both embedded runs'.padEnd(24)} compiled ${fmt(embedded.compiled, 2)} s   tsx ${fmt(embedded.tsx, 2)} s   (goal: under 10 s compiled)`);
  return lines;
}
