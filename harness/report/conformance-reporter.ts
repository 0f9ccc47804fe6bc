/**
 * Playwright reporter of conformance runs: collects the findings and transcripts every test attached, grades the
 * findings into one verdict per requirement, and writes `conformance-report.json` (CLI contract) and
 * `conformance-tests.json` (what each test did, for the summary page) into the reports directory. The summary page
 * itself is written by the CLI once the report is final (expectations applied).
 */
import type { FullResult, Reporter, TestCase, TestResult } from '@playwright/test/reporter';
import type { Finding } from '../checks/finding';
import type { Advisory } from '../scenarios/scenario';
import { readRunConfig } from '../iut/run-config';
import { redactorFor } from './redact';
import { buildReport, writeReport, type ReportAdvisory } from './report';
import { writeTestsFile, type TestRecord } from './tests-file';
import { TRANSCRIPT_ATTACHMENT, type TranscriptExport } from './transcript-export';
import { grade, type TestFindings } from './verdicts';

export const FINDINGS_ATTACHMENT = 'conformance-findings';

/** What `conformance-findings` holds (written by fixtures/conformance.ts). */
export interface FindingsAttachment {
  scenario: string;
  phase: string;
  findings: Finding[];
  /** Parallel to findings: the session each was judged on. */
  findingSessions?: (number | null)[];
  notes: string[];
  /** Security advisories the scenario reported (weaknesses the catalogue is silent on). */
  advisories?: Advisory[];
  /** Repro script, relative to the reports directory. */
  repro?: string;
}

function jsonAttachment<T>(result: TestResult, name: string): T | undefined {
  const a = result.attachments.find((x) => x.name === name && x.body);
  return a ? (JSON.parse(a.body!.toString('utf8')) as T) : undefined;
}

export default class ConformanceReporter implements Reporter {
  /** By test id: a retried test counts once, by its last attempt. */
  private readonly byTest = new Map<string, { test: TestCase; result: TestResult }>();

  onTestEnd(test: TestCase, result: TestResult): void {
    this.byTest.set(test.id, { test, result });
  }

  onEnd(result: FullResult): void {
    const config = readRunConfig();
    if (!config) return;
    const results: TestFindings[] = [];
    const records: TestRecord[] = [];
    const advisories: ReportAdvisory[] = [];
    const errors: string[] = [];
    let executed = 0;
    for (const { test, result: r } of this.byTest.values()) {
      if (r.status !== 'skipped') executed++;
      const found = jsonAttachment<FindingsAttachment>(r, FINDINGS_ATTACHMENT);
      const transcript = jsonAttachment<TranscriptExport>(r, TRANSCRIPT_ATTACHMENT);
      const error = r.error?.message?.split('\n')[0];
      if (found) {
        results.push({ test: test.title, findings: found.findings });
        for (const a of found.advisories ?? []) advisories.push({ ...a, test: test.title });
      } else if (r.status !== 'skipped' && r.error) {
        // A test that died before judging anything is the harness's problem to report, never a silent pass.
        errors.push(`${test.title}: ${error ?? 'failed'}`);
      }
      const record: TestRecord = {
        title: test.title,
        status: r.status,
        durationMs: r.duration,
        requirements: test.annotations.filter((a) => a.type === 'requirement' && a.description).map((a) => a.description!),
        findings: (found?.findings ?? []).map((f, i) => ({ ...f, graded: grade(f, config.strict), session: found?.findingSessions?.[i] ?? null })),
        notes: found?.notes ?? [],
        sessions: transcript?.sessions ?? [],
        marks: transcript?.marks ?? [],
      };
      if (found) {
        record.scenario = found.scenario;
        record.phase = found.phase;
      }
      if (found?.repro) record.repro = found.repro;
      if (error && r.status !== 'passed') record.error = error;
      records.push(record);
    }
    const redactor = redactorFor(config);
    const report = buildReport(config, results, { executedTests: executed, harnessErrors: errors, runStatus: result.status }, advisories);
    writeReport(config.reportsDir, report, redactor);
    writeTestsFile(config.reportsDir, { schemaVersion: 1, mode: config.mode, tests: records }, redactor);
  }

  printsToStdio(): boolean {
    return false;
  }
}
