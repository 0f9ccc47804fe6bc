/**
 * Client scenarios of the large-object phase (catalogue S8, column "client under test"; OMA-DMP 6 and 7): objects
 * the server sends in chunks (whole, misdeclared, interrupted), Results too large for one of the client's
 * messages, and a server SyncHdr carrying MaxMsgSize.
 */
import type { Finding } from '../../checks/finding';
import { commandsWithPaths, label, trimmed, type SessionView, type WireMessage } from '../../checks/session';
import { codeOf, get, metaValue, replace, type Results } from '../../syncml';
import type { Scenario } from '../scenario';
import { expectStatus, expectValue, resultsFor, sentCommand, show, type CommandMatch } from './expect';
import { freshTag, nodesOf, oneSession, unmapped, type ClientUnderTest } from './target';

type ClientScenario = Scenario<ClientUnderTest>;

/** Data bytes per chunk the server uses: small, so a few kilobytes make several chunks. */
const CHUNK_BYTES = 1_000;

/** Text of `n` characters whose escaping (`<`, `&`) changes length, so chunk boundaries fall inside escapes. */
export function payload(n: number, tag = ''): string {
  const unit = `large-object ${tag} <chunk> & data 0123456789 `;
  return unit.repeat(Math.ceil(n / unit.length)).slice(0, n);
}

const lastChunk = (uri: string): CommandMatch => ({
  kind: 'Replace', target: uri, where: (c) => 'items' in c && !c.items.some((it) => it.moreData), label: `last chunk of the Replace of ${uri} (nodes.text)`,
});

export const serverObjectInChunks: ClientScenario = {
  id: 'large-objects/server-object-in-chunks',
  phase: 'large-object',
  title: `sends a Replace of a few kilobytes in chunks of ${CHUNK_BYTES} bytes without being asked to: each chunk is acknowledged with 213, the object is applied whole`,
  requirements: ['MDM-LO-002', 'MDM-LO-003', 'MDM-LO-010', 'MDM-LO-012', 'MDM-LO-015'],
  feature: 'large-objects',
  notApplicable: (t) => unmapped(nodesOf(t), 'largeObjectNode'),
  async run(t, log) {
    const n = nodesOf(t);
    const node = n.largeObjectNode!;
    const check = this.id;
    const value = payload(3_500, freshTag(log));
    const run = await oneSession(t, log, { rounds: [[replace(node, value, { format: 'chr' })], [get(node)]], behaviour: { chunkBytes: CHUNK_BYTES } }, { check });
    if (!run.connected) return;
    log.add([
      expectStatus(run.view, lastChunk(node), ['200', '202'], 'MDM-LO-012', check, 'the reassembled object matches the declared Size'),
      expectValue(run.view, { kind: 'Get', target: node, label: `Get of ${node} after the chunked Replace` }, node, value, 'MDM-LO-015', check,
        'the object was applied whole once its last chunk arrived'),
    ]);
  },
};

export const sizeMismatch: ClientScenario = {
  id: 'large-objects/size-mismatch',
  phase: 'large-object',
  title: 'sends a chunked Replace whose first chunk declares a Size 10 bytes too large: the device answers 424 and keeps the old value',
  requirements: ['MDM-LO-012', 'MDM-LO-015'],
  feature: 'large-objects',
  notApplicable: (t) => unmapped(nodesOf(t), 'largeObjectNode'),
  async run(t, log) {
    const n = nodesOf(t);
    const node = n.largeObjectNode!;
    const check = this.id;
    const rounds = [[get(node)], [replace(node, payload(2_500, freshTag(log)), { format: 'chr' })], [get(node)]];
    const run = await oneSession(t, log, { rounds, behaviour: { chunkBytes: CHUNK_BYTES, chunkSizeError: 10 } }, { check });
    if (!run.connected) return;
    log.add([
      expectStatus(run.view, lastChunk(node), '424', 'MDM-LO-012', check, 'the reassembled object is 10 bytes shorter than its declared Size'),
      ...keptOldValue(run.view, node, 'MDM-LO-012', check, 'an object whose size does not match is not applied'),
      ...keptOldValue(run.view, node, 'MDM-LO-015', check, 'nothing of a chunked object is committed unless it is complete'),
    ]);
  },
};

