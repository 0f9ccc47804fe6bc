/**
 * Client scenarios of the management-multi-round phase (catalogue S3 and S4, column "client under test"): Add,
 * Replace, Delete, Exec, Sequence and Atomic over several rounds, each outcome compared with the code Windows
 * documents, and each effect read back with Get in a later round.
 *
 * Node URIs come from the node map (`nodes` of the capability profile): a rule whose node role is not mapped is not
 * applicable, never failed; nodes the harness creates carry a fresh tag, so a device that kept state from an earlier
 * run is not misjudged.
 */
import type { Finding } from '../../checks/finding';
import { label, type SessionView } from '../../checks/session';
import { add, atomic, del, exec, get, replace, sequence, type Command } from '../../syncml';
import type { Scenario } from '../scenario';
import { addresses, expectStatus, expectValue, notSent, resultsFor, sentCommand, statusFor, type CommandMatch } from './expect';
import { freshTag, nodesOf, oneSession, prepared, ranToServerClose, unmapped, type ClientNodes, type ClientUnderTest, type NodeRole } from './target';

type ClientScenario = Scenario<ClientUnderTest>;

/** A command (or a member of it) whose Item Data is exactly `value`. */
function carries(value: string): (c: Command) => boolean {
  const visit = (c: Command): boolean =>
    ('items' in c && c.items.some((it) => it.data?.text === value)) || ((c.kind === 'Atomic' || c.kind === 'Sequence') && c.commands.some(visit));
  return visit;
}

/** The value a Get returned, when it returned one. */
function valueOf(view: SessionView, match: CommandMatch, uri: string): string | undefined {
  const sent = sentCommand(view, match);
  return sent && resultsFor(view, sent).get(uri)?.data;
}

/** Findings of rules whose node roles are mapped; a not-applicable finding, with the role, for each one that is not. */
class Plan {
  readonly rounds: Command[][] = [[], [], []];
  readonly judges: ((v: SessionView) => Finding | Finding[])[] = [];
  readonly skipped: Finding[] = [];
  constructor(private readonly n: ClientNodes, private readonly check: string) {}

  /** Sends `commands` in the given rounds and judges them, when every role is mapped. */
  when(roles: NodeRole[], ids: string[], send: (n: Required<ClientNodes>) => Command[][], judge: (v: SessionView, n: Required<ClientNodes>) => Finding | Finding[]): void {
    const missing = unmapped(this.n, ...roles);
    if (missing) {
      for (const id of ids) this.skipped.push({ id, verdict: 'not-applicable', check: this.check, evidence: missing });
      return;
    }
    const n = this.n as Required<ClientNodes>;
    send(n).forEach((commands, round) => this.rounds[round].push(...commands));
    this.judges.push((v) => judge(v, n));
  }
}

