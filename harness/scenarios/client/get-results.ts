/**
 * Client scenarios of the get-result phase (catalogue S2, column "client under test"): a Get of a leaf, of an
 * interior node, of a missing node and of several nodes at once, each answered by Status and Results that point
 * back at the Get.
 */
import type { Finding } from '../../checks/finding';
import { label, trimmed, type SessionView } from '../../checks/session';
import { get } from '../../syncml';
import type { Scenario } from '../scenario';
import { describe, expectStatus, notSent, resultsFor, sentCommand, statusFor, type CommandMatch } from './expect';
import { freshTag, nodesOf, oneSession, type ClientUnderTest } from './target';

type ClientScenario = Scenario<ClientUnderTest>;

/**
 * The Results of a successful Get: found by MsgRef/CmdRef, `Cmd` absent or Get (MDM-RES-001), one Item per node
 * asked for, naming it in Source with a Data (MDM-RES-002).
 */
function judgeResults(view: SessionView, match: CommandMatch, check: string): Finding[] {
  const sent = sentCommand(view, match);
  if (!sent) return [notSent(match, 'MDM-RES-001', check)];
  const answer = statusFor(view, sent);
  if (answer?.code !== '200') return []; // a refused Get owes no Results; its Status is judged on its own
  const results = view.exchanges.flatMap((x) => (x.request.syncml?.body.commands ?? [])
    .filter((c) => c.kind === 'Results' && trimmed(c.msgRef) === sent.msgID && trimmed(c.cmdRef) === sent.cmdID)
    .map((c) => ({ c, m: x.request })));
  const what = `the ${describe(match)} (msg ${sent.msgID} CmdID ${sent.cmdID})`;
  if (!results.length) {
    return [{ id: 'MDM-RES-001', verdict: 'fail', check, evidence: `${label(answer.msg)} ${answer.path}: ${what} was answered 200 but no Results carries MsgRef ${sent.msgID} and CmdRef ${sent.cmdID}` }];
  }
  const out: Finding[] = [];
  const badCmd = results.find(({ c }) => c.kind === 'Results' && c.cmd !== undefined && trimmed(c.cmd) !== 'Get');
  out.push(badCmd
    ? { id: 'MDM-RES-001', verdict: 'fail', check, evidence: `${label(badCmd.m)}: the Results for ${what} has Cmd "${trimmed(badCmd.c.kind === 'Results' ? badCmd.c.cmd : '')}"; it is absent or Get (A-05)` }
    : { id: 'MDM-RES-001', verdict: 'pass', check, evidence: `${label(results[0].m)}: Results for ${what} carries MsgRef ${sent.msgID} and CmdRef ${sent.cmdID}` });
  const items = resultsFor(view, sent);
  const asked = sent.command.kind === 'Get' ? sent.command.items.map((it) => trimmed(it.target?.locURI)) : [];
  const missing = asked.filter((uri) => !items.has(uri));
  const withoutData = results.flatMap(({ c }) => (c.kind === 'Results' ? c.items : [])).filter((it) => it.data === undefined).map((it) => trimmed(it.source?.locURI));
  out.push(missing.length || withoutData.length
    ? { id: 'MDM-RES-002', verdict: 'fail', check, evidence: `${label(results[0].m)}: Results for ${what} ${missing.length ? `names no Item Source ${missing.join(', ')}` : `has Items without Data (${withoutData.join(', ')})`}` }
    : { id: 'MDM-RES-002', verdict: 'pass', check, evidence: `${label(results[0].m)}: one Item with Source and Data for each of ${asked.join(', ')}` });
  return out;
}

/** Format in the Results of one node (MDM-RES-003): `expected` is the format the node has; chr may go unstated. */
function judgeFormat(view: SessionView, match: CommandMatch, uri: string, expected: string, check: string, id = 'MDM-RES-003'): Finding | undefined {
  const sent = sentCommand(view, match);
  const item = sent && resultsFor(view, sent).get(uri);
  if (!item) return undefined;
  const format = item.format ?? 'chr';
  const at = `${label(item.msg)} ${item.path}/Item/Meta/Format`;
  return format === expected
    ? { id, verdict: 'pass', check, evidence: `${at}: ${uri} reported with Format ${item.format ?? '(default chr)'}` }
    : { id, verdict: 'fail', check, evidence: `${at}: ${uri} reported with Format ${item.format ?? '(none, meaning chr)'}; expected ${expected}` };
}

