/**
 * Harness overhead: wall time of the whole self project and time per test, beside the runner's own floor (an
 * empty test file run the same way) measured in the same run.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fmt } from './measure';

const ROOT = resolve(__dirname, '..');

function run(args: string[]): { ms: number; tests: number } {
  const started = Date.now();
  const r = spawnSync(process.execPath, [require.resolve('@playwright/test/cli'), 'test', ...args, '--reporter=json'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const ms = Date.now() - started;
  const json = JSON.parse(r.stdout) as { stats: { expected: number; unexpected: number; flaky: number; skipped: number } };
  const s = json.stats;
  if (s.unexpected) throw new Error(`the self project failed ${s.unexpected} test(s); the benchmark measures a green suite`);
  return { ms, tests: s.expected + s.flaky + s.skipped };
}

export function benchSelfSuite(): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'mdm-bench-empty-'));
  writeFileSync(join(dir, 'empty.spec.ts'), "import { test } from '@playwright/test';\ntest('nothing', () => {});\n");
  writeFileSync(join(dir, 'playwright.config.ts'), "export default { testDir: '.', workers: 1 };\n");
  const floor = run(['--config', join(dir, 'playwright.config.ts')]);
  const self = run(['--project=self']);
  return [
    'harness overhead (self project, wall time):',
    `  runner floor (one empty test)            ${fmt(floor.ms / 1000, 2)} s  (baseline)`,
    `  self project (${self.tests} tests)              ${fmt(self.ms / 1000, 2)} s  ratio ${(self.ms / floor.ms).toFixed(1)}  (${fmt(self.ms / self.tests)} ms per test)`,
  ];
}
