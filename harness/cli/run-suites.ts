/**
 * Runs the conformance suites of one mode through Playwright, then turns the report into the exit code of the
 * CLI contract: 0 conforming, 1 a requirement failed (after expectations), 2 the run could not be judged.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CONFIG_ENV, writeRunConfig, type RunConfig } from '../iut/run-config';
import { redactorFor } from '../report/redact';
import { readReport, REPORT_FILE, reportSchemaErrors, writeReport } from '../report/report';
import { REPRO_DIR } from '../report/repro';
import { SUMMARY_PAGE, writeSummaryPage } from '../report/summary-page';
import { TESTS_FILE } from '../report/tests-file';
import { applyExpectations, describeOutcome, type ExpectationsFile } from './expectations';

const ROOT = resolve(__dirname, '../..');
export const SUITE_NAMES = ['setup', 'get-results', 'management-rounds', 'termination', 'auth', 'large-objects', 'robustness', 'security', 'fuzz'];

function playwright(config: RunConfig, configPath: string, out: (line: string) => void): Promise<number | null> {
  const cli = require.resolve('@playwright/test/cli');
  const files = config.suites.map((s) => join('suites', config.mode, `${s}.spec.ts`));
  const args = [cli, 'test', '--config', join(ROOT, 'playwright.config.ts'), `--project=${config.mode}`, ...files];
  if (config.shard) args.push(`--shard=${config.shard}`);
  return new Promise((done) => {
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, MDM_CONFORMANCE_MODE: config.mode, [CONFIG_ENV]: configPath, MDM_REPORTS_DIR: config.reportsDir, MDM_SHARD: config.shard ?? '', FORCE_COLOR: '0' },
    });
    const relay = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) out(line);
    };
    child.stdout.on('data', relay);
    child.stderr.on('data', relay);
    child.on('close', (code) => done(code));
  });
}

/** What an earlier run left that this run writes anew: none of it may be read as this run's. */
const RUN_OUTPUTS = [REPORT_FILE, TESTS_FILE, SUMMARY_PAGE, REPRO_DIR, 'allure-results', 'allure-report'];

export async function runSuites(config: RunConfig, expectations: { file: string; content: ExpectationsFile } | undefined, out: (line: string) => void): Promise<number> {
  mkdirSync(config.reportsDir, { recursive: true });
  for (const name of RUN_OUTPUTS) rmSync(join(config.reportsDir, name), { recursive: true, force: true });
  // The run configuration holds credentials: it lives outside the reports directory, which is published.
  const configDir = mkdtempSync(join(tmpdir(), 'mdm-conformance-run-'));
  const configPath = join(configDir, 'run-config.json');
  writeRunConfig(configPath, config);
  try {
    await playwright(config, configPath, out);
  } finally {
    rmSync(configDir, { recursive: true, force: true });
  }
  return judgeRun(config, expectations, out);
}

function judgeRun(config: RunConfig, expectations: { file: string; content: ExpectationsFile } | undefined, out: (line: string) => void): number {
  const reportPath = join(config.reportsDir, REPORT_FILE);
  const redactor = redactorFor(config);
  if (!existsSync(reportPath)) {
    out(`error: the suites produced no report (${reportPath}); see the output above`);
    return 2;
  }
  const report = readReport(config.reportsDir);
  const schemaErrors = reportSchemaErrors(report);
  if (schemaErrors.length) out(`error: the report does not match its schema: ${schemaErrors.join('; ')}`);
  let code: number;
  if (report.tests.executed === 0) {
    out('error: no test ran, so nothing was judged (check --suite)');
    code = 2;
  } else if (report.tests.harnessErrors.length) {
    for (const e of report.tests.harnessErrors) out(`error: a test could not judge: ${e}`);
    code = 2;
  } else if (expectations) {
    const outcome = applyExpectations(report, expectations.file, expectations.content);
    for (const line of describeOutcome(outcome)) out(line);
    code = outcome.unexpected.length || outcome.stale.length ? 1 : 0;
    writeReport(config.reportsDir, report, redactor);
  } else {
    code = report.summary.failed ? 1 : 0;
  }
  const s = report.summary;
  out(`${config.mode === 'server' ? 'server' : 'client'} conformance: ${s.passed} passed, ${s.failed} failed, ${s.inconclusive} inconclusive, ${s.notApplicable} not applicable, ${s.warnings} with warnings`);
  for (const r of report.requirements.filter((x) => x.verdict === 'fail')) out(`  FAIL ${r.id} (${r.level}${r.windowsInterop ? ', Windows interoperability' : ''}): ${r.evidence.split('\n')[0]}`);
  for (const a of report.advisories ?? []) out(`  SECURITY ADVISORY ${a.probe} (no catalogue requirement; does not fail the run): ${a.evidence.split('\n')[0]}`);
  out(`report: ${reportPath}`);
  try {
    out(`summary page: ${writeSummaryPage(config.reportsDir, redactor)}`);
  } catch (e) {
    // The page explains a run; it never decides one.
    out(`warning: could not write the summary page: ${(e as Error).message}`);
  }
  const repros = join(config.reportsDir, REPRO_DIR);
  if (existsSync(repros)) out(`repro scripts for the failed tests: ${repros}`);
  return schemaErrors.length ? 2 : code;
}
