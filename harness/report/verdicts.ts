/**
 * From findings to verdicts (architecture principle 4): MUST and MUST NOT violations fail; SHOULD, SHOULD NOT and
 * observed-traffic rows (basis O) are warnings unless --strict; a MAY is never failed; rows whose basis is Windows
 * documentation are judged as Windows interoperability and flagged so. A requirement nothing exercised is
 * inconclusive, never pass.
 */
import type { Finding } from '../checks/finding';
import { requirement, type Requirement } from '../checks/registry';

export type Verdict = 'pass' | 'fail' | 'inconclusive' | 'not-applicable';
export type GradedVerdict = 'pass' | 'fail' | 'warn' | 'inconclusive' | 'not-applicable';

export function grade(f: Pick<Finding, 'id' | 'verdict'>, strict = false): GradedVerdict {
  if (f.verdict !== 'fail' && f.verdict !== 'warn') return f.verdict;
  const r = requirement(f.id);
  if (r.level === 'MAY') return 'warn';
  if (f.verdict === 'warn') return strict ? 'fail' : 'warn';
  const weak = r.level === 'SHOULD' || r.level === 'SHOULD NOT' || r.basis === 'O';
  return weak && !strict ? 'warn' : 'fail';
}

export interface TestFindings {
  /** Title of the test that produced them. */
  test: string;
  findings: Finding[];
}

export interface RequirementVerdict {
  id: string;
  section: string;
  level: Requirement['level'];
  role: Requirement['role'];
  phase: Requirement['phase'];
  basis: Requirement['basis'];
  url?: string;
  verdict: Verdict;
  /** Set when the only deviations were warnings (SHOULD-level, observed-traffic rows, catalogue-sanctioned). */
  warning?: string;
  /** True for rows based on Windows documentation: a failure is a Windows-interoperability failure. */
  windowsInterop?: true;
  tests: string[];
  evidence: string;
  /**
   * Where the deviations behind a fail (or a warning) were seen: test, message and element, read from the
   * evidence (`msg 3 (server->device) /SyncBody/Status[2]/CmdRef`). Absent when the evidence names no message.
   */
  locations?: EvidenceLocation[];
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

const EVIDENCE_LIMIT = 5;
const LOCATION_LIMIT = 20;

export function aggregate(ids: Iterable<string>, results: readonly TestFindings[], strict = false): RequirementVerdict[] {
  const byId = new Map<string, { test: string; finding: Finding; graded: GradedVerdict }[]>();
  for (const r of results) {
    for (const finding of r.findings) {
      const list = byId.get(finding.id) ?? [];
      list.push({ test: r.test, finding, graded: grade(finding, strict) });
      byId.set(finding.id, list);
    }
  }
  const out: RequirementVerdict[] = [];
  for (const id of new Set([...ids, ...byId.keys()])) {
    const req = requirement(id);
    const seen = byId.get(id) ?? [];
    const of = (v: GradedVerdict) => seen.filter((s) => s.graded === v);
    const fails = of('fail');
    const warns = of('warn');
    let verdict: Verdict;
    let evidence: string;
    if (fails.length) {
      verdict = 'fail';
      evidence = describe(fails);
    } else if (of('pass').length || warns.length) {
      verdict = 'pass';
      evidence = warns.length ? describe(warns) : `exercised by ${new Set(of('pass').map((s) => s.test)).size} test(s); no deviation observed`;
    } else if (of('not-applicable').length) {
      verdict = 'not-applicable';
      evidence = of('not-applicable')[0].finding.evidence;
    } else {
      verdict = 'inconclusive';
      evidence = seen.length ? describe(seen) : 'no test of this run exercised it';
    }
    const row: RequirementVerdict = {
      id, section: req.sections, level: req.level, role: req.role, phase: req.phase, basis: req.basis,
      verdict, tests: [...new Set(seen.map((s) => s.test))], evidence,
    };
    if (req.url) row.url = req.url;
    if (!fails.length && warns.length) row.warning = describe(warns);
    if (req.basis === 'W') row.windowsInterop = true;
    const located = locationsOf(fails.length ? fails : warns).slice(0, LOCATION_LIMIT);
    if (located.length) row.locations = located;
    out.push(row);
  }
  return out.sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));
}

function describe(items: { test: string; finding: Finding }[]): string {
  const lines = items.slice(0, EVIDENCE_LIMIT).map((s) => `${s.finding.evidence} [${s.test}]`);
  if (items.length > EVIDENCE_LIMIT) lines.push(`… and ${items.length - EVIDENCE_LIMIT} more`);
  return lines.join('\n');
}

export function summarize(rows: readonly RequirementVerdict[]): { passed: number; failed: number; inconclusive: number; notApplicable: number; warnings: number } {
  return {
    passed: rows.filter((r) => r.verdict === 'pass').length,
    failed: rows.filter((r) => r.verdict === 'fail').length,
    inconclusive: rows.filter((r) => r.verdict === 'inconclusive').length,
    notApplicable: rows.filter((r) => r.verdict === 'not-applicable').length,
    warnings: rows.filter((r) => r.warning).length,
  };
}
