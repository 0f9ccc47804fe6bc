/**
 * `junit.xml` for CI test-report views, written from the judged run (after `--expect` is applied), one test case per
 * test, grouped by suite:
 * - a failure names each requirement it violated, with level, section and the requirement's words, and the
 *   evidence below it; a failure the expectations file lists is an expected failure: no <failure> element, a
 *   property and a line of output say so, so a test-report step stays green on it and red on anything else;
 * - a test that ran no session is <skipped> with its reason; one that could not judge is an <error>;
 * - security advisories ride along as properties and output of the test that found them, never as failures.
 * The run's coverage and seed are properties of the whole report.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requirement } from '../checks/registry';
import type { Redactor } from './redact';
import type { ConformanceReport } from './report';
import type { TestRecord } from './tests-file';
import { coverageLine } from './verdicts';

export const JUNIT_FILE = 'junit.xml';

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!)
    // XML 1.0 has no way to write most control characters, even escaped.
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function prop(name: string, value: string): string {
  return `<property name="${esc(name)}" value="${esc(value)}"/>`;
}

const plain = (text: string) => text.replace(/`/g, '');

interface Case {
  suite: string;
  xml: string;
  failed: boolean;
  skipped: boolean;
  error: boolean;
  seconds: number;
}

function testCase(t: TestRecord, report: ConformanceReport, suite: string): Case {
  const expected = new Map((report.expectations?.met ?? []).map((x) => [x.id, x.reason]));
  const fails = t.findings.filter((f) => f.graded === 'fail');
  const unexpected = fails.filter((f) => !expected.has(f.id));
  const expectedHere = [...new Set(fails.filter((f) => expected.has(f.id)).map((f) => f.id))];
  const advisories = (report.advisories ?? []).filter((a) => a.test === t.title);
  const props = [
    ...t.requirements.map((id) => prop('requirement', `${id}: ${plain(requirement(id).text)}`)),
    ...expectedHere.map((id) => prop('expected-failure', `${id}: ${expected.get(id)}`)),
    ...advisories.map((a) => prop('security-advisory', `${a.probe}: ${a.evidence}`)),
  ];
  const out: string[] = [];
  for (const id of expectedHere) out.push(`expected failure ${id} (listed in ${report.expectations?.file}: ${expected.get(id)})`);
  for (const a of advisories) out.push(`SECURITY ADVISORY ${a.probe}: ${a.evidence}`);
  for (const n of t.notes) out.push(n);
  let body = props.length ? `<properties>${props.join('')}</properties>` : '';
  const ids = [...new Set(unexpected.map((f) => f.id))];
  const skipped = t.status === 'skipped' && !unexpected.length;
  const error = !t.findings.length && t.status !== 'passed' && t.status !== 'skipped';
  if (ids.length) {
    const head = ids.map((id) => {
      const q = requirement(id);
      return `${id} (${q.level}, ${q.sections}): ${plain(q.text)}`;
    });
    const evidence = ids.flatMap((id) => [`${id}:`, ...unexpected.filter((f) => f.id === id).slice(0, 10).map((f) => `  ${f.evidence}`)]);
    body += `<failure message="${esc(head.join(' | '))}" type="${esc(ids.join(' '))}">${esc([...head, '', ...evidence].join('\n'))}</failure>`;
  } else if (error) {
    body += `<error message="${esc(t.error ?? `the test ended ${t.status} before judging`)}" type="harness"/>`;
  } else if (skipped) {
    const reason = t.findings.find((f) => f.verdict === 'not-applicable' || f.verdict === 'inconclusive')?.evidence ?? 'the test ran no session';
    body += `<skipped message="${esc(reason)}"/>`;
  }
  if (out.length) body += `<system-out>${esc(out.join('\n'))}</system-out>`;
  const seconds = t.durationMs / 1000;
  const xml = `<testcase name="${esc(`${suite} › ${t.title}`)}" classname="${esc(`${report.mode}.${suite}`)}" time="${seconds.toFixed(3)}">${body}</testcase>`;
  return { suite, xml, failed: ids.length > 0, skipped, error, seconds };
}

/** The JUnit document of a judged run; `suiteOf` names the suite of a test from its scenario id. */
export function renderJunit(report: ConformanceReport, tests: readonly TestRecord[], suiteOf: (t: TestRecord) => string): string {
  const cases = tests.map((t) => testCase(t, report, suiteOf(t)));
  const suites = [...new Set(cases.map((c) => c.suite))];
  const count = (list: Case[]) => ({
    tests: list.length, failures: list.filter((c) => c.failed).length, errors: list.filter((c) => c.error).length,
    skipped: list.filter((c) => c.skipped).length, time: list.reduce((n, c) => n + c.seconds, 0),
  });
  const attrs = (c: ReturnType<typeof count>) => `tests="${c.tests}" failures="${c.failures}" errors="${c.errors}" skipped="${c.skipped}" time="${c.time.toFixed(3)}"`;
  const runProps = [
    prop('coverage', coverageLine(report.coverage)),
    prop('seed', String(report.seed)),
    ...(report.expectations ? [prop('expectations', `${report.expectations.file}: ${report.expectations.met.length} met, ${report.expectations.unexpected.length} unexpected, ${report.expectations.stale.length} stale, ${report.expectations.notJudged.length} not judged`)] : []),
  ];
  const body = suites.map((name) => {
    const list = cases.filter((c) => c.suite === name);
    return `<testsuite name="${esc(name)}" ${attrs(count(list))}>\n${list.map((c) => `  ${c.xml}`).join('\n')}\n</testsuite>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="MS-MDM ${esc(report.mode)} conformance" ${attrs(count(cases))}>`,
    `<properties>${runProps.join('')}</properties>`,
    ...body,
    '</testsuites>',
    '',
  ].join('\n');
}

export function writeJunit(dir: string, report: ConformanceReport, tests: readonly TestRecord[], suiteOf: (t: TestRecord) => string, r: Redactor): string {
  const path = join(dir, JUNIT_FILE);
  writeFileSync(path, r.text(renderJunit(report, tests, suiteOf)));
  return path;
}
