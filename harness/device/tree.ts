/**
 * The management tree of the reference device: nodes addressed by URIs rooted at `.`, each interior (format `node`)
 * or leaf, with the access types a Windows CSP would grant.
 *
 * Operations report why they refused (a `TreeFailure` reason), not a status code: the device's command layer maps
 * reasons to codes, and switchable faults change that mapping without touching the tree.
 */

export type AccessType = 'Get' | 'Add' | 'Replace' | 'Delete' | 'Exec';
export const ACCESS_TYPES: readonly AccessType[] = ['Get', 'Add', 'Replace', 'Delete', 'Exec'];

/** OMA DM tree formats (catalogue 3.3). */
export type NodeFormat = 'chr' | 'int' | 'bool' | 'b64' | 'bin' | 'xml' | 'node' | 'null' | 'date' | 'time' | 'float';
export const NODE_FORMATS: readonly NodeFormat[] = ['chr', 'int', 'bool', 'b64', 'bin', 'xml', 'node', 'null', 'date', 'time', 'float'];

/** A Meta/Format that is absent means `chr`, and a Meta/Type that is absent means `text/plain` (OMA-DMP 8.4). */
export const DEFAULT_FORMAT: NodeFormat = 'chr';
export const DEFAULT_TYPE = 'text/plain';

export interface NodeDefinition {
  format: NodeFormat;
  access: readonly AccessType[];
  /** MIME type of a leaf's value; absent means text/plain. */
  type?: string;
  value?: string;
  /** Cannot be deleted (MDM-CMD-DEL-002). */
  permanent?: boolean;
  /** Accepted for asynchronous completion: Exec (and Replace) answer 202 (MDM-STS-022, MDM-CMD-EXE-002). */
  async?: boolean;
  /** A CSP feature the device does not support, with everything below it (MDM-STS-020: 406). */
  unsupported?: boolean;
  /** An access-control list keeps the server out of this node and everything below it (MDM-STS-021: 425). */
  denied?: boolean;
}

/** A read-only copy of one node, as `lookup` reports it. */
export interface NodeInfo extends Omit<NodeDefinition, 'access'> {
  uri: string;
  name: string;
  access: AccessType[];
  interior: boolean;
  /** Child names, URI-encoded, for interior nodes. */
  children?: string[];
}

export type FailureReason =
  | 'invalid-uri'
  | 'not-found'
  | 'exists'
  /** A write (Add/Replace/Delete) the node's access does not grant. */
  | 'read-only'
  /** Any other operation the node does not allow: Get or Exec not granted, deleting a permanent node or the root. */
  | 'not-allowed'
  | 'unsupported'
  /** An access-control list refuses the server this node (MDM-STS-021). */
  | 'denied'
  /** Format or Type differs from the node's, or the value does not fit the format. */
  | 'bad-format'
  /** A value-setting Item with a non-null format but no Data (MDM-XML-020). */
  | 'incomplete';

export interface TreeFailure {
  ok: false;
  reason: FailureReason;
  /** The node the refusal is about, canonical; for an implicit Add, the ancestor that could not be created. */
  uri: string;
  detail: string;
}

export type TreeResult<T = object> = ({ ok: true } & T) | TreeFailure;

export interface GetValue {
  format: NodeFormat;
  type?: string;
  /** The leaf value, or the URI-encoded child names of an interior node joined by `/` (MDM-CMD-GET-004). */
  data: string;
}

/** What an Add or Replace Item carries: Meta/Format, Meta/Type and Data (undefined when the element is absent). */
export interface ValueInit {
  format?: string;
  type?: string;
  value?: string;
}

// ---------------------------------------------------------------------------------------------------------------
// URIs

export type ParsedUri = { ok: true; segments: string[] } | { ok: false; detail: string };

/** `./Device/…` and `./device/…` are the device scope, which is the default scope (catalogue 3.11). */
const DEVICE_SCOPE = new Set(['Device', 'device']);

/**
 * A node LocURI into decoded segment names below the root (catalogue MDM-XML-015..019). A URI without the leading
 * `./` is read relative to the root, as OMA DM allows.
 */
