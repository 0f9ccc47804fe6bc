import { expect, test } from '@playwright/test';
import fc from 'fast-check';
import { syncMLMessage } from '../../harness/fuzz/arbitraries';
import { mutateWbxml, wbxmlMutatedCase } from '../../harness/fuzz/mutators';
import {
  decodeWbxml, encodeWbxml, parseSyncML, parseSyncMLBody, parseSyncMLWbxml, serializeSyncML, serializeSyncMLWbxml,
  syncMLToTree, SyncMLParseError, WBXML_MEDIA_TYPE, XML_MEDIA_TYPE, type SyncML,
} from '../../harness/syncml';
import { parseXml, XmlError, type XmlElement } from '../../harness/syncml/xml';
import { isDeepStrictEqual } from 'node:util';
import { wbxmlSamples } from './wbxml-samples';

const SAMPLES = wbxmlSamples();

/** toEqual, with a fast path: Playwright's matcher is slow on large trees, and properties compare thousands. */
function same<T>(actual: T, expected: T): void {
  if (!isDeepStrictEqual(actual, expected)) expect(actual as unknown).toEqual(expected);
}

/** A WBXML 1.3 SyncML 1.2 document around `body` (tokens after the header), with an optional string table. */
function doc(body: number[], opts: { table?: string; version?: number; publicId?: number[]; charset?: number } = {}): Uint8Array {
  const table = Buffer.from(opts.table ?? '', 'latin1');
  return Uint8Array.from([
    opts.version ?? 0x03,
    ...(opts.publicId ?? [0xa4, 0x01]),
    opts.charset ?? 0x6a,
    table.length,
    ...table,
    ...body,
  ]);
}

const str = (s: string) => [0x03, ...Buffer.from(s, 'utf8'), 0x00];
/** `<SyncML><SyncHdr><VerDTD>1.2</VerDTD></SyncHdr>` + inner + `</SyncML>` as tokens. */
const minimal = (inner: number[] = []) => [0x6d, 0x6c, 0x71, ...str('1.2'), 0x01, 0x01, ...inner, 0x01];

function refusal(bytes: Uint8Array, limits?: { maxBytes: number; maxDepth: number }): XmlError {
  try {
    decodeWbxml(bytes, limits);
  } catch (e) {
    if (e instanceof XmlError) return e;
    throw e;
  }
  throw new Error('expected an XmlError');
}

test.describe('WBXML codec: round trips (MDM-XML-001)', () => {
  for (const [name, xml] of SAMPLES) {
    test(`${name}: XML -> model -> WBXML -> model is unchanged, and so are the deviations`, () => {
      const fromXml = parseSyncML(xml);
      for (const opts of [{}, { stringTable: true }, { version: 0x02 as const }]) {
        const bytes = serializeSyncMLWbxml(fromXml.message, opts);
        const fromWbxml = parseSyncMLWbxml(bytes);
        expect(fromWbxml.message).toEqual(fromXml.message);
        expect(fromWbxml.deviations).toEqual(fromXml.deviations);
        // The tree is the one the XML our encoder writes parses to, namespaces and all.
        expect(fromWbxml.root).toEqual(parseXml(serializeSyncML(fromXml.message)));
      }
      // The element tree itself (whitespace between elements included) survives WBXML unchanged.
      const tree = parseXml(xml);
      expect(decodeWbxml(encodeWbxml(tree))).toEqual(tree);
      expect(decodeWbxml(encodeWbxml(tree, { stringTable: true }))).toEqual(tree);
    });
  }

  test('1,000 generated messages: model -> WBXML -> model is unchanged, and the model tree is the XML one', () => {
    fc.assert(
      fc.property(syncMLMessage(), fc.boolean(), (m, stringTable) => {
        const xml = serializeSyncML(m);
        same(syncMLToTree(m), parseXml(xml));
        const bytes = serializeSyncMLWbxml(m, { stringTable });
        same(parseSyncMLWbxml(bytes).message, m);
        // XML -> model -> WBXML -> model.
        same(parseSyncMLWbxml(serializeSyncMLWbxml(parseSyncML(xml).message)).message, m);
      }),
      { numRuns: 1000, seed: 20261201 },
    );
  });

  test('a string table shrinks repetitive messages and STR_T references decode to the same model', () => {
    const xml = SAMPLES.get('b-package2.xml')!;
    const m = parseSyncML(xml).message;
    const inline = serializeSyncMLWbxml(m);
    const shared = serializeSyncMLWbxml(m, { stringTable: true });
    expect(shared.length).toBeLessThan(inline.length);
    expect(shared[4]).toBeGreaterThan(0); // string-table length
    expect(Buffer.from(shared).includes(0x83)).toBe(true); // STR_T
    expect(inline.length).toBeLessThan(Buffer.byteLength(serializeSyncML(m)) / 2);
  });
});

