/**
 * `conformance-tests.json`: what each test of a run did, for the summary page and for tools that want more than
 * the per-requirement verdicts of `conformance-report.json`: the test's outcome, its graded findings, its notes,
 * its redacted sessions (messages, commands, references) and the elements its failures point at.
 */
import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { FindingVerdict } from '../checks/finding';
import type { Redactor } from './redact';
import type { Mark, SessionExport } from './transcript-export';
import type { GradedVerdict } from './verdicts';

export const TESTS_FILE = 'conformance-tests.json';

export interface TestRecord {
  title: string;
  /** `phase/name` of the scenario the test ran. */
  scenario?: string;
  phase?: string;
  /** Playwright's status of the test's last attempt. */
  status: 'passed' | 'failed' | 'timedOut' | 'skipped' | 'interrupted';
  durationMs: number;
  /** Requirements the test declares (its annotations). */
  requirements: string[];
  findings: { id: string; verdict: FindingVerdict; graded: GradedVerdict; check: string; evidence: string; session: number | null }[];
  notes: string[];
  /** First line of the error of a test that did not pass. */
  error?: string;
  sessions: SessionExport[];
  marks: Mark[];
  /** Path of the repro script, relative to the reports directory. */
  repro?: string;
}

export interface TestsFile {
  schemaVersion: 1;
  /** For `grade` and `proxy`, each record is one captured DM session. */
  mode: 'server' | 'client' | 'grade' | 'proxy';
  tests: TestRecord[];
}

/** The records of a run as the tests file holds them: JSON, redacted. The summary page embeds the same text. */
export function testsJson(tests: readonly TestRecord[], r: Redactor): string {
  return r.text(JSON.stringify(r.json(tests)));
}

/** Writes the tests file; `json` is `testsJson(file.tests)` when the caller has made it already. */
export function writeTestsFile(dir: string, file: TestsFile, r: Redactor, json = testsJson(file.tests, r)): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, TESTS_FILE);
  // Written as JSON.stringify would write the whole file, with the records' text spliced in as it is.
  writeFileSync(path, `{"schemaVersion":${JSON.stringify(file.schemaVersion)},"mode":${JSON.stringify(file.mode)},"tests":${json}}\n`);
  return path;
}

export function readTestsFile(dir: string): TestsFile | undefined {
  const path = join(dir, TESTS_FILE);
  if (!existsSync(path)) return undefined;
  return JSON.parse(readFileSync(path, 'utf8')) as TestsFile;
}