export function parseNodeUri(locURI: string): ParsedUri {
  if (locURI.startsWith('/')) return { ok: false, detail: `LocURI '${locURI}' starts with '/'` };
  const raw = locURI.split('/');
  if (raw[0] === '.') raw.shift();
  const segments: string[] = [];
  for (const segment of raw) {
    const name = decodeSegment(segment);
    const problem = name === undefined ? `segment '${segment}' has a malformed percent-escape` : segmentProblem(name);
    if (problem) return { ok: false, detail: `LocURI '${locURI}': ${problem}` };
    segments.push(name as string);
  }
  if (DEVICE_SCOPE.has(segments[0])) segments.shift();
  return { ok: true, segments };
}

/** Why a decoded node name cannot be a segment, or undefined when it can (MDM-XML-016, MDM-XML-017). */
export function segmentProblem(name: string): string | undefined {
  if (name === '') return 'empty segment';
  if (name === '*') return "segment '*' is not a node name";
  // `..` is a URI dot-segment: any URI processor would collapse it, so it cannot name a node either.
  if (name === '.' || name === '..') return `segment '${name}' is only allowed as the leading '.'`;
  return undefined;
}

function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

const UNRESERVED = /[A-Za-z0-9\-._~]/;

/** Percent-escape everything outside the RFC 3986 unreserved set, non-ASCII as UTF-8 bytes (MDM-XML-018). */
export function encodeSegment(name: string): string {
  let out = '';
  for (const ch of name) {
    if (UNRESERVED.test(ch)) out += ch;
    else for (const byte of Buffer.from(ch, 'utf8')) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export function formatNodeUri(segments: readonly string[]): string {
  return ['.', ...segments.map(encodeSegment)].join('/');
}

// ---------------------------------------------------------------------------------------------------------------
// Values

const INT = /^[+-]?\d+$/;
const FLOAT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const B64 = /^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const DATE = /^\d{4}-?\d{2}-?\d{2}$/;
const TIME = /^T?\d{2}(:?\d{2}(:?\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}(:?\d{2})?)?$/;

const VALUE_CHECKS: Record<NodeFormat, (v: string) => boolean> = {
  chr: () => true,
  bin: () => true,
  xml: () => true,
  node: (v) => v === '',
  null: (v) => v === '',
  // OMA DM int is a signed 32-bit integer.
  int: (v) => INT.test(v) && Math.abs(Number(v)) <= 2 ** 31 - (v.startsWith('-') ? 0 : 1),
  bool: (v) => v === 'true' || v === 'false',
  b64: (v) => B64.test(v.replace(/\s+/g, '')),
  float: (v) => FLOAT.test(v),
  date: (v) => DATE.test(v),
  time: (v) => TIME.test(v),
};

export function isNodeFormat(format: string): format is NodeFormat {
  return (NODE_FORMATS as readonly string[]).includes(format);
}

/** Whether a value's text can be stored in a node of this format. */
export function fitsFormat(format: NodeFormat, value: string): boolean {
  return VALUE_CHECKS[format](value);
}

// ---------------------------------------------------------------------------------------------------------------
// The tree

interface DmNode {
  format: NodeFormat;
  access: Set<AccessType>;
  type?: string;
  value?: string;
  permanent?: boolean;
  async?: boolean;
  unsupported?: boolean;
  denied?: boolean;
  children?: Map<string, DmNode>;
}

/** An opaque copy of a whole tree, for `restore`. */
export interface TreeSnapshot {
  readonly root: unknown;
}

/** Where a URI leads: the chain of existing nodes from the root, and how many segments were found. */
interface Walk {
  segments: string[];
  /** path[0] is the root; path[i] is the node at segments[i - 1]. */
  path: DmNode[];
  found: boolean;
}

function fail(reason: FailureReason, segments: readonly string[], detail: string): TreeFailure {
  return { ok: false, reason, uri: formatNodeUri(segments), detail };
}

function copyNode(node: DmNode): DmNode {
  const copy: DmNode = { ...node, access: new Set(node.access) };
  if (node.children) copy.children = new Map([...node.children].map(([name, child]) => [name, copyNode(child)]));
  return copy;
}

function newRoot(): DmNode {
  return { format: 'node', access: new Set<AccessType>(['Get']), permanent: true, children: new Map() };
}

export class DmTree {
  private root: DmNode;

  constructor() {
    this.root = newRoot();
  }

  /**
   * Put a node into the tree as the device ships it, bypassing access rules (profiles use this). The parent must
   * already exist and be interior; the node must not exist yet.
   */
  define(uri: string, def: NodeDefinition): void {
    const walk = this.walkOrThrow(uri);
    if (walk.found) throw new Error(`${uri} is already defined`);
    if (walk.path.length !== walk.segments.length) throw new Error(`the parent of ${uri} is not defined`);
    const parent = walk.path[walk.path.length - 1];
    if (!parent.children) throw new Error(`the parent of ${uri} is a leaf`);
    parent.children.set(walk.segments[walk.segments.length - 1], nodeFrom(def));
  }

  lookup(uri: string): NodeInfo | undefined {
    const walk = this.walk(uri);
    if (!walk || !walk.found) return undefined;
    return infoOf(walk.segments, walk.path[walk.path.length - 1]);
  }

  has(uri: string): boolean {
    return this.lookup(uri) !== undefined;
  }

  /** URI-encoded child names of an interior node; undefined for a leaf or a missing node (MDM-CMD-GET-004). */
  childNames(uri: string): string[] | undefined {
    return this.lookup(uri)?.children;
  }

  get(uri: string): TreeResult<GetValue> {
    const found = this.existing(uri);
    if (!found.ok) return found;
    const { segments, node } = found;
    if (!node.access.has('Get')) return fail('not-allowed', segments, 'Get is not allowed on this node');
    if (node.children) return { ok: true, format: 'node', data: childList(node).join('/') };
    const value: GetValue = { format: node.format, data: node.value ?? '' };
    if (node.type !== undefined) value.type = node.type;
    return { ok: true, ...value };
  }

  /**
   * Add a node, creating missing interior ancestors (implicit Add, MDM-CMD-ADD-003). Allowed only below an
   * interior node that grants Add; new nodes take that node's access, without Exec.
   */
  add(uri: string, init: ValueInit): TreeResult<{ created: string[] }> {
    const walk = this.walk(uri);
    if (!walk) return invalid(uri);
    if (walk.found) return fail('exists', walk.segments, 'the node already exists');
    const anchorDepth = walk.path.length - 1;
    const anchor = walk.path[anchorDepth];
    const refusal = this.addRefusal(walk, anchor, anchorDepth);
    if (refusal) return refusal;
    const leaf = valueNode(init, walk.segments);
    if (!leaf.ok) return leaf;
    const access = new Set([...anchor.access].filter((a) => a !== 'Exec'));
    return { ok: true, created: graft(anchor, walk.segments.slice(anchorDepth), leaf.node, access, walk.segments.slice(0, anchorDepth)) };
  }

  replace(uri: string, init: ValueInit): TreeResult<{ async: boolean }> {
    const found = this.existing(uri);
    if (!found.ok) return found;
    const { segments, node } = found;
    if (!node.access.has('Replace')) return fail('read-only', segments, 'Replace is not allowed on this node');
    if (node.children) return fail('not-allowed', segments, 'an interior node has no value to replace');
    const problem = valueProblem(init, node.format, node.type);
    if (problem) return fail(problem.reason, segments, problem.detail);
    node.value = init.value ?? '';
    return { ok: true, async: node.async === true };
  }

  /** Delete a node with its whole subtree; nothing is deleted when any node in it is permanent (MDM-CMD-DEL-002). */
  delete(uri: string): TreeResult {
    const found = this.existing(uri, true);
    if (!found.ok) return found;
    const { segments, node, parent } = found;
    if (!parent) return fail('not-allowed', segments, 'the root cannot be deleted');
    if (!node.access.has('Delete')) return fail('read-only', segments, 'Delete is not allowed on this node');
    const permanent = findPermanent(node, segments);
    if (permanent) return fail('not-allowed', permanent, 'permanent nodes cannot be deleted');
    parent.children?.delete(segments[segments.length - 1]);
    return { ok: true };
  }

  exec(uri: string): TreeResult<{ async: boolean }> {
    const found = this.existing(uri);
    if (!found.ok) return found;
    if (!found.node.access.has('Exec')) return fail('not-allowed', found.segments, 'the node is not executable');
    return { ok: true, async: found.node.async === true };
  }

  clone(): DmTree {
    const copy = new DmTree();
    copy.root = copyNode(this.root);
    return copy;
  }

  snapshot(): TreeSnapshot {
    return { root: copyNode(this.root) };
  }

  restore(snapshot: TreeSnapshot): void {
    this.root = copyNode(snapshot.root as DmNode);
  }

  /** Every node URI in the tree, depth first; the root is `.`. */
  uris(): string[] {
    const out: string[] = [];
    const visit = (node: DmNode, segments: string[]) => {
      out.push(segments.length ? formatNodeUri(segments) : '.');
      for (const [name, child] of node.children ?? []) visit(child, [...segments, name]);
    };
    visit(this.root, []);
    return out;
  }

  private walk(uri: string): Walk | undefined {
    const parsed = parseNodeUri(uri);
    if (!parsed.ok) return undefined;
    const path: DmNode[] = [this.root];
    for (const name of parsed.segments) {
      const next = path[path.length - 1].children?.get(name);
      if (!next) return { segments: parsed.segments, path, found: false };
      path.push(next);
    }
    return { segments: parsed.segments, path, found: true };
  }

  private walkOrThrow(uri: string): Walk {
    const walk = this.walk(uri);
    if (!walk) throw new Error(parseFailure(uri));
    return walk;
  }

  /** The node at a URI, refused when the URI is invalid, the node missing, or it lies in an unsupported subtree. */
  private existing(uri: string, withParent = false): TreeResult<{ segments: string[]; node: DmNode; parent?: DmNode }> {
    const walk = this.walk(uri);
    if (!walk) return invalid(uri);
    if (!walk.found) return fail('not-found', walk.segments, 'the node does not exist');
    const unsupported = unsupportedAt(walk);
    if (unsupported) return fail('unsupported', unsupported, 'the device does not support this feature');
    const denied = deniedAt(walk);
    if (denied) return fail('denied', denied, 'an access-control list refuses the server this node');
    const node = walk.path[walk.path.length - 1];
    const parent = withParent && walk.path.length > 1 ? walk.path[walk.path.length - 2] : undefined;
    return { ok: true, segments: walk.segments, node, parent };
  }

  private addRefusal(walk: Walk, anchor: DmNode, anchorDepth: number): TreeFailure | undefined {
    const unsupported = unsupportedAt(walk);
    if (unsupported) return fail('unsupported', unsupported, 'the device does not support this feature');
    const denied = deniedAt(walk);
    if (denied) return fail('denied', denied, 'an access-control list refuses the server this node');
    // The refusal names the first node that would have been created (MDM-CMD-ADD-004).
    const first = walk.segments.slice(0, anchorDepth + 1);
    if (!anchor.children) return fail('not-allowed', first, 'nodes cannot be added below a leaf');
    const below = formatNodeUri(walk.segments.slice(0, anchorDepth));
    if (!anchor.access.has('Add')) return fail('read-only', first, `Add is not allowed below ${below}`);
    return undefined;
  }
}

function parseFailure(uri: string): string {
  const parsed = parseNodeUri(uri);
  return parsed.ok ? `${uri} is valid` : parsed.detail;
}

function invalid(uri: string): TreeFailure {
  return { ok: false, reason: 'invalid-uri', uri, detail: parseFailure(uri) };
}

function nodeFrom(def: NodeDefinition): DmNode {
  const node: DmNode = { format: def.format, access: new Set(def.access) };
  if (def.format === 'node') node.children = new Map();
  else node.value = def.value ?? '';
  if (def.type !== undefined) node.type = def.type;
  if (def.permanent) node.permanent = true;
  if (def.async) node.async = true;
  if (def.unsupported) node.unsupported = true;
  if (def.denied) node.denied = true;
  return node;
}

function infoOf(segments: string[], node: DmNode): NodeInfo {
  const info: NodeInfo = {
    uri: segments.length ? formatNodeUri(segments) : '.',
    name: segments[segments.length - 1] ?? '.',
    format: node.format,
    access: ACCESS_TYPES.filter((a) => node.access.has(a)),
    interior: node.children !== undefined,
  };
  if (node.children) info.children = childList(node);
  if (node.value !== undefined) info.value = node.value;
  if (node.type !== undefined) info.type = node.type;
  if (node.permanent) info.permanent = true;
  if (node.async) info.async = true;
  if (node.unsupported) info.unsupported = true;
  if (node.denied) info.denied = true;
  return info;
}

function childList(node: DmNode): string[] {
  return [...(node.children?.keys() ?? [])].map(encodeSegment);
}

/** The shallowest unsupported node on the walked path, as segments. */
function unsupportedAt(walk: Walk): string[] | undefined {
  const depth = walk.path.findIndex((n) => n.unsupported);
  return depth < 0 ? undefined : walk.segments.slice(0, depth);
}

/** The shallowest node on the walked path an access-control list keeps the server out of, as segments. */
function deniedAt(walk: Walk): string[] | undefined {
  const depth = walk.path.findIndex((n) => n.denied);
  return depth < 0 ? undefined : walk.segments.slice(0, depth);
}

function findPermanent(node: DmNode, segments: string[]): string[] | undefined {
  if (node.permanent) return segments;
  for (const [name, child] of node.children ?? []) {
    const found = findPermanent(child, [...segments, name]);
    if (found) return found;
  }
  return undefined;
}

type Problem = { reason: 'bad-format' | 'incomplete'; detail: string };

/** Why an Item's value cannot go into a leaf of this format and type (MDM-STS-020, MDM-XML-020). */
function valueProblem(init: ValueInit, format: NodeFormat, type: string | undefined): Problem | undefined {
  const given = init.format ?? DEFAULT_FORMAT;
  if (given !== format) return { reason: 'bad-format', detail: `Format ${given} does not match the node's format ${format}` };
  if (init.value === undefined && format !== 'null') {
    return { reason: 'incomplete', detail: `an Item setting a ${format} value has no Data` };
  }
  if (init.type !== undefined && init.type !== (type ?? DEFAULT_TYPE)) {
    return { reason: 'bad-format', detail: `Type ${init.type} does not match the node's type ${type ?? DEFAULT_TYPE}` };
  }
  if (!fitsFormat(format, init.value ?? '')) return { reason: 'bad-format', detail: `'${init.value}' is not a valid ${format} value` };
  return undefined;
}

/** The node an Add Item describes: interior for Format `node`, otherwise a leaf holding the Data. */
function valueNode(init: ValueInit, segments: string[]): { ok: true; node: DmNode } | TreeFailure {
  const format = init.format ?? DEFAULT_FORMAT;
  if (!isNodeFormat(format)) return fail('bad-format', segments, `Format ${format} is not a DM tree format`);
  if (format === 'node') return { ok: true, node: { format, access: new Set(), children: new Map() } };
  const problem = valueProblem(init, format, init.type);
  if (problem) return fail(problem.reason, segments, problem.detail);
  const node: DmNode = { format, access: new Set(), value: init.value ?? '' };
  if (init.type !== undefined && init.type !== DEFAULT_TYPE) node.type = init.type;
  return { ok: true, node };
}

/** Hang `node` below `anchor` at `rest`, creating interior nodes on the way; returns the URIs created. */
function graft(anchor: DmNode, rest: string[], node: DmNode, access: Set<AccessType>, base: string[]): string[] {
  const created: string[] = [];
  let parent = anchor;
  rest.forEach((name, i) => {
    const last = i === rest.length - 1;
    const child: DmNode = last ? node : { format: 'node', access: new Set(), children: new Map() };
    child.access = new Set(access);
    parent.children?.set(name, child);
    created.push(formatNodeUri([...base, ...rest.slice(0, i + 1)]));
    parent = child;
  });
  return created;
}