test.describe('WBXML codec: the wire format', () => {
  test('header and tokens are the OMA SyncML 1.2 ones: version 1.3, public id 0x1201, UTF-8, code pages 0 and 1', () => {
    const m = parseSyncML(
      '<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><Meta><MaxMsgSize xmlns="syncml:metinf">5</MaxMsgSize></Meta></SyncHdr><SyncBody><Final/></SyncBody></SyncML>',
    ).message;
    expect([...serializeSyncMLWbxml(m)]).toEqual([
      0x03, 0xa4, 0x01, 0x6a, 0x00, // WBXML 1.3, public id 0x1201 as mb_u_int32, charset 106, empty string table
      0x6d, // SyncML (0x2D) with content
      0x6c, // SyncHdr (0x2C)
      0x71, ...str('1.2'), 0x01, // VerDTD (0x31)
      0x5a, // Meta (0x1A)
      0x00, 0x01, 0x4c, ...str('5'), 0x01, // SWITCH_PAGE 1, MaxMsgSize (MetInf 0x0C)
      0x01, 0x01, // </Meta></SyncHdr>
      0x00, 0x00, 0x6b, // SWITCH_PAGE 0, SyncBody (0x2B)
      0x12, // Final (0x12) without content
      0x01, 0x01,
    ]);
    expect([...serializeSyncMLWbxml(m, { version: 0x02 })][0]).toBe(0x02);
  });

  test('namespaces come from the code pages: xmlns restored on the root and on each meta field', () => {
    const root = decodeWbxml(doc([0x6d, 0x6c, 0x5a, 0x00, 0x01, 0x47, ...str('chr'), 0x01, 0x53, ...str('int'), 0x01, 0x01, 0x01, 0x01]));
    expect(root).toMatchObject({ name: 'SyncML', ns: 'SYNCML:SYNCML1.2', attrs: { xmlns: 'SYNCML:SYNCML1.2' } });
    const meta = (root.children[0] as XmlElement).children[0] as XmlElement;
    expect(meta).toMatchObject({ name: 'Meta', ns: 'SYNCML:SYNCML1.2', attrs: {} });
    expect(meta.children).toEqual([
      { type: 'element', name: 'Format', ns: 'syncml:metinf', attrs: { xmlns: 'syncml:metinf' }, children: [{ type: 'text', text: 'chr', cdata: false }] },
      { type: 'element', name: 'Type', ns: 'syncml:metinf', attrs: { xmlns: 'syncml:metinf' }, children: [{ type: 'text', text: 'int', cdata: false }] },
    ]);
  });

  test('processing instructions before and after the root are read and ignored, as in XML', () => {
    const pi = [0x43, 0x04, 0x04, ...str('v'), 0x01]; // PI, LITERAL target "xml" at string-table offset 4
    const root = decodeWbxml(doc([...pi, ...minimal(), ...pi], { table: 'abc\0xml\0' }));
    expect(root).toEqual(decodeWbxml(doc(minimal())));
  });

  test('the public id may be given as the FPI in the string table', () => {
    const fpi = '-//SYNCML//DTD SyncML 1.2//EN\0';
    const root = decodeWbxml(doc(minimal(), { publicId: [0x00, 0x00], table: fpi }));
    expect(root.name).toBe('SyncML');
  });

  test('Windows attributes (xmlns:msft, msft:originalerror) travel as LITERAL attribute names', () => {
    const xml = SAMPLES.get('msft-originalerror')!;
    const m = parseSyncML(xml).message;
    const bytes = Buffer.from(serializeSyncMLWbxml(m));
    expect(bytes.includes(Buffer.from('xmlns:msft\0msft:originalerror\0'))).toBe(true);
    expect(bytes.includes(Buffer.from([0xcf, 0x04]))).toBe(true); // Data with attributes and content, LITERAL name
    const back = parseSyncMLWbxml(bytes).message;
    expect(back.body.attrs).toEqual({ 'xmlns:msft': 'http://schemas.microsoft.com/MobileDevice/MDM' });
    const st = back.body.commands[0];
    expect(st.kind === 'Status' && st.data?.attrs).toEqual({ 'msft:originalerror': '0x86000002' });
  });

  test('elements outside the code pages (markup in Data, unknown commands) travel as LITERAL tags', () => {
    const xml = serializeSyncML(parseSyncML(SAMPLES.get('d-close.xml')!).message).replace(
      '<SyncBody>',
      '<SyncBody><Exec><CmdID>2</CmdID><Item><Target><LocURI>./A</LocURI></Target><Data><MsiInstallJob xmlns="urn:x" id="{A}"><Product Version="1.0"/></MsiInstallJob></Data></Item></Exec><Frobnicate><CmdID>3</CmdID></Frobnicate>',
    );
    const parsed = parseSyncML(xml);
    const back = parseSyncMLWbxml(serializeSyncMLWbxml(parsed.message));
    expect(back.message).toEqual(parsed.message);
    expect(back.deviations).toEqual(parsed.deviations);
    const data = (back.message.body.commands[0] as { items: { data?: { markup?: unknown[] } }[] }).items[0].data;
    expect(data?.markup?.[0]).toMatchObject({ name: 'MsiInstallJob', ns: 'urn:x', attrs: { xmlns: 'urn:x', id: '{A}' } });
    expect(back.message.body.commands[1]).toMatchObject({ kind: 'Unknown', name: 'Frobnicate', cmdID: '3' });
  });

  test('CDATA travels as OPAQUE; UTF-8 opaque data (a DevDetail document) decodes to CDATA text', () => {
    const xml = SAMPLES.get('devdetail-in-cdata')!;
    const m = parseSyncML(xml).message;
    const bytes = Buffer.from(serializeSyncMLWbxml(m));
    const i = bytes.indexOf(0xc3);
    expect(bytes.subarray(i + 3, i + 13).toString()).toBe('<MgmtTree>');
    const r = parseSyncMLWbxml(bytes).message.body.commands[0];
    expect(r.kind === 'Results' && r.items[0].data).toEqual({ text: expect.stringContaining('<NodeName>SwV</NodeName>'), cdata: true });
  });

  test('binary opaque data that is not UTF-8 is kept byte for byte, shown as base64 in XML', () => {
    const binary = [0xff, 0xfe, 0x00, 0x80, 0xc3, 0x28];
    // <SyncML><SyncHdr/>...<SyncBody><Replace><Item><Data>OPAQUE</Data></Item></Replace></SyncBody></SyncML>
    const bytes = doc([0x6d, 0x2c, 0x6b, 0x60, 0x54, 0x4f, 0xc3, binary.length, ...binary, 0x01, 0x01, 0x01, 0x01, 0x01]);
    const parsed = parseSyncMLWbxml(bytes);
    const cmd = parsed.message.body.commands[0];
    const data = cmd.kind === 'Replace' ? cmd.items[0].data : undefined;
    expect(data?.text).toBe(Buffer.from(binary).toString('base64'));
    expect(data?.markup).toEqual([{ type: 'text', text: Buffer.from(binary).toString('base64'), cdata: true, opaque: Uint8Array.from(binary) }]);
    // Tree and model both re-encode to the very same bytes.
    expect(Buffer.from(encodeWbxml(parsed.root))).toEqual(Buffer.from(bytes));
    expect(Buffer.from(serializeSyncMLWbxml(parsed.message))).toEqual(Buffer.from(bytes));
    expect(serializeSyncML(parsed.message)).toContain(`<Data><![CDATA[${Buffer.from(binary).toString('base64')}]]></Data>`);
  });

  test('ENTITY, STR_T and split inline strings make one text value; a NUL travels as ENTITY 0', () => {
    const root = decodeWbxml(doc([0x6d, 0x6c, 0x71, ...str('1'), 0x02, 0x2e, 0x83, 0x00, 0x01, 0x01, 0x01], { table: '2\0' }));
    const verDTD = (root.children[0] as XmlElement).children[0] as XmlElement;
    expect(verDTD.children).toEqual([{ type: 'text', text: '1.2', cdata: false }]);
    const tree = parseXml('<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>a</VerDTD></SyncHdr></SyncML>');
    ((tree.children[0] as XmlElement).children[0] as XmlElement).children = [{ type: 'text', text: 'a\0b', cdata: false }];
    const bytes = encodeWbxml(tree);
    expect(Buffer.from(bytes).includes(Buffer.from([0x02, 0x00]))).toBe(true);
    expect(decodeWbxml(bytes)).toEqual(tree);
  });
});

