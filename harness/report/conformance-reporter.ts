/**
 * Playwright reporter of conformance runs: collects the findings every test attached, grades them into one verdict
 * per requirement, and writes `conformance-report.json` (CLI contract) into the reports directory.
 */
import type { FullResult, Reporter, TestCase, TestResult } from '@playwright/test/reporter';
import { readRunConfig } from '../iut/run-config';
import type { Finding } from '../checks/finding';
import { buildReport, writeReport } from './report';
import type { TestFindings } from './verdicts';

const FINDINGS_ATTACHMENT = 'conformance-findings';

export default class ConformanceReporter implements Reporter {
  private readonly results: TestFindings[] = [];
  private executed = 0;
  private readonly errors: string[] = [];

  onTestEnd(test: TestCase, result: TestResult): void {
    if (result.status !== 'skipped') this.executed++;
    const attachment = result.attachments.find((a) => a.name === FINDINGS_ATTACHMENT && a.body);
    if (attachment) {
      const { findings } = JSON.parse(attachment.body!.toString('utf8')) as { findings: Finding[] };
      this.results.push({ test: test.title, findings });
    } else if (result.status !== 'skipped' && result.error) {
      // A test that died before judging anything is the harness's problem to report, never a silent pass.
      this.errors.push(`${test.title}: ${result.error.message?.split('\n')[0] ?? 'failed'}`);
    }
  }

  onEnd(result: FullResult): void {
    const config = readRunConfig();
    if (!config) return;
    const report = buildReport(config, this.results, { executedTests: this.executed, harnessErrors: this.errors, runStatus: result.status });
    writeReport(config.reportsDir, report);
  }

  printsToStdio(): boolean {
    return false;
  }
}
