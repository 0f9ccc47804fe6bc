/**
 * Client scenarios of the management-multi-round phase (catalogue S3 and S4, column "client under test"): Add,
 * Replace, Delete, Exec, Sequence and Atomic over several rounds, each outcome compared with the code Windows
 * documents, and each effect read back with Get in a later round.
 *
 * Node URIs come from the target's node map, so every finding that depends on a node names it; nodes the
 * harness creates carry a fresh tag, so a vendor's device that kept state from an earlier run is not misjudged.
 */
import type { Finding } from '../../checks/finding';
import type { SessionView } from '../../checks/session';
import { add, atomic, del, exec, get, replace, sequence, type Command } from '../../syncml';
import type { Scenario } from '../scenario';
import { addresses, expectStatus, expectValue, resultsFor, sentCommand, type CommandMatch } from './expect';
import { freshTag, nodesOf, oneSession, type ClientUnderTest } from './target';

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

export const commandsOverRounds: ClientScenario = {
  id: 'management-rounds/add-replace-delete-exec-sequence',
  phase: 'management-multi-round',
  title: 'sends Add, Replace, Delete, Exec and a Sequence over three rounds, expecting the documented codes and reading every effect back',
  requirements: [
    'MDM-STS-004', 'MDM-STS-018', 'MDM-STS-019', 'MDM-STS-020', 'MDM-STS-022', 'MDM-CMD-REP-002', 'MDM-CMD-DEL-002',
    'MDM-CMD-EXE-002', 'MDM-CMD-SEQ-001', 'MDM-CMD-SEQ-004', 'MDM-SES-010', 'MDM-HDR-005', 'MDM-HDR-008',
  ],
  async run(t, log) {
    const n = nodesOf(t);
    const check = this.id;
    const tag = freshTag(log);
    const mine = `${n.writableParent}/${tag}`;
    const gone = `${n.writableParent}/${tag}-gone`;
    const [first, second] = [`${tag}-first`, `${tag}-second`];
    const rounds: Command[][] = [
      [
        add(mine),
        add(`${mine}/Value`, 'added', { format: 'chr' }),
        add(n.existing, 'again', { format: 'chr' }),
        replace(n.readOnly, 'overwritten'),
        del(n.readOnly),
        replace(n.unsupported, '2', { format: 'int' }),
        replace(n.int, 'seven', { format: 'int' }),
        replace(n.int, '7', { format: 'int' }),
        replace(`./DevInfo/${tag}`, 'x'),
        exec(n.exec),
        exec(n.execAsync),
        del(n.permanent),
        del(gone),
        sequence(replace(n.text, first), get(n.text), replace(n.text, second)),
      ],
      [get(`${mine}/Value`), get(n.int), get(n.text), del(mine)],
      [get(mine), get(`${mine}/Value`)],
    ];
    const run = await oneSession(t, log, { rounds }, { check });
    if (!run.connected) return;
    const v = run.view;
    const cmd = (kind: string, target: string, what: string, nth = 1): CommandMatch => ({ kind, target, nth, label: `${kind} of ${what}` });
    const findings: Finding[] = [
      expectStatus(v, cmd('Add', n.existing, `the existing node ${n.existing} (nodes.existing)`), '418', 'MDM-STS-018', check),
      expectStatus(v, cmd('Replace', n.readOnly, `the read-only node ${n.readOnly} (nodes.readOnly)`), '405', 'MDM-STS-019', check),
      expectStatus(v, cmd('Delete', n.readOnly, `the read-only node ${n.readOnly} (nodes.readOnly)`), '405', 'MDM-STS-019', check),
      expectStatus(v, cmd('Replace', n.unsupported, `the unsupported node ${n.unsupported} (nodes.unsupported)`), '406', 'MDM-STS-020', check),
      expectStatus(v, cmd('Replace', n.int, `the int node ${n.int} with "seven" (nodes.int)`), '415', 'MDM-STS-020', check),
      expectStatus(v, cmd('Replace', n.int, `the int node ${n.int} with 7 (nodes.int)`, 2), '200', 'MDM-CMD-REP-002', check),
      expectStatus(v, cmd('Replace', `./DevInfo/${tag}`, `the missing DevInfo node ./DevInfo/${tag}`), 'non-2xx', 'MDM-CMD-REP-002', check,
        'Replace of a node that does not exist is an error, explicitly so for DevInfo (A-25)'),
      expectStatus(v, cmd('Exec', n.exec, `the executable node ${n.exec} (nodes.exec)`), ['200', '202'], 'MDM-CMD-EXE-002', check),
      expectStatus(v, cmd('Exec', n.execAsync, `the long-running node ${n.execAsync} (nodes.execAsync)`), ['200', '202'], 'MDM-CMD-EXE-002', check),
      expectStatus(v, cmd('Exec', n.execAsync, `the long-running node ${n.execAsync} (nodes.execAsync)`), ['200', '202'], 'MDM-STS-022', check),
      expectStatus(v, cmd('Delete', n.permanent, `the permanent node ${n.permanent} (nodes.permanent)`), '405', 'MDM-CMD-DEL-002', check),
      expectStatus(v, cmd('Delete', gone, `the missing node ${gone}`), '404', 'MDM-CMD-DEL-002', check),
      expectValue(v, cmd('Get', n.int, `${n.int} in round 2`), n.int, '7', 'MDM-CMD-REP-002', check, 'the Replace of round 1 overwrote the value'),
      expectValue(v, { kind: 'Get', target: n.text, nth: 1, label: `Get of ${n.text} inside the Sequence` }, n.text, first, 'MDM-CMD-SEQ-001', check,
        `Sequence members run in order: Replace "${first}", then this Get, then Replace "${second}"`),
      expectValue(v, { kind: 'Get', target: n.text, nth: 2, label: `Get of ${n.text} in round 2` }, n.text, second, 'MDM-CMD-SEQ-001', check,
        'the last member of the Sequence ran last'),
    ];
    // The subtree was there in round 2, so its absence in round 3 is the Delete's doing (MDM-CMD-DEL-002).
    if (valueOf(v, cmd('Get', `${mine}/Value`, `${mine}/Value in round 2`), `${mine}/Value`) === 'added') {
      findings.push(
        expectStatus(v, cmd('Delete', mine, `the node ${mine} the harness added`), '200', 'MDM-CMD-DEL-002', check),
        expectStatus(v, cmd('Get', mine, `${mine} after its Delete`), '404', 'MDM-CMD-DEL-002', check, 'Delete removes the node'),
        expectStatus(v, cmd('Get', `${mine}/Value`, `${mine}/Value after the Delete of its parent`, 2), '404', 'MDM-CMD-DEL-002', check,
          'Delete removes the whole subtree'),
      );
    } else {
      log.note(`the Add of ${mine}/Value did not take effect, so the Delete of a subtree could not be judged`);
    }
    log.add(findings);
  },
};

