/**
 * What the reference device does with the commands of a server package: runs them against its DM tree and answers
 * with Statuses and Results the way Windows does (catalogue 2.5-2.9, 3.5, 3.11).
 *
 * Statuses and Results carry MsgRef/CmdRef/Cmd but no CmdID: the session engine numbers them when it builds the
 * reply. SyncHdr Statuses and session alerts (1222, 1223) belong to the session engine too.
 */
import { item, results, status } from '../syncml/builders';
import type { Add, Alert, Atomic, Command, Delete, Exec, Get, Item, Meta, Replace, Results, Sequence, Status } from '../syncml/model';
import { codeOf, metaValue } from '../syncml/model';
import { DEFAULT_TYPE, formatNodeUri, parseNodeUri, type DmTree, type FailureReason, type TreeFailure, type ValueInit } from './tree';

/**
 * The knobs switchable faults flip. Each default is the clean Windows behaviour; each fault is meant to break the
 * one requirement named beside it and nothing else.
 */
export interface DeviceBehaviour {
  /** Code for a Get of a missing node (MDM-STS-017). A 2xx code also returns a Results item with empty Data. */
  missingNodeGetCode: string;
  /**
   * Whether a failed Atomic restores the tree (MDM-CMD-ATO-002). When false the members' effects stay although their
   * Statuses still claim 216: the fault shows only when the tree is read back.
   */
  atomicRollback: boolean;
  /** Whether Sequence members run in document order (MDM-CMD-SEQ-001); false runs them in reverse, reported in order. */
  sequenceInOrder: boolean;
  /** Whether every command is answered (MDM-STS-004); false drops the Status of the last member of each container. */
  statusForEveryCommand: boolean;
  /** Results CmdRef = the Get's CmdID, or one more than it (MDM-RES-001). */
  resultsCmdRef: 'correct' | 'off-by-one';
  /** Code for an Add of an existing node (MDM-STS-018). */
  addExistingCode: string;
  /** Code for an Add, Replace or Delete the node's access does not grant (MDM-STS-019). */
  readOnlyWriteCode: string;
  /** Statuses in the order of the commands (MDM-STS-007), or that order reversed. */
  statusOrder: 'document' | 'reversed';
  /**
   * Percent-decode a whole LocURI before splitting it into segments, so that `%2F` acts as a separator: the
   * mistake MDM-XML-018 rules out (an escaped character is part of a node name).
   */
  decodeBeforeSplitting: boolean;
  /** Collapse `.` and `..` segments as a file path would, letting `./A/../B` reach B (a security advisory). */
  resolveDotSegments: boolean;
  /** Read a LocURI that starts with `/` as rooted at `./`, instead of refusing it (MDM-XML-015). */
  leadingSlashIsRoot: boolean;
  /** Read an empty segment (`//`) as no segment at all, as a file path would, instead of refusing it (MDM-XML-017). */
  collapseEmptySegments: boolean;
  /** Take an Item without Data as an empty value, instead of answering it as incomplete (MDM-XML-020). */
  missingDataIsEmpty: boolean;
  /** Code for a value whose Format, Type or content the node does not take (MDM-STS-020: 415). */
  badFormatCode: string;
  /** Code for an access-control denial (MDM-STS-021). */
  deniedCode: string;
  /** Code for a Replace of a node that does not exist (MDM-CMD-REP-002: an error). */
  replaceMissingCode: string;
  /** Code for a Delete of a node that does not exist (MDM-CMD-DEL-002: 404). */
  deleteMissingCode: string;
  /** Answer every Exec with 202 before finding out whether it can run at all (MDM-CMD-EXE-002: the launch outcome). */
  execAcceptsBeforeLaunch: boolean;
  /** Code for work accepted for asynchronous completion (MDM-STS-022: 202). */
  asyncAcceptedCode: string;
  /** Commands an Atomic may hold (A-10: Add, Delete, Replace, Exec); the others get 500 (MDM-CMD-GET-005, MDM-CMD-ATO-004). */
  atomicMembers: readonly string[];
  /** Check every member of an Atomic before running any (MDM-CMD-ATO-003); false runs them and fails at the first bad one. */
  atomicValidatesFirst: boolean;
  /** Code of a member whose effect a failed Atomic rolled back (MDM-CMD-ATO-006: 216). */
  rolledBackCode: string;
  /**
   * Members beyond which an Atomic's Statuses are taken not to fit one message and the Atomic fails with 517, its
   * members rolled back (MDM-CMD-ATO-007); 0 never: the Statuses are spread over several messages instead.
   */
  atomicStatusLimit: number;
  /** With atomicStatusLimit: keep the members' effects and report them as done despite the 517. */
  keepEffectsOn517: boolean;
  /** One Results per Get (MDM-RES-004), or one per Item of the Get. */
  resultsPerItem: boolean;
  /** Items of one command with different outcomes get one Status each (MDM-STS-009); false: one Status with the first Item's code. */
  statusPerItem: boolean;
  /** Put the Items' TargetRefs on the one Status that covers them all (MDM-STS-010 forbids it). */
  targetRefsOnSharedStatus: boolean;
  /** Answer a Sequence with the code of its first failing member instead of its own (MDM-STS-008). */
  sequenceTakesMemberCode: boolean;
  /** Meta of a command applies to its Items (MDM-RES-006), Meta of an Atomic or Sequence to its members (MDM-CMD-ATO-009). */
  commandMetaApplies: boolean;
  containerMetaApplies: boolean;
  /** Create missing interior ancestors of an added node (MDM-CMD-ADD-003); false answers 404. */
  implicitAdd: boolean;
  /** Name the ancestor an implicit Add could not create in an Item of the Status (MDM-CMD-ADD-004). */
  namesFailedAncestor: boolean;
  /** In a `mixed` session (MS-MDM 3.2.5.1.5), refuse settings of this scope with 405 as a session of the other scope would. */
  mixedSessionRefuses?: 'user' | 'device';
  /**
   * Code for provisioning a `./User` node (Add, Replace, Delete, Exec). The reference device is Entra-joined with no
   * Entra user signed in (its LoginStatus is `none`), so user provisioning fails (MDM-SES-020): 405, the code for a
   * command the session's scope does not allow (catalogue 3.5). A 2xx code pretends it was applied.
   */
  userScopeCode: string;
}

