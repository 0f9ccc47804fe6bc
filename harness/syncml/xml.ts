/**
 * The XML layer under the SyncML codec: a guarded parse of untrusted bytes into an order-preserving element tree
 * with namespaces resolved, and the matching serializer. Nothing here knows SyncML.
 *
 * Untrusted input is refused, before any tree is built from it, when it declares a DOCTYPE or entities (XXE, entity
 * expansion), uses an entity XML does not predefine, is not UTF-8, or exceeds the size or nesting bounds. The
 * well-formedness scan builds the tree itself: one linear pass over the text, no second parser.
 */
export type Attrs = Record<string, string>;

export interface XmlElement {
  type: 'element';
  /** Qualified name as written (for example `Format` or `msft:Foo`). */
  name: string;
  /** Namespace URI in effect for the element ('' when none is declared). */
  ns: string;
  attrs: Attrs;
  children: XmlNode[];
}

export interface XmlText {
  type: 'text';
  text: string;
  cdata: boolean;
  /**
   * Raw bytes of a WBXML OPAQUE that are not UTF-8 (binary Data): `text` then holds them in base64 and the node is
   * CDATA, so XML shows the base64 while the WBXML encoder writes the bytes back unchanged.
   */
  opaque?: Uint8Array;
}

export type XmlNode = XmlElement | XmlText;

export interface XmlLimits {
  /** Largest document accepted, in bytes. */
  maxBytes: number;
  /** Deepest element nesting accepted (the root is depth 1). */
  maxDepth: number;
}

export const DEFAULT_XML_LIMITS: XmlLimits = { maxBytes: 8 * 1024 * 1024, maxDepth: 48 };

export type XmlErrorCode =
  | 'encoding' | 'too-large' | 'too-deep' | 'doctype' | 'entity' | 'not-well-formed'
  // WBXML only (harness/syncml/wbxml.ts)
  | 'truncated' | 'wbxml-version' | 'public-id' | 'unknown-token' | 'code-page' | 'mb-u-int32' | 'string-table'
  | 'trailing-data';

/** The input cannot be read as an XML document; `message` says why in words a vendor can act on. */
export class XmlError extends Error {
  constructor(
    readonly code: XmlErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'XmlError';
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

export function decodeUtf8(input: Uint8Array | string, limits: XmlLimits = DEFAULT_XML_LIMITS): string {
  if (typeof input === 'string') {
    if (input.length > limits.maxBytes) tooLarge(input.length, limits);
    return input;
  }
  if (input.byteLength > limits.maxBytes) tooLarge(input.byteLength, limits);
  try {
    return utf8.decode(input);
  } catch {
    throw new XmlError('encoding', 'body is not valid UTF-8 (SyncML in clear XML is UTF-8 encoded)');
  }
}

function tooLarge(size: number, limits: XmlLimits): never {
  throw new XmlError('too-large', `document of ${size} bytes exceeds the limit of ${limits.maxBytes} bytes`);
}

const PREDEFINED_ENTITY = /^(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+)$/;
const NAMED_ENTITY: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function notWellFormed(text: string, at: number, reason: string): XmlError {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < at; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return new XmlError('not-well-formed', `not well-formed XML at line ${line}, column ${at - lineStart + 1}: ${reason}`);
}

/** Index of the `>` that ends the tag opened at `from`, skipping quoted attribute values (which may hold `>`). */
function tagEnd(text: string, from: number): number {
  let quote = 0;
  for (let i = from + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (quote) {
      if (c === quote) quote = 0;
    } else if (c === 0x22 || c === 0x27) quote = c;
    else if (c === 0x3e) return i;
    else if (c === 0x3c) return -1;
  }
  return -1;
}

function onlyWhitespace(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09 && c !== 0xfeff) return false;
  }
  return true;
}

/** White space as tags allow it between their parts (the `\s` of regular expressions). */
function isSpace(c: number): boolean {
  if (c < 0x80) return c === 0x20 || (c >= 0x09 && c <= 0x0d);
  return c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}

/**
 * Element and attribute names: permissive on purpose (anything but white space and the delimiters `<>"'=/!?`, not
 * starting with a digit, `.` or `-`), strict on the delimiters around them.
 */
