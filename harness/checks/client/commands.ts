/**
 * Passive checks of what a client under test says about the server's commands: one Status per command or per Item
 * and what a container's Status may say (MDM-STS-008..010), the Statuses of an Atomic too big for one message
 * (MDM-CMD-ATO-007), containers kept whole (MDM-CMD-ATO-008), the node addresses in its Items (MDM-XML-019) and
 * markup in its Data (MDM-XML-009). As everywhere, a rule counts as exercised only when its situation occurred.
 */
import { SYNCML_NS, type Command, type Item, type Status } from '../../syncml';
import type { XmlElement } from '../../syncml/xml';
import type { AnyClientSessionView } from '../client-checks';
import { perSession, refKey, sentBy, sessionCommandIndex, statusesOf } from '../common';
import { defineCheck, type Judge } from '../finding';
import { commandsWithPaths, label, trimmed, type WireMessage } from '../session';

/** Codes that can only describe a node or a value: a container that reports one reports a member's outcome. */
const MEMBER_CODES = new Set(['404', '405', '406', '415', '418', '425']);
const itemsOf = (c: Command): Item[] => ('items' in c ? c.items : []);
const isContainer = (c: Command) => c.kind === 'Atomic' || c.kind === 'Sequence';
const refsOf = (s: Status) => [...s.targetRefs, ...s.sourceRefs].map(trimmed);

interface DeviceStatus {
  status: Status;
  code: string;
  m: WireMessage;
  path: string;
}

const DEVICE_STATUSES = Symbol('deviceStatuses');

/**
 * Every Status the device sent for a server command, keyed `MsgRef:CmdRef`; 213s answer chunks, not commands (A-23).
 * Made once per session (perSession): callers only read it.
 */
function deviceStatuses(session: AnyClientSessionView): ReadonlyMap<string, readonly DeviceStatus[]> {
  return perSession(session, DEVICE_STATUSES, () => {
    const out = new Map<string, DeviceStatus[]>();
    for (const m of sentBy(session, 'device')) {
      if (!m.syncml) continue;
      for (const { status, path, key, code } of statusesOf(m.syncml)) {
        if (trimmed(status.cmdRef) === '0' || code === '213') continue;
        const answer = { status, code, m, path };
        const list = out.get(key);
        if (list) list.push(answer);
        else out.set(key, [answer]);
      }
    }
    return out;
  });
}

/** Source LocURIs the device reported in Results for each Get, keyed `MsgRef:CmdRef` (a Results without MsgRef: msg 1). */
function resultSources(session: AnyClientSessionView): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const m of sentBy(session, 'device')) {
    for (const { command } of commandsWithPaths(m.syncml?.body.commands ?? [])) {
      if (command.kind !== 'Results') continue;
      const key = refKey(command.msgRef === undefined ? '1' : command.msgRef, command.cmdRef);
      const set = out.get(key) ?? new Set<string>();
      for (const it of command.items) set.add(trimmed(it.source?.locURI));
      out.set(key, set);
    }
  }
  return out;
}

/**
 * One Status per command, or per Item when the Items fared differently (MDM-STS-009), naming its Item then and only
 * then (MDM-STS-010); a container's Status speaks for the container alone (MDM-STS-008).
 */
