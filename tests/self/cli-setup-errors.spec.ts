/**
 * Setup problems are not verdicts (CLI contract, exit 2): a typo in the command line, a server that is silent, that
 * answers 404 for a wrong path or 403 for an identity it does not trust, a client that never comes. Each ends the
 * run in seconds with one line naming the cause, never a stack trace and never a report of failed requirements.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { commandSpecs } from '../../harness/cli/commands';
import { createTestPki, writePki, type TestPki } from '../../harness/pki';
import { ReferenceServer } from '../../harness/server/reference-server';
import { runCli, scaled } from './run-cli';

const STACK_FRAME = /\n\s+at .+:\d+:\d+/;

let work: string;
let pki: TestPki;
let pkiDir: string;
test.beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'mdm-setup-errors-'));
  pki = createTestPki({ keyType: 'ec' });
  pkiDir = join(work, 'pki');
  writePki(pkiDir, pki, { force: true });
});
test.afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Exit 2 with exactly one `error:` or usage line naming the cause, no stack, and no verdict. */
function expectSetupError(run: { code: number | null; out: string }, cause: RegExp): void {
  expect(run.code, run.out).toBe(2);
  expect(run.out).toMatch(cause);
  expect(run.out).not.toMatch(STACK_FRAME);
  expect(run.out).not.toMatch(/DOES NOT CONFORM|result: CONFORMS/);
}

test('positional arguments and single-dash options are usage errors on every command', async () => {
  test.setTimeout(scaled(120_000));
  const cases: [string[], RegExp][] = [
    [['test-server', 'https://mdm.example.test/ManagementServer/MDM.svc', '--pki', 'pki'], /unexpected argument "https:\/\/mdm\.example\.test\/ManagementServer\/MDM\.svc": test-server takes options only; did you mean --url/],
    [['test-server', '-u', 'https://mdm.example.test/x'], /"-u" is not an option: options are spelled out with two dashes/],
    [['test-client', '-h'], /"-h" is not an option: options are spelled out with two dashes \(--help/],
    [['serve', 'now'], /unexpected argument "now"/],
    [['device', '-x'], /"-x" is not an option/],
    [['load', '--sessions', '5', '--duration', '10s'], /--sessions and --duration|exclude each other/],
    [['test-client', '--listen', '127.0.0.1:8443'], /--listen .*is for --trigger or --wait/],
    [['test-server', '--client-credentials', 'u:p'], /--client-credentials.*only with --auth/],
  ];
  for (const [args, cause] of cases) {
    const run = await runCli(args, scaled(30_000));
    expect(run.code, `${args.join(' ')}\n${run.out}`).toBe(2);
    expect(run.out, args.join(' ')).toMatch(cause);
    expect(run.out).not.toMatch(STACK_FRAME);
    expect(run.out.trim().split('\n'), `${args.join(' ')}: one line`).toHaveLength(1);
  }
});

test('--help on every command lists every option with its default, and --version answers', async () => {
  test.setTimeout(scaled(120_000));
  for (const spec of commandSpecs()) {
    const run = await runCli([...spec.name.split(' '), '--help'], scaled(30_000));
    expect(run.code, run.out).toBe(0);
    const text = run.out.replace(/\s+/g, ' '); // help wraps long lines
    for (const flag of spec.flags) {
      expect(text, `${spec.name} --help names --${flag.name}`).toContain(`--${flag.name}`);
      if (flag.default) expect(text, `${spec.name} --help gives the default of --${flag.name}`).toContain(flag.default.replace(/\s+/g, ' '));
    }
  }
  const version = await runCli(['--version'], scaled(30_000));
  expect(version.code).toBe(0);
  expect(version.out).toMatch(/^mdm-conformance \d+\.\d+\.\d+/);
});

test('a silent server: exit 2 within twice the request timeout, one line, no stack', async () => {
  test.setTimeout(scaled(60_000));
  // Accepts connections and never says a word: no TLS handshake, no HTTP.
  const sockets: Socket[] = [];
  const silent = createServer((s) => sockets.push(s));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const { port } = silent.address() as { port: number };
  try {
    const started = Date.now();
    const run = await runCli(['test-server', '--url', `https://127.0.0.1:${port}/ManagementServer/MDM.svc`, '--pki', pkiDir, '--timeout', '1000', '--reports', join(work, 'silent')], scaled(60_000));
    const took = Date.now() - started;
    expectSetupError(run, /^error: .*(did not answer within 1000 ms|no connection|timed out|timeout)/m);
    // Start-up of the command aside, the preflight gives up within 2 × --timeout.
    expect(took, run.out).toBeLessThan(scaled(2 * 1000 + 8_000));
  } finally {
    for (const s of sockets) s.destroy();
    silent.close();
  }
});

test('a wrong URL path (HTTP 404) and a server that refuses the valid identity (HTTP 403): exit 2 with the cause and the remedy', async () => {
  test.setTimeout(scaled(90_000));
  // The server's own PKI: it trusts another CA than the one that issued the harness's device identity.
  const other = createTestPki({ keyType: 'ec' });
  const server = new ReferenceServer({ identity: pki.server, ca: other.ca.certPem });
  const url = await server.start();
  try {
    const wrongPath = await runCli(['test-server', '--url', url.replace('/ManagementServer/MDM.svc', '/mdm'), '--pki', pkiDir, '--reports', join(work, '404')], scaled(60_000));
    expectSetupError(wrongPath, /^error: HTTP 404 for \/mdm: wrong URL path; the management endpoint of a Windows MDM server is usually \/ManagementServer\/MDM\.svc/m);
    const untrusted = await runCli(['test-server', '--url', url, '--pki', pkiDir, '--reports', join(work, '403')], scaled(60_000));
    expectSetupError(untrusted, /^error: the server refused the valid device identity with HTTP 403: your server does not trust the test CA/m);
  } finally {
    await server.stop();
  }
});

test('test-client --wait with no client: exit 2 once --wait-timeout has passed, saying where the client was expected', async () => {
  test.setTimeout(scaled(60_000));
  const run = await runCli(['test-client', '--wait', '--wait-timeout', '2s', '--pki', pkiDir, '--reports', join(work, 'wait')], scaled(60_000));
  expectSetupError(run, /^error: no client connected to https:\/\/127\.0\.0\.1:\d+\/ManagementServer\/MDM\.svc within 2 s \(--wait-timeout\)/m);
});

test('load against a server that refuses connections: exit 2, not a TERM-003 failure', async () => {
  test.setTimeout(scaled(60_000));
  const run = await runCli(['load', '--url', 'https://127.0.0.1:9/ManagementServer/MDM.svc', '--pki', pkiDir, '--sessions', '2', '--reports', join(work, 'load')], scaled(60_000));
  expectSetupError(run, /connection refused/);
  expect(run.out).not.toContain('MDM-TERM-003');
});
