/**
 * The `grade` and `proxy` commands end to end, as a user runs them: graded captures of reference-pair sessions (a
 * HAR, a folder of XML messages, a capture that starts mid-session), bad input refused with the file and the place,
 * a message that is not well-formed judged rather than crashed on; the proxy started, a device session run through
 * it, stopped with SIGINT, its report read; and `test-server --http2` against the embedded and a faulty server.
 */
import { expect, test } from '@playwright/test';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReferenceDevice } from '../../harness/device/reference-device';
import { DEVICE_FAULTS } from '../../harness/device/faults';
import { toHar } from '../../harness/grade';
import { createTestPki, writePki, type TestPki } from '../../harness/pki';
import { faultByName } from '../../harness/protocol/fault';
import { reportSchemaErrors, type ConformanceReport } from '../../harness/report/report';
import type { TestsFile } from '../../harness/report/tests-file';
import { MANAGEMENT_PATH, ReferenceServer } from '../../harness/server/reference-server';
import { SERVER_FAULTS } from '../../harness/server/faults';
import { get, replace } from '../../harness/syncml';
import type { Exchange } from '../../harness/transport';
import { BIN, ROOT, runCli, scaled } from './run-cli';

const scratch = () => mkdtempSync(join(tmpdir(), 'mdm-cli-grade-'));
const report = (dir: string) => JSON.parse(readFileSync(join(dir, 'conformance-report.json'), 'utf8')) as ConformanceReport;
const testsFile = (dir: string) => JSON.parse(readFileSync(join(dir, 'conformance-tests.json'), 'utf8')) as TestsFile;
const row = (r: ConformanceReport, id: string) => r.requirements.find((x) => x.id === id)!;

let pki: TestPki;
let pkiDir: string;

test.beforeAll(() => {
  pki = createTestPki({ keyType: 'ec' });
  pkiDir = scratch();
  writePki(pkiDir, pki, { force: true });
});

/** One session of the reference device against a reference server (with a fault, when named) that queues commands. */
async function referenceSession(serverFault?: string): Promise<Exchange[]> {
  const server = new ReferenceServer({ identity: pki.server, ca: pki.ca.certPem, faults: serverFault ? [faultByName(SERVER_FAULTS, serverFault)] : [] });
  const url = await server.start();
  const device = new ReferenceDevice({ deviceId: pki.deviceId, identity: pki.device, serverCa: pki.ca.certPem, maxMsgSize: 1200 });
  try {
    server.queue(pki.deviceId, get('./DevDetail/SwV'), get('./DevInfo'), replace('./Vendor/MSFT/HarnessCSP/Settings/Name', 'graded', { format: 'chr' }), get('./DevInfo/Lang'), get('./DevDetail/HwV'));
    const run = await device.runSession(url);
    return run.exchanges;
  } finally {
    await device.close();
    await server.stop();
  }
}

