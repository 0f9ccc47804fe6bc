/**
 * Passive checks of the commands a server under test sends and of the Statuses it answers with, beyond the content
 * models (catalogue sections 3.2-3.6): what each command's Items must name, node addresses (MDM-XML-015..019),
 * markup in Data (MDM-XML-009, -010), values without Data (MDM-XML-020), alert codes (MDM-CMD-ALT-003), Atomic
 * members (MDM-CMD-ATO-005, -008), Correlator (MDM-CMD-EXE-004), and how many Statuses answer one command
 * (MDM-STS-008..010).
 */
import { codeOf, metaValue, type Command, type Item, type Status, type SyncML } from '../../syncml';
import type { XmlElement } from '../../syncml/xml';
import { sentBy, sessionCommandIndex, statusesOf } from '../common';
import { defineCheck, type Judge } from '../finding';
import { memo } from '../memo';
import { commandsWithPaths, trimmed, type AnySessionView, type WireMessage } from '../session';

/** A command where it stands: its element path and the containers around it, outermost first. */
interface Placed {
  command: Command;
  path: string;
  containers: Command[];
}

const PLACED = Symbol('placedIn');

/**
 * Every command of a message, depth first, with its path (as the content-model deviations name it) and its
 * containers: made once per message from its command walk (commandsWithPaths), since several checks read every
 * command of every message.
 */
function placedIn(msg: SyncML): readonly Placed[] {
  return memo(msg.body.commands, PLACED, () => {
    const out: Placed[] = [];
    // The containers around the commands at each depth: a walk is depth first, so a container precedes its members.
    const around: Command[][] = [[]];
    for (const { command, path, depth } of commandsWithPaths(msg.body.commands)) {
      const containers = around[depth];
      out.push({ command, path, containers });
      if (command.kind === 'Atomic' || command.kind === 'Sequence') around[depth + 1] = [...containers, command];
    }
    return out;
  });
}

const itemsOf = (c: Command): Item[] => ('items' in c ? c.items : []);
const itemPath = (path: string, items: readonly Item[], n: number) => `${path}/Item${items.length > 1 ? `[${n + 1}]` : ''}`;

/** A Meta field looked up on the Item, then its command, then the containers from the innermost out (MDM-CMD-ATO-009). */
function effectiveMeta(it: Item, p: Placed, name: string): string | undefined {
  const own = metaValue(it.meta, name) ?? ('meta' in p.command ? metaValue(p.command.meta, name) : undefined);
  if (own !== undefined) return own;
  for (let i = p.containers.length - 1; i >= 0; i--) {
    const c = p.containers[i];
    const v = 'meta' in c ? metaValue(c.meta, name) : undefined;
    if (v !== undefined) return v;
  }
  return undefined;
}

