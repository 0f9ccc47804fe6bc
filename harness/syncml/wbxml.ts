/**
 * The WBXML layer under the SyncML codec (`application/vnd.syncml.dm+wbxml`, MS-MDM 2.1): a guarded decode of
 * untrusted WBXML 1.2/1.3 bytes into the same order-preserving element tree that `parseXml` builds from the
 * equivalent XML, and the matching encoder. Everything above the tree (the typed model, the content models, the
 * checks) is shared with XML, so a message reads the same whichever encoding carried it.
 *
 * Rules that make a decoded tree equal the tree parsed from the XML our encoder writes:
 * - Namespaces come from code pages: page 0 is `SYNCML:SYNCML1.2`, page 1 is `syncml:metinf`. Where a tokenized
 *   element's namespace differs from the default namespace in scope, the decoder adds `xmlns="<namespace>"` as its
 *   first attribute, exactly as the XML carries it (the root gets `xmlns="SYNCML:SYNCML1.2"`, every meta field
 *   under a SyncML `Meta` gets `xmlns="syncml:metinf"`, as Windows and our builders write them). The encoder leaves
 *   out such a declaration, since the decoder restores it; any other namespace declaration travels as a literal
 *   attribute.
 * - SyncML has no attribute code page, so attributes (`xmlns:msft`, `msft:originalerror` on `Data`, namespace
 *   declarations) travel as LITERAL attribute names from the string table with inline-string values.
 * - Elements outside the two code pages (unknown commands, markup inside `Data`, prefixed names) travel as LITERAL
 *   tags named from the string table; their namespace is resolved from the declarations in scope, as in XML.
 * - Text is STR_I (or STR_T from the string table); an XML CDATA section is an OPAQUE, and an OPAQUE decodes to a
 *   CDATA text node: UTF-8 opaque data (a DevDetail or ADMX document carried as opaque) becomes its text; binary
 *   that is not UTF-8 becomes a CDATA node whose text is the base64 of the bytes and whose `opaque` field keeps the
 *   bytes, so re-encoding writes exactly the same OPAQUE.
 *
 * Untrusted input is refused with an XmlError naming the byte offset: truncated input, a version other than 1.2 or
 * 1.3, a public id other than SyncML 1.2 (as number 0x1201 or as the FPI in the string table), a charset other
 * than UTF-8, malformed multi-byte integers, string-table references out of range, tokens no code page defines,
 * unknown code pages, bytes after the root element, and the same size and depth bounds as XML (`XmlLimits`).
 */
import { isUtf8 } from 'node:buffer';
import {
  CODE_PAGES, GLOBAL, GLOBAL_NAMES, KNOWN_PUBLIC_IDS, PAGE_OF_NAMESPACE, SYNCML_12_FPI, SYNCML_12_PUBLIC_ID,
  TAG_HAS_ATTRIBUTES, TAG_HAS_CONTENT, TAG_IDENTITY, UTF8_MIBENUM, WBXML_1_2, WBXML_1_3, type CodePage,
} from './wbxml-tokens';
import { DEFAULT_XML_LIMITS, XmlError, type Attrs, type XmlElement, type XmlErrorCode, type XmlLimits, type XmlNode } from './xml';

export { SYNCML_12_FPI, SYNCML_12_PUBLIC_ID } from './wbxml-tokens';

export interface WbxmlEncodeOptions {
  /** 0x03 (WBXML 1.3, the default) or 0x02 (WBXML 1.2). */
  version?: 0x02 | 0x03;
  /** Put strings that occur more than once in the string table and refer to them with STR_T (default: inline). */
  stringTable?: boolean;
}

// Local copies: the decoder's inner loop reads these for every token.
const {
  SWITCH_PAGE, END, ENTITY, STR_I, LITERAL, PI, LITERAL_C, STR_T, LITERAL_A, OPAQUE, LITERAL_AC,
} = GLOBAL;
const PAGES: readonly CodePage[] = [...CODE_PAGES];