export const deviceStatusesMatchCommandsAndItems = defineCheck<AnyClientSessionView>({
  name: 'deviceStatusesMatchCommandsAndItems',
  ids: ['MDM-STS-008', 'MDM-STS-009', 'MDM-STS-010'],
  when: {
    'MDM-STS-008': 'the device to answer a server command',
    'MDM-STS-009': 'the server to send a command with several Items (a multi-Item Get)',
    'MDM-STS-010': 'the device to answer a command with several Items with one Status',
  },
  run(session, judge) {
    const index = sessionCommandIndex(session, 'server');
    const statuses = deviceStatuses(session);
    // Needed only for a Get of several Items answered with one Status: gathered for the first such.
    let results: Map<string, Set<string>> | undefined;
    for (const [key, entry] of index) {
      const answers = statuses.get(key);
      const command = entry.command;
      // Commands without CmdID share a blank reference (A-34): which Status answers which cannot be told.
      if (!answers?.length || command.kind === 'Status' || command.kind === 'Results' || !trimmed(command.cmdID)) continue;
      // Written only into a finding: most commands have none.
      const what = () => `${entry.name} ${trimmed(command.cmdID)} of ${label(entry.msg)}`;
      judge.saw('MDM-STS-008');
      const items = itemsOf(command);
      if (isContainer(command)) {
        const [own] = answers;
        if (answers.length > 1) judge.fail('MDM-STS-008', answers[1].m, answers[1].path, `a second Status for the ${what()}; a container gets one Status, its members their own`);
        if (refsOf(own.status).length || own.status.items.length) {
          judge.fail('MDM-STS-008', own.m, own.path, `the Status of the ${what()} names Items (${[...refsOf(own.status), ...own.status.items.map((i) => trimmed(i.target?.locURI))].join(', ')}); a container's Status says nothing about its members`);
        }
        if (command.kind === 'Sequence' && MEMBER_CODES.has(own.code)) {
          const member = memberWithCode(command.commands, trimmed(entry.msg.syncml?.hdr.msgID), own.code, statuses);
          if (member) {
            judge.fail('MDM-STS-008', own.m, `${own.path}/Data`, `the ${what()} is answered ${own.code}, the code its member ${member} got; the Sequence's Status says whether the Sequence was processed, its members answer for themselves`);
          }
        }
        continue;
      }
      if (items.length <= 1) {
        if (answers.length > 1) judge.fail('MDM-STS-008', answers[1].m, answers[1].path, `${answers.length} Statuses for the one-Item ${what()}; a Status answers one command or one Item of it`);
        continue;
      }
      judge.saw('MDM-STS-009');
      const targets = items.map((it) => trimmed(it.target?.locURI ?? it.source?.locURI));
      if (answers.length === 1) {
        const [one] = answers;
        const refs = refsOf(one.status);
        if (refs.length && targets.every((t) => refs.includes(t))) {
          judge.saw('MDM-STS-010');
          judge.fail('MDM-STS-010', one.m, one.path, `the one Status for all ${items.length} Items of the ${what()} carries TargetRef/SourceRef (${refs.join(', ')}); a Status that covers every Item names none`);
          continue;
        }
        if (refs.length) {
          const unanswered = targets.filter((t) => !refs.includes(t));
          judge.fail('MDM-STS-009', one.m, one.path, `the ${what()} has ${items.length} Items, but its only Status names ${refs.join(', ')}: no Status for ${unanswered.join(', ')}`);
          continue;
        }
        judge.saw('MDM-STS-010');
        const differ = command.kind === 'Get' ? differingGetOutcome(one.code, targets, (results ??= resultSources(session)).get(key)) : undefined;
        if (differ) judge.fail('MDM-STS-009', one.m, `${one.path}/Data`, `one Status ${one.code} for all Items of the ${what()}, yet ${differ}: Items that fared differently get one Status each, with TargetRef`);
        continue;
      }
      for (const a of answers) {
        const refs = refsOf(a.status);
        if (!refs.length) judge.fail('MDM-STS-009', a.m, a.path, `one of ${answers.length} Statuses for the ${items.length}-Item ${what()} names no Item (TargetRef/SourceRef); per-Item Statuses say which Item they answer`);
      }
      const named = new Set(answers.flatMap((a) => refsOf(a.status)));
      const missing = targets.filter((t) => !named.has(t));
      if (missing.length && answers.every((a) => refsOf(a.status).length)) {
        judge.fail('MDM-STS-009', answers[0].m, answers[0].path, `per-Item Statuses for the ${what()} name no Status for ${missing.join(', ')}`);
      }
    }
  },
});

/** The member of a container (at any depth) that the device answered with `code`, described, if any. */
function memberWithCode(members: Command[], msgRef: string, code: string, statuses: ReadonlyMap<string, readonly DeviceStatus[]>): string | undefined {
  for (const { command } of commandsWithPaths(members)) {
    if (command.kind === 'Status' || isContainer(command)) continue;
    if ((statuses.get(refKey(msgRef, command.cmdID)) ?? []).some((s) => s.code === code)) {
      return `${command.kind === 'Unknown' ? command.name : command.kind} ${trimmed(command.cmdID)}`;
    }
  }
  return undefined;
}

