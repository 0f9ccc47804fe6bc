/**
 * A small DER reader and writer over Buffers, for CMS structures that must be read back byte for byte: a
 * signature covers the exact encoding that was sent (the signed attributes), so the reader hands out byte ranges
 * rather than re-encoding parsed values. Definite lengths only (DER); one-byte tags only (all CMS needs).
 */

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  SEQUENCE: 0x30,
  SET: 0x31,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  /** [0] IMPLICIT or EXPLICIT, constructed. */
  CONTEXT_0: 0xa0,
  CONTEXT_1: 0xa1,
} as const;

/** The input is not the DER structure expected; `message` says where. */
export class DerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DerError';
  }
}

/** One element: tag, and its byte range (`start` at the tag, `contentStart` after the length, `end` exclusive). */
export interface Tlv {
  tag: number;
  start: number;
  contentStart: number;
  end: number;
}

export function readTlv(buf: Buffer, at: number, limit = buf.length): Tlv {
  if (at + 2 > limit) throw new DerError(`truncated at byte ${at}`);
  const tag = buf[at];
  if ((tag & 0x1f) === 0x1f) throw new DerError(`multi-byte tag at byte ${at}`);
  const first = buf[at + 1];
  let length: number;
  let contentStart: number;
  if (first < 0x80) {
    length = first;
    contentStart = at + 2;
  } else {
    const octets = first & 0x7f;
    if (octets === 0) throw new DerError(`indefinite length at byte ${at} (BER, not DER)`);
    if (octets > 4 || at + 2 + octets > limit) throw new DerError(`bad length at byte ${at}`);
    length = buf.readUIntBE(at + 2, octets);
    contentStart = at + 2 + octets;
  }
  const end = contentStart + length;
  if (end > limit) throw new DerError(`element at byte ${at} runs past its container`);
  return { tag, start: at, contentStart, end };
}

/** The elements inside a constructed element. */
export function childrenOf(buf: Buffer, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.contentStart; at < parent.end; ) {
    const child = readTlv(buf, at, parent.end);
    out.push(child);
    at = child.end;
  }
  return out;
}

/** Reads an element of the expected tag, or throws naming what was expected. */
export function expectTlv(buf: Buffer, at: number, tag: number, what: string, limit = buf.length): Tlv {
  const tlv = readTlv(buf, at, limit);
  if (tlv.tag !== tag) throw new DerError(`${what}: expected tag 0x${tag.toString(16)}, found 0x${tlv.tag.toString(16)}`);
  return tlv;
}

export const bytesOf = (buf: Buffer, tlv: Tlv): Buffer => buf.subarray(tlv.start, tlv.end);
export const contentOf = (buf: Buffer, tlv: Tlv): Buffer => buf.subarray(tlv.contentStart, tlv.end);

export function oidOf(buf: Buffer, tlv: Tlv): string {
  if (tlv.tag !== TAG.OID) throw new DerError(`expected an OBJECT IDENTIFIER at byte ${tlv.start}`);
  const content = contentOf(buf, tlv);
  if (content.length === 0) throw new DerError(`empty OBJECT IDENTIFIER at byte ${tlv.start}`);
  const arcs: number[] = [];
  let value = 0;
  for (const byte of content) {
    value = value * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) {
      if (arcs.length === 0) arcs.push(value < 80 ? Math.floor(value / 40) : 2, value < 80 ? value % 40 : value - 80);
      else arcs.push(value);
      value = 0;
    }
  }
  return arcs.join('.');
}

/** UTCTime (RFC 5280 two-digit years: 50..99 are 19xx) or GeneralizedTime, whole seconds, `Z` only. */
export function timeOf(buf: Buffer, tlv: Tlv): Date {
  const text = contentOf(buf, tlv).toString('latin1');
  const m =
    tlv.tag === TAG.UTC_TIME ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text) : tlv.tag === TAG.GENERALIZED_TIME ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.\d+)?Z$/.exec(text) : null;
  if (!m) throw new DerError(`"${text.slice(0, 32)}" is not a UTCTime or GeneralizedTime`);
  let year = Number(m[1]);
  if (tlv.tag === TAG.UTC_TIME) year += year < 50 ? 2000 : 1900;
  return new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
}

// ---------------------------------------------------------------------------------------------------------------
// Writing

export function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  const n = body.length;
  let header: Buffer;
  if (n < 0x80) header = Buffer.from([tag, n]);
  else {
    const octets: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) octets.unshift(v & 0xff);
    header = Buffer.from([tag, 0x80 | octets.length, ...octets]);
  }
  return Buffer.concat([header, body]);
}

export const sequence = (...items: Buffer[]): Buffer => tlv(TAG.SEQUENCE, ...items);

/** A DER SET OF: members sorted by their encodings (X.690 11.6), as verifiers re-encode it that way. */
export function setOf(tag: number, members: Buffer[]): Buffer {
  return tlv(tag, ...[...members].sort(Buffer.compare));
}

export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const values = [arcs[0] * 40 + arcs[1], ...arcs.slice(2)];
  const bytes: number[] = [];
  for (const value of values) {
    const groups: number[] = [value & 0x7f];
    for (let v = Math.floor(value / 128); v > 0; v = Math.floor(v / 128)) groups.unshift(0x80 | (v & 0x7f));
    bytes.push(...groups);
  }
  return tlv(TAG.OID, Buffer.from(bytes));
}

export function integer(value: number): Buffer {
  return tlv(TAG.INTEGER, Buffer.from([value]));
}

/** RFC 5652 11.3: UTCTime for 1950..2049, GeneralizedTime otherwise; whole seconds. */
export function time(date: Date): Buffer {
  const iso = new Date(Math.floor(date.getTime() / 1000) * 1000).toISOString(); // 2026-01-02T03:04:05.000Z
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '');
  const year = date.getUTCFullYear();
  return year >= 1950 && year < 2050 ? tlv(TAG.UTC_TIME, Buffer.from(`${digits.slice(2)}Z`)) : tlv(TAG.GENERALIZED_TIME, Buffer.from(`${digits}Z`));
}