/** A Get of an interior node lists its children, URI-encoded, in Data (MDM-CMD-GET-004). */
function judgeChildList(view: SessionView, match: CommandMatch, uri: string, children: string[], check: string): Finding | undefined {
  const sent = sentCommand(view, match);
  const item = sent && resultsFor(view, sent).get(uri);
  if (!item) return undefined;
  const listed = item.data.split('/').filter(Boolean);
  const absent = children.filter((c) => !listed.includes(encodeURIComponent(c)));
  const at = `${label(item.msg)} ${item.path}/Item/Data`;
  return absent.length
    ? { id: 'MDM-CMD-GET-004', verdict: 'fail', check, evidence: `${at}: ${uri} lists "${item.data}", without ${absent.join(', ')} (children expected per nodes.interiorChildren)` }
    : { id: 'MDM-CMD-GET-004', verdict: 'pass', check, evidence: `${at}: ${uri} lists its children "${item.data}"` };
}

export const getResults: ClientScenario = {
  id: 'get-results/leaf-interior-missing-several',
  phase: 'get-result',
  title: 'Gets a leaf, an interior node, a missing node, an int leaf and several leaves in one Get, and judges Statuses and Results',
  requirements: [
    'MDM-CMD-GET-002', 'MDM-CMD-GET-004', 'MDM-RES-001', 'MDM-RES-002', 'MDM-RES-003', 'MDM-RES-004', 'MDM-STS-003',
    'MDM-STS-004', 'MDM-STS-007', 'MDM-STS-017', 'MDM-ID-005', 'MDM-ID-006',
  ],
  async run(t, log) {
    const n = nodesOf(t);
    const check = this.id;
    const missingUri = `${n.interiorNode}/${freshTag(log)}`;
    const leaf: CommandMatch = { kind: 'Get', target: n.readableLeaf, label: `Get of the leaf ${n.readableLeaf} (nodes.readableLeaf)` };
    const interior: CommandMatch = { kind: 'Get', target: n.interiorNode, label: `Get of the interior node ${n.interiorNode} (nodes.interiorNode)` };
    const missing: CommandMatch = { kind: 'Get', target: missingUri, label: `Get of the missing node ${missingUri}` };
    const several: CommandMatch = { kind: 'Get', target: n.readableLeaves[0], label: `Get of ${n.readableLeaves.join(', ')} (nodes.readableLeaves)` };
    const int: CommandMatch | undefined = n.readableIntLeaf ? { kind: 'Get', target: n.readableIntLeaf, label: `Get of the int leaf ${n.readableIntLeaf} (nodes.readableIntLeaf)` } : undefined;
    const gets = [get(n.readableLeaf), get(n.interiorNode), get(missingUri), get(...n.readableLeaves), ...(n.readableIntLeaf ? [get(n.readableIntLeaf)] : [])];
    const run = await oneSession(t, log, { rounds: [gets] }, { check });
    if (!run.connected) return;
    const v = run.view;
    const findings: (Finding | undefined)[] = [
      expectStatus(v, leaf, '200', 'MDM-CMD-GET-002', check),
      expectStatus(v, several, '200', 'MDM-CMD-GET-002', check),
      expectStatus(v, interior, '200', 'MDM-CMD-GET-004', check),
      expectStatus(v, missing, '404', 'MDM-STS-017', check),
      ...judgeResults(v, leaf, check),
      ...judgeResults(v, several, check),
      ...judgeResults(v, interior, check),
      judgeChildList(v, interior, n.interiorNode, n.interiorChildren, check),
      judgeFormat(v, interior, n.interiorNode, 'node', check),
      int ? judgeFormat(v, int, n.readableIntLeaf!, 'int', check) : undefined,
      judgeFormat(v, leaf, n.readableLeaf, 'chr', check),
    ];
    log.add(findings.filter((f): f is Finding => f !== undefined));
  },
};

export const GET_RESULT_SCENARIOS: readonly ClientScenario[] = [getResults];