export const commandsOverRounds: ClientScenario = {
  id: 'management-rounds/add-replace-delete-exec-sequence',
  phase: 'management-multi-round',
  title: 'sends Add, Replace, Delete, Exec and a Sequence over three rounds, expecting the documented codes and reading every effect back',
  requirements: [
    'MDM-STS-004', 'MDM-STS-018', 'MDM-STS-019', 'MDM-STS-020', 'MDM-STS-022', 'MDM-CMD-REP-002', 'MDM-CMD-DEL-002',
    'MDM-CMD-EXE-002', 'MDM-CMD-SEQ-001', 'MDM-CMD-SEQ-004', 'MDM-SES-010', 'MDM-HDR-005', 'MDM-HDR-008', 'MDM-SES-012',
    'MDM-SES-020',
  ],
  async run(t, log) {
    const check = this.id;
    const tag = freshTag(log);
    const plan = new Plan(nodesOf(t), check);
    const cmd = (kind: string, target: string, what: string, nth = 1): CommandMatch => ({ kind, target, nth, label: `${kind} of ${what}` });
    const missingDevInfo = `./DevInfo/${tag}`;

    plan.when(['addableParent', 'addableLeafName'], ['MDM-STS-018', 'MDM-CMD-DEL-002'], (n) => {
      const mine = `${n.addableParent}/${tag}`;
      return [[add(mine), add(`${mine}/${n.addableLeafName}`, 'added', { format: 'chr' }), add(mine)], [get(`${mine}/${n.addableLeafName}`), del(mine)], [get(mine), get(`${mine}/${n.addableLeafName}`)]];
    }, (v, n) => {
      const mine = `${n.addableParent}/${tag}`;
      const leaf = `${mine}/${n.addableLeafName}`;
      const out: Finding[] = [expectStatus(v, cmd('Add', mine, `${mine}, which the harness had just added`, 2), '418', 'MDM-STS-018', check)];
      // The subtree was there in round 2, so its absence in round 3 is the Delete's doing (MDM-CMD-DEL-002).
      if (valueOf(v, cmd('Get', leaf, `${leaf} in round 2`), leaf) === 'added') {
        out.push(
          expectStatus(v, cmd('Delete', mine, `the node ${mine} the harness added`), '200', 'MDM-CMD-DEL-002', check),
          expectStatus(v, cmd('Get', mine, `${mine} after its Delete`), '404', 'MDM-CMD-DEL-002', check, 'Delete removes the node'),
          expectStatus(v, cmd('Get', leaf, `${leaf} after the Delete of its parent`, 2), '404', 'MDM-CMD-DEL-002', check, 'Delete removes the whole subtree'),
        );
      } else {
        log.note(`the Add of ${leaf} did not take effect, so the Delete of a subtree could not be judged`);
      }
      return out;
    });
    plan.when(['readOnlyLeaf'], ['MDM-STS-019'], (n) => [[replace(n.readOnlyLeaf, 'overwritten'), del(n.readOnlyLeaf)]], (v, n) => [
      expectStatus(v, cmd('Replace', n.readOnlyLeaf, `the read-only node ${n.readOnlyLeaf} (nodes.readOnlyLeaf)`), '405', 'MDM-STS-019', check),
      expectStatus(v, cmd('Delete', n.readOnlyLeaf, `the read-only node ${n.readOnlyLeaf} (nodes.readOnlyLeaf)`), '405', 'MDM-STS-019', check),
    ]);
    plan.when(['unsupportedNode'], ['MDM-STS-020'], (n) => [[replace(n.unsupportedNode, '2', { format: 'int' })]], (v, n) =>
      expectStatus(v, cmd('Replace', n.unsupportedNode, `the unsupported node ${n.unsupportedNode} (nodes.unsupportedNode)`), '406', 'MDM-STS-020', check));
    plan.when(['writableIntLeaf'], ['MDM-STS-020', 'MDM-CMD-REP-002'], (n) => [
      [replace(n.writableIntLeaf, 'seven', { format: 'int' }), replace(n.writableIntLeaf, '7', { format: 'int' })], [get(n.writableIntLeaf)],
    ], (v, n) => [
      expectStatus(v, cmd('Replace', n.writableIntLeaf, `the int node ${n.writableIntLeaf} with "seven" (nodes.writableIntLeaf)`), '415', 'MDM-STS-020', check),
      expectStatus(v, cmd('Replace', n.writableIntLeaf, `the int node ${n.writableIntLeaf} with 7 (nodes.writableIntLeaf)`, 2), '200', 'MDM-CMD-REP-002', check),
      expectValue(v, cmd('Get', n.writableIntLeaf, `${n.writableIntLeaf} in round 2`), n.writableIntLeaf, '7', 'MDM-CMD-REP-002', check, 'the Replace of round 1 overwrote the value'),
    ]);
    // DevInfo is every device's: a Replace of a DevInfo node that does not exist is an error there.
    plan.when([], ['MDM-CMD-REP-002'], () => [[replace(missingDevInfo, 'x')]], (v) =>
      expectStatus(v, cmd('Replace', missingDevInfo, `the missing DevInfo node ${missingDevInfo}`), 'non-2xx', 'MDM-CMD-REP-002', check,
        'Replace of a node that does not exist is an error, explicitly so for DevInfo (A-25)'));
    plan.when(['executableNode'], ['MDM-CMD-EXE-002'], (n) => [[exec(n.executableNode, n.executableData)]], (v, n) =>
      expectStatus(v, cmd('Exec', n.executableNode, `the executable node ${n.executableNode} (nodes.executableNode)`), ['200', '202'], 'MDM-CMD-EXE-002', check));
    plan.when(['asyncExecutableNode'], ['MDM-CMD-EXE-002', 'MDM-STS-022'], (n) => [[exec(n.asyncExecutableNode, n.asyncExecutableData)]], (v, n) => {
      const what = cmd('Exec', n.asyncExecutableNode, `the long-running node ${n.asyncExecutableNode} (nodes.asyncExecutableNode)`);
      const launched = expectStatus(v, what, ['200', '202'], 'MDM-CMD-EXE-002', check);
      // MDM-STS-022 (a MAY) is exercised by a 202 only: a device that completes the work at once said nothing about it.
      const accepted = expectStatus(v, what, '202', 'MDM-STS-022', check);
      return [launched, accepted.verdict === 'fail' && launched.verdict === 'pass'
        ? { id: 'MDM-STS-022', verdict: 'inconclusive', check, evidence: `${accepted.evidence.replace(/: expected 202, found 200.*/, '')}: answered 200, as though the work were done; 202 (accepted for asynchronous completion) did not arise` }
        : accepted];
    });
    plan.when(['permanentNode'], ['MDM-CMD-DEL-002'], (n) => [[del(n.permanentNode)]], (v, n) =>
      expectStatus(v, cmd('Delete', n.permanentNode, `the permanent node ${n.permanentNode} (nodes.permanentNode)`), '405', 'MDM-CMD-DEL-002', check));
    plan.when(['addableParent'], ['MDM-CMD-DEL-002'], (n) => [[del(`${n.addableParent}/${tag}-gone`)]], (v, n) =>
      expectStatus(v, cmd('Delete', `${n.addableParent}/${tag}-gone`, `the missing node ${n.addableParent}/${tag}-gone`), '404', 'MDM-CMD-DEL-002', check));
    // WKI: on an Entra-joined device, ./User provisioning fails while the signed-in user is not an Entra user.
    plan.when(['userNodeWithoutEntraUser'], ['MDM-SES-020'], (n) => [[replace(n.userNodeWithoutEntraUser, tag, { format: 'chr' })]], (v, n) =>
      expectStatus(v, cmd('Replace', n.userNodeWithoutEntraUser, `the ./User node ${n.userNodeWithoutEntraUser} (nodes.userNodeWithoutEntraUser)`), 'non-2xx', 'MDM-SES-020', check,
        'the device is Entra-joined and no Entra user is signed in, so provisioning the user scope fails'));
    const [first, second] = [`${tag}-first`, `${tag}-second`];
    plan.when(['writableChrLeaf'], ['MDM-CMD-SEQ-001'], (n) => [
      [sequence(replace(n.writableChrLeaf, first), get(n.writableChrLeaf), replace(n.writableChrLeaf, second))], [get(n.writableChrLeaf)],
    ], (v, n) => [
      expectValue(v, { kind: 'Get', target: n.writableChrLeaf, nth: 1, label: `Get of ${n.writableChrLeaf} inside the Sequence` }, n.writableChrLeaf, first, 'MDM-CMD-SEQ-001', check,
        `Sequence members run in order: Replace "${first}", then this Get, then Replace "${second}"`),
      expectValue(v, { kind: 'Get', target: n.writableChrLeaf, nth: 2, label: `Get of ${n.writableChrLeaf} in round 2` }, n.writableChrLeaf, second, 'MDM-CMD-SEQ-001', check,
        'the last member of the Sequence ran last'),
    ]);

    // The reference server holds user configuration while nobody is signed in (MDM-SES-019); here it must reach the
    // device, to see the device refuse it (MDM-SES-020).
    const run = await oneSession(t, log, { rounds: prepared(nodesOf(t), plan.rounds.filter((r) => r.length)), behaviour: { holdUserScopeWithoutUser: false } }, { check });
    log.add(plan.skipped);
    if (!run.connected) return;
    log.add(plan.judges.flatMap((judge) => judge(run.view)));
    const ended = ranToServerClose(run, check);
    if (ended) log.add([ended]);
  },
};

