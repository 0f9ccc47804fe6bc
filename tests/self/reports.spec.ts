// What a failed run leaves in reports/: every report file, none of the secrets, a repro script that reproduces the
// failure with curl alone, and a summary page that a real browser draws without errors.
import { chromium, expect, test, type Page } from '@playwright/test';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { createTestPki, writePki } from '../../harness/pki';
import { faultByName } from '../../harness/protocol/fault';
import { basicCredential, userPasswordHash } from '../../harness/protocol/auth';
import { reportSchemaErrors, type ConformanceReport } from '../../harness/report/report';
import type { TestsFile } from '../../harness/report/tests-file';
import { SERVER_FAULTS } from '../../harness/server/faults';
import { ReferenceServer } from '../../harness/server/reference-server';
import { parseSyncML } from '../../harness/syncml';
import { ROOT, runCli, scaled } from './run-cli';

const CHROMIUM = '/usr/bin/chromium';
const CURL = '/usr/bin/curl';
const USER = 'vendor-dev';
const PASSWORD = 'pa55-word!';

function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? { ...process.env, MDM_CONFORMANCE_MODE: '', MDM_CONFORMANCE_CONFIG: '' } });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 90_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** The entries of a zip archive (stored or deflated), read from its central directory. */
function unzip(buf: Buffer): Buffer[] {
  const end = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (end < 0) return [];
  const out: Buffer[] = [];
  let p = buf.readUInt32LE(end + 16);
  for (let i = buf.readUInt16LE(end + 10); i > 0 && buf.readUInt32LE(p) === 0x02014b50; i--) {
    const local = buf.readUInt32LE(p + 42);
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const data = buf.subarray(start, start + buf.readUInt32LE(p + 20));
    out.push(buf.readUInt16LE(p + 10) === 8 ? inflateRawSync(data) : data);
    p += 46 + buf.readUInt16LE(p + 28) + buf.readUInt16LE(p + 30) + buf.readUInt16LE(p + 32);
  }
  return out;
}

/**
 * Every text a file holds, including what is packed inside it: the Playwright HTML report keeps its data in a
 * base64 zip, the single-file Allure report its data files as base64 strings.
 */
function textsOf(buf: Buffer, depth = 0): string[] {
  const text = buf.toString('utf8');
  const texts = [text];
  if (depth >= 2) return texts;
  if (buf.subarray(0, 4).equals(Buffer.from([0x50, 0x4b, 0x03, 0x04]))) for (const entry of unzip(buf)) texts.push(...textsOf(entry, depth + 1));
  for (const m of text.matchAll(/[A-Za-z0-9+/]{40,}={0,2}/g)) {
    const decoded = Buffer.from(m[0], 'base64');
    if (decoded.subarray(0, 4).equals(Buffer.from([0x50, 0x4b, 0x03, 0x04]))) texts.push(...textsOf(decoded, depth + 1));
    else if (/^[\x09\x0a\x0d\x20-\x7e]{16}/.test(decoded.toString('latin1'))) texts.push(...textsOf(decoded, depth + 1));
  }
  return texts;
}

