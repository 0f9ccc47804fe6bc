/**
 * `npm run report [-- --reports DIR]`: builds the Allure 3 report of the last conformance run from
 * `DIR/allure-results` into `DIR/allure-report` (default DIR: ./reports), with the `allure` package (Node, no Java).
 *
 * The report is one self-contained `index.html` grouped by epic (mode) and feature (phase), so it opens from a CI
 * artifact without a web server. Allure's page includes an analytics tag that would load a script from the web
 * when the report is opened; it is removed, since a conformance report holds a vendor's traffic and must read
 * offline.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const ANALYTICS = /\s*<script async src="https:\/\/www\.googletagmanager\.com\/[^"]*"><\/script>\s*<script>\s*window\.dataLayer[\s\S]*?<\/script>/g;

interface AllureStep {
  status?: string;
  stage?: string;
  steps?: AllureStep[];
}

/**
 * Attachments reach the Allure results as steps of their own with no status, which the report shows as "unknown":
 * each takes the status of the step (or test) it belongs to.
 */
function settleStepStatuses(results: string): void {
  const settle = (steps: AllureStep[] | undefined, status: string) => {
    for (const s of steps ?? []) {
      if (!s.status) {
        s.status = status;
        s.stage = 'finished';
      }
      settle(s.steps, s.status);
    }
  };
  for (const name of readdirSync(results).filter((f) => f.endsWith('-result.json'))) {
    const file = join(results, name);
    const result = JSON.parse(readFileSync(file, 'utf8')) as AllureStep;
    settle(result.steps, result.status ?? 'unknown');
    writeFileSync(file, JSON.stringify(result));
  }
}

function main(argv: string[]): number {
  const i = argv.indexOf('--reports');
  const reports = resolve(i >= 0 && argv[i + 1] ? argv[i + 1] : 'reports');
  const results = join(reports, 'allure-results');
  const output = join(reports, 'allure-report');
  if (!existsSync(results)) {
    console.error(`error: no Allure results in ${results}: run npx mdm-conformance test-server (or test-client) first`);
    return 2;
  }
  settleStepStatuses(results);
  const cli = join(dirname(require.resolve('allure')), '..', 'cli.js');
  // Allure writes over an existing report without clearing it: files of an earlier run must not linger.
  rmSync(output, { recursive: true, force: true });
  const dir = mkdtempSync(join(tmpdir(), 'mdm-allure-'));
  const config = join(dir, 'allurerc.json');
  writeFileSync(config, JSON.stringify({
    name: 'MS-MDM conformance',
    plugins: { awesome: { options: { singleFile: true, reportLanguage: 'en', groupBy: ['epic', 'feature'] } } },
  }));
  try {
    const run = spawnSync(process.execPath, [cli, 'generate', results, '--config', config, '--output', output], { stdio: 'inherit' });
    if (run.status !== 0) return run.status ?? 2;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const page = join(output, 'index.html');
  if (existsSync(page)) writeFileSync(page, readFileSync(page, 'utf8').replace(ANALYTICS, ''));
  console.log(`Allure report: ${page}`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
