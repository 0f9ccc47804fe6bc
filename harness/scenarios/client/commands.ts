/**
 * Client scenarios that provoke what the command, status and alert checks need to see (catalogue S3, S4, S8, S10,
 * column "client under test"): Items that fare differently in one command, a Sequence with a failing member, values
 * holding markup, Meta given at command and Atomic level, implicit Adds, an Atomic too big for one reply, the
 * SyncApplicationVersion gates of Windows, and server messages numbered or ordered unusually.
 *
 * Every node comes from the node map; nodes the harness creates carry a fresh tag and are deleted again.
 */
import { ALERT_TYPES } from '../../checks/client/alerts';
import type { Finding } from '../../checks/finding';
import { label, trimmed, type SessionView } from '../../checks/session';
import { add, atomic, codeOf, del, exec, get, item, meta, metaValue, MSFT_NS, replace, sequence, type Atomic, type Command, type Replace } from '../../syncml';
import { formatNodeUri, parseNodeUri } from '../../device/tree';
import type { Scenario } from '../scenario';
import { expectStatus, expectValue, notSent, resultsFor, sentCommand, statusFor, type CommandMatch } from './expect';
import { freshTag, nodesOf, oneSession, prepared, serverFor, session, unmapped, type ClientNodes, type ClientUnderTest } from './target';

type ClientScenario = Scenario<ClientUnderTest>;

/** A value holding markup, as policy CSPs take them (MDM-XML-009), and one holding "&" (MDM-XML-001). */
const XML_VALUE = '<Setting name="harness"><Enabled>1</Enabled></Setting>';
const URL_VALUE = 'https://mdm.example/policy?a=1&b=2';

const notApplicable = (id: string, check: string, evidence: string): Finding => ({ id, verdict: 'not-applicable', check, evidence });

/** A command (or a member of it) whose Item Data is exactly `value`. */
function carries(value: string): (c: Command) => boolean {
  const visit = (c: Command): boolean =>
    ('items' in c && c.items.some((it) => it.data?.text === value)) || ((c.kind === 'Atomic' || c.kind === 'Sequence') && c.commands.some(visit));
  return visit;
}

/** Canonical form of a node URI, so that `DevInfo/X` and `./DevInfo/X` name the same node. */
function canonical(uri: string): string {
  const parsed = parseNodeUri(uri);
  return parsed.ok ? formatNodeUri(parsed.segments) : uri;
}

/**
 * MDM-CMD-ADD-004: an Add whose missing ancestor cannot be created fails with the code an Add of that ancestor would
 * get, and the Status names the ancestor in an Item Target.
 */
function judgeFailedAncestor(v: SessionView, match: CommandMatch, ancestor: string, check: string): Finding {
  const id = 'MDM-CMD-ADD-004';
  const sent = sentCommand(v, match);
  if (!sent) return notSent(match, id, check);
  const answer = statusFor(v, sent);
  if (!answer) return { id, verdict: 'fail', check, evidence: `${label(sent.msg)} ${sent.path}: the device returned no Status for the ${match.label}` };
  const at = `${label(answer.msg)} ${answer.path}`;
  if (answer.code.startsWith('2')) return { id, verdict: 'inconclusive', check, evidence: `${at}/Data: the ${match.label} was answered ${answer.code}: the device could create ${ancestor}, so no ancestor failed` };
  if (answer.code === '404') return { id, verdict: 'inconclusive', check, evidence: `${at}/Data: the ${match.label} was answered 404: the device creates no missing ancestors (implicit Add, MDM-CMD-ADD-003), so none failed` };
  const named = answer.status.items.map((it) => trimmed(it.target?.locURI));
  return named.some((uri) => canonical(uri) === canonical(ancestor))
    ? { id, verdict: 'pass', check, evidence: `${at}: ${answer.code}, with an Item naming the ancestor ${ancestor} that could not be created` }
    : { id, verdict: 'fail', check, evidence: `${at}: ${answer.code} for the ${match.label}, but no Item Target names the ancestor ${ancestor} that could not be created${named.length ? ` (Items name ${named.join(', ')})` : ''}` };
}

