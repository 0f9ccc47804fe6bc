import { expect, test } from '@playwright/test';
import { BIN, expectEveryRowAccountedFor, runCli } from './run-cli';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reportSchemaErrors, type ConformanceReport } from '../../harness/report/report';



const scratch = () => mkdtempSync(join(tmpdir(), 'mdm-cli-client-'));
const report = (dir: string) => JSON.parse(readFileSync(join(dir, 'conformance-report.json'), 'utf8')) as ConformanceReport;
const DEVICE = `node ${BIN} device --url {url} --ca {ca} --cert {cert} --key {key} --device-id {deviceId}`;

test.describe('test-client command line (CLI contract)', () => {
  test.describe.configure({ timeout: 120_000 });

  test('without --trigger it tests the embedded reference device: exit 0, every client row accounted for, nothing failed', async () => {
    const reports = scratch();
    const run = await runCli(['test-client', '--reports', reports]);
    expect(run.code, run.out).toBe(0);
    const r = report(reports);
    expect(reportSchemaErrors(r)).toEqual([]);
    expect(r.mode).toBe('client');
    expect(r.summary.failed).toBe(0);
    expectEveryRowAccountedFor(r, 'client');
  });

  test('a client behind --trigger with a fault exits 1 naming the requirement (MDM-HDR-005)', async () => {
    const reports = scratch();
    const run = await runCli(['test-client', '--trigger', `${DEVICE} --fault sessionid-changes`, '--suite', 'get-results', '--reports', reports]);
    expect(run.code, run.out).toBe(1);
    expect(run.out).toContain('FAIL MDM-HDR-005');
    expect(report(reports).requirements.find((r) => r.id === 'MDM-HDR-005')?.verdict).toBe('fail');
  });

  test('a client that never connects exits 2 and says so, with the trigger output', async () => {
    const run = await runCli(['test-client', '--trigger', 'echo "no such client" >&2; exit 3', '--reports', scratch()]);
    expect(run.code).toBe(2);
    expect(run.out).toMatch(/the client never connected to https:\/\/127\.0\.0\.1:\d+\/ManagementServer\/MDM\.svc \(the trigger exited 3\)/);
    expect(run.out).toContain('no such client');
  });
});