/** Baseline values read in round 1, compared with what the same Get returns after the Atomics of round 2. */
function unchanged(v: SessionView, uri: string, nthAfter: number, id: string, check: string, why: string): Finding {
  const before = valueOf(v, { kind: 'Get', target: uri, nth: 1 }, uri);
  const match: CommandMatch = { kind: 'Get', target: uri, nth: nthAfter, label: `Get of ${uri} after the Atomics` };
  if (before === undefined) return { id, verdict: 'inconclusive', check, evidence: `${uri} could not be read before the Atomics, so a change cannot be told` };
  return expectValue(v, match, uri, before, id, check, why);
}

/**
 * MDM-CMD-ATO-003: a member of an Atomic that holds an invalid member is not run at all. A code that says it ran (200,
 * 202) or ran and was undone (216, 516) shows the device checked the members only as it went.
 */
function notRun(v: SessionView, match: CommandMatch, check: string): Finding {
  const id = 'MDM-CMD-ATO-003';
  const sent = sentCommand(v, match);
  if (!sent) return notSent(match, id, check);
  const answer = statusFor(v, sent, match.target);
  if (!answer) return { id, verdict: 'fail', check, evidence: `${label(sent.msg)} ${sent.path}: the device returned no Status for the ${match.label}` };
  const at = `${label(answer.msg)} ${answer.path}/Data`;
  return RAN.has(answer.code)
    ? { id, verdict: 'fail', check, evidence: `${at}: ${answer.code} for the ${match.label}: it ran${answer.code.startsWith('2') ? '' : ' and was rolled back'}, though an Atomic with an invalid member runs none of them` }
    : { id, verdict: 'pass', check, evidence: `${at}: ${answer.code} for the ${match.label}: not run, as an Atomic with an invalid member runs none` };
}

