/**
 * What checks read: one DM session as the ordered list of its HTTP exchanges, each a device message (the POST)
 * and the server's reply (the response), parsed once. Built from a transport transcript or, for offline grading
 * and unit tests, straight from messages.
 */
import { memo } from './memo';
import { parseSyncML, parseSyncMLBody, serializeSyncML, SyncMLParseError, type Command, type Deviation, type SyncML, type SyncMLEncoding } from '../syncml';

export type Party = 'device' | 'server';

export interface HttpFacts {
  method?: string;
  url?: string;
  status?: number;
  contentType?: string;
  userAgent?: string;
  /** Set when the body is shorter or longer than its Content-Length. */
  lengthMismatch?: string;
  bodyBytes: number;
  headers?: Record<string, string>;
  /** The HTTP version the message travelled over (`2` for h2), when known. */
  httpVersion?: '1.1' | '2';
  /**
   * The encoding the body is written in, by its first bytes (WBXML opens with its version byte), whatever the
   * Content-Type says: a body declared in one encoding and written in the other is a media type fault (MDM-TRN-005).
   */
  bodyEncoding?: SyncMLEncoding;
  /** The body as it went over the wire, for checks that verify something over the exact bytes (MS-Signature). */
  body?: Uint8Array;
}

export interface WireMessage {
  /** Position in the session, 1-based, counting both directions. */
  n: number;
  from: Party;
  syncml?: SyncML;
  deviations: Deviation[];
  /** Why the body could not be read as SyncML (empty body included). */
  parseError?: string;
  http?: HttpFacts;
}

export interface Exchange {
  request: WireMessage;
  /** Missing when no reply came (timeout, reset, refused). */
  response?: WireMessage;
  /** Why there is no usable reply, in words. */
  failure?: string;
  /**
   * The server throttled this request (HTTP 429 or 503 with Retry-After, MDM-TRN-022): the reply is no SyncML
   * message and the device sends the same request again. The value is the Retry-After field.
   */
  throttled?: string;
  /** Captures only: the capture holds no reply, which says nothing of whether one was sent. */
  replyNotCaptured?: true;
}

/**
 * Captures only: a server message whose device message the capture lacks (it starts mid-session, or lost a
 * message). It keeps its place in the session, so the device message after it is still read as its answer.
 */
export interface ReplyOnlyExchange {
  request?: undefined;
  response: WireMessage;
  failure?: undefined;
  throttled?: undefined;
  replyNotCaptured?: undefined;
}

export type AnyExchange = Exchange | ReplyOnlyExchange;

export interface SessionView {
  exchanges: Exchange[];
  /** How the session ended, as the peer driving it saw it (e.g. "completed", "round limit reached"). */
  outcome?: string;
  /**
   * Whether the view begins with package 1. A capture can start in the middle of a session: then the rules about
   * how a session starts are not judged on it. Derived from the first device message when not given.
   */
  startsAtPackage1?: boolean;
}

/** A live or a captured session: what the passive checks read. */
export interface AnySessionView {
  exchanges: readonly AnyExchange[];
  outcome?: string;
  startsAtPackage1?: boolean;
  /**
   * Captures only: the capture stops before the session ended (no close, no abort), so what either side would have
   * sent next is unknown. Rules about what a side never did by the end are not judged on such a view.
   */
  endsMidSession?: true;
  /**
   * Traffic through the judging proxy: the device addressed the proxy, which stands for the server. Each entry maps
   * an origin the device used (`https://proxy:8443`) to the server's own, so that the server naming its own URL where
   * the device named the proxy's is no deviation (MDM-HDR-011).
   */
  originAliases?: Readonly<Record<string, string>>;
}

export function label(m: WireMessage): string {
  return `msg ${m.n} (${m.from === 'device' ? 'device->server' : 'server->device'})`;
}

export function wireMessage(n: number, from: Party, body: Uint8Array | string | SyncML, http?: HttpFacts): WireMessage {
  if (typeof body === 'object' && !(body instanceof Uint8Array)) {
    const parsed = parseSyncML(serializeSyncML(body));
    return { n, from, syncml: parsed.message, deviations: parsed.deviations, http };
  }
  const size = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
  if (size === 0) return { n, from, deviations: [], parseError: 'empty body', http };
  try {
    const parsed = typeof body === 'string' ? parseSyncML(body) : parseSyncMLBody(body, http?.contentType);
    return { n, from, syncml: parsed.message, deviations: parsed.deviations, http };
  } catch (e) {
    if (e instanceof SyncMLParseError) return { n, from, deviations: [], parseError: e.message, http };
    throw e;
  }
}

