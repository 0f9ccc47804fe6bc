/**
 * Exclusive XML canonicalization without comments (http://www.w3.org/2001/10/xml-exc-c14n#), the algorithm
 * MS-MDE2 3.4.4.1.1.1.2 names for the signature of the Certificate policy. It works on the guarded parser's tree,
 * which has no comments, processing instructions or DOCTYPE to drop and has CDATA already turned to text, so the
 * rules left are: namespace declarations only where a prefix is visibly used and not already rendered by an output
 * ancestor, attributes sorted by namespace URI then local name, start and end tags for empty elements, and the
 * c14n escaping of text and attribute values. Signer and verifier both canonicalize a parsed tree, so they agree.
 */
import { localName, type XmlElement } from '../syncml/xml';
import { declarationsOf } from './dom';

const XML_NS = 'http://www.w3.org/XML/1998/namespace';

/** The canonical form of `el`, given the namespaces in scope at its parent. */
export function exclusiveCanonical(el: XmlElement, inheritedScope: ReadonlyMap<string, string> = new Map()): string {
  return render(el, new Map(inheritedScope), new Map());
}

function prefixOf(name: string): string {
  const colon = name.indexOf(':');
  return colon < 0 ? '' : name.slice(0, colon);
}

function render(el: XmlElement, parentScope: Map<string, string>, rendered: Map<string, string>): string {
  const scope = new Map([...parentScope, ...declarationsOf(el)]);
  const attributes = Object.entries(el.attrs).filter(([name]) => name !== 'xmlns' && !name.startsWith('xmlns:'));
  const used = new Set<string>([prefixOf(el.name)]);
  for (const [name] of attributes) {
    const p = prefixOf(name);
    if (p && p !== 'xml') used.add(p);
  }
  const emitted = new Map(rendered);
  const declarations: string[] = [];
  for (const prefix of [...used].sort()) {
    const uri = scope.get(prefix) ?? '';
    const current = rendered.get(prefix) ?? '';
    if (current === uri && (rendered.has(prefix) || uri === '')) continue;
    emitted.set(prefix, uri);
    declarations.push(prefix ? ` xmlns:${prefix}="${escapeAttribute(uri)}"` : ` xmlns="${escapeAttribute(uri)}"`);
  }
  const sorted = attributes
    .map(([name, value]) => {
      const p = prefixOf(name);
      const uri = p === '' ? '' : p === 'xml' ? XML_NS : (scope.get(p) ?? '');
      return { name, value, uri, local: localName(name) };
    })
    .sort((a, b) => (a.uri === b.uri ? compare(a.local, b.local) : compare(a.uri, b.uri)));
  let out = `<${el.name}${declarations.join('')}`;
  for (const a of sorted) out += ` ${a.name}="${escapeAttribute(a.value)}"`;
  out += '>';
  for (const c of el.children) out += c.type === 'text' ? escapeText(c.text) : render(c, scope, emitted);
  return `${out}</${el.name}>`;
}

/** Code-point order, as c14n sorts (not locale order). */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function escapeText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#xD;');
}

function escapeAttribute(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/"/g, '&quot;')
    .replace(/\t/g, '&#x9;')
    .replace(/\n/g, '&#xA;')
    .replace(/\r/g, '&#xD;');
}