/** Codes that say a command ran: done, accepted, or done and rolled back (or failing to be). */
const RAN = new Set(['200', '202', '216', '516']);

/** A failure that follows from `root`, when there is one (one cause, one failure). */
function following(f: Finding, root: string | undefined): Finding {
  return root && f.verdict === 'fail' ? { ...f, consequenceOf: root } : f;
}

export const atomicCommands: ClientScenario = {
  id: 'management-rounds/atomic',
  phase: 'management-multi-round',
  title: 'sends a succeeding Atomic, a failing one, a nested Atomic and a Get inside an Atomic, then reads the nodes back',
  requirements: ['MDM-CMD-ATO-002', 'MDM-CMD-ATO-003', 'MDM-CMD-ATO-004', 'MDM-CMD-ATO-006', 'MDM-CMD-GET-005', 'MDM-STS-004'],
  feature: 'atomic',
  notApplicable: (t) => unmapped(nodesOf(t), 'addableParent', 'addableLeafName', 'writableIntLeaf', 'writableChrLeaf'),
  async run(t, log) {
    const n = nodesOf(t) as Required<ClientNodes>;
    const check = this.id;
    const tag = freshTag(log);
    const ok = `${n.addableParent}/${tag}-ok`;
    const rolled = `${n.addableParent}/${tag}-rolled`;
    const gone = `${n.addableParent}/${tag}-gone`;
    const int = n.writableIntLeaf;
    const text = n.writableChrLeaf;
    const rounds: Command[][] = [
      [get(int), get(text)],
      [
        atomic(add(ok), add(`${ok}/${n.addableLeafName}`, 'v', { format: 'chr' })),
        atomic(replace(int, '11', { format: 'int' }), add(rolled), del(gone)),
        atomic(replace(text, `${tag}-outer`), atomic(replace(int, '12', { format: 'int' }))),
        atomic(replace(int, '13', { format: 'int' }), get(text)),
      ],
      [get(int), get(rolled), get(text), del(ok)],
    ];
    const run = await oneSession(t, log, { rounds: prepared(n, rounds) }, { check });
    if (!run.connected) return;
    const v = run.view;
    const succeeding: CommandMatch = { kind: 'Atomic', where: addresses(ok), label: `Atomic adding ${ok}` };
    const failing: CommandMatch = { kind: 'Atomic', where: addresses(rolled), label: `Atomic of Replace ${int}, Add ${rolled} and Delete of the missing ${gone}` };
    const outer: CommandMatch = { kind: 'Atomic', where: (c) => c.kind === 'Atomic' && c.commands.some((m) => m.kind === 'Atomic'), label: 'Atomic holding a nested Atomic' };
    const inner: CommandMatch = { kind: 'Atomic', where: (c) => c.kind === 'Atomic' && c.commands.every((m) => m.kind !== 'Atomic') && carries('12')(c), label: 'nested Atomic' };
    const withGet: CommandMatch = { kind: 'Atomic', where: (c) => c.kind === 'Atomic' && c.commands.some((m) => m.kind === 'Get'), label: 'Atomic holding a Get' };
    const member = (kind: string, target: string, label: string): CommandMatch => ({ kind, target, label });
    // A nested Atomic or a Get that was run changes what the Atomics around them leave behind: one cause, one failure.
    const nested = [expectStatus(v, outer, '507', 'MDM-CMD-ATO-004', check), expectStatus(v, inner, '500', 'MDM-CMD-ATO-004', check)];
    const getInAtomic = [
      expectStatus(v, { kind: 'Get', target: text, nth: 2, label: `Get of ${text} inside an Atomic` }, '500', 'MDM-CMD-GET-005', check),
      expectStatus(v, withGet, '507', 'MDM-CMD-GET-005', check),
    ];
    const nestedRan = nested.some((f) => f.verdict === 'fail') ? 'MDM-CMD-ATO-004' : undefined;
    const getRan = getInAtomic.some((f) => f.verdict === 'fail') ? 'MDM-CMD-GET-005' : undefined;
    const intAfter = valueOf(v, { kind: 'Get', target: int, nth: 2 }, int);
    const intRoot = intAfter === '12' ? nestedRan : intAfter === '13' ? getRan : undefined;
    const findings: Finding[] = [
      expectStatus(v, succeeding, '200', 'MDM-CMD-ATO-006', check),
      expectStatus(v, member('Add', ok, `Add of ${ok} in the succeeding Atomic`), ['200', '202'], 'MDM-CMD-ATO-006', check),
      expectStatus(v, failing, '507', 'MDM-CMD-ATO-006', check),
      expectStatus(v, { kind: 'Replace', target: int, where: carries('11'), label: `Replace of ${int} in the failing Atomic (nodes.writableIntLeaf)` }, ['216', '516'], 'MDM-CMD-ATO-006', check,
        'a member that ran before the failure is rolled back (216), or reports 516 when it could not be'),
      expectStatus(v, member('Add', rolled, `Add of ${rolled} in the failing Atomic`), ['216', '516'], 'MDM-CMD-ATO-006', check),
      expectStatus(v, member('Delete', gone, `Delete of the missing ${gone} in the failing Atomic`), '404', 'MDM-CMD-ATO-006', check,
        'the member that failed reports its own error'),
      following(unchanged(v, int, 2, 'MDM-CMD-ATO-002', check, 'the failed Atomics rolled their Replaces back'), intRoot),
      expectStatus(v, { kind: 'Get', target: rolled, label: `Get of ${rolled}, added by the failed Atomic` }, '404', 'MDM-CMD-ATO-002', check,
        'the failed Atomic rolled its Add back'),
      ...nested,
      following(unchanged(v, text, 3, 'MDM-CMD-ATO-003', check, 'no member of an Atomic with a nested Atomic runs'), nestedRan),
      following(notRun(v, { kind: 'Replace', target: text, where: carries(`${tag}-outer`), label: `Replace of ${text} beside the nested Atomic` }, check), nestedRan),
      ...getInAtomic,
      following(notRun(v, { kind: 'Replace', target: int, where: carries('13'), label: `Replace of ${int} beside the Get in an Atomic` }, check), getRan),
    ];
    log.add(findings);
  },
};

export const MANAGEMENT_SCENARIOS: readonly ClientScenario[] = [commandsOverRounds, atomicCommands];
