import { expect, test } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestPki, writePki } from '../../harness/pki';
import { HttpsClient } from '../../harness/transport';

const BIN = join(__dirname, '../../bin/mdm-conformance.js');

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function start(args: string[]): { child: ChildProcess; output: () => string; waitFor: (re: RegExp, ms?: number) => Promise<void>; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exit = new Promise<number | null>((r) => child.on('close', r));
  const waitFor = async (re: RegExp, ms = 15_000) => {
    const until = Date.now() + ms;
    while (!re.test(out)) {
      if (Date.now() > until) throw new Error(`no ${re} within ${ms} ms; output:\n${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return { child, output: () => out, waitFor, exit };
}

test('serve answers malformed input with a protocol error, keeps serving, and device runs a session against it (CLI contract)', async () => {
  test.setTimeout(60_000);
  const pki = createTestPki({ keyType: 'ec' });
  const dir = mkdtempSync(join(tmpdir(), 'mdm-cli-peers-'));
  writePki(dir, pki, { force: true });
  const port = await freePort();
  const serve = start(['serve', '--pki', dir, '--listen', `127.0.0.1:${port}`]);
  try {
    await serve.waitFor(/reference server listening on (https:\S+)/);
    const url = /listening on (https:\S+)/.exec(serve.output())![1];

    const client = new HttpsClient({ ca: pki.ca.certPem, identity: pki.device });
    const garbage = await client.post(url, 'not a SyncML message <<<');
    await client.close();
    expect(garbage.response?.status).toBe(400);
    expect(garbage.response?.body.toString()).toMatch(/not a SyncML message: not well-formed XML/);

    const device = start(['device', '--url', url, '--pki', dir]);
    expect(await device.exit).toBe(0);
    expect(device.output()).toMatch(/<-- HTTP 200 application\/vnd\.syncml\.dm\+xml/);
    expect(device.output()).toMatch(/session [0-9A-F]+: completed after 1 round trip\(s\)/);
    await serve.waitFor(/=== session [0-9A-F]+ of device .+: closing/);
  } finally {
    serve.child.kill('SIGINT');
  }
  expect(await serve.exit).toBe(0);
});

test('device against an address where nothing listens exits 2 and says why', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mdm-cli-peers-'));
  writePki(dir, createTestPki({ keyType: 'ec' }), { force: true });
  const device = start(['device', '--url', `https://127.0.0.1:${await freePort()}/ManagementServer/MDM.svc`, '--pki', dir]);
  expect(await device.exit).toBe(2);
  expect(device.output()).toMatch(/transport-error: connect: connection refused/);
});