/** Element and attribute names a LITERAL may carry: the same permissive rule as the XML layer. */
const NAME = /^[^\s<>"'=/!?\d.-][^\s<>"'=/!?]*$/;
const hex = (n: number, width = 2) => `0x${n.toString(16).toUpperCase().padStart(width, '0')}`;

function refusal(code: XmlErrorCode, at: number, reason: string): XmlError {
  return new XmlError(code, `invalid WBXML at byte offset ${at}: ${reason}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Decoding

/** Namespace declarations in scope, innermost first: a short linked list is cheaper than a map per element. */
interface Scope {
  prefix: string;
  uri: string;
  parent?: Scope;
}

function lookup(scope: Scope | undefined, prefix: string): string | undefined {
  for (let s = scope; s; s = s.parent) if (s.prefix === prefix) return s.uri;
  return undefined;
}

interface OpenElement {
  el: XmlElement;
  scope: Scope;
  /** Text read since the last child node; STR_I, STR_T and ENTITY pieces in a row make one text node. */
  text: string;
}

class WbxmlReader {
  private pos = 0;
  private tagPage: CodePage = PAGES[0];
  private table: Uint8Array = new Uint8Array(0);
  private readonly tableStrings = new Map<number, string>();
  private readonly buf: Buffer;
  /** Characters of text and attribute values produced so far: string-table references can repeat a long string. */
  private produced = 0;
  private version = 0;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly limits: XmlLimits,
  ) {
    this.buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  decode(): XmlElement {
    if (this.bytes.byteLength > this.limits.maxBytes) {
      throw new XmlError('too-large', `document of ${this.bytes.byteLength} bytes exceeds the limit of ${this.limits.maxBytes} bytes`);
    }
    this.header();
    const root = this.body();
    return root;
  }

  // --- primitives

  private byte(what: string): number {
    if (this.pos >= this.bytes.length) throw refusal('truncated', this.pos, `the input ends inside ${what}`);
    return this.bytes[this.pos++];
  }

  /** WBXML mb_u_int32: big-endian groups of 7 bits, the high bit set on every byte but the last; at most 5 bytes. */
  private mbUint32(what: string): number {
    const start = this.pos;
    let value = 0;
    for (let i = 0; i < 5; i++) {
      const b = this.byte(what);
      value = value * 128 + (b & 0x7f);
      if ((b & 0x80) === 0) {
        if (value > 0xffffffff) throw refusal('mb-u-int32', start, `${what} does not fit in 32 bits`);
        return value;
      }
    }
    throw refusal('mb-u-int32', start, `${what} is a multi-byte integer of more than 5 bytes`);
  }

  private count(chars: number, at: number): void {
    this.produced += chars;
    if (this.produced > this.limits.maxBytes) {
      throw refusal('too-large', at, `decoded text exceeds the limit of ${this.limits.maxBytes} bytes (string-table references expand it)`);
    }
  }

  private utf8(start: number, end: number, what: string, at: number): string {
    let ascii = true;
    for (let i = start; i < end; i++) {
      if (this.bytes[i] >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) return end - start <= 32 ? String.fromCharCode.apply(null, this.bytes.subarray(start, end) as unknown as number[]) : this.buf.toString('latin1', start, end);
    const view = this.bytes.subarray(start, end);
    if (!isUtf8(view)) throw refusal('encoding', at, `${what} is not valid UTF-8 (the document's charset is UTF-8)`);
    return this.buf.toString('utf8', start, end);
  }

  private inlineString(what: string): string {
    const start = this.pos;
    const nul = this.bytes.indexOf(0, start);
    if (nul < 0) throw refusal('truncated', start - 1, `${what} has no terminating NUL before the end of the input`);
    this.pos = nul + 1;
    return this.utf8(start, nul, what, start - 1);
  }

  private tableString(offset: number, at: number, what: string): string {
    const cached = this.tableStrings.get(offset);
    if (cached !== undefined) return cached;
    if (offset >= this.table.length) {
      throw refusal('string-table', at, `${what} refers to string-table offset ${offset}, out of range (the table has ${this.table.length} bytes)`);
    }
    const nul = this.table.indexOf(0, offset);
    if (nul < 0) throw refusal('string-table', at, `the string at string-table offset ${offset} is not NUL-terminated`);
    const view = this.table.subarray(offset, nul);
    if (!isUtf8(view)) throw refusal('encoding', at, `the string at string-table offset ${offset} is not valid UTF-8`);
    const s = Buffer.from(view.buffer, view.byteOffset, view.byteLength).toString('utf8');
    this.tableStrings.set(offset, s);
    return s;
  }

  // --- header: version publicid charset strtbl

  private header(): void {
    if (this.bytes.length === 0) throw refusal('truncated', 0, 'the body is empty');
    this.version = this.byte('the version');
    if (this.version !== WBXML_1_2 && this.version !== WBXML_1_3) {
      throw refusal(
        'wbxml-version',
        0,
        `version byte ${hex(this.version)} (WBXML ${(this.version >> 4) + 1}.${this.version & 0x0f}) is not read; SyncML DM 1.2 is WBXML 1.2 (0x02) or 1.3 (0x03)`,
      );
    }
    const publicIdAt = this.pos;
    const publicId = this.mbUint32('the public identifier');
    const publicIdIndex = publicId === 0 ? this.mbUint32('the public identifier string-table index') : undefined;
    const charsetAt = this.pos;
    const charset = this.mbUint32('the charset');
    if (charset !== UTF8_MIBENUM) {
      throw refusal('encoding', charsetAt, `charset MIBenum ${charset} is refused: SyncML DM over WBXML is read as UTF-8 (MIBenum ${UTF8_MIBENUM})`);
    }
    const tableAt = this.pos;
    const length = this.mbUint32('the string-table length');
    if (length > this.bytes.length - this.pos) {
      throw refusal('truncated', tableAt, `the string table of ${length} bytes runs past the end of the input (${this.bytes.length - this.pos} bytes left)`);
    }
    this.table = this.bytes.subarray(this.pos, this.pos + length);
    this.pos += length;
    const expected = `SyncML 1.2 (public id ${hex(SYNCML_12_PUBLIC_ID, 4)}, "${SYNCML_12_FPI}")`;
    if (publicIdIndex !== undefined) {
      const fpi = this.tableString(publicIdIndex, publicIdAt, 'the public identifier');
      if (fpi !== SYNCML_12_FPI) throw refusal('public-id', publicIdAt, `public identifier "${fpi.slice(0, 80)}" is not ${expected}`);
    } else if (publicId !== SYNCML_12_PUBLIC_ID) {
      const known = KNOWN_PUBLIC_IDS.get(publicId);
      throw refusal('public-id', publicIdAt, `public id ${hex(publicId, 4)}${known ? ` (${known})` : ''} is not ${expected}`);
    }
  }

  // --- body: *pi element *pi

  private body(): XmlElement {
    const stack: OpenElement[] = [];
    let root: XmlElement | undefined;
    const rootScope: Scope = { prefix: '', uri: '' };
    while (this.pos < this.bytes.length) {
      const at = this.pos;
      const token = this.bytes[this.pos++];
      const top = stack.at(-1);
      if (!top) {
        if (token === PI) {
          this.processingInstruction(at);
          continue;
        }
        if (root) throw refusal('trailing-data', at, `${this.bytes.length - at} bytes follow the end of the root element`);
        if (token === SWITCH_PAGE) {
          this.switchTagPage(at);
          continue;
        }
        if (!this.isTagStart(token)) {
          throw refusal('not-well-formed', at, `${this.tokenName(token)} before the root element; a WBXML body starts with a tag`);
        }
        const el = this.element(token, at, rootScope, stack);
        root = el;
        continue;
      }
      switch (token) {
        case END:
          this.flushText(top);
          stack.pop();
          break;
        case STR_I: {
          const s = this.inlineString('an inline string (STR_I)');
          this.count(s.length, at);
          top.text += s;
          break;
        }
        case STR_T: {
          const s = this.tableString(this.mbUint32('a string-table reference (STR_T)'), at, 'STR_T');
          this.count(s.length, at);
          top.text += s;
          break;
        }
        case ENTITY:
          top.text += this.entity(at);
          break;
        case OPAQUE:
          this.flushText(top);
          top.el.children.push(this.opaque(at));
          break;
        case SWITCH_PAGE:
          this.switchTagPage(at);
          break;
        case PI:
          this.processingInstruction(at);
          break;
        default:
          if (!this.isTagStart(token)) {
            throw refusal('unknown-token', at, `${this.tokenName(token)} has no meaning in SyncML content`);
          }
          this.flushText(top);
          top.el.children.push(this.element(token, at, top.scope, stack));
      }
    }
    if (stack.length) {
      const open = stack.map((o) => o.el.name).join('/');
      throw refusal('truncated', this.pos, `the input ends with ${stack.length} element${stack.length > 1 ? 's' : ''} not closed (${open})`);
    }
    if (!root) throw refusal('truncated', this.pos, 'the body holds no root element');
    return root;
  }

  private isTagStart(token: number): boolean {
    // Tags are identities 0x05..0x3F with either flag, plus the four LITERAL forms.
    return (token & TAG_IDENTITY) >= 0x05 || token === LITERAL || token === LITERAL_A || token === LITERAL_C || token === LITERAL_AC;
  }

  private tokenName(token: number): string {
    const name = GLOBAL_NAMES.get(token);
    return name ? `${name} (${hex(token)})` : `token ${hex(token)}`;
  }

  private flushText(open: OpenElement): void {
    if (open.text !== '') {
      open.el.children.push({ type: 'text', text: open.text, cdata: false });
      open.text = '';
    }
  }

  private switchTagPage(at: number): void {
    const index = this.byte('SWITCH_PAGE');
    const next = PAGES[index];
    if (!next) throw refusal('code-page', at, `code page ${index} is not defined for SyncML 1.2 (0 = SyncML, 1 = MetInf)`);
    this.tagPage = next;
  }

  private entity(at: number): string {
    const code = this.mbUint32('an ENTITY');
    if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) {
      throw refusal('not-well-formed', at, `ENTITY ${hex(code, 4)} is not a Unicode character`);
    }
    this.count(1, at);
    return String.fromCodePoint(code);
  }

  private opaque(at: number): XmlNode {
    const length = this.mbUint32('the OPAQUE length');
    if (length > this.bytes.length - this.pos) {
      throw refusal('truncated', at, `OPAQUE of ${length} bytes runs past the end of the input (${this.bytes.length - this.pos} bytes left)`);
    }
    const start = this.pos;
    this.pos += length;
    this.count(length, at);
    const view = this.bytes.subarray(start, this.pos);
    if (isUtf8(view)) return { type: 'text', text: this.buf.toString('utf8', start, this.pos), cdata: true };
    const bytes = Uint8Array.from(view);
    return { type: 'text', text: Buffer.from(bytes).toString('base64'), cdata: true, opaque: bytes };
  }

  /** A tag token and, for LITERAL forms, its string-table name; then attributes, then (content bit) the children. */
  private element(token: number, at: number, parentScope: Scope, stack: OpenElement[]): XmlElement {
    let name: string;
    let page: CodePage | undefined;
    if (token === LITERAL || token === LITERAL_A || token === LITERAL_C || token === LITERAL_AC) {
      name = this.tableString(this.mbUint32('a LITERAL tag name index'), at, 'a LITERAL tag');
      if (!NAME.test(name)) throw refusal('not-well-formed', at, `LITERAL tag name "${name.slice(0, 40)}" is not an XML name`);
    } else {
      page = this.tagPage;
      const found = page.tags.get(token & TAG_IDENTITY);
      if (!found) {
        throw refusal('unknown-token', at, `tag token ${hex(token)} (identity ${hex(token & TAG_IDENTITY)}) is not defined on code page ${page.index} (${page.label})`);
      }
      name = found;
    }
    const hasAttributes = (token & TAG_HAS_ATTRIBUTES) !== 0;
    let attrs: Attrs = hasAttributes ? this.attributes(`<${name}>`) : {};
    let scope = parentScope;
    if (hasAttributes) {
      for (const key of Object.keys(attrs)) {
        if (key === 'xmlns' || key.startsWith('xmlns:')) scope = { prefix: key === 'xmlns' ? '' : key.slice(6), uri: attrs[key], parent: scope };
      }
    }
    if (page && attrs.xmlns === undefined && lookup(parentScope, '') !== page.namespace) {
      // The namespace changes here: restore the declaration the XML form carries, first among the attributes.
      attrs = hasAttributes ? { xmlns: page.namespace, ...attrs } : { xmlns: page.namespace };
      scope = { prefix: '', uri: page.namespace, parent: scope };
    }
    const colon = name.indexOf(':');
    const ns = lookup(scope, colon < 0 ? '' : name.slice(0, colon)) ?? '';
    const el: XmlElement = { type: 'element', name, ns, attrs, children: [] };
    if ((token & TAG_HAS_CONTENT) !== 0) {
      stack.push({ el, scope, text: '' });
      if (stack.length > this.limits.maxDepth) {
        throw refusal('too-deep', at, `elements nested deeper than ${this.limits.maxDepth} levels are refused`);
      }
    }
    return el;
  }

  /** An attribute list up to its END: LITERAL names with STR_I/STR_T/ENTITY (and, in 1.3, OPAQUE) values. */
  private attributes(owner: string): Attrs {
    const attrs: Attrs = {};
    let current: string | undefined;
    for (;;) {
      const at = this.pos;
      const token = this.byte(`the attributes of ${owner}`);
      switch (token) {
        case END:
          return attrs;
        case SWITCH_PAGE: {
          const index = this.byte('SWITCH_PAGE');
          if (!PAGES[index]) throw refusal('code-page', at, `code page ${index} is not defined for SyncML 1.2 (0 = SyncML, 1 = MetInf)`);
          break;
        }
        case LITERAL: {
          current = this.tableString(this.mbUint32('a LITERAL attribute name index'), at, 'a LITERAL attribute');
          if (!NAME.test(current)) throw refusal('not-well-formed', at, `attribute name "${current.slice(0, 40)}" is not an XML name`);
          if (current in attrs) throw refusal('not-well-formed', at, `attribute ${current} is repeated on ${owner}`);
          attrs[current] = '';
          break;
        }
        case STR_I:
        case STR_T:
        case ENTITY:
        case OPAQUE: {
          if (current === undefined) throw refusal('not-well-formed', at, `${this.tokenName(token)} of ${owner} comes before any attribute name`);
          attrs[current] += this.attributeValuePiece(token, at);
          break;
        }
        default:
          throw refusal(
            'unknown-token',
            at,
            GLOBAL_NAMES.has(token)
              ? `${this.tokenName(token)} has no meaning in the attributes of ${owner}`
              : `attribute ${token < 0x80 ? 'start' : 'value'} token ${hex(token)} of ${owner} is not defined: SyncML has no attribute code page (attribute names are LITERAL)`,
          );
      }
    }
  }

  private attributeValuePiece(token: number, at: number): string {
    if (token === STR_I) {
      const s = this.inlineString('an inline string (STR_I)');
      this.count(s.length, at);
      return s;
    }
    if (token === STR_T) {
      const s = this.tableString(this.mbUint32('a string-table reference (STR_T)'), at, 'STR_T');
      this.count(s.length, at);
      return s;
    }
    if (token === ENTITY) return this.entity(at);
    if (this.version < WBXML_1_3) throw refusal('unknown-token', at, 'OPAQUE in an attribute value needs WBXML 1.3; this document is WBXML 1.2');
    const node = this.opaque(at);
    if (node.type === 'text' && node.opaque) throw refusal('encoding', at, 'OPAQUE attribute value is not valid UTF-8');
    return node.type === 'text' ? node.text : '';
  }

  /** PI: a LITERAL target and optional value up to END. Ignored, as the XML parser ignores processing instructions. */
  private processingInstruction(at: number): void {
    const token = this.byte('a processing instruction');
    if (token !== LITERAL) {
      throw refusal('unknown-token', at, `processing instruction target ${hex(token)} is not defined: SyncML has no attribute code page`);
    }
    this.tableString(this.mbUint32('a processing instruction target'), at, 'a processing instruction');
    for (;;) {
      const pieceAt = this.pos;
      const t = this.byte('a processing instruction');
      if (t === END) return;
      if (t !== STR_I && t !== STR_T && t !== ENTITY && t !== OPAQUE) {
        throw refusal('unknown-token', pieceAt, `${this.tokenName(t)} has no meaning in a processing instruction`);
      }
      this.attributeValuePiece(t, pieceAt);
    }
  }
}

/** Decodes a WBXML SyncML DM 1.2 document into its root element. Throws XmlError with the byte offset at fault. */
export function decodeWbxml(bytes: Uint8Array, limits: XmlLimits = DEFAULT_XML_LIMITS): XmlElement {
  return new WbxmlReader(bytes, limits).decode();
}

// ---------------------------------------------------------------------------------------------------------------
// Encoding

class ByteWriter {
  bytes = new Uint8Array(4096);
  length = 0;

  reserve(n: number): void {
    if (this.length + n <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.bytes.subarray(0, this.length));
    this.bytes = next;
  }

  byte(b: number): void {
    this.reserve(1);
    this.bytes[this.length++] = b;
  }

  mbUint32(value: number): void {
    this.reserve(5);
    let shift = 28;
    while (shift > 0 && value >>> shift === 0) shift -= 7;
    for (; shift > 0; shift -= 7) this.bytes[this.length++] = 0x80 | ((value >>> shift) & 0x7f);
    this.bytes[this.length++] = value & 0x7f;
  }

  raw(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.bytes.set(bytes, this.length);
    this.length += bytes.length;
  }

  /** UTF-8 of `s` with no terminator; `s` holds no NUL. */
  utf8(s: string): void {
    this.reserve(s.length * 3);
    const bytes = this.bytes;
    let n = this.length;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        n += encoder.encodeInto(s.slice(i), bytes.subarray(n)).written;
        this.length = n;
        return;
      }
      bytes[n++] = c;
    }
    this.length = n;
  }

  result(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }
}

