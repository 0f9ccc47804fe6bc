/**
 * A scenario's transcripts as report material, redacted: one XML document per message (its HTTP headers as a
 * comment, then the body), and a compact JSON view of every session (messages, their commands, the Status/Results
 * references) that the summary page draws as sequence diagrams.
 *
 * Message numbers follow the checks' session view (`msg N` counts both directions from 1, per session), so the
 * `msg N (...) /SyncBody/Status[2]/CmdRef` of a finding's evidence names a message and a row of this export.
 *
 * A WBXML body is shown decoded as XML beside its bytes (hex in the XML attachments, base64 in the JSON view), its
 * secrets masked in the bytes and redacted in the XML (Redactor.wbxml).
 */
import { sessionFromTranscript } from '../checks/from-transcript';
import { commandsWithPaths, type Party, type WireMessage } from '../checks/session';
import type { Finding } from '../checks/finding';
import { codeOf, decodeWbxml, metaValue, sniffEncoding, type Command, type SyncML } from '../syncml';
import { nodeToXml } from '../syncml/xml';
import type { Exchange, HttpMessage } from '../transport';
import type { Redactor } from './redact';

export const TRANSCRIPT_ATTACHMENT = 'conformance-transcript';

/** Bodies longer than this are cut in the JSON view (the XML attachments keep more). */
const JSON_BODY_LIMIT = 64 * 1024;
const XML_BODY_LIMIT = 1024 * 1024;
/** WBXML bytes shown in hex in an XML attachment: enough to read the header and the first messages' tokens. */
const HEX_LIMIT = 16 * 1024;

export interface CommandRow {
  /** Element path in the evidence convention, e.g. `/SyncBody/Status[2]` or `/SyncBody/Atomic/Replace`. */
  path: string;
  kind: string;
  /** 0 for SyncBody children, 1 inside an Atomic or Sequence. */
  depth: number;
  cmdID?: string;
  msgRef?: string;
  cmdRef?: string;
  cmd?: string;
  /** Status or Alert code. */
  code?: string;
  /** Item Target/Source LocURIs, or a Status's TargetRef/SourceRef. */
  uris?: string[];
  items?: number;
}

export interface HeaderRow {
  sessionID?: string;
  msgID?: string;
  target?: string;
  source?: string;
  respURI?: string;
  /** Cred scheme (`Meta/Type`); the data itself never leaves the harness. */
  cred?: string;
  final?: boolean;
}

export interface MessageExport {
  n: number;
  from: Party;
  /** `msg 3 (device->server)`, as evidence writes it. */
  label: string;
  http: { method?: string; url?: string; status?: number; statusText?: string; headers: Record<string, string> };
  bytes: number;
  /** Redacted text, or base64 when the body is not UTF-8 (a WBXML body: its bytes with the secrets masked). */
  body: string;
  bodyEncoding: 'utf8' | 'base64';
  /** A WBXML body decoded as XML, redacted; absent when the body is not WBXML or does not decode. */
  decoded?: string;
  truncated?: true;
  hdr?: HeaderRow;
  commands: CommandRow[];
  parseError?: string;
}

export interface SessionExport {
  /** 0-based position among the test's sessions. */
  index: number;
  startedAt?: number;
  endedAt?: number;
  messages: MessageExport[];
  /** Requests that got no usable reply, by the request's message number. */
  failures: { n: number; text: string }[];
  /** TLS as the harness saw the peer in the first exchange. */
  tls?: { authorized: boolean; authorizationError?: string; protocol?: string; peer?: string };
}

/** A failing (or warned) element a finding's evidence points at. */
export interface Mark {
  /** Session index; null when the finding cannot be tied to one session (then every session is a candidate). */
  session: number | null;
  n: number;
  from: Party;
  path?: string;
  id: string;
  verdict: 'fail' | 'warn';
  evidence: string;
}

export interface TranscriptExport {
  scenario: string;
  sessions: SessionExport[];
  marks: Mark[];
}

/** Transcripts come from scenarios as `unknown[]`; only arrays of recorded exchanges are exported. */
export function exchangeLists(transcripts: readonly unknown[]): Exchange[][] {
  return transcripts.filter((t): t is Exchange[] => Array.isArray(t) && t.every((x) => !!x && typeof x === 'object' && 'request' in x));
}

