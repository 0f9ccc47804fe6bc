/**
 * Passive checks of a client under test for the large objects it uploads (OMA-DMP 6.1, 7): the chunks of one object
 * follow each other with nothing between them (MDM-LO-013), a command is never split across messages other than by
 * chunking one Item's Data (MDM-LO-022), and no object is larger than the MaxObjSize of the server's SyncHdr
 * (MDM-LO-018).
 *
 * Chunks are followed by message sequence and Item addressing (A-23): the next chunk of an open object is a one-Item
 * Results naming the same node, or naming none.
 */
import { codeOf, metaValue, type Command, type Results, type SyncML } from '../../syncml';
import { refKey } from '../common';
import { defineCheck } from '../finding';
import { commandsWithPaths, label, trimmed, type AnySessionView, type WireMessage } from '../session';

const isAlert = (c: Command, code: string) => c.kind === 'Alert' && codeOf(c) === code;
/** MDM-ID-007: a Results without MsgRef refers to message 1. */
const resultsKey = (r: Results) => refKey(r.msgRef === undefined ? '1' : r.msgRef, r.cmdRef);
const nameOf = (c: Command) => (c.kind === 'Unknown' ? c.name : c.kind);

/** Device messages with the server message each answers (undefined for the first). */
function* deviceTurns(session: AnySessionView): Generator<{ m: WireMessage; msg: SyncML; prev?: SyncML }> {
  let prev: SyncML | undefined;
  for (const x of session.exchanges) {
    if (x.request?.syncml) yield { m: x.request, msg: x.request.syncml, prev };
    prev = x.response?.syncml;
  }
}

/** Whether `c` is the next chunk of the object open under `uri`. */
function continues(c: Command, uri: string): c is Results {
  if (c.kind !== 'Results' || c.items.length !== 1) return false;
  const source = c.items[0].source?.locURI;
  return source === undefined || trimmed(source) === uri;
}

/** MDM-LO-013: chunks of one upload in consecutive messages, with no other command or Item between them. */
export const deviceUploadsAreContiguous = defineCheck<AnySessionView>({
  name: 'deviceUploadsAreContiguous',
  ids: ['MDM-LO-013'],
  when: 'the device to send a large object (Results) in chunks',
  run(session, judge) {
    let open: { uri: string; since: WireMessage } | undefined;
    for (const { m, msg, prev } of deviceTurns(session)) {
      // The server gave up on the object (Alert 1225) or on the session (1223): nothing more of it is owed.
      if (prev?.body.commands.some((c) => isAlert(c, '1225') || isAlert(c, '1223'))) open = undefined;
      const carriedOver = open;
      let continued = false;
      for (const { command: c, path, depth } of commandsWithPaths(msg.body.commands)) {
        if (depth > 0 || c.kind === 'Status') continue;
        if (open && continues(c, open.uri)) {
          continued = true;
          if (!c.items[0].moreData) open = undefined;
          continue;
        }
        if (open) {
          judge.saw('MDM-LO-013');
          judge.fail('MDM-LO-013', m, path, `${nameOf(c)} sent while the chunked Results of ${open.uri} (since ${label(open.since)}) is unfinished; nothing goes between the chunks of an object`);
          open = undefined;
          continued = true; // reported once
        }
        if (c.kind !== 'Results') continue;
        const chunk = c.items.findIndex((it) => it.moreData);
        if (chunk < 0) continue;
        judge.saw('MDM-LO-013');
        if (chunk < c.items.length - 1) {
          judge.fail('MDM-LO-013', m, `${path}/Item[${chunk + 2}]`, `an Item after the unfinished chunk of ${trimmed(c.items[chunk].source?.locURI)}; nothing goes between the chunks of an object`);
          continue;
        }
        open = { uri: trimmed(c.items[chunk].source?.locURI), since: m };
      }
      if (carriedOver && !continued && !msg.body.commands.some((c) => isAlert(c, '1223'))) {
        judge.saw('MDM-LO-013');
        judge.fail('MDM-LO-013', m, '/SyncBody', `no chunk of the Results of ${carriedOver.uri}, unfinished since ${label(carriedOver.since)}: the chunks of an object travel in consecutive messages`);
        open = undefined;
      }
      // A package closed with an object still open: that MoreData was wrong (MDM-LO-009, MDM-LO-001), no gap.
      if (msg.body.final) open = undefined;
    }
  },
});

/**
 * MDM-LO-022: a Results spans messages only as chunks of one Item's Data. Results that answer one Get in two
 * messages, the earlier part not ending in a chunk and the later part naming other nodes, are one command split
 * across messages. (Parts naming the same node are chunks sent without MoreData: MDM-LO-009's.)
 */
