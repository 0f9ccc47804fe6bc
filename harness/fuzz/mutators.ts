/**
 * Structure-aware mutations of SyncML messages for fuzzing: drop, duplicate, reorder or retype elements, break
 * references, blow values up, and damage the bytes (invalid UTF-8, truncation, DOCTYPE, deep nesting). A mutation
 * is plain data (kind + position), so fast-check can shrink a failing case to a minimal message.
 *
 * WBXML bodies get byte mutations of their own: bit flips, truncation, inserted or overwritten token bytes (global
 * tokens, multi-byte continuation bytes), duplicated and deleted ranges, on messages written with and without a
 * string table.
 */
import fc from 'fast-check';
import { serializeSyncML, serializeSyncMLWbxml, type SyncML } from '../syncml';
import { nodeToXml, parseXml, type XmlElement, type XmlNode } from '../syncml/xml';
import { syncMLMessage } from './arbitraries';

export const MUTATION_KINDS = [
  'drop', 'duplicate', 'swap-with-next', 'rename', 'wrong-reference', 'oversize-text', 'empty-text', 'unknown-child',
  'invalid-utf8', 'truncate', 'doctype', 'deep-nesting',
] as const;

export type MutationKind = (typeof MUTATION_KINDS)[number];

export interface Mutation {
  kind: MutationKind;
  /** Which element (document order, modulo the element count) or byte position the mutation applies to. */
  at: number;
}

const RENAMES = ['Sync', 'Map', 'Put', 'Frobnicate', 'status', 'Status', 'Get', 'Results', 'Final'];
/** Far beyond any DM value, yet small enough for ten thousand cases a run. */
const OVERSIZE = 8 * 1024;

function elements(root: XmlElement): { el: XmlElement; parent?: XmlElement }[] {
  const out: { el: XmlElement; parent?: XmlElement }[] = [];
  const walk = (el: XmlElement, parent?: XmlElement) => {
    out.push({ el, parent });
    for (const c of el.children) if (c.type === 'element') walk(c, el);
  };
  walk(root);
  return out;
}

function mutateTree(root: XmlElement, m: Mutation): void {
  const all = elements(root);
  const { el, parent } = all[m.at % all.length];
  const siblings = parent?.children;
  const index = siblings ? siblings.indexOf(el) : -1;
  switch (m.kind) {
    case 'drop':
      if (siblings) siblings.splice(index, 1);
      break;
    case 'duplicate':
      if (siblings) siblings.splice(index, 0, structuredClone(el));
      break;
    case 'swap-with-next':
      if (siblings && index + 1 < siblings.length) [siblings[index], siblings[index + 1]] = [siblings[index + 1], siblings[index]];
      break;
    case 'rename':
      el.name = RENAMES[m.at % RENAMES.length];
      break;
    case 'wrong-reference': {
      const ref = all.map((x) => x.el).filter((x) => ['MsgRef', 'CmdRef', 'CmdID', 'MsgID'].includes(x.name));
      const target = ref.length ? ref[m.at % ref.length] : el;
      target.children = [{ type: 'text', text: String((m.at % 7) * 1000 + 99), cdata: false }];
      break;
    }
    case 'oversize-text':
      el.children = [{ type: 'text', text: 'x'.repeat(OVERSIZE), cdata: false }];
      break;
    case 'empty-text':
      el.children = [];
      break;
    case 'unknown-child':
      el.children.push({ type: 'element', name: 'Bogus', ns: el.ns, attrs: {}, children: [{ type: 'text', text: '1', cdata: false } as XmlNode] });
      break;
    default:
      break;
  }
}

const BYTE_LEVEL: ReadonlySet<MutationKind> = new Set(['invalid-utf8', 'truncate', 'doctype', 'deep-nesting']);

function mutateBytes(bytes: Buffer, m: Mutation): Buffer {
  const at = bytes.length ? m.at % bytes.length : 0;
  switch (m.kind) {
    case 'invalid-utf8':
      return Buffer.concat([bytes.subarray(0, at), Buffer.from([0xff, 0xfe, 0xc3]), bytes.subarray(at)]);
    case 'truncate':
      return bytes.subarray(0, at);
    case 'doctype':
      return Buffer.concat([Buffer.from('<!DOCTYPE SyncML [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'), bytes]);
    case 'deep-nesting': {
      const text = bytes.toString('utf8');
      const depth = 64 + (m.at % 64);
      return Buffer.from(text.replace('<SyncBody>', `<SyncBody>${'<Atomic><CmdID>9</CmdID>'.repeat(depth)}${'</Atomic>'.repeat(depth)}`));
    }
    default:
      return bytes;
  }
}