/** Whether a Get answered with one Status had Items that fared otherwise, as its Results show. */
function differingGetOutcome(code: string, targets: string[], returned: Set<string> | undefined): string | undefined {
  const got = targets.filter((t) => returned?.has(t));
  if (code === '200' && got.length < targets.length) return `Results came back only for ${got.join(', ') || 'none of them'}, not for ${targets.filter((t) => !got.includes(t)).join(', ')}`;
  if (code !== '200' && got.length) return `Results came back for ${got.join(', ')}`;
  return undefined;
}

/**
 * MDM-CMD-ATO-007: the Statuses of an Atomic may be spread over several messages only when its members ran together
 * (its own Status 200 or 507); an Atomic answered 517 could not promise its outcome, so no member of it stays done.
 */
export const deviceAtomicStatusesAcrossMessages = defineCheck<AnyClientSessionView>({
  name: 'deviceAtomicStatusesAcrossMessages',
  ids: ['MDM-CMD-ATO-007'],
  when: 'the device to answer an Atomic whose Statuses do not fit one message (spread over messages, or 517)',
  run(session, judge) {
    const index = sessionCommandIndex(session, 'server');
    const statuses = deviceStatuses(session);
    for (const [key, entry] of index) {
      if (entry.command.kind !== 'Atomic') continue;
      const own = statuses.get(key)?.[0];
      if (!own) continue;
      // A message refused for its credentials (401/407) was not run at all: its Atomic neither spread nor failed.
      if (own.code === '401' || own.code === '407') continue;
      const msgRef = trimmed(entry.msg.syncml?.hdr.msgID);
      const members = [...commandsWithPaths(entry.command.commands)].map(({ command }) => ({ command, answers: statuses.get(refKey(msgRef, command.cmdID)) ?? [] }));
      const carriers = new Set([own.m.n, ...members.flatMap((x) => x.answers.map((a) => a.m.n))]);
      const what = `Atomic ${trimmed(entry.command.cmdID)} of ${label(entry.msg)}`;
      if (own.code === '517') {
        judge.saw('MDM-CMD-ATO-007');
        const done = members.flatMap((x) => x.answers).filter((a) => a.code === '200' || a.code === '202');
        if (done.length) {
          const [d] = done;
          const others = done.length > 1 ? ` (and ${done.length - 1} more of its members)` : '';
          judge.fail('MDM-CMD-ATO-007', d.m, `${d.path}/Data`, `the ${what} failed with 517, yet this member reports ${d.code}${others}; members of an Atomic answered 517 are rolled back`);
        }
        continue;
      }
      if (carriers.size > 1) {
        judge.saw('MDM-CMD-ATO-007');
        if (own.code !== '200' && own.code !== '507') {
          judge.fail('MDM-CMD-ATO-007', own.m, `${own.path}/Data`, `the Statuses of the ${what} are spread over ${carriers.size} messages though the Atomic is answered ${own.code}; only an Atomic whose members ran together (200 or 507) may spread them, else it fails with 517`);
        }
      }
    }
  },
});

/** MDM-CMD-ATO-008: an Atomic or Sequence goes whole in one message; a member chunk (MoreData) would carry it over. */
export const deviceContainersInOneMessage = defineCheck<AnyClientSessionView>({
  name: 'deviceContainersInOneMessage',
  ids: ['MDM-CMD-ATO-008'],
  when: 'the device to send an Atomic or Sequence (a device never originates one, MDM-SES-005)',
  run(session, judge) {
    for (const m of sentBy(session, 'device')) {
      for (const { command, path, depth } of commandsWithPaths(m.syncml?.body.commands ?? [])) {
        if (depth > 0 || !isContainer(command)) continue;
        judge.saw('MDM-CMD-ATO-008');
        for (const inner of commandsWithPaths(command.kind === 'Atomic' || command.kind === 'Sequence' ? command.commands : [])) {
          if (itemsOf(inner.command).some((it) => it.moreData)) {
            judge.fail('MDM-CMD-ATO-008', m, `${path}${inner.path.slice('/SyncBody'.length)}`, `a member of this ${command.kind} is a chunk (MoreData) that continues in the next message; an Atomic or Sequence goes whole in one message`);
          }
        }
      }
    }
  },
});

/** URI characters (RFC 3986 unreserved, sub-delims, ':', '@', '/', and percent-escapes). */
const URI_CHARS = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*$/;