export const CLEAN_DEVICE_BEHAVIOUR: Readonly<DeviceBehaviour> = Object.freeze({
  missingNodeGetCode: '404',
  atomicRollback: true,
  sequenceInOrder: true,
  statusForEveryCommand: true,
  resultsCmdRef: 'correct',
  addExistingCode: '418',
  readOnlyWriteCode: '405',
  statusOrder: 'document',
  decodeBeforeSplitting: false,
  resolveDotSegments: false,
  leadingSlashIsRoot: false,
  collapseEmptySegments: false,
  missingDataIsEmpty: false,
  badFormatCode: '415',
  deniedCode: '425',
  replaceMissingCode: '404',
  deleteMissingCode: '404',
  execAcceptsBeforeLaunch: false,
  asyncAcceptedCode: '202',
  atomicMembers: Object.freeze(['Add', 'Delete', 'Replace', 'Exec']),
  atomicValidatesFirst: true,
  rolledBackCode: '216',
  atomicStatusLimit: 0,
  keepEffectsOn517: false,
  resultsPerItem: false,
  statusPerItem: true,
  targetRefsOnSharedStatus: false,
  sequenceTakesMemberCode: false,
  commandMetaApplies: true,
  containerMetaApplies: true,
  implicitAdd: true,
  namesFailedAncestor: true,
  userScopeCode: '405',
});

/** `./User/…` (and `./user/…`, WOMA) addresses the signed-in user's scope. */
const USER_SCOPE = /^\.\/[Uu]ser(\/|$)/;

export interface ExecutionContext {
  /** MsgID of the server message that carried the commands. */
  msgRef: string;
  behaviour?: Partial<DeviceBehaviour>;
  /**
   * The session's SyncType on an AVD multi-session host in multi-user mode (MS-MDM 3.2.5.1.5): a `user` session
   * refuses device-scoped settings and a `device` session user-scoped ones with 405 (MDM-CMD-ALT-011).
   */
  sessionScope?: SessionScope;
}

export type SessionScope = 'user' | 'device' | 'mixed';

export interface ExecutionOutcome {
  /** One per command (per Item when Item outcomes differ), containers before their members. */
  statuses: Status[];
  /** After all Statuses, as Windows lays out its replies (MDM-RES-007). */
  results: Results[];
}

