/**
 * Reading a captured body as SyncML, once per message, and the facts grouping needs from its SyncHdr.
 *
 * `decodeBody` is the only place that decides how a body becomes SyncML: in the encoding its Content-Type names
 * (XML or WBXML), by its first bytes when the capture kept no type.
 */
import { codeOf, parseSyncMLBody, sniffEncoding, SyncMLParseError, type Deviation, type ParsedSyncML, type SyncML } from '../syncml';
import type { HttpFacts, Party, WireMessage } from '../checks/session';
import { memo } from '../checks/memo';
import type { CapturedMessage } from './capture';

/** How every captured body is read. */
const decodeBody: (body: Uint8Array, contentType?: string) => ParsedSyncML = parseSyncMLBody;

export interface ReadBody {
  syncml?: SyncML;
  deviations: Deviation[];
  /** Why the body is not a SyncML message (empty body included), as the checks expect it. */
  parseError?: string;
}

const READ = Symbol('readBody');

/** The message's body read as SyncML; read once, however often it is asked for. */
export function readBody(m: CapturedMessage): ReadBody {
  return memo(m, READ, () => readBytes(m));
}

function readBytes(m: CapturedMessage): ReadBody {
  if (m.body.byteLength === 0) return { deviations: [], parseError: 'empty body' };
  try {
    const parsed = decodeBody(m.body, m.http?.headers['content-type']);
    return { syncml: parsed.message, deviations: parsed.deviations };
  } catch (e) {
    if (!(e instanceof SyncMLParseError)) throw e;
    // A body the capture cut short is the capture's doing; say so rather than blame the XML.
    if (m.truncated) {
      const of = m.http?.wireBytes !== undefined ? ` of the ${m.http.wireBytes}` : '';
      return { deviations: [], parseError: `the capture holds only ${m.body.byteLength}${of} bytes of this body (${e.message})` };
    }
    return { deviations: [], parseError: e.message };
  }
}

/** What grouping reads from a SyncHdr. */
export interface HeaderFacts {
  sessionID?: string;
  msgID?: string;
  /** From the LocURIs: the device addresses a URL and names itself; the server does the reverse (MS-MDM 2.2.2). */
  from?: Party;
  /** The device's Source, or the server's Target. */
  deviceId?: string;
  /** SyncHdr Source and Target LocURIs, trimmed. */
  source?: string;
  target?: string;
  /** Package 1: MsgID 1 carrying Alert 1200 or 1201 (MDM-CMD-ALT-001). */
  package1: boolean;
  final: boolean;
  /** Commands other than Status. */
  commands: number;
  /** An Alert 1223 (session abort). */
  abort: boolean;
}

const FACTS = Symbol('headerOf');

/** The SyncHdr facts of a captured message, or undefined when its body is not readable SyncML; read once. */
export function headerOf(m: CapturedMessage): HeaderFacts | undefined {
  return memo(m, FACTS, (): HeaderFacts | null => {
    const msg = readBody(m).syncml;
    return msg ? headerFacts(msg) : null;
  }) ?? undefined;
}

const URL_LIKE = /^[a-z][a-z0-9+.-]*:\/\//i;

export function headerFacts(msg: SyncML): HeaderFacts {
  const t = (s: string | undefined) => (s === undefined ? undefined : s.trim());
  const target = t(msg.hdr.target?.locURI);
  const source = t(msg.hdr.source?.locURI);
  const targetIsUrl = target !== undefined && URL_LIKE.test(target);
  const sourceIsUrl = source !== undefined && URL_LIKE.test(source);
  let from: Party | undefined;
  if (targetIsUrl && !sourceIsUrl) from = 'device';
  else if (sourceIsUrl && !targetIsUrl) from = 'server';
  const msgID = t(msg.hdr.msgID);
  const alerts = msg.body.commands.filter((c) => c.kind === 'Alert').map((c) => (c.kind === 'Alert' ? codeOf(c) : undefined));
  return {
    sessionID: t(msg.hdr.sessionID),
    msgID,
    from,
    deviceId: from === 'device' ? source || undefined : from === 'server' ? target || undefined : undefined,
    source,
    target,
    package1: msgID === '1' && alerts.some((a) => a === '1200' || a === '1201'),
    final: msg.body.final === true,
    commands: msg.body.commands.filter((c) => c.kind !== 'Status').length,
    abort: alerts.includes('1223'),
  };
}

function lengthText(m: { declared: number; received: number }): string {
  return `body of ${m.received} bytes ${m.received < m.declared ? 'shorter' : 'longer'} than its Content-Length ${m.declared}`;
}

/** HTTP facts as the checks read them, only when the capture has HTTP headers. */
export function httpFacts(m: CapturedMessage): HttpFacts | undefined {
  const h = m.http;
  if (!h) return undefined;
  const facts: HttpFacts = { bodyBytes: h.wireBytes ?? m.body.byteLength, headers: h.headers };
  if (h.method !== undefined) facts.method = h.method;
  if (h.url !== undefined) facts.url = h.url;
  if (h.status !== undefined) facts.status = h.status;
  if (h.headers['content-type'] !== undefined) facts.contentType = h.headers['content-type'];
  if (h.headers['user-agent'] !== undefined) facts.userAgent = h.headers['user-agent'];
  if (h.lengthMismatch) facts.lengthMismatch = lengthText(h.lengthMismatch);
  if (m.body.byteLength) facts.bodyEncoding = sniffEncoding(m.body);
  return facts;
}

/** The message as the checks read it, numbered in its session. */
export function wireOf(m: CapturedMessage, n: number, from: Party): WireMessage {
  const read = readBody(m);
  const http = httpFacts(m);
  const wire: WireMessage = { n, from, deviations: read.deviations };
  if (read.syncml) wire.syncml = read.syncml;
  if (read.parseError !== undefined) wire.parseError = read.parseError;
  if (http) wire.http = http;
  return wire;
}
