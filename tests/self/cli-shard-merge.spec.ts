import { expect, test } from '@playwright/test';
import { runCli, scaled } from './run-cli';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reportSchemaErrors, type ConformanceReport } from '../../harness/report/report';



const report = (dir: string) => JSON.parse(readFileSync(join(dir, 'conformance-report.json'), 'utf8')) as ConformanceReport;

test('two shards of a run merge into one conformance report equal to the unsharded verdicts', async () => {
  test.setTimeout(scaled(120_000)); // the time a loaded machine needs
  const dir = mkdtempSync(join(tmpdir(), 'mdm-shards-'));
  const suites = ['--suite', 'setup', '--suite', 'get-results', '--suite', 'termination'];
  const [one, two, whole] = await Promise.all([
    runCli(['test-server', ...suites, '--shard', '1/2', '--reports', join(dir, 's1')]),
    runCli(['test-server', ...suites, '--shard', '2/2', '--reports', join(dir, 's2')]),
    runCli(['test-server', ...suites, '--reports', join(dir, 'all')]),
  ]);
  expect([one.code, two.code, whole.code], `${one.out}\n${two.out}\n${whole.out}`).toEqual([0, 0, 0]);
  const shards = [report(join(dir, 's1')), report(join(dir, 's2'))];
  expect(shards[0].tests.executed + shards[1].tests.executed).toBe(report(join(dir, 'all')).tests.executed);
  expect(shards[0].tests.executed).toBeGreaterThan(0);
  expect(shards[1].tests.executed).toBeGreaterThan(0);

  const merged = await runCli(['merge', join(dir, 's1', 'conformance-report.json'), join(dir, 's2', 'conformance-report.json'), '--out', join(dir, 'merged')]);
  expect(merged.code, merged.out).toBe(0);
  const m = report(join(dir, 'merged'));
  expect(reportSchemaErrors(m)).toEqual([]);
  const verdicts = (r: ConformanceReport) => Object.fromEntries(r.requirements.map((x) => [x.id, x.verdict]));
  expect(verdicts(m)).toEqual(verdicts(report(join(dir, 'all'))));
  expect(m.tests.executed).toBe(report(join(dir, 'all')).tests.executed);
});

test('load results of two machines merge: sessions and rates add up, failures are kept', async () => {
  test.setTimeout(scaled(120_000)); // the time a loaded machine needs
  const dir = mkdtempSync(join(tmpdir(), 'mdm-load-'));
  const runs = await Promise.all(['a', 'b'].map((m) => runCli(['load', '--devices', '5', '--concurrency', '2', '--sessions', '10', '--reports', join(dir, m)])));
  for (const r of runs) {
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/sessions: 10 in [\d.]+ s = [\d.]+ sessions\/s/);
    expect(r.out).toMatch(/round trip ms: p50 \d+, p95 \d+, p99 \d+/);
  }
  const merged = await runCli(['merge', join(dir, 'a', 'conformance-report.json'), join(dir, 'b', 'conformance-report.json'), '--out', join(dir, 'merged')]);
  expect(merged.code, merged.out).toBe(0);
  const m = report(join(dir, 'merged')) as ConformanceReport & { load: { sessions: number; devices: number } };
  expect(m.load.sessions).toBe(20);
  expect(m.load.devices).toBe(10);
  expect(m.summary.failed).toBe(0);
});