function bodyText(body: Buffer, limit: number, r: Redactor): { text: string; encoding: 'utf8' | 'base64'; truncated?: true } {
  const cut = body.byteLength > limit;
  const bytes = cut ? body.subarray(0, limit) : body;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    // A multi-byte character cut at the limit is not a reason to show base64 for a text body.
    if (cut) {
      text = bytes.toString('utf8');
    } else {
      return { text: bytes.toString('base64'), encoding: 'base64' };
    }
  }
  return cut ? { text: r.text(text), encoding: 'utf8', truncated: true } : { text: r.text(text), encoding: 'utf8' };
}

function urisOf(c: Command): string[] | undefined {
  const out: string[] = [];
  if (c.kind === 'Status') out.push(...c.targetRefs, ...c.sourceRefs);
  if (c.kind === 'Results') for (const ref of [c.targetRef, c.sourceRef]) if (ref) out.push(ref);
  if ('items' in c) for (const i of c.items) for (const a of [i.target, i.source]) if (a?.locURI) out.push(a.locURI.trim());
  return out.length ? [...new Set(out)] : undefined;
}

function commandRows(msg: SyncML): CommandRow[] {
  const rows: CommandRow[] = [];
  for (const { command: c, path, depth } of commandsWithPaths(msg.body.commands)) {
    const row: CommandRow = { path, kind: c.kind === 'Unknown' ? c.name : c.kind, depth };
    if (c.cmdID !== undefined) row.cmdID = c.cmdID.trim();
    if (c.kind === 'Status' || c.kind === 'Results') {
      if (c.msgRef !== undefined) row.msgRef = c.msgRef.trim();
      if (c.cmdRef !== undefined) row.cmdRef = c.cmdRef.trim();
      if (c.cmd !== undefined) row.cmd = c.cmd.trim();
    }
    if (c.kind === 'Status' || c.kind === 'Alert') {
      const code = codeOf(c);
      if (code !== undefined) row.code = code.length > 40 ? `${code.slice(0, 40)}…` : code;
    }
    const uris = urisOf(c);
    if (uris) row.uris = uris;
    if ('items' in c && c.items.length) row.items = c.items.length;
    rows.push(row);
  }
  return rows;
}

function headerRow(msg: SyncML): HeaderRow {
  const h = msg.hdr;
  const row: HeaderRow = {};
  if (h.sessionID !== undefined) row.sessionID = h.sessionID.trim();
  if (h.msgID !== undefined) row.msgID = h.msgID.trim();
  if (h.target?.locURI) row.target = h.target.locURI.trim();
  if (h.source?.locURI) row.source = h.source.locURI.trim();
  if (h.respURI !== undefined) row.respURI = h.respURI.trim();
  if (h.cred) row.cred = metaValue(h.cred.meta, 'Type')?.trim() ?? 'Cred';
  if (msg.body.final) row.final = true;
  return row;
}

/** Whether a body is WBXML (by its first bytes: WBXML opens with its version byte). */
function isWbxml(body: Buffer): boolean {
  return body.byteLength > 0 && sniffEncoding(body) === 'wbxml';
}

/** A WBXML body as report material: its bytes with the secrets masked, and the XML they decode to (redacted). */
export function wbxmlView(body: Uint8Array, r: Redactor): { bytes: Buffer; xml?: string } {
  const bytes = r.wbxml(body);
  try {
    return { bytes, xml: r.text(nodeToXml(decodeWbxml(bytes))) };
  } catch {
    return { bytes };
  }
}