/** The second Get of `uri` returns what the first one did. */
function keptOldValue(view: SessionView, uri: string, id: string, check: string, why: string): Finding[] {
  const first = sentCommand(view, { kind: 'Get', target: uri, nth: 1 });
  const before = first && resultsFor(view, first).get(uri)?.data;
  if (before === undefined) return [];
  return [expectValue(view, { kind: 'Get', target: uri, nth: 2, label: `Get of ${uri} after the object` }, uri, before, id, check, why)];
}

/** The device's Alert 1225 after the object was interrupted (MDM-LO-014), with the abandoned item named if it can be. */
function judgeNoEndOfData(view: SessionView, uri: string, check: string): Finding {
  const interrupted = view.exchanges.findIndex((x, i) => i > 0 && x.response?.syncml?.body.commands.some((c) => c.kind === 'Get')
    && view.exchanges[i - 1].response?.syncml?.body.commands.some((c) => c.kind === 'Replace' && c.items.some((it) => it.moreData)));
  if (interrupted < 0) return { id: 'MDM-LO-014', verdict: 'inconclusive', check, evidence: 'the session ended before the server interrupted the chunked object' };
  const server = view.exchanges[interrupted].response!;
  const reply = view.exchanges[interrupted + 1]?.request;
  const alert = reply?.syncml?.body.commands.find((c) => c.kind === 'Alert' && codeOf(c) === '1225');
  if (!reply || !alert || alert.kind !== 'Alert') {
    return {
      id: 'MDM-LO-014', verdict: 'fail', check,
      evidence: `${reply ? label(reply) : `after ${label(server)}`}: the chunked Replace of ${uri} was interrupted by a Get before its last chunk and the device sent no Alert 1225`,
    };
  }
  const named = alert.items.some((it) => trimmed(it.target?.locURI ?? it.source?.locURI) === uri);
  return { id: 'MDM-LO-014', verdict: 'pass', check, evidence: `${label(reply)}: Alert 1225 ${named ? `naming ${uri}` : '(without naming the abandoned item, which it should)'}` };
}

export const interruptedObject: ClientScenario = {
  id: 'large-objects/interrupted-object',
  phase: 'large-object',
  title: 'sends the first chunk of a Replace, then a Get instead of the next chunk: the device sends Alert 1225 and does not apply the object',
  requirements: ['MDM-LO-014', 'MDM-LO-015'],
  feature: 'large-objects',
  notApplicable: (t) => unmapped(nodesOf(t), 'largeObjectNode'),
  async run(t, log) {
    const n = nodesOf(t);
    const node = n.largeObjectNode!;
    const check = this.id;
    const rounds = [[get(node)], [replace(node, payload(2_500, freshTag(log)), { format: 'chr' }), get(node)]];
    const run = await oneSession(t, log, { rounds, behaviour: { chunkBytes: CHUNK_BYTES, interruptChunkedObject: true } }, { check });
    if (!run.connected) return;
    log.add([
      judgeNoEndOfData(run.view, node, check),
      ...keptOldValue(run.view, node, 'MDM-LO-014', check, 'an interrupted object is not applied'),
      ...keptOldValue(run.view, node, 'MDM-LO-015', check, 'nothing of a chunked object is committed before its last chunk'),
    ]);
  },
};

interface Chunk {
  results: Results;
  m: WireMessage;
  path: string;
}

