/**
 * The conformance summary page: `reports/index.html`, one self-contained file that reads offline.
 *
 * This module only assembles: the run's data (report, tests, catalogue coverage) goes in as JSON, and `page.js` and
 * `page.css` beside it, inlined, draw everything in the browser: verdicts per requirement grouped by phase with a
 * verdict filter, a sequence diagram per session with Status/Results arrows and the failing elements marked, and
 * the coverage of the catalogue by role and level. A Content-Security-Policy forbids every fetch, so the page
 * cannot reach the network even by accident.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REQUIREMENTS, SOURCES, type Level, type Phase, type Role } from '../../checks/registry';
import { coverageOf } from '../../scenarios/coverage';
import { redact, type Redactor } from '../redact';
import { readReport, type ConformanceReport } from '../report';
import { PROJECT_ROOT } from '../../paths';
import { readTestsFile, recordJson, type TestRecord } from '../tests-file';
import { TextFile } from '../text-file';

export const SUMMARY_PAGE = 'index.html';

const PHASES: { id: Phase; title: string }[] = [
  { id: 'setup', title: 'Setup' },
  { id: 'get-result', title: 'Get and Results' },
  { id: 'management-multi-round', title: 'Management over several rounds' },
  { id: 'termination', title: 'Termination' },
  { id: 'auth', title: 'Authentication' },
  { id: 'large-object', title: 'Large objects' },
  { id: 'robustness', title: 'Robustness' },
];
const ROLES: Role[] = ['server', 'client', 'both'];
const LEVELS: Level[] = ['MUST', 'MUST NOT', 'SHOULD', 'SHOULD NOT', 'MAY'];

export interface CoverageCell {
  role: Role;
  level: Level;
  total: number;
  judged: string[];
  notJudged: string[];
}

export interface PageData {
  generatedAt: string;
  report: ConformanceReport;
  tests: TestRecord[];
  phases: { id: string; title: string }[];
  coverage: { cells: CoverageCell[]; roles: Role[]; levels: Level[] };
  /** The sources the section column cites, for the legend. */
  sources: { key: string; title: string; url?: string }[];
  /** For a server or client run: what can judge each row of the mode and which faults prove it (docs/coverage.md). */
  proof?: { id: string; judgedBy: string[]; provenBy: string[]; outOfScope?: string }[];
}

export function pageData(report: ConformanceReport, tests: readonly TestRecord[]): PageData {
  const judged = new Set(report.requirements.filter((r) => ['pass', 'fail', 'warn'].includes(r.verdict)).map((r) => r.id));
  const cells: CoverageCell[] = [];
  for (const role of ROLES) {
    for (const level of LEVELS) {
      const rows = REQUIREMENTS.filter((q) => q.role === role && q.level === level);
      cells.push({ role, level, total: rows.length, judged: rows.filter((q) => judged.has(q.id)).map((q) => q.id), notJudged: rows.filter((q) => !judged.has(q.id)).map((q) => q.id) });
    }
  }
  const sources = SOURCES.map((s) => ({ key: s.key, title: s.title, url: s.url }));
  const mode = report.mode === 'server' || report.mode === 'client' ? report.mode : undefined;
  const proof = mode ? coverageOf(mode).map(({ id, judgedBy, provenBy, outOfScope }) => ({ id, judgedBy, provenBy, outOfScope })) : undefined;
  return { generatedAt: new Date().toISOString(), report, tests: [...tests], phases: PHASES, coverage: { cells, roles: ROLES, levels: LEVELS }, sources, proof };
}

function asset(name: string): string {
  // From the sources, which a compiled copy of this module does not carry beside it.
  return readFileSync(join(PROJECT_ROOT, 'harness/report/summary-page', name), 'utf8');
}

/**
 * JSON text that can sit inside a <script> element: nothing in it can close the element or start a comment. Only `<`
 * can begin either (`</script`, `<!--`), so it is the one character escaped, with the two line separators that older
 * JavaScript parsers read as line ends. Native replaces without a callback: the text holds every message body of the
 * run, tens of megabytes for a large capture.
 */
function scriptSafe(json: string): string {
  let safe = json.replace(/</g, '\\u003c');
  if (safe.includes('\u2028')) safe = safe.replace(/\u2028/g, '\\u2028');
  if (safe.includes('\u2029')) safe = safe.replace(/\u2029/g, '\\u2029');
  return safe;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/**
 * The page around its tests: everything before the first test's JSON and everything after the last. The data is
 * one JSON object in a script element, its tests last, so that they can be written one at a time between the two
 * (SummaryPageWriter) and the page never needs them all in one string.
 */
function pageParts(data: Omit<PageData, 'tests'>, r: Redactor): { before: string; after: string } {
  const js = asset('page.js');
  const css = asset('page.css');
  if (/<\/script/i.test(js) || /<\/style/i.test(css)) throw new Error('summary page assets must not contain a closing script or style tag');
  const title = `MS-MDM ${data.report.mode} conformance: ${data.report.summary.failed ? `${data.report.summary.failed} failed` : 'no failure'}`;
  const head = r.text(JSON.stringify(r.json(data)));
  const before = [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>\n${css}\n</style>`,
    '</head>',
    '<body>',
    '<noscript><p>This page draws the conformance report with JavaScript; the same data is in conformance-report.json and conformance-tests.json beside it.</p></noscript>',
    '<main id="app"></main>',
    // Redacted before escaping: the patterns look for markup, which escaping hides.
    `<script type="application/json" id="page-data">${scriptSafe(`${head.slice(0, -1)},"tests":[`)}`,
  ].join('\n');
  const after = [
    ']}</script>',
    `<script>\n${js}\n</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
  return { before, after };
}

export function renderSummaryPage(data: PageData, r: Redactor = redact): string {
  const { tests, ...rest } = data;
  const { before, after } = pageParts(rest, r);
  return `${before}${tests.map((t) => scriptSafe(recordJson(t, r))).join(',')}${after}`;
}

/**
 * `index.html` written a test at a time, for runs whose tests hold more than is wise to keep in one string (a large
 * capture): `add` takes each test's redacted JSON as the tests file holds it (recordJson).
 */
export class SummaryPageWriter {
  private readonly file: TextFile;
  private readonly after: string;
  private count = 0;

  constructor(reportsDir: string, report: ConformanceReport, r: Redactor = redact) {
    const { tests: _none, ...data } = pageData(report, []);
    const { before, after } = pageParts(data, r);
    this.after = after;
    this.file = new TextFile(join(reportsDir, SUMMARY_PAGE));
    this.file.write(before);
  }

  add(json: string): void {
    const safe = scriptSafe(json);
    this.file.write(this.count++ ? `,${safe}` : safe);
  }

  /** Ends the page; returns its path. */
  close(): string {
    this.file.write(this.after);
    this.file.close();
    return this.file.path;
  }
}

/** Writes `index.html` from the report and tests files of a reports directory; returns its path. */
export function writeSummaryPage(reportsDir: string, r: Redactor = redact): string {
  const report = readReport(reportsDir);
  const tests = readTestsFile(reportsDir)?.tests ?? [];
  const path = join(reportsDir, SUMMARY_PAGE);
  writeFileSync(path, renderSummaryPage(pageData(report, tests), r));
  return path;
}
