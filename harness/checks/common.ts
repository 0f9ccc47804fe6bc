/**
 * Rules that bind whichever side sends the message ("both" rows of the catalogue), written once and applied to
 * the server's messages in server mode and to the device's in client mode.
 */
import { codeOf, declaredEncoding, type Command, type Deviation, type Status, type SyncML } from '../syncml';
import { numberKey, sameNumber } from './compare';
import type { Judge } from './finding';
import { memo } from './memo';
import { requirement } from './registry';
import { commandsWithPaths, trimmed, type AnySessionView, type CommandAt, type Party, type WireMessage } from './session';

export const DM_MEDIA_TYPES = ['application/vnd.syncml.dm+xml', 'application/vnd.syncml.dm+wbxml'];

export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0].trim().toLowerCase();
}

/**
 * When a message's body is written in one encoding and its Content-Type names the other (WBXML sent as
 * `application/vnd.syncml.dm+xml`, or the reverse): the words of that MDM-TRN-005 finding. A reader that trusts the
 * media type cannot decode such a body, so what follows from it is a consequence, not a failure of its own.
 */
export function mislabelled(m: WireMessage): string | undefined {
  const written = m.http?.bodyEncoding;
  const type = mediaType(m.http?.contentType);
  if (!written || !DM_MEDIA_TYPES.includes(type)) return undefined;
  const declared = declaredEncoding(type);
  if (declared === written) return undefined;
  return `the body is ${written === 'wbxml' ? 'WBXML' : 'XML'} but its Content-Type is ${type}, the media type of ${declared === 'wbxml' ? 'WBXML' : 'clear XML'}`;
}

export function sentBy(session: AnySessionView, party: Party): WireMessage[] {
  const out: WireMessage[] = [];
  for (const x of session.exchanges) {
    const m = party === 'device' ? x.request : x.response;
    if (m) out.push(m);
  }
  return out;
}

/** What judging one document needs to know of its place in the session. */
export interface DocumentContext {
  /** The message opens a package (the first of the session, or the first after the sender's Final). */
  firstOfPackage?: boolean;
  /** The peer's commands, to tell a Status that answers a command without CmdID. */
  peerIndex?: ReadonlyMap<string, CommandIndexEntry>;
}

/**
 * Deviations the catalogue itself resolves as acceptable or as warnings, with the resolution to quote:
 * - VerProto is required in the first message of a package; a continuation message without it is a warning;
 * - the Status for a command that had no CmdID cannot name it, so its CmdRef may be blank or absent.
 */
function resolution(d: Deviation, msg: SyncML, ctx: DocumentContext): { warn?: string; accept?: boolean } {
  if (d.id === 'MDM-HDR-003' && d.path === '/SyncHdr/VerProto' && ctx.firstOfPackage === false) {
    return { warn: 'a continuation message without VerProto: required in the first message of a package, a warning elsewhere (A-15)' };
  }
  const blankRef = /^(\/SyncBody\/Status(?:\[\d+\])?)\/CmdRef$/.exec(d.path);
  if (d.id === 'MDM-STS-001' && blankRef && ctx.peerIndex) {
    const st = statusesOf(msg).find((x) => x.path === blankRef[1])?.status;
    if (st && ctx.peerIndex.has(refKey(st.msgRef, ''))) return { accept: true };
  }
  return {};
}

/** The content-model requirement of each command element. */
const MODEL_OF_KIND: Readonly<Record<string, string>> = {
  Status: 'MDM-STS-001', Get: 'MDM-CMD-GET-001', Add: 'MDM-CMD-ADD-001', Replace: 'MDM-CMD-REP-001', Delete: 'MDM-CMD-DEL-001',
  Exec: 'MDM-CMD-EXE-001', Alert: 'MDM-CMD-ALT-002', Atomic: 'MDM-CMD-ATO-001', Results: 'MDM-RES-001',
};