/** The Results chunks of one Get, in order (MDM-LO-009, MDM-LO-011) and the Final of the messages carrying them (MDM-LO-001). */
function judgeUpload(view: SessionView, match: CommandMatch, value: string, check: string): Finding[] {
  const sent = sentCommand(view, match);
  if (!sent) return [];
  const chunks: Chunk[] = [];
  for (const x of view.exchanges) {
    if (!x.request.syncml || x.request.n < sent.msg.n) continue;
    for (const { command, path } of commandsWithPaths(x.request.syncml.body.commands)) {
      if (command.kind === 'Results' && trimmed(command.msgRef) === sent.msgID && trimmed(command.cmdRef) === sent.cmdID) chunks.push({ results: command, m: x.request, path });
    }
  }
  const bytes = Buffer.byteLength(value);
  if (chunks.length < 2) {
    const id = (r: string) => ({ id: r, verdict: 'inconclusive' as const, check, evidence: `the client sent its ${bytes}-byte Results in one message; its upload of large objects was not exercised` });
    return chunks.length ? ['MDM-LO-009', 'MDM-LO-011', 'MDM-LO-001'].map(id) : [];
  }
  const out: Finding[] = [];
  const itemOf = (c: Chunk) => c.results.items[0];
  const badMore = chunks.find((c, i) => c.results.items.length !== 1 || !!itemOf(c).moreData !== (i < chunks.length - 1));
  const whole = resultsFor(view, sent).get(match.target!)?.data;
  out.push(badMore
    ? { id: 'MDM-LO-009', verdict: 'fail', check, evidence: `${label(badMore.m)} ${badMore.path}: every chunk but the last carries one Item with MoreData, the last none` }
    : whole !== value
      ? { id: 'MDM-LO-009', verdict: 'fail', check, evidence: `the ${chunks.length} chunks reassemble to ${show(whole ?? '')}, not the ${bytes}-byte value written` }
      : { id: 'MDM-LO-009', verdict: 'pass', check, evidence: `the ${bytes}-byte Results came in ${chunks.length} chunks, MoreData on all but the last, reassembling exactly` });
  const sizes = chunks.map((c) => metaValue(itemOf(c)?.meta, 'Size') ?? metaValue(c.results.meta, 'Size'));
  const laterSize = sizes.findIndex((s, i) => i > 0 && s !== undefined);
  out.push(sizes[0] !== String(bytes)
    ? { id: 'MDM-LO-011', verdict: 'fail', check, evidence: `${label(chunks[0].m)} ${chunks[0].path}/Item/Meta/Size: ${sizes[0] ?? '(none)'}; the first chunk declares the total, ${bytes} bytes` }
    : laterSize > 0
      ? { id: 'MDM-LO-011', verdict: 'fail', check, evidence: `${label(chunks[laterSize].m)} ${chunks[laterSize].path}/Item/Meta/Size: a later chunk repeats Size` }
      : { id: 'MDM-LO-011', verdict: 'pass', check, evidence: `${label(chunks[0].m)}: Size ${bytes} on the first chunk only` });
  const early = chunks.find((c, i) => i < chunks.length - 1 && c.m.syncml?.body.final);
  out.push(early
    ? { id: 'MDM-LO-001', verdict: 'fail', check, evidence: `${label(early.m)} /SyncBody/Final: a message carrying a non-final chunk closes the device's package` }
    : { id: 'MDM-LO-001', verdict: 'pass', check, evidence: `only the message with the last chunk (${label(chunks.at(-1)!.m)}) may carry Final; the ${chunks.length - 1} before it do not` });
  return out;
}

export const resultsInChunks: ClientScenario = {
  id: 'large-objects/results-in-chunks',
  phase: 'large-object',
  title: 'writes 16 KiB to a node and reads it back: Results too large for one client message go out in chunks, the package spanning messages',
  requirements: ['MDM-LO-001', 'MDM-LO-006', 'MDM-LO-009', 'MDM-LO-011'],
  feature: 'large-objects',
  notApplicable: (t) => unmapped(nodesOf(t), 'largeObjectNode'),
  async run(t, log) {
    const n = nodesOf(t);
    const node = n.largeObjectNode!;
    const check = this.id;
    const value = payload(16 * 1024, freshTag(log));
    const run = await oneSession(t, log, { rounds: [[replace(node, value, { format: 'chr' })], [get(node)]] }, { check });
    if (!run.connected) return;
    log.add(judgeUpload(run.view, { kind: 'Get', target: node }, value, check));
  },
};

export const serverHeaderMaxMsgSize: ClientScenario = {
  id: 'large-objects/server-header-max-msg-size',
  phase: 'large-object',
  title: 'puts MaxMsgSize 524288 in every server SyncHdr, as Intune does: the client carries on as usual',
  requirements: ['MDM-HDR-013'],
  async run(t, log) {
    const n = nodesOf(t);
    const check = this.id;
    const match: CommandMatch = { kind: 'Get', target: n.readableLeaf, label: `Get of ${n.readableLeaf} in a message whose SyncHdr carries MaxMsgSize` };
    const run = await oneSession(t, log, { rounds: [[get(n.readableLeaf)]], behaviour: { advertiseMaxMsgSize: 524_288 } }, { check });
    if (!run.connected) return;
    log.add([run.trigger.timedOut
      ? { id: 'MDM-HDR-013', verdict: 'fail', check, evidence: 'the session never ended after a server SyncHdr carrying MaxMsgSize' }
      : expectStatus(run.view, match, '200', 'MDM-HDR-013', check, 'Meta in the server SyncHdr must not stop the client')]);
  },
};

export const LARGE_OBJECT_SCENARIOS: readonly ClientScenario[] = [
  serverObjectInChunks, sizeMismatch, interruptedObject, resultsInChunks, serverHeaderMaxMsgSize,
];
