/**
 * The fault matrix: every scenario of one side against the clean reference peer and against each of its faults.
 * A fault is detected when the run fails (a warning-only fault: when it warns); it hits the right requirement when
 * every id it declares is among the failures (or, for a warning-only fault, among the warnings). The clean peer must
 * produce no failure and leave nothing inconclusive. A faulty peer's run stops at the first scenario by which every
 * requirement it declares has been reported: the proof needs no more, and the matrix stays a matter of seconds.
 *
 * A fault that shows only in a WBXML run or a signing run (`runsWith`) is run that way: the peer started for it is
 * set up so (the embedded peers read `runsWith` from their faults) and the run declares the features such an
 * implementation declares (`wbxml`, `message-signing`). The clean row runs the same way through its variants.
 */
import type { Finding } from '../checks/finding';
import { grade, type GradedVerdict } from '../report/verdicts';
import { runOptionsOf, type Fault, type RunOptions } from '../protocol/fault';
import type { Mode } from './catalog';
import { coverageOf } from './coverage';
import { runScenario, type Feature, type Scenario, type SeededTarget } from './scenario';

export interface MatrixRow {
  fault: string;
  declared: readonly string[];
  failed: string[];
  warned: string[];
  inconclusive: string[];
  detected: boolean;
  rightRequirement: boolean;
  ms: number;
}

export interface MatrixPeer<T> {
  target: T;
  stop(): Promise<void>;
}

/** Runs the scenarios in order; `enough` may stop the run early once the findings so far settle the question. */
export async function runAll<T extends SeededTarget>(scenarios: readonly Scenario<T>[], target: T, features: ReadonlySet<Feature>, enough?: (f: Finding[]) => boolean): Promise<Finding[]> {
  const findings: Finding[] = [];
  for (const s of scenarios) {
    findings.push(...(await runScenario(s, target, features)).findings);
    if (enough?.(findings)) break;
  }
  return findings;
}

/** The features a run declares: the given ones, plus those its WBXML or signing set-up stands for. */
export function featuresFor(features: ReadonlySet<Feature>, run: RunOptions): ReadonlySet<Feature> {
  const out = new Set(features);
  if (run.encoding === 'wbxml') out.add('wbxml');
  if (run.signing) out.add('message-signing');
  return out;
}

export async function matrixRow<T extends SeededTarget, B>(
  fault: Fault<B> | undefined,
  scenarios: readonly Scenario<T>[],
  features: ReadonlySet<Feature>,
  start: (faults: readonly Fault<B>[]) => Promise<MatrixPeer<T>>,
): Promise<MatrixRow> {
  const t0 = Date.now();
  const declared = fault?.violates ?? [];
  // Graded as a run grades them: a SHOULD-level deviation is a warning, not a failure.
  const graded = (findings: Finding[], verdict: GradedVerdict) => [...new Set(findings.filter((f) => grade(f) === verdict).map((f) => f.id))];
  // A declared row whose failure the catalogue grades as a warning (SHOULD, MAY) is reported by its warning.
  const weak = (id: string) => grade({ id, verdict: 'fail' }) === 'warn';
  const reportsAll = (findings: Finding[]) => {
    const reported = new Set([...graded(findings, 'fail'), ...graded(findings, 'warn').filter((id) => fault?.warningOnly || weak(id))]);
    return declared.every((id) => reported.has(id));
  };
  const faults = fault ? [fault] : [];
  const peer = await start(faults);
  let findings: Finding[];
  try {
    // The clean peer runs every scenario; a faulty one stops as soon as every declared requirement is reported.
    findings = await runAll(scenarios, peer.target, featuresFor(features, runOptionsOf(faults)), fault ? reportsAll : undefined);
  } finally {
    await peer.stop();
  }
  const failed = graded(findings, 'fail');
  const warned = graded(findings, 'warn');
  return {
    fault: fault?.name ?? 'clean',
    declared,
    failed,
    warned,
    inconclusive: graded(findings, 'inconclusive'),
    detected: fault ? failed.length > 0 || (!!fault.warningOnly && warned.length > 0) : failed.length === 0,
    rightRequirement: fault ? reportsAll(findings) : failed.length === 0,
    ms: Date.now() - t0,
  };
}

/** Runs `work` over `items` with at most `limit` in flight, keeping the input order in the output. */
export async function inBatches<I, O>(items: readonly I[], limit: number, work: (item: I) => Promise<O>): Promise<O[]> {
  const out = new Array<O>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await work(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return out;
}

/**
 * The clean row: the clean peer and each conforming variant of it (an alternative the catalogue allows, such as
 * authenticating every message with 200 instead of 212). None may fail; a requirement is left inconclusive only when
 * no variant exercised it, since some situations arise only under one of the allowed behaviours.
 */
export async function cleanRow<T extends SeededTarget, B>(
  variants: readonly Fault<B>[],
  scenarios: readonly Scenario<T>[],
  features: ReadonlySet<Feature>,
  start: (faults: readonly Fault<B>[]) => Promise<MatrixPeer<T>>,
): Promise<MatrixRow> {
  const rows = [await matrixRow(undefined, scenarios, features, start)];
  for (const v of variants) rows.push({ ...(await matrixRow(undefined, scenarios, featuresFor(features, v.runsWith ?? {}), () => start([v]))), fault: v.name });
  const union = (pick: (r: MatrixRow) => string[]) => [...new Set(rows.flatMap(pick))].sort();
  const failed = union((r) => r.failed);
  return {
    fault: 'clean',
    declared: [],
    failed,
    warned: union((r) => r.warned),
    inconclusive: rows[0].inconclusive.filter((id) => rows.every((r) => r.inconclusive.includes(id))),
    detected: failed.length === 0,
    rightRequirement: failed.length === 0,
    ms: rows.reduce((n, r) => n + r.ms, 0),
  };
}

/**
 * The ids a check or scenario of the mode can report, and those of them the matrix showed failing: a fault declares
 * the id and its row reported every id it declares.
 */
export function proof(side: Mode, rows: readonly MatrixRow[]): { judgeable: string[]; proven: string[]; unproven: string[] } {
  const judgeable = coverageOf(side).filter((r) => r.judgedBy.length).map((r) => r.id);
  const shown = new Set(rows.filter((r) => r.rightRequirement).flatMap((r) => r.declared));
  return { judgeable, proven: judgeable.filter((id) => shown.has(id)), unproven: judgeable.filter((id) => !shown.has(id)) };
}

export function summaryLine(side: Mode, clean: MatrixRow, rows: MatrixRow[]): string {
  const detected = rows.filter((r) => r.detected).length;
  const right = rows.filter((r) => r.rightRequirement).length;
  const { judgeable, proven } = proof(side, rows);
  const ok = clean.detected && clean.inconclusive.length === 0;
  return `${side} faults detected: ${detected}/${rows.length}, right requirement: ${right}/${rows.length}, proven: ${proven.length}/${judgeable.length}, clean: ${ok ? 'pass' : 'FAIL'}`;
}
