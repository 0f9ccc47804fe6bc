/**
 * Server scenarios about commands, their Statuses and Results, as the server reads what the device sends and as it
 * relays what it was asked to send (catalogue sections 3.3-3.6): Results matched to their Get whatever message they
 * come in and with MsgRef left out (MDM-RES-005, MDM-ID-007), 202 taken as accepted (MDM-STS-023), a keep-alive
 * waited through (MDM-CMD-ALT-016), an Atomic never split (MDM-CMD-ATO-008), typed values and Sequences relayed as
 * queued (MDM-CMD-ADD-002, MDM-CMD-SEQ-003), and what a server must take from a device: an Item without Data
 * (MDM-XML-020), CmdIDs with gaps (MDM-ID-004), Status children in MS-MDM's printed order (MDM-STS-002).
 */
import { sameNumber } from '../../checks/compare';
import type { Finding } from '../../checks/finding';
import { statusesOf } from '../../checks/common';
import { commandsWithPaths, label, trimmed, type SessionView, type WireMessage } from '../../checks/session';
import type { DeviceRun } from '../../device/reference-device';
import { add, atomic, codeOf, exec, get, metaValue, replace, sequence, type Command, type Item, type Meta, type Status, type SyncML } from '../../syncml';
import type { Scenario, ScenarioLog } from '../scenario';
import { NODES } from './nodes';
import { deviceFor, judgeSession, needsControl, reachable, session, type ServerUnderTest } from './target';

type ServerScenario = Scenario<ServerUnderTest>;

/** Defender's scan: Windows runs it after the Status and answers the Exec 202 (MDM-STS-022). */
const DEFENDER_SCAN = './Device/Vendor/MSFT/Defender/Scan';
/** A NodeCache entry whose name needs escapes: a space and a non-ASCII letter, as UTF-8 bytes (MDM-XML-018). */
const ESCAPED_ENTRY = `${NODES.nodeEntries}/caf%C3%A9%20au%20lait`;
/** An ADMX-backed policy value: XML, which goes XML-escaped in Data (MDM-XML-009, MDM-XML-010). */
const ADMX_VALUE = '<enabled/><data id="ActiveHoursMaxRange" value="18"/>';

/** Text of `n` bytes. */
const filler = (n: number) => 'conformance '.repeat(Math.ceil(n / 12)).slice(0, n);

/** Records and judges one session of a device the scenario keeps across sessions (session() closes its device). */
function judged(log: ScenarioLog, run: DeviceRun): DeviceRun {
  log.transcripts.push(run.exchanges);
  log.note(`session ${run.sessionID}: ${run.rounds} round trip(s), ${run.view.outcome}`);
  judgeSession(log, run.view);
  return run;
}

/** Server messages of a session with their place: the exchange index and the MsgID. */
function* replies(view: SessionView): Generator<{ i: number; msg: SyncML; m: WireMessage }> {
  for (const [i, x] of view.exchanges.entries()) if (x.response?.syncml) yield { i, msg: x.response.syncml, m: x.response };
}

/** A node by its meaning: `./Device/` is the default scope and escapes are compared decoded (`%C3%A9` is `%c3%a9`). */
function nodeOf(uri: string | undefined): string {
  const path = trimmed(uri).replace(/^\.\//, '').replace(/^[Dd]evice\//, '');
  return path.split('/').map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  }).join('/');
}

const itemsOf = (c: Command): Item[] => ('items' in c ? c.items : []);

/** Server commands with the containers around them, in the order sent, with the exchange that carried them. */
function* sentCommands(view: SessionView): Generator<{ i: number; command: Command; containers: Command[]; m: WireMessage; path: string; msgID: string }> {
  for (const { i, msg, m } of replies(view)) {
    const stack: { path: string; command: Command }[] = [];
    for (const { command, path } of commandsWithPaths(msg.body.commands)) {
      while (stack.length && !path.startsWith(`${stack.at(-1)!.path}/`)) stack.pop();
      yield { i, command, containers: stack.map((s) => s.command), m, path, msgID: trimmed(msg.hdr.msgID) };
      if (command.kind === 'Atomic' || command.kind === 'Sequence') stack.push({ path, command });
    }
  }
}

