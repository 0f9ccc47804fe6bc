/**
 * From findings to verdicts (architecture principle 4), one per catalogue row of the mode, every row accounted for:
 *
 * - `fail`: a MUST or MUST NOT violated;
 * - `warn`: a SHOULD (NOT) deviation, a deviation on a row whose basis is observed traffic only, a MAY behaviour
 *   the harness flags, or a deviation the catalogue itself says to report as a warning; it fails a run
 *   only with --strict;
 * - `pass`: exercised, with no deviation at all;
 * - `not-applicable`: the row belongs to a feature the implementation does not declare;
 * - `inconclusive`: not judged, always with a reason a vendor can act on, or out of scope (cannot be observed on
 *   this transport) with the reason recorded in the registry.
 *
 * A deviation that follows from another failure (`consequenceOf`) is listed under that failure, never counted.
 */
import type { Finding } from '../checks/finding';
import { REQUIREMENTS, requirement, type Level, type Requirement } from '../checks/registry';
import { outOfScope } from '../checks/scope';
import type { Judgeability } from '../scenarios/catalog';

export type Verdict = 'pass' | 'fail' | 'warn' | 'inconclusive' | 'not-applicable';
/** Kept for readers of earlier reports and for code that grades single findings. */
export type GradedVerdict = Verdict;

export type ReportMode = 'server' | 'client' | 'grade' | 'proxy';

export function grade(f: Pick<Finding, 'id' | 'verdict'>, strict = false): Verdict {
  if (f.verdict !== 'fail' && f.verdict !== 'warn') return f.verdict;
  if (strict) return 'fail';
  const r = requirement(f.id);
  if (f.verdict === 'warn' || r.level === 'MAY') return 'warn';
  const weak = r.level === 'SHOULD' || r.level === 'SHOULD NOT' || r.basis === 'O';
  return weak ? 'warn' : 'fail';
}

/** The catalogue rows a report of this mode accounts for: the side's own role and `both`; grading judges both sides. */
export function rowsOf(mode: ReportMode): readonly Requirement[] {
  if (mode === 'server' || mode === 'client') return REQUIREMENTS.filter((r) => r.role === mode || r.role === 'both');
  return REQUIREMENTS;
}

export interface TestFindings {
  /** Title of the test that produced them. */
  test: string;
  /** Scenario id, when the test ran one. */
  scenario?: string;
  findings: Finding[];
}

export interface Consequence {
  id: string;
  evidence: string;
  test: string;
}

export interface RequirementVerdict {
  id: string;
  /** The requirement's words (the catalogue's testable restatement). */
  text: string;
  section: string;
  level: Requirement['level'];
  role: Requirement['role'];
  phase: Requirement['phase'];
  basis: Requirement['basis'];
  url?: string;
  verdict: Verdict;
  /** Why an inconclusive row was not judged, in words a vendor can act on. */
  reason?: string;
  /** The row cannot be observed over this transport (the reason says why). */
  outOfScope?: true;
  /** True for rows based on Windows documentation: a failure is a Windows-interoperability failure. */
  windowsInterop?: true;
  tests: string[];
  evidence: string;
  /**
   * Where the deviations behind a fail (or a warning) were seen: test, message and element, read from the evidence
   * (`msg 3 (server->device) /SyncBody/Status[2]/CmdRef`). Absent when the evidence names no message.
   */
  locations?: EvidenceLocation[];
  /** Deviations of other rows that follow from this row's failure: grouped here, not counted as failures. */
  consequences?: Consequence[];
}

export interface EvidenceLocation {
  test: string;
  /** `msg 3 (server->device)`. */
  message: string;
  /** Element path, e.g. `/SyncBody/Status[2]/CmdRef`; absent when the evidence names the whole message. */
  element?: string;
}

const MESSAGE_REF = /(msg \d+ \((?:device->server|server->device)\))(?: (\/[^\s:,;]+))?/g;

