/**
 * Merging conformance reports of one mode: shards of a suite run (`--shard`), or load runs from several machines.
 * Reads reports of schema versions 1 and 2 and writes version 2. A requirement fails if any part failed it, warns if
 * any part warned and none failed, passes if any part passed it and none deviated, is not applicable if every part
 * that saw it said so, and stays inconclusive only if no part judged it.
 */
import { requirement } from '../checks/registry';
import type { LoadResult, Percentiles } from '../load/fleet';
import { assembleReport, type ConformanceReport, type ReportAdvisory } from './report';
import { rowsOf, type ReportMode, type RequirementVerdict, type Verdict } from './verdicts';

const RANK: Record<Verdict, number> = { fail: 4, warn: 3, pass: 2, 'not-applicable': 1, inconclusive: 0 };

type LoadSection = Omit<LoadResult, 'findings'>;
export type WithLoad = ConformanceReport & { load?: LoadSection };

/** A version 1 report as it was written: rows only for what was judged, warnings folded into `pass`. */
interface ReportV1 {
  schemaVersion: 1;
  mode: 'server' | 'client';
  iut: Record<string, unknown>;
  startedAt: string;
  durationMs: number;
  strict?: boolean;
  tests?: { executed: number; harnessErrors: string[] };
  requirements: (Omit<RequirementVerdict, 'text' | 'verdict'> & { verdict: 'pass' | 'fail' | 'inconclusive' | 'not-applicable'; warning?: string })[];
  advisories?: ReportAdvisory[];
  load?: LoadSection;
}

/** A version 1 report in version 2's terms: a pass with a warning becomes `warn`, each row gets its text. */
export function upgradeReport(report: WithLoad | ReportV1): WithLoad {
  if (report.schemaVersion === 2) return report;
  const requirements: RequirementVerdict[] = report.requirements.map(({ warning, ...row }) => {
    const upgraded: RequirementVerdict = { ...row, text: requirement(row.id).text, verdict: row.verdict === 'pass' && warning ? 'warn' : row.verdict };
    if (upgraded.verdict === 'warn') upgraded.evidence = warning!;
    if (upgraded.verdict === 'inconclusive') upgraded.reason = row.evidence;
    return upgraded;
  });
  const v2: WithLoad = assembleReport({
    mode: report.mode, iut: report.iut, seed: 0, startedAt: report.startedAt, strict: report.strict ?? false,
    tests: { executed: report.tests?.executed ?? 0, skipped: 0, harnessErrors: report.tests?.harnessErrors ?? [] }, requirements, advisories: report.advisories,
  });
  v2.durationMs = report.durationMs;
  if (report.load) v2.load = report.load;
  return v2;
}

function mergeRows(a: RequirementVerdict, b: RequirementVerdict): RequirementVerdict {
  const [winner, other] = RANK[b.verdict] > RANK[a.verdict] ? [b, a] : [a, b];
  const merged: RequirementVerdict = { ...winner, tests: [...new Set([...a.tests, ...b.tests])] };
  if (other.verdict === winner.verdict && other.evidence !== winner.evidence) merged.evidence = `${winner.evidence}\n${other.evidence}`;
  if (merged.verdict !== 'inconclusive') {
    delete merged.reason;
    delete merged.outOfScope;
  }
  const consequences = [...(a.consequences ?? []), ...(b.consequences ?? [])];
  if (consequences.length && merged.verdict === 'fail') merged.consequences = consequences;
  return merged;
}

/** A row that none of the merged reports holds (version 1 reports listed judged rows only). */
function notJudgedRow(mode: ReportMode, id: string): RequirementVerdict {
  const r = requirement(id);
  const row: RequirementVerdict = {
    id, text: r.text, section: r.sections, level: r.level, role: r.role, phase: r.phase, basis: r.basis, verdict: 'inconclusive',
    reason: `none of the merged ${mode} reports judged it`, tests: [], evidence: 'not judged in any merged report',
  };
  if (r.url) row.url = r.url;
  if (r.basis === 'W') row.windowsInterop = true;
  return row;
}