/** Deviations of the content models that bind this side (a `client` row says nothing of a server's output). */
export function judgeDocument(m: WireMessage, party: Party, judge: Judge, ids: readonly string[], ctx: DocumentContext = {}): void {
  judge.saw('MDM-XML-001', 'MDM-XML-002');
  if (m.parseError) {
    const id = /root element/.test(m.parseError) ? 'MDM-XML-002' : 'MDM-XML-001';
    const label = mislabelled(m);
    if (label) judge.consequence(id, 'MDM-TRN-005', m, '', `not readable as its media type says (${label}): ${m.parseError}`);
    else judge.fail(id, m, '', `not a SyncML document: ${m.parseError}`);
    return;
  }
  const role = party === 'device' ? 'client' : 'server';
  const msg = m.syncml!;
  for (const d of m.deviations) {
    const r = requirement(d.id);
    if (r.role !== role && r.role !== 'both') continue;
    if (!ids.includes(d.id)) continue;
    const resolved = resolution(d, msg, ctx);
    if (resolved.accept) continue;
    if (resolved.warn) judge.warn(d.id, m, d.path, resolved.warn);
    else judge.fail(d.id, m, d.path, d.message);
  }
  // Every message shows its element order, its command elements and its Item children: these rules were
  // looked at whenever a readable message went by, and only fail on a deviation.
  judge.saw('MDM-XML-004', 'MDM-HDR-001', 'MDM-ID-001');
  if (ids.includes('MDM-XML-005')) judge.saw('MDM-XML-005');
  const kinds = new Set<string>();
  let items = false;
  let metinf = false;
  for (const { command } of commandsWithPaths(msg.body.commands)) {
    kinds.add(command.kind);
    if ('items' in command && command.items.length) items = true;
    if (('meta' in command && command.meta?.fields.length) || ('items' in command && command.items.some((i) => i.meta?.fields.length))) metinf = true;
  }
  if (msg.hdr.meta?.fields.length) metinf = true;
  if (items && ids.includes('MDM-XML-011')) judge.saw('MDM-XML-011');
  if (metinf && ids.includes('MDM-XML-012')) judge.saw('MDM-XML-012');
  for (const k of kinds) {
    const id = MODEL_OF_KIND[k];
    if (id && ids.includes(id) && (requirement(id).role === role || requirement(id).role === 'both')) judge.saw(id);
  }
}

/** The key of a command in the index, or of the command a Status/Results refers to: numbers by value (`01` is 1). */
export function refKey(msgRef: string | undefined, cmdRef: string | undefined): string {
  return `${numberKey(msgRef)}:${numberKey(cmdRef)}`;
}

/** CmdIDs unique within the message, nested ones included, and never 0 (MDM-ID-002, MDM-ID-003). */
export function judgeCmdIDs(m: WireMessage, judge: Judge): void {
  if (!m.syncml) return;
  judge.saw('MDM-ID-002', 'MDM-ID-003');
  const seen = new Map<string, string>();
  for (const { command, path } of commandsWithPaths(m.syncml.body.commands)) {
    if (command.kind === 'Unknown') continue;
    const id = trimmed(command.cmdID);
    if (command.cmdID === undefined) continue; // missing CmdID is a content-model deviation (MDM-ID-001)
    if (id === '0') judge.fail('MDM-ID-003', m, `${path}/CmdID`, 'CmdID 0 is reserved for the SyncHdr');
    const first = seen.get(id);
    if (first) judge.fail('MDM-ID-002', m, `${path}/CmdID`, `CmdID ${id} is also used by ${first}`);
    else seen.set(id, path);
  }
}

/** A Status directly under SyncBody, with what the checks look it up by, worked out once. */
export interface StatusAt {
  status: Status;
  path: string;
  /** `refKey(MsgRef, CmdRef)`: the command it answers. */
  key: string;
  /** CmdRef by value (`0` for the SyncHdr). */
  cmdRef: string;
  /** The status code, trimmed ('' when there is none). */
  code: string;
}

const STATUSES = Symbol('statusesOf');
const STATUS_INDEX = Symbol('statusAnswering');

/** The Statuses directly under SyncBody, with their paths; found once per message (see commandsWithPaths). */
export function statusesOf(msg: SyncML): readonly StatusAt[] {
  return memo(msg.body, STATUSES, () => {
    const list: StatusAt[] = [];
    for (const { command, path, depth } of commandsWithPaths(msg.body.commands)) {
      if (command.kind !== 'Status' || depth !== 0) continue;
      const cmdRef = numberKey(command.cmdRef);
      list.push({ status: command, path, key: `${numberKey(command.msgRef)}:${cmdRef}`, cmdRef, code: codeOf(command) ?? '' });
    }
    return list;
  });
}

/** The first Status of `msg` that answers command `cmdRef` of message `msgRef`, by value; looked up in an index made once. */
export function statusAnswering(msg: SyncML, msgRef: string | undefined, cmdRef: string | undefined): StatusAt | undefined {
  const index = memo(msg.body, STATUS_INDEX, () => {
    const byKey = new Map<string, StatusAt>();
    for (const s of statusesOf(msg)) if (!byKey.has(s.key)) byKey.set(s.key, s);
    return byKey;
  });
  return index.get(refKey(msgRef, cmdRef));
}

/** Every Status of `msg` (directly under SyncBody) by the command it answers, in document order; made once per message. */
export function statusesByKey(msg: SyncML): ReadonlyMap<string, readonly StatusAt[]> {
  return memo(msg.body, STATUSES_BY_KEY, () => {
    const byKey = new Map<string, StatusAt[]>();
    for (const s of statusesOf(msg)) {
      const list = byKey.get(s.key);
      if (list) list.push(s);
      else byKey.set(s.key, [s]);
    }
    return byKey;
  });
}