const encoder = new TextEncoder();

/** The string table being built: each string once, NUL-terminated, at the offset it was first given. */
class StringTable {
  readonly writer = new ByteWriter();
  private readonly offsets = new Map<string, number>();

  offsetOf(s: string): number {
    let offset = this.offsets.get(s);
    if (offset === undefined) {
      offset = this.writer.length;
      this.writer.utf8(s);
      this.writer.byte(0);
      this.offsets.set(s, offset);
    }
    return offset;
  }
}

/** Strings worth a table entry: repeated, and longer than a reference to them. */
function repeatedStrings(root: XmlElement): Set<string> {
  const counts = new Map<string, number>();
  const note = (s: string) => {
    if (s.length >= 4) counts.set(s, (counts.get(s) ?? 0) + 1);
  };
  const walk = (el: XmlElement) => {
    for (const key of Object.keys(el.attrs)) note(el.attrs[key]);
    for (const c of el.children) {
      if (c.type === 'element') walk(c);
      else if (!c.cdata) note(c.text);
    }
  };
  walk(root);
  return new Set([...counts].filter(([, n]) => n > 1).map(([s]) => s));
}

class WbxmlWriter {
  readonly body = new ByteWriter();
  readonly table = new StringTable();
  private tagPage = 0;

  constructor(private readonly shared: Set<string> | undefined) {}

