/**
 * Runs the conformance suites of one mode through Playwright, then turns the report into the exit code of the
 * CLI contract: 0 conforming, 1 a requirement failed (after expectations), 2 the run could not be judged.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { runConfigEnv, type RunConfig } from '../iut/run-config';
import { redactorFor } from '../report/redact';
import { consoleSummary } from '../report/console-summary';
import { resultOf } from '../report/result';
import { readReport, REPORT_FILE, reportSchemaErrors, reportValidator, writeReport } from '../report/report';
import { REPRO_DIR } from '../report/repro';
import { SUMMARY_PAGE, writeSummaryPage } from '../report/summary-page';
import { readTestsFile, TESTS_FILE } from '../report/tests-file';
import { JUNIT_FILE, writeJunit } from '../report/junit';
import { PROJECT_ROOT } from '../paths';
import { applyExpectations, describeOutcome, type ExpectationsFile } from './expectations';

const ROOT = PROJECT_ROOT;
export const SUITE_NAMES = ['setup', 'get-results', 'management-rounds', 'termination', 'auth', 'large-objects', 'robustness', 'security', 'fuzz'];

/** Keeps the last lines of the runner's error output: shown only when the run produced no report. */
const STDERR_LINES = 20;

/**
 * The compiled command (dist/) runs the compiled suites beside it, with the compiled Playwright configuration; the
 * command run from its TypeScript sources runs the TypeScript suites.
 */
const SUITES_ROOT = __filename.endsWith('.js') ? join(ROOT, 'dist') : ROOT;
const SUITE_EXT = __filename.endsWith('.js') ? '.js' : '.ts';
/**
 * Compiled suites are CommonJS throughout: Playwright's loader for ES modules and TypeScript (a loader thread every
 * module resolution goes through) has nothing to do, and is left out.
 */
const RUNNER_ENV: Record<string, string> = SUITE_EXT === '.js' ? { PW_DISABLE_TS_ESM: '1' } : {};

function playwright(config: RunConfig, out: (line: string) => void): Promise<{ code: number | null; stderr: string[] }> {
  const cli = require.resolve('@playwright/test/cli');
  const files = config.suites.map((s) => join('suites', config.mode, `${s}.spec${SUITE_EXT}`));
  const args = [cli, 'test', '--config', join(SUITES_ROOT, `playwright.config${SUITE_EXT}`), `--project=${config.mode}`, ...files];
  if (config.shard) args.push(`--shard=${config.shard}`);
  return new Promise((done) => {
    const child = spawn(process.execPath, args, {
      cwd: SUITES_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...RUNNER_ENV, MDM_CONFORMANCE_MODE: config.mode, ...runConfigEnv(config), MDM_REPORTS_DIR: config.reportsDir, MDM_SHARD: config.shard ?? '', MDM_STRICT: config.strict ? '1' : '', FORCE_COLOR: '0' },
    });
    // stdout carries the conformance log (console-reporter.ts); the runner's own errors are kept for the case where
    // no report came out of the run, and otherwise left to the Playwright HTML report.
    const stderr: string[] = [];
    child.stdout.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) out(line);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) stderr.push(line);
      stderr.splice(0, Math.max(0, stderr.length - STDERR_LINES));
    });
    child.on('close', (code) => done({ code, stderr }));
  });
}

/** What an earlier run left that this run writes anew: none of it may be read as this run's. */
const RUN_OUTPUTS = [REPORT_FILE, TESTS_FILE, SUMMARY_PAGE, JUNIT_FILE, REPRO_DIR, 'allure-results', 'allure-report'];

/** Where an earlier run's outputs wait to be deleted, inside the reports directory (same file system: a rename). */
const EARLIER_RUN_PREFIX = '.earlier-run-';

/**
 * Moves what an earlier run left out of the way at once, and deletes it (and what an interrupted run left set
 * aside) in the background: an earlier report of hundreds of attachments takes a while to delete, and this run
 * need not wait for that.
 */
function setAsideEarlierRun(reportsDir: string): Promise<unknown> {
  const aside = join(reportsDir, `${EARLIER_RUN_PREFIX}${process.pid}`);
  mkdirSync(aside, { recursive: true });
  for (const name of RUN_OUTPUTS) {
    try {
      renameSync(join(reportsDir, name), join(aside, name));
    } catch (e) {
      // Absent is the usual case; anything else is deleted in place, as before.
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') rmSync(join(reportsDir, name), { recursive: true, force: true });
    }
  }
  const leftovers = readdirSync(reportsDir).filter((name) => name.startsWith(EARLIER_RUN_PREFIX));
  return Promise.all(leftovers.map((name) => rm(join(reportsDir, name), { recursive: true, force: true }).catch(() => undefined)));
}

export async function runSuites(config: RunConfig, expectations: { file: string; content: ExpectationsFile } | undefined, out: (line: string) => void): Promise<number> {
  mkdirSync(config.reportsDir, { recursive: true });
  const deleted = setAsideEarlierRun(config.reportsDir);
  const running = playwright(config, out);
  // This process only waits while the suites run: the report's validator is compiled meanwhile.
  setImmediate(reportValidator);
  const { stderr } = await running;
  await deleted;
  return judgeRun(config, expectations, out, stderr);
}

function judgeRun(config: RunConfig, expectations: { file: string; content: ExpectationsFile } | undefined, out: (line: string) => void, stderr: string[] = []): number {
  const reportPath = join(config.reportsDir, REPORT_FILE);
  const redactor = redactorFor(config);
  if (!existsSync(reportPath)) {
    out(`error: the suites produced no report (${reportPath})${stderr.length ? '; the test runner said:' : ''}`);
    for (const line of stderr) out(`  ${line}`);
    return 2;
  }
  const report = readReport(config.reportsDir);
  const schemaErrors = reportSchemaErrors(report);
  if (schemaErrors.length) out(`error: the report does not match its schema: ${schemaErrors.join('; ')}`);
  const expected = expectations ? applyExpectations(report, expectations.file, expectations.content) : undefined;
  if (expected) writeReport(config.reportsDir, report, redactor);
  for (const line of consoleSummary(report)) out(line);
  if (expected) for (const line of describeOutcome(expected)) out(line);
  let code: number;
  if (report.tests.executed === 0) {
    out('error: no test ran, so nothing was judged (check --suite)');
    code = 2;
  } else if (report.tests.harnessErrors.length) {
    for (const e of report.tests.harnessErrors) out(`error: a test could not judge: ${e}`);
    code = 2;
  } else {
    const result = resultOf(report, expected);
    out(result.line);
    code = result.code;
  }
  out(`report: ${reportPath}`);
  try {
    writeJunit(config.reportsDir, report, readTestsFile(config.reportsDir)?.tests ?? [], (t) => (t.scenario ? t.scenario.split('/')[0] : t.phase ?? 'other'), redactor);
    out(`summary page: ${writeSummaryPage(config.reportsDir, redactor)}`);
  } catch (e) {
    // The page explains a run; it never decides one.
    out(`warning: could not write the summary page: ${(e as Error).message}`);
  }
  const repros = join(config.reportsDir, REPRO_DIR);
  if (existsSync(repros)) out(`repro scripts for the failed tests: ${repros}`);
  return schemaErrors.length ? 2 : code;
}
