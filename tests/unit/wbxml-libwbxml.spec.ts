import { expect, test } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { METINF_PAGE, SYNCML_PAGE } from '../../harness/syncml/wbxml-tokens';
import { decodeWbxml, encodeWbxml, parseSyncML, parseSyncMLWbxml, serializeSyncMLWbxml, type SyncML } from '../../harness/syncml';
import { parseXml } from '../../harness/syncml/xml';
import { wbxmlSamples } from './wbxml-samples';

/**
 * Cross-check against an independent WBXML implementation: libwbxml's `xml2wbxml` and `wbxml2xml` (Debian
 * libwbxml2-utils), which know the SyncML 1.2 code pages from the SyncML 1.2 DOCTYPE (or the public id 0x1201).
 *
 * Models are compared without what libwbxml does not carry, the text of every value exactly:
 * - attributes: libwbxml keeps no SyncML attribute but the namespace declarations it derives from the code pages,
 *   so `xmlns:msft` and `msft:originalerror` are dropped both ways;
 * - the CDATA flag: libwbxml writes every Item `Data` as OPAQUE (which we read as CDATA) and renders OPAQUE as
 *   CDATA or as escaped text depending on the context. CDATA or not is presentation; the text is the same.
 */
const DOCTYPE = '<!DOCTYPE SyncML PUBLIC "-//SYNCML//DTD SyncML 1.2//EN" "http://www.openmobilealliance.org/tech/DTD/OMA-TS-SyncML_RepPro_DTD-V1_2.dtd">';

function installed(tool: string): boolean {
  const r = spawnSync(tool, [], { timeout: 10_000 });
  return !r.error;
}

const TOOLS = installed('xml2wbxml') && installed('wbxml2xml');

function run(tool: string, args: string[]): void {
  const r = spawnSync(tool, args, { timeout: 30_000, encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`${tool} ${args.join(' ')} failed: ${r.error?.message ?? r.stderr ?? r.stdout}`);
}

/** The model without what libwbxml cannot carry: attributes other than default-namespace declarations, CDATA flags. */
function comparable<T>(value: T): T {
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (v === null || typeof v !== 'object' || v instanceof Uint8Array) return v;
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(v)) {
      if (key === 'cdata' && typeof inner === 'boolean') continue;
      if (key !== 'attrs') {
        out[key] = strip(inner);
        continue;
      }
      const kept = Object.fromEntries(Object.entries(inner as Record<string, string>).filter(([name]) => name === 'xmlns'));
      if (Object.keys(kept).length || (v as { type?: string }).type === 'element') out[key] = kept;
    }
    return out;
  };
  return strip(value) as T;
}

test.describe('WBXML cross-checked with libwbxml (xml2wbxml / wbxml2xml)', () => {
  test.skip(!TOOLS, 'libwbxml2-utils is not installed (apt-get install -y libwbxml2-utils): no independent WBXML implementation to compare with');

  let dir = '';
  test.beforeAll(() => {
    if (TOOLS) dir = mkdtempSync(join(tmpdir(), 'mdm-wbxml-'));
  });
  test.afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** libwbxml's WBXML for an XML text (the SyncML 1.2 DOCTYPE added), with xml2wbxml options. */
  function libwbxmlEncode(name: string, xml: string, options: string[]): Uint8Array {
    const input = join(dir, `${name}.xml`);
    const output = join(dir, `${name}.wbxml`);
    writeFileSync(input, `<?xml version="1.0"?>${DOCTYPE}${xml.replace(/^<\?xml[^>]*\?>/, '')}`);
    run('xml2wbxml', [...options, '-o', output, input]);
    return readFileSync(output);
  }

  /** libwbxml's XML for WBXML bytes (compact), without its DOCTYPE, which our XML parser refuses by design. */
  function libwbxmlDecode(name: string, bytes: Uint8Array): string {
    const input = join(dir, `${name}.ours.wbxml`);
    const output = join(dir, `${name}.ours.xml`);
    writeFileSync(input, bytes);
    run('wbxml2xml', ['-m', '0', '-o', output, input]);
    return readFileSync(output, 'utf8').replace(/<!DOCTYPE[^>]*>/, '');
  }

  for (const [name, xml] of wbxmlSamples()) {
    test(`${name}: what libwbxml encodes decodes to the model of its XML`, () => {
      const expected = comparable(parseSyncML(xml).message);
      const variants: [string, string[]][] = [['string table', []], ['inline strings', ['-n']], ['WBXML 1.2', ['-v', '1.2']], ['whitespace kept', ['-k']]];
      for (const [label, options] of variants) {
        const bytes = libwbxmlEncode(name, xml, options);
        const decoded = parseSyncMLWbxml(bytes);
        expect(comparable(decoded.message), `${name} (${label})`).toEqual(expected);
        expect(decoded.deviations, `${name} (${label})`).toEqual(parseSyncML(xml).deviations);
      }
    });

    test(`${name}: what we encode libwbxml decodes to the same model`, () => {
      const model: SyncML = parseSyncML(xml).message;
      for (const opts of [{}, { stringTable: true }, { version: 0x02 as const }]) {
        const theirXml = libwbxmlDecode(name, serializeSyncMLWbxml(model, opts));
        expect(comparable(parseSyncML(theirXml).message), `${name} ${JSON.stringify(opts)}`).toEqual(comparable(model));
      }
    });
  }

  test('every tag of code pages 0 (SyncML) and 1 (MetInf) has the token libwbxml gives it: identical bytes', () => {
    const syncml = [...SYNCML_PAGE.tags.values()].map((tag) => `<${tag}>x</${tag}>`).join('');
    const metinf = [...METINF_PAGE.tags.values()].map((tag) => `<${tag} xmlns="syncml:metinf">y</${tag}>`).join('');
    const xml = `<SyncML xmlns="SYNCML:SYNCML1.2"><SyncBody>${syncml}<Meta>${metinf}</Meta><Final/></SyncBody></SyncML>`;
    const theirs = Buffer.from(libwbxmlEncode('all-tags', xml, ['-n']));
    const ours = Buffer.from(encodeWbxml(parseXml(xml)));
    expect(ours.toString('hex')).toBe(theirs.toString('hex'));
    expect(decodeWbxml(theirs)).toEqual(parseXml(xml));
  });
});
