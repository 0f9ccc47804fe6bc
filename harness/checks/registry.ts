/**
 * The requirements catalogue as typed data. `requirements.json` is generated from the catalogue markdown by
 * `npm run registry` (scripts/generate-registry.ts) and committed, so the harness never reads the catalogue itself.
 *
 * Suites and checks cite requirements through `requirement(id)`, which throws for an id that is not in the
 * catalogue: a verdict pinned on a non-existent requirement would be unreviewable.
 */
import { BASES, LEVELS, PHASES, ROLES, type Basis, type Level, type Phase, type Role } from './catalogue-terms';
import data from './requirements.json';

export type { Basis, Level, Phase, Role };


export interface Requirement {
  /** For example `MDM-AUTH-015`. */
  id: string;
  /** The catalogue's "Section(s)" cell verbatim, e.g. `MS-MDM 2.2.6.1; OMA-DMP 8.4, 8.5`. */
  sections: string;
  role: Role;
  level: Level;
  basis: Basis;
  phase: Phase;
  /** The testable restatement verbatim, markdown backticks included. */
  text: string;
  /** Public page of the first cited source that has one; absent when only captures are cited. */
  url?: string;
}

export interface Source {
  /** Key used in the Section(s) column, e.g. `MS-MDM`, `WOMA`, `OMA-DMP`. */
  key: string;
  title: string;
  url?: string;
  /** Where a source without a public URL can be found (a repository path). */
  reference?: string;
  /** Section number -> page, for the MS-MDM sections that have a page of their own. */
  sectionPages?: Record<string, string>;
  notes?: string;
}

export interface RequirementsFile {
  count: number;
  sources: Source[];
  requirements: Requirement[];
}

const isRole = new Set<string>(ROLES);
const isLevel = new Set<string>(LEVELS);
const isBasis = new Set<string>(BASES);
const isPhase = new Set<string>(PHASES);

/** The generator validates all of this; checking again on load catches a hand-edited or merge-mangled JSON
 *  before any verdict cites it. */
function load(file: RequirementsFile): { rows: readonly Requirement[]; byId: ReadonlyMap<string, Requirement> } {
  const byId = new Map<string, Requirement>();
  const rows = file.requirements.map((r) => {
    const bad =
      (!isRole.has(r.role) && `role "${r.role}"`) ||
      (!isLevel.has(r.level) && `level "${r.level}"`) ||
      (!isBasis.has(r.basis) && `basis "${r.basis}"`) ||
      (!isPhase.has(r.phase) && `phase "${r.phase}"`) ||
      (byId.has(r.id) && 'a duplicate id');
    if (bad) throw new Error(`harness/checks/requirements.json: ${r.id} has ${bad}; regenerate it with npm run registry`);
    const row = Object.freeze({ ...r });
    byId.set(row.id, row);
    return row;
  });
  if (rows.length !== file.count) {
    throw new Error(`harness/checks/requirements.json: holds ${rows.length} requirements but says ${file.count}; regenerate it with npm run registry`);
  }
  return { rows: Object.freeze(rows), byId };
}

const FILE = data as RequirementsFile;
const { rows, byId } = load(FILE);

/** Every requirement, in catalogue order. */
export const REQUIREMENTS: readonly Requirement[] = rows;

/** The catalogue's sources table (section 1). */
export const SOURCES: readonly Source[] = Object.freeze(FILE.sources.map((s) => Object.freeze({ ...s })));

export function isRequirementId(id: string): boolean {
  return byId.has(id);
}

export function requirement(id: string): Requirement {
  const row = byId.get(id);
  if (row) return row;
  const family = /^(MDM-[A-Z]+(?:-[A-Z]+)?)-\d+$/.exec(id)?.[1];
  const siblings = family ? rows.filter((r) => r.id.startsWith(`${family}-`)).map((r) => r.id) : [];
  const hint = siblings.length > 0 ? `; ${family} has ${siblings[0]}..${siblings[siblings.length - 1]}` : '';
  throw new Error(`unknown requirement id "${id}": it is not in the catalogue (harness/checks/requirements.json)${hint}`);
}

/** The rows one side must satisfy: those that bind it alone plus those that bind whichever side emits the construct. */
export function requirementsFor(role: 'client' | 'server'): readonly Requirement[] {
  return rows.filter((r) => r.role === role || r.role === 'both');
}