  element(el: XmlElement, parentDefault: string): void {
    const page = PAGE_OF_NAMESPACE.get(el.ns);
    const identity = page?.tokens.get(el.name);
    const keys = Object.keys(el.attrs);
    let first = 0;
    let childDefault = el.attrs.xmlns ?? parentDefault;
    if (identity !== undefined) {
      // The decoder restores a leading declaration of the page's namespace where the namespace changes.
      if (keys[0] === 'xmlns' && el.attrs.xmlns === el.ns && parentDefault !== el.ns) first = 1;
      if (el.attrs.xmlns === undefined && parentDefault !== el.ns) childDefault = el.ns;
    }
    const hasAttributes = keys.length > first;
    const hasContent = el.children.length > 0;
    const flags = (hasAttributes ? TAG_HAS_ATTRIBUTES : 0) | (hasContent ? TAG_HAS_CONTENT : 0);
    if (identity !== undefined) {
      if (page!.index !== this.tagPage) {
        this.body.byte(SWITCH_PAGE);
        this.body.byte(page!.index);
        this.tagPage = page!.index;
      }
      this.body.byte(identity | flags);
    } else {
      this.body.byte(LITERAL | flags);
      this.body.mbUint32(this.table.offsetOf(el.name));
    }
    if (hasAttributes) {
      for (let i = first; i < keys.length; i++) {
        this.body.byte(LITERAL);
        this.body.mbUint32(this.table.offsetOf(keys[i]));
        this.text(el.attrs[keys[i]]);
      }
      this.body.byte(END);
    }
    if (!hasContent) return;
    for (const c of el.children) {
      if (c.type === 'element') this.element(c, childDefault);
      else if (c.cdata) {
        const bytes = c.opaque ?? encoder.encode(c.text);
        this.body.byte(OPAQUE);
        this.body.mbUint32(bytes.length);
        this.body.raw(bytes);
      } else this.text(c.text);
    }
    this.body.byte(END);
  }

