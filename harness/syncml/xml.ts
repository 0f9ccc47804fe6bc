/**
 * The XML layer under the SyncML codec: a guarded parse of untrusted bytes into an order-preserving element tree
 * with namespaces resolved, and the matching serializer. Nothing here knows SyncML.
 *
 * Untrusted input is refused before the XML parser sees it when it declares a DOCTYPE or entities (XXE, entity
 * expansion), uses an entity XML does not predefine, is not UTF-8, or exceeds the size or nesting bounds.
 */
import { XMLParser } from 'fast-xml-parser';

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

/** Element and attribute names: permissive on purpose (any non-delimiter), strict on the delimiters around them. */
const NAME = String.raw`[^\s<>"'=/!?\d.-][^\s<>"'=/!?]*`;
const START_TAG = new RegExp(String.raw`^<(${NAME})((?:\s+${NAME}\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(/?)>$`);
const END_TAG = new RegExp(String.raw`^</(${NAME})\s*>$`);
const ATTR_NAME = new RegExp(String.raw`(${NAME})\s*=`, 'g');

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

/**
 * One linear pass that decides well-formedness before any tree is built: tags match and nest, attributes are
 * quoted and unique, there is exactly one root with nothing but whitespace, comments and processing instructions
 * around it. It refuses DOCTYPE and ENTITY declarations and entities XML does not predefine, and bounds the
 * nesting depth, so nothing hostile reaches the parser.
 */
function checkWellFormed(text: string, limits: XmlLimits): void {
  const stack: string[] = [];
  let roots = 0;
  // Ampersands are checked as the scan passes them, except inside comments and CDATA where they are plain text.
  let amp = text.indexOf('&');
  const checkAmpersandsBefore = (pos: number) => {
    while (amp >= 0 && amp < pos) {
      checkEntityReference(text, amp);
      amp = text.indexOf('&', amp + 1);
    }
  };
  let pos = 0;
  for (;;) {
    const lt = text.indexOf('<', pos);
    const segmentEnd = lt < 0 ? text.length : lt;
    checkAmpersandsBefore(segmentEnd);
    if (stack.length === 0 && !onlyWhitespace(text, pos, segmentEnd)) throw notWellFormed(text, pos, 'text outside the root element');
    if (lt < 0) break;
    const next = text.charCodeAt(lt + 1);
    if (next === 0x21 /* ! */) {
      const isComment = text.startsWith('<!--', lt);
      const isCdata = text.startsWith('<![CDATA[', lt);
      if (isComment || isCdata) {
        if (isCdata && stack.length === 0) throw notWellFormed(text, lt, 'CDATA outside the root element');
        const end = text.indexOf(isComment ? '-->' : ']]>', lt + 4);
        if (end < 0) throw notWellFormed(text, lt, `unterminated ${isComment ? 'comment' : 'CDATA section'}`);
        if (amp >= 0 && amp < end) amp = text.indexOf('&', end);
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
      pos = end + 2;
      continue;
    }
    const gt = tagEnd(text, lt);
    if (gt < 0) throw notWellFormed(text, lt, 'unterminated tag');
    const tag = text.slice(lt, gt + 1);
    if (next === 0x2f /* / */) {
      const m = END_TAG.exec(tag);
      if (!m) throw notWellFormed(text, lt, `malformed end tag ${tag.slice(0, 40)}`);
      const open = stack.pop();
      if (open !== m[1]) throw notWellFormed(text, lt, open ? `</${m[1]}> closes <${open}>` : `</${m[1]}> closes no element`);
    } else {
      const m = START_TAG.exec(tag);
      if (!m) throw notWellFormed(text, lt, `malformed start tag ${tag.slice(0, 40)}`);
      if (stack.length === 0 && ++roots > 1) throw notWellFormed(text, lt, 'a document has exactly one root element, found a second');
      // Most tags carry one attribute (an xmlns) or none: only several can repeat one.
      if (m[2] && m[2].indexOf('=') !== m[2].lastIndexOf('=')) checkUniqueAttributes(text, lt, m[2]);
      if (!m[3]) {
        stack.push(m[1]);
        if (stack.length > limits.maxDepth) throw new XmlError('too-deep', `elements nested deeper than ${limits.maxDepth} levels are refused`);
      }
    }
    pos = gt + 1;
  }
  if (stack.length) throw notWellFormed(text, text.length, `<${stack.at(-1)}> is not closed`);
  if (roots === 0) throw notWellFormed(text, 0, 'no root element');
}

function checkUniqueAttributes(text: string, at: number, attributes: string): void {
  const seen = new Set<string>();
  for (const m of attributes.matchAll(ATTR_NAME)) {
    if (seen.has(m[1])) throw notWellFormed(text, at, `attribute ${m[1]} is repeated`);
    seen.add(m[1]);
  }
}

function checkEntityReference(text: string, at: number): void {
  const semi = text.indexOf(';', at + 1);
  if (semi > at && semi - at <= 12 && PREDEFINED_ENTITY.test(text.slice(at + 1, semi))) return;
  const shown = text.slice(at, Math.min(text.length, at + 12)).split(/[\s<]/)[0];
  throw new XmlError('entity', `reference "${shown}" is not one of XML's predefined entities; entities are refused`);
}

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  cdataPropName: '#cdata',
  processEntities: true,
  htmlEntities: true, // numeric character references; non-XML names never get here (preScan)
  ignoreDeclaration: true,
  ignorePiTags: true,
});

type RawNode = Record<string, unknown>;

/** Parses a document into its root element. Throws XmlError with a precise reason. */
export function parseXml(input: Uint8Array | string, limits: XmlLimits = DEFAULT_XML_LIMITS): XmlElement {
  const text = decodeUtf8(input, limits);
  checkWellFormed(text, limits);
  const raw = parser.parse(text) as RawNode[];
  const root = raw.find((n) => elementName(n) !== undefined)!;
  return toElement(root, new Map([['', '']]));
}

function elementName(node: RawNode): string | undefined {
  for (const key of Object.keys(node)) if (key !== ':@' && key !== '#text' && key !== '#cdata') return key;
  return undefined;
}

function toElement(node: RawNode, scope: Map<string, string>): XmlElement {
  const name = elementName(node)!;
  const attrs = (node[':@'] as Attrs | undefined) ?? {};
  let inner = scope;
  for (const key of Object.keys(attrs)) {
    if (key === 'xmlns' || key.startsWith('xmlns:')) {
      if (inner === scope) inner = new Map(scope);
      inner.set(key === 'xmlns' ? '' : key.slice(6), attrs[key]);
    }
  }
  const colon = name.indexOf(':');
  const ns = inner.get(colon < 0 ? '' : name.slice(0, colon)) ?? '';
  const children: XmlNode[] = [];
  for (const child of node[name] as RawNode[]) {
    if ('#text' in child) children.push({ type: 'text', text: String(child['#text']), cdata: false });
    else if ('#cdata' in child) {
      const parts = child['#cdata'] as RawNode[];
      children.push({ type: 'text', text: parts.map((p) => String(p['#text'] ?? '')).join(''), cdata: true });
    } else if (elementName(child) !== undefined) children.push(toElement(child, inner));
  }
  // The parser's attribute object is fresh per element and ours from here on: no copy needed.
  return { type: 'element', name, ns, attrs, children };
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