const STATUSES_BY_KEY = Symbol('statusesByKey');
const KEYED = Symbol('keyedCommands');

/** A command of a message with the key Statuses and Results refer to it by. */
export interface KeyedCommand extends CommandAt {
  /** `refKey(MsgID, CmdID)`. */
  key: string;
  /** The MsgID of the message it is in, as written. */
  msgID: string | undefined;
}

/** The commands of `msg` (nested ones included, depth first) with their keys; made once per message. */
export function keyedCommands(msg: SyncML): readonly KeyedCommand[] {
  return memo(msg.body, KEYED, () => {
    const msgID = msg.hdr.msgID;
    const msgKey = numberKey(msgID);
    // Fields written out: an object spread here cost more than the rest of the walk.
    return commandsWithPaths(msg.body.commands).map((c) => ({ command: c.command, path: c.path, depth: c.depth, key: `${msgKey}:${numberKey(c.command.cmdID)}`, msgID }));
  });
}

/** The Status for the SyncHdr (CmdRef 0) among the Statuses of `msg`, wherever it stands. */
export function headerStatusOf(msg: SyncML): StatusAt | undefined {
  return statusesOf(msg).find((s) => s.cmdRef === '0');
}

/** The SyncHdr Status leads the body, refers to the message answered (MDM-STS-003, MDM-ID-005, MDM-ID-006). */
export function judgeHeaderStatus(reply: WireMessage, answered: SyncML, judge: Judge): Status | undefined {
  const msg = reply.syncml;
  if (!msg) return undefined;
  judge.saw('MDM-STS-003');
  const first = msg.body.commands[0];
  const hdr = headerStatusOf(msg);
  if (!first || first.kind !== 'Status' || numberKey(first.cmdRef) !== '0') {
    judge.fail('MDM-STS-003', reply, '/SyncBody', hdr
      ? `the SyncHdr Status is at ${hdr.path}, it must be the first element of SyncBody`
      : `no Status for the SyncHdr of msg ${trimmed(answered.hdr.msgID)} (CmdRef 0)`);
    return hdr?.status;
  }
  const expected = trimmed(answered.hdr.msgID);
  if (!sameNumber(first.msgRef, expected)) {
    judge.fail('MDM-STS-003', reply, '/SyncBody/Status[1]/MsgRef', `SyncHdr Status has MsgRef ${trimmed(first.msgRef)}, the message answered has MsgID ${expected}`);
  }
  if (trimmed(first.cmd) !== 'SyncHdr') {
    judge.fail('MDM-STS-003', reply, '/SyncBody/Status[1]/Cmd', `SyncHdr Status has Cmd "${trimmed(first.cmd)}", expected SyncHdr`);
  }
  return first;
}

export interface CommandIndexEntry {
  command: Command;
  /** Element name, e.g. Get, Alert, Sequence. */
  name: string;
  path: string;
  msg: WireMessage;
  /** Position in the order the party sent its commands (MDM-STS-007). */
  rank: number;
}

/**
 * Every command a party sent, Statuses included (a Status may answer a Status, MDM-STS-013), keyed by
 * `MsgID:CmdID` with numbers by value, to resolve MsgRef/CmdRef (MDM-ID-005, MDM-ID-006).
 */
export function commandIndex(messages: WireMessage[]): Map<string, CommandIndexEntry> {
  const index = new Map<string, CommandIndexEntry>();
  for (const m of messages) {
    if (!m.syncml) continue;
    // A command without CmdID is answered with a blank CmdRef (MDM-XML-014, A-34): it is indexed under ''.
    for (const { command, path, key } of keyedCommands(m.syncml)) {
      if (!index.has(key)) index.set(key, { command, name: command.kind === 'Unknown' ? command.name : command.kind, path, msg: m, rank: index.size });
    }
  }
  return index;
}

/**
 * A value worked out from a whole session, made once however many checks ask for it, and made anew when the view
 * has grown since (a live view gains exchanges as it runs). The value is shared: callers only read it.
 */
export function perSession<T>(session: AnySessionView, key: symbol, make: () => T): T {
  const kept = memo(session.exchanges, key, (): { length: number; value?: T } => ({ length: -1 }));
  if (kept.length !== session.exchanges.length) {
    kept.value = make();
    kept.length = session.exchanges.length;
  }
  return kept.value as T;
}

const COMMAND_INDEX: Record<Party, symbol> = { device: Symbol('deviceCommandIndex'), server: Symbol('serverCommandIndex') };

