/** `mdm-conformance merge REPORT... [--out DIR]`: one conformance report from shards or from several load machines. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { mergeReports } from '../report/merge';
import { reportSchemaErrors, writeReport, type ConformanceReport } from '../report/report';
import { one, parseArgs, UsageError } from './args';

export function mergeCommand(argv: string[], out: (line: string) => void): number {
  const args = parseArgs(argv, { values: { out: false } });
  if (args.positionals.length < 2) throw new UsageError('merge needs two or more conformance-report.json files');
  const reports = args.positionals.map((path) => {
    let report: ConformanceReport;
    try {
      report = JSON.parse(readFileSync(path, 'utf8')) as ConformanceReport;
    } catch (e) {
      throw new UsageError(`${path}: ${(e as Error).message}`);
    }
    const errors = reportSchemaErrors(report);
    if (errors.length) throw new UsageError(`${path} is not a conformance report: ${errors[0]}`);
    return report;
  });
  let merged;
  try {
    merged = mergeReports(reports);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const path = writeReport(resolve(one(args, 'out') ?? 'reports'), merged);
  const s = merged.summary;
  out(`merged ${reports.length} reports: ${s.passed} passed, ${s.failed} failed, ${s.inconclusive} inconclusive, ${s.notApplicable} not applicable`);
  out(`report: ${path}`);
  return s.failed ? 1 : 0;
}