export function executeCommands(tree: DmTree, commands: Command[], ctx: ExecutionContext): ExecutionOutcome {
  const run: Run = { tree, behaviour: { ...CLEAN_DEVICE_BEHAVIOUR, ...ctx.behaviour }, scope: ctx.sessionScope };
  const answers = commands.flatMap((command) => answer(run, command, []));
  const statuses = answers.flatMap((a) => renderStatuses(a, ctx.msgRef, run.behaviour, false));
  if (run.behaviour.statusOrder === 'reversed') statuses.reverse();
  return { statuses, results: answers.flatMap((a) => renderResults(a, ctx.msgRef, run.behaviour)) };
}

// ---------------------------------------------------------------------------------------------------------------
// Answers: the outcome of each command, before it is rendered as Status and Results elements

interface Run {
  tree: DmTree;
  behaviour: DeviceBehaviour;
  scope?: SessionScope;
}

interface ItemOutcome {
  code: string;
  /** The Item's Target LocURI as sent, for a per-Item Status (MDM-STS-009). */
  targetRef?: string;
  /** The ancestor an implicit Add could not create (MDM-CMD-ADD-004). */
  statusItem?: Item;
  /** What a successful Get returns for this Item. */
  result?: Item;
}

interface Answer {
  cmd: string;
  /** The command's CmdID; empty when it had none (MDM-XML-014, A-34). */
  cmdRef: string;
  outcomes: ItemOutcome[];
  members: Answer[];
  get: boolean;
}

type ItemCommand = Add | Replace | Delete | Get | Exec;
/** Meta of the enclosing containers, outermost first (MDM-CMD-ATO-009). */
type MetaChain = (Meta | undefined)[];

/** Alerts of the session and of large objects: 1225 tells the device the server abandoned its object (MDM-LO-014). */
const SESSION_ALERTS = new Set(['1222', '1223', '1225']);

/** The answers a command produces: none for a Status (it is never answered), otherwise one. */
function answer(run: Run, command: Command, metas: MetaChain): Answer[] {
  if (command.kind === 'Status') return [];
  const problem = ownProblem(command);
  if (problem) return refused(command, problem);
  switch (command.kind) {
    case 'Atomic': return [executeAtomic(run, command, metas)];
    case 'Sequence': return [executeSequence(run, command, metas)];
    case 'Alert': return [whole(command, alertCode(command))];
    // A DM server has nothing to report to a device.
    case 'Results': return [whole(command, '406')];
    case 'Unknown': return [whole(command, '400')];
    default: return [executeItems(run, command, metas)];
  }
}

/** 400 for an element that is not a DM command (MDM-XML-013) or a command without CmdID (MDM-XML-014). */
function ownProblem(command: Command): string | undefined {
  if (command.kind === 'Unknown' || cmdRefOf(command) === '') return '400';
  return undefined;
}

function alertCode(alert: Alert): string {
  return SESSION_ALERTS.has(codeOf(alert) ?? '') ? '200' : '406';
}

function cmdName(command: Command): string {
  return command.kind === 'Unknown' ? command.name : command.kind;
}

function cmdRefOf(command: Command): string {
  const id = command.cmdID;
  return id === undefined || id.trim() === '' ? '' : id;
}

function whole(command: Command, code: string, members: Answer[] = []): Answer {
  return { cmd: cmdName(command), cmdRef: cmdRefOf(command), outcomes: [{ code }], members, get: false };
}

function membersOf(command: Command): Command[] {
  return command.kind === 'Atomic' || command.kind === 'Sequence' ? command.commands : [];
}

/** A command answered with `code` without running; its members are not run either but still answered. */
function refused(command: Command, code: string): Answer[] {
  if (command.kind === 'Status') return [];
  return [whole(command, code, membersOf(command).flatMap(notExecuted))];
}

function notExecuted(command: Command): Answer[] {
  return refused(command, ownProblem(command) ?? '215');
}

function succeeded(a: Answer): boolean {
  return a.outcomes.every((o) => o.code.startsWith('2'));
}

// ---------------------------------------------------------------------------------------------------------------
// Containers

/**
 * Members allowed in an Atomic on Windows are Add, Delete, Replace and Exec. Get and nested Atomic get 500
 * (MDM-CMD-GET-005, MDM-CMD-ATO-004), and so does any other command Windows does not run atomically.
 */
function atomicMemberProblem(run: Run, command: Command): string | undefined {
  if (command.kind === 'Status') return undefined;
  const problem = ownProblem(command);
  if (problem) return problem;
  return run.behaviour.atomicMembers.includes(command.kind) ? undefined : '500';
}

