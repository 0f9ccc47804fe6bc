/**
 * Reads the requirements catalogue (markdown) into the data the harness ships with:
 *
 *   buildRegistry(markdown) -> { requirements: RequirementsFile, codes: CodesFile }
 *   renderJson(value)       -> the exact text written to disk
 *
 * Pure: no file system, no clock, no environment, so the committed JSON can be proven to be exactly what the
 * catalogue says (tests/unit/registry.spec.ts regenerates it in memory). Every problem found is collected and
 * reported together, each naming the catalogue line and row, because a half-parsed catalogue would let a suite cite
 * a requirement that silently lost its text or role.
 */
import { BASES, LEVELS, PHASES, ROLES, type Basis, type Level, type Phase, type Role } from '../harness/checks/catalogue-terms';
import type { Requirement, RequirementsFile, Source } from '../harness/checks/registry';
import type { AlertCodeInfo, AlertTypeInfo, CodesFile, StatusCodeInfo } from '../harness/syncml/codes';

export class CatalogueError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`requirements catalogue rejected (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  - ${problems.join('\n  - ')}`);
    this.name = 'CatalogueError';
  }
}

export interface BuiltRegistry {
  requirements: RequirementsFile;
  codes: CodesFile;
}


/** Two-space indentation and a final newline: the form committed to git, so diffs stay line-based. */
export function renderJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