export const statusesItemsValues: ClientScenario = {
  id: 'management-rounds/statuses-items-values',
  phase: 'management-multi-round',
  title: 'sends a Get whose Items fare differently, a Sequence with a failing member, values holding markup and "&", Meta at command and Atomic level, implicit Adds, an Exec of a leaf that cannot run and a write the device must deny',
  requirements: ['MDM-CMD-EXE-002', 'MDM-STS-021', 'MDM-CMD-ADD-003', 'MDM-CMD-ADD-004', 'MDM-RES-006', 'MDM-CMD-ATO-009'],
  async run(t, log) {
    const n = nodesOf(t);
    const check = this.id;
    const tag = freshTag(log);
    const [missingOne, missingTwo] = [`${n.interiorNode}/${tag}-a`, `${n.interiorNode}/${tag}-b`];
    const ancestor = `${n.interiorNode}/${tag}-anc`;
    const round1: Command[] = [
      get(n.readableLeaf, missingOne), // MDM-STS-009: one Item found, one not
      sequence(get(missingTwo), get(n.readableLeaf)), // MDM-STS-008: the Sequence is processed though a member fails
      exec(n.readableLeaf), // MDM-CMD-EXE-002: a Get-only leaf cannot be launched
      add(`${ancestor}/${tag}`, 'x', { format: 'chr' }), // MDM-CMD-ADD-004: the ancestor cannot be created
    ];
    const round2: Command[] = [];
    const round3: Command[] = [];
    if (n.largeObjectFlag) round1.push(get(n.largeObjectFlag)); // what a spread generic alert is judged by (MDM-CMD-ALT-008)
    if (n.deniedNode) round1.push(replace(n.deniedNode, tag));
    const mine = n.addableParent && `${n.addableParent}/${tag}`;
    const implicit = n.addableParent && `${n.addableParent}/${tag}-implicit`;
    if (mine && implicit && n.addableLeafName) {
      round1.push(add(mine), add(`${mine}/${n.addableLeafName}`, XML_VALUE, { format: 'chr' }), add(`${implicit}/${n.addableLeafName}`, tag, { format: 'chr' }));
      round2.push(get(`${mine}/${n.addableLeafName}`), get(`${implicit}/${n.addableLeafName}`));
      round3.push(del(mine), del(implicit));
    }
    if (n.writableChrLeaf) {
      round1.push(replace(n.writableChrLeaf, URL_VALUE));
      round2.push(get(n.writableChrLeaf));
    }
    const [viaCommand, viaAtomic] = ['21', '22'];
    if (n.writableIntLeaf) {
      const commandMeta: Replace = { kind: 'Replace', meta: meta({ format: 'int' }), items: [item({ target: n.writableIntLeaf, data: viaCommand })] };
      const atomicMeta: Atomic = { kind: 'Atomic', meta: meta({ format: 'int' }), commands: [{ kind: 'Replace', items: [item({ target: n.writableIntLeaf, data: viaAtomic })] }] };
      round1.push(commandMeta, atomicMeta);
      round2.push(get(n.writableIntLeaf));
    }
    const run = await oneSession(t, log, { rounds: prepared(n, [round1, round2, round3].filter((r) => r.length)) }, { check });
    if (!run.connected) return;
    const v = run.view;
    const findings: Finding[] = [
      expectStatus(v, { kind: 'Exec', target: n.readableLeaf, label: `Exec of ${n.readableLeaf}, a leaf that can only be read (nodes.readableLeaf)` }, 'non-2xx', 'MDM-CMD-EXE-002', check,
        'the Status of an Exec reports its launch outcome, and a node without Exec access cannot be launched'),
      judgeFailedAncestor(v, { kind: 'Add', target: `${ancestor}/${tag}`, label: `Add of ${ancestor}/${tag}, whose parent cannot be created below ${n.interiorNode}` }, ancestor, check),
      n.deniedNode
        ? expectStatus(v, { kind: 'Replace', target: n.deniedNode, label: `Replace of ${n.deniedNode} (nodes.deniedNode)` }, '425', 'MDM-STS-021', check, 'an access-control denial is answered 425')
        : notApplicable('MDM-STS-021', check, unmapped(n, 'deniedNode')!),
    ];
    if (mine && implicit && n.addableLeafName) {
      const leaf = `${implicit}/${n.addableLeafName}`;
      const added = expectStatus(v, { kind: 'Add', target: leaf, label: `Add of ${leaf}, whose parent ${implicit} does not exist` }, ['200', '202'], 'MDM-CMD-ADD-003', check, 'Windows creates missing interior ancestors (implicit Add)');
      findings.push(added.verdict === 'pass' ? expectValue(v, { kind: 'Get', target: leaf }, leaf, tag, 'MDM-CMD-ADD-003', check, 'the implicitly added node holds its value') : added);
    } else {
      findings.push(notApplicable('MDM-CMD-ADD-003', check, unmapped(n, 'addableParent', 'addableLeafName')!));
    }
    if (n.writableIntLeaf) {
      const w = n.writableIntLeaf;
      findings.push(
        expectStatus(v, { kind: 'Replace', target: w, where: (c) => c.kind === 'Replace' && !!c.meta && carries(viaCommand)(c), label: `Replace of ${w} whose Format int is given in the command's Meta only` }, '200', 'MDM-RES-006', check,
          'Meta of a command applies to all its Items'),
        expectStatus(v, { kind: 'Replace', target: w, where: (c) => c.kind === 'Replace' && !c.meta && carries(viaAtomic)(c), label: `Replace of ${w} in an Atomic whose Meta gives Format int` }, '200', 'MDM-CMD-ATO-009', check,
          'Meta of an Atomic applies to its members'),
      );
    } else {
      for (const id of ['MDM-RES-006', 'MDM-CMD-ATO-009']) findings.push(notApplicable(id, check, unmapped(n, 'writableIntLeaf')!));
    }
    log.add(findings);
  },
};

