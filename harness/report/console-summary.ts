/**
 * The end of a run on the console, for vendors: the failures (requirement, level, its words, the evidence), the
 * warnings, the security advisories, then coverage and the counts. Bounded: one failing requirement prints a handful
 * of lines however many times it was seen; everything else is in the report.
 */
import type { ConformanceReport } from './report';
import { coverageLine, type RequirementVerdict } from './verdicts';

const EVIDENCE_LINES = 3;
const CONSEQUENCE_LINES = 3;
const TEXT_CHARS = 220;

function clip(text: string, max: number): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

function levelOf(r: RequirementVerdict): string {
  return `${r.level}${r.windowsInterop ? ', Windows interoperability' : ''}${r.basis === 'O' ? ', observed traffic' : ''}`;
}

function rowLines(tag: string, r: RequirementVerdict): string[] {
  const lines = [`  ${tag} ${r.id} (${levelOf(r)}, ${r.section}): ${clip(r.text.replace(/`/g, ''), TEXT_CHARS)}`];
  const evidence = r.evidence.split('\n').filter(Boolean);
  for (const e of evidence.slice(0, EVIDENCE_LINES)) lines.push(`       ${clip(e, 400)}`);
  if (evidence.length > EVIDENCE_LINES) lines.push(`       … ${evidence.length - EVIDENCE_LINES} more in the report`);
  const consequences = r.consequences ?? [];
  for (const c of consequences.slice(0, CONSEQUENCE_LINES)) lines.push(`       consequence, not counted: ${c.id}: ${clip(c.evidence, 300)}`);
  if (consequences.length > CONSEQUENCE_LINES) lines.push(`       … ${consequences.length - CONSEQUENCE_LINES} more consequences in the report`);
  return lines;
}

export function consoleSummary(report: ConformanceReport): string[] {
  const lines: string[] = [];
  const failed = report.requirements.filter((r) => r.verdict === 'fail');
  const warned = report.requirements.filter((r) => r.verdict === 'warn');
  const expected = new Set(report.expectations?.met.map((x) => x.id) ?? []);
  if (failed.length) {
    lines.push(`failures (${failed.length}):`);
    for (const r of failed) lines.push(...rowLines(expected.has(r.id) ? 'EXPECTED FAIL' : 'FAIL', r));
  }
  if (warned.length) {
    lines.push(`warnings (${warned.length}; they fail the run only with --strict):`);
    for (const r of warned) lines.push(...rowLines('WARN', r));
  }
  const advisories = report.advisories ?? [];
  if (advisories.length) {
    lines.push(`security advisories (${advisories.length}; no catalogue requirement, they never fail the run):`);
    for (const a of advisories) lines.push(`  SECURITY ADVISORY ${a.probe}: ${clip(a.evidence.split('\n')[0], 300)}${a.test ? ` [${a.test}]` : ''}`);
  }
  const s = report.summary;
  lines.push(`coverage: ${coverageLine(report.coverage)}`);
  lines.push(`${report.mode} conformance: ${s.failed} failed, ${s.warned} warned, ${s.passed} passed, ${s.notApplicable} not applicable, ${s.notJudged} not judged, ${s.outOfScope} out of scope (${s.total} rows, seed ${report.seed})`);
  return lines;
}
