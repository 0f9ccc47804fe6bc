/**
 * Content models of the DM elements, as data (catalogue section 3.2, DTD column), and the walk that checks an
 * element tree against them. A deviation names the catalogue requirement it breaks and the element path, for
 * example `/SyncBody/Status[2]/CmdRef`; parsing never fails because of one (lenient parse, strict judgement).
 *
 * Receivers must accept what the catalogue says they accept (MS-MDM's Status order, `Cmd` in Results, Alert without
 * Item): those shapes are in the models below or are judged by the checks layer, never refused here.
 */
import { METINF_NS, SYNCML_NS } from './model';
import type { XmlElement } from './xml';

export interface Deviation {
  /** Catalogue requirement id, for example `MDM-HDR-001`. */
  id: string;
  /** Element path inside the message, for example `/SyncBody/Status[2]/CmdRef`. */
  path: string;
  message: string;
}

type Occurs = '1' | '?' | '*' | '+';

interface Particle {
  /** One name, or a choice of names. */
  names: readonly string[];
  occurs: Occurs;
  /** Requirement broken when this particle is missing, when it is not the model's own. */
  missing?: string;
}

interface ContentModel {
  particles: Particle[];
  /** Requirement broken by an order, count or unknown-child deviation. */
  requirement: string;
  /** Requirement broken by a child that is not in the model (defaults to `requirement`). */
  unknownChild?: string;
  /** Child elements whose content is not SyncML (Data payloads, metinf fields): not descended into. */
  opaque?: boolean;
}

const p = (names: string | readonly string[], occurs: Occurs, missing?: string): Particle => ({
  names: typeof names === 'string' ? [names] : names,
  occurs,
  missing,
});

const CMD_ID = p('CmdID', '1', 'MDM-ID-001');
const NO_RESP = p('NoResp', '?');
const CRED = p('Cred', '?');
const META = p('Meta', '?');

/** Commands that may stand under SyncBody (DTD), and under Atomic and Sequence. */
export const BODY_COMMANDS = ['Alert', 'Atomic', 'Exec', 'Get', 'Results', 'Sequence', 'Status', 'Add', 'Replace', 'Delete'] as const;
const CONTAINER_MEMBERS = ['Add', 'Alert', 'Atomic', 'Delete', 'Exec', 'Get', 'Replace', 'Sequence'] as const;

const LEAVES = ['VerDTD', 'VerProto', 'SessionID', 'MsgID', 'RespURI', 'NoResp', 'LocURI', 'LocName', 'CmdID', 'MsgRef', 'CmdRef', 'Cmd', 'TargetRef', 'SourceRef', 'Correlator', 'Final', 'MoreData'];

export const CONTENT_MODELS: Record<string, ContentModel> = {
  SyncML: { particles: [p('SyncHdr', '1'), p('SyncBody', '1')], requirement: 'MDM-XML-002' },
  SyncHdr: {
    particles: [
      p('VerDTD', '1', 'MDM-HDR-002'), p('VerProto', '1', 'MDM-HDR-003'), p('SessionID', '1', 'MDM-HDR-004'), p('MsgID', '1'),
      p('Target', '1'), p('Source', '1'), p('RespURI', '?'), NO_RESP, CRED, META,
    ],
    requirement: 'MDM-HDR-001',
  },
  SyncBody: { particles: [p(BODY_COMMANDS, '+'), p('Final', '?')], requirement: 'MDM-XML-004', unknownChild: 'MDM-XML-005' },
  Status: {
    particles: [
      CMD_ID, p('MsgRef', '1'), p('CmdRef', '1'), p('Cmd', '1'), p('TargetRef', '*'), p('SourceRef', '*'),
      CRED, p('Chal', '?'), p('Data', '1'), p('Item', '*'),
    ],
    requirement: 'MDM-STS-001',
  },
  // `Cmd` is not in the DTD's Results but Windows sends it; accepted (catalogue A-05).
  Results: {
    particles: [CMD_ID, NO_RESP, p('MsgRef', '?'), p('CmdRef', '1'), p('Cmd', '?'), META, p('TargetRef', '?'), p('SourceRef', '?'), p('Item', '+')],
    requirement: 'MDM-RES-001',
  },
  Add: { particles: [CMD_ID, NO_RESP, CRED, META, p('Item', '+')], requirement: 'MDM-CMD-ADD-001' },
  Replace: { particles: [CMD_ID, NO_RESP, CRED, META, p('Item', '+')], requirement: 'MDM-CMD-REP-001' },
  Delete: {
    particles: [CMD_ID, NO_RESP, p('Archive', '?'), p('SftDel', '?'), CRED, META, p('Item', '+')],
    requirement: 'MDM-CMD-DEL-001',
  },
  Get: { particles: [CMD_ID, NO_RESP, p('Lang', '?'), CRED, META, p('Item', '+')], requirement: 'MDM-CMD-GET-001' },
  Exec: { particles: [CMD_ID, NO_RESP, CRED, META, p('Correlator', '?'), p('Item', '1')], requirement: 'MDM-CMD-EXE-001' },
  // Alert Items are 0..n (catalogue A-07); Data holds the code.
  Alert: {
    particles: [CMD_ID, NO_RESP, CRED, p('Data', '1'), p('Correlator', '?'), p('Item', '*')],
    requirement: 'MDM-CMD-ALT-002',
  },
  Atomic: { particles: [CMD_ID, NO_RESP, META, p(CONTAINER_MEMBERS, '+')], requirement: 'MDM-CMD-ATO-001' },
  Sequence: { particles: [CMD_ID, NO_RESP, META, p(CONTAINER_MEMBERS, '+')], requirement: 'MDM-XML-001' },
  Item: { particles: [p('Target', '?'), p('Source', '?'), META, p('Data', '?'), p('MoreData', '?')], requirement: 'MDM-XML-011' },
  Target: { particles: [p('LocURI', '1'), p('LocName', '?')], requirement: 'MDM-XML-001' },
  Source: { particles: [p('LocURI', '1'), p('LocName', '?')], requirement: 'MDM-XML-001' },
  Cred: { particles: [META, p('Data', '1')], requirement: 'MDM-AUTH-013' },
  Chal: { particles: [p('Meta', '1')], requirement: 'MDM-AUTH-018' },
  Meta: { particles: [], requirement: 'MDM-XML-012', opaque: true },
  Data: { particles: [], requirement: 'MDM-XML-001', opaque: true },
};