export const deviceKeepsCommandsWhole = defineCheck<AnySessionView>({
  name: 'deviceKeepsCommandsWhole',
  ids: ['MDM-LO-022'],
  when: 'the device to send Results that span messages (a large object in chunks)',
  run(session, judge) {
    const parts = new Map<string, { m: WireMessage; uris: Set<string>; endsInChunk: boolean }>();
    for (const { m, msg } of deviceTurns(session)) {
      for (const { command: c, path, depth } of commandsWithPaths(msg.body.commands)) {
        if (depth > 0 || c.kind !== 'Results') continue;
        const key = resultsKey(c);
        const before = parts.get(key);
        const uris = c.items.map((it) => trimmed(it.source?.locURI));
        if (before && before.m.n < m.n) {
          if (before.endsInChunk) judge.saw('MDM-LO-022');
          else if (!uris.some((u) => before.uris.has(u))) {
            judge.saw('MDM-LO-022');
            const get = `the Get of msg ${trimmed(c.msgRef) || '1'} CmdID ${trimmed(c.cmdRef)}`;
            judge.fail('MDM-LO-022', m, path, `more Results of other nodes for ${get}, whose Results ${label(before.m)} already carried: one Results split across messages; a command fits in one message, and only one Item's Data may span messages, in chunks`);
          }
        }
        parts.set(key, { m, uris: before ? new Set([...before.uris, ...uris]) : new Set(uris), endsInChunk: !!c.items.at(-1)?.moreData });
      }
    }
  },
});

/**
 * Results of a later message that continue a Get's Results of an earlier one, the earlier part not ending in a chunk:
 * a split of one command (MDM-LO-022) when they name other nodes, chunks without MoreData (MDM-LO-009) when they
 * name the same. For the rule of one Results per Get (MDM-RES-004), whose count these would otherwise raise.
 */
export function continuationCause(earlier: Results, later: Results): 'MDM-LO-022' | 'MDM-LO-009' | undefined {
  if (earlier.items.at(-1)?.moreData) return undefined;
  const before = new Set(earlier.items.map((it) => trimmed(it.source?.locURI)));
  return later.items.some((it) => before.has(trimmed(it.source?.locURI))) ? 'MDM-LO-009' : 'MDM-LO-022';
}

/**
 * MDM-LO-018: no object larger than the MaxObjSize the server put in its SyncHdr, for the rest of the session or
 * until it sends another. Windows ignores Meta in a server's SyncHdr (MDM-HDR-013, A-12, catalogue section 7 fact 7):
 * a client that does so is reported with a warning, not a failure.
 */
export const deviceHonoursServerMaxObjSize = defineCheck<AnySessionView>({
  name: 'deviceHonoursServerMaxObjSize',
  ids: ['MDM-LO-018'],
  when: 'the server to advertise MaxObjSize in its SyncHdr and the device to send an object',
  run(session, judge) {
    let limit: number | undefined;
    const open = new Set<string>();
    for (const { m, msg, prev } of deviceTurns(session)) {
      const advertised = Number(metaValue(prev?.hdr.meta, 'MaxObjSize'));
      if (advertised > 0) limit = advertised;
      for (const { command: c, path, depth } of commandsWithPaths(msg.body.commands)) {
        if (depth > 0 || c.kind !== 'Results') continue;
        const key = resultsKey(c);
        c.items.forEach((it, n) => {
          const at = `${path}/Item${c.items.length > 1 ? `[${n + 1}]` : ''}`;
          // The Results of one Get carry one chunked object at a time: its later chunks are not objects of their own.
          const continuation = open.has(key);
          if (it.moreData) open.add(key);
          else open.delete(key);
          if (limit === undefined || continuation) return;
          // A chunked object declares its whole length on the first chunk (MDM-LO-011); a whole one is its Data.
          const declared = Number(metaValue(it.meta, 'Size') ?? metaValue(c.meta, 'Size'));
          const bytes = it.moreData && declared > 0 ? declared : Buffer.byteLength(it.data?.text ?? '');
          judge.saw('MDM-LO-018');
          if (bytes > limit) {
            judge.warn('MDM-LO-018', m, at, `an object of ${bytes} bytes, larger than the MaxObjSize ${limit} of the server's SyncHdr (OMA-DMP 7: binding for the session; Windows ignores server header Meta, A-12)`);
          }
        });
      }
    }
  },
});

export const CLIENT_LARGE_OBJECT_CHECKS = [deviceUploadsAreContiguous, deviceKeepsCommandsWhole, deviceHonoursServerMaxObjSize] as const;