/** All members valid before any runs (MDM-CMD-ATO-003), then all or nothing (MDM-CMD-ATO-002, MDM-CMD-ATO-006). */
function executeAtomic(run: Run, atomic: Atomic, metas: MetaChain): Answer {
  const problems = atomic.commands.map((m) => atomicMemberProblem(run, m));
  if (run.behaviour.atomicValidatesFirst && problems.some((p) => p !== undefined)) {
    return whole(atomic, '507', atomic.commands.flatMap((m, i) => (problems[i] ? refused(m, problems[i]) : notExecuted(m))));
  }
  const snapshot = run.tree.snapshot();
  const inner = [...metas, run.behaviour.containerMetaApplies ? atomic.meta : undefined];
  const ran: Answer[] = [];
  const skipped: Answer[] = [];
  atomic.commands.forEach((member, i) => {
    if (!ran.every(succeeded)) skipped.push(...notExecuted(member));
    else ran.push(...(problems[i] ? refused(member, problems[i]) : answer(run, member, inner)));
  });
  const limit = run.behaviour.atomicStatusLimit;
  if (limit > 0 && atomic.commands.length > limit) {
    // MDM-CMD-ATO-007: the Statuses cannot go out in one message and the outcome cannot be promised: 517.
    if (run.behaviour.keepEffectsOn517) return whole(atomic, '517', ran);
    run.tree.restore(snapshot);
    return whole(atomic, '517', ran.map((a) => rolledBack(a, run.behaviour)));
  }
  if (ran.every(succeeded)) return whole(atomic, '200', ran);
  if (run.behaviour.atomicRollback) run.tree.restore(snapshot);
  return whole(atomic, '507', [...ran.map((a) => rolledBack(a, run.behaviour)), ...skipped]);
}

/** What had succeeded in a failed Atomic is reported as rolled back (216). */
function rolledBack(a: Answer, behaviour: DeviceBehaviour): Answer {
  return { ...a, outcomes: a.outcomes.map((o) => (o.code.startsWith('2') ? { ...o, code: behaviour.rolledBackCode } : o)) };
}

/** Members in document order (MDM-CMD-SEQ-001), each with its own Status after the Sequence's (MDM-CMD-SEQ-004). */
function executeSequence(run: Run, sequence: Sequence, metas: MetaChain): Answer {
  const inner = [...metas, run.behaviour.containerMetaApplies ? sequence.meta : undefined];
  const order = sequence.commands.map((_, i) => i);
  if (!run.behaviour.sequenceInOrder) order.reverse();
  const answers: Answer[][] = [];
  for (const i of order) answers[i] = answer(run, sequence.commands[i], inner);
  const members = answers.flat();
  // The Sequence's own Status says it was processed; its members' outcomes are theirs (MDM-STS-008).
  const failed = members.flatMap((m) => m.outcomes).find((o) => !o.code.startsWith('2'));
  return whole(sequence, run.behaviour.sequenceTakesMemberCode && failed ? failed.code : '200', members);
}

// ---------------------------------------------------------------------------------------------------------------
// Item commands

function executeItems(run: Run, command: ItemCommand, metas: MetaChain): Answer {
  if (command.items.length === 0) return whole(command, '412');
  const outcomes = command.items.map((it) => itemOutcome(run, command, it, metas));
  return { cmd: command.kind, cmdRef: cmdRefOf(command), outcomes, members: [], get: command.kind === 'Get' };
}

function itemOutcome(run: Run, command: ItemCommand, it: Item, metas: MetaChain): ItemOutcome {
  const uri = it.target?.locURI;
  if (uri === undefined) return { code: '412' };
  if (command.kind !== 'Get' && USER_SCOPE.test(uri.trim())) return { code: run.behaviour.userScopeCode, targetRef: uri };
  const outcome = runItem(run, command.kind, uri, valueOf(it, command, metas, run.behaviour));
  return { ...outcome, targetRef: uri };
}

/**
 * The URI the tree is asked for. A clean device hands the LocURI over as sent: the tree splits it into segments
 * before decoding each (MDM-XML-018) and refuses `.`/`..` segments. The weak readings rewrite it first.
 */
