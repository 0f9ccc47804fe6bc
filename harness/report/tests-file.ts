/**
 * `conformance-tests.json`: what each test of a run did, for the summary page and for tools that want more than
 * the per-requirement verdicts of `conformance-report.json`: the test's outcome, its graded findings, its notes,
 * its redacted sessions (messages, commands, references) and the elements its failures point at.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FindingVerdict } from '../checks/finding';
import type { Redactor } from './redact';
import { TextFile } from './text-file';
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

/** One record as the tests file holds it: JSON, redacted. The summary page embeds the same text. */
export function recordJson(record: TestRecord, r: Redactor): string {
  return r.text(JSON.stringify(r.json(record)));
}

/**
 * The tests file written a record at a time: the records of a large capture hold every message, and building the
 * whole file as one string first would hold them all, several times over. The text is what JSON.stringify would
 * make of the whole file.
 */
export class TestsFileWriter {
  private readonly file: TextFile;
  private count = 0;

  constructor(dir: string, mode: TestsFile['mode']) {
    mkdirSync(dir, { recursive: true });
    this.file = new TextFile(join(dir, TESTS_FILE));
    this.file.write(`{"schemaVersion":1,"mode":${JSON.stringify(mode)},"tests":[`);
  }

  /** Adds a record given as `recordJson` made it. */
  add(json: string): void {
    this.file.write(this.count++ ? `,${json}` : json);
  }

  close(): string {
    this.file.write(']}\n');
    this.file.close();
    return this.file.path;
  }
}

export function writeTestsFile(dir: string, file: TestsFile, r: Redactor): string {
  const writer = new TestsFileWriter(dir, file.mode);
  for (const t of file.tests) writer.add(recordJson(t, r));
  return writer.close();
}

export function readTestsFile(dir: string): TestsFile | undefined {
  const path = join(dir, TESTS_FILE);
  if (!existsSync(path)) return undefined;
  return JSON.parse(readFileSync(path, 'utf8')) as TestsFile;
}
