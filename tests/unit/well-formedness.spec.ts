import { expect, test } from '@playwright/test';
import fc from 'fast-check';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { mutate, mutatedCase } from '../../harness/fuzz/mutators';
import { DEFAULT_XML_LIMITS, parseXml, type XmlElement, type XmlNode } from '../../harness/syncml/xml';
import { serializeSyncML } from '../../harness/syncml';
import { syncMLMessage } from '../../harness/fuzz/arbitraries';

/** Whether fast-xml-parser's validator, with the codec's own refusals, accepts the text as one XML document. */
function reference(text: string): boolean {
  const outsideCdata = text.replace(/<!\[CDATA\[[\s\S]*?\]\]>/g, '');
  if (/<!DOCTYPE|<!ENTITY|&(?!(amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);)/i.test(outsideCdata)) return false;
  if (XMLValidator.validate(text, { allowBooleanAttributes: false }) !== true) return false;
  // The validator takes two roots; XML does not.
  const stripped = outsideCdata.replace(/<\?[\s\S]*?\?>|<!--[\s\S]*?-->/g, '').trim();
  let depth = 0;
  let deepest = 0;
  let roots = 0;
  for (const m of stripped.matchAll(/<(\/?)[^>]*?(\/?)>/g)) {
    if (m[1]) depth--;
    else {
      if (depth === 0) roots++;
      if (!m[2]) deepest = Math.max(deepest, ++depth);
    }
  }
  // The codec also bounds nesting (DEFAULT_XML_LIMITS.maxDepth).
  return roots === 1 && deepest <= DEFAULT_XML_LIMITS.maxDepth;
}

function accepts(text: string): boolean {
  try {
    parseXml(text);
    return true;
  } catch {
    return false;
  }
}

test.describe('well-formedness (MDM-XML-001): the codec decides like an XML validator', () => {
  test('malformed documents are refused with their position', () => {
    const cases: [string, RegExp][] = [
      ['<a><b></c></a>', /<\/c> closes <b>/],
      ['<a><b>', /<b> is not closed/],
      ['<a/><b/>', /exactly one root element/],
      ['junk<a/>', /text outside the root element/],
      ['<a x=1/>', /malformed start tag/],
      ['<a x="1" x="2"/>', /attribute x is repeated/],
      ['<a>1 < 2</a>', /malformed start tag|unterminated tag/],
      ['<a><!-- open </a>', /unterminated comment/],
      ['<a><![CDATA[x</a>', /unterminated CDATA/],
      ['', /no root element/],
      ['<a>\n  <b>\n</a>', /line 3, column 1: <\/a> closes <b>/],
    ];
    for (const [text, message] of cases) expect(() => parseXml(text), text).toThrow(message);
  });

  test('attribute values may hold ">" and quotes of the other kind; comments and PIs may surround the root', () => {
    for (const text of ['<a t="x>y" u=\'say "hi"\'/>', '<?xml version="1.0"?>\n<!-- c --><a/>\n<!-- d -->', '<a><![CDATA[<not a tag>]]></a>']) {
      expect(accepts(text), text).toBe(true);
    }
  });

  test('on 2,000 mutated messages it accepts exactly what the reference validator accepts', () => {
    fc.assert(
      fc.property(mutatedCase(), (c) => {
        const bytes = mutate(c.message, c.mutations);
        let text: string;
        try {
          text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
        } catch {
          return; // invalid UTF-8 is refused before well-formedness is asked
        }
        expect(accepts(text), text.slice(0, 300)).toBe(reference(text));
      }),
      { numRuns: 2_000, seed: 99 },
    );
  });
});

/**
 * The tree fast-xml-parser builds from a document the codec accepts, in the codec's shape: what the codec built
 * before its well-formedness scan built the tree itself. Kept here as the reference the scan's tree must equal.
 */
const referenceParser = new XMLParser({
  preserveOrder: true, ignoreAttributes: false, attributeNamePrefix: '', parseTagValue: false, parseAttributeValue: false, trimValues: false,
  cdataPropName: '#cdata', processEntities: true, htmlEntities: true, ignoreDeclaration: true, ignorePiTags: true,
});
type RawNode = Record<string, unknown>;
const rawName = (node: RawNode) => Object.keys(node).find((k) => k !== ':@' && k !== '#text' && k !== '#cdata');

