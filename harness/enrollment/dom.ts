/**
 * Reading enrollment XML: namespace-aware lookups over the guarded parser's element tree (harness/syncml/xml.ts,
 * which refuses DOCTYPE and entity declarations, so a hostile server or device cannot reach an XML parser with
 * them), and the in-scope namespaces of an element for canonicalization.
 */
import { childElements, localName, parseXml, textOf, XmlError, type XmlElement } from '../syncml/xml';

export type { XmlElement } from '../syncml/xml';

/** Enrollment messages are small; a megabyte is far more than any real one. */
const LIMITS = { maxBytes: 1024 * 1024, maxDepth: 32 };

/** Parses untrusted XML; a problem comes back as one line. */
export function parseEnrollmentXml(input: Uint8Array | string): { root: XmlElement } | { error: string } {
  try {
    return { root: parseXml(input, LIMITS) };
  } catch (e) {
    if (e instanceof XmlError) return { error: e.message };
    throw e;
  }
}

/** Does `el` have this local name in one of these namespaces? */
export function is(el: XmlElement, ns: string | readonly string[], local: string): boolean {
  return localName(el.name) === local && (typeof ns === 'string' ? el.ns === ns : ns.includes(el.ns));
}

export function child(el: XmlElement | undefined, ns: string | readonly string[], local: string): XmlElement | undefined {
  return el ? childElements(el).find((c) => is(c, ns, local)) : undefined;
}

export function children(el: XmlElement | undefined, ns: string | readonly string[], local: string): XmlElement[] {
  return el ? childElements(el).filter((c) => is(c, ns, local)) : [];
}

/** The first element below `el` (depth first) with this name. */
export function descendant(el: XmlElement | undefined, ns: string | readonly string[], local: string): XmlElement | undefined {
  if (!el) return undefined;
  for (const c of childElements(el)) {
    if (is(c, ns, local)) return c;
    const found = descendant(c, ns, local);
    if (found) return found;
  }
  return undefined;
}

/** Text content with surrounding white space removed (the examples of MS-MDE2 wrap URLs and actions in new lines). */
export function trimmedText(el: XmlElement | undefined): string | undefined {
  return el ? textOf(el).trim() : undefined;
}

/** `xsi:nil="true"` on an element: present but explicitly empty. */
export function isNil(el: XmlElement): boolean {
  return Object.entries(el.attrs).some(([name, value]) => localName(name) === 'nil' && value.trim() === 'true');
}

/** An attribute by local name, whatever its prefix (Windows writes `wsse:ValueType` and `ValueType` alike). */
export function attr(el: XmlElement | undefined, local: string): string | undefined {
  if (!el) return undefined;
  for (const [name, value] of Object.entries(el.attrs)) if (!name.startsWith('xmlns') && localName(name) === local) return value;
  return undefined;
}

/** Prefix → namespace declarations that `el` itself makes. */
export function declarationsOf(el: XmlElement): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, value] of Object.entries(el.attrs)) {
    if (name === 'xmlns') out.set('', value);
    else if (name.startsWith('xmlns:')) out.set(name.slice(6), value);
  }
  return out;
}

/**
 * Finds the first element satisfying `match` and returns it with the namespaces in scope at its parent (what a
 * canonicalization of the element alone must know).
 */
export function findWithScope(
  root: XmlElement,
  match: (el: XmlElement) => boolean,
  scope: Map<string, string> = new Map(),
): { element: XmlElement; scope: Map<string, string> } | undefined {
  if (match(root)) return { element: root, scope };
  const inner = new Map([...scope, ...declarationsOf(root)]);
  for (const c of childElements(root)) {
    const found = findWithScope(c, match, inner);
    if (found) return found;
  }
  return undefined;
}
