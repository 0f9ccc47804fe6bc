/**
 * Passive checks of a server under test for the large objects the device sends it and the ones it sends (OMA-DMP
 * 6.1, 7): an upload the device abandons before its last chunk is answered with Alert 1225 (MDM-LO-014), a chunked
 * object keeps to one Item's Data spanning messages (MDM-LO-022), and goes only to a device whose ./DevDetail/LrgObj
 * reads true (MDM-LO-019).
 *
 * Upload chunks are followed by message sequence and Item addressing (A-23): the next chunk is a one-Item Results
 * naming the same node, or naming none; anything else that comes first interrupts the object.
 */
import { codeOf, type Command, type Results, type SyncML } from '../../syncml';
import { defineCheck } from '../finding';
import { commandsWithPaths, label, liveExchanges, trimmed, type AnySessionView, type WireMessage } from '../session';

const isAlert = (c: Command, code: string) => c.kind === 'Alert' && codeOf(c) === code;

/** The device's Results chunk that leaves its object open (MoreData on its one Item). */
function openChunk(c: Command): Results | undefined {
  return c.kind === 'Results' && c.items.length === 1 && c.items[0].moreData ? c : undefined;
}

/** Whether `c` is the next chunk of the object uploaded under `uri`. */
function continues(c: Command, uri: string): boolean {
  if (c.kind !== 'Results' || c.items.length !== 1) return false;
  const source = c.items[0].source?.locURI;
  return source === undefined || trimmed(source) === uri;
}

interface Interruption {
  /** The node of the abandoned object. */
  uri: string;
  /** The device message that interrupted it, and with what. */
  at: WireMessage;
  by: string;
}

/**
 * Device messages in which an upload was interrupted: a command other than its next chunk came first, in the same
 * message after the open chunk or in a later one. An abort (Alert 1223) ends the session instead and is no
 * interruption the server must answer.
 */
function* interruptions(session: AnySessionView): Generator<{ interruption: Interruption; reply?: WireMessage; res?: SyncML }> {
  let open: string | undefined;
  for (const x of liveExchanges(session)) {
    const req = x.request.syncml;
    if (!req) continue;
    let found: Interruption | undefined;
    for (const c of req.body.commands) {
      if (c.kind === 'Status') continue;
      if (open !== undefined && !continues(c, open)) {
        if (!isAlert(c, '1223')) found ??= { uri: open, at: x.request, by: c.kind === 'Results' ? `the Results of ${trimmed(c.items[0]?.source?.locURI) || 'another node'}` : c.kind === 'Unknown' ? c.name : c.kind };
        open = undefined;
      }
      const chunk = openChunk(c);
      if (chunk) open ??= trimmed(chunk.items[0].source?.locURI);
      else if (c.kind === 'Results' && open !== undefined) open = undefined; // its last chunk
    }
    if (found) yield { interruption: found, reply: x.response, res: x.response?.syncml };
  }
}

/** MDM-LO-014: a device upload interrupted before its last chunk gets Alert 1225, which should name the object. */
export const serverAnswersInterruptedUploads = defineCheck<AnySessionView>({
  name: 'serverAnswersInterruptedUploads',
  ids: ['MDM-LO-014'],
  when: 'the device to interrupt a chunked Results with another command before its last chunk',
  run(session, judge) {
    for (const { interruption: { uri, at, by }, reply, res } of interruptions(session)) {
      if (!reply || !res) continue; // no reply at all is MDM-TERM-003's
      judge.saw('MDM-LO-014');
      const alert = res.body.commands.find((c) => isAlert(c, '1225'));
      if (!alert || alert.kind !== 'Alert') {
        judge.fail('MDM-LO-014', reply, '/SyncBody', `${label(at)} interrupted the chunked Results of ${uri} with ${by} before its last chunk; the reply carries no Alert 1225 (End of Data for chunked object not received)`);
      } else if (!alert.items.some((it) => trimmed(it.source?.locURI ?? it.target?.locURI) === uri)) {
        // The 1225 itself is the MUST; naming the object is a SHOULD of OMA-DMP 7.
        judge.warn('MDM-LO-014', reply, '/SyncBody/Alert', `Alert 1225 does not name the abandoned object; it should carry ${uri} as its Item Source or Target`);
      }
    }
  },
});

/**
 * MDM-LO-022: a chunked object spans messages only as one Item's Data: the Item with MoreData carries Data and
 * belongs to a top-level command (an Atomic or Sequence holding a chunk would span messages whole).
 */
export const serverChunksOnlyItemData = defineCheck<AnySessionView>({
  name: 'serverChunksOnlyItemData',
  ids: ['MDM-LO-022'],
  when: 'the server to send a large object in chunks',
  run(session, judge) {
    for (const x of liveExchanges(session)) {
      const res = x.response?.syncml;
      if (!res) continue;
      for (const { command, path, depth } of commandsWithPaths(res.body.commands)) {
        if (command.kind === 'Status' || !('items' in command)) continue;
        command.items.forEach((it, n) => {
          if (!it.moreData) return;
          judge.saw('MDM-LO-022');
          const at = `${path}/Item${command.items.length > 1 ? `[${n + 1}]` : ''}`;
          if (depth > 0) judge.fail('MDM-LO-022', x.response, `${at}/MoreData`, `a chunk inside ${path.split('/').slice(0, -1).join('/')}: the container would span messages, and only one Item's Data may`);
          else if (it.data === undefined) judge.fail('MDM-LO-022', x.response, `${at}/MoreData`, `MoreData on an Item without Data: the ${command.kind} itself would continue in the next message`);
        });
      }
    }
  },
});

/** The device's flag for large-object support (OMA-DMP 7; DevDetail CSP). */
const LRG_OBJ = './DevDetail/LrgObj';

/**
 * MDM-LO-019 (a SHOULD): chunked data only for a device whose ./DevDetail/LrgObj reads true. Judged when the session
 * shows both what the device read and a chunk after it; a server may have read the flag in an earlier session, which
 * this one does not show.
 */
export const serverChunksOnlyForLargeObjectDevices = defineCheck<AnySessionView>({
  name: 'serverChunksOnlyForLargeObjectDevices',
  ids: ['MDM-LO-019'],
  when: `the device to report ${LRG_OBJ} and the server to send chunked data after it`,
  run(session, judge) {
    let flag: { value: string; at: WireMessage } | undefined;
    for (const x of liveExchanges(session)) {
      for (const c of x.request.syncml?.body.commands ?? []) {
        const it = c.kind === 'Results' ? c.items.find((i) => trimmed(i.source?.locURI) === LRG_OBJ) : undefined;
        if (it) flag = { value: trimmed(it.data?.text), at: x.request };
      }
      const res = x.response?.syncml;
      if (!flag || !res?.body.commands.some((c) => 'items' in c && c.items.some((i) => i.moreData))) continue;
      judge.saw('MDM-LO-019');
      if (flag.value.toLowerCase() !== 'true') {
        judge.warn('MDM-LO-019', x.response, '/SyncBody', `a chunk of a large object, though the device reported ${LRG_OBJ} "${flag.value}" in ${label(flag.at)}`);
      }
    }
  },
});

export const SERVER_LARGE_OBJECT_CHECKS = [serverAnswersInterruptedUploads, serverChunksOnlyItemData, serverChunksOnlyForLargeObjectDevices] as const;
