/**
 * Client scenarios of the large-object phase (catalogue S8, column "client under test"; OMA-DMP 6 and 7): objects
 * the server sends in chunks (whole, misdeclared, interrupted), Results too large for one of the client's
 * messages, and a server SyncHdr carrying MaxMsgSize.
 */
import { sameNumber } from '../../checks/compare';
import type { Finding } from '../../checks/finding';
import { commandsWithPaths, label, trimmed, type SessionView, type WireMessage } from '../../checks/session';
import { codeOf, get, metaValue, replace, type Results } from '../../syncml';
import type { Scenario } from '../scenario';
import { expectStatus, expectValue, notSent, resultsFor, sentCommand, show, statusFor, type CommandMatch } from './expect';
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
    const value = payload(2_500, freshTag(log));
    const rounds = [[get(node)], [replace(node, value, { format: 'chr' })], [get(node)]];
    const run = await oneSession(t, log, { rounds, behaviour: { chunkBytes: CHUNK_BYTES, chunkSizeError: 10 } }, { check });
    if (!run.connected) return;
    log.add([
      expectStatus(run.view, lastChunk(node), '424', 'MDM-LO-012', check, 'the reassembled object is 10 bytes shorter than its declared Size'),
      ...notApplied(run.view, node, value, 'MDM-LO-012', check, 'an object whose size does not match is not applied'),
    ]);
  },
};

/**
 * A chunked object that must not be applied (`id`'s rule), read back by the second Get of `uri`. The old value passes
 * `id` and MDM-LO-015. The whole object breaks `id` alone: it was applied, though only once complete. A part of it was
 * committed before the last chunk: MDM-LO-015's failure, from which `id`'s follows (one cause, one failure).
 */
