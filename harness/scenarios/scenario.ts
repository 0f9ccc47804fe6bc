/**
 * A scenario is one scripted exchange with the implementation under test, named for what the harness does and
 * declaring the requirements it judges. Passive checks judge every message it produced; its own checks judge what
 * only this scenario can (e.g. "the Get of a missing node was answered 404").
 *
 * The same scenarios run in the Playwright suites (against a vendor's implementation) and in the self suite's
 * fault matrices (against each faulty reference peer), so a check proven there is the check a vendor gets.
 */
import type { Finding } from '../checks/finding';
import type { Phase } from '../checks/registry';
import { seeded, type Rng } from '../protocol/random';

/** Optional features an implementation declares in its capability profile. */
export type Feature = 'md5-auth' | 'basic-auth' | 'large-objects' | 'atomic' | 'wbxml' | 'message-signing' | 'hmac';

export interface Scenario<Target> {
  /** Stable id, `phase/name`. */
  id: string;
  phase: Phase;
  /** What the harness does, as a sentence. */
  title: string;
  /** Catalogue ids this scenario exists to judge (beyond the passive checks that run on every message). */
  requirements: readonly string[];
  /** Without this feature declared, the requirements are not applicable. */
  feature?: Feature;
  /** What the target must offer (e.g. a control adapter); without it the requirements are inconclusive. */
  needs?: (target: Target) => string | undefined;
  /**
   * Why the scenario does not apply to this target (a node role its map leaves out): its requirements are then
   * not applicable, as for an undeclared feature.
   */
  notApplicable?: (target: Target) => string | undefined;
  run(target: Target, out: ScenarioLog): Promise<void>;
}

/**
 * A security advisory: a weakness a probe found where the catalogue is silent. It is reported in its own section
 * and never changes a verdict or the exit code. `probe` is a stable label, e.g. `xml-external-entity`.
 */
export interface Advisory {
  probe: string;
  evidence: string;
}

/** What a scenario produced: findings, plus the transcripts that back them. */
export class ScenarioLog {
  /** Where the scenario's random choices come from: the run's seed, forked by the scenario's id. */
  readonly rng: Rng;
  private forks = 0;
  readonly findings: Finding[] = [];
  readonly advisories: Advisory[] = [];
  /** Human-readable steps and evidence, attached to reports. */
  readonly notes: string[] = [];
  readonly transcripts: unknown[] = [];
  /**
   * The transcript each finding was added after (its index), so a report can point at the session a finding's
   * `msg N` belongs to: scenarios record a session, then judge it.
   */
  readonly sessionOf = new Map<Finding, number>();

  constructor(rng: Rng = seeded()) {
    this.rng = rng;
  }

  /** A stream of its own for one peer the scenario starts (the n-th device, say): the order of starts fixes it. */
  nextRng(what: string): Rng {
    return this.rng.fork(`${what}-${++this.forks}`);
  }

  add(findings: readonly Finding[]): void {
    this.findings.push(...findings);
    if (this.transcripts.length) for (const f of findings) this.sessionOf.set(f, this.transcripts.length - 1);
  }

  /** Root causes by session: every other failure judged on that session is one of its consequences. */
  private readonly roots = new Map<number, string>();

  /**
   * One cause, one failure: the latest session failed because of `root` (a SessionID the server cannot parse, a
   * client that crashed mid-session), so every other failure judged on that session, by the passive checks or by
   * the scenario, follows from it: kept, listed under the root, not counted on its own.
   */
  blame(root: string): void {
    this.roots.set(this.transcripts.length - 1, root);
  }

  /** Applies the roots (at the end of the scenario, once every finding is in). */
  attributeConsequences(): void {
    for (const f of this.findings) {
      const session = this.sessionOf.get(f);
      const root = session === undefined ? undefined : this.roots.get(session);
      if (root && f.verdict === 'fail' && f.id !== root && !f.consequenceOf) f.consequenceOf = root;
    }
  }

  note(text: string): void {
    this.notes.push(text);
  }

  /** Reports a weakness no catalogue requirement covers (see Advisory). */
  advise(probe: string, evidence: string): void {
    this.advisories.push({ probe, evidence });
  }
}

export interface ScenarioResult {
  scenario: string;
  findings: Finding[];
  notes: string[];
  transcripts: unknown[];
  /** Parallel to `findings`: the index in `transcripts` of the session each was judged on, null when unknown. */
  findingSessions?: (number | null)[];
  /** Security advisories, when the scenario found any. */
  advisories?: Advisory[];
}

/** What every target offers: the run's seed (`--seed`), from which the scenario's random choices are drawn. */
export interface SeededTarget {
  seed?: number;
  /**
   * Where the entity-fetch canary of the XXE probes listens (`--canary-listen`); by default a free loopback port,
   * which only a peer on this machine can reach.
   */
  canaryListen?: { host: string; port: number };
}

export async function runScenario<T extends SeededTarget>(scenario: Scenario<T>, target: T, features: ReadonlySet<Feature>): Promise<ScenarioResult> {
  const log = new ScenarioLog(seeded(target.seed, scenario.id));
  const base = { scenario: scenario.id, notes: log.notes, transcripts: log.transcripts };
  if (scenario.feature && !features.has(scenario.feature)) {
    const evidence = `feature "${scenario.feature}" is not declared in the capability profile`;
    return { ...base, findings: scenario.requirements.map((id) => ({ id, verdict: 'not-applicable', check: scenario.id, evidence })) };
  }
  const outside = scenario.notApplicable?.(target);
  if (outside) {
    return { ...base, findings: scenario.requirements.map((id) => ({ id, verdict: 'not-applicable', check: scenario.id, evidence: outside })) };
  }
  const missing = scenario.needs?.(target);
  if (missing) {
    return { ...base, findings: scenario.requirements.map((id) => ({ id, verdict: 'inconclusive', check: scenario.id, evidence: missing })) };
  }
  await scenario.run(target, log);
  log.attributeConsequences();
  const judged = new Set(log.findings.map((f) => f.id));
  for (const id of scenario.requirements) {
    if (!judged.has(id)) log.findings.push({ id, verdict: 'inconclusive', check: scenario.id, evidence: 'the scenario ran but did not reach this requirement' });
  }
  const result: ScenarioResult = { ...base, findings: log.findings, findingSessions: log.findings.map((f) => log.sessionOf.get(f) ?? null) };
  if (log.advisories.length) result.advisories = log.advisories;
  return result;
}