/** Latency percentiles cannot be merged exactly without the samples: the worst part's figure is an upper bound. */
function worst(a: Percentiles, b: Percentiles): Percentiles {
  return { p50: Math.max(a.p50, b.p50), p95: Math.max(a.p95, b.p95), p99: Math.max(a.p99, b.p99), max: Math.max(a.max, b.max) };
}

function mergeLoad(a: LoadSection | undefined, b: LoadSection | undefined): LoadSection | undefined {
  if (!a || !b) return a ?? b;
  const sum = (x: Record<string, number>, y: Record<string, number>) => {
    const out = { ...x };
    for (const [k, v] of Object.entries(y)) out[k] = (out[k] ?? 0) + v;
    return out;
  };
  const failures = { ...a.failures };
  for (const [id, f] of Object.entries(b.failures)) failures[id] = failures[id] ? { ...failures[id], sessions: failures[id].sessions + f.sessions } : f;
  return {
    devices: a.devices + b.devices,
    concurrency: a.concurrency + b.concurrency,
    sessions: a.sessions + b.sessions,
    durationMs: Math.max(a.durationMs, b.durationMs),
    // The machines ran side by side: their rates add up.
    sessionsPerSecond: a.sessionsPerSecond + b.sessionsPerSecond,
    latencyMs: { roundTrip: worst(a.latencyMs.roundTrip, b.latencyMs.roundTrip), session: worst(a.latencyMs.session, b.latencyMs.session) },
    errors: sum(a.errors, b.errors),
    failures,
  };
}

/** Why these reports cannot be merged, or undefined when they can. */
function refusal(reports: readonly WithLoad[]): string | undefined {
  const mode = reports[0].mode;
  const other = reports.find((r) => r.mode !== mode);
  if (other) return `cannot merge a ${mode} report with a ${other.mode} report`;
  const loads = reports.filter((r) => r.load).length;
  if (loads && loads < reports.length) return 'cannot merge load reports with suite reports: merge the shards of a suite run, or the load runs of several machines, separately';
  const seen = new Map<string, number>();
  for (const [i, r] of reports.entries()) {
    const key = JSON.stringify([r.startedAt, r.durationMs, r.iut, r.seed]);
    const first = seen.get(key);
    if (first !== undefined) return `report ${i + 1} is the same run as report ${first + 1}: merging a run with itself would count it twice`;
    seen.set(key, i);
  }
  return undefined;
}

export function mergeReports(inputs: readonly (WithLoad | ReportV1)[]): WithLoad {
  if (!inputs.length) throw new Error('nothing to merge');
  const reports = inputs.map(upgradeReport);
  const problem = refusal(reports);
  if (problem) throw new Error(problem);
  const mode = reports[0].mode;
  const rows = new Map<string, RequirementVerdict>();
  for (const r of reports) for (const row of r.requirements) rows.set(row.id, rows.has(row.id) ? mergeRows(rows.get(row.id)!, row) : row);
  const requirements = rowsOf(mode)
    .map((q) => rows.get(q.id) ?? notJudgedRow(mode, q.id))
    .sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));
  const startedAt = reports.map((r) => r.startedAt).sort()[0];
  const ends = reports.map((r) => Date.parse(r.startedAt) + r.durationMs);
  const merged: WithLoad = assembleReport({
    mode, iut: reports[0].iut, seed: reports[0].seed, startedAt, strict: reports.some((r) => r.strict),
    tests: {
      executed: reports.reduce((n, r) => n + r.tests.executed, 0),
      skipped: reports.reduce((n, r) => n + (r.tests.skipped ?? 0), 0),
      harnessErrors: reports.flatMap((r) => r.tests.harnessErrors),
    },
    requirements,
    advisories: reports.flatMap((r) => r.advisories ?? []),
  });
  merged.durationMs = Math.max(...ends) - Date.parse(startedAt);
  const load = reports.map((r) => r.load).reduce(mergeLoad, undefined);
  if (load) merged.load = load;
  return merged;
}
