/**
 * Merging conformance reports of one mode: shards of a suite run (`--shard`), or load runs from several machines.
 * A requirement fails if any part failed it, passes if any part passed it and none failed, is not applicable if
 * every part that saw it said so, and stays inconclusive only if no part judged it.
 */
import { REQUIREMENTS } from '../checks/registry';
import type { LoadResult, Percentiles } from '../load/fleet';
import type { ConformanceReport } from './report';
import { summarize, type RequirementVerdict } from './verdicts';

const RANK: Record<RequirementVerdict['verdict'], number> = { fail: 3, pass: 2, 'not-applicable': 1, inconclusive: 0 };

type LoadSection = Omit<LoadResult, 'findings'>;
type WithLoad = ConformanceReport & { load?: LoadSection };

function mergeRows(a: RequirementVerdict, b: RequirementVerdict): RequirementVerdict {
  const [winner, other] = RANK[b.verdict] > RANK[a.verdict] ? [b, a] : [a, b];
  const merged: RequirementVerdict = { ...winner, tests: [...new Set([...a.tests, ...b.tests])] };
  if (other.verdict === winner.verdict && other.evidence !== winner.evidence) merged.evidence = `${winner.evidence}\n${other.evidence}`;
  const warnings = [a.warning, b.warning].filter(Boolean);
  if (merged.verdict === 'pass' && warnings.length) merged.warning = warnings.join('\n');
  return merged;
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

export function mergeReports(reports: readonly WithLoad[]): WithLoad {
  if (!reports.length) throw new Error('nothing to merge');
  const mode = reports[0].mode;
  const other = reports.find((r) => r.mode !== mode);
  if (other) throw new Error(`cannot merge a ${mode} report with a ${other.mode} report`);
  const rows = new Map<string, RequirementVerdict>();
  for (const r of reports) for (const row of r.requirements) rows.set(row.id, rows.has(row.id) ? mergeRows(rows.get(row.id)!, row) : row);
  const requirements = [...rows.values()].sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));
  const forThisSide = REQUIREMENTS.filter((q) => q.role === mode || q.role === 'both');
  const startedAt = reports.map((r) => r.startedAt).sort()[0];
  const ends = reports.map((r) => Date.parse(r.startedAt) + r.durationMs);
  const merged: WithLoad = {
    ...reports[0],
    startedAt,
    durationMs: Math.max(...ends) - Date.parse(startedAt),
    summary: summarize(requirements),
    tests: { executed: reports.reduce((n, r) => n + r.tests.executed, 0), harnessErrors: reports.flatMap((r) => r.tests.harnessErrors) },
    coverage: { catalogue: REQUIREMENTS.length, forThisSide: forThisSide.length, judged: requirements.length, notCovered: forThisSide.filter((q) => !rows.has(q.id)).map((q) => q.id) },
    requirements,
  };
  delete merged.expectations;
  const advisories = reports.flatMap((r) => r.advisories ?? []);
  if (advisories.length) merged.advisories = advisories;
  else delete merged.advisories;
  const load = reports.map((r) => r.load).reduce(mergeLoad, undefined);
  if (load) merged.load = load;
  else delete merged.load;
  return merged;
}