/** A session from alternating device and server messages (device first); undefined marks a missing reply. */
export function sessionFromMessages(messages: (SyncML | string | undefined)[]): SessionView {
  const exchanges: Exchange[] = [];
  for (let i = 0; i < messages.length; i += 2) {
    const req = messages[i];
    if (req === undefined) break;
    const res = messages[i + 1];
    exchanges.push({
      request: wireMessage(i + 1, 'device', req),
      response: res === undefined ? undefined : wireMessage(i + 2, 'server', res),
      failure: res === undefined ? 'no reply' : undefined,
    });
  }
  return { exchanges };
}

/** Every message of the session in order. */
export function messagesOf(session: AnySessionView): WireMessage[] {
  const out: WireMessage[] = [];
  for (const x of session.exchanges) {
    if (x.request) out.push(x.request);
    if (x.response) out.push(x.response);
  }
  return out;
}

export function trimmed(s: string | undefined): string {
  if (s === undefined) return '';
  // Values are nearly always written without white space around them: a printable ASCII character at either end
  // says so in two tests, and checks trim every value they compare.
  const last = s.length - 1;
  if (last >= 0 && isPrintableAscii(s.charCodeAt(0)) && isPrintableAscii(s.charCodeAt(last))) return s;
  return s.trim();
}

/** Printable ASCII, never white space to `trim`. */
function isPrintableAscii(c: number): boolean {
  return c > 0x20 && c < 0x7f;
}

/** Commands a Status must answer: everything but Status, and Results only when it is not a plain 200 (MDM-STS-014). */
export function isCommand(c: Command): boolean {
  return c.kind !== 'Status';
}

export interface CommandAt {
  command: Command;
  /** Element path, e.g. `/SyncBody/Status[2]` or `/SyncBody/Atomic/Replace`. */
  path: string;
  /** 0 for SyncBody children, 1 inside an Atomic or Sequence, and so on. */
  depth: number;
}

const FLAT = Symbol('commandsWithPaths');

/**
 * Top-level commands with their nested members, depth first, each with its element path. Every check walks the
 * commands of every message, often several times: the walk is made once per command list and kept (messages read
 * from the wire are never edited afterwards).
 */
export function commandsWithPaths(commands: readonly Command[]): readonly CommandAt[] {
  return memo(commands, FLAT, () => {
    const out: CommandAt[] = [];
    flatten(commands, '/SyncBody', 0, out);
    return out;
  });
}

function flatten(commands: readonly Command[], parent: string, depth: number, out: CommandAt[]): void {
  // Per element name, how many there are and how many were named so far: one entry per name, updated in place.
  const counts = new Map<string, { total: number; seen: number }>();
  for (const c of commands) {
    const name = c.kind === 'Unknown' ? c.name : c.kind;
    const count = counts.get(name);
    if (count) count.total++;
    else counts.set(name, { total: 1, seen: 0 });
  }
  for (const c of commands) {
    const name = c.kind === 'Unknown' ? c.name : c.kind;
    const count = counts.get(name)!;
    const nth = ++count.seen;
    const path = `${parent}/${name}${count.total > 1 ? `[${nth}]` : ''}`;
    out.push({ command: c, path, depth });
    if (c.kind === 'Atomic' || c.kind === 'Sequence') flatten(c.commands, path, depth + 1, out);
  }
}

/**
 * The session begins with package 1. A live view is told so by its transport; a capture is taken to start there when
 * its first device message is MsgID 1 (what that message holds is then judged, not assumed).
 */
export function startsAtPackage1(session: AnySessionView): boolean {
  if (session.startsAtPackage1 !== undefined) return session.startsAtPackage1;
  const request = session.exchanges[0]?.request;
  if (!request) return false; // empty, or it opens with a reply whose request the capture lacks
  if (!request.syncml) return true; // unreadable: nothing says it is not package 1, and it is judged as such
  return /^0*1$/.test(trimmed(request.syncml.hdr.msgID));
}

/**
 * Exchanges with both halves to judge together: a device message and what came back for it. Throttled requests are
 * resent, and judged where they land; a captured reply without its request answers nothing the view holds.
 */
export function liveExchanges(session: AnySessionView): Exchange[] {
  return session.exchanges.filter((x): x is Exchange => !!x.request && !x.throttled);
}
