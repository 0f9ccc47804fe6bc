import { expect, test } from '@playwright/test';
import fc from 'fast-check';
import { XMLValidator } from 'fast-xml-parser';
import { mutate, mutatedCase } from '../../harness/fuzz/mutators';
import { DEFAULT_XML_LIMITS, parseXml } from '../../harness/syncml/xml';

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
