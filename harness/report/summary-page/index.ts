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
import { readTestsFile, testsJson, type TestRecord } from '../tests-file';

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
 * The page's data as JSON, redacted. The tests are most of it (every message of the run): `testsJson`, when given, is
 * their redacted JSON already made for the tests file, and takes their place as it is.
 */
function pageJson(data: PageData, r: Redactor, json = testsJson(data.tests, r)): string {
  const { tests: _tests, ...rest } = data;
  const head = r.text(JSON.stringify(r.json(rest)));
  return `${head.slice(0, -1)},"tests":${json}}`;
}

export function renderSummaryPage(data: PageData, r: Redactor = redact, testsJson?: string): string {
  const js = asset('page.js');
  const css = asset('page.css');
  if (/<\/script/i.test(js) || /<\/style/i.test(css)) throw new Error('summary page assets must not contain a closing script or style tag');
  const title = `MS-MDM ${data.report.mode} conformance: ${data.report.summary.failed ? `${data.report.summary.failed} failed` : 'no failure'}`;
  return [
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
    `<script type="application/json" id="page-data">${scriptSafe(pageJson(data, r, testsJson))}</script>`,
    `<script>\n${js}\n</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/**
 * Writes `index.html` from the report and tests files of a reports directory; returns its path. A caller that has
 * just written both passes what it wrote (`written`: the report, and the tests as the tests file holds them):
 * reading and redacting tens of megabytes again would only cost time and memory.
 */
export function writeSummaryPage(reportsDir: string, r: Redactor = redact, written?: { report: ConformanceReport; testsJson: string }): string {
  const path = join(reportsDir, SUMMARY_PAGE);
  if (written) writeFileSync(path, renderSummaryPage(pageData(written.report, []), r, written.testsJson));
  else writeFileSync(path, renderSummaryPage(pageData(readReport(reportsDir), readTestsFile(reportsDir)?.tests ?? []), r));
  return path;
}
