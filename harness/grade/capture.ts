/**
 * Captured MS-MDM traffic, whatever it was saved as: the common shape every capture reader returns, and the
 * error they raise for input that cannot be read at all.
 *
 * A reader only finds the messages, their order, their direction when the capture says it, and the HTTP facts the
 * capture holds. Reading a body as SyncML is `readBody`'s job (./body.ts), and putting messages into sessions is
 * `groupSessions`'s (./sessions.ts).
 */
import type { Party } from '../checks/session';

/** Where a message sits in what the user handed over, for evidence and error messages. */
export interface CaptureSource {
  file: string;
  /** "entry 12 request", "line 340", "session 1 msg 3", or "whole file". */
  position: string;
}

export interface CapturedHttp {
  /** Request only. */
  method?: string;
  /** Request only. */
  url?: string;
  /** Response only. */
  status?: number;
  statusText?: string;
  /** Lower-case names; repeated fields joined with ", " (RFC 9110 5.3). */
  headers: Record<string, string>;
  /** The body on the wire disagreed with its Content-Length (the capture says so, not a capture artefact). */
  lengthMismatch?: { declared: number; received: number };
  /** Size of the body on the wire when the capture holds only part of it (`body` is shorter). */
  wireBytes?: number;
}

export interface CapturedMessage {
  source: CaptureSource;
  /** Known from the capture (a HAR request is the device's) or the SyncHdr; otherwise inferred when grouping. */
  from?: Party;
  /** The body as captured, never re-encoded. */
  body: Buffer;
  /** Only where the capture has HTTP headers (HAR, harness transcripts); folders and text files have none. */
  http?: CapturedHttp;
  /** Milliseconds since the epoch, when the capture gives a time. */
  startedAt?: number;
  /** Shared by the request and the response of one HTTP exchange (a HAR entry), so the pairing is kept. */
  pairedWith?: string;
  /**
   * On a request: the capture recorded that the exchange failed, and why (reset, timeout, status 0). Usually there
   * is no reply then; a reply read despite a framing error is still paired with it.
   */
  failure?: string;
  /** The capture holds only the start of the body (an export that cuts long bodies, a proxy's size limit). */
  truncated?: true;
  /** The capture's own session grouping (harness transcripts), which grouping keeps as a session boundary. */
  sessionHint?: string;
}

/** Messages a reader passed over, so a user can see what was not graded. */
export interface SkippedEntry {
  source: CaptureSource;
  why: string;
}

/** Optional record a reader fills with what it passed over. */
export interface CaptureLog {
  skipped: SkippedEntry[];
}

/** Input that cannot be read as a capture at all; the message names the file, the place and the way out. */
export class GradeInputError extends Error {
  constructor(
    readonly file: string,
    readonly position: string | undefined,
    problem: string,
  ) {
    super(`${file}${position ? ` (${position})` : ''}: ${problem}`);
    this.name = 'GradeInputError';
  }
}

/** The two media types of OMA DM over HTTP (MS-MDM 2.1; MDM-TRN-005). */
export const SYNCML_MEDIA_TYPES: readonly string[] = ['application/vnd.syncml.dm+xml', 'application/vnd.syncml.dm+wbxml'];

export function isSyncMLMediaType(contentType: string | undefined): boolean {
  return SYNCML_MEDIA_TYPES.includes((contentType ?? '').split(';')[0].trim().toLowerCase());
}

export type BodyKind = 'syncml' | 'wbxml' | 'empty' | 'other';

const BOM = /^\uFEFF/;
/** Prolog items a SyncML document may start with: declaration, comments, processing instructions, doctype. */
const PROLOG_ITEM = /^\s*(?:<\?[\s\S]*?\?>|<!--[\s\S]*?-->|<!DOCTYPE(?:[^[>]|\[[\s\S]*?\])*>)/;
const SYNCML_START = /^\s*<(?:[A-Za-z_][\w.-]*:)?SyncML(?=[\s>/])/;
const PROLOG_PEEK = 64 * 1024;

/**
 * How a body starts: an XML document whose root is SyncML (well-formed or not), WBXML (its first byte is a
 * WBXML version number, 0x01 to 0x03, where XML starts with `<`, a BOM or white space), nothing, or anything else.
 */
export function bodyKind(body: Uint8Array): BodyKind {
  if (body.byteLength === 0) return 'empty';
  if (body[0] >= 0x01 && body[0] <= 0x03) return 'wbxml';
  let text = Buffer.from(body.buffer, body.byteOffset, Math.min(body.byteLength, PROLOG_PEEK)).toString('utf8').replace(BOM, '');
  for (let guard = 0; guard < 100; guard++) {
    const item = PROLOG_ITEM.exec(text);
    if (!item) break;
    text = text.slice(item[0].length);
  }
  if (text.trim() === '') return 'empty';
  return SYNCML_START.test(text) ? 'syncml' : 'other';
}

/** The first element name of an XML-ish text, for error messages ("the document starts with <html>"). */
export function firstTag(body: Uint8Array): string {
  const text = Buffer.from(body.buffer, body.byteOffset, Math.min(body.byteLength, 256)).toString('utf8');
  const tag = /<([A-Za-z_][\w.:-]*)/.exec(text.replace(/<\?[\s\S]*?\?>|<!--[\s\S]*?-->/g, ''));
  if (tag) return `<${tag[1]}>`;
  const start = text.trim().slice(0, 24).replace(/\s+/g, ' ');
  return start ? `"${start}${text.trim().length > 24 ? '…' : ''}"` : 'nothing';
}

/** Header fields from name/value pairs, names lower-cased, repeats joined with ", " (RFC 9110 5.3). */
export function headerRecord(pairs: Iterable<readonly [string, string]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [rawName, value] of pairs) {
    const name = rawName.toLowerCase();
    out[name] = name in out ? `${out[name]}, ${value}` : value;
  }
  return out;
}

/** Content-Length as a number, or undefined when absent or not one number (RFC 9110 8.6): as a live run reads it. */
export { declaredLength as contentLength } from '../transport/record';