export function buildRegistry(markdown: string): BuiltRegistry {
  const lines = markdown.replace(/\r\n?/g, '\n').split('\n');
  const problems: string[] = [];

  const sources = parseSources(section(lines, /^## 1\. /, problems), problems);
  const before = problems.length;
  const requirements = parseRequirements(section(lines, /^## 2\. /, problems), sources, problems);
  checkStatistics(section(lines, /^## 5\. /, problems), requirements, problems.length > before, problems);
  const alertSection = section(lines, /^### 3\.4 /, problems);
  const alerts = parseAlertCodes(alertSection, problems);
  const alertTypes = parseAlertTypes(alertSection, problems);
  const statuses = parseStatusCodes(section(lines, /^### 3\.5 /, problems), problems);

  if (problems.length > 0) throw new CatalogueError(problems);
  return {
    requirements: { count: requirements.length, sources, requirements },
    codes: { alerts, alertTypes, statuses },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Markdown plumbing

interface Line {
  /** 1-based line number in the catalogue, for error messages. */
  no: number;
  text: string;
}

/** The lines under a heading, up to the next heading of the same or a higher level. */
function section(lines: readonly string[], heading: RegExp, problems: string[]): Line[] {
  const start = lines.findIndex((l) => heading.test(l));
  if (start < 0) {
    problems.push(`no heading matching ${heading} in the catalogue`);
    return [];
  }
  const level = /^#+/.exec(lines[start])![0].length;
  const out: Line[] = [];
  for (let i = start + 1; i < lines.length; i++) {
    const m = /^(#+) /.exec(lines[i]);
    if (m && m[1].length <= level) break;
    out.push({ no: i + 1, text: lines[i] });
  }
  return out;
}

interface Table {
  /** Line of the header row. */
  no: number;
  header: string[];
  rows: { no: number; cells: string[] }[];
}

/** Consecutive `|` lines form a table: header, separator, data rows. A row that does not close with `|` keeps its
 *  cell split honest by being reported rather than guessed at. */
function tables(lines: readonly Line[], problems: string[]): Table[] {
  const out: Table[] = [];
  let current: Table | undefined;
  let expectSeparator = false;
  for (const line of lines) {
    const text = line.text.trim();
    if (!text.startsWith('|')) {
      current = undefined;
      continue;
    }
    if (!text.endsWith('|') || text.endsWith('\\|')) {
      problems.push(`line ${line.no}: table row does not end with "|": ${excerpt(text)}`);
      continue;
    }
    const cells = splitCells(text);
    if (!current) {
      current = { no: line.no, header: cells, rows: [] };
      out.push(current);
      expectSeparator = true;
      continue;
    }
    if (expectSeparator) {
      expectSeparator = false;
      if (cells.every((c) => /^:?-{3,}:?$/.test(c))) continue;
      problems.push(`line ${line.no}: table header on line ${current.no} is not followed by a |---| separator`);
    }
    current.rows.push({ no: line.no, cells });
  }
  return out;
}

/** Cells between unescaped pipes; `\|` inside a cell is a literal pipe (GitHub table syntax). */
function splitCells(row: string): string[] {
  const cells: string[] = [];
  let cell = '';
  for (let i = 1; i < row.length - 1; i++) {
    const ch = row[i];
    if (ch === '\\' && row[i + 1] === '|') {
      cell += '|';
      i++;
    } else if (ch === '|') {
      cells.push(cell.trim());
      cell = '';
    } else {
      cell += ch;
    }
  }
  cells.push(cell.trim());
  return cells;
}

function sameHeader(actual: readonly string[], expected: readonly string[]): boolean {
  return actual.length === expected.length && actual.every((c, i) => c === expected[i]);
}

function excerpt(text: string, max = 80): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function unquote(text: string): string {
  const m = /^["“](.*)["”]$/.exec(text);
  return m ? m[1] : text;
}

// ---------------------------------------------------------------------------------------------------------------
// Section 1: sources

const SOURCES_HEADER = ['Key', 'Source', 'Notes'];
const URL_RE = /https?:\/\/[^\s<>()`|]+/g;

function cleanUrl(url: string): string {
  return url.replace(/[.,;:]+$/, '');
}

function parseSources(lines: readonly Line[], problems: string[]): Source[] {
  const found = tables(lines, problems);
  if (found.length !== 1 || !sameHeader(found[0].header, SOURCES_HEADER)) {
    problems.push(`section 1 must hold exactly one table headed | ${SOURCES_HEADER.join(' | ')} |`);
    return [];
  }
  const out: Source[] = [];
  for (const row of found[0].rows) {
    if (row.cells.length !== SOURCES_HEADER.length) {
      problems.push(`line ${row.no}: sources row has ${row.cells.length} cells, expected ${SOURCES_HEADER.length}: ${excerpt(row.cells.join(' | '))}`);
      continue;
    }
    const [key, text, notes] = row.cells;
    if (!/^[A-Z][A-Z0-9-]*$/.test(key)) {
      problems.push(`line ${row.no}: source key "${key}" is not an upper-case key`);
      continue;
    }
    if (out.some((s) => s.key === key)) {
      problems.push(`line ${row.no}: source key ${key} is listed twice`);
      continue;
    }
    out.push(parseSource(key, text, notes, row.no, problems));
  }
  return out;
}

function parseSource(key: string, text: string, notes: string, no: number, problems: string[]): Source {
  const urls = [...text.matchAll(URL_RE)];
  const source: Source = { key, title: '' };
  if (urls.length > 0) {
    // The first URL is the document itself (the landing page for MS-MDM, the PDF for OMA documents); later ones
    // are mirrors, section pages or cross-checks.
    source.title = unquote(
      text
        .slice(0, urls[0].index)
        .replace(/\b(Landing page|URL):?\s*$/i, '')
        .trim()
        .replace(/[\s,.;:]+$/, ''),
    );
    source.url = cleanUrl(urls[0][0]);
  } else {
    const repo = /^(.*?):\s*repo\s+`([^`]+)`\s*,\s*`([^`]+)`/.exec(text);
    if (repo) {
      source.title = repo[1].trim();
      source.reference = `${repo[2]}: ${repo[3]}`;
    } else {
      // e.g. `Blog post "Title" (date), which reproduces … (site; exact URL path not verified)`: the relative clause
      // describes the source rather than naming it, and its closing parenthesis says where to look.
      const clause = /^(.*?),\s+which\s.*?(?:\(([^()]*)\))?$/.exec(text);
      source.title = clause ? clause[1].trim() : text;
      if (clause?.[2]) source.reference = clause[2].trim();
    }
  }
  if (!source.title) problems.push(`line ${no}: source ${key} has no title before its URL`);

  const located = /Section pages located:(.*)$/.exec(text);
  if (located) {
    const base = /\(all under (https?:\/\/\S+?)\)/.exec(located[1])?.[1];
    const pages: Record<string, string> = {};
    for (const m of located[1].matchAll(/§(\d+(?:\.\d+)*)\s+(\S+)/g)) {
      let url = m[2];
      if (url.startsWith('…/')) {
        if (!base) {
          problems.push(`line ${no}: section page §${m[1]} of ${key} is abbreviated with "…/" but no "(all under …)" base is given`);
          continue;
        }
        url = base.replace(/\/?$/, '/') + url.slice(2);
      }
      url = cleanUrl(url);
      if (!/^https:\/\//.test(url)) {
        problems.push(`line ${no}: section page §${m[1]} of ${key} is not an https URL: ${url}`);
        continue;
      }
      if (pages[m[1]] !== undefined) problems.push(`line ${no}: section page §${m[1]} of ${key} is listed twice`);
      pages[m[1]] = url;
    }
    if (Object.keys(pages).length === 0) problems.push(`line ${no}: source ${key} says "Section pages located" but none could be read`);
    source.sectionPages = pages;
  }
  if (notes) source.notes = notes;
  return source;
}

// ---------------------------------------------------------------------------------------------------------------
// Section 2: requirement rows

const REQUIREMENT_HEADER = ['ID', 'Section(s)', 'Role', 'Level', 'Basis', 'Phase', 'Requirement (testable restatement)'];
const ID_RE = /^MDM-([A-Z]+(?:-[A-Z]+)?)-(\d{3})$/;

function parseRequirements(lines: readonly Line[], sources: readonly Source[], problems: string[]): Requirement[] {
  // Split into subsections first, so that each row can be checked against the id families its heading names,
  // e.g. "### 2.6 Get and Results (CMD-GET, RES)".
  const groups: { heading: Line; lines: Line[] }[] = [];
  for (const line of lines) {
    if (/^### /.test(line.text)) groups.push({ heading: line, lines: [] });
    else if (groups.length > 0) groups[groups.length - 1].lines.push(line);
    else if (line.text.trim().startsWith('|')) problems.push(`line ${line.no}: table row before the first 2.x subsection heading`);
  }

  const out: Requirement[] = [];
  const seen = new Map<string, number>();
  for (const group of groups) {
    const m = /^### (2\.\d+) .*\(([A-Z, -]+)\)\s*$/.exec(group.heading.text);
    if (!m) problems.push(`line ${group.heading.no}: subsection heading does not name its id families in parentheses: ${excerpt(group.heading.text)}`);
    const subsection = m?.[1] ?? group.heading.text.replace(/^### /, '');
    const families = m?.[2].split(',').map((f) => f.trim());
    const found = tables(group.lines, problems);
    if (found.length === 0) problems.push(`line ${group.heading.no}: subsection ${subsection} has no requirement table`);
    for (const table of found) {
      if (!sameHeader(table.header, REQUIREMENT_HEADER)) {
        problems.push(`line ${table.no}: requirement table header is | ${table.header.join(' | ')} |, expected | ${REQUIREMENT_HEADER.join(' | ')} |`);
        continue;
      }
      for (const row of table.rows) {
        const req = parseRequirementRow(row.no, row.cells, families, subsection, sources, problems);
        if (!req) continue;
        const previous = seen.get(req.id);
        if (previous !== undefined) {
          problems.push(`line ${row.no} (row ${req.id}): duplicate id ${req.id} (first defined on line ${previous})`);
          continue;
        }
        seen.set(req.id, row.no);
        out.push(req);
      }
    }
  }
  return out;
}

function parseRequirementRow(
  no: number,
  cells: readonly string[],
  families: readonly string[] | undefined,
  subsection: string,
  sources: readonly Source[],
  problems: string[],
): Requirement | undefined {
  const name = cells[0] ? `row ${cells[0]}` : 'row';
  const where = `line ${no} (${name})`;
  if (cells.length !== REQUIREMENT_HEADER.length) {
    problems.push(`${where}: ${cells.length} cells, expected ${REQUIREMENT_HEADER.length} (an unescaped "|" in the text?)`);
    return undefined;
  }
  const [id, sections, role, level, basis, phase, text] = cells;
  const before = problems.length;
  const idMatch = ID_RE.exec(id);
  if (!idMatch) problems.push(`${where}: id "${id}" is not of the form MDM-<FAMILY>-<nnn>`);
  else if (families && !families.includes(idMatch[1])) {
    problems.push(`${where}: family ${idMatch[1]} does not belong under subsection ${subsection} (${families.join(', ')})`);
  }
  if (!sections) problems.push(`${where}: empty Section(s)`);
  if (!oneOf(ROLES, role)) problems.push(`${where}: role "${role}" is not one of ${ROLES.join(', ')}`);
  if (!oneOf(LEVELS, level)) problems.push(`${where}: level "${level}" is not one of ${LEVELS.join(', ')}`);
  if (!oneOf(BASES, basis)) problems.push(`${where}: basis "${basis}" is not one of ${BASES.join(', ')}`);
  if (!oneOf(PHASES, phase)) problems.push(`${where}: phase "${phase}" is not one of ${PHASES.join(', ')}`);
  if (!text) problems.push(`${where}: empty requirement text`);
  const url = sections ? urlFor(sections, sources, where, problems) : undefined;
  if (problems.length > before) return undefined;

  const req: Requirement = { id, sections, role: role as Role, level: level as Level, basis: basis as Basis, phase: phase as Phase, text };
  if (url) req.url = url;
  return req;
}

function oneOf<T extends string>(allowed: readonly T[], value: string): value is T {
  return (allowed as readonly string[]).includes(value);
}

/**
 * The URL of the first cited source that has one. Citations are `;`-separated and each starts with a source key.
 * For MS-MDM the first section number of the citation picks a section page when section 1 lists one for exactly
 * that number; anything else (other sections, Appendix B notes `<n>`, §4 examples) gets the landing page, because a
 * parent page is not where the text of a subsection lives.
 */
function urlFor(sections: string, sources: readonly Source[], where: string, problems: string[]): string | undefined {
  let url: string | undefined;
  for (const citation of sections.split(';').map((c) => c.trim())) {
    const key = /^\S+/.exec(citation)?.[0] ?? '';
    const source = sources.find((s) => s.key === key);
    if (!source) {
      problems.push(`${where}: citation "${citation}" does not start with a source key of section 1`);
      continue;
    }
    if (url !== undefined) continue;
    const first = citation.slice(key.length).trim().split(',')[0].trim();
    const number = /^\d+(?:\.\d+)*/.exec(first)?.[0];
    url = (number !== undefined ? source.sectionPages?.[number] : undefined) ?? source.url;
  }
  return url;
}

// ---------------------------------------------------------------------------------------------------------------
// Section 5: the totals the rows must add up to

const BASIS_WORDS: Record<string, Basis> = { normative: 'N', 'windows-documented': 'W', 'observed-only': 'O' };

/** With rows already rejected, only the total is compared: every breakdown would just repeat those rejections. */
function checkStatistics(lines: readonly Line[], rows: readonly Requirement[], rowsRejected: boolean, problems: string[]): void {
  const prose = lines.map((l) => l.text).join('\n');
  const total = /^(\d+) requirements\b/m.exec(prose);
  if (!total) {
    problems.push('section 5 does not state the number of requirements ("<n> requirements")');
  } else if (Number(total[1]) !== rows.length) {
    const note = rowsRejected ? ' (rows rejected above are not counted)' : '';
    problems.push(`section 5 states ${total[1]} requirements but section 2 has ${rows.length} well-formed rows${note}`);
  }
  if (rowsRejected) return;

  const levels = /Level: ([^.\n]*)/.exec(prose);
  if (!levels) problems.push('section 5 has no "Level:" breakdown');
  else {
    const stated = [...levels[1].matchAll(/(MUST NOT|SHOULD NOT|MUST|SHOULD|MAY) (\d+)/g)];
    for (const m of stated) compare(`level ${m[1]}`, Number(m[2]), rows.filter((r) => r.level === m[1]).length, problems);
    const missing = LEVELS.filter((l) => !stated.some((m) => m[1] === l));
    if (missing.length > 0) problems.push(`section 5 "Level:" breakdown does not mention ${missing.join(', ')}`);
  }
  const bases = /Basis: ([^.\n]*)/.exec(prose);
  if (!bases) problems.push('section 5 has no "Basis:" breakdown');
  else {
    const seen = new Set<Basis>();
    for (const m of bases[1].matchAll(/([A-Za-z-]+) (\d+)/g)) {
      const basis = BASIS_WORDS[m[1].toLowerCase()];
      if (!basis) problems.push(`section 5 basis "${m[1]}" is not one of ${Object.keys(BASIS_WORDS).join(', ')}`);
      else {
        seen.add(basis);
        compare(`basis ${basis}`, Number(m[2]), rows.filter((r) => r.basis === basis).length, problems);
      }
    }
    const missing = BASES.filter((b) => !seen.has(b));
    if (missing.length > 0) problems.push(`section 5 "Basis:" breakdown does not mention ${missing.join(', ')}`);
  }

  const found = tables(lines, problems);
  const grid = found.find((t) => sameHeader(t.header, ['Phase', 'client', 'server', 'both', 'total']));
  if (!grid) {
    problems.push('section 5 has no | Phase | client | server | both | total | table');
    return;
  }
  const labels = grid.rows.map((r) => r.cells[0].replace(/\*/g, ''));
  const absent = [...PHASES, 'total'].filter((p) => !labels.includes(p));
  if (absent.length > 0) problems.push(`section 5 phase table has no row for ${absent.join(', ')}`);
  for (const row of grid.rows) {
    const label = row.cells[0].replace(/\*/g, '');
    const counts = row.cells.slice(1).map((c) => /^(\*\*)?(\d+)\1$/.exec(c)?.[2]);
    if (row.cells.length !== 5 || counts.some((c) => c === undefined)) {
      problems.push(`line ${row.no}: section 5 phase row "${label}" does not hold four counts`);
      continue;
    }
    const num = (i: number) => Number(counts[i]);
    const inPhase = label === 'total' ? rows : rows.filter((r) => r.phase === label);
    if (label !== 'total' && !oneOf(PHASES, label)) {
      problems.push(`line ${row.no}: section 5 phase "${label}" is not one of ${PHASES.join(', ')}`);
      continue;
    }
    const phase = label === 'total' ? 'all phases' : label;
    ROLES.forEach((role, i) => compare(`${phase} × ${role}`, num(i), inPhase.filter((r) => r.role === role).length, problems));
    compare(`${phase} × any role`, num(3), inPhase.length, problems);
  }
}

function compare(what: string, stated: number, actual: number, problems: string[]): void {
  if (stated !== actual) problems.push(`section 5 states ${what} = ${stated} but the rows give ${actual}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Sections 3.4 and 3.5: alert and status codes

const ALERT_HEADER = ['Code', 'Name', 'Direction', 'Windows', 'Notes'];
const ALERT_TYPE_HEADER = ['Type', 'Alert', 'Data values', 'Source'];
const STATUS_HEADER = ['Code', 'Name', 'Meaning in DM', 'In WOMA table'];

function findTable(lines: readonly Line[], header: readonly string[], where: string, problems: string[]): Table | undefined {
  const table = tables(lines, problems).find((t) => sameHeader(t.header, header));
  if (!table) problems.push(`${where} has no table headed | ${header.join(' | ')} |`);
  return table;
}

/**
 * A range such as `1100–1104` is expanded to one entry per code, each keeping `range` so a reader can see it came
 * from a shared row: lookups by code then need no range arithmetic.
 */
function parseAlertCodes(lines: readonly Line[], problems: string[]): AlertCodeInfo[] {
  const table = findTable(lines, ALERT_HEADER, 'section 3.4', problems);
  const out: AlertCodeInfo[] = [];
  for (const row of table?.rows ?? []) {
    if (row.cells.length !== ALERT_HEADER.length) {
      problems.push(`line ${row.no}: alert row has ${row.cells.length} cells, expected ${ALERT_HEADER.length}`);
      continue;
    }
    const [code, name, direction, windows, notes] = row.cells;
    const codes = expandCode(code, row.no, problems);
    for (const c of codes) {
      const entry: AlertCodeInfo = { code: c, name, direction, windows, notes };
      if (codes.length > 1) entry.range = code;
      pushUnique(out, entry, row.no, 'alert', problems);
    }
  }
  return out;
}

function parseAlertTypes(lines: readonly Line[], problems: string[]): AlertTypeInfo[] {
  const table = findTable(lines, ALERT_TYPE_HEADER, 'section 3.4', problems);
  const out: AlertTypeInfo[] = [];
  for (const row of table?.rows ?? []) {
    if (row.cells.length !== ALERT_TYPE_HEADER.length) {
      problems.push(`line ${row.no}: alert type row has ${row.cells.length} cells, expected ${ALERT_TYPE_HEADER.length}`);
      continue;
    }
    const [type, alert, data, source] = row.cells;
    const literal = /^`([^`]+)`$/.exec(type);
    if (!literal) {
      problems.push(`line ${row.no}: alert type "${type}" is not a single backticked literal`);
      continue;
    }
    if (out.some((t) => t.type === literal[1])) {
      problems.push(`line ${row.no}: alert type ${literal[1]} is listed twice`);
      continue;
    }
    out.push({ type: literal[1], alert, data, source });
  }
  return out;
}

function parseStatusCodes(lines: readonly Line[], problems: string[]): StatusCodeInfo[] {
  const table = findTable(lines, STATUS_HEADER, 'section 3.5', problems);
  const out: StatusCodeInfo[] = [];
  for (const row of table?.rows ?? []) {
    if (row.cells.length !== STATUS_HEADER.length) {
      problems.push(`line ${row.no}: status row has ${row.cells.length} cells, expected ${STATUS_HEADER.length}`);
      continue;
    }
    const [code, name, meaning, inWomaTable] = row.cells;
    if (!/^\d{3}$/.test(code)) {
      problems.push(`line ${row.no}: status code "${code}" is not a three-digit code`);
      continue;
    }
    pushUnique(out, { code, name, meaning, inWomaTable }, row.no, 'status', problems);
  }
  return out;
}

function expandCode(cell: string, no: number, problems: string[]): string[] {
  if (/^\d{3,4}$/.test(cell)) return [cell];
  const range = /^(\d{3,4})\s*[–-]\s*(\d{3,4})$/.exec(cell);
  if (range) {
    const from = Number(range[1]);
    const to = Number(range[2]);
    if (from < to && to - from <= 100 && range[1].length === range[2].length) {
      return Array.from({ length: to - from + 1 }, (_, i) => String(from + i));
    }
  }
  problems.push(`line ${no}: code "${cell}" is neither a code nor an ascending range of codes`);
  return [];
}

function pushUnique<T extends { code: string }>(out: T[], entry: T, no: number, kind: string, problems: string[]): void {
  if (out.some((e) => e.code === entry.code)) problems.push(`line ${no}: ${kind} code ${entry.code} is listed twice`);
  else out.push(entry);
}