/** `commandIndex` of what one party sent in the session, made once per session (see perSession). */
export function sessionCommandIndex(session: AnySessionView, party: Party): ReadonlyMap<string, CommandIndexEntry> {
  return perSession(session, COMMAND_INDEX[party], () => commandIndex(sentBy(session, party)));
}

/** A status code as SyncML writes them (`^\d{3}$`), tested without a pattern: it runs for every Status. */
function isThreeDigits(code: string): boolean {
  if (code.length !== 3) return false;
  for (let i = 0; i < 3; i++) {
    const c = code.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/** Each Status answers a command the peer sent, under the right MsgRef/CmdRef and Cmd, with a numeric code. */
export function judgeStatusReferences(sender: WireMessage, peerIndex: ReadonlyMap<string, CommandIndexEntry>, peerMsgIDs: Set<string>, judge: Judge): void {
  const msg = sender.syncml;
  if (!msg) return;
  const statuses = statusesOf(msg);
  if (statuses.length) judge.saw('MDM-ID-005', 'MDM-ID-006', 'MDM-STS-015', 'MDM-STS-016');
  for (const { status: s, path, key, cmdRef: cmdRefKey, code } of statuses) {
    const msgRef = trimmed(s.msgRef);
    const cmdRef = trimmed(s.cmdRef);
    if (!isThreeDigits(code)) judge.fail('MDM-STS-016', sender, `${path}/Data`, `status code "${code}" is not a three-digit SyncML code`);
    if (!peerMsgIDs.has(numberKey(msgRef))) {
      judge.fail('MDM-ID-005', sender, `${path}/MsgRef`, `MsgRef ${msgRef || '(empty)'} is not the MsgID of any message received`);
      continue;
    }
    if (cmdRefKey === '0') {
      if (trimmed(s.cmd) !== 'SyncHdr') judge.fail('MDM-STS-015', sender, `${path}/Cmd`, `CmdRef 0 denotes the SyncHdr, Cmd is "${trimmed(s.cmd)}"`);
      continue;
    }
    const target = peerIndex.get(key);
    if (!target) {
      judge.fail('MDM-ID-006', sender, `${path}/CmdRef`, `no command with CmdID ${cmdRef || '(empty)'} in msg ${msgRef}`);
      continue;
    }
    if (trimmed(s.cmd) !== target.name) {
      judge.fail('MDM-STS-015', sender, `${path}/Cmd`, `Cmd is "${trimmed(s.cmd)}" but CmdRef ${cmdRef} of msg ${msgRef} is ${target.name}`);
    }
  }
}

/** MsgIDs of the peer's messages, by value. */
export function peerMsgIDs(messages: WireMessage[]): Set<string> {
  return new Set(messages.filter((m) => m.syncml).map((m) => numberKey(m.syncml!.hdr.msgID)));
}

/**
 * Statuses in the order of the commands they answer (MDM-STS-007), among the Statuses that answer one request: those
 * still owed for an earlier message may follow the answers to the latest one (MDM-STS-003).
 */
export function judgeStatusOrder(sender: WireMessage, peerIndex: ReadonlyMap<string, CommandIndexEntry>, judge: Judge): void {
  const msg = sender.syncml;
  if (!msg) return;
  const last = new Map<string, { rank: number; path: string }>();
  for (const { status: s, path, key, cmdRef } of statusesOf(msg)) {
    if (cmdRef === '0') continue;
    const r = peerIndex.get(key)?.rank;
    if (r === undefined) continue;
    judge.saw('MDM-STS-007');
    const request = numberKey(s.msgRef);
    const before = last.get(request);
    if (before && r < before.rank) judge.fail('MDM-STS-007', sender, path, `answers a command that came before the one answered at ${before.path}`);
    else last.set(request, { rank: r, path });
  }
}

/**
 * HTTP framing and media type of one message: a DM media type, and the one of the encoding the body is written in
 * (MDM-TRN-005); a body that disagrees with Content-Length is not one intact document (MDM-XML-001).
 */
export function judgeHttp(m: WireMessage, judge: Judge): void {
  if (!m.http) return;
  judge.saw('MDM-TRN-005');
  const type = mediaType(m.http.contentType);
  const label = mislabelled(m);
  if (!DM_MEDIA_TYPES.includes(type)) {
    judge.fail('MDM-TRN-005', m, 'Content-Type', `"${m.http.contentType ?? '(none)'}" is not application/vnd.syncml.dm+xml or +wbxml`);
  } else if (label) {
    judge.fail('MDM-TRN-005', m, 'Content-Type', label);
  }
  if (m.http.lengthMismatch) judge.fail('MDM-XML-001', m, 'Content-Length', m.http.lengthMismatch);
}

export function level(id: string): string {
  return requirement(id).level;
}
