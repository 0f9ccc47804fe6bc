/**
 * Repro scripts replay each session with the identity it used (MDM-TRN-004's auth cases present expired, foreign
 * and wrong-usage certificates), find the PKI wherever the run was started from, and exit non-zero when curl fails
 * where the harness had a reply.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { createTestPki, writePki } from '../../harness/pki';
import { faultByName } from '../../harness/protocol/fault';
import { SERVER_FAULTS } from '../../harness/server/faults';
import { ReferenceServer } from '../../harness/server/reference-server';
import { BIN, scaled } from './run-cli';

const CURL = '/usr/bin/curl';

function run(cmd: string, args: string[], cwd: string, timeoutMs: number): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env, MDM_CONFORMANCE_MODE: '', MDM_CONFORMANCE_CONFIG: '' };
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

test('the repro script of the auth test replays each session with its own identity, from any directory', async () => {
  test.skip(!existsSync(CURL), `curl is not installed (${CURL}): the repro scripts replay with curl`);
  test.setTimeout(scaled(150_000));
  const work = mkdtempSync(join(tmpdir(), 'mdm-repro-identities-'));
  try {
    // A vendor's layout: the PKI and reports given relative to the directory the run starts in.
    const pki = createTestPki({ keyType: 'ec' });
    writePki(join(work, 'pki'), pki, { force: true });
    const server = new ReferenceServer({ identity: pki.server, ca: pki.ca.certPem, faults: [faultByName(SERVER_FAULTS, 'accepts-wrong-key-usage')] });
    await server.start();
    let replay: { code: number | null; out: string };
    let script: string;
    const dir = join(work, 'replay');
    try {
      const result = await run(process.execPath, [BIN, 'test-server', '--url', server.url, '--pki', 'pki', '--suite', 'auth', '--reports', 'reports'], work, scaled(120_000));
      expect(result.code, result.out).toBe(1);
      // Run from elsewhere: the script finds the PKI by absolute path and its minted identities beside itself.
      cpSync(join(work, 'reports', 'repro', 'auth-mutual-tls-identities'), dir, { recursive: true });
      script = readFileSync(join(dir, 'repro.sh'), 'utf8');
      replay = await run('bash', [join(dir, 'repro.sh')], tmpdir(), scaled(60_000));
    } finally {
      await server.stop();
    }
    expect(script).toContain(`CERT="\${MDM_CERT:-${join(work, 'pki', 'device.pem')}}"`);
    expect(script).toMatch(/SESSION_CERT=identity-\d+\.pem/);
    expect(script).toContain('SESSION_CERT="" SESSION_KEY=""'); // the session that presented no certificate
    expect(replay.code, replay.out).toBe(0);
    // Every request gets the answer the harness recorded: 403 for the refused identities, 200 for the valid one and
    // for the wrong-usage certificate the faulty server takes.
    const recorded = [...script.matchAll(/recorded answer: HTTP (\d+)\n(?:#.*\n)*send '([^']+)'/g)].map((m) => `${m[2]}: HTTP ${m[1]}`);
    const replayed = [...replay.out.matchAll(/^(\S+) <- \S+: (HTTP \d+)/gm)].map((m) => `${m[1]}: ${m[2]}`);
    expect(recorded.length).toBeGreaterThanOrEqual(6);
    expect(replayed).toEqual(recorded);
    expect(recorded).toEqual(expect.arrayContaining([expect.stringMatching(/HTTP 403$/), expect.stringMatching(/HTTP 200$/)]));

    // With the server gone, curl fails where the harness had a reply: the script says so by its exit status.
    const gone = await run('bash', [join(dir, 'repro.sh')], tmpdir(), scaled(60_000));
    expect(gone.code, gone.out).toBe(1);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