  /** Character data as STR_I (or STR_T for a shared string); a NUL, which STR_I cannot hold, goes as ENTITY 0. */
  private text(s: string): void {
    if (s === '') return;
    if (this.shared?.has(s)) {
      this.body.byte(STR_T);
      this.body.mbUint32(this.table.offsetOf(s));
      return;
    }
    if (!s.includes('\0')) {
      this.body.byte(STR_I);
      this.body.utf8(s);
      this.body.byte(0);
      return;
    }
    s.split('\0').forEach((piece, i) => {
      if (i > 0) {
        this.body.byte(ENTITY);
        this.body.byte(0);
      }
      if (piece === '') return;
      this.body.byte(STR_I);
      this.body.utf8(piece);
      this.body.byte(0);
    });
  }
}

/**
 * Encodes an element tree (as `parseXml` or `decodeWbxml` build it) as a WBXML SyncML 1.2 document, children in
 * the tree's order. Inline strings by default; `stringTable: true` shares repeated strings. LITERAL names always
 * live in the string table.
 */
export function encodeWbxml(root: XmlElement, opts: WbxmlEncodeOptions = {}): Uint8Array {
  const writer = new WbxmlWriter(opts.stringTable ? repeatedStrings(root) : undefined);
  writer.element(root, '');
  const table = writer.table.writer;
  const out = new ByteWriter();
  out.reserve(16 + table.length + writer.body.length);
  out.byte(opts.version ?? WBXML_1_3);
  out.mbUint32(SYNCML_12_PUBLIC_ID);
  out.mbUint32(UTF8_MIBENUM);
  out.mbUint32(table.length);
  out.raw(table.bytes.subarray(0, table.length));
  out.raw(writer.body.bytes.subarray(0, writer.body.length));
  return out.result();
}