/** Members of the Atomic whose Statuses are meant to overflow one reply (MDM-CMD-ATO-007). */
const BIG_ATOMIC = 60;

export const atomicStatusesSpread: ClientScenario = {
  id: 'large-objects/atomic-statuses-spread',
  phase: 'large-object',
  title: `sends an Atomic of ${BIG_ATOMIC} Adds, whose Statuses may not fit one reply: they are spread only when the members ran together, or the Atomic fails with 517 and is rolled back; then deletes what it added`,
  requirements: ['MDM-CMD-ATO-007'],
  feature: 'atomic',
  notApplicable: (t) => unmapped(nodesOf(t), 'addableParent'),
  async run(t, log) {
    const n = nodesOf(t) as Required<ClientNodes>;
    const check = this.id;
    const tag = freshTag(log);
    // Entries of the harness's own below nodes.addableParent, as the management scenarios add them, removed again.
    const entries = Array.from({ length: BIG_ATOMIC }, (_, i) => `${n.addableParent}/${tag}-${i + 1}`);
    const run = await oneSession(t, log, { rounds: prepared(n, [[atomic(...entries.map((uri) => add(uri)))], [del(...entries)]]) }, { check });
    if (!run.connected) return;
    const sent = sentCommand(run.view, { kind: 'Atomic', where: (c) => c.kind === 'Atomic' && c.commands.length === BIG_ATOMIC });
    if (!sent) return log.add([notSent({ kind: 'Atomic', label: `Atomic of ${BIG_ATOMIC} Adds` }, 'MDM-CMD-ATO-007', check)]);
    const own = statusFor(run.view, sent);
    const carriers = new Set(run.view.exchanges.filter((x) => x.request.n > sent.msg.n && x.request.syncml?.body.commands.some((c) => c.kind === 'Status' && trimmed(c.msgRef) === sent.msgID)).map((x) => x.request.n));
    // The passive check judges what a spread or a 517 says; here only whether the situation arose.
    if (own && own.code !== '517' && carriers.size < 2) {
      log.add([{ id: 'MDM-CMD-ATO-007', verdict: 'inconclusive', check, evidence: `${label(own.msg)}: the Statuses of the Atomic of ${BIG_ATOMIC} Adds fit one reply (answered ${own.code}), so neither spreading nor 517 arose` }]);
    }
  },
};

/** The SyncApplicationVersion node's sibling that says how far the server may raise it (MDM-SES-015). */
const maxOf = (uri: string) => uri.replace(/[^/]+$/, 'MaxSyncApplicationVersion');