/** Baseline values read in round 1, compared with what the same Get returns after the Atomics of round 2. */
function unchanged(v: SessionView, uri: string, nthAfter: number, id: string, check: string, why: string): Finding {
  const before = valueOf(v, { kind: 'Get', target: uri, nth: 1 }, uri);
  const match: CommandMatch = { kind: 'Get', target: uri, nth: nthAfter, label: `Get of ${uri} after the Atomics` };
  if (before === undefined) return { id, verdict: 'inconclusive', check, evidence: `${uri} could not be read before the Atomics, so a change cannot be told` };
  return expectValue(v, match, uri, before, id, check, why);
}

export const atomicCommands: ClientScenario = {
  id: 'management-rounds/atomic',
  phase: 'management-multi-round',
  title: 'sends a succeeding Atomic, a failing one, a nested Atomic and a Get inside an Atomic, then reads the nodes back',
  requirements: ['MDM-CMD-ATO-002', 'MDM-CMD-ATO-003', 'MDM-CMD-ATO-004', 'MDM-CMD-ATO-006', 'MDM-CMD-GET-005', 'MDM-STS-004'],
  feature: 'atomic',
  async run(t, log) {
    const n = nodesOf(t);
    const check = this.id;
    const tag = freshTag(log);
    const ok = `${n.writableParent}/${tag}-ok`;
    const rolled = `${n.writableParent}/${tag}-rolled`;
    const gone = `${n.writableParent}/${tag}-gone`;
    const rounds: Command[][] = [
      [get(n.int), get(n.text), get(n.existing)],
      [
        atomic(add(ok), add(`${ok}/Value`, 'v', { format: 'chr' })),
        atomic(replace(n.int, '11', { format: 'int' }), add(rolled), del(gone)),
        atomic(replace(n.text, `${tag}-outer`), atomic(replace(n.existing, `${tag}-inner`))),
        atomic(replace(n.existing, `${tag}-beside-get`), get(n.existing)),
      ],
      [get(n.int), get(rolled), get(n.text), get(n.existing), del(ok)],
    ];
    const run = await oneSession(t, log, { rounds }, { check });
    if (!run.connected) return;
    const v = run.view;
    const succeeding: CommandMatch = { kind: 'Atomic', where: addresses(ok), label: `Atomic adding ${ok}` };
    const failing: CommandMatch = { kind: 'Atomic', where: addresses(rolled), label: `Atomic of Replace ${n.int}, Add ${rolled} and Delete of the missing ${gone}` };
    const outer: CommandMatch = { kind: 'Atomic', where: (c) => c.kind === 'Atomic' && c.commands.some((m) => m.kind === 'Atomic'), label: 'Atomic holding a nested Atomic' };
    const inner: CommandMatch = { kind: 'Atomic', where: (c) => c.kind === 'Atomic' && c.commands.every((m) => m.kind !== 'Atomic') && carries(`${tag}-inner`)(c), label: 'nested Atomic' };
    const withGet: CommandMatch = { kind: 'Atomic', where: (c) => c.kind === 'Atomic' && c.commands.some((m) => m.kind === 'Get'), label: 'Atomic holding a Get' };
    const member = (kind: string, target: string, label: string): CommandMatch => ({ kind, target, label });
    const findings: Finding[] = [
      expectStatus(v, succeeding, '200', 'MDM-CMD-ATO-006', check),
      expectStatus(v, member('Add', ok, `Add of ${ok} in the succeeding Atomic`), ['200', '202'], 'MDM-CMD-ATO-006', check),
      expectStatus(v, failing, '507', 'MDM-CMD-ATO-006', check),
      expectStatus(v, { kind: 'Replace', target: n.int, where: carries('11'), label: `Replace of ${n.int} in the failing Atomic (nodes.int)` }, ['216', '516'], 'MDM-CMD-ATO-006', check,
        'a member that ran before the failure is rolled back (216), or reports 516 when it could not be'),
      expectStatus(v, member('Add', rolled, `Add of ${rolled} in the failing Atomic`), ['216', '516'], 'MDM-CMD-ATO-006', check),
      expectStatus(v, member('Delete', gone, `Delete of the missing ${gone} in the failing Atomic`), '404', 'MDM-CMD-ATO-006', check,
        'the member that failed reports its own error'),
      unchanged(v, n.int, 2, 'MDM-CMD-ATO-002', check, 'the failed Atomic rolled its Replace back'),
      expectStatus(v, { kind: 'Get', target: rolled, label: `Get of ${rolled}, added by the failed Atomic` }, '404', 'MDM-CMD-ATO-002', check,
        'the failed Atomic rolled its Add back'),
      expectStatus(v, outer, '507', 'MDM-CMD-ATO-004', check),
      expectStatus(v, inner, '500', 'MDM-CMD-ATO-004', check),
      unchanged(v, n.text, 2, 'MDM-CMD-ATO-003', check, 'no member of an Atomic with a nested Atomic runs'),
      expectStatus(v, { kind: 'Get', target: n.existing, nth: 2, label: `Get of ${n.existing} inside an Atomic` }, '500', 'MDM-CMD-GET-005', check),
      expectStatus(v, withGet, '507', 'MDM-CMD-GET-005', check),
      unchanged(v, n.existing, 3, 'MDM-CMD-ATO-003', check, 'no member of an Atomic holding a Get runs'),
    ];
    log.add(findings);
  },
};

export const MANAGEMENT_SCENARIOS: readonly ClientScenario[] = [commandsOverRounds, atomicCommands];
