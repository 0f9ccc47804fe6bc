/**
 * The reports of judged traffic (`grade` of captures, `proxy` of live traffic), the same files a suite run writes:
 * `conformance-report.json` (every catalogue row, mode `grade` or `proxy`), `conformance-tests.json` (one record per
 * captured DM session, with its messages exported so `index.html` draws its sequence diagram), `junit.xml` (one test
 * case per session, grouped by device) and `index.html`; and the console summary and exit code of a suite run.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Finding } from '../checks/finding';
import type { WireMessage } from '../checks/session';
import { applyExpectations, describeOutcome, type ExpectationsFile } from '../cli/expectations';
import { consoleSummary } from '../report/console-summary';
import { JUNIT_FILE, writeJunit } from '../report/junit';
import { redact, type Redactor } from '../report/redact';
import { resultOf } from '../report/result';
import { assembleReport, REPORT_FILE, reportSchemaErrors, writeReport, type ConformanceReport } from '../report/report';
import { SUMMARY_PAGE, SummaryPageWriter } from '../report/summary-page';
import { recordJson, TESTS_FILE, TestsFileWriter, type TestRecord } from '../report/tests-file';
import { marksOf, messageExport, type SessionExport } from '../report/transcript-export';
import { aggregate, grade, rowsOf, type RequirementVerdict } from '../report/verdicts';
import { captureFacts, captureNotes, judgeCaptured, notJudgedInCapture, sessionTitles, type GradeRole } from './judge';
import type { CapturedSession } from './sessions';

/** One captured session and what the checks found in it. */
export interface JudgedCapture {
  title: string;
  session: CapturedSession;
  findings: Finding[];
}

/** Every session judged on the chosen sides, titled. */
export function judgeCaptures(sessions: readonly CapturedSession[], role: GradeRole): JudgedCapture[] {
  const titles = sessionTitles(sessions);
  return sessions.map((session, i) => ({ title: titles[i], session, findings: judgeCaptured(session, role) }));
}

/** The catalogue rows of a report of judged traffic; `where` names the traffic in the reasons of rows not judged. */
export function captureVerdicts(judged: readonly JudgedCapture[], role: GradeRole, strict: boolean, where: string, mode: 'grade' | 'proxy' = 'grade'): RequirementVerdict[] {
  const facts = captureFacts(judged.map((j) => j.session));
  return aggregate(rowsOf(mode), judged.map((j) => ({ test: j.title, findings: j.findings })), strict, { notJudged: notJudgedInCapture(role, facts, where) });
}

/** One line per session for the console: what it was and what it came to. */
export function sessionLine(j: JudgedCapture, strict: boolean): string {
  const graded = j.findings.map((f) => grade(f, strict));
  const ids = (v: string) => [...new Set(j.findings.filter((_, i) => graded[i] === v).map((f) => f.id))];
  const failed = ids('fail');
  const warned = ids('warn');
  const passed = ids('pass').filter((id) => !failed.includes(id) && !warned.includes(id));
  const verdict = failed.length ? `FAIL ${failed.join(', ')}` : warned.length ? `WARN ${warned.join(', ')}` : 'pass';
  const whole = j.session.complete ? '' : ' (partial capture)';
  return `${j.title}: ${j.session.view.exchanges.length} exchange(s)${whole}: ${verdict}; ${passed.length} rule(s) passed`;
}

function wireMessages(s: CapturedSession): Map<number, WireMessage> {
  const out = new Map<number, WireMessage>();
  for (const x of s.view.exchanges) for (const m of [x.request, x.response]) if (m) out.set(m.n, m);
  return out;
}

/** The captured session as the summary page draws it, redacted. */
export function exportCaptured(s: CapturedSession, r: Redactor): SessionExport {
  const wires = wireMessages(s);
  const messages = s.sources.map(({ n, message }) => {
    const http = message.http;
    return messageExport(wires.get(n)!, {
      body: message.body, headers: http?.headers ?? {}, method: http?.method, url: http?.url, status: http?.status, statusText: http?.statusText, wireBytes: http?.wireBytes,
    }, r);
  });
  const failures = s.view.exchanges.filter((x) => x.request && x.failure).map((x) => ({ n: x.request!.n, text: r.text(x.failure!) }));
  const out: SessionExport = { index: 0, messages, failures };
  if (s.startedAt !== undefined) out.startedAt = s.startedAt;
  return out;
}

