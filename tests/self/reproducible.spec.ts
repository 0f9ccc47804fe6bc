/**
 * Reproducible or worthless: the same implementation and the same seed give the same verdicts. Two runs against one
 * faulty server, seed 7, give identical reports but for timestamps and durations; another seed draws other SessionIDs.
 */
import { expect, test } from '@playwright/test';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestPki, writePki } from '../../harness/pki';
import { faultByName } from '../../harness/protocol/fault';
import type { ConformanceReport } from '../../harness/report/report';
import { SERVER_FAULTS } from '../../harness/server/faults';
import { ReferenceServer } from '../../harness/server/reference-server';
import { runCli, scaled } from './run-cli';

const scratch = () => mkdtempSync(join(tmpdir(), 'mdm-repro-'));

/** The report without what legitimately differs between two runs: when they ran and how long they took. */
function verdicts(dir: string): unknown {
  const r = JSON.parse(readFileSync(join(dir, 'conformance-report.json'), 'utf8')) as ConformanceReport & Record<string, unknown>;
  return JSON.parse(JSON.stringify({ ...r, startedAt: undefined, durationMs: undefined }), (key, value) => (/^(ms|durationMs|startedAt)$/.test(key) ? undefined : value));
}

test('two runs with one seed against a faulty server give identical reports (MDM-ROB-007 named once, by its own scenario)', async () => {
  test.setTimeout(scaled(240_000));
  const pki = createTestPki({ keyType: 'ec' });
  const pkiDir = scratch();
  writePki(pkiDir, pki, { force: true });
  // A server that parses SessionIDs as numbers: the reference device's decimal SessionIDs pass, and the one
  // scenario that sends other forms names the defect.
  const server = new ReferenceServer({ identity: pki.server, ca: pki.ca.certPem, faults: [faultByName(SERVER_FAULTS, 'sessionid-parsed-as-number')] });
  await server.start();
  try {
    const run = (reports: string, seed: string) => runCli(['test-server', '--url', server.url, '--pki', pkiDir, '--suite', 'setup', '--suite', 'robustness', '--suite', 'fuzz', '--seed', seed, '--reports', reports]);
    const [a, b] = [scratch(), scratch()];
    const first = await run(a, '7');
    expect(first.code, first.out).toBe(1);
    const second = await run(b, '7');
    expect(second.code, second.out).toBe(1);
    expect(verdicts(b)).toEqual(verdicts(a));
    const report = verdicts(a) as ConformanceReport;
    expect(report.seed).toBe(7);
    const failed = report.requirements.filter((r) => r.verdict === 'fail').map((r) => r.id);
    expect(failed).toEqual(['MDM-ROB-007']);
    expect(first.out).toContain('seed 7');
  } finally {
    await server.stop();
  }
});