function notApplied(view: SessionView, uri: string, value: string, id: string, check: string, why: string): Finding[] {
  const first = sentCommand(view, { kind: 'Get', target: uri, nth: 1 });
  const before = first && resultsFor(view, first).get(uri)?.data;
  if (before === undefined) return [];
  const after: CommandMatch = { kind: 'Get', target: uri, nth: 2, label: `Get of ${uri} after the object` };
  const kept = expectValue(view, after, uri, before, id, check, why);
  const atomic = (verdict: Finding['verdict'], evidence: string): Finding => ({ id: 'MDM-LO-015', verdict, check, evidence });
  if (kept.verdict !== 'fail') return [kept, atomic(kept.verdict, kept.evidence.replace(why, 'nothing of a chunked object is committed unless it is complete'))];
  const sent = sentCommand(view, after);
  const read = sent && resultsFor(view, sent).get(uri)?.data;
  if (read === value) return [kept, atomic('pass', `${kept.evidence.replace(`; ${why}`, '')}: the object was applied, but only once all its chunks had arrived`)];
  if (!read || !value.startsWith(read)) return [kept, atomic('inconclusive', `after the object ${uri} holds neither its old value nor a part of the object, so whether a part was committed early cannot be told`)];
  return [
    atomic('fail', `${kept.evidence.replace(`; ${why}`, '')}: the first ${Buffer.byteLength(read)} bytes of the object were committed before its last chunk arrived`),
    { ...kept, consequenceOf: 'MDM-LO-015' },
  ];
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
    const value = payload(2_500, freshTag(log));
    const rounds = [[get(node)], [replace(node, value, { format: 'chr' }), get(node)]];
    const run = await oneSession(t, log, { rounds, behaviour: { chunkBytes: CHUNK_BYTES, interruptChunkedObject: true } }, { check });
    if (!run.connected) return;
    log.add([judgeNoEndOfData(run.view, node, check), ...notApplied(run.view, node, value, 'MDM-LO-014', check, 'an interrupted object is not applied')]);
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
  title: 'writes 16 KiB to a node and reads it back with another node: Results too large for one client message go out in chunks, the package spanning messages, the other Results after the last chunk',
  requirements: ['MDM-LO-001', 'MDM-LO-006', 'MDM-LO-009', 'MDM-LO-011'],
  feature: 'large-objects',
  notApplicable: (t) => unmapped(nodesOf(t), 'largeObjectNode'),
  async run(t, log) {
    const n = nodesOf(t);
    const node = n.largeObjectNode!;
    const check = this.id;
    const value = payload(16 * 1024, freshTag(log));
    // The second Get leaves the client something else to send while its object goes out: it must wait (MDM-LO-013).
    const run = await oneSession(t, log, { rounds: [[replace(node, value, { format: 'chr' })], [get(node), get(n.readableLeaf)]] }, { check });
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

/** DevDetail's flag for large-object support (OMA-DMP 7; DevDetail CSP): read-only, Get only. */
const LRG_OBJ = './DevDetail/LrgObj';

export const largeObjectFlag: ClientScenario = {
  id: 'large-objects/lrgobj-flag',
  phase: 'large-object',
  title: `reads ${LRG_OBJ} of a client that declares large-object support: it reads true`,
  requirements: ['MDM-LO-017'],
  feature: 'large-objects',
  async run(t, log) {
    const check = this.id;
    const run = await oneSession(t, log, { rounds: [[get(LRG_OBJ)]] }, { check });
    if (!run.connected) return;
    const sent = sentCommand(run.view, { kind: 'Get', target: LRG_OBJ });
    if (!sent) {
      log.add([notSent({ kind: 'Get', target: LRG_OBJ }, 'MDM-LO-017', check)]);
      return;
    }
    const item = resultsFor(run.view, sent).get(LRG_OBJ);
    const why = 'a device that supports large objects (capability profile: large-objects) reports true in ./DevDetail/LrgObj';
    // A bool node reads "true" or "false"; the case of the letters is not the point.
    log.add([item && item.data.trim().toLowerCase() === 'true'
      ? { id: 'MDM-LO-017', verdict: 'pass', check, evidence: `${label(item.msg)} ${item.path}/Item/Data: ${LRG_OBJ} reads ${show(item.data)}` }
      : item
        ? { id: 'MDM-LO-017', verdict: 'fail', check, evidence: `${label(item.msg)} ${item.path}/Item/Data: ${LRG_OBJ} reads ${show(item.data)}; ${why}` }
        : expectValue(run.view, { kind: 'Get', target: LRG_OBJ }, LRG_OBJ, 'true', 'MDM-LO-017', check, why)]);
  },
};

/** The MaxObjSize the server advertises: a quarter of the object the client is then asked for. */
const SERVER_MAX_OBJ_SIZE = 4_096;

export const serverMaxObjSize: ClientScenario = {
  id: 'large-objects/server-max-obj-size',
  phase: 'large-object',
  title: `puts MaxObjSize ${SERVER_MAX_OBJ_SIZE} in every server SyncHdr, writes 16 KiB to a node and reads it back: the client sends no object larger than that (Windows ignores server header Meta: a warning)`,
  requirements: ['MDM-LO-018'],
  feature: 'large-objects',
  notApplicable: (t) => unmapped(nodesOf(t), 'largeObjectNode'),
  async run(t, log) {
    const n = nodesOf(t);
    const node = n.largeObjectNode!;
    const check = this.id;
    const value = payload(16 * 1024, freshTag(log));
    const rounds = [[replace(node, value, { format: 'chr' })], [get(node), get(n.readableLeaf)]];
    const run = await oneSession(t, log, { rounds, behaviour: { advertiseMaxObjSize: SERVER_MAX_OBJ_SIZE } }, { check });
    if (!run.connected) return;
    const sent = sentCommand(run.view, { kind: 'Get', target: node });
    if (!sent) {
      log.add([notSent({ kind: 'Get', target: node }, 'MDM-LO-018', check)]);
      return;
    }
    // Sent anyway, the object is the passive check's (a warning, A-12); held back, no message shows it.
    if (resultsFor(run.view, sent).has(node)) return;
    const answer = statusFor(run.view, sent, node);
    log.add([{
      id: 'MDM-LO-018', verdict: 'pass', check,
      evidence: `the ${Buffer.byteLength(value)}-byte value of ${node}, larger than the server's MaxObjSize ${SERVER_MAX_OBJ_SIZE}, was not sent (the Get was answered ${answer?.code ?? 'with no Status'})`,
    }]);
  },
};

export const multiItemResults: ClientScenario = {
  id: 'large-objects/multi-item-results',
  phase: 'large-object',
  title: 'writes 16 KiB to a node and reads it back with another node in one Get: the two-Item Results stays one command, only one Item\'s Data may span messages',
  requirements: ['MDM-LO-022'],
  feature: 'large-objects',
  notApplicable: (t) => unmapped(nodesOf(t), 'largeObjectNode'),
  async run(t, log) {
    const n = nodesOf(t);
    const node = n.largeObjectNode!;
    const check = this.id;
    const value = payload(16 * 1024, freshTag(log));
    const run = await oneSession(t, log, { rounds: [[replace(node, value, { format: 'chr' })], [get(n.readableLeaf, node)]] }, { check });
    if (!run.connected) return;
    const sent = sentCommand(run.view, { kind: 'Get', target: node });
    if (!sent) {
      log.add([notSent({ kind: 'Get', target: node }, 'MDM-LO-022', check)]);
      return;
    }
    const parts = resultsParts(run.view, sent.msgID, sent.cmdID);
    const messages = new Set(parts.map((p) => p.m.n));
    // Spread over messages other than by chunks, the passive check fails it; whole in one message, it passes here.
    if (parts.length !== 1 || messages.size !== 1) return;
    log.add([{ id: 'MDM-LO-022', verdict: 'pass', check, evidence: `${label(parts[0].m)} ${parts[0].path}: the Results of the two-Item Get (${Buffer.byteLength(value)} bytes of ${node}) came whole in one message` }]);
  },
};

/** The Results the device sent for one Get, in order, with the message and path of each. */
function resultsParts(view: SessionView, msgID: string, cmdID: string): { results: Results; m: WireMessage; path: string }[] {
  const out: { results: Results; m: WireMessage; path: string }[] = [];
  for (const x of view.exchanges) {
    if (!x.request.syncml) continue;
    for (const { command, path } of commandsWithPaths(x.request.syncml.body.commands)) {
      // A Results without MsgRef refers to message 1 (MDM-ID-007).
      if (command.kind === 'Results' && sameNumber(trimmed(command.msgRef) || '1', msgID) && sameNumber(command.cmdRef, cmdID)) out.push({ results: command, m: x.request, path });
    }
  }
  return out;
}

export const LARGE_OBJECT_SCENARIOS: readonly ClientScenario[] = [
  serverObjectInChunks, sizeMismatch, interruptedObject, resultsInChunks, serverHeaderMaxMsgSize, largeObjectFlag, serverMaxObjSize,
  multiItemResults,
];
