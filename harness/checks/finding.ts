/**
 * Findings: what a check concluded about one requirement, with evidence that points at a message and element.
 * A check reports `pass` only for requirements it actually exercised, so coverage is computed, never assumed.
 */
import { requirement } from './registry';
import { label, type WireMessage } from './session';

/**
 * `warn`: a deviation reported as a warning (a SHOULD, or a catalogue-sanctioned warning such as A-24).
 * `inconclusive`: the requirement could not be exercised (e.g. no --control to queue commands).
 * `not-applicable`: the requirement belongs to a feature the implementation does not declare.
 */
export type FindingVerdict = 'pass' | 'fail' | 'warn' | 'inconclusive' | 'not-applicable';

export interface Finding {
  id: string;
  verdict: FindingVerdict;
  /** Name of the check that judged, e.g. `headerStatusComesFirst`. */
  check: string;
  /** What was observed, e.g. `msg 4 (server->device) /SyncBody/Status[2]/CmdRef: expected 3, found 5`. */
  evidence: string;
  /**
   * A deviation that follows from another failure already reported (that failure's requirement id): one cause gives
   * one failure, so this one is listed under its root as a consequence and never counted on its own.
   */
  consequenceOf?: string;
}

export interface Check<S = unknown> {
  name: string;
  /** Requirements the check can judge (validated against the catalogue when the check is defined). */
  ids: readonly string[];
  /**
   * When the check's rules apply, in words a vendor can act on ("the server sent a large object in chunks"), per id
   * where they differ; a run in which the situation never arose reports the rule inconclusive with this reason.
   */
  when?: string | Readonly<Record<string, string>>;
  run(subject: S, judge: Judge): void;
}

/** The situation a check's rule needs, for the reason of a rule that was never exercised. */
export function situationOf(check: Pick<Check, 'when'>, id: string): string | undefined {
  return typeof check.when === 'string' ? check.when : check.when?.[id];
}

export function defineCheck<S>(check: Check<S>): Check<S> {
  for (const id of check.ids) requirement(id); // an unknown id is a defect of the check, caught at load
  return check;
}

const DECLARED = new WeakMap<object, ReadonlySet<string>>();

/** A check's ids as a set, made once per check: `saw` is called for every command of every message. */
function declaredIds(check: { ids: readonly string[] }): ReadonlySet<string> {
  let ids = DECLARED.get(check);
  if (!ids) DECLARED.set(check, (ids = new Set(check.ids)));
  return ids;
}

/** Collects one check's findings: violations with evidence, and a pass for each exercised id left unviolated. */
export class Judge {
  private readonly violations: Finding[] = [];
  private readonly exercised = new Set<string>();
  /** The check's ids, looked up once per judge rather than on every call of `saw`. */
  private readonly declared: ReadonlySet<string>;

  constructor(private readonly check: Check<never> | { name: string; ids: readonly string[] }) {
    this.declared = declaredIds(check);
  }

  /** The requirement was looked at: a pass unless a violation is also reported. */
  saw(...ids: string[]): void {
    for (const id of ids) {
      // Checks call this for every command they look at: an id already exercised was declared, nothing to add.
      if (this.exercised.has(id)) continue;
      this.assertDeclared(id);
      this.exercised.add(id);
    }
  }

  fail(id: string, at: WireMessage | undefined, path: string, message: string): void {
    this.report('fail', id, at, path, message);
  }

  /** A deviation the catalogue says to report as a warning (e.g. A-15, A-24), never a failure. */
  warn(id: string, at: WireMessage | undefined, path: string, message: string): void {
    this.report('warn', id, at, path, message);
  }

  /** A deviation that follows from `root`, a failure already reported: shown under it, not counted (one cause, one failure). */
  consequence(id: string, root: string, at: WireMessage | undefined, path: string, message: string): void {
    this.report('fail', id, at, path, message, root);
  }

  findings(): Finding[] {
    // A rule with a violation of its own, or one listed as a consequence of another, has no pass in this check.
    const judged = new Set(this.violations.map((v) => v.id));
    const passes: Finding[] = [...this.exercised]
      .filter((id) => !judged.has(id))
      .map((id) => ({ id, verdict: 'pass', check: this.check.name, evidence: 'no deviation observed' }));
    return [...this.violations, ...passes];
  }

  private report(verdict: FindingVerdict, id: string, at: WireMessage | undefined, path: string, message: string, root?: string): void {
    this.assertDeclared(id);
    const where = at ? `${label(at)}${path ? ` ${path}` : ''}: ` : path ? `${path}: ` : '';
    const finding: Finding = { id, verdict, check: this.check.name, evidence: `${where}${message}` };
    if (root) finding.consequenceOf = root;
    else this.exercised.add(id); // a consequence says nothing of its own rule: no pass either
    this.violations.push(finding);
  }

  private assertDeclared(id: string): void {
    if (!this.declared.has(id)) throw new Error(`check ${this.check.name} reports ${id}, which it does not declare`);
  }
}

export function runChecks<S>(checks: readonly Check<S>[], subject: S): Finding[] {
  const out: Finding[] = [];
  for (const check of checks) {
    const judge = new Judge(check as Check<never>);
    check.run(subject, judge);
    out.push(...judge.findings());
  }
  return out;
}