/** One node however it is written: `./Device/Vendor/X`, `./Vendor/X` and `Vendor/X` are the same node (catalogue 3.11). */
export function nodeKey(uri: string | undefined): string {
  return trimmed(uri).replace(/^\.\//, '').replace(/^[Dd]evice\//, '');
}

const ITEM_COMMAND_IDS: Readonly<Record<string, string>> = {
  Get: 'MDM-CMD-GET-001', Add: 'MDM-CMD-ADD-001', Replace: 'MDM-CMD-REP-001', Delete: 'MDM-CMD-DEL-001', Exec: 'MDM-CMD-EXE-001',
};
/** MDM-CMD-ALT-003: the alert codes of MS-MDM; OMA's user-interaction alerts (1100-1104) are not among them. */
const MS_MDM_ALERTS = new Set(['1200', '1201', '1222', '1223', '1224', '1225', '1226']);
/** Formats whose Items set no value: an interior node, an explicit null (MDM-XML-020). */
const VALUELESS_FORMATS = new Set(['null', 'node']);

const serverMessages = (session: AnySessionView) => sentBy(session, 'server').filter((m): m is WireMessage & { syncml: SyncML } => !!m.syncml);

/** The message carries an Item with MoreData at its top level: the next message continues that object. */
const leavesObjectOpen = (msg: SyncML) => msg.body.commands.some((c) => c.kind !== 'Status' && c.kind !== 'Results' && itemsOf(c).some((i) => i.moreData));

export const serverCommandShapes = defineCheck<AnySessionView>({
  name: 'serverCommandShapes',
  ids: [
    'MDM-CMD-GET-001', 'MDM-CMD-ADD-001', 'MDM-CMD-REP-001', 'MDM-CMD-DEL-001', 'MDM-CMD-EXE-001', 'MDM-XML-020', 'MDM-CMD-ALT-003',
    'MDM-CMD-ATO-005', 'MDM-CMD-ATO-008', 'MDM-CMD-EXE-004',
  ],
  when: {
    'MDM-XML-020': 'the server to set a value with Add or Replace and a Meta Format',
    'MDM-CMD-ALT-003': 'the server to send an Alert',
    'MDM-CMD-ATO-005': 'the server to send an Atomic',
    'MDM-CMD-ATO-008': 'the server to send an Atomic or Sequence',
    'MDM-CMD-EXE-004': 'the server to send an Exec',
  },
  run(session, judge) {
    let objectOpen = false;
    let before: { final: boolean; containers: Map<string, string> } | undefined;
    for (const m of serverMessages(session)) {
      let continuation = objectOpen;
      const containers = new Map<string, string>();
      for (const p of placedIn(m.syncml)) {
        const { command: c, path } = p;
        if (c.kind === 'Status' || c.kind === 'Results' || c.kind === 'Unknown') continue;
        // The first command after an unfinished large object continues it: its Item may leave the addressing out
        // (a SHOULD of MDM-LO-016, judged there).
        const continues = continuation && p.containers.length === 0 && itemsOf(c).length === 1;
        if (c.kind !== 'Alert' || codeOf(c) !== '1222') continuation = false;
        if (c.kind === 'Alert') {
          judge.saw('MDM-CMD-ALT-003');
          const code = codeOf(c) ?? '';
          if (/^\d+$/.test(code) && !MS_MDM_ALERTS.has(code)) {
            const what = /^110[0-4]$/.test(code) ? 'an OMA user-interaction alert, not part of MS-MDM' : 'not an MS-MDM alert code';
            judge.fail('MDM-CMD-ALT-003', m, `${path}/Data`, `Alert ${code} is ${what}; the codes in use are 1200, 1201, 1222-1226`);
          }
          continue;
        }
        if (c.kind === 'Atomic' || c.kind === 'Sequence') {
          judgeContainer(c, m, judge);
          if (p.containers.length === 0 && c.cmdID !== undefined) {
            const earlier = before && !before.final ? before.containers.get(`${c.kind}:${trimmed(c.cmdID)}`) : undefined;
            if (earlier) judge.fail('MDM-CMD-ATO-008', m, path, `${c.kind} ${trimmed(c.cmdID)} continues the one at ${earlier} of the previous message; an ${c.kind} with all its members travels in one message`);
            containers.set(`${c.kind}:${trimmed(c.cmdID)}`, path);
          }
          continue;
        }
        const id = ITEM_COMMAND_IDS[c.kind];
        judge.saw(id);
        c.items.forEach((it, n) => {
          // The Item's path is written only into a finding: most Items have none.
          if (!continues && !trimmed(it.target?.locURI)) judge.fail(id, m, `${itemPath(path, c.items, n)}/Target/LocURI`, `${c.kind} Item without Target/LocURI: each Item names the node the ${c.kind} acts on`);
          if (c.kind !== 'Add' && c.kind !== 'Replace') return;
          const format = effectiveMeta(it, p, 'Format');
          if (format === undefined || VALUELESS_FORMATS.has(format)) return;
          judge.saw('MDM-XML-020');
          if (!it.data && !it.moreData) judge.fail('MDM-XML-020', m, itemPath(path, c.items, n), `${c.kind} of ${trimmed(it.target?.locURI) || 'a node'} with Format ${format} but no Data: an Item that sets a value carries it`);
        });
        if (c.kind === 'Exec') {
          judge.saw('MDM-CMD-EXE-004');
          if (c.correlator !== undefined) judge.warn('MDM-CMD-EXE-004', m, `${path}/Correlator`, 'Exec with a Correlator: MS-MDM does not support it, so no asynchronous result will come back under it; asynchronous outcomes arrive as 1224/1226 alerts or are read with Get');
        }
      }
      objectOpen = leavesObjectOpen(m.syncml);
      before = { final: !!m.syncml.body.final, containers };
    }
  },
});

/** MDM-CMD-ATO-005 and MDM-CMD-ATO-008 on one container: no Add then Replace of a node, no chunk inside. */
function judgeContainer(c: Command & { commands: Command[] }, m: WireMessage & { syncml: SyncML }, judge: Judge): void {
  judge.saw('MDM-CMD-ATO-008');
  // Its members at any depth: the commands of the message that have it among their containers.
  const members = placedIn(m.syncml).filter((x) => x.containers.includes(c));
  const chunk = members.find((x) => itemsOf(x.command).some((i) => i.moreData));
  if (chunk) judge.fail('MDM-CMD-ATO-008', m, chunk.path, `a chunk of a large object (MoreData) inside ${c.kind} ${trimmed(c.cmdID)}: the ${c.kind} and all its members must travel in one message`);
  if (c.kind !== 'Atomic') return;
  judge.saw('MDM-CMD-ATO-005');
  const added = new Map<string, string>();
  for (const x of members) {
    for (const it of itemsOf(x.command)) {
      const node = nodeKey(it.target?.locURI);
      if (!node) continue;
      if (x.command.kind === 'Add' && !added.has(node)) added.set(node, x.path);
      if (x.command.kind === 'Replace' && added.has(node)) {
        judge.fail('MDM-CMD-ATO-005', m, x.path, `Replace of ${trimmed(it.target?.locURI)} after its Add (${added.get(node)}) in the same Atomic, which Windows does not support`);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Node addresses

/** A URI with a scheme (`https:`, `urn:`, `file:`): an absolute URI, not a node address relative to the tree root. */
const HAS_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;
/** A segment written as a URI path segment whose every character is unreserved or percent-escaped (MDM-XML-018). */
const ESCAPED_SEGMENT = /^(?:[A-Za-z0-9\-._~]|%[0-9A-Fa-f]{2})*$/;

/**
 * What is wrong with a node LocURI, per rule (at most one finding per rule). The path is judged up to a `?`:
 * OMA DM addresses node properties with `?prop=` (OMA-TS-DM_TND 7.3), which is no part of the node's name.
 */
export function addressProblems(uri: string): { id: string; why: string }[] {
  if (isPlainAddress(uri)) return [];
  if (HAS_SCHEME.test(uri)) return [{ id: 'MDM-XML-019', why: `"${uri}" is an absolute URI, not a device-tree address: a node is addressed from the tree root (./Vendor/..., ./Device/..., ./User/...)` }];
  if (uri.startsWith('/')) return [{ id: 'MDM-XML-015', why: `"${uri}" starts with "/"; a node address starts at the root "./"` }];
  const path = uri.split('?')[0];
  const segments = path.split('/');
  if (segments[0] === '.') segments.shift();
  const out = new Map<string, string>();
  segments.forEach((s, n) => {
    if (s === '' && !out.has('MDM-XML-017')) out.set('MDM-XML-017', `"${uri}" has an empty node name (segment ${n + 1}${n === segments.length - 1 ? ', a trailing "/"' : ''})`);
    else if (s === '*' && !out.has('MDM-XML-017')) out.set('MDM-XML-017', `"${uri}" has a node name "*"`);
    else if (/^\.{1,2}$/.test(s) && !out.has('MDM-XML-016')) out.set('MDM-XML-016', `"${uri}" has a "${s}" segment after the start; "." is legal only as the leading "./"`);
    else if (!ESCAPED_SEGMENT.test(s) && !out.has('MDM-XML-018')) {
      const raw = [...s].find((ch) => !/[A-Za-z0-9\-._~%]/.test(ch)) ?? '%';
      out.set('MDM-XML-018', `"${uri}" has ${raw === '%' ? 'a "%" that starts no escape' : `"${raw}" unescaped`} in node name "${s}"; characters outside the unreserved set are percent-escaped (UTF-8 bytes for non-ASCII)`);
    }
  });
  return [...out].map(([id, why]) => ({ id, why }));
}

/**
 * Whether `uri` breaks none of the rules addressProblems applies: relative, every segment non-empty, neither `.`,
 * `..` nor `*`, made of unreserved characters and percent-escapes (a leading `./` aside), up to a `?`. Nearly every
 * address is such: one pass over its characters answers for them, without splitting it or testing each segment.
 */
function isPlainAddress(uri: string): boolean {
  const end = uri.length;
  let i = uri.charCodeAt(0) === 0x2e && uri.charCodeAt(1) === 0x2f ? 2 : 0; // the leading "./"
  let segmentStart = i;
  let dots = 0;
  for (; i <= end; i++) {
    // The end of the text ends the path as a "?" would.
    const c = i < end ? uri.charCodeAt(i) : 0x3f;
    if (c === 0x3f /* ? */ || c === 0x2f /* / */) {
      const length = i - segmentStart;
      if (length === 0 || (dots === length && length <= 2)) return false; // empty, "." or ".."
      if (c !== 0x2f) return true;
      segmentStart = i + 1;
      dots = 0;
    } else if (c === 0x25 /* % */) {
      if (!isHexDigit(uri.charCodeAt(i + 1)) || !isHexDigit(uri.charCodeAt(i + 2))) return false;
      i += 2;
    } else if (c === 0x2e) dots++;
    else if (!isUnreserved(c)) return false;
  }
  return true; // not reached: the loop ends on the "?" that stands for the end
}

function isHexDigit(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** RFC 3986 unreserved characters other than `.`: letters, digits, `-`, `_`, `~`. */
function isUnreserved(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2d || c === 0x5f || c === 0x7e;
}

export const serverNodeAddresses = defineCheck<AnySessionView>({
  name: 'serverNodeAddresses',
  ids: ['MDM-XML-015', 'MDM-XML-016', 'MDM-XML-017', 'MDM-XML-018', 'MDM-XML-019'],
  when: 'the server to send a command that addresses a node',
  run(session, judge) {
    for (const m of serverMessages(session)) {
      for (const { command: c, path } of placedIn(m.syncml)) {
        if (!ITEM_COMMAND_IDS[c.kind]) continue;
        itemsOf(c).forEach((it, n) => {
          const uri = trimmed(it.target?.locURI);
          if (!uri) return;
          judge.saw('MDM-XML-015', 'MDM-XML-016', 'MDM-XML-017', 'MDM-XML-018', 'MDM-XML-019');
          const problems = addressProblems(uri);
          if (!problems.length) return; // the usual case: no evidence to write
          const at = `${itemPath(path, itemsOf(c), n)}/Target/LocURI`;
          for (const { id, why } of problems) judge.fail(id, m, at, why);
        });
      }
    }
  },
});

// ---------------------------------------------------------------------------------------------------------------
// Markup in Data

/** The element declares the namespace it is in on itself (a default `xmlns` or the `xmlns:` of its prefix). */
function declaresOwnNamespace(el: XmlElement): boolean {
  const prefix = el.name.includes(':') ? el.name.split(':')[0] : undefined;
  return prefix ? `xmlns:${prefix}` in el.attrs : 'xmlns' in el.attrs;
}

export const serverDataMarkup = defineCheck<AnySessionView>({
  name: 'serverDataMarkup',
  ids: ['MDM-XML-009', 'MDM-XML-010'],
  when: 'the server to send markup (an XML payload) in Data',
  run(session, judge) {
    for (const m of serverMessages(session)) {
      for (const { command: c, path } of placedIn(m.syncml)) {
        itemsOf(c).forEach((it, n) => {
          const d = it.data;
          const elements = (d?.markup ?? []).filter((x): x is XmlElement => x.type === 'element');
          if (!d || (!elements.length && !d.text.includes('<'))) return;
          judge.saw('MDM-XML-009', 'MDM-XML-010');
          const at = `${itemPath(path, itemsOf(c), n)}/Data`;
          const bare = elements.find((el) => !declaresOwnNamespace(el));
          if (bare) judge.fail('MDM-XML-009', m, at, `markup <${bare.name}> sent as elements of the SyncML document, without a namespace of its own: escape it or wrap it in CDATA`);
          if (d.cdata) judge.warn('MDM-XML-010', m, at, 'XML payload wrapped in CDATA: Windows does not pass CDATA content on to the CSP; send it XML-escaped');
        });
      }
    }
  },
});

// ---------------------------------------------------------------------------------------------------------------
// Statuses per command

/** The names a Status may use for an Item of the command it answers: its Target and Source LocURIs. */
const itemNames = (it: Item) => [trimmed(it.target?.locURI), trimmed(it.source?.locURI)].filter(Boolean);
const refsOf = (s: Status) => [...s.targetRefs, ...s.sourceRefs].map((r) => trimmed(r)).filter(Boolean);

export const serverStatusGranularity = defineCheck<AnySessionView>({
  name: 'serverStatusGranularity',
  ids: ['MDM-STS-008', 'MDM-STS-009', 'MDM-STS-010'],
  when: {
    'MDM-STS-009': 'the device to send a command with several Items (its DevInfo Replace)',
    'MDM-STS-010': 'the device to send a command with several Items (its DevInfo Replace)',
  },
  run(session, judge) {
    const index = sessionCommandIndex(session, 'device');
    const answers = new Map<string, { status: Status; path: string; m: WireMessage }[]>();
    for (const m of serverMessages(session)) {
      for (const { status, path, key, code } of statusesOf(m.syncml)) {
        if (trimmed(status.cmdRef) === '0') continue; // the SyncHdr's Status: MDM-STS-003's business
        // A chunk's 213 may name the object's first chunk, which then gets more than one Status (A-23).
        if (code === '213') continue;
        const answer = { status, path, m };
        const group = answers.get(key);
        if (group) group.push(answer);
        else answers.set(key, [answer]);
      }
    }
    for (const [key, group] of answers) {
      const target = index.get(key);
      if (!target || target.command.kind === 'Status') continue; // an unknown reference is MDM-ID-006's; a Status on a Status is allowed
      judge.saw('MDM-STS-008');
      const items = itemsOf(target.command);
      const what = `${target.name} ${trimmed(target.command.cmdID)} of the device's msg ${trimmed(target.msg.syncml?.hdr.msgID)}`;
      const last = group.at(-1)!;
      if (group.length === 1) {
        if (items.length < 2) continue;
        judge.saw('MDM-STS-009', 'MDM-STS-010');
        const refs = refsOf(last.status);
        if (refs.length) judge.fail('MDM-STS-010', last.m, last.path, `the one Status for all ${items.length} Items of ${what} names ${refs.join(', ')}; a Status that covers every Item carries no TargetRef/SourceRef`);
        continue;
      }
      if (items.length < 2) {
        judge.fail('MDM-STS-008', last.m, last.path, `${what} is answered by ${group.length} Statuses (${group.map((g) => g.path).join(', ')}); a Status answers one command`);
        continue;
      }
      judge.saw('MDM-STS-009');
      // Items with neither Target nor Source (events of a generic alert) cannot be named: nothing to hold against the Statuses.
      if (!items.some((it) => itemNames(it).length)) continue;
      const unnamed = group.find((g) => !refsOf(g.status).length);
      if (unnamed) {
        judge.fail('MDM-STS-009', unnamed.m, unnamed.path, `${group.length} Statuses answer ${what} Item by Item, but this one names no Item (TargetRef/SourceRef)`);
        continue;
      }
      const named = group.flatMap((g) => refsOf(g.status));
      const twice = named.find((r, i) => named.indexOf(r) !== i);
      if (twice) judge.fail('MDM-STS-009', last.m, last.path, `two Statuses of ${what} answer its Item ${twice}`);
      const missing = items.filter((it) => !itemNames(it).some((n) => named.includes(n))).map((it) => itemNames(it)[0] ?? '(unnamed)');
      if (missing.length) judge.fail('MDM-STS-009', last.m, last.path, `${what} is answered Item by Item, but ${missing.join(', ')} got no Status`);
    }
  },
});

export const SERVER_COMMAND_CHECKS = [serverCommandShapes, serverNodeAddresses, serverDataMarkup, serverStatusGranularity] as const;