test.describe('reports of a failed run against a faulty reference server with MD5 auth', () => {
  test.describe.configure({ mode: 'default', timeout: scaled(150_000) });

  let server: ReferenceServer;
  let pkiDir: string;
  let reports: string;
  let result: { code: number | null; out: string };
  let report: ConformanceReport;

  test.beforeAll(async () => {
    test.setTimeout(scaled(150_000));
    const pki = createTestPki({ keyType: 'ec' });
    pkiDir = mkdtempSync(join(tmpdir(), 'mdm-reports-pki-'));
    writePki(pkiDir, pki, { force: true });
    server = new ReferenceServer({
      identity: pki.server, ca: pki.ca.certPem, faults: [faultByName(SERVER_FAULTS, 'sessionid-not-echoed')],
      clientAuth: { scheme: 'syncml:auth-md5', user: USER, password: PASSWORD },
    });
    await server.start();
    reports = mkdtempSync(join(tmpdir(), 'mdm-reports-'));
    result = await runCli(['test-server', '--url', server.url, '--pki', pkiDir, '--auth', 'md5', '--client-credentials', `${USER}:${PASSWORD}`, '--reports', reports]);
    if (!existsSync(join(reports, 'conformance-report.json'))) throw new Error(`test-server wrote no report (exit ${result.code}); its output:\n${result.out}`);
    report = JSON.parse(readFileSync(join(reports, 'conformance-report.json'), 'utf8')) as ConformanceReport;
    // The Allure report too, so its single file is searched for secrets like everything else.
    const allure = spawnSync(process.execPath, [require.resolve('tsx/cli'), join(ROOT, 'scripts/allure-report.ts'), '--reports', reports], { encoding: 'utf8' });
    if (allure.status !== 0) throw new Error(`npm run report failed: ${allure.stdout}${allure.stderr}`);
  });
  test.afterAll(async () => server?.stop());

  test('reports/ holds the schema-valid JSON report, JUnit XML, Allure results and report, the Playwright HTML report and index.html', () => {
    expect(result.code, result.out).toBe(1);
    expect(reportSchemaErrors(report)).toEqual([]);
    const row = report.requirements.find((r) => r.id === 'MDM-HDR-007')!;
    expect(row.verdict).toBe('fail');
    expect(row.url).toMatch(/^https:\/\//);
    expect(row.locations?.[0]).toMatchObject({ message: 'msg 2 (server->device)', element: '/SyncHdr/SessionID' });
    for (const f of ['junit.xml', 'index.html', 'conformance-tests.json', 'playwright-report/index.html', 'allure-report/index.html']) expect(existsSync(join(reports, f)), f).toBe(true);
    expect(readFileSync(join(reports, 'junit.xml'), 'utf8')).toMatch(/<testsuites [^>]*failures="[1-9]/);

    // Allure: labels, links and parameters on the test that found the fault, and its transcript attached.
    const results = readdirSync(join(reports, 'allure-results')).filter((f) => f.endsWith('-result.json')).map((f) => JSON.parse(readFileSync(join(reports, 'allure-results', f), 'utf8')));
    const minimal = results.find((r) => r.name === 'sends a Windows package 1 with nothing queued and judges the reply and the close');
    expect(minimal.status).toBe('failed');
    const labels = (name: string) => minimal.labels.filter((l: { name: string }) => l.name === name).map((l: { value: string }) => l.value);
    expect(labels('epic')).toEqual(['server']);
    expect(labels('feature')).toEqual(['setup']);
    expect(labels('story')).toContainEqual(expect.stringMatching(/^MDM-HDR-007 \(MUST\): The server copies the device's SessionID/));
    expect(labels('severity')).toEqual(['critical']);
    expect(minimal.links.map((l: { name: string }) => l.name)).toContain('MDM-HDR-007 (OMA-DMP 8.4–8.6; CAP)');
    expect(minimal.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['server URL', 'device id', 'profile']));
    const attachments = JSON.stringify(minimal.steps);
    for (const name of ['msg 1 device->server.xml', 'msg 2 server->device.xml', 'conformance-transcript', 'repro.sh']) expect(attachments).toContain(name);

    // Every failed test left a repro folder; the tests file says where.
    const tests = (JSON.parse(readFileSync(join(reports, 'conformance-tests.json'), 'utf8')) as TestsFile).tests;
    const failed = tests.filter((t) => t.status === 'failed');
    expect(failed.length).toBeGreaterThan(0);
    for (const t of failed) expect(existsSync(join(reports, t.repro!)), t.title).toBe(true);
  });

  test('no file under reports/ holds the test PKI\'s private keys, the Cred values or the credentials', () => {
    const credValues = new Set<string>();
    for (const x of server.transcript.exchanges) {
      const data = x.request.parsed?.message.hdr.cred?.data?.text.trim();
      if (data) credValues.add(data);
    }
    expect(credValues.size, 'the run sent MD5 credentials').toBeGreaterThan(2);
    const keyLines = ['ca-key.pem', 'server-key.pem', 'device-key.pem'].flatMap((f) =>
      readFileSync(join(pkiDir, f), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l.length >= 16 && !l.startsWith('-----')));
    expect(keyLines.length).toBeGreaterThan(5);
    const secrets = [...credValues, ...keyLines, PASSWORD, basicCredential(USER, PASSWORD), userPasswordHash(USER, PASSWORD)];

    const files = filesUnder(reports);
    expect(files.length).toBeGreaterThan(50);
    const leaks: string[] = [];
    let searched = 0;
    for (const file of files) {
      for (const text of textsOf(readFileSync(file))) {
        searched++;
        for (const s of secrets) if (text.includes(s)) leaks.push(`${file.slice(reports.length + 1)}: ${s.slice(0, 12)}…`);
        for (const m of text.matchAll(/<Cred\b[^/>]*>[\s\S]*?<Data\b[^>]*>([^<]*)<\/Data>/g)) if (m[1] !== '[redacted]') leaks.push(`${file.slice(reports.length + 1)}: Cred Data ${m[1]}`);
        // The one exception: a repro folder keeps the throwaway identities (minted for this run's auth cases) that its
        // sessions presented, so the replay presents them too; the test PKI's own keys are checked above, everywhere.
        const mintedForReplay = /\/repro\/[^/]+\/identity-\d+-key\.pem$/.test(file);
        if (!mintedForReplay && /-----BEGIN [A-Z ]*PRIVATE KEY-----(?!(?:\r?\n|\\n)\[redacted\])/.test(text)) leaks.push(`${file.slice(reports.length + 1)}: a private key block`);
      }
    }
    // The packed reports were opened, not just skipped over.
    expect(searched).toBeGreaterThan(files.length);
    expect([...new Set(leaks)]).toEqual([]);
  });

  test('the repro script of a failed test, run alone with curl, reproduces the failing response', async () => {
    test.skip(!existsSync(CURL), `curl is not installed (${CURL}): the repro scripts replay with curl`);
    test.skip(spawnSync('openssl', ['version']).status !== 0, 'openssl is not installed: the repro script needs it to rebuild the MD5 credentials');
    // Copied away from the reports, and run with nothing of the harness in its environment.
    const dir = mkdtempSync(join(tmpdir(), 'mdm-repro-'));
    cpSync(join(reports, 'repro', 'setup-minimal-session'), dir, { recursive: true });
    const replay = await run('bash', [join(dir, 'repro.sh')], { env: { PATH: '/usr/bin:/bin', MDM_USER: USER, MDM_PASSWORD: PASSWORD }, timeoutMs: 60_000 });
    expect(replay.code, replay.out).toBe(0);
    expect(replay.out).toMatch(/s1-msg2 <- s1-msg1\.xml: HTTP 200/);

    const sent = parseSyncML(readFileSync(join(dir, 's1-msg1.xml'))).message;
    const reply = parseSyncML(readFileSync(join(dir, 'responses', 's1-msg2.xml'))).message;
    // The failure: the server answers under a SessionID of its own (MDM-HDR-007), exactly as the harness saw it.
    expect(sent.hdr.sessionID).not.toBe('FFFF');
    expect(reply.hdr.sessionID).toBe('FFFF');
    expect(readFileSync(join(dir, 's1-msg2.recorded.xml'), 'utf8')).toContain('<SessionID>FFFF</SessionID>');
    // The redacted Cred was rebuilt from MDM_USER/MDM_PASSWORD and the replay's own nonce: the server accepted it.
    const second = parseSyncML(readFileSync(join(dir, 'responses', 's1-msg4.xml'))).message;
    const hdrStatus = second.body.commands.find((c) => c.kind === 'Status' && c.cmdRef?.trim() === '0');
    expect(hdrStatus && 'data' in hdrStatus ? hdrStatus.data?.text : undefined).toBe('212');
  });

  test('the summary page in Chromium: loads without errors or network, counts equal the report, the filter works', async ({}, testInfo) => {
    test.skip(!existsSync(CHROMIUM), `Chromium from Debian is not installed (${CHROMIUM}): apt-get install chromium (CI installs it, see .ci/run)`);
    const browser = await chromium.launch({
      executablePath: CHROMIUM, headless: true,
      // chromium.launch gives every browser a new, temporary user-data-dir.
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      const problems: string[] = [];
      page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('request', (r) => !/^(file|data):/.test(r.url()) && problems.push(`network: ${r.url()}`));
      await page.goto(`file://${join(reports, 'index.html')}`);
      await expect(page.locator('body[data-ready="true"]')).toHaveCount(1);

      const s = report.summary;
      const count = (v: string) => page.locator(`[data-count="${v}"]`).textContent();
      expect(await count('pass')).toBe(String(s.passed));
      expect(await count('fail')).toBe(String(s.failed));
      expect(await count('warn')).toBe(String(s.warned));
      expect(await count('inconclusive')).toBe(String(s.inconclusive));
      expect(await count('not-applicable')).toBe(String(s.notApplicable));
      const phaseTotals = await page.locator('[data-phase-total]').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-phase-total'))));
      expect(phaseTotals.reduce((a, b) => a + b, 0)).toBe(report.requirements.length);

      const visible = (page: Page) => page.locator('tr.req:visible');
      for (const [filter, n] of [['fail', s.failed], ['pass', s.passed], ['inconclusive', s.inconclusive], ['all', report.requirements.length]] as const) {
        await page.locator(`button[data-filter="${filter}"]`).click();
        await expect(visible(page)).toHaveCount(n);
        await expect(page.locator('#filter-status')).toHaveAttribute('data-shown', String(n));
        if (filter !== 'all') expect(await visible(page).evaluateAll((rows) => rows.map((r) => r.getAttribute('data-verdict')))).toEqual(Array(n).fill(filter));
      }
      await page.locator('button[data-filter="fail"]').click();

      // The failing test is open: its sequence diagram marks the SyncHdr of the server's reply and draws the
      // Status -> command arrows.
      const failing = page.locator('details.test[open]').filter({ hasText: 'sends a Windows package 1' });
      await expect(failing).toHaveCount(1);
      await expect(failing.locator('.from-server .card.bad .row.hdr.bad[data-path="/SyncHdr"]').first()).toBeVisible();
      await expect(failing.locator('.mark-note').first()).toContainText('MDM-HDR-007');
      await expect.poll(() => failing.locator('svg.refs path[data-from]').count()).toBeGreaterThan(3);
      await failing.locator('.from-server .card.bad').first().scrollIntoViewIfNeeded();
      await testInfo.attach('summary page (failed filter, failing test)', { body: await page.screenshot(), contentType: 'image/png' });
      await page.locator('h1').scrollIntoViewIfNeeded();
      await testInfo.attach('summary page (top)', { body: await page.screenshot(), contentType: 'image/png' });
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
