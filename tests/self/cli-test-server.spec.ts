import { expect, test } from '@playwright/test';
import { expectEveryRowAccountedFor, runCli, scaled } from './run-cli';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestPki, writePki } from '../../harness/pki';
import { reportSchemaErrors, type ConformanceReport } from '../../harness/report/report';
import { faultByName } from '../../harness/protocol/fault';
import { SERVER_FAULTS } from '../../harness/server/faults';
import { ReferenceServer } from '../../harness/server/reference-server';



const scratch = () => mkdtempSync(join(tmpdir(), 'mdm-cli-test-'));
const report = (dir: string) => JSON.parse(readFileSync(join(dir, 'conformance-report.json'), 'utf8')) as ConformanceReport;

test.describe('test-server command line (CLI contract)', () => {
  test.describe.configure({ timeout: scaled(90_000) });

  test('without --url it tests the embedded reference server: exit 0, schema-valid report accounting for every server row, nothing failed', async () => {
    const reports = scratch();
    const run = await runCli(['test-server', '--reports', reports]);
    expect(run.code, run.out).toBe(0);
    const r = report(reports);
    expect(reportSchemaErrors(r)).toEqual([]);
    expect(r.summary.failed).toBe(0);
    expectEveryRowAccountedFor(r, 'server');
    // Every report of the run lands in the reports directory; nothing there is left for a repro, since nothing failed.
    for (const f of ['junit.xml', 'index.html', 'conformance-tests.json', 'playwright-report/index.html']) expect(existsSync(join(reports, f)), f).toBe(true);
    expect(readdirSync(join(reports, 'allure-results')).filter((f) => f.endsWith('-result.json')).length).toBeGreaterThanOrEqual(r.tests.executed);
    expect(existsSync(join(reports, 'repro'))).toBe(false);
  });

  test.describe('against a served reference server', () => {
    let server: ReferenceServer;
    let pkiDir: string;
    const faulty = faultByName(SERVER_FAULTS, 'sessionid-not-echoed');

    test.beforeAll(async () => {
      const pki = createTestPki({ keyType: 'ec' });
      pkiDir = scratch();
      writePki(pkiDir, pki, { force: true });
      server = new ReferenceServer({ identity: pki.server, ca: pki.ca.certPem, faults: [faulty] });
      await server.start();
    });
    test.afterAll(async () => server.stop());

    test('a fault makes the run exit 1 with the violated requirement reported (MDM-HDR-007)', async () => {
      const reports = scratch();
      const run = await runCli(['test-server', '--url', server.url, '--pki', pkiDir, '--suite', 'setup', '--reports', reports]);
      expect(run.code, run.out).toBe(1);
      expect(run.out).toContain('FAIL MDM-HDR-007');
      const row = report(reports).requirements.find((x) => x.id === 'MDM-HDR-007')!;
      expect(row.verdict).toBe('fail');
      expect(row.evidence).toMatch(/msg \d+ \(server->device\) \/SyncHdr\/SessionID/);
    });

    test('an expected failure passes the run; a stale expectation fails it and says which entry to remove', async () => {
      const dir = scratch();
      const met = join(dir, 'met.json');
      writeFileSync(met, JSON.stringify({ expectedFailures: [{ id: 'MDM-HDR-007', reason: 'known, fixed in 2.1' }] }));
      const ok = await runCli(['test-server', '--url', server.url, '--pki', pkiDir, '--suite', 'setup', '--reports', join(dir, 'r1'), '--expect', met]);
      expect(ok.code, ok.out).toBe(0);
      expect(report(join(dir, 'r1')).expectations?.met).toEqual([{ id: 'MDM-HDR-007', reason: 'known, fixed in 2.1' }]);
      // The summary page is written once the expectations are applied.
      expect(readFileSync(join(dir, 'r1', 'index.html'), 'utf8')).toContain('"met":[{"id":"MDM-HDR-007"');

      const stale = join(dir, 'stale.json');
      writeFileSync(stale, JSON.stringify({ expectedFailures: [{ id: 'MDM-HDR-007', reason: 'known' }, { id: 'MDM-STS-003', reason: 'was broken' }] }));
      const bad = await runCli(['test-server', '--url', server.url, '--pki', pkiDir, '--suite', 'setup', '--reports', join(dir, 'r2'), '--expect', stale]);
      expect(bad.code, bad.out).toBe(1);
      expect(bad.out).toContain('stale expectation MDM-STS-003 no longer fails: remove {"id": "MDM-STS-003"');
    });
  });

  test('an unreachable server exits 2 and says why', async () => {
    const pkiDir = scratch();
    writePki(pkiDir, createTestPki({ keyType: 'ec' }), { force: true });
    const run = await runCli(['test-server', '--url', 'https://127.0.0.1:9/ManagementServer/MDM.svc', '--pki', pkiDir, '--reports', scratch()]);
    expect(run.code).toBe(2);
    expect(run.out).toContain('connection refused by 127.0.0.1:9');
  });

  test('bad usage exits 2 with a one-line message, never a stack trace', async () => {
    const cases: [string[], RegExp][] = [
      [['test-server', '--bogus'], /unknown option --bogus/],
      [['test-server', '--suite', 'nope'], /unknown suite "nope"; suites: setup, get-results/],
      [['test-server', '--url', 'https://127.0.0.1:1/x'], /needs an identity the server trusts: pass --pki DIR/],
      [['test-server', '--expect', '/nonexistent/expect.json'], /--expect \/nonexistent\/expect.json: ENOENT|no such file/],
      [['frobnicate'], /unknown command "frobnicate"/],
      // A name every object inherits is no command either.
      [['constructor'], /unknown command "constructor"/],
    ];
    const dir = scratch();
    const profile = join(dir, 'profile.json');
    writeFileSync(profile, JSON.stringify({ features: { largeObject: true } }));
    cases.push([['test-server', '--profile', profile], /profile .*profile.json: \/features: unknown field "largeObject"/]);
    for (const [args, message] of cases) {
      const run = await runCli(args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.out).toMatch(message);
      expect(run.out).not.toMatch(/\n\s+at .+:\d+:\d+/);
    }
    const help = await runCli(['--help', 'toString']);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/^usage: mdm-conformance <command>/);
  });
});