test.describe('grade command line', () => {
  test.describe.configure({ timeout: 90_000 });

  test('a HAR of a reference-pair session grades clean: exit 0, every report of a run, one test per session with its messages for the diagram', async () => {
    const dir = scratch();
    const exchanges = await referenceSession();
    const har = join(dir, 'session.har');
    writeFileSync(har, JSON.stringify(toHar(exchanges)));
    const reports = join(dir, 'reports');
    const run = await runCli(['grade', har, '--reports', reports]);
    expect(run.code, run.out).toBe(0);
    expect(run.out).toContain('1 DM session(s) of 1 device(s)');
    expect(run.out).toMatch(/result: CONFORMS/);
    const r = report(reports);
    expect(reportSchemaErrors(r)).toEqual([]);
    expect(r.mode).toBe('grade');
    expect(r.summary.failed).toBe(0);
    expect(r.requirements).toHaveLength(244);
    // Both sides judged: server rows, client rows and both-rows with the side named.
    for (const id of ['MDM-HDR-007', 'MDM-STS-003', 'MDM-HDR-008', 'MDM-CMD-ALT-001', 'MDM-TRN-011', 'MDM-TRN-005']) expect(row(r, id).verdict, id).toBe('pass');
    for (const x of r.requirements.filter((q) => q.verdict === 'inconclusive')) expect(x.reason, x.id).toBeTruthy();
    const tests = testsFile(reports);
    expect(tests.mode).toBe('grade');
    expect(tests.tests).toHaveLength(1);
    const [t] = tests.tests;
    expect(t.title).toContain(`of device ${pki.deviceId}`);
    expect(t.sessions[0].messages).toHaveLength(exchanges.length * 2);
    expect(t.sessions[0].messages.map((m) => m.from)).toEqual(exchanges.flatMap(() => ['device', 'server']));
    expect(t.sessions[0].messages[1].commands.length).toBeGreaterThan(0);
    for (const f of ['junit.xml', 'index.html']) expect(existsSync(join(reports, f)), f).toBe(true);
    expect(readFileSync(join(reports, 'junit.xml'), 'utf8')).toContain(`device ${pki.deviceId}`);
    const page = readFileSync(join(reports, 'index.html'), 'utf8');
    expect(page).toContain('"mode":"grade"');
    expect(page).toContain(t.title);
  });

  test('a faulty server in the capture fails the run (exit 1) with the requirement and the side; --expect turns it green; --role device does not judge it', async () => {
    const dir = scratch();
    writeFileSync(join(dir, 'faulty.har'), JSON.stringify(toHar(await referenceSession('wrong-content-type'))));
    const run = await runCli(['grade', join(dir, 'faulty.har'), '--reports', join(dir, 'r1')]);
    expect(run.code, run.out).toBe(1);
    expect(run.out).toContain('FAIL MDM-TRN-005');
    const trn005 = row(report(join(dir, 'r1')), 'MDM-TRN-005');
    expect(trn005.verdict).toBe('fail');
    expect(trn005.evidence).toMatch(/^server side: msg 2 \(server->device\) Content-Type: "text\/xml/);

    writeFileSync(join(dir, 'expect.json'), JSON.stringify({ expectedFailures: [{ id: 'MDM-TRN-005', reason: 'known' }] }));
    const expected = await runCli(['grade', join(dir, 'faulty.har'), '--reports', join(dir, 'r2'), '--expect', join(dir, 'expect.json')]);
    expect(expected.code, expected.out).toBe(0);

    const deviceOnly = await runCli(['grade', join(dir, 'faulty.har'), '--role', 'device', '--reports', join(dir, 'r3')]);
    expect(deviceOnly.code, deviceOnly.out).toBe(0);
    const r3 = report(join(dir, 'r3'));
    expect(row(r3, 'MDM-HDR-007').reason).toMatch(/--role device judged only the device's messages/);
    expect(row(r3, 'MDM-TRN-005').evidence).not.toMatch(/server side/);
  });

  test('a folder of XML messages that starts mid-session: no failure, the session-start rules inconclusive with the reason, no HTTP rule judged', async () => {
    const dir = scratch();
    const exchanges = await referenceSession();
    const folder = join(dir, 'messages');
    mkdirSync(folder);
    const bodies = exchanges.slice(1).flatMap((x) => [x.request.body, x.response!.body]);
    bodies.forEach((b, i) => writeFileSync(join(folder, `msg${i + 1}.xml`), b));
    const run = await runCli(['grade', folder, '--reports', join(dir, 'r')]);
    expect(run.code, run.out).toBe(0);
    expect(run.out).toContain('(partial capture)');
    const r = report(join(dir, 'r'));
    expect(r.summary.failed).toBe(0);
    expect(row(r, 'MDM-CMD-ALT-001').verdict).toBe('inconclusive');
    expect(row(r, 'MDM-CMD-ALT-001').reason).toMatch(/starts mid-session/);
    expect(row(r, 'MDM-TRN-011').reason).toMatch(/holds no HTTP headers/);
    expect(row(r, 'MDM-STS-003').verdict).toBe('pass');
    expect(testsFile(join(dir, 'r')).tests[0].notes.join('\n')).toContain('the capture starts mid-session');
  });

  test('bad input exits 2 naming the file and the place; a message that is not well-formed is a finding (exit 1), not a crash', async () => {
    const dir = scratch();
    const har = JSON.stringify(toHar(await referenceSession()), null, 1);
    writeFileSync(join(dir, 'cut.har'), har.slice(0, Math.floor(har.length / 2)));
    writeFileSync(join(dir, 'notes.txt'), 'nothing but a log line\nand another\n');
    mkdirSync(join(dir, 'html'));
    writeFileSync(join(dir, 'html', 'page.xml'), '<html><body>login</body></html>');
    const cases: [string[], RegExp][] = [
      [['grade', join(dir, 'cut.har')], /cut\.har \(line \d+ column \d+\): the file ends in the middle of the JSON \(truncated\?\); not a readable HAR file/],
      [['grade', join(dir, 'notes.txt')], /notes\.txt: no <SyncML> document in this file; not SyncML at all/],
      [['grade', join(dir, 'html')], /page\.xml \(whole file\): not a SyncML message: the document starts with <html>/],
      [['grade', join(dir, 'missing.har')], /missing\.har: no such file or directory/],
      [['grade'], /grade needs a INPUT argument/],
      [['grade', dir, '--role', 'client'], /--role takes device, server or both, got "client"/],
    ];
    for (const [args, message] of cases) {
      const run = await runCli([...args, '--reports', join(dir, 'r')]);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.out).toMatch(message);
      expect(run.out).not.toMatch(/\n\s+at .+:\d+:\d+/);
    }
    const folder = join(dir, 'broken');
    mkdirSync(folder);
    const [first] = await referenceSession();
    writeFileSync(join(folder, '1.xml'), first.request.body);
    writeFileSync(join(folder, '2.xml'), first.response!.body.toString('utf8').replace('</SyncHdr>', '</SyncHeader>'));
    const broken = await runCli(['grade', folder, '--reports', join(dir, 'r4')]);
    expect(broken.code, broken.out).toBe(1);
    expect(row(report(join(dir, 'r4')), 'MDM-XML-001').evidence).toMatch(/server side: msg 2 \(server->device\): not a SyncML document: not well-formed XML at line 1, column \d+: <\/SyncHeader> closes <SyncHdr>/);
  });
});

/** The proxy command in its own process: its URL once it listens, its output, and a way to stop it. */
function startProxy(args: string[]): Promise<{ url: string; output: () => string; stop: () => Promise<number | null> }> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, MDM_CONFORMANCE_MODE: '', MDM_CONFORMANCE_CONFIG: '' };
    const child = spawn(process.execPath, [BIN, 'proxy', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env });
    let out = '';
    const exited = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the proxy did not start listening: ${out}`));
    }, scaled(30_000));
    const onData = (c: Buffer) => {
      out += c.toString();
      const m = /judging proxy listening on (https:\/\/\S+),/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({
          url: m[1],
          output: () => out,
          stop: async () => {
            child.kill('SIGINT');
            const kill = setTimeout(() => child.kill('SIGKILL'), scaled(30_000));
            const code = await exited;
            clearTimeout(kill);
            return code;
          },
        });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
  });
}

test.describe('proxy command line', () => {
  test.describe.configure({ timeout: 90_000 });

  async function throughProxy(serverFault: string | undefined, deviceFault: string | undefined, reports: string, extra: string[] = []): Promise<{ code: number | null; out: string; served: ReferenceServer }> {
    const server = new ReferenceServer({
      identity: pki.server, ca: pki.ca.certPem, faults: serverFault ? [faultByName(SERVER_FAULTS, serverFault)] : [],
      // The proxy presents the pki's device identity upstream; the device is judged by its messages.
      behaviour: { matchCertificateToDevice: false },
    });
    const upstream = await server.start();
    const proxy = await startProxy(['--listen', '127.0.0.1:0', '--upstream', upstream, '--pki', pkiDir, '--reports', reports, ...extra]);
    try {
      for (const http2 of [false, true]) {
        const device = new ReferenceDevice({
          deviceId: pki.deviceId, identity: pki.device, serverCa: pki.ca.certPem, http2, timeoutMs: 5_000,
          faults: deviceFault ? [faultByName(DEVICE_FAULTS, deviceFault)] : [],
        });
        try {
          server.queue(pki.deviceId, get('./DevDetail/SwV'), replace('./Vendor/MSFT/HarnessCSP/Settings/Name', 'proxied', { format: 'chr' }));
          const run = await device.runSession(`${proxy.url}${MANAGEMENT_PATH}`);
          expect(run.end.reason).toBe('completed');
        } finally {
          await device.close();
        }
      }
      const code = await proxy.stop();
      return { code, out: proxy.output(), served: server };
    } finally {
      await server.stop();
    }
  }

  test('a clean device and server through the proxy: one line per session, exit 0 on SIGINT, a proxy report with both sides judged', async () => {
    const reports = scratch();
    const { code, out, served } = await throughProxy(undefined, undefined, reports);
    expect(code, out).toBe(0);
    expect(out.match(/^session \S+ of device .*: \d+ exchange\(s\): pass;/gm), out).toHaveLength(2);
    expect(served.transcript.exchanges.map((x) => x.httpVersion)).toContain('2');
    const r = report(reports);
    expect(reportSchemaErrors(r)).toEqual([]);
    expect(r.mode).toBe('proxy');
    expect(r.summary.failed).toBe(0);
    for (const id of ['MDM-HDR-011', 'MDM-HDR-007', 'MDM-HDR-008', 'MDM-TRN-011', 'MDM-STS-004']) expect(row(r, id).verdict, id).toBe('pass');
    expect(testsFile(reports).tests).toHaveLength(2);
    expect(existsSync(join(reports, 'index.html'))).toBe(true);
  });

  test('a faulty server and a faulty device behind the proxy are both in its report (exit 1)', async () => {
    const reports = scratch();
    const { code, out } = await throughProxy('sessionid-not-echoed', 'wrong-content-type', reports, ['--max-sessions', '5']);
    expect(code, out).toBe(1);
    expect(out).toMatch(/FAIL MDM-HDR-007/);
    const r = report(reports);
    expect(row(r, 'MDM-HDR-007').verdict).toBe('fail');
    expect(row(r, 'MDM-HDR-007').evidence).toMatch(/msg \d+ \(server->device\) \/SyncHdr\/SessionID/);
    expect(row(r, 'MDM-TRN-005').verdict).toBe('fail');
    expect(row(r, 'MDM-TRN-005').evidence).toMatch(/device side: msg 1 \(device->server\) Content-Type: "text\/xml"/);
  });

  test('--max-sessions stops the proxy by itself after that many judged sessions', async () => {
    const reports = scratch();
    const server = new ReferenceServer({ identity: pki.server, ca: pki.ca.certPem, behaviour: { matchCertificateToDevice: false } });
    const upstream = await server.start();
    try {
      const env = { ...process.env, MDM_CONFORMANCE_MODE: '', MDM_CONFORMANCE_CONFIG: '' };
      const child = spawn(process.execPath, [BIN, 'proxy', '--listen', '127.0.0.1:0', '--upstream', upstream, '--pki', pkiDir, '--reports', reports, '--max-sessions', '1'], { cwd: ROOT, env });
      let out = '';
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(out)), scaled(30_000));
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          const m = /judging proxy listening on (https:\/\/\S+),/.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]);
          }
        });
      });
      const exited = new Promise<number | null>((done) => child.on('close', done));
      const device = new ReferenceDevice({ deviceId: pki.deviceId, identity: pki.device, serverCa: pki.ca.certPem });
      try {
        await device.runSession(`${url}${MANAGEMENT_PATH}`);
      } finally {
        await device.close();
      }
      const kill = setTimeout(() => child.kill('SIGKILL'), scaled(30_000));
      expect(await exited, out).toBe(0);
      clearTimeout(kill);
      expect(report(reports).tests.executed).toBe(1);
    } finally {
      await server.stop();
    }
  });

  test('bad usage exits 2 with one line', async () => {
    const cases: [string[], RegExp][] = [
      [['proxy', '--pki', pkiDir], /--upstream URL is required/],
      [['proxy', '--upstream', 'ftp://x', '--pki', pkiDir], /--upstream must be an https:\/\/ URL/],
      [['proxy', '--upstream', 'https://127.0.0.1:1'], /needs a server identity the device trusts: pass --pki DIR/],
      [['proxy', '--upstream', 'https://127.0.0.1:1', '--pki', pkiDir, '--listen', 'nowhere'], /--listen takes HOST:PORT/],
      [['proxy', '--upstream', 'https://127.0.0.1:1', '--pki', pkiDir, '--max-sessions', '0'], /--max-sessions takes a positive whole number/],
    ];
    for (const [args, message] of cases) {
      const run = await runCli(args, scaled(30_000));
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.out).toMatch(message);
    }
  });
});

test.describe('test-server over HTTP/2', () => {
  test.describe.configure({ timeout: 180_000 });

  test('--http2 against the embedded reference server conforms (exit 0)', async () => {
    const reports = scratch();
    const run = await runCli(['test-server', '--http2', '--suite', 'setup', '--suite', 'large-objects', '--suite', 'robustness', '--reports', reports]);
    expect(run.code, run.out).toBe(0);
    expect(report(reports).summary.failed).toBe(0);
  });

  for (const fault of ['content-length-too-large', 'content-length-too-small']) {
    test(`--http2 against a served reference server whose h2 framing is broken (${fault}) fails MDM-XML-001 (exit 1)`, async () => {
      const server = new ReferenceServer({ identity: pki.server, ca: pki.ca.certPem, faults: [faultByName(SERVER_FAULTS, fault)] });
      await server.start();
      try {
        const reports = scratch();
        const run = await runCli(['test-server', '--http2', '--url', server.url, '--pki', pkiDir, '--suite', 'setup', '--reports', reports]);
        expect(run.code, run.out).toBe(1);
        expect(run.out).toContain('FAIL MDM-XML-001');
        expect(row(report(reports), 'MDM-XML-001').evidence).toMatch(/Content-Length/);
        expect(server.transcript.exchanges.filter((x) => x.request.method).every((x) => x.httpVersion === '2')).toBe(true);
      } finally {
        await server.stop();
      }
    });
  }
});