function referenceTree(text: string): XmlElement {
  const toElement = (node: RawNode, scope: Map<string, string>): XmlElement => {
    const name = rawName(node)!;
    const attrs = { ...((node[':@'] as Record<string, string> | undefined) ?? {}) };
    const inner = new Map(scope);
    for (const [k, v] of Object.entries(attrs)) if (k === 'xmlns' || k.startsWith('xmlns:')) inner.set(k === 'xmlns' ? '' : k.slice(6), v);
    const colon = name.indexOf(':');
    const children: XmlNode[] = [];
    for (const child of node[name] as RawNode[]) {
      if ('#text' in child) children.push({ type: 'text', text: String(child['#text']), cdata: false });
      else if ('#cdata' in child) children.push({ type: 'text', text: (child['#cdata'] as RawNode[]).map((p) => String(p['#text'] ?? '')).join(''), cdata: true });
      else if (rawName(child) !== undefined) children.push(toElement(child, inner));
    }
    return { type: 'element', name, ns: inner.get(colon < 0 ? '' : name.slice(0, colon)) ?? '', attrs, children };
  };
  const raw = referenceParser.parse(text) as RawNode[];
  return toElement(raw.find((n) => rawName(n) !== undefined)!, new Map([['', '']]));
}

test.describe('the element tree (MDM-XML-001): built by the well-formedness scan, the same as fast-xml-parser\'s', () => {
  test('references, line ends, comments, CDATA, processing instructions, namespaces and attributes', () => {
    const cases = [
      '<a>\n  <b x="1&amp;2&#65;" y=\'&quot;&apos;&lt;\'>t&lt;x&gt;</b>\n</a>',
      '<a>x<!--c-->y<![CDATA[z]]><![CDATA[w]]><![CDATA[]]></a>',
      '<a><!--c-->y<b/>z<!--d-->w<?pi x?>v</a>',
      '<a>&#x41;&#65;&#00065;&amp;lt;&#x1F600;</a>',
      "<a b='x\ny\r\nz\rw'>l1\r\nl2\rl3&#13;&#10;</a>",
      '<a xmlns="urn:x" xmlns:p="urn:p"><p:b p:q="1"/><c xmlns=""><p:d xmlns:p="urn:q"/></c></a>',
      '<?xml version="1.0"?>\n<!-- before --><a  x = "1"\ty="2" ></a >\n<?after?>\n',
      '<a>]]&gt; and > alone</a>',
    ];
    for (const text of cases) expect(parseXml(text), text).toEqual(referenceTree(text));
  });

  test('a character reference to something that is not an XML character is not well-formed', () => {
    for (const ref of ['&#0;', '&#x1;', '&#xD800;', '&#xFFFE;', '&#1114112;']) {
      expect(() => parseXml(`<a>x${ref}</a>`), ref).toThrow(new RegExp(`line 1, column 5: character reference ${ref} does not denote an XML character`));
      expect(() => parseXml(`<a b="${ref}"/>`), ref).toThrow(/does not denote an XML character/);
    }
    expect(() => parseXml('<a b="&foo;"/>')).toThrow(/reference "&foo;.*" is not one of XML's predefined entities/);
    expect(() => parseXml('<a&b/>')).toThrow(/reference "&b\/>" is not one of XML's predefined entities/);
  });

  test('on 1,000 generated and 1,000 mutated messages the tree is the one fast-xml-parser builds', () => {
    fc.assert(fc.property(syncMLMessage(), (m) => {
      const text = serializeSyncML(m);
      expect(parseXml(text)).toEqual(referenceTree(text));
    }), { numRuns: 1_000, seed: 7 });
    fc.assert(
      fc.property(mutatedCase(), (c) => {
        let text: string;
        try {
          text = new TextDecoder('utf-8', { fatal: true }).decode(mutate(c.message, c.mutations));
        } catch {
          return;
        }
        if (!accepts(text)) return;
        expect(parseXml(text), text.slice(0, 300)).toEqual(referenceTree(text));
      }),
      { numRuns: 1_000, seed: 98 },
    );
  });
});
