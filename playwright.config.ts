import { defineConfig, type Project, type ReporterDescription } from '@playwright/test';
import { extname, join } from 'node:path';

/**
 * Projects:
 * - unit: the harness library on its own (codec, checks, PKI, transports, peers).
 * - self: reference peer against reference peer, and the fault matrices that prove every check.
 * - server / client: the conformance suites against an implementation under test. They run only when the CLI
 *   (`test-server` / `test-client`) has configured one, through MDM_CONFORMANCE_MODE and MDM_CONFORMANCE_CONFIG.
 */
const mode = process.env.MDM_CONFORMANCE_MODE;
/**
 * `.ts` here, `.js` in the compiled copy (dist/playwright.config.js), whose suites and reporters are compiled too:
 * the command runs compiled code, `npm test` the sources.
 */
const ext = extname(__filename);
const reportsDir = process.env.MDM_REPORTS_DIR ?? join(__dirname, 'reports');

const projects: Project[] = [
  { name: 'unit', testDir: './tests/unit' },
  { name: 'self', testDir: './tests/self' },
];
if (mode === 'server') projects.push({ name: 'server', testDir: './suites/server' });
if (mode === 'client') projects.push({ name: 'client', testDir: './suites/client' });

// Every report file of a conformance run lands in the reports directory; `npm test` writes none of them. JUnit is
// written by the CLI once the run is judged (expectations applied), beside index.html.
const conformanceReporters: ReporterDescription[] = [
  [`./harness/report/console-reporter${ext}`],
  [`./harness/report/conformance-reporter${ext}`],
  ['html', { outputFolder: join(reportsDir, 'playwright-report'), open: 'never' }],
  // `detail: false` keeps Playwright's own fixture and hook steps out of the Allure steps: the attachments are the story.
  // allure-playwright, writing its files without an fsync each (harness/report/allure-reporter.ts).
  [`./harness/report/allure-reporter${ext}`, { resultsDir: join(reportsDir, 'allure-results'), detail: false }],
  // A shard also leaves a blob report, so `npx playwright merge-reports` can join the shards' HTML reports.
  ...(process.env.MDM_SHARD ? [['blob', { outputDir: join(reportsDir, 'blob-report'), fileName: `shard-${process.env.MDM_SHARD.replace('/', '-of-')}.zip` }] as ReporterDescription] : []),
];

export default defineConfig({
  projects,
  timeout: 60_000,
  expect: { timeout: 5_000 },
  fullyParallel: !mode,
  forbidOnly: !!process.env.CI,
  retries: 0,
  // A vendor's implementation is one shared peer (one enrolled device, one queue): its scenarios run one at a time.
  workers: mode ? 1 : 2,
  reporter: mode ? conformanceReporters : [['list'], ['./harness/report/summary-line-reporter.ts']],
  outputDir: mode ? join(reportsDir, 'test-results') : './test-results',
});
