/**
 * The suites of each mode and what can judge each catalogue row: the scenarios (by their declared requirements) and
 * the passive checks (by their ids). A suite is named by the first segment of its scenarios' ids (`setup/minimal-
 * session` belongs to `setup`), and that one name is used everywhere: `--suite`, test titles, the console, the
 * summary page and JUnit.
 *
 * Reports read this to say why a row was not judged: no scenario of the harness provokes it, the suite that would
 * was not part of this run, or the situation a passive check needs did not arise.
 */
import type { Check } from '../checks/finding';
import type { ClientUnderTest } from './client';
import type { Scenario } from './scenario';
import type { ServerUnderTest } from './server';

export type Mode = 'server' | 'client';

/** In the order a run goes through them. */
export const SUITE_NAMES = [
  'setup', 'get-results', 'management-rounds', 'termination', 'auth', 'large-objects', 'robustness', 'security', 'fuzz',
] as const;
export type SuiteName = (typeof SUITE_NAMES)[number];

export function suiteOf(scenarioId: string): SuiteName {
  const name = scenarioId.split('/')[0] as SuiteName;
  if (!SUITE_NAMES.includes(name)) throw new Error(`scenario ${scenarioId} is in no suite: its id must start with one of ${SUITE_NAMES.join(', ')}`);
  return name;
}

function bySuite<T>(scenarios: readonly Scenario<T>[]): ReadonlyMap<SuiteName, readonly Scenario<T>[]> {
  const out = new Map<SuiteName, Scenario<T>[]>();
  for (const s of scenarios) {
    const suite = suiteOf(s.id);
    out.set(suite, [...(out.get(suite) ?? []), s]);
  }
  return out;
}

/**
 * The scenarios and checks of a mode, loaded when first asked for: a run of one mode (its test runner and its
 * worker) never loads the other mode's scenarios and checks.
 */
interface ModeContent {
  suites: ReadonlyMap<SuiteName, readonly Scenario<never>[]>;
  judgeability: ReadonlyMap<string, Judgeability>;
}
const loaded: Partial<Record<Mode, ModeContent>> = {};

function content(mode: Mode): ModeContent {
  let c = loaded[mode];
  if (!c) {
    const scenarios = (mode === 'server'
      ? (require('./server') as typeof import('./server')).SERVER_SCENARIOS
      : (require('./client') as typeof import('./client')).CLIENT_SCENARIOS) as readonly Scenario<unknown>[];
    const checks = (mode === 'server'
      ? (require('../checks/server-checks') as typeof import('../checks/server-checks')).SERVER_CHECKS
      : (require('../checks/client-checks') as typeof import('../checks/client-checks')).CLIENT_CHECKS) as readonly Check<never>[];
    c = loaded[mode] = { suites: bySuite(scenarios) as ReadonlyMap<SuiteName, readonly Scenario<never>[]>, judgeability: index(checks, scenarios) };
  }
  return c;
}

/** The scenarios of one suite of a mode, in run order (empty when the mode has no such suite). */
export function scenariosOf(mode: 'server', suite: SuiteName): readonly Scenario<ServerUnderTest>[];
export function scenariosOf(mode: 'client', suite: SuiteName): readonly Scenario<ClientUnderTest>[];
export function scenariosOf(mode: Mode, suite: SuiteName): readonly Scenario<never>[];
export function scenariosOf(mode: Mode, suite: SuiteName): readonly Scenario<never>[] {
  return content(mode).suites.get(suite) ?? [];
}

/** The suites a mode has. */
export function suitesOf(mode: Mode): SuiteName[] {
  return SUITE_NAMES.filter((s) => content(mode).suites.has(s));
}

export interface Judgeability {
  /** Passive checks that can report the row, with the situation each needs. */
  checks: { name: string; when?: string }[];
  /** Scenarios that exist to judge it. */
  scenarios: { id: string; suite: SuiteName; title: string }[];
}

function index(checks: readonly Check<never>[], scenarios: readonly Scenario<unknown>[]): ReadonlyMap<string, Judgeability> {
  const out = new Map<string, Judgeability>();
  const entry = (id: string) => {
    let e = out.get(id);
    if (!e) out.set(id, (e = { checks: [], scenarios: [] }));
    return e;
  };
  for (const c of checks) {
    for (const id of c.ids) entry(id).checks.push({ name: c.name, when: typeof c.when === 'string' ? c.when : c.when?.[id] });
  }
  for (const s of scenarios) for (const id of s.requirements) entry(id).scenarios.push({ id: s.id, suite: suiteOf(s.id), title: s.title });
  return out;
}

/** What, in this harness, can judge each row in the given mode. */
export function judgeability(mode: Mode): ReadonlyMap<string, Judgeability> {
  return content(mode).judgeability;
}
