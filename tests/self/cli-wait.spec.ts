import { expect, test } from '@playwright/test';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReferenceDevice } from '../../harness/device/reference-device';
import { createTestPki, writePki } from '../../harness/pki';
import type { ConformanceReport } from '../../harness/report/report';

const BIN = join(__dirname, '../../bin/mdm-conformance.js');

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

// A real device polls on its own schedule: with --wait the harness listens and judges whatever session comes.
test('test-client --wait judges a client that polls by itself (CLI contract)', async () => {
  test.setTimeout(120_000);
  const pki = createTestPki({ keyType: 'ec' });
  const dir = mkdtempSync(join(tmpdir(), 'mdm-wait-'));
  writePki(join(dir, 'pki'), pki, { force: true });
  const port = await freePort();
  const run = spawn(process.execPath, [BIN, 'test-client', '--wait', '--listen', `127.0.0.1:${port}`, '--pki', join(dir, 'pki'), '--suite', 'setup', '--reports', join(dir, 'reports')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  run.stdout.on('data', (c: Buffer) => (out += c.toString()));
  run.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((r) => run.on('close', r));
  let done = false;
  void exited.then(() => (done = true));
  const device = new ReferenceDevice({ deviceId: pki.deviceId, identity: pki.device, serverCa: pki.ca.certPem, timeoutMs: 2_000 });
  try {
    while (!done) {
      await device.runSession(`https://127.0.0.1:${port}/ManagementServer/MDM.svc`); // refused until the harness listens
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await device.close();
  }
  expect(await exited, out).toBe(0);
  const report = JSON.parse(readFileSync(join(dir, 'reports', 'conformance-report.json'), 'utf8')) as ConformanceReport;
  expect(report.summary.failed).toBe(0);
  expect(report.requirements.find((r) => r.id === 'MDM-CMD-ALT-001')?.verdict).toBe('pass');
});