function isNameChar(c: number): boolean {
  if (c < 0x80) return (ASCII_NAME[c] & NAME_CHAR) !== 0;
  return !isSpace(c) && !Number.isNaN(c);
}

function isNameStart(c: number): boolean {
  if (c < 0x80) return (ASCII_NAME[c] & NAME_START) !== 0;
  return !isSpace(c) && !Number.isNaN(c);
}

const NAME_CHAR = 1;
const NAME_START = 2;

/**
 * What each ASCII character may be in a name, looked up rather than worked out: names are read a character at a
 * time, and they make up most of the markup of a message.
 */
const ASCII_NAME: Uint8Array = (() => {
  const table = new Uint8Array(0x80);
  for (let c = 0; c < 0x80; c++) {
    if (isSpace(c) || '<>"\'=/!?'.includes(String.fromCharCode(c))) continue;
    table[c] = NAME_CHAR | ((c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x2d ? 0 : NAME_START);
  }
  return table;
})();

/**
 * Names seen before, by a small hash of their length and first and last characters. A document repeats a few dozen
 * names hundreds of times: each is read from the text without copying when it matches, and the same string object
 * keeps its hash for the lookups that follow (content models, decoding). A collision only costs a copy.
 */
const NAMES: (string | undefined)[] = new Array(512);
const LONGEST_INTERNED = 64;

function interned(text: string, from: number, to: number): string {
  const length = to - from;
  if (length > LONGEST_INTERNED) return text.slice(from, to);
  const slot = (length * 31 + text.charCodeAt(from) * 7 + text.charCodeAt(to - 1)) & 511;
  const known = NAMES[slot];
  if (known !== undefined && known.length === length && sameChars(text, from, known)) return known;
  // A longer slice would point into the whole document and keep it alive from this table: keep a copy instead.
  const name = internalized(length < 13 ? text.slice(from, to) : (` ${text.slice(from, to)}`).slice(1));
  NAMES[slot] = name;
  return name;
}

/**
 * The engine's own copy of a string, the one it keeps for property names: a name compared with the codec's constants
 * ('Status', 'CmdID') is then the same string or a different one at a glance, without reading its characters.
 */
function internalized(s: string): string {
  return Object.keys({ [s]: true })[0];
}

/**
 * Whether `text` holds `name` at `from`. Compared a character at a time: names are short, and the loop costs less
 * than a call to startsWith.
 */
function sameChars(text: string, from: number, name: string): boolean {
  for (let i = 0; i < name.length; i++) if (text.charCodeAt(from + i) !== name.charCodeAt(i)) return false;
  return true;
}

/** End of the name starting at `from`, or `from` itself when no name starts there. */
function nameEnd(text: string, from: number): number {
  if (!isNameStart(text.charCodeAt(from))) return from;
  let i = from + 1;
  while (isNameChar(text.charCodeAt(i))) i++;
  return i;
}

function skipSpace(text: string, from: number): number {
  let i = from;
  while (isSpace(text.charCodeAt(i))) i++;
  return i;
}

/** XML 1.0 Char: what a character reference may denote. */
function isXmlChar(cp: number): boolean {
  return cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

/**
 * Text or an attribute value with its references replaced: each `&` must open a predefined entity or a character
 * reference (checkEntityReference), and a character reference must denote an XML character.
 */
function decodeReferences(doc: string, from: number, to: number, firstAmp = ampersandIn(doc, from, to)): string {
  let amp = firstAmp;
  if (amp < 0 || amp >= to) return doc.slice(from, to);
  let out = '';
  let last = from;
  while (amp >= 0 && amp < to) {
    checkEntityReference(doc, amp);
    const semi = doc.indexOf(';', amp + 1);
    const ref = doc.slice(amp + 1, semi);
    let value = NAMED_ENTITY[ref];
    if (value === undefined) {
      const cp = ref.charCodeAt(1) === 0x78 /* x */ ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      if (!isXmlChar(cp)) throw notWellFormed(doc, amp, `character reference &${ref}; does not denote an XML character`);
      value = String.fromCodePoint(cp);
    }
    out += doc.slice(last, amp) + value;
    last = semi + 1;
    amp = ampersandIn(doc, last, to);
  }
  return out + doc.slice(last, to);
}

/** The first `&` in `doc` from `from` to before `to`, or -1: bounded, so that reading text stays linear. */
function ampersandIn(doc: string, from: number, to: number): number {
  for (let i = from; i < to; i++) if (doc.charCodeAt(i) === 0x26) return i;
  return -1;
}

/**
 * The namespace declarations in scope, innermost first: an element that declares one adds a link in front of its
 * parent's chain instead of copying a map. Chains are a few links long (the document's default namespace, the
 * metinf namespace of a Meta field).
 */
interface Scope {
  /** '' for the default namespace. */
  prefix: string;
  uri: string;
  outer: Scope | undefined;
}

const NO_NAMESPACE: Scope = { prefix: '', uri: '', outer: undefined };

/** The namespace URI of an element named `name` in `scope` ('' when its prefix is not declared). */
function namespaceOf(name: string, scope: Scope): string {
  let prefix = '';
  for (let i = 0; i < name.length; i++) {
    if (name.charCodeAt(i) === 0x3a /* : */) {
      prefix = name.slice(0, i);
      break;
    }
  }
  for (let s: Scope | undefined = scope; s !== undefined; s = s.outer) if (s.prefix === prefix) return s.uri;
  return '';
}

/** The children of an element still open; never seen outside a read (a read that fails returns no tree). */
const NOT_YET_CLOSED: XmlNode[] = Object.freeze([]) as unknown as XmlNode[];

/** The attributes of every element that has none: one shared, frozen object rather than one per element. */
const NO_ATTRS: Attrs = Object.freeze({}) as Attrs;

/**
 * The state of one read. No closure is made per document: the hot path stays free of per-call allocations other
 * than the tree itself. The children of the open elements wait on one stack of nodes; each element gets an array of
 * exactly its children when it closes, so a tree costs what it holds.
 */
class DocumentReader {
  /** The open elements, outermost first, up to `depth`; beside each, its namespace scope and where its children start. */
  readonly open: XmlElement[] = [];
  readonly scopes: Scope[] = [];
  readonly marks: number[] = [];
  depth = 0;
  root: XmlElement | undefined;
  scope: Scope = NO_NAMESPACE;
  /** The children of the open elements, innermost last, up to `top` (entries past it are stale). */
  readonly nodes: XmlNode[] = [];
  top = 0;
  /** Text read since the last node, joined across comments. */
  pending = '';
  /** The next ampersand not yet checked. */
  amp: number;

  constructor(readonly text: string) {
    this.amp = text.indexOf('&');
  }

  flush(): void {
    if (this.pending !== '') {
      this.nodes[this.top++] = { type: 'text', text: this.pending, cdata: false };
      this.pending = '';
    }
  }

  /**
   * The nodes from `mark` to the top, as a new array. Most elements hold one text node or none: those arrays are
   * made directly, which costs a fraction of a call to slice.
   */
  childrenFrom(mark: number): XmlNode[] {
    const count = this.top - mark;
    if (count === 0) return [];
    if (count === 1) return [this.nodes[mark]];
    return this.nodes.slice(mark, this.top);
  }

  /** Ampersands are checked as the scan passes them, except inside comments and CDATA where they are plain text. */
  checkAmpersandsBefore(pos: number): void {
    while (this.amp >= 0 && this.amp < pos) {
      checkEntityReference(this.text, this.amp);
      this.amp = this.text.indexOf('&', this.amp + 1);
    }
  }
}

/**
 * The document's root element, read in one linear pass that also decides well-formedness: tags match and nest,
 * attributes are quoted and unique, there is exactly one root with nothing but white space, comments and processing
 * instructions around it. It refuses DOCTYPE and ENTITY declarations and entities XML does not predefine, bounds the
 * nesting depth, and builds the tree as it goes: elements with their attributes and resolved namespace, text with
 * its references replaced (comments join the text around them), CDATA sections as nodes of their own. Line ends
 * are normalised to LF first (XML 1.0 2.11).
 */
function readDocument(input: string, limits: XmlLimits): XmlElement {
  const text = input.indexOf('\r') < 0 ? input : input.replace(/\r\n?/g, '\n');
  const r = new DocumentReader(text);
  let pos = 0;
  for (;;) {
    const lt = text.indexOf('<', pos);
    const segmentEnd = lt < 0 ? text.length : lt;
    // The scan's next ampersand is the first at or after `pos`: the text before `<` holds one when it is before it.
    const firstAmp = r.amp;
    r.checkAmpersandsBefore(segmentEnd);
    if (r.depth === 0) {
      if (!onlyWhitespace(text, pos, segmentEnd)) throw notWellFormed(text, pos, 'text outside the root element');
    } else if (segmentEnd > pos) {
      r.pending += decodeReferences(text, pos, segmentEnd, firstAmp);
    }
    if (lt < 0) break;
    const next = text.charCodeAt(lt + 1);
    if (next === 0x21 /* ! */) {
      const isComment = text.startsWith('<!--', lt);
      const isCdata = text.startsWith('<![CDATA[', lt);
      if (isComment || isCdata) {
        if (isCdata && r.depth === 0) throw notWellFormed(text, lt, 'CDATA outside the root element');
        const end = text.indexOf(isComment ? '-->' : ']]>', lt + 4);
        if (end < 0) throw notWellFormed(text, lt, `unterminated ${isComment ? 'comment' : 'CDATA section'}`);
        if (r.amp >= 0 && r.amp < end) r.amp = text.indexOf('&', end);
        if (isCdata) {
          r.flush();
          r.nodes[r.top++] = { type: 'text', text: text.slice(lt + 9, end), cdata: true };
        }
        pos = end + 3;
        continue;
      }
      const word = text.slice(lt + 2, lt + 9).toUpperCase();
      if (word.startsWith('DOCTYPE')) {
        throw new XmlError('doctype', 'DOCTYPE declarations are refused (SyncML needs none; they enable XXE and entity-expansion attacks)');
      }
      if (word.startsWith('ENTITY')) throw new XmlError('entity', 'ENTITY declarations are refused (entity expansion)');
      throw notWellFormed(text, lt, 'unexpected markup declaration');
    }
    if (next === 0x3f /* ? */) {
      const end = text.indexOf('?>', lt + 2);
      if (end < 0) throw notWellFormed(text, lt, 'unterminated processing instruction');
      if (r.depth) r.flush();
      pos = end + 2;
      continue;
    }
    if (next === 0x2f /* / */) {
      const gt = endTag(text, lt, r.depth ? r.open[r.depth - 1].name : undefined);
      r.checkAmpersandsBefore(gt);
      r.flush();
      const d = --r.depth;
      r.open[d].children = r.childrenFrom(r.marks[d]);
      r.top = r.marks[d];
      if (d) r.scope = r.scopes[d - 1];
      pos = gt + 1;
      continue;
    }
    pos = startTag(r, lt, limits) + 1;
  }
  if (r.depth) throw notWellFormed(text, text.length, `<${r.open[r.depth - 1].name}> is not closed`);
  if (!r.root) throw notWellFormed(text, 0, 'no root element');
  return r.root;
}

function malformedStartTag(text: string, lt: number): XmlError {
  const gt = tagEnd(text, lt);
  return notWellFormed(text, lt, gt < 0 ? 'unterminated tag' : `malformed start tag ${text.slice(lt, gt + 1).slice(0, 40)}`);
}

/** Reads the start tag opened at `lt` (`<Name attr="value" …>` or `<Name … />`) into the tree; returns its `>`. */
function startTag(r: DocumentReader, lt: number, limits: XmlLimits): number {
  const text = r.text;
  const end = nameEnd(text, lt + 1);
  if (end === lt + 1) throw malformedStartTag(text, lt);
  const name = interned(text, lt + 1, end);
  let attrs: Attrs | undefined;
  let inner = r.scope;
  let count = 0;
  let i = end;
  let gt: number;
  let empty: boolean;
  for (;;) {
    const j = skipSpace(text, i);
    const c = text.charCodeAt(j);
    if (c === 0x3e /* > */) {
      gt = j;
      empty = false;
      break;
    }
    if (c === 0x2f /* / */) {
      if (text.charCodeAt(j + 1) !== 0x3e) throw malformedStartTag(text, lt);
      gt = j + 1;
      empty = true;
      break;
    }
    if (j === i) throw malformedStartTag(text, lt); // an attribute follows white space
    const attrEnd = nameEnd(text, j);
    if (attrEnd === j) throw malformedStartTag(text, lt);
    let k = skipSpace(text, attrEnd);
    if (text.charCodeAt(k) !== 0x3d /* = */) throw malformedStartTag(text, lt);
    k = skipSpace(text, k + 1);
    const quote = text.charCodeAt(k);
    if (quote !== 0x22 && quote !== 0x27) throw malformedStartTag(text, lt);
    const close = text.indexOf(quote === 0x22 ? '"' : "'", k + 1);
    if (close < 0) throw malformedStartTag(text, lt);
    const lessThan = text.indexOf('<', k + 1);
    if (lessThan >= 0 && lessThan < close) throw malformedStartTag(text, lt);
    const attr = interned(text, j, attrEnd);
    if (count++ && Object.prototype.hasOwnProperty.call(attrs, attr)) throw notWellFormed(text, lt, `attribute ${attr} is repeated`);
    const value = decodeReferences(text, k + 1, close);
    attrs ??= {};
    // A plain assignment to "__proto__" would set the prototype, not an attribute.
    if (attr === '__proto__') Object.defineProperty(attrs, attr, { value, enumerable: true, writable: true, configurable: true });
    else attrs[attr] = value;
    if (attr.charCodeAt(0) === 0x78 /* x */ && (attr === 'xmlns' || attr.startsWith('xmlns:'))) {
      inner = { prefix: attr === 'xmlns' ? '' : attr.slice(6), uri: value, outer: inner };
    }
    i = close + 1;
  }
  r.checkAmpersandsBefore(gt);
  if (r.depth === 0 && r.root) throw notWellFormed(text, lt, 'a document has exactly one root element, found a second');
  // An open element gets its children when it closes (DocumentReader.childrenFrom): no array is made for it before.
  const children = empty ? [] : NOT_YET_CLOSED;
  const el: XmlElement = { type: 'element', name, ns: namespaceOf(name, inner), attrs: attrs ?? NO_ATTRS, children };
  if (r.depth) {
    r.flush();
    r.nodes[r.top++] = el;
  } else r.root = el;
  if (!empty) {
    const leafEnd = r.depth < limits.maxDepth ? textOnlyContent(r, el, gt) : -1;
    if (leafEnd >= 0) return leafEnd;
    const d = r.depth++;
    r.open[d] = el;
    r.scopes[d] = inner;
    r.marks[d] = r.top;
    if (r.depth > limits.maxDepth) throw new XmlError('too-deep', `elements nested deeper than ${limits.maxDepth} levels are refused`);
    r.scope = inner;
  }
  return gt;
}

/**
 * Most elements hold text only (`<CmdID>4</CmdID>`): when the markup after the start tag that ends at `gt` is
 * plain text (no reference, comment or CDATA) and then the element's own end tag, the element gets that text
 * as its only child here, without opening it on the stack; returns the end tag's `>`. Returns -1 for anything
 * else, with nothing changed, and the general path reads the element (and reports what is wrong with it).
 */
function textOnlyContent(r: DocumentReader, el: XmlElement, gt: number): number {
  const text = r.text;
  const lt = text.indexOf('<', gt + 1);
  if (lt < 0 || text.charCodeAt(lt + 1) !== 0x2f /* / */ || (r.amp >= 0 && r.amp < lt)) return -1;
  const name = el.name;
  const nameEnd = lt + 2 + name.length;
  if (!sameChars(text, lt + 2, name) || isNameChar(text.charCodeAt(nameEnd))) return -1;
  const end = skipSpace(text, nameEnd);
  if (text.charCodeAt(end) !== 0x3e /* > */) return -1;
  el.children = lt > gt + 1 ? [{ type: 'text', text: text.slice(gt + 1, lt), cdata: false }] : [];
  return end;
}

/** The end tag opened at `lt`, which must close `open`; returns the index of its `>`. */
function endTag(text: string, lt: number, open: string | undefined): number {
  // The usual case first: the open element's name, then no more name characters.
  if (open !== undefined && sameChars(text, lt + 2, open) && !isNameChar(text.charCodeAt(lt + 2 + open.length))) {
    const gt = skipSpace(text, lt + 2 + open.length);
    if (text.charCodeAt(gt) === 0x3e) return gt;
  }
  const end = nameEnd(text, lt + 2);
  const gt = skipSpace(text, end);
  if (end === lt + 2 || text.charCodeAt(gt) !== 0x3e) {
    const at = tagEnd(text, lt);
    throw notWellFormed(text, lt, at < 0 ? 'unterminated tag' : `malformed end tag ${text.slice(lt, at + 1).slice(0, 40)}`);
  }
  // Compared in place: the name is copied out only for the error.
  if (open === undefined || end - lt - 2 !== open.length || !text.startsWith(open, lt + 2)) {
    const name = text.slice(lt + 2, end);
    throw notWellFormed(text, lt, open ? `</${name}> closes <${open}>` : `</${name}> closes no element`);
  }
  return gt;
}

function checkEntityReference(text: string, at: number): void {
  const semi = text.indexOf(';', at + 1);
  if (semi > at && semi - at <= 12 && PREDEFINED_ENTITY.test(text.slice(at + 1, semi))) return;
  const shown = text.slice(at, Math.min(text.length, at + 12)).split(/[\s<]/)[0];
  throw new XmlError('entity', `reference "${shown}" is not one of XML's predefined entities; entities are refused`);
}

/** Parses a document into its root element. Throws XmlError with a precise reason. */
export function parseXml(input: Uint8Array | string, limits: XmlLimits = DEFAULT_XML_LIMITS): XmlElement {
  return readDocument(decodeUtf8(input, limits), limits);
}

// ---------------------------------------------------------------------------------------------------------------
// Reading helpers

export function childElements(el: XmlElement): XmlElement[] {
  const out: XmlElement[] = [];
  for (const c of el.children) if (c.type === 'element') out.push(c);
  return out;
}

/** Concatenated text of an element's direct text and CDATA children. */
export function textOf(el: XmlElement): string {
  let s = '';
  for (const c of el.children) if (c.type === 'text') s += c.text;
  return s;
}

/** Local name without prefix. */
export function localName(name: string): string {
  const colon = name.indexOf(':');
  return colon < 0 ? name : name.slice(colon + 1);
}

// ---------------------------------------------------------------------------------------------------------------
// Writing

const NEEDS_ESCAPE = /[&<>\r]/;

export function escapeText(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return s; // the common case: most values are plain
  let out = '';
  let last = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let rep: string | undefined;
    if (c === 0x26) rep = '&amp;';
    else if (c === 0x3c) rep = '&lt;';
    else if (c === 0x3e) rep = '&gt;';
    else if (c === 0x0d) rep = '&#13;'; // keep CR through parsers that normalise line ends
    if (rep) {
      out += s.slice(last, i) + rep;
      last = i + 1;
    }
  }
  return last === 0 ? s : out + s.slice(last);
}

export function escapeAttr(s: string): string {
  return escapeText(s).replace(/"/g, '&quot;').replace(/\t/g, '&#9;').replace(/\n/g, '&#10;');
}

export function cdata(s: string): string {
  // "]]>" cannot occur inside a CDATA section: split it across two sections.
  return `<![CDATA[${s.split(']]>').join(']]]]><![CDATA[>')}]]>`;
}

export function attrsToXml(attrs: Attrs | undefined): string {
  if (!attrs) return '';
  let s = '';
  for (const k of Object.keys(attrs)) s += ` ${k}="${escapeAttr(attrs[k])}"`;
  return s;
}

export function nodeToXml(node: XmlNode): string {
  if (node.type === 'text') return node.cdata ? cdata(node.text) : escapeText(node.text);
  const inner = node.children.map(nodeToXml).join('');
  return inner === '' && node.children.length === 0
    ? `<${node.name}${attrsToXml(node.attrs)}/>`
    : `<${node.name}${attrsToXml(node.attrs)}>${inner}</${node.name}>`;
}