/** Applies mutations in order; element mutations work on the tree while it still parses, byte ones on the bytes. */
export function mutate(message: SyncML, mutations: readonly Mutation[]): Buffer {
  let bytes: Buffer = Buffer.from(serializeSyncML(message));
  for (const m of mutations) {
    if (BYTE_LEVEL.has(m.kind)) {
      bytes = mutateBytes(bytes, m);
      continue;
    }
    let root: XmlElement;
    try {
      root = parseXml(bytes);
    } catch {
      continue; // earlier mutations broke the document: element edits no longer apply
    }
    mutateTree(root, m);
    bytes = Buffer.from(nodeToXml(root));
  }
  return bytes;
}

export const mutationArb: fc.Arbitrary<Mutation> = fc.record({ kind: fc.constantFrom(...MUTATION_KINDS), at: fc.nat({ max: 10_000 }) });

export interface MutatedCase {
  message: SyncML;
  mutations: Mutation[];
}

/** A valid message and one to three mutations of it. */
export function mutatedCase(): fc.Arbitrary<MutatedCase> {
  return fc.record({ message: syncMLMessage(), mutations: fc.array(mutationArb, { minLength: 1, maxLength: 3 }) });
}

// ---------------------------------------------------------------------------------------------------------------
// WBXML

export const WBXML_MUTATION_KINDS = ['flip', 'truncate', 'insert', 'overwrite', 'duplicate-range', 'delete-range'] as const;

export type WbxmlMutationKind = (typeof WBXML_MUTATION_KINDS)[number];

export interface WbxmlMutation {
  kind: WbxmlMutationKind;
  /** Byte position (modulo the length). */
  at: number;
  /** Range length for duplicate-range and delete-range. */
  length: number;
  /** Bit to flip (modulo 8), or which byte to insert or write (an index into WBXML_BYTES, or a raw byte). */
  value: number;
}

/** Bytes that mean something to a WBXML reader: global tokens, code pages, continuation bytes, and the extremes. */
const WBXML_BYTES = [0x00, 0x01, 0x02, 0x03, 0x04, 0x40, 0x43, 0x44, 0x80, 0x83, 0x84, 0xc3, 0xc4, 0x7f, 0xff, 0x6d, 0x2d, 0x05, 0x3f];

function wbxmlByte(value: number): number {
  return value < WBXML_BYTES.length * 2 ? WBXML_BYTES[value % WBXML_BYTES.length] : value & 0xff;
}

export function mutateWbxmlBytes(input: Uint8Array, mutations: readonly WbxmlMutation[]): Buffer {
  let bytes = Buffer.from(input);
  for (const m of mutations) {
    const at = bytes.length ? m.at % bytes.length : 0;
    const end = Math.min(bytes.length, at + 1 + (m.length % 64));
    switch (m.kind) {
      case 'flip':
        if (bytes.length) bytes[at] ^= 1 << (m.value % 8);
        break;
      case 'truncate':
        bytes = bytes.subarray(0, at);
        break;
      case 'insert':
        bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from([wbxmlByte(m.value)]), bytes.subarray(at)]);
        break;
      case 'overwrite':
        if (bytes.length) bytes[at] = wbxmlByte(m.value);
        break;
      case 'duplicate-range':
        bytes = Buffer.concat([bytes.subarray(0, end), bytes.subarray(at, end), bytes.subarray(end)]);
        break;
      case 'delete-range':
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(end)]);
        break;
    }
  }
  return bytes;
}

export const wbxmlMutationArb: fc.Arbitrary<WbxmlMutation> = fc.record({
  kind: fc.constantFrom(...WBXML_MUTATION_KINDS),
  at: fc.nat({ max: 100_000 }),
  length: fc.nat({ max: 255 }),
  value: fc.nat({ max: 255 }),
});

export interface WbxmlMutatedCase {
  message: SyncML;
  /** Whether the message is written with a string table (STR_T references) before it is damaged. */
  stringTable: boolean;
  mutations: WbxmlMutation[];
}

/** A valid message in WBXML and one to three byte mutations of it. */
export function wbxmlMutatedCase(): fc.Arbitrary<WbxmlMutatedCase> {
  return fc.record({ message: syncMLMessage(), stringTable: fc.boolean(), mutations: fc.array(wbxmlMutationArb, { minLength: 1, maxLength: 3 }) });
}

export function mutateWbxml(c: WbxmlMutatedCase): Buffer {
  return mutateWbxmlBytes(serializeSyncMLWbxml(c.message, { stringTable: c.stringTable }), c.mutations);
}
