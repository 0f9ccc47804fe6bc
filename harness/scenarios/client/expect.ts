/**
 * What client scenarios compare: the device's Status (and Results) for one command the reference server sent,
 * found by MsgRef/CmdRef exactly as the device must reference it (MDM-ID-005, MDM-ID-006), never by position.
 * Each function returns one finding whose evidence points at the element judged, e.g.
 * `msg 4 (device->server) /SyncBody/Status[3]/Data: expected 404, found 200 (Get of ./X, msg 3 CmdID 5)`.
 */
import { statusesOf } from '../../checks/common';
import { sameNumber } from '../../checks/compare';
import type { Finding } from '../../checks/finding';
import { commandsWithPaths, label, trimmed, type SessionView, type WireMessage } from '../../checks/session';
import { codeOf, metaValue, type Command, type Results, type Status } from '../../syncml';

export interface CommandMatch {
  /** Element name as sent: Get, Replace, Atomic, Frobnicate … */
  kind: string;
  /** Target LocURI of one of the command's Items, exactly as sent. */
  target?: string;
  /** For commands a target cannot tell apart (an Atomic by its members). */
  where?: (c: Command) => boolean;
  /** The n-th matching command of the session, in the order the server sent them; default 1. */
  nth?: number;
  /** How evidence names the command; default "Get of ./X". */
  label?: string;
}

export interface SentCommand {
  command: Command;
  /** The server message that carried it. */
  msg: WireMessage;
  msgID: string;
  /** CmdID as sent; empty when the command had none (MDM-XML-014). */
  cmdID: string;
  path: string;
  label: string;
}

export interface DeviceStatus {
  status: Status;
  code: string;
  msg: WireMessage;
  path: string;
}

const nameOf = (c: Command) => (c.kind === 'Unknown' ? c.name : c.kind);
const targetsOf = (c: Command) => ('items' in c ? c.items.map((it) => trimmed(it.target?.locURI)) : []);

/** A command whose Items (or whose members' Items) address `uri`. */
export function addresses(uri: string): (c: Command) => boolean {
  const visit = (c: Command): boolean => targetsOf(c).includes(uri) || ((c.kind === 'Atomic' || c.kind === 'Sequence') && c.commands.some(visit));
  return visit;
}

export function describe(match: CommandMatch): string {
  return match.label ?? (match.target !== undefined ? `${match.kind} of ${match.target}` : match.kind);
}

/**
 * Server messages the device refused at the SyncHdr (401/407: the server's credentials were missing or wrong). Their
 * commands were not delivered: the device ran none of them, and the server sends them again with credentials.
 */
export function refusedServerMessages(view: SessionView): Set<string> {
  const refused = new Set<string>();
  for (const x of view.exchanges) {
    const msg = x.request.syncml;
    if (!msg) continue;
    for (const { status } of statusesOf(msg)) {
      if (trimmed(status.cmdRef) === '0' && ['401', '407'].includes(codeOf(status) ?? '')) refused.add(trimmed(status.msgRef));
    }
  }
  return refused;
}

/** The command the server sent that matches, with where it was sent; copies the device refused to take do not count. */
export function sentCommand(view: SessionView, match: CommandMatch): SentCommand | undefined {
  let seen = 0;
  const refused = refusedServerMessages(view);
  for (const x of view.exchanges) {
    const msg = x.response;
    if (!msg?.syncml || refused.has(trimmed(msg.syncml.hdr.msgID))) continue;
    for (const { command, path } of commandsWithPaths(msg.syncml.body.commands)) {
      if (command.kind === 'Status' || nameOf(command) !== match.kind) continue;
      if (match.target !== undefined && !targetsOf(command).includes(match.target)) continue;
      if (match.where && !match.where(command)) continue;
      if (++seen < (match.nth ?? 1)) continue;
      return { command, msg, msgID: trimmed(msg.syncml.hdr.msgID), cmdID: trimmed(command.cmdID), path, label: describe(match) };
    }
  }
  return undefined;
}

/** The device's Status for a sent command, in any later device message; per-Item Statuses are told apart by TargetRef. */
export function statusFor(view: SessionView, sent: SentCommand, target?: string): DeviceStatus | undefined {
  const found: DeviceStatus[] = [];
  for (const x of view.exchanges) {
    const m = x.request;
    if (m.n < sent.msg.n || !m.syncml) continue;
    for (const { status, path } of statusesOf(m.syncml)) {
      if (!sameNumber(status.msgRef, sent.msgID) || !sameNumber(status.cmdRef, sent.cmdID)) continue;
      // A blank CmdRef answers a command without CmdID; Cmd tells which, when several lacked one.
      if (!sent.cmdID && trimmed(status.cmd) !== nameOf(sent.command)) continue;
      found.push({ status, code: codeOf(status) ?? '', msg: m, path });
    }
  }
  if (target !== undefined) {
    const own = found.find((s) => s.status.targetRefs.some((r) => trimmed(r) === target));
    if (own) return own;
  }
  return found[0];
}

export type CodeExpectation = string | readonly string[] | 'non-2xx';