/** The message and element references of evidence lines, each once. */
export function locationsOf(items: readonly { test: string; finding: Pick<Finding, 'evidence'> }[]): EvidenceLocation[] {
  const seen = new Set<string>();
  const out: EvidenceLocation[] = [];
  for (const { test, finding } of items) {
    for (const m of finding.evidence.matchAll(MESSAGE_REF)) {
      const key = `${test}\u0000${m[1]}\u0000${m[2] ?? ''}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(m[2] ? { test, message: m[1], element: m[2] } : { test, message: m[1] });
    }
  }
  return out;
}

/** What the run knows beyond its findings, to say why a row was not judged. */
export interface RunContext {
  /** What in the harness can judge each row (scenarios/catalog.ts); absent: no reason beyond "not judged". */
  judgeability?: ReadonlyMap<string, Judgeability>;
  /** Scenario ids this run executed. */
  ran?: ReadonlySet<string>;
  /** Set when the run stopped early (a harness error, an interruption): what happened. */
  cutShort?: string;
  /** How this run was restricted (e.g. "--suite setup", "shard 1/2"), to name in reasons. */
  selection?: string;
  /** The report's mode: some rows are out of scope in one mode only. */
  mode?: ReportMode;
  /**
   * Why a row no finding mentions was not judged, when the producer knows better than the suites' catalogue (grading
   * captured traffic: no scenario runs there); undefined falls back to the reasons above.
   */
  notJudged?: (id: string) => string | undefined;
}

const EVIDENCE_LIMIT = 5;
const LOCATION_LIMIT = 20;

interface Seen {
  test: string;
  finding: Finding;
  graded: Verdict;
}

export function aggregate(rows: readonly Requirement[], results: readonly TestFindings[], strict = false, ctx: RunContext = {}): RequirementVerdict[] {
  const byId = new Map<string, Seen[]>();
  const consequences = new Map<string, Consequence[]>();
  for (const r of results) {
    for (const finding of r.findings) {
      if (finding.consequenceOf) {
        const list = consequences.get(finding.consequenceOf) ?? [];
        list.push({ id: finding.id, evidence: finding.evidence, test: r.test });
        consequences.set(finding.consequenceOf, list);
        continue;
      }
      const list = byId.get(finding.id) ?? [];
      list.push({ test: r.test, finding, graded: grade(finding, strict) });
      byId.set(finding.id, list);
    }
  }
  const out = rows.map((req) => judgeRow(req, byId.get(req.id) ?? [], consequences, ctx));
  return out.sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));
}

function judgeRow(req: Requirement, seen: Seen[], consequences: Map<string, Consequence[]>, ctx: RunContext): RequirementVerdict {
  const of = (v: Verdict) => seen.filter((s) => s.graded === v);
  const fails = of('fail');
  const warns = of('warn');
  const row: RequirementVerdict = {
    id: req.id, text: req.text, section: req.sections, level: req.level, role: req.role, phase: req.phase, basis: req.basis,
    verdict: 'inconclusive', tests: [...new Set(seen.map((s) => s.test))], evidence: '',
  };
  if (req.url) row.url = req.url;
  if (req.basis === 'W') row.windowsInterop = true;
  if (fails.length) {
    row.verdict = 'fail';
    row.evidence = describe(fails);
  } else if (warns.length) {
    row.verdict = 'warn';
    row.evidence = describe(warns);
  } else if (of('pass').length) {
    row.verdict = 'pass';
    row.evidence = `exercised by ${new Set(of('pass').map((s) => s.test)).size} test(s); no deviation observed`;
  } else if (of('not-applicable').length) {
    row.verdict = 'not-applicable';
    row.evidence = of('not-applicable')[0].finding.evidence;
  } else {
    const scope = outOfScope(req.id, ctx.mode);
    if (scope) row.outOfScope = true;
    row.reason = scope ?? notJudgedBecause(req.id, seen, consequences, ctx);
    row.evidence = seen.length ? describe(seen) : 'not judged in this run';
  }
  const located = locationsOf(fails.length ? fails : warns).slice(0, LOCATION_LIMIT);
  if (located.length) row.locations = located;
  const mine = consequences.get(req.id);
  if (mine?.length && row.verdict === 'fail') row.consequences = mine;
  return row;
}

/** The reason a row in scope was not judged, from the most specific thing the run knows. */
function notJudgedBecause(id: string, seen: Seen[], consequences: Map<string, Consequence[]>, ctx: RunContext): string {
  const own = seen.filter((s) => s.graded === 'inconclusive').map((s) => s.finding.evidence);
  if (own.length) return [...new Set(own)].slice(0, 3).join('; ');
  const roots = [...consequences.entries()].filter(([, list]) => list.some((c) => c.id === id)).map(([root]) => root);
  if (roots.length) return `not judged on its own: what was seen follows from the failure of ${roots.join(', ')}`;
  if (ctx.cutShort) return `the run was cut short before this was judged (${ctx.cutShort})`;
  const told = ctx.notJudged?.(id);
  if (told) return told;
  const by = ctx.judgeability?.get(id);
  if (!ctx.judgeability) return 'not judged in this run';
  if (!by || (!by.checks.length && !by.scenarios.length)) return 'no scenario of this harness provokes this situation yet';
  const scenariosRun = by.scenarios.filter((s) => ctx.ran?.has(s.id));
  const situations = [...new Set(by.checks.map((c) => c.when).filter((w): w is string => !!w))];
  const reasons: string[] = [];
  if (by.scenarios.length && !scenariosRun.length) {
    const suites = [...new Set(by.scenarios.map((s) => s.suite))];
    const restriction = ctx.selection ? ` (this run: ${ctx.selection})` : '';
    reasons.push(`the ${suites.join(' or ')} suite judges it, and this run did not include it${restriction}; run it with --suite ${suites[0]}`);
  } else if (scenariosRun.length && !situations.length) {
    reasons.push(`the scenario ran but did not reach this requirement (${scenariosRun.map((s) => s.id).join(', ')})`);
  }
  if (situations.length) reasons.push(`the situation did not arise in this run: it needs ${situations.join(', or ')}`);
  return reasons.length ? reasons.join('; ') : 'the situation this rule is about did not arise in this run';
}

function describe(items: Seen[]): string {
  const lines = items.slice(0, EVIDENCE_LIMIT).map((s) => `${s.finding.evidence} [${s.test}]`);
  if (items.length > EVIDENCE_LIMIT) lines.push(`… and ${items.length - EVIDENCE_LIMIT} more`);
  return lines.join('\n');
}

export interface Summary {
  /** Every row of the mode: passed + failed + warned + inconclusive + notApplicable. */
  total: number;
  passed: number;
  failed: number;
  warned: number;
  /** Rows not judged, out-of-scope rows included: notJudged + outOfScope. */
  inconclusive: number;
  notApplicable: number;
  /** Rows in scope that this run did not judge. */
  notJudged: number;
  /** Rows that cannot be observed over this transport. */
  outOfScope: number;
}

export function summarize(rows: readonly RequirementVerdict[]): Summary {
  const count = (v: Verdict) => rows.filter((r) => r.verdict === v).length;
  const outOfScopeRows = rows.filter((r) => r.verdict === 'inconclusive' && r.outOfScope).length;
  return {
    total: rows.length,
    passed: count('pass'),
    failed: count('fail'),
    warned: count('warn'),
    inconclusive: count('inconclusive'),
    notApplicable: count('not-applicable'),
    notJudged: count('inconclusive') - outOfScopeRows,
    outOfScope: outOfScopeRows,
  };
}

export interface LevelCoverage {
  rows: number;
  /** pass, fail or warn: the rule was exercised. */
  judged: number;
  notApplicable: number;
  notJudged: number;
  outOfScope: number;
}

export type Coverage = LevelCoverage & { byLevel: Record<Level, LevelCoverage> };

const LEVEL_ORDER: readonly Level[] = ['MUST', 'MUST NOT', 'SHOULD', 'SHOULD NOT', 'MAY'];

function coverageOfRows(rows: readonly RequirementVerdict[]): LevelCoverage {
  const judged = rows.filter((r) => r.verdict === 'pass' || r.verdict === 'fail' || r.verdict === 'warn').length;
  const notApplicable = rows.filter((r) => r.verdict === 'not-applicable').length;
  const outOfScopeRows = rows.filter((r) => r.verdict === 'inconclusive' && r.outOfScope).length;
  return { rows: rows.length, judged, notApplicable, notJudged: rows.length - judged - notApplicable - outOfScopeRows, outOfScope: outOfScopeRows };
}

/** Judged, not judged and out of scope, over all rows and by level: what a report leads with. */
export function coverageOf(rows: readonly RequirementVerdict[]): Coverage {
  const byLevel = Object.fromEntries(LEVEL_ORDER.map((l) => [l, coverageOfRows(rows.filter((r) => r.level === l))])) as Record<Level, LevelCoverage>;
  return { ...coverageOfRows(rows), byLevel };
}

/** One line: `judged 120 of 154 rows (MUST 98/120, …), 3 not applicable, 30 not judged, 1 out of scope`. */
export function coverageLine(c: Coverage): string {
  const levels = LEVEL_ORDER.filter((l) => c.byLevel[l].rows).map((l) => `${l} ${c.byLevel[l].judged}/${c.byLevel[l].rows}`).join(', ');
  return `judged ${c.judged} of ${c.rows} rows (${levels}); ${c.notApplicable} not applicable, ${c.notJudged} not judged, ${c.outOfScope} out of scope`;
}
