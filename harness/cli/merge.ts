/** `mdm-conformance merge REPORT... [--out DIR]`: one conformance report from shards or from several load machines. */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { mergeReports } from '../report/merge';
import { consoleSummary } from '../report/console-summary';
import { writeJunit } from '../report/junit';
import { redact } from '../report/redact';
import { outcomeOf, reportSchemaErrors, writeReport } from '../report/report';
import { writeSummaryPage } from '../report/summary-page';
import { readTestsFile, writeTestsFile } from '../report/tests-file';
import { one, UsageError } from './args';
import { parseCommand, type CommandSpec } from './command';

export const MERGE: CommandSpec = {
  name: 'merge',
  summary: 'One conformance report from the reports of shards of a suite run (--shard I/N), or from load runs of several machines: '
    + 'conformance-report.json, junit.xml and index.html, as a run writes them. Reads report versions 1 and 2. '
    + 'Exit 0 no failure, 1 a requirement failed, 2 bad usage (including the same report twice, or load and suite reports mixed).',
  positionals: { name: 'REPORT...', help: 'two or more conformance-report.json files', min: 2 },
  flags: [{ name: 'out', value: 'DIR', default: './reports', help: 'where the merged reports are written' }],
};

/** A report of version 1 is taken on its word (its schema is gone); version 2 must match the schema. */
function readAnyReport(path: string): Parameters<typeof mergeReports>[0][number] {
  let report: { schemaVersion?: unknown };
  try {
    report = JSON.parse(readFileSync(path, 'utf8')) as { schemaVersion?: unknown };
  } catch (e) {
    throw new UsageError(`${path}: ${(e as Error).message}`);
  }
  if (report.schemaVersion === 1 && Array.isArray((report as { requirements?: unknown }).requirements)) return report as never;
  const errors = reportSchemaErrors(report);
  if (errors.length) throw new UsageError(`${path} is not a conformance report: ${errors[0]}`);
  return report as never;
}

export function mergeCommand(argv: string[], out: (line: string) => void): number {
  const args = parseCommand(argv, MERGE);
  const reports = args.positionals.map(readAnyReport);
  let merged;
  try {
    merged = mergeReports(reports);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const dir = resolve(one(args, 'out') ?? 'reports');
  const path = writeReport(dir, merged);
  // The per-test records lie beside each report: joined, they give the merged run its JUnit file and summary page.
  const tests = args.positionals.flatMap((p) => readTestsFile(dirname(resolve(p)))?.tests ?? []);
  if (tests.length) writeTestsFile(dir, { schemaVersion: 1, mode: merged.mode === 'client' ? 'client' : 'server', tests }, redact);
  writeJunit(dir, merged, tests, (t) => (t.scenario ? t.scenario.split('/')[0] : t.phase ?? 'other'), redact);
  const page = writeSummaryPage(dir, redact);
  for (const line of consoleSummary(merged)) out(line);
  out(`merged ${reports.length} reports`);
  out(`report: ${path}`);
  out(`summary page: ${page}`);
  return merged.summary.failed ? 1 : outcomeOf(merged) === 'nothing-judged' ? 2 : 0;
}
