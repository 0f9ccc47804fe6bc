/**
 * Nothing secret left behind: a run's throwaway PKI (private keys) is removed when the command exits, Ctrl-C
 * included, and the run configuration, which holds credentials, is never written to disk.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { BIN, ROOT, runCli, scaled } from './run-cli';

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** What the harness left in its temporary directory (the runner's own caches aside). */
const leftovers = (dir: string) => readdirSync(dir).filter((name) => name.startsWith('mdm-'));

test.describe('nothing secret left behind', () => {
  let scratch: string;
  test.beforeEach(() => {
    scratch = mkdtempSync(join(tmpdir(), 'secrets-test-'));
  });
  test.afterEach(() => rmSync(scratch, { recursive: true, force: true }));

  test('a run removes its throwaway PKI and writes no credential to disk', async () => {
    test.setTimeout(scaled(150_000));
    const temp = join(scratch, 'tmp');
    const reports = join(scratch, 'reports');
    mkdirSync(temp);
    const secret = 'Pa55-not-on-disk';
    const run = await runCli(['test-server', '--suite', 'setup', '--auth', 'md5', '--client-credentials', `alice:${secret}`, '--reports', reports], undefined, { TMPDIR: temp });
    expect(run.code, run.out).toBe(0);
    expect(leftovers(temp), 'temporary directories left by the run').toEqual([]);
    const holding = [...filesUnder(temp), ...filesUnder(reports)].filter((f) => readFileSync(f).includes(secret));
    expect(holding, 'files that hold the password').toEqual([]);
  });

  test('Ctrl-C on serve removes its throwaway PKI', async () => {
    test.setTimeout(scaled(60_000));
    const temp = join(scratch, 'tmp');
    mkdirSync(temp);
    const child = spawn(process.execPath, [BIN, 'serve', '--listen', '127.0.0.1:0'], { cwd: ROOT, env: { ...process.env, TMPDIR: temp }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await expect.poll(() => out, { timeout: scaled(30_000) }).toContain('PKI in');
    expect(leftovers(temp), 'the PKI exists while serve runs').toHaveLength(1);
    child.kill('SIGINT');
    const code = await closed;
    expect(code, out).toBe(0);
    expect(leftovers(temp), 'temporary directories left after Ctrl-C').toEqual([]);
  });
});
