import { expect, test } from '@playwright/test';
import { existsSync, readFileSync } from 'node:fs';
import { execTrigger, runCommand, shellQuote, substitute, waitTrigger } from '../../harness/iut/trigger';
import { createTestPki } from '../../harness/pki';

// Prints its arguments one per line, so a test sees exactly how the shell split them.
const ARGS = `node -e "for (const a of process.argv.slice(1)) console.log(JSON.stringify(a))" --`;
const args = (stdout: string) => stdout.trim().split('\n').map((l) => JSON.parse(l) as string);

const NASTY = `https://127.0.0.1:8443/a b?x='1'&y="2"$HOME\`id\`\\`;

test.describe('placeholders', () => {
  test('are substituted, and unknown braces are left alone', () => {
    const line = substitute('client --url {url} --ca {ca} --cert {cert} --key {key} --id {deviceId} {other}', {
      url: 'https://h/p', ca: '/c', cert: '/d', key: '/k', deviceId: 'DEV',
    });
    expect(line).toBe("client --url 'https://h/p' --ca '/c' --cert '/d' --key '/k' --id 'DEV' {other}");
  });

  for (const [where, template] of [
    ['bare', `${ARGS} {url}`],
    ['glued to a flag', `${ARGS} --url={url}`],
    ['inside double quotes', `${ARGS} "--url={url}"`],
    ['inside single quotes', `${ARGS} '--url={url}'`],
  ] as const) {
    test(`reach the command as one unchanged argument when ${where}`, async () => {
      const r = await runCommand(substitute(template, { url: NASTY }), { timeoutMs: 10_000 });
      expect(r.exitCode, r.stderr).toBe(0);
      const expected = where === 'bare' ? NASTY : `--url=${NASTY}`;
      expect(args(r.stdout)).toEqual([expected]);
    });
  }

  test('shellQuote survives a single quote', async () => {
    const r = await runCommand(`${ARGS} ${shellQuote("it's")}`);
    expect(args(r.stdout)).toEqual(["it's"]);
  });
});

test.describe('running a trigger', () => {
  test('keeps exit code, stdout and stderr', async () => {
    const r = await runCommand('echo out; echo err >&2; exit 3');
    expect(r).toMatchObject({ exitCode: 3, timedOut: false, stdout: 'out\n', stderr: 'err\n' });
    expect(r.ms).toBeGreaterThanOrEqual(0);
  });

  test('a timeout kills the whole process group, children included', async () => {
    const marker = `/tmp/mdm-conformance-trigger-test-${process.pid}-${Date.now()}`;
    // The child would write the marker after 3 s if it outlived the timeout.
    const r = await runCommand(`(sleep 3; touch ${marker}) & sleep 30`, { timeoutMs: 300 });
    expect(r.timedOut).toBe(true);
    expect(r.exitCode).toBeNull();
    expect(r.ms).toBeLessThan(3_000);
    await new Promise((resolve) => setTimeout(resolve, 3_500));
    expect(existsSync(marker), 'the background child was killed with its group').toBe(false);
  });

  test('output is bounded to its tail', async () => {
    const r = await runCommand(`node -e "process.stdout.write('a'.repeat(200000) + 'THE END')"`, { maxOutputBytes: 1024 });
    expect(r.stdout.endsWith('THE END')).toBe(true);
    expect(r.stdout.length).toBeLessThan(1200);
    expect(r.stdout).toContain('earlier bytes not kept');
  });

  test('a command that cannot run is a result, not an exception', async () => {
    const r = await runCommand('/nonexistent/client --url x');
    expect(r.exitCode).toBe(127);
    expect(r.stderr).toMatch(/not found|No such file/);
  });

  test('does not wait for a background child that keeps the output open', async () => {
    const r = await runCommand('sleep 20 & echo started', { timeoutMs: 10_000 });
    expect(r.timedOut).toBe(false);
    expect(r.exitCode).toBe(0);
    expect(r.ms).toBeLessThan(5_000);
  });
});

test('execTrigger writes the PKI for {ca} {cert} {key} and removes it afterwards', async () => {
  const pki = createTestPki({ keyType: 'ec', deviceId: 'TRIGGER-DEVICE-1' });
  const t = execTrigger({ command: `${ARGS} {url} {ca} {cert} {key} {deviceId}`, pki });
  try {
    const r = await t.trigger({ url: 'https://127.0.0.1:1/x', timeoutMs: 10_000 });
    const [url, ca, cert, key, id] = args(r.stdout);
    expect([url, id]).toEqual(['https://127.0.0.1:1/x', 'TRIGGER-DEVICE-1']);
    expect(readFileSync(ca, 'utf8')).toBe(pki.ca.certPem);
    expect(readFileSync(cert, 'utf8')).toBe(pki.device.certPem);
    expect(readFileSync(key, 'utf8')).toBe(pki.device.keyPem);
  } finally {
    t.dispose();
  }
  expect(existsSync(t.files.ca)).toBe(false);
});

test.describe('--wait', () => {
  test('the session is over when the server saw it end', async () => {
    const r = await waitTrigger({ url: 'https://127.0.0.1:1/x', timeoutMs: 5_000, serverSawEnd: new Promise((resolve) => setTimeout(resolve, 50)) });
    expect(r).toMatchObject({ exitCode: 0, timedOut: false });
  });

  test('a client that never shows up times out', async () => {
    const r = await waitTrigger({ url: 'https://127.0.0.1:1/x', timeoutMs: 100, serverSawEnd: new Promise(() => undefined) });
    expect(r).toMatchObject({ exitCode: null, timedOut: true });
  });
});