export const syncApplicationVersionGates: ClientScenario = {
  id: 'management-rounds/sync-application-version',
  phase: 'management-multi-round',
  title: 'reads MaxSyncApplicationVersion, raises SyncApplicationVersion (to 5.0 where allowed) and judges the next session: the msft namespace, msft:originalerror on a failure, and the SyncType scope of an AVD multi-session host; then restores the value',
  requirements: ['MDM-XML-006', 'MDM-XML-007', 'MDM-CMD-ALT-011'],
  notApplicable: (t) => unmapped(nodesOf(t), 'syncApplicationVersion'),
  async run(t, log) {
    const n = nodesOf(t);
    const check = this.id;
    const node = n.syncApplicationVersion!; // mapped, or the scenario is not applicable
    const server = await serverFor(t, log, { rounds: [[get(node), get(maxOf(node))]] });
    try {
      const read = await session(t, log, server, { check });
      if (!read.connected) return;
      const value = (uri: string) => {
        const sent = sentCommand(read.view, { kind: 'Get', target: uri });
        const text = sent && resultsFor(read.view, sent).get(uri)?.data;
        return text === undefined ? undefined : Number(text);
      };
      const original = value(node);
      const max = value(maxOf(node));
      if (original === undefined || max === undefined || !Number.isFinite(original) || !Number.isFinite(max)) {
        const why = `${node} or its sibling MaxSyncApplicationVersion could not be read, so the version gates cannot be judged; map nodes.syncApplicationVersion to the node of this server's enrollment (its ProviderID)`;
        return log.add(['MDM-XML-006', 'MDM-XML-007', 'MDM-CMD-ALT-011'].map((id) => ({ id, verdict: 'inconclusive' as const, check, evidence: why })));
      }
      const target = max >= 5 ? 5 : max >= 3 ? 3 : undefined;
      if (target === undefined) {
        return log.add(['MDM-XML-006', 'MDM-XML-007', 'MDM-CMD-ALT-011'].map((id) => notApplicable(id, check, `MaxSyncApplicationVersion is ${max}: the msft extensions need 3.0 and SyncType 5.0`)));
      }
      const raise = target > original;
      if (raise) {
        server.reference.queue(t.deviceId, replace(node, target.toFixed(1)));
        const raised = await session(t, log, server, { check });
        const sent = raised.connected ? sentCommand(raised.view, { kind: 'Replace', target: node }) : undefined;
        const answer = sent && statusFor(raised.view, sent);
        if (!answer?.code.startsWith('2')) {
          const why = `the device did not take SyncApplicationVersion ${target.toFixed(1)} (${answer ? `answered ${answer.code}` : 'no answer'})`;
          return log.add(['MDM-XML-006', 'MDM-XML-007', 'MDM-CMD-ALT-011'].map((id) => ({ id, verdict: 'inconclusive' as const, check, evidence: why })));
        }
      }
      const missing = `${n.interiorNode}/${freshTag(log)}`;
      const writes: Command[] = [get(node), get(missing)];
      if (n.writableIntLeaf) writes.push(replace(n.writableIntLeaf, '9', { format: 'int' }));
      if (n.userScopedLeaf) writes.push(replace(n.userScopedLeaf, 'harness'));
      server.reference.queueRounds(t.deviceId, ...(raise ? [writes, [replace(node, original.toFixed(1))]] : [writes]));
      const gated = await session(t, log, server, { check });
      if (!gated.connected) return;
      if (raise) {
        const sent = sentCommand(gated.view, { kind: 'Replace', target: node });
        const restored = sent && statusFor(gated.view, sent);
        log.note(`SyncApplicationVersion restored to ${original.toFixed(1)}: ${restored ? `answered ${restored.code}` : 'not answered'} (Windows keeps 2.0 once set, MDM-SES-015)`);
      }
      const kept = (() => {
        const sent = sentCommand(gated.view, { kind: 'Get', target: node });
        const text = sent && resultsFor(gated.view, sent).get(node)?.data;
        return text === undefined ? undefined : Number(text);
      })();
      if (kept === undefined || kept < target) {
        const why = `in the session after it was set, ${node} reads ${kept ?? '(nothing)'}, not ${target.toFixed(1)}: the device did not keep the setting, so what it gates cannot be judged`;
        return log.add(['MDM-XML-006', 'MDM-XML-007', 'MDM-CMD-ALT-011'].map((id) => ({ id, verdict: 'inconclusive' as const, check, evidence: why })));
      }
      log.add([
        ...judgeMsftExtensions(gated.view, missing, target, check),
        ...judgeSessionScope(gated.view, n, target, check),
      ]);
    } finally {
      await server.stop();
    }
  },
};

/** MDM-XML-006 on every message of the session; MDM-XML-007 on the Status of the Get of a missing node. */
function judgeMsftExtensions(v: SessionView, missing: string, version: number, check: string): Finding[] {
  const set = `with SyncApplicationVersion ${version.toFixed(1)} set in the session before`;
  const without = v.exchanges.map((x) => x.request).filter((m) => m.syncml && m.syncml.body.attrs?.['xmlns:msft'] !== MSFT_NS);
  const namespace: Finding = without.length
    ? { id: 'MDM-XML-006', verdict: 'fail', check, evidence: `${label(without[0])} /SyncBody: no xmlns:msft="${MSFT_NS}" ${set}` }
    : { id: 'MDM-XML-006', verdict: 'pass', check, evidence: `every message declares xmlns:msft on SyncBody ${set}` };
  const sent = sentCommand(v, { kind: 'Get', target: missing });
  const answer = sent && statusFor(v, sent);
  if (!answer || answer.code.startsWith('2')) {
    return [namespace, { id: 'MDM-XML-007', verdict: 'inconclusive', check, evidence: `the Get of the missing node ${missing} was ${answer ? `answered ${answer.code}` : 'not answered'}, so no failure Status arose` }];
  }
  const error = answer.status.data?.attrs?.['msft:originalerror'];
  const at = `${label(answer.msg)} ${answer.path}/Data`;
  return [namespace, error !== undefined && /^0x[0-9A-Fa-f]{8}$/.test(error.trim())
    ? { id: 'MDM-XML-007', verdict: 'pass', check, evidence: `${at}: ${answer.code} carries msft:originalerror="${error}"` }
    : { id: 'MDM-XML-007', verdict: 'fail', check, evidence: `${at}: ${answer.code} ${error === undefined ? 'without msft:originalerror' : `with msft:originalerror "${error}", not a hex error`} ${set}` }];
}