/**
 * MDM-XML-019: a node address in a device Item is a device-tree URI rooted at `./` (the scope forms `./Device/…`,
 * `./User/…` included). A LocURI the server itself sent is echoed as sent (MDM-RES-002 requires it), whatever its form.
 * MDM-XML-009: Data that carries elements either escapes them or wraps them in CDATA, or they declare their own
 * namespace; elements that declare none take the SyncML namespace and are read as SyncML.
 */
export const deviceItemAddressesAndData = defineCheck<AnyClientSessionView>({
  name: 'deviceItemAddressesAndData',
  ids: ['MDM-XML-019', 'MDM-XML-009'],
  when: { 'MDM-XML-009': 'the device to return a value holding markup (a Get of a node whose value is XML)' },
  run(session, judge) {
    // The server's LocURIs matter only for an address that is not a device-tree URI: gathered for the first such.
    let echoedSet: Set<string> | undefined;
    const echoed = (): ReadonlySet<string> => (echoedSet ??= serverLocURIs(session));
    for (const m of sentBy(session, 'device')) {
      for (const { command, path } of commandsWithPaths(m.syncml?.body.commands ?? [])) {
        const items = command.kind === 'Status' ? command.items : itemsOf(command);
        items.forEach((it, n) => {
          // The Item's path is written only into a finding: most Items have none.
          const at = () => `${path}/Item${items.length > 1 ? `[${n + 1}]` : ''}`;
          judgeAddress('Target', it.target, at, m, echoed, judge);
          judgeAddress('Source', it.source, at, m, echoed, judge);
          if (command.kind !== 'Status') judgeMarkup(it, m, at, judge);
        });
      }
    }
  },
});

/** MDM-XML-019 on the Target or Source of a device Item (`at` writes the Item's path). */
function judgeAddress(part: 'Target' | 'Source', address: Item['target'], at: () => string, m: WireMessage, echoed: () => ReadonlySet<string>, judge: Judge): void {
  if (address?.locURI === undefined) return;
  judge.saw('MDM-XML-019');
  const uri = trimmed(address.locURI);
  const rooted = uri.startsWith('./');
  if ((rooted && URI_CHARS.test(uri)) || echoed().has(uri)) return;
  if (!rooted) judge.fail('MDM-XML-019', m, `${at()}/${part}/LocURI`, `"${uri}" is not a device-tree URI rooted at "./"`);
  else judge.fail('MDM-XML-019', m, `${at()}/${part}/LocURI`, `"${uri}" is not a URI: characters outside the URI set must be percent-escaped`);
}

/** Every Target and Source LocURI the server sent, trimmed: a device echoes these as sent (MDM-RES-002). */
function serverLocURIs(session: AnyClientSessionView): Set<string> {
  const echoed = new Set<string>();
  for (const m of sentBy(session, 'server')) {
    for (const { command } of commandsWithPaths(m.syncml?.body.commands ?? [])) {
      for (const it of itemsOf(command)) {
        if (it.target?.locURI !== undefined) echoed.add(trimmed(it.target.locURI));
        if (it.source?.locURI !== undefined) echoed.add(trimmed(it.source.locURI));
      }
    }
  }
  return echoed;
}

const LOOKS_LIKE_MARKUP = /<[A-Za-z!?/]/;

function judgeMarkup(it: Item, m: WireMessage, itemAt: () => string, judge: Judge): void {
  const d = it.data;
  if (!d) return;
  const elements = (d.markup ?? []).filter((n): n is XmlElement => n.type === 'element');
  // Most values hold no "<" at all: looking for one is cheaper than running the pattern over every value.
  if (!elements.length && !(d.text.includes('<') && LOOKS_LIKE_MARKUP.test(d.text))) return;
  judge.saw('MDM-XML-009');
  const at = `${itemAt()}/Data`;
  for (const el of elements) {
    const prefix = el.name.includes(':') ? el.name.split(':')[0] : undefined;
    const declares = Object.keys(el.attrs).some((k) => (prefix ? k === `xmlns:${prefix}` : k === 'xmlns'));
    if (!declares || el.ns === SYNCML_NS) {
      judge.fail('MDM-XML-009', m, at, `Data holds the element <${el.name}> as raw markup without a namespace of its own, so it reads as SyncML; escape the markup or wrap it in CDATA`);
    }
  }
}