function testRecord(j: JudgedCapture, strict: boolean, r: Redactor): TestRecord {
  const findings = j.findings.map((f) => ({ ...f, graded: grade(f, strict), session: 0 }));
  const judged = [...new Set(findings.filter((f) => f.graded === 'pass' || f.graded === 'fail' || f.graded === 'warn').map((f) => f.id))];
  return {
    title: j.title,
    status: findings.some((f) => f.graded === 'fail') ? 'failed' : 'passed',
    durationMs: 0,
    requirements: judged,
    findings,
    notes: captureNotes(j.session),
    sessions: [exportCaptured(j.session, r)],
    marks: marksOf(findings.map((f) => ({ finding: f, graded: f.graded, session: 0 }))),
  };
}

export interface CaptureReportOptions {
  mode: 'grade' | 'proxy';
  reportsDir: string;
  startedAt: string;
  strict: boolean;
  role: GradeRole;
  /** What was judged: the inputs, the proxy's upstream. */
  iut: Record<string, unknown>;
  /** The traffic in words, for the reasons of rows not judged: "captured traffic", "traffic through the proxy". */
  where: string;
  expectations?: { file: string; content: ExpectationsFile };
  /** Problems that kept part of the traffic from being judged (a session the proxy could not read back). */
  harnessErrors?: string[];
}

/** Files an earlier run left in the reports directory that this one writes anew. */
const OUTPUTS = [REPORT_FILE, TESTS_FILE, SUMMARY_PAGE, JUNIT_FILE];

/**
 * Writes every report of judged traffic and prints the console summary; returns the exit code: 0 conforms, 1 a
 * requirement failed (after --expect), 2 nothing could be judged.
 */
export function writeCaptureReports(judged: readonly JudgedCapture[], opts: CaptureReportOptions, out: (line: string) => void, r: Redactor = redact): number {
  mkdirSync(opts.reportsDir, { recursive: true });
  for (const name of OUTPUTS) rmSync(join(opts.reportsDir, name), { force: true });
  const requirements = captureVerdicts(judged, opts.role, opts.strict, opts.where, opts.mode);
  const report: ConformanceReport = assembleReport({
    mode: opts.mode, iut: opts.iut, seed: 0, startedAt: opts.startedAt, strict: opts.strict,
    tests: { executed: judged.length, skipped: 0, harnessErrors: opts.harnessErrors ?? [] }, requirements,
  });
  const expected = opts.expectations ? applyExpectations(report, opts.expectations.file, opts.expectations.content) : undefined;
  const reportPath = writeReport(opts.reportsDir, report, r);
  // A session's record holds all its messages: each goes to the tests file and the summary page as soon as it is
  // made, so that a large capture is never held in memory as a whole report.
  const testsFile = new TestsFileWriter(opts.reportsDir, opts.mode);
  let page: SummaryPageWriter | undefined;
  let pageProblem: string | undefined;
  try {
    page = new SummaryPageWriter(opts.reportsDir, report, r);
  } catch (e) {
    pageProblem = (e as Error).message;
  }
  const records: TestRecord[] = [];
  for (const j of judged) {
    const record = testRecord(j, opts.strict, r);
    const json = recordJson(record, r);
    testsFile.add(json);
    page?.add(json);
    records.push({ ...record, sessions: [] }); // JUnit reads no message
  }
  testsFile.close();
  const devices = new Map(judged.map((j) => [j.title, `device ${j.session.deviceId ?? '(unknown)'}`]));
  writeJunit(opts.reportsDir, report, records, (t) => devices.get(t.title) ?? 'capture', r);

  for (const line of consoleSummary(report)) out(line);
  if (expected) for (const line of describeOutcome(expected)) out(line);
  const schemaErrors = reportSchemaErrors(report);
  if (schemaErrors.length) out(`error: the report does not match its schema: ${schemaErrors.join('; ')}`);
  let code: number;
  if (!judged.length) {
    out(`error: no DM session in the ${opts.where}, so nothing was judged`);
    code = 2;
  } else {
    const result = resultOf(report, expected, ` (as far as the ${opts.where} shows)`);
    out(result.line);
    code = result.code;
  }
  for (const e of opts.harnessErrors ?? []) out(`warning: ${e}`);
  out(`report: ${reportPath}`);
  if (page) out(`summary page: ${page.close()}`);
  else out(`warning: could not write the summary page: ${pageProblem}`);
  return schemaErrors.length ? 2 : code;
}