test.describe('WBXML codec: refusals name the byte offset', () => {
  const cases: { name: string; bytes: () => Uint8Array; code: string; message: RegExp; limits?: { maxBytes: number; maxDepth: number } }[] = [
    { name: 'an empty body', bytes: () => new Uint8Array(0), code: 'truncated', message: /^invalid WBXML at byte offset 0: the body is empty$/ },
    { name: 'input truncated inside a string', bytes: () => doc(minimal()).slice(0, 10), code: 'truncated', message: /byte offset 8: an inline string \(STR_I\) has no terminating NUL/ },
    { name: 'input truncated before END', bytes: () => doc(minimal()).slice(0, -1), code: 'truncated', message: /byte offset 15: the input ends with 1 element not closed \(SyncML\)/ },
    { name: 'input truncated inside the header', bytes: () => doc(minimal()).slice(0, 2), code: 'truncated', message: /byte offset 2: the input ends inside the public identifier/ },
    { name: 'a string table past the end', bytes: () => Uint8Array.from([0x03, 0xa4, 0x01, 0x6a, 0x40, 0x41]), code: 'truncated', message: /byte offset 4: the string table of 64 bytes runs past the end of the input \(1 bytes left\)/ },
    { name: 'an unknown tag token', bytes: () => doc([0x6d, 0x30, 0x01]), code: 'unknown-token', message: /byte offset 6: tag token 0x30 \(identity 0x30\) is not defined on code page 0 \(SyncML\)/ },
    { name: 'a tag token not on the MetInf page', bytes: () => doc([0x6d, 0x00, 0x01, 0x5a, 0x01]), code: 'unknown-token', message: /byte offset 8: tag token 0x5A \(identity 0x1A\) is not defined on code page 1 \(MetInf\)/ },
    { name: 'an attribute token (SyncML has no attribute page)', bytes: () => doc([0xed, 0x05, 0x01, 0x01]), code: 'unknown-token', message: /byte offset 6: attribute start token 0x05 of <SyncML> is not defined: SyncML has no attribute code page/ },
    { name: 'an extension token', bytes: () => doc([0x6d, 0xc0, 0x01]), code: 'unknown-token', message: /byte offset 6: EXT_0 \(0xC0\) has no meaning in SyncML content/ },
    { name: 'an unknown code page', bytes: () => doc([0x00, 0x02, 0x6d, 0x01]), code: 'code-page', message: /byte offset 5: code page 2 is not defined for SyncML 1\.2 \(0 = SyncML, 1 = MetInf\)/ },
    { name: 'the SyncML 1.1 public id', bytes: () => doc(minimal(), { publicId: [0x9f, 0x53] }), code: 'public-id', message: /byte offset 1: public id 0x0FD3 \(-\/\/SYNCML\/\/DTD SyncML 1\.1\/\/EN\) is not SyncML 1\.2 \(public id 0x1201/ },
    { name: 'a wrong FPI in the string table', bytes: () => doc(minimal(), { publicId: [0x00, 0x00], table: '-//WAPFORUM//DTD WML 1.3//EN\0' }), code: 'public-id', message: /byte offset 1: public identifier "-\/\/WAPFORUM\/\/DTD WML 1\.3\/\/EN" is not SyncML 1\.2/ },
    { name: 'WBXML 1.1', bytes: () => doc(minimal(), { version: 0x01 }), code: 'wbxml-version', message: /byte offset 0: version byte 0x01 \(WBXML 1\.1\) is not read; SyncML DM 1\.2 is WBXML 1\.2 \(0x02\) or 1\.3 \(0x03\)/ },
    { name: 'a charset other than UTF-8', bytes: () => doc(minimal(), { charset: 0x04 }), code: 'encoding', message: /byte offset 3: charset MIBenum 4 is refused/ },
    { name: 'a multi-byte integer of six bytes', bytes: () => doc([0x6d, 0x02, 0x81, 0x81, 0x81, 0x81, 0x81, 0x01, 0x01]), code: 'mb-u-int32', message: /byte offset 7: an ENTITY is a multi-byte integer of more than 5 bytes/ },
    { name: 'a multi-byte integer beyond 32 bits', bytes: () => doc([0x6d, 0x02, 0x9f, 0xff, 0xff, 0xff, 0x7f, 0x01]), code: 'mb-u-int32', message: /byte offset 7: an ENTITY does not fit in 32 bits/ },
    { name: 'a string-table offset out of range', bytes: () => doc([0x6d, 0x83, 0x09, 0x01], { table: 'abc\0' }), code: 'string-table', message: /byte offset 10: STR_T refers to string-table offset 9, out of range \(the table has 4 bytes\)/ },
    { name: 'a LITERAL name out of range', bytes: () => doc([0x44, 0x05, 0x01]), code: 'string-table', message: /byte offset 5: a LITERAL tag refers to string-table offset 5, out of range \(the table has 0 bytes\)/ },
    { name: 'bytes after the root element', bytes: () => doc([...minimal(), 0x6d, 0x01]), code: 'trailing-data', message: /byte offset 16: 2 bytes follow the end of the root element/ },
    { name: 'text before the root element', bytes: () => doc([...str('x'), ...minimal()]), code: 'not-well-formed', message: /byte offset 5: STR_I \(0x03\) before the root element/ },
    { name: 'invalid UTF-8 in an inline string', bytes: () => doc([0x6d, 0x03, 0xc3, 0x28, 0x00, 0x01]), code: 'encoding', message: /byte offset 6: an inline string \(STR_I\) is not valid UTF-8/ },
    { name: 'an oversized body', bytes: () => doc(minimal([0x6b, ...str('x'.repeat(200)), 0x01])), code: 'too-large', message: /^document of 220 bytes exceeds the limit of 100 bytes$/, limits: { maxBytes: 100, maxDepth: 48 } },
    {
      name: 'string-table references expanding past the size bound',
      bytes: () => doc([0x6d, ...Array<number>(40).fill(0).flatMap(() => [0x83, 0x00]), 0x01], { table: 'y'.repeat(60) + '\0' }),
      code: 'too-large',
      message: /decoded text exceeds the limit of 200 bytes \(string-table references expand it\)/,
      limits: { maxBytes: 200, maxDepth: 48 },
    },
    { name: 'nesting deeper than maxDepth', bytes: () => doc([0x6d, 0x6b, ...Array<number>(60).fill(0x48), ...Array<number>(62).fill(0x01)]), code: 'too-deep', message: /byte offset 53: elements nested deeper than 48 levels are refused/ },
    { name: 'END with nothing open', bytes: () => doc([0x01]), code: 'not-well-formed', message: /byte offset 5: END \(0x01\) before the root element/ },
  ];
  for (const c of cases) {
    test(`${c.name} is refused (${c.code})`, () => {
      const e = refusal(c.bytes(), c.limits);
      expect(e.code).toBe(c.code);
      expect(e.message).toMatch(c.message);
      // Through the SyncML entry point it is a SyncMLParseError with the same code and message.
      let thrown: unknown;
      try {
        parseSyncMLWbxml(c.bytes(), c.limits);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(SyncMLParseError);
      expect(thrown).toMatchObject({ code: c.code, message: e.message });
    });
  }

  test('a well-formed WBXML document whose root is not SyncML is not-syncml', () => {
    const bytes = doc([0x44, 0x00, 0x01], { table: 'html\0' });
    expect(() => parseSyncMLWbxml(bytes)).toThrow(expect.objectContaining({ code: 'not-syncml', message: 'root element is <html>, a SyncML message starts with <SyncML>' }));
  });

  test('mutated WBXML bytes (flip, truncate, insert, overwrite, duplicate and delete ranges) raise only parse errors, quickly', () => {
    test.setTimeout(60_000);
    fc.assert(
      fc.property(wbxmlMutatedCase(), (c) => {
        const bytes = mutateWbxml(c);
        const started = process.hrtime.bigint();
        try {
          parseSyncMLWbxml(bytes);
          decodeWbxml(bytes);
        } catch (e) {
          if (!(e instanceof SyncMLParseError) && !(e instanceof XmlError)) throw e;
        }
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        if (ms > 1000) throw new Error(`decoding ${bytes.length} mutated bytes took ${ms.toFixed(0)} ms`);
      }),
      { numRuns: 3000, seed: 8675309 },
    );
  });
});

test.describe('parseSyncMLBody picks the encoding', () => {
  const m: SyncML = parseSyncML(SAMPLES.get('a-package1.xml')!).message;
  const xml = Buffer.from(serializeSyncML(m));
  const wbxml = serializeSyncMLWbxml(m);

  test('by media type, parameters and case ignored', () => {
    expect(parseSyncMLBody(wbxml, `${WBXML_MEDIA_TYPE}; charset=utf-8`)).toMatchObject({ encoding: 'wbxml', message: m });
    expect(parseSyncMLBody(xml, 'Application/VND.SyncML.DM+XML; charset=UTF-8')).toMatchObject({ encoding: 'xml', message: m });
  });

  test('by sniffing the first bytes when the media type is absent or unknown', () => {
    expect(parseSyncMLBody(wbxml).encoding).toBe('wbxml');
    expect(parseSyncMLBody(xml, 'application/octet-stream').encoding).toBe('xml');
    expect(parseSyncMLBody(Buffer.concat([Buffer.from('\ufeff  \n'), xml])).encoding).toBe('xml');
  });

  test('a body that contradicts its media type fails with both facts in the message', () => {
    expect(() => parseSyncMLBody(wbxml, XML_MEDIA_TYPE)).toThrow(
      expect.objectContaining({ message: expect.stringMatching(/declared application\/vnd\.syncml\.dm\+xml but starts like WBXML \(first byte 3\)/) }),
    );
    expect(() => parseSyncMLBody(xml, WBXML_MEDIA_TYPE)).toThrow(expect.objectContaining({ code: 'wbxml-version', message: expect.stringContaining('starts like XML') }));
  });
});
