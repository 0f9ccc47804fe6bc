/**
 * What checks read: one DM session as the ordered list of its HTTP exchanges, each a device message (the POST)
 * and the server's reply (the response), parsed once. Built from a transport transcript or, for offline grading
 * and unit tests, straight from messages.
 *
 * A live session always has the device's message of every exchange (`SessionView`). A captured one (a HAR file, a
 * folder of saved messages) may hold a server message whose device message was never captured; checks read
 * `AnySessionView`, which allows such a `ReplyOnlyExchange`.
 */
import { parseSyncML, serializeSyncML, SyncMLParseError, type Command, type Deviation, type SyncML } from '../syncml';

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
  replyNotCaptured?: undefined;
}

export type AnyExchange = Exchange | ReplyOnlyExchange;

export interface SessionView {
  exchanges: Exchange[];
  /** How the session ended, as the peer driving it saw it (e.g. "completed", "round limit reached"). */
  outcome?: string;
}

/** A live or a captured session: what the passive checks read. */
export interface AnySessionView {
  exchanges: readonly AnyExchange[];
  outcome?: string;
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
    const parsed = parseSyncML(body);
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
  return (s ?? '').trim();
}

/** Commands a Status must answer: everything but Status, and Results only when it is not a plain 200 (MDM-STS-014). */
export function isCommand(c: Command): boolean {
  return c.kind !== 'Status';
}

/** Top-level commands with their nested members, depth first, each with its element path. */
export function* commandsWithPaths(commands: Command[], parent = '/SyncBody'): Generator<{ command: Command; path: string; depth: number }> {
  const totals = new Map<string, number>();
  const name = (c: Command) => (c.kind === 'Unknown' ? c.name : c.kind);
  for (const c of commands) totals.set(name(c), (totals.get(name(c)) ?? 0) + 1);
  const seen = new Map<string, number>();
  for (const c of commands) {
    const nth = (seen.get(name(c)) ?? 0) + 1;
    seen.set(name(c), nth);
    const path = `${parent}/${name(c)}${totals.get(name(c))! > 1 ? `[${nth}]` : ''}`;
    yield { command: c, path, depth: parent.split('/').length - 2 };
    if (c.kind === 'Atomic' || c.kind === 'Sequence') yield* commandsWithPaths(c.commands, path);
  }
}