/** Offset, hex and printable ASCII, 16 bytes a line (as `xxd` prints them); the first `limit` bytes. */
export function hexDump(bytes: Uint8Array, limit = HEX_LIMIT): string {
  const lines: string[] = [];
  const end = Math.min(bytes.byteLength, limit);
  for (let at = 0; at < end; at += 16) {
    const row = bytes.subarray(at, Math.min(at + 16, end));
    const hex = [...row].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    const text = [...row].map((b) => (b >= 0x20 && b < 0x7f && b !== 0x2d ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${at.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  ${text}`);
  }
  if (bytes.byteLength > end) lines.push(`… ${bytes.byteLength - end} more bytes`);
  return lines.join('\n');
}

/** What a message export reads of the raw message: a transport's HttpMessage, or a captured message's facts. */
export type RawMessage = Pick<HttpMessage, 'body' | 'headers' | 'method' | 'url' | 'status' | 'statusText'> & {
  /** The size on the wire, when the body at hand is only part of it (a capture that cut it). */
  wireBytes?: number;
};

/** One message of a session, redacted, as the summary page draws it; `wire` is the checks' view of `raw`. */
export function messageExport(wire: WireMessage, raw: RawMessage, r: Redactor): MessageExport {
  const wbxml = isWbxml(raw.body) ? wbxmlView(raw.body, r) : undefined;
  const body = wbxml ? { ...bodyText(wbxml.bytes, JSON_BODY_LIMIT, r), text: wbxml.bytes.subarray(0, JSON_BODY_LIMIT).toString('base64'), encoding: 'base64' as const } : bodyText(raw.body, JSON_BODY_LIMIT, r);
  const http: MessageExport['http'] = { headers: r.headers(raw.headers) };
  if (raw.method) http.method = raw.method;
  if (raw.url) http.url = r.text(raw.url);
  if (raw.status !== undefined) http.status = raw.status;
  if (raw.statusText) http.statusText = raw.statusText;
  const out: MessageExport = {
    n: wire.n, from: wire.from, label: `msg ${wire.n} (${wire.from === 'device' ? 'device->server' : 'server->device'})`,
    http, bytes: raw.wireBytes ?? raw.body.byteLength, body: body.text, bodyEncoding: body.encoding, commands: [],
  };
  if (body.truncated || (raw.wireBytes !== undefined && raw.wireBytes > raw.body.byteLength)) out.truncated = true;
  if (wbxml?.xml !== undefined) {
    out.decoded = wbxml.xml.length > JSON_BODY_LIMIT ? `${wbxml.xml.slice(0, JSON_BODY_LIMIT)}…` : wbxml.xml;
    if (wbxml.xml.length > JSON_BODY_LIMIT) out.truncated = true;
  }
  if (wire.syncml) {
    out.hdr = headerRow(wire.syncml);
    out.commands = commandRows(wire.syncml);
  }
  if (wire.parseError) out.parseError = wire.parseError;
  return out;
}

/** The sessions of a scenario, redacted, in the order they ran. */
export function exportSessions(transcripts: readonly unknown[], r: Redactor): SessionExport[] {
  return exchangeLists(transcripts).map((exchanges, index) => {
    const view = sessionFromTranscript(exchanges);
    const messages: MessageExport[] = [];
    const failures: SessionExport['failures'] = [];
    view.exchanges.forEach((x, i) => {
      const raw = exchanges[i];
      messages.push(messageExport(x.request, raw.request, r));
      if (x.response && raw.response) messages.push(messageExport(x.response, raw.response, r));
      if (x.failure) failures.push({ n: x.request.n, text: r.text(x.failure) });
    });
    const out: SessionExport = { index, messages, failures };
    if (exchanges.length) {
      out.startedAt = exchanges[0].startedAt;
      out.endedAt = exchanges[exchanges.length - 1].endedAt;
      const tls = exchanges[0].tls;
      if (tls) out.tls = { authorized: tls.authorized, authorizationError: tls.authorizationError, protocol: tls.protocol, peer: tls.peerCertificate?.subjectCN };
    }
    return out;
  });
}

const MESSAGE_REF = /msg (\d+) \((device->server|server->device)\)(?: (\/[^\s:,;]+))?/g;

/**
 * The elements failing and warned findings point at. `sessions[i]` is the session a finding was judged on, when
 * the scenario recorded it.
 */
export function marksOf(findings: readonly { finding: Finding; graded: string; session?: number | null }[]): Mark[] {
  const marks: Mark[] = [];
  for (const { finding, graded, session } of findings) {
    if (graded !== 'fail' && graded !== 'warn') continue;
    for (const m of finding.evidence.matchAll(MESSAGE_REF)) {
      const mark: Mark = {
        session: session ?? null, n: Number(m[1]), from: m[2] === 'device->server' ? 'device' : 'server',
        id: finding.id, verdict: graded, evidence: finding.evidence,
      };
      if (m[3]) mark.path = m[3];
      marks.push(mark);
    }
  }
  return marks;
}

export interface XmlAttachment {
  name: string;
  body: string;
}

/** `--` may not appear inside an XML comment. */
function commentSafe(s: string): string {
  return s.replace(/--/g, '- -').replace(/-$/, '- ');
}

function headerLines(m: HttpMessage, r: Redactor): string[] {
  const raw = m.rawHeaders;
  if (raw && raw.length) {
    const red = r.rawHeaders(raw);
    const lines: string[] = [];
    for (let i = 0; i + 1 < red.length; i += 2) lines.push(`${red[i]}: ${red[i + 1]}`);
    return lines;
  }
  return Object.entries(r.headers(m.headers)).map(([k, v]) => `${k}: ${v}`);
}

function xmlDocument(title: string, startLine: string, m: HttpMessage, extra: string[], r: Redactor): string {
  if (isWbxml(m.body)) return wbxmlDocument(title, startLine, m, extra, r);
  const body = bodyText(m.body, XML_BODY_LIMIT, r);
  const notes = [...extra];
  if (!m.body.byteLength) notes.push('(empty body)');
  if (body.truncated) notes.push(`(body cut at ${XML_BODY_LIMIT} of ${m.body.byteLength} bytes)`);
  if (body.encoding === 'base64') notes.push(`(body of ${m.body.byteLength} bytes is not UTF-8; base64 below)`);
  const comment = `<!-- ${commentSafe([title, r.text(startLine), ...headerLines(m, r), ...notes].join('\n'))}\n-->`;
  if (body.encoding === 'base64') return `${comment}\n<!-- ${body.text} -->\n`;
  const text = body.text;
  // An XML declaration must stay the first thing in the document.
  const decl = /^\uFEFF?<\?xml[^?]*\?>/.exec(text);
  if (decl) return `${decl[0]}\n${comment}\n${text.slice(decl[0].length).replace(/^\r?\n/, '')}`;
  return `${comment}\n${text}`;
}

/** A WBXML message: the XML it decodes to, then its bytes in hex in a closing comment (secrets masked in both). */
function wbxmlDocument(title: string, startLine: string, m: HttpMessage, extra: string[], r: Redactor): string {
  const { bytes, xml } = wbxmlView(m.body, r);
  const notes = [...extra, xml !== undefined
    ? `(WBXML body of ${m.body.byteLength} bytes, decoded to XML below; its bytes in hex at the end)`
    : `(WBXML body of ${m.body.byteLength} bytes that does not decode; its bytes in hex below)`];
  if (xml !== undefined && xml.length > XML_BODY_LIMIT) notes.push(`(decoded XML cut at ${XML_BODY_LIMIT} of ${xml.length} characters)`);
  const comment = `<!-- ${commentSafe([title, r.text(startLine), ...headerLines(m, r), ...notes].join('\n'))}\n-->`;
  const hex = `<!-- WBXML bytes\n${commentSafe(hexDump(bytes))}\n-->`;
  return xml !== undefined ? `${comment}\n${xml.slice(0, XML_BODY_LIMIT)}\n${hex}\n` : `${comment}\n${hex}\n`;
}

/**
 * One XML document per message direction: `msg 3 device->server.xml`, prefixed with `session 2 ` when the test
 * ran more than one session.
 */
export function xmlAttachments(transcripts: readonly unknown[], r: Redactor): XmlAttachment[] {
  const lists = exchangeLists(transcripts);
  const out: XmlAttachment[] = [];
  lists.forEach((exchanges, s) => {
    const prefix = lists.length > 1 ? `session ${s + 1} ` : '';
    const view = sessionFromTranscript(exchanges);
    view.exchanges.forEach((x, i) => {
      const raw = exchanges[i];
      const req = raw.request;
      const reqExtra = x.failure ? [`(no usable reply: ${x.failure})`] : [];
      out.push({
        name: `${prefix}msg ${x.request.n} device->server.xml`,
        body: xmlDocument(`msg ${x.request.n} device->server`, `${req.method ?? 'POST'} ${req.url ?? ''} HTTP/1.1`, req, reqExtra, r),
      });
      if (x.response && raw.response) {
        const res = raw.response;
        out.push({
          name: `${prefix}msg ${x.response.n} server->device.xml`,
          body: xmlDocument(`msg ${x.response.n} server->device`, `HTTP/1.1 ${res.status ?? '?'} ${res.statusText ?? ''}`.trimEnd(), res, [], r),
        });
      }
    });
  });
  return out;
}