for (const leafName of LEAVES) CONTENT_MODELS[leafName] ??= { particles: [], requirement: 'MDM-XML-001' };

/** Checks a SyncML root element against the models; returns every deviation found, in document order. */
export function checkContentModels(root: XmlElement): Deviation[] {
  const out: Deviation[] = [];
  if (root.name !== 'SyncML') {
    out.push({ id: 'MDM-XML-002', path: `/${root.name}`, message: `root element is ${root.name}, expected SyncML` });
    return out;
  }
  if (root.ns !== SYNCML_NS) {
    out.push({
      id: 'MDM-XML-002',
      path: '/SyncML/@xmlns',
      message: root.ns ? `default namespace is "${root.ns}", expected "${SYNCML_NS}"` : `no default namespace, expected "${SYNCML_NS}"`,
    });
  }
  checkElement(root, MODELS.get('SyncML')!, [], out, root);
  return out;
}

/**
 * The elements from the root's child down to the one being checked. Paths are written from it only when a deviation
 * names one: most messages have none, and building the path of every element costs more than the check itself.
 */
type Trail = XmlElement[];

/** Paths are relative to SyncML, as the catalogue writes them: `/SyncBody/Status[2]/CmdRef` ('' is the root). */
function pathOf(root: XmlElement, trail: Trail, depth = trail.length): string {
  let path = '';
  let parent = root;
  for (let d = 0; d < depth; d++) {
    const el = trail[d];
    let nth = 0;
    let total = 0;
    for (const s of parent.children) {
      if (s.type !== 'element' || s.name !== el.name) continue;
      total++;
      if (s === el) nth = total;
    }
    path += `/${el.name}${total > 1 ? `[${nth}]` : ''}`;
    parent = el;
  }
  return path;
}

/** Particle counts, one array per nesting level, reused from message to message. */
const COUNTS: Int32Array[] = [];

/**
 * A content model made ready for the walk: each child name it allows leads to the child's particle and to the child's
 * own model, so that the walk looks up one map entry per element (the check runs for every element of every message).
 */
interface CompiledModel extends ContentModel {
  /** Child name -> its particle's position and the child's own model (undefined for a child without a model). */
  rules: ReadonlyMap<string, ChildRule>;
  /** The element holds text only. */
  leaf: boolean;
  /** Per particle: it must occur (`1`, `+`); it may occur at most once (`1`, `?`). */
  required: readonly boolean[];
  single: readonly boolean[];
}

interface ChildRule {
  position: number;
  model: CompiledModel | undefined;
}