function treeUri(sent: string, behaviour: DeviceBehaviour): string {
  let uri = sent;
  if (behaviour.leadingSlashIsRoot && uri.startsWith('/')) uri = `.${uri}`;
  if (behaviour.collapseEmptySegments) uri = uri.replace(/\/{2,}/g, '/');
  let segments: string[] | undefined;
  if (behaviour.decodeBeforeSplitting) {
    try {
      segments = decodeURIComponent(uri).split('/');
    } catch {
      return uri;
    }
  }
  if (behaviour.resolveDotSegments) {
    const raw = segments ?? uri.split('/').map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    });
    const out: string[] = [];
    for (const s of raw) {
      if (s === '..') out.pop();
      else if (s !== '.') out.push(s);
    }
    segments = out;
  } else if (segments?.[0] === '.') segments = segments.slice(1);
  return segments ? formatNodeUri(segments) : uri;
}

function runItem(run: Run, kind: ItemCommand['kind'], sent: string, init: ValueInit): Omit<ItemOutcome, 'targetRef'> {
  const { tree, behaviour } = run;
  const uri = treeUri(sent, behaviour);
  if (kind !== 'Get' && outOfScope(run, uri)) return { code: '405' };
  switch (kind) {
    case 'Get': return getOutcome(tree.get(uri), sent, behaviour);
    case 'Add': {
      const r = addNode(run, uri, init);
      return r.ok ? { code: '200' } : addFailure(r, uri, behaviour);
    }
    case 'Replace': {
      const r = tree.replace(uri, init);
      if (!r.ok && r.reason === 'not-found') return { code: behaviour.replaceMissingCode };
      return r.ok ? { code: r.async ? behaviour.asyncAcceptedCode : '200' } : { code: failureCode(r, behaviour) };
    }
    case 'Delete': {
      const r = tree.delete(uri);
      if (!r.ok && r.reason === 'not-found') return { code: behaviour.deleteMissingCode };
      return r.ok ? { code: '200' } : { code: failureCode(r, behaviour) };
    }
    case 'Exec': {
      const r = tree.exec(uri);
      // A device that queues every Exec answers before it knows whether the Exec can run at all.
      if (behaviour.execAcceptsBeforeLaunch) return { code: behaviour.asyncAcceptedCode };
      return r.ok ? { code: r.async ? behaviour.asyncAcceptedCode : '200' } : { code: failureCode(r, behaviour) };
    }
  }
}

/** An Add, creating missing ancestors only when the device does implicit Adds (MDM-CMD-ADD-003). */
function addNode(run: Run, uri: string, init: ValueInit): ReturnType<DmTree['add']> {
  if (!run.behaviour.implicitAdd) {
    const parsed = parseNodeUri(uri);
    if (parsed.ok && parsed.segments.length > 1 && !run.tree.has(formatNodeUri(parsed.segments.slice(0, -1)))) {
      return { ok: false, reason: 'not-found', uri: formatNodeUri(parsed.segments.slice(0, -1)), detail: 'the parent does not exist' };
    }
  }
  return run.tree.add(uri, init);
}

/** `./User/…` addresses the enrolled user's settings; everything else is device-scoped (catalogue 3.11, MDM-SES-018). */
function scopeOf(uri: string): 'user' | 'device' {
  return /^(\.\/)?[Uu]ser(\/|$)/.test(uri) ? 'user' : 'device';
}

/** A setting the session's SyncType does not take (MDM-CMD-ALT-011): device-scoped in a user session, and vice versa. */
function outOfScope(run: Run, uri: string): boolean {
  if (!run.scope) return false;
  const scope = scopeOf(uri);
  if (run.scope === 'mixed') return run.behaviour.mixedSessionRefuses === scope;
  return scope !== run.scope;
}

/** Results data for a Get: the requested URI, Format always, Type when not text/plain (MDM-RES-002, MDM-RES-003). */
function getOutcome(r: ReturnType<DmTree['get']>, uri: string, behaviour: DeviceBehaviour): Omit<ItemOutcome, 'targetRef'> {
  if (r.ok) {
    const type = r.type === DEFAULT_TYPE ? undefined : r.type;
    return { code: '200', result: item({ source: uri, format: r.format, type, data: r.data }) };
  }
  if (r.reason !== 'not-found') return { code: failureCode(r, behaviour) };
  const code = behaviour.missingNodeGetCode;
  return code.startsWith('2') ? { code, result: item({ source: uri, format: 'chr', data: '' }) } : { code };
}

