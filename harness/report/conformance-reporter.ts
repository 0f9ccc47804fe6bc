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
    const ran = new Set<string>();
    let executed = 0;
    let skipped = 0;
    for (const { test, result: r } of this.byTest.values()) {
      const found = jsonAttachment<FindingsAttachment>(r, FINDINGS_ATTACHMENT);
      const transcript = jsonAttachment<TranscriptExport>(r, TRANSCRIPT_ATTACHMENT);
      const error = r.error?.message?.split('\n')[0];
      const requirements = requirementTags(test.tags);
      if (r.status === 'skipped') skipped++;
      else executed++;
      if (found) {
        results.push({ test: test.title, scenario: found.scenario, findings: found.findings });
        if (r.status !== 'skipped') ran.add(found.scenario);
        for (const a of found.advisories ?? []) advisories.push({ ...a, test: test.title });
      } else if (r.status !== 'skipped') {
        // A test that died before judging anything is the harness's problem to report, never a silent pass; what it
        // was to judge stays inconclusive, with what happened as the reason.
        const why = r.status === 'timedOut' ? `the test timed out after ${r.duration} ms` : error ?? `the test ended ${r.status}`;
        errors.push(`${test.title}: ${why}`);
        results.push({ test: test.title, findings: requirements.map((id) => ({ id, verdict: 'inconclusive', check: test.title, evidence: `the test stopped before judging it: ${why}` })) });
      }
      const record: TestRecord = {
        title: test.title,
        status: r.status,
        durationMs: r.duration,
        requirements,
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
    const cutShort = result.status === 'interrupted' ? 'the run was interrupted' : result.status === 'timedout' ? 'the run hit its global time limit' : undefined;
    const redactor = redactorFor(config);
    const report = buildReport(config, results, { executedTests: executed, skippedTests: skipped, harnessErrors: errors, ran, cutShort }, advisories);
    writeReport(config.reportsDir, report, redactor);
    writeTestsFile(config.reportsDir, { schemaVersion: 1, mode: config.mode, tests: records }, redactor);
  }

  printsToStdio(): boolean {
    return false;
  }
}

/** The requirement ids a test declares: its `@MDM-…` tags (`--grep @MDM-HDR-007` selects the tests of one row). */
export function requirementTags(tags: readonly string[]): string[] {
  return tags.filter((t) => t.startsWith('@MDM-')).map((t) => t.slice(1));
}
