/**
 * Codec throughput: parse (guard + well-formedness + tree + model + content models) and serialize, beside raw
 * fast-xml-parser parsing of the same bytes in the same run, so the ratio does not depend on the machine. The
 * WBXML codec is measured on the same messages, its ratios taken against the XML codec's figures.
 */
import { XMLParser } from 'fast-xml-parser';
import {
  decodeWbxml, get, item, message, parseSyncML, parseSyncMLWbxml, replace, results, serializeSyncML, serializeSyncMLWbxml,
  status, type Command,
} from '../harness/syncml';
import { parseXml } from '../harness/syncml/xml';
import { fmt, measure } from './measure';

/** A device reply of about `bytes`: statuses, then Replace and Results items, the shapes Windows sends (catalogue 3.7 C). */
function deviceReply(bytes: number): string {
  const build = (rounds: number) => {
    const commands: Command[] = [status({ cmdID: 1, msgRef: '1', cmdRef: '0', cmd: 'SyncHdr', code: 200 })];
    let id = 2;
    for (let r = 0; r < rounds; r++) {
      commands.push(status({ cmdID: id++, msgRef: '1', cmdRef: String(id), cmd: 'Replace', code: 200 }));
      commands.push(replace(`./Vendor/MSFT/Policy/Config/Area${id}/Setting`, `value-${id}`, { format: 'chr', cmdID: id++ }));
      commands.push(results({ cmdID: id++, msgRef: '1', cmdRef: String(id), cmd: 'Get', items: [item({ source: `./DevDetail/Ext/Microsoft/Node${id}`, format: 'chr', data: 'x'.repeat(40) })] }));
    }
    commands.push({ ...get('./DevInfo/Lang'), cmdID: String(id) });
    return serializeSyncML(message({ sessionID: '1A', msgID: 2, target: 'https://mdm.example.test/omadm', source: 'DEV-1', commands, final: true }));
  };
  const perRound = build(11).length - build(10).length;
  return build(Math.max(1, Math.round((bytes - build(0).length) / perRound)));
}

const raw = new XMLParser({
  preserveOrder: true, ignoreAttributes: false, attributeNamePrefix: '', parseTagValue: false, parseAttributeValue: false,
  trimValues: false, cdataPropName: '#cdata', processEntities: true, htmlEntities: true,
});

export function benchCodec(seconds: number): string[] {
  const lines: string[] = [];
  for (const [label, size] of [['10 KB', 10_000], ['1 MB', 1_000_000]] as const) {
    const xml = deviceReply(size);
    const bytes = Buffer.from(xml);
    const parsed = parseSyncML(bytes).message;
    const baseline = measure(() => raw.parse(xml), { seconds, bytesPerOp: bytes.length });
    const parse = measure(() => parseSyncML(bytes), { seconds, bytesPerOp: bytes.length });
    const serialize = measure(() => serializeSyncML(parsed), { seconds, bytesPerOp: bytes.length });
    const both = measure(() => serializeSyncML(parseSyncML(bytes).message), { seconds, bytesPerOp: bytes.length });
    lines.push(
      `codec ${label} (${bytes.length} bytes):`,
      `  raw fast-xml-parser parse     ${fmt(baseline.opsPerSec)} msg/s  ${fmt(baseline.mbPerSec!)} MB/s  (baseline)`,
      `  parseSyncML (checked model)   ${fmt(parse.opsPerSec)} msg/s  ${fmt(parse.mbPerSec!)} MB/s  ratio ${(parse.opsPerSec / baseline.opsPerSec).toFixed(2)}`,
      `  serializeSyncML               ${fmt(serialize.opsPerSec)} msg/s  ${fmt(serialize.mbPerSec!)} MB/s`,
      `  parse + serialize             ${fmt(both.opsPerSec)} msg/s  ${fmt(both.mbPerSec!)} MB/s  ratio ${(both.opsPerSec / baseline.opsPerSec).toFixed(2)}`,
    );
    lines.push(...benchWbxml(bytes, parse.opsPerSec, serialize.opsPerSec, seconds));
  }
  return lines;
}

/** WBXML decode and encode of the same message; MB/s counts the WBXML bytes, ratios are against the XML codec. */
function benchWbxml(xmlBytes: Buffer, xmlParseOps: number, xmlSerializeOps: number, seconds: number): string[] {
  const parsed = parseSyncML(xmlBytes).message;
  const wbxml = serializeSyncMLWbxml(parsed);
  const tree = measure(() => parseXml(xmlBytes), { seconds, bytesPerOp: xmlBytes.length });
  const decode = measure(() => decodeWbxml(wbxml), { seconds, bytesPerOp: wbxml.length });
  const parse = measure(() => parseSyncMLWbxml(wbxml), { seconds, bytesPerOp: wbxml.length });
  const serialize = measure(() => serializeSyncMLWbxml(parsed), { seconds, bytesPerOp: wbxml.length });
  const withTable = serializeSyncMLWbxml(parsed, { stringTable: true });
  return [
    `  WBXML: ${wbxml.length} bytes (${((100 * wbxml.length) / xmlBytes.length).toFixed(0)}% of the XML), ${withTable.length} with a string table`,
    `  parseXml (tree only)          ${fmt(tree.opsPerSec)} msg/s  ${fmt(tree.mbPerSec!)} MB/s`,
    `  decodeWbxml (tree only)       ${fmt(decode.opsPerSec)} msg/s  ${fmt(decode.mbPerSec!)} MB/s  ratio to parseXml ${(decode.opsPerSec / tree.opsPerSec).toFixed(2)}`,
    `  parseSyncMLWbxml              ${fmt(parse.opsPerSec)} msg/s  ${fmt(parse.mbPerSec!)} MB/s  ratio to parseSyncML ${(parse.opsPerSec / xmlParseOps).toFixed(2)}`,
    `  serializeSyncMLWbxml          ${fmt(serialize.opsPerSec)} msg/s  ${fmt(serialize.mbPerSec!)} MB/s  ratio to serializeSyncML ${(serialize.opsPerSec / xmlSerializeOps).toFixed(2)}`,
  ];
}
