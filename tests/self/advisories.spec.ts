/**
 * Advisories are seen: a server whose XML parser fetches external entities conforms (the catalogue has no row for
 * it) but the console, index.html (above the requirement tables, and in the banner), JUnit and Allure all say so.
 * The entity canary listens where --canary-listen puts it.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, expect, test } from '@playwright/test';
import { createTestPki, writePki } from '../../harness/pki';
import { faultByName } from '../../harness/protocol/fault';
import { SERVER_WEAKNESSES } from '../../harness/server/faults';
import { ReferenceServer } from '../../harness/server/reference-server';
import { runCli, scaled, type CliRun } from './run-cli';

const CHROMIUM = '/usr/bin/chromium';

test.describe('a security advisory in every report of a conforming run', () => {
  test.describe.configure({ mode: 'default', timeout: scaled(150_000) });
  let work: string;
  let reports: string;
  let run: CliRun;

  test.beforeAll(async () => {
    test.setTimeout(scaled(150_000));
    work = mkdtempSync(join(tmpdir(), 'mdm-advisories-'));
    reports = join(work, 'reports');
    const pki = createTestPki({ keyType: 'ec' });
    writePki(join(work, 'pki'), pki, { force: true });
    const server = new ReferenceServer({ identity: pki.server, ca: pki.ca.certPem, faults: [faultByName(SERVER_WEAKNESSES, 'resolves-external-entities')] });
    await server.start();
    try {
      // Another loopback address than the default: the canary is where --canary-listen says.
      run = await runCli(['test-server', '--url', server.url, '--pki', join(work, 'pki'), '--suite', 'security', '--canary-listen', '127.0.0.2:0', '--reports', reports]);
    } finally {
      await server.stop();
    }
  });
  test.afterAll(() => rmSync(work, { recursive: true, force: true }));

  test('the console and the exit code: conforms, with the advisory listed', () => {
    expect(run.code, run.out).toBe(0);
    expect(run.out).toMatch(/result: CONFORMS, with \d+ security advisor(y|ies)/);
    expect(run.out).toContain('SECURITY ADVISORY xml-external-entity');
    expect(run.out).toContain('http://127.0.0.2:');
  });

  test('JUnit: a property and the output of the test that found it, no failure', () => {
    const junit = readFileSync(join(reports, 'junit.xml'), 'utf8');
    expect(junit).toMatch(/<property name="security-advisory" value="xml-external-entity: /);
    expect(junit).toContain('SECURITY ADVISORY xml-external-entity');
    expect(junit).toMatch(/<testsuites [^>]*failures="0"/);
  });

  test('Allure: a step and a tag on the test that found it', () => {
    const results = readdirSync(join(reports, 'allure-results')).filter((f) => f.endsWith('-result.json'))
      .map((f) => JSON.parse(readFileSync(join(reports, 'allure-results', f), 'utf8')) as { status: string; labels: { name: string; value: string }[]; steps: { name: string; status?: string }[] });
    const found = results.filter((r) => r.steps.some((s) => s.name.startsWith('SECURITY ADVISORY xml-external-entity')));
    expect(found).toHaveLength(1);
    expect(found[0].status).toBe('passed');
    expect(found[0].labels).toContainEqual({ name: 'tag', value: 'security-advisory' });
  });

  test('index.html in Chromium: the advisories above the requirement tables, and the banner names them', async () => {
    test.skip(!existsSync(CHROMIUM), `Chromium from Debian is not installed (${CHROMIUM}): apt-get install chromium (CI installs it, see .ci/run)`);
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
    try {
      const page = await browser.newPage();
      await page.goto(`file://${join(reports, 'index.html')}`);
      await expect(page.locator('body[data-ready="true"]')).toHaveCount(1);
      await expect(page.locator('#verdict')).toContainText(/Conforms, with \d+ security advisor/);
      await expect(page.locator('#advisories tr.advisory[data-probe="xml-external-entity"]').first()).toBeVisible();
      const advisoriesTop = (await page.locator('#advisories').boundingBox())?.y ?? Infinity;
      const requirementsTop = (await page.locator('#requirements').boundingBox())?.y ?? -Infinity;
      const above = advisoriesTop < requirementsTop;
      expect(above, 'the advisories come before the requirement tables').toBe(true);
      // The section column's abbreviations are explained.
      await expect(page.locator('#sources dt', { hasText: 'MS-MDM' })).toHaveCount(1);
    } finally {
      await browser.close();
    }
  });
});