/** Checks `el` (the last of `trail`, or the root when it is empty) and its descendants. */
function checkElement(el: XmlElement, model: CompiledModel, trail: Trail, out: Deviation[], root: XmlElement): void {
  if (model.opaque) {
    if (el.name === 'Meta') checkMetinf(el, root, trail, out);
    return;
  }
  const n = model.particles.length;
  if (n === 0) {
    const first = el.children.find((c) => c.type === 'element');
    if (first) out.push({ id: model.requirement, path: pathOf(root, trail) || '/', message: `${el.name} holds text only, found element ${(first as XmlElement).name}` });
    return;
  }
  const rules = model.rules;
  const depth = trail.length;
  const counts = (COUNTS[depth] ??= new Int32Array(32));
  for (let i = 0; i < n; i++) counts[i] = 0;
  let furthest = -1;
  for (const child of el.children) {
    if (child.type !== 'element') continue;
    trail.push(child);
    const rule = rules.get(child.name);
    if (rule === undefined) {
      out.push({ id: model.unknownChild ?? model.requirement, path: pathOf(root, trail), message: `${child.name} is not allowed in ${el.name}` });
      trail.pop();
      continue;
    }
    const q = rule.position;
    if (q < furthest) {
      const order = model.particles.map(particleName).join(', ');
      out.push({
        id: model.requirement,
        path: pathOf(root, trail),
        message: `${child.name} comes after ${particleName(model.particles[furthest])}; ${el.name} order is ${order}`,
      });
    } else furthest = q;
    counts[q]++;
    const childModel = rule.model;
    // Most children are text-only leaves (CmdID, MsgRef, LocURI): judged here, without a call.
    if (childModel?.leaf) {
      for (const c of child.children) {
        if (c.type !== 'element') continue;
        out.push({ id: childModel.requirement, path: pathOf(root, trail), message: `${child.name} holds text only, found element ${c.name}` });
        break;
      }
    } else if (childModel) checkElement(child, childModel, trail, out, root);
    trail.pop();
  }
  for (let i = 0; i < n; i++) {
    const count = counts[i];
    if (count === 1 || (count === 0 && !model.required[i]) || (count > 1 && !model.single[i])) continue; // the usual case
    const pt = model.particles[i];
    if (model.required[i] && count === 0) {
      out.push({ id: pt.missing ?? model.requirement, path: `${pathOf(root, trail)}/${pt.names[0]}`, message: `${el.name} lacks ${particleName(pt)}` });
    }
    if (model.single[i] && count > 1) {
      out.push({ id: model.requirement, path: `${pathOf(root, trail)}/${pt.names[0]}[2]`, message: `${el.name} has ${count} ${pt.names[0]} elements, at most one is allowed` });
    }
  }
}

/** The models by element name, compiled once (see CompiledModel). */
const MODELS: ReadonlyMap<string, CompiledModel> = (() => {
  const compiled = new Map<string, CompiledModel>();
  const rules = new Map<string, Map<string, ChildRule>>();
  for (const [name, model] of Object.entries(CONTENT_MODELS)) {
    const own = new Map<string, ChildRule>();
    rules.set(name, own);
    compiled.set(name, {
      ...model,
      rules: own,
      leaf: !model.opaque && model.particles.length === 0,
      required: model.particles.map((pt) => pt.occurs === '1' || pt.occurs === '+'),
      single: model.particles.map((pt) => pt.occurs === '1' || pt.occurs === '?'),
    });
  }
  for (const [name, model] of Object.entries(CONTENT_MODELS)) {
    const own = rules.get(name)!;
    model.particles.forEach((pt, position) => pt.names.forEach((child) => own.set(child, { position, model: compiled.get(child) })));
  }
  return compiled;
})();

function particleName(pt: Particle): string {
  return pt.names.length > 1 ? 'a command' : pt.names[0];
}

/** `/Parent/Name` for a unique child, `/Parent/Name[n]` when the name repeats. */
export function indexedPaths(children: XmlElement[], parentPath: string): string[] {
  const totals = new Map<string, number>();
  for (const c of children) totals.set(c.name, (totals.get(c.name) ?? 0) + 1);
  const seen = new Map<string, number>();
  return children.map((c) => {
    const nth = (seen.get(c.name) ?? 0) + 1;
    seen.set(c.name, nth);
    return `${parentPath}/${c.name}${totals.get(c.name)! > 1 ? `[${nth}]` : ''}`;
  });
}

function checkMetinf(meta: XmlElement, root: XmlElement, trail: Trail, out: Deviation[]): void {
  for (const f of meta.children) {
    if (f.type !== 'element' || f.ns === METINF_NS) continue;
    trail.push(f);
    out.push({ id: 'MDM-XML-012', path: pathOf(root, trail), message: `meta field ${f.name} is in namespace "${f.ns}", expected "${METINF_NS}"` });
    trail.pop();
  }
}