/**
 * MDM-CMD-ALT-011: a `user` session refuses device-scoped settings with 405, a `device` session user-scoped ones, and
 * a `mixed` session takes both. Only an AVD multi-session host in multi-user mode reports a SyncType.
 */
function judgeSessionScope(v: SessionView, n: ClientNodes, version: number, check: string): Finding[] {
  const id = 'MDM-CMD-ALT-011';
  const first = v.exchanges[0]?.request.syncml;
  const event = first?.body.commands.flatMap((c) => (c.kind === 'Alert' && codeOf(c) === '1224' ? c.items : [])).find((it) => metaValue(it.meta, 'Type') === ALERT_TYPES.syncType);
  const scope = event ? trimmed(event.data?.text) : undefined;
  if (scope && !['user', 'device', 'mixed'].includes(scope)) {
    return [{ id, verdict: 'inconclusive', check, evidence: `the SyncType "${scope}" is none of user, device, mixed (MDM-CMD-ALT-010), so which settings the session takes cannot be told` }];
  }
  if (!scope) {
    const why = version < 5 ? `SyncApplicationVersion is ${version.toFixed(1)}; SyncType needs 5.0` : 'package 1 carries no SyncType (Alert 1224 com.microsoft.mdm.synctype): the device is no AVD multi-session host in multi-user mode';
    return [notApplicable(id, check, why)];
  }
  const out: Finding[] = [];
  const expect = (uri: string | undefined, scopeOf: 'device' | 'user', role: string) => {
    if (!uri) return;
    const refused = scope !== 'mixed' && scope !== scopeOf;
    out.push(expectStatus(v, { kind: 'Replace', target: uri, label: `Replace of the ${scopeOf}-scoped ${uri} (nodes.${role}) in a ${scope} session` }, refused ? '405' : ['200', '202'], id, check,
      refused ? `a ${scope} session refuses ${scopeOf}-scoped settings with 405` : `a ${scope} session takes ${scopeOf}-scoped settings`));
  };
  expect(n.writableIntLeaf, 'device', 'writableIntLeaf');
  expect(n.userScopedLeaf, 'user', 'userScopedLeaf');
  return out.length ? out : [notApplicable(id, check, `${unmapped(n, 'writableIntLeaf', 'userScopedLeaf')}`)];
}

export const unusualServerMessages: ClientScenario = {
  id: 'robustness/unusual-numbering-and-order',
  phase: 'robustness',
  title: 'numbers the commands of a server message from 7 with gaps, then puts a TargetRef after a Status\'s Data: the client answers the Gets as usual',
  requirements: ['MDM-ID-004', 'MDM-STS-002'],
  async run(t, log) {
    const n = nodesOf(t);
    const check = this.id;
    const [other] = n.readableLeaves;
    const gaps = await oneSession(t, log, { malformedReply: 'cmdid-gaps', rounds: [[get(n.readableLeaf), get(other)]] }, { check });
    if (gaps.connected) {
      log.add([n.readableLeaf, other].map((uri) => expectStatus(gaps.view, { kind: 'Get', target: uri, label: `Get of ${uri} in a message numbered from 7 with gaps` }, '200', 'MDM-ID-004', check,
        'CmdIDs need not start at 1 nor be contiguous; the Status names the Get by its CmdID as sent')));
    }
    const order = await oneSession(t, log, { malformedReply: 'status-refs-after-data', rounds: [[get(n.readableLeaf)]] }, { check });
    if (order.connected) {
      log.add([expectStatus(order.view, { kind: 'Get', target: n.readableLeaf, label: `Get of ${n.readableLeaf} in a message whose Status for the DevInfo Replace has TargetRef after Data` }, '200', 'MDM-STS-002', check,
        'a receiver takes TargetRef/SourceRef after Data, the order MS-MDM 2.2.6.1 prints')]);
    }
  },
};

export const COMMAND_SCENARIOS: readonly ClientScenario[] = [statusesItemsValues, syncApplicationVersionGates, atomicStatusesSpread, unusualServerMessages];