/** A Meta field on the Item, else the command, else the containers from the innermost out. */
function fieldOf(it: Item, command: Command, containers: Command[], name: string): string | undefined {
  const chain: (Meta | undefined)[] = [it.meta, 'meta' in command ? command.meta : undefined, ...containers.map((c) => ('meta' in c ? c.meta : undefined)).reverse()];
  return chain.map((meta) => metaValue(meta, name)).find((v) => v !== undefined);
}

/** The exchange whose reply processed package 1: its SyncHdr Status is neither a challenge nor a refusal. */
function processedPackage1(view: SessionView): number {
  return view.exchanges.findIndex((x) => {
    const hdr = x.response?.syncml?.body.commands.find((c): c is Status => c.kind === 'Status' && trimmed(c.cmdRef) === '0');
    return hdr !== undefined && !['401', '407', '403'].includes(codeOf(hdr) ?? '');
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Results

const RESULTS_GETS = ['./DevInfo/Man', './DevInfo/Mod', './DevInfo/Lang', './DevDetail/SwV', './DevDetail/FwV', './DevDetail/HwV'];

/** Leaves MsgRef out of every Results that refers to message 1, as MS-MDM 2.2.7.8 allows (MDM-ID-007). */
export function withoutResultsMsgRef(xml: string): string {
  return xml.replace(/<Results><CmdID>([^<]*)<\/CmdID><MsgRef>0*1<\/MsgRef>/g, '<Results><CmdID>$1</CmdID>');
}

/**
 * Whether the server took every Results of the session as the answer to its Get. A server that could not match one
 * shows it on the wire: it answers the Results with an error Status, or asks for the same node again.
 */
export function judgeResultsTaken(view: SessionView, id: 'MDM-RES-005' | 'MDM-ID-007', check: string): Finding {
  const gets = new Map<string, { msgID: string; targets: string[] }>();
  for (const { command, msgID } of sentCommands(view)) {
    if (command.kind === 'Get') gets.set(`${Number(msgID)}:${Number(trimmed(command.cmdID))}`, { msgID, targets: command.items.map((it) => nodeOf(it.target?.locURI)) });
  }
  let taken = 0;
  let later = 0;
  let withoutMsgRef = 0;
  for (const [i, x] of view.exchanges.entries()) {
    const req = x.request.syncml;
    if (!req) continue;
    const previous = view.exchanges[i - 1]?.response?.syncml?.hdr.msgID;
    for (const r of req.body.commands) {
      if (r.kind !== 'Results') continue;
      const msgRef = r.msgRef === undefined ? '1' : trimmed(r.msgRef);
      const get = gets.get(`${Number(msgRef)}:${Number(trimmed(r.cmdRef))}`);
      if (!get) continue; // a Results of no Get is the device's problem, not the server's
      if (r.msgRef === undefined) withoutMsgRef++;
      if (!sameNumber(previous, get.msgID)) later++;
      const where = `the Results CmdID ${trimmed(r.cmdID)} of ${label(x.request)} (answering the Get CmdID ${trimmed(r.cmdRef)} of msg ${get.msgID}${r.msgRef === undefined ? ', without MsgRef: message 1' : ''})`;
      const refused = x.response?.syncml && statusesOf(x.response.syncml).find((s) => sameNumber(s.status.msgRef, req.hdr.msgID) && sameNumber(s.status.cmdRef, r.cmdID) && !(codeOf(s.status) ?? '').startsWith('2'));
      if (refused) {
        return { id, verdict: 'fail', check, evidence: `${label(x.response!)} ${refused.path}: ${where} answered ${codeOf(refused.status)}: the server did not match it to its Get${id === 'MDM-ID-007' ? '; a Results without MsgRef refers to message 1' : ' by (MsgRef, CmdRef)'}` };
      }
      const again = [...sentCommands(view)].find((s) => s.i >= i && s.command.kind === 'Get' && s.command.items.some((it) => get.targets.includes(nodeOf(it.target?.locURI))));
      if (again) {
        return { id, verdict: 'fail', check, evidence: `${label(again.m)} ${again.path}: Get of ${trimmed(itemsOf(again.command)[0]?.target?.locURI)} asked again after ${where}: the server lost that Results${id === 'MDM-ID-007' ? '; a Results without MsgRef refers to message 1' : ''}` };
      }
      taken++;
    }
  }
  if (id === 'MDM-ID-007' && !withoutMsgRef) {
    const where = [...new Set([...gets.values()].map((g) => g.msgID))].join(', ') || 'no message';
    return { id, verdict: 'inconclusive', check, evidence: `the server sent the queued Gets in msg ${where}, not in message 1: a Results may leave MsgRef out only when it answers message 1 (with md5 credentials sent at once, package 1 gets the commands)` };
  }
  if (!taken) return { id, verdict: 'inconclusive', check, evidence: 'the device returned no Results: the queued Gets never came' };
  const detail = id === 'MDM-ID-007' ? `${withoutMsgRef} of them without MsgRef` : `${later} of them in a later message than their Get's`;
  return { id, verdict: 'pass', check, evidence: `${taken} Results (${detail}) taken: none refused, no node asked for again` };
}

export const resultsCorrelation: ServerScenario = {
  id: 'get-results/results-correlation',
  phase: 'get-result',
  title: 'returns Results over several messages, so that some follow a later server message than their Get, once with MsgRef and once without (message 1)',
  requirements: ['MDM-RES-005', 'MDM-ID-007'],
  needs: needsControl,
  async run(t, log) {
    let omitMsgRef = false;
    // Credentials sent at once put the queued Gets in the server's message 1, whose Results may omit MsgRef; the
    // first session only earns the md5 nonce they need.
    const device = deviceFor(t, log, { preemptiveAuth: true, maxSendSize: 1100, rewrite: (xml) => (omitMsgRef ? withoutResultsMsgRef(xml) : xml) });
    try {
      if (!reachable(log, judged(log, await device.runSession(t.url)), this.id)) return;
      for (const id of ['MDM-RES-005', 'MDM-ID-007'] as const) {
        omitMsgRef = id === 'MDM-ID-007';
        await t.queue!(t.deviceId, RESULTS_GETS.map((uri) => get(uri)));
        const run = judged(log, await device.runSession(t.url));
        if (!reachable(log, run, this.id)) return;
        log.add([judgeResultsTaken(run.view, id, this.id)]);
      }
    } finally {
      await device.close();
    }
  },
};

// ---------------------------------------------------------------------------------------------------------------
// Statuses the device sends

/** Commands the server sent again, same kind and node, after the device accepted them with 202 (MDM-STS-023). */
export function judgeAcceptedNotRetried(view: SessionView, check: string): Finding {
  const sent = [...sentCommands(view)];
  let accepted = 0;
  for (const [i, x] of view.exchanges.entries()) {
    for (const s of x.request.syncml ? statusesOf(x.request.syncml) : []) {
      if (codeOf(s.status) !== '202') continue;
      const command = sent.find((c) => sameNumber(c.msgID, s.status.msgRef) && sameNumber(c.command.cmdID, s.status.cmdRef));
      if (!command) continue;
      accepted++;
      const nodes = itemsOf(command.command).map((it) => nodeOf(it.target?.locURI));
      const again = sent.find((c) => c.i >= i && c.command.kind === command.command.kind && itemsOf(c.command).some((it) => nodes.includes(nodeOf(it.target?.locURI))));
      if (again) {
        return {
          id: 'MDM-STS-023', verdict: 'fail', check,
          evidence: `${label(again.m)} ${again.path}: ${again.command.kind} of ${itemsOf(again.command).map((it) => trimmed(it.target?.locURI)).join(', ')} sent again after the device accepted it with 202 (${label(x.request)} ${s.path}); 202 is accepted for asynchronous completion, never a failure`,
        };
      }
    }
  }
  return accepted
    ? { id: 'MDM-STS-023', verdict: 'pass', check, evidence: `${accepted} command(s) accepted with 202 and not sent again: the server took 202 as accepted` }
    : { id: 'MDM-STS-023', verdict: 'inconclusive', check, evidence: `the device accepted nothing with 202: the queued Exec of ${DEFENDER_SCAN} never came` };
}

export const acceptedForLater: ServerScenario = {
  id: 'management-rounds/accepted-for-later',
  phase: 'management-multi-round',
  title: 'answers an Exec of Defender/Scan with 202 (accepted, runs on) and expects the server to take it as done, not to send it again',
  requirements: ['MDM-STS-023'],
  needs: needsControl,
  async run(t, log) {
    await t.queue!(t.deviceId, [exec(DEFENDER_SCAN, '1', { format: 'int' }), exec(NODES.updateSignature)]);
    const run = await session(t, log);
    if (reachable(log, run, this.id)) log.add([judgeAcceptedNotRetried(run.view, this.id)]);
  },
};

const REQUEST_PENDING = 'Reversed-Domain-Name:com.microsoft.mdm.requestpending';

export const keepAlive: ServerScenario = {
  id: 'management-rounds/keep-alive',
  phase: 'management-multi-round',
  title: 'answers the first package of commands with a request-pending keep-alive (Alert 1224) before its reply, while more commands wait on the server',
  requirements: ['MDM-CMD-ALT-016'],
  needs: needsControl,
  async run(t, log) {
    // Two Replaces that do not fit one message of the device's MaxMsgSize: the second waits for the next package,
    // and must not come while the device is still working on the first.
    await t.queue!(t.deviceId, [1, 2].map((n) => replace(NODES.cacheVersion, `keep-alive ${n} ${filler(700)}`, { format: 'chr' })));
    const run = await session(t, log, { maxMsgSize: 2000, keepAlives: 1 });
    if (!reachable(log, run, this.id)) return;
    const sent = run.view.exchanges.some((x) => x.request.syncml?.body.commands.some((c) => c.kind === 'Alert' && c.items.some((i) => metaValue(i.meta, 'Type') === REQUEST_PENDING)));
    if (!sent) log.add([{ id: 'MDM-CMD-ALT-016', verdict: 'inconclusive', check: this.id, evidence: 'the server sent none of the queued commands, so the device had no reply to keep pending' }]);
  },
};

// ---------------------------------------------------------------------------------------------------------------
// What the server relays

export const atomicLargerThanAMessage: ServerScenario = {
  id: 'management-rounds/atomic-larger-than-a-message',
  phase: 'management-multi-round',
  title: 'queues an Atomic larger than the device MaxMsgSize: it must go whole in one message or not at all, never in pieces',
  requirements: ['MDM-CMD-ATO-008'],
  needs: needsControl,
  async run(t, log) {
    await t.queue!(t.deviceId, [atomic(replace(NODES.expectedValue, filler(4000), { format: 'chr' }))]);
    const run = await session(t, log, { maxMsgSize: 2500 });
    if (!reachable(log, run, this.id)) return;
    const atomics = [...sentCommands(run.view)].filter((c) => c.command.kind === 'Atomic');
    // Split Atomics fail through the passive check (serverCommandShapes); held back or whole is the conforming outcome.
    const inPieces = atomics.some((a) => a.command.kind === 'Atomic' && a.command.commands.some((m) => itemsOf(m).some((i) => i.moreData)));
    if (!inPieces) {
      log.add([{ id: 'MDM-CMD-ATO-008', verdict: 'pass', check: this.id, evidence: atomics.length ? `the Atomic went whole in ${label(atomics[0].m)}` : 'the Atomic, larger than the device MaxMsgSize 2500, was held back rather than split' }]);
    }
  },
};

/** Each queued Add/Replace with a Format other than chr (or a Type) arrives stating it (MDM-CMD-ADD-002). */
export function judgeTypedValues(view: SessionView, queued: readonly Command[], check: string): Finding {
  const sent = [...sentCommands(view)];
  const seen: string[] = [];
  for (const q of queued) {
    if (q.kind !== 'Add' && q.kind !== 'Replace') continue;
    for (const it of q.items) {
      const want = { Format: metaValue(it.meta, 'Format'), Type: metaValue(it.meta, 'Type') };
      if ((want.Format ?? 'chr') === 'chr' && (want.Type ?? 'text/plain') === 'text/plain') continue;
      const node = nodeOf(it.target?.locURI);
      for (const s of sent) {
        if (s.command.kind !== q.kind) continue;
        for (const sentItem of itemsOf(s.command).filter((x) => nodeOf(x.target?.locURI) === node)) {
          for (const field of ['Format', 'Type'] as const) {
            const value = want[field];
            const got = fieldOf(sentItem, s.command, s.containers, field);
            if (value !== undefined && got?.toLowerCase() !== value.toLowerCase()) {
              return { id: 'MDM-CMD-ADD-002', verdict: 'fail', check, evidence: `${label(s.m)} ${s.path}: ${q.kind} of ${trimmed(it.target?.locURI)} ${got === undefined ? `states no ${field}` : `states ${field} ${got}`}, the value's ${field} is ${value}: a value whose format or type is not the default says so in Meta` };
            }
          }
          seen.push(`${q.kind} of ${trimmed(it.target?.locURI)} (${[want.Format, want.Type].filter(Boolean).join(', ')})`);
        }
      }
    }
  }
  return seen.length
    ? { id: 'MDM-CMD-ADD-002', verdict: 'pass', check, evidence: `stated in Meta: ${seen.join('; ')}` }
    : { id: 'MDM-CMD-ADD-002', verdict: 'inconclusive', check, evidence: 'none of the queued typed values reached the device' };
}

/** The queued Sequence arrives as a Sequence (or Atomic) with its members in order (MDM-CMD-SEQ-003). */
export function judgeOrderKept(view: SessionView, first: string, then: string, check: string): Finding {
  const sent = [...sentCommands(view)];
  const a = sent.find((s) => s.command.kind === 'Replace' && itemsOf(s.command).some((it) => nodeOf(it.target?.locURI) === nodeOf(first)));
  const b = sent.find((s) => s.command.kind === 'Get' && itemsOf(s.command).some((it) => nodeOf(it.target?.locURI) === nodeOf(then)));
  if (!a || !b) return { id: 'MDM-CMD-SEQ-003', verdict: 'inconclusive', check, evidence: 'the queued Sequence did not reach the device' };
  const container = a.containers.find((c) => (c.kind === 'Sequence' || c.kind === 'Atomic') && b.containers.includes(c));
  if (container && sent.indexOf(a) < sent.indexOf(b)) {
    return { id: 'MDM-CMD-SEQ-003', verdict: 'pass', check, evidence: `the Replace then Get that must run in order went in one ${container.kind} (${label(a.m)})` };
  }
  return { id: 'MDM-CMD-SEQ-003', verdict: 'warn', check, evidence: `${label(a.m)} ${a.path}: the Replace and Get queued in a Sequence were sent outside one, so the device may run them in any order (MDM-CMD-SEQ-002); a server that needs an order wraps them in Sequence or Atomic` };
}

export const typedValues: ServerScenario = {
  id: 'management-rounds/typed-values-and-order',
  phase: 'management-multi-round',
  title: 'queues an interior node with an escaped name, an XML policy value, an int value and a Sequence, and expects each relayed with its Format and order',
  requirements: ['MDM-CMD-ADD-002', 'MDM-CMD-SEQ-003'],
  needs: needsControl,
  async run(t, log) {
    const queued: Command[] = [
      add(ESCAPED_ENTRY),
      add(`${ESCAPED_ENTRY}/ExpectedValue`, ADMX_VALUE, { format: 'chr' }),
      replace(NODES.activeHoursStart, '9', { format: 'int' }),
      sequence(replace(NODES.cacheVersion, 'ordered', { format: 'chr' }), get(NODES.cacheVersion)),
    ];
    await t.queue!(t.deviceId, queued);
    const run = await session(t, log);
    if (!reachable(log, run, this.id)) return;
    log.add([judgeTypedValues(run.view, queued, this.id), judgeOrderKept(run.view, NODES.cacheVersion, NODES.cacheVersion, this.id)]);
  },
};

// ---------------------------------------------------------------------------------------------------------------
// What the server must take from a device

const LANG_ITEM = /<Item><Source><LocURI>\.\/DevInfo\/Lang<\/LocURI><\/Source><Data>[^<]*<\/Data><\/Item>/;
const LANG_WITHOUT_DATA = '<Item><Source><LocURI>./DevInfo/Lang</LocURI></Source><Meta><Format xmlns="syncml:metinf">chr</Format></Meta></Item>';

export const itemWithoutData: ServerScenario = {
  id: 'robustness/item-without-data',
  phase: 'robustness',
  title: 'sends the DevInfo Replace of package 1 with one Item that has Format chr but no Data: that Item is malformed (400/412)',
  requirements: ['MDM-XML-020'],
  async run(t, log) {
    const run = await session(t, log, { rewrite: (xml) => xml.replace(LANG_ITEM, LANG_WITHOUT_DATA) });
    if (!reachable(log, run, this.id)) return;
    const x = run.view.exchanges[processedPackage1(run.view)];
    const req = x?.request.syncml;
    const replaceCmd = req?.body.commands.find((c) => c.kind === 'Replace' || c.kind === 'Add');
    if (!x?.response?.syncml || !req || !replaceCmd) {
      log.add([{ id: 'MDM-XML-020', verdict: 'inconclusive', check: this.id, evidence: 'package 1 was never processed (no reply past authentication)' }]);
      return;
    }
    const answers = statusesOf(x.response.syncml).filter((s) => sameNumber(s.status.msgRef, req.hdr.msgID) && sameNumber(s.status.cmdRef, replaceCmd.cmdID));
    // The Status naming the Item, else one that names none (covering the whole Replace, or per Item without saying
    // which: MDM-STS-009 judges that); the Item is refused when one of them says 400 or 412.
    const naming = answers.filter((s) => [...s.status.targetRefs, ...s.status.sourceRefs].some((r) => trimmed(r) === './DevInfo/Lang'));
    const candidates = naming.length ? naming : answers.filter((s) => !s.status.targetRefs.length && !s.status.sourceRefs.length);
    const forLang = candidates.find((s) => ['400', '412'].includes(codeOf(s.status) ?? '')) ?? candidates[0];
    const code = forLang ? codeOf(forLang.status) : undefined;
    const at = forLang ? `${label(x.response)} ${forLang.path}` : label(x.response);
    log.add([code === '400' || code === '412'
      ? { id: 'MDM-XML-020', verdict: 'pass', check: this.id, evidence: `${at}: the Item of ./DevInfo/Lang with Format chr and no Data answered ${code}` }
      : { id: 'MDM-XML-020', verdict: 'fail', check: this.id, evidence: `${at}: the Item of ./DevInfo/Lang with Format chr and no Data ${code ? `answered ${code}` : 'got no Status'}; an Item that sets a value with a Format must carry Data, else it is malformed (400 or 412)` }]);
  },
};

/** Renumbers every CmdID the device writes three apart, 1 as 8 and 2 as 11 (Windows starts at 1 or 2 and counts by one). */
export const spacedCmdIDs = (xml: string) => xml.replace(/<CmdID>(\d+)<\/CmdID>/g, (_, n: string) => `<CmdID>${3 * Number(n) + 5}</CmdID>`);

export const cmdIDsWithGaps: ServerScenario = {
  id: 'robustness/cmdids-with-gaps',
  phase: 'robustness',
  title: 'numbers its commands in steps of 3 from 8 or 11, which the protocol allows: each must be answered under its own CmdID',
  requirements: ['MDM-ID-004'],
  async run(t, log) {
    const run = await session(t, log, { rewrite: spacedCmdIDs });
    if (!reachable(log, run, this.id)) return;
    const x = run.view.exchanges[processedPackage1(run.view)];
    const req = x?.request.syncml;
    if (!x?.response?.syncml || !req) {
      log.add([{ id: 'MDM-ID-004', verdict: 'inconclusive', check: this.id, evidence: 'package 1 was never processed (no reply past authentication)' }]);
      return;
    }
    const statuses = statusesOf(x.response.syncml).filter((s) => sameNumber(s.status.msgRef, req.hdr.msgID));
    const unanswered = req.body.commands.filter((c) => c.kind !== 'Status' && c.kind !== 'Unknown' && !statuses.some((s) => sameNumber(s.status.cmdRef, c.cmdID)));
    log.add([unanswered.length
      ? { id: 'MDM-ID-004', verdict: 'warn', check: this.id, evidence: `${label(x.response)}: no Status under the CmdID of ${unanswered.map((c) => `${c.kind} ${trimmed(c.cmdID)}`).join(', ')}; the server's CmdRefs are ${statuses.map((s) => trimmed(s.status.cmdRef)).join(', ')}: CmdIDs need not start at 1 nor be contiguous` }
      : { id: 'MDM-ID-004', verdict: 'pass', check: this.id, evidence: `commands numbered ${req.body.commands.filter((c) => c.kind !== 'Unknown').map((c) => trimmed(c.cmdID)).join(', ')} each answered under its own CmdID` }]);
  },
};

/** TargetRef after Data, the order MS-MDM 2.2.6.1 prints (the DTD puts it before): both must be read (MDM-STS-002). */
export const refsAfterData = (xml: string) => xml.replace(/((?:<TargetRef>[^<]*<\/TargetRef>)+)(<Data>[^<]*<\/Data>)/g, '$2$1');

export const statusRefsAfterData: ServerScenario = {
  id: 'robustness/status-refs-after-data',
  phase: 'robustness',
  title: 'answers a Get of two nodes, one missing, with one Status per Item whose TargetRef follows Data, as MS-MDM prints it',
  requirements: ['MDM-STS-002'],
  needs: needsControl,
  async run(t, log) {
    await t.queue!(t.deviceId, [get('./DevDetail/SwV', `${NODES.nodeEntries}/404`)]);
    const run = await session(t, log, { rewrite: refsAfterData });
    const i = run.exchanges.findIndex((x) => x.request.body.toString('utf8').includes('</Data><TargetRef>'));
    if (i < 0) {
      if (reachable(log, run, this.id)) log.add([{ id: 'MDM-STS-002', verdict: 'inconclusive', check: this.id, evidence: 'the queued Get never came, so no per-Item Status was sent' }]);
      return;
    }
    const x = run.exchanges[i];
    const ok = x.response?.status === 200 && !!x.response.parsed;
    if (!ok) log.blame('MDM-STS-002');
    log.add([ok
      ? { id: 'MDM-STS-002', verdict: 'pass', check: this.id, evidence: `the message whose Statuses carry TargetRef after Data was answered (HTTP 200, SyncML); the session ${run.end.reason}` }
      : { id: 'MDM-STS-002', verdict: 'warn', check: this.id, evidence: `a Status with TargetRef after Data, the order MS-MDM 2.2.6.1 prints, was refused: ${x.response ? `HTTP ${x.response.status}` : x.error?.message ?? 'no reply'}` }]);
  },
};

export const COMMAND_SCENARIOS: readonly ServerScenario[] = [
  resultsCorrelation, acceptedForLater, keepAlive, typedValues, atomicLargerThanAMessage, itemWithoutData, cmdIDsWithGaps, statusRefsAfterData,
];