function meets(code: string, expected: CodeExpectation): boolean {
  if (expected === 'non-2xx') return /^\d{3}$/.test(code) && !code.startsWith('2');
  return typeof expected === 'string' ? code === expected : expected.includes(code);
}

function wanted(expected: CodeExpectation): string {
  if (expected === 'non-2xx') return 'a non-2xx code';
  return typeof expected === 'string' ? expected : expected.join(' or ');
}

function sentAs(s: SentCommand): string {
  return `${s.label}, msg ${s.msgID} CmdID ${s.cmdID || '(none)'}`;
}

/** The finding for a command the server never got to send: the session ended first. */
export function notSent(match: CommandMatch, id: string, check: string): Finding {
  return { id, verdict: 'inconclusive', check, evidence: `the server never sent the ${describe(match)}: the session ended before it` };
}

/** The device answered the command with the expected code. */
export function expectStatus(view: SessionView, match: CommandMatch, expected: CodeExpectation, id: string, check: string, why = ''): Finding {
  const sent = sentCommand(view, match);
  if (!sent) return notSent(match, id, check);
  const answer = statusFor(view, sent, match.target);
  const because = why ? `; ${why}` : '';
  if (!answer) {
    return { id, verdict: 'fail', check, evidence: `${label(sent.msg)} ${sent.path}: the device returned no Status for the ${sentAs(sent)}; expected ${wanted(expected)}${because}` };
  }
  const at = `${label(answer.msg)} ${answer.path}/Data`;
  if (!/^\d{3}$/.test(answer.code)) {
    // Not a response code at all: MDM-STS-016 fails on it, and this expectation only follows from that.
    return { id, verdict: 'fail', check, evidence: `${at}: expected ${wanted(expected)}, found "${answer.code}", which is no SyncML response code (${sentAs(sent)})`, consequenceOf: 'MDM-STS-016' };
  }
  return meets(answer.code, expected)
    ? { id, verdict: 'pass', check, evidence: `${at}: ${answer.code} for the ${sentAs(sent)}` }
    : { id, verdict: 'fail', check, evidence: `${at}: expected ${wanted(expected)}, found ${answer.code || '(no code)'} (${sentAs(sent)})${because}` };
}

export interface ResultItem {
  /** Data of the Item, chunks joined. */
  data: string;
  format?: string;
  type?: string;
  /** The Results (first chunk) that carried it. */
  results: Results;
  msg: WireMessage;
  path: string;
}

/**
 * The Results Items the device returned for a Get, keyed by Source LocURI; chunks of one large object (MoreData,
 * MDM-LO-009) are joined. Format/Type come from the Item's Meta, else from the Results' (MDM-RES-006).
 */
export function resultsFor(view: SessionView, sent: SentCommand): Map<string, ResultItem> {
  const out = new Map<string, ResultItem>();
  let open: ResultItem | undefined;
  for (const x of view.exchanges) {
    const m = x.request;
    if (m.n < sent.msg.n || !m.syncml) continue;
    for (const { command, path } of commandsWithPaths(m.syncml.body.commands)) {
      if (command.kind !== 'Results') continue;
      // A Results without MsgRef refers to message 1 (MDM-ID-007).
      if (!sameNumber(trimmed(command.msgRef) || '1', sent.msgID) || !sameNumber(command.cmdRef, sent.cmdID)) continue;
      for (const it of command.items) {
        const uri = trimmed(it.source?.locURI);
        const data = it.data?.text ?? '';
        if (open && open === out.get(uri)) open.data += data;
        else {
          open = {
            data, results: command, msg: m, path,
            format: metaValue(it.meta, 'Format') ?? metaValue(command.meta, 'Format'),
            type: metaValue(it.meta, 'Type') ?? metaValue(command.meta, 'Type'),
          };
          out.set(uri, open);
        }
        if (!it.moreData) open = undefined;
      }
    }
  }
  return out;
}

/** The value the device returned for `uri` in the Results of the matched Get equals `expected`. */
export function expectValue(view: SessionView, match: CommandMatch, uri: string, expected: string, id: string, check: string, why: string): Finding {
  const sent = sentCommand(view, match);
  if (!sent) return notSent(match, id, check);
  const answer = statusFor(view, sent, uri);
  const item = resultsFor(view, sent).get(uri);
  if (!item) {
    const code = answer ? `answered ${answer.code}` : 'not answered';
    return { id, verdict: 'fail', check, evidence: `${label(sent.msg)} ${sent.path}: the ${sentAs(sent)} was ${code} and returned no value for ${uri}; ${why}` };
  }
  const at = `${label(item.msg)} ${item.path}/Item/Data`;
  return item.data === expected
    ? { id, verdict: 'pass', check, evidence: `${at}: ${uri} reads ${show(expected)}, ${why}` }
    : { id, verdict: 'fail', check, evidence: `${at}: expected ${show(expected)}, found ${show(item.data)} for ${uri}; ${why}` };
}

/** Short form of a value for evidence. */
export function show(value: string): string {
  return value.length > 60 ? `"${value.slice(0, 40)}…" (${Buffer.byteLength(value)} bytes)` : `"${value}"`;
}