/** When an implicit ancestor could not be created, the Status names it in an Item (MDM-CMD-ADD-004). */
function addFailure(r: TreeFailure, uri: string, behaviour: DeviceBehaviour): Omit<ItemOutcome, 'targetRef'> {
  const code = failureCode(r, behaviour);
  const parsed = parseNodeUri(uri);
  const implicit = behaviour.namesFailedAncestor && (r.reason === 'read-only' || r.reason === 'not-allowed') && parsed.ok && formatNodeUri(parsed.segments) !== r.uri;
  return implicit ? { code, statusItem: item({ target: r.uri }) } : { code };
}

const FAILURE_CODES: Record<FailureReason, (b: DeviceBehaviour) => string> = {
  'invalid-uri': () => '400',
  'not-found': () => '404',
  exists: (b) => b.addExistingCode,
  'read-only': (b) => b.readOnlyWriteCode,
  'not-allowed': () => '405',
  unsupported: () => '406',
  denied: (b) => b.deniedCode,
  'bad-format': (b) => b.badFormatCode,
  incomplete: () => '412',
};

function failureCode(r: TreeFailure, behaviour: DeviceBehaviour): string {
  return FAILURE_CODES[r.reason](behaviour);
}

/** Format, Type and Data of an Item, Meta looked up on the Item, then the command, then the containers. */
function valueOf(it: Item, command: ItemCommand, metas: MetaChain, behaviour: DeviceBehaviour): ValueInit {
  const chain = [...metas, behaviour.commandMetaApplies ? command.meta : undefined, it.meta].reverse();
  const field = (name: string) => chain.map((m) => metaValue(m, name)).find((v) => v !== undefined);
  const init: ValueInit = {};
  const format = field('Format');
  const type = field('Type');
  if (format !== undefined) init.format = format;
  if (type !== undefined) init.type = type;
  if (it.data !== undefined) init.value = it.data.text;
  else if (behaviour.missingDataIsEmpty) init.value = '';
  return init;
}

// ---------------------------------------------------------------------------------------------------------------
// Rendering

function renderStatuses(a: Answer, msgRef: string, behaviour: DeviceBehaviour, dropOwn: boolean): Status[] {
  const own = dropOwn ? [] : statusesOf(a, msgRef, behaviour);
  const last = a.members.length - 1;
  const members = a.members.flatMap((m, i) => renderStatuses(m, msgRef, behaviour, !behaviour.statusForEveryCommand && i === last));
  return [...own, ...members];
}

/** One Status without TargetRef when all Items agree (MDM-STS-010), else one per Item with TargetRef (MDM-STS-009). */
function statusesOf(a: Answer, msgRef: string, behaviour: DeviceBehaviour): Status[] {
  const base = { msgRef, cmdRef: a.cmdRef, cmd: a.cmd };
  const [first] = a.outcomes;
  if (a.outcomes.every((o) => o.code === first.code) || !behaviour.statusPerItem) {
    const items = a.outcomes.flatMap((o) => (o.statusItem ? [o.statusItem] : []));
    const shared = behaviour.targetRefsOnSharedStatus && a.outcomes.length > 1;
    const targetRefs = shared ? a.outcomes.flatMap((o) => (o.targetRef === undefined ? [] : [o.targetRef])) : [];
    return [status({ ...base, code: first.code, items, targetRefs })];
  }
  return a.outcomes.map((o) => {
    const targetRefs = o.targetRef === undefined ? [] : [o.targetRef];
    return status({ ...base, code: o.code, targetRefs, items: o.statusItem ? [o.statusItem] : [] });
  });
}

/** One Results per Get with at least one successful Item, holding those Items; `Cmd` = `Get` as Windows sends. */
function renderResults(a: Answer, msgRef: string, behaviour: DeviceBehaviour): Results[] {
  const items = a.outcomes.flatMap((o) => (o.result ? [o.result] : []));
  const groups = behaviour.resultsPerItem ? items.map((it) => [it]) : [items];
  const own = a.get && items.length ? groups.map((g) => results({ msgRef, cmdRef: resultsCmdRef(a.cmdRef, behaviour), cmd: 'Get', items: g })) : [];
  return [...own, ...a.members.flatMap((m) => renderResults(m, msgRef, behaviour))];
}

function resultsCmdRef(cmdRef: string, behaviour: DeviceBehaviour): string {
  if (behaviour.resultsCmdRef === 'correct') return cmdRef;
  const n = Number(cmdRef);
  return Number.isInteger(n) ? String(n + 1) : `${cmdRef}1`;
}
