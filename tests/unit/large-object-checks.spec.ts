/**
 * The large-object checks on hand-made sessions: each rule passes on a conforming exchange and fails (or warns) on
 * the deviation it exists for, naming the message and element; one cause gives one failure.
 */
import { expect, test } from '@playwright/test';
import { CLIENT_CHECKS } from '../../harness/checks/client-checks';
import { runChecks, type Finding } from '../../harness/checks/finding';
import { outOfScope } from '../../harness/checks/scope';
import { SERVER_CHECKS } from '../../harness/checks/server-checks';
import { serializeSyncML, type Command } from '../../harness/syncml';
import { alert, atomic, get, item, message, meta, replace, results, status } from '../../harness/syncml/builders';
import { wireMessage, type SessionView } from '../../harness/checks/session';
import { coverageOf } from '../../harness/scenarios/coverage';

const DEVICE = 'urn:uuid:device';
const SERVER = 'https://mdm.example/ManagementServer/MDM.svc';
const BIG = './Device/Vendor/MSFT/NodeCache/MDMConformance/Nodes/1/ExpectedValue';

interface Turn {
  commands: Command[];
  final?: boolean;
  maxMsgSize?: number;
  maxObjSize?: number;
}

/** A session from alternating device and server turns (device first), with real body sizes on the wire. */
function session(...turns: Turn[]): SessionView {
  const exchanges = [];
  for (let i = 0; i < turns.length; i += 2) {
    const [req, res] = [turns[i], turns[i + 1]];
    const msg = (t: Turn, from: 'device' | 'server', n: number) => {
      const m = message({
        sessionID: '7', msgID: Math.floor(i / 2) + 1, target: from === 'device' ? SERVER : DEVICE, source: from === 'device' ? DEVICE : SERVER,
        commands: t.commands, final: t.final, meta: meta({ maxMsgSize: t.maxMsgSize, maxObjSize: t.maxObjSize }),
      });
      return wireMessage(n, from, m, { bodyBytes: Buffer.byteLength(serializeSyncML(m)), status: from === 'server' ? 200 : undefined });
    };
    exchanges.push({ request: msg(req, 'device', i + 1), response: res && msg(res, 'server', i + 2) });
  }
  return { exchanges, startsAtPackage1: true };
}

const hdr = (msgRef: number) => status({ msgRef: String(msgRef), cmdRef: '0', cmd: 'SyncHdr', code: 200, cmdID: 1 });
const chunk = (cmdID: number, uri: string, data: string, more: boolean, size?: number) =>
  results({ cmdID, msgRef: '1', cmdRef: '2', items: [item({ source: uri, data, moreData: more, size })] });
const findings = (checks: typeof SERVER_CHECKS | typeof CLIENT_CHECKS, view: SessionView, id: string) =>
  runChecks(checks as typeof SERVER_CHECKS, view).filter((f) => f.id === id);
const verdicts = (fs: Finding[]) => fs.map((f) => (f.consequenceOf ? `${f.verdict} (of ${f.consequenceOf})` : f.verdict));

test.describe('server mode: the server under test', () => {
  /** The device uploads a chunk of BIG, then (msg 3) sends the Results of another node instead of the rest. */
  const interrupted = (reply: Command[]) => session(
    { commands: [hdr(1), chunk(2, BIG, 'x'.repeat(100), true, 300)] },
    { commands: [hdr(1), status({ cmdID: 2, msgRef: '1', cmdRef: '2', cmd: 'Results', code: 213 }), alert('1222', [], 3)] },
    { commands: [hdr(2), results({ cmdID: 2, msgRef: '1', cmdRef: '3', items: [item({ source: './DevInfo/Mod', data: 'M' })] })], final: true },
    { commands: [hdr(3), ...reply], final: true },
  );

  test('an interrupted upload is answered with Alert 1225 naming it (MDM-LO-014)', () => {
    expect(verdicts(findings(SERVER_CHECKS, interrupted([alert('1225', [item({ source: BIG })], 2)]), 'MDM-LO-014'))).toEqual(['pass']);
    const none = findings(SERVER_CHECKS, interrupted([]), 'MDM-LO-014');
    expect(verdicts(none)).toEqual(['fail']);
    expect(none[0].evidence).toContain(`msg 4 (server->device) /SyncBody: msg 3 (device->server) interrupted the chunked Results of ${BIG} with the Results of ./DevInfo/Mod`);
    expect(verdicts(findings(SERVER_CHECKS, interrupted([alert('1225', [], 2)]), 'MDM-LO-014'))).toEqual(['warn']);
  });

  test('an upload that continues is no interruption (MDM-LO-014 not exercised)', () => {
    const view = session(
      { commands: [hdr(1), chunk(2, BIG, 'x'.repeat(100), true, 150)] },
      { commands: [hdr(1), alert('1222', [], 2)] },
      { commands: [hdr(2), chunk(2, BIG, 'x'.repeat(50), false)], final: true },
      { commands: [hdr(3)], final: true },
    );
    expect(findings(SERVER_CHECKS, view, 'MDM-LO-014')).toEqual([]);
  });

  test('a chunk spans messages only as one top-level Item\'s Data (MDM-LO-022)', () => {
    const big = replace(BIG, 'y'.repeat(200), { cmdID: 2 });
    big.items[0].moreData = true;
    const ok = session({ commands: [hdr(1)], final: true }, { commands: [hdr(1), big] });
    expect(verdicts(findings(SERVER_CHECKS, ok, 'MDM-LO-022'))).toEqual(['pass']);
    const inAtomic = session({ commands: [hdr(1)], final: true }, { commands: [hdr(1), { ...atomic(big), cmdID: '3' }] });
    const f = findings(SERVER_CHECKS, inAtomic, 'MDM-LO-022');
    expect(verdicts(f)).toEqual(['fail']);
    expect(f[0].evidence).toContain('/SyncBody/Atomic/Replace/Item/MoreData: a chunk inside /SyncBody/Atomic');
  });

  test('a command larger than the device MaxMsgSize that cannot be chunked fails MDM-LO-022; the overflow follows from it', () => {
    const uris = Array.from({ length: 18 }, (_, n) => `./DevDetail/Ext/Microsoft/Node${n}`);
    const view = session({ commands: [hdr(1)], final: true, maxMsgSize: 1200 }, { commands: [hdr(1), { ...get(...uris), cmdID: '2' }], final: true });
    expect(verdicts(findings(SERVER_CHECKS, view, 'MDM-LO-022'))).toEqual(['fail']);
    expect(verdicts(findings(SERVER_CHECKS, view, 'MDM-LO-019'))).toEqual(['fail (of MDM-LO-022)']);
    // Many small commands past the limit: only the message was overfilled (MDM-LO-019, a SHOULD).
    const small = Array.from({ length: 8 }, (_, n) => replace(`./Vendor/X/N${n}`, 'v'.repeat(150), { cmdID: n + 2 }));
    const overfilled = session({ commands: [hdr(1)], final: true, maxMsgSize: 1200 }, { commands: [hdr(1), ...small], final: true });
    expect(findings(SERVER_CHECKS, overfilled, 'MDM-LO-022')).toEqual([]);
    expect(verdicts(findings(SERVER_CHECKS, overfilled, 'MDM-LO-019'))).toEqual(['fail']);
  });

  test('Final on a message whose object continues fails MDM-LO-001, with MDM-TERM-004 under it', () => {
    const first = replace(BIG, 'z'.repeat(100), { cmdID: 2 });
    first.items[0].moreData = true;
    const view = session({ commands: [hdr(1)], final: true }, { commands: [hdr(1), first], final: true });
    expect(verdicts(findings(SERVER_CHECKS, view, 'MDM-LO-001'))).toEqual(['fail']);
    expect(verdicts(findings(SERVER_CHECKS, view, 'MDM-TERM-004'))).toEqual(['fail (of MDM-LO-001)']);
  });

  test('an unfinished device package is pulled with Alert 1222 (MDM-LO-003), the Next Message reply lacking it follows', () => {
    const pulled = session({ commands: [hdr(1), alert('1201', [], 2)] }, { commands: [hdr(1), alert('1222', [], 2)] });
    expect(verdicts(findings(SERVER_CHECKS, pulled, 'MDM-LO-003'))).toEqual(['pass']);
    const notPulled = session({ commands: [hdr(1), alert('1201', [], 2)] }, { commands: [hdr(1)] });
    expect(verdicts(findings(SERVER_CHECKS, notPulled, 'MDM-LO-003'))).toEqual(['fail']);
    expect(verdicts(findings(SERVER_CHECKS, notPulled, 'MDM-LO-004'))).toEqual(['fail (of MDM-LO-003)']);
  });

  test('chunked data goes only to a device whose ./DevDetail/LrgObj read true in the session (MDM-LO-019, a warning)', () => {
    const flag = (v: string) => results({ cmdID: 2, msgRef: '1', cmdRef: '2', items: [item({ source: './DevDetail/LrgObj', data: v })] });
    const big = replace(BIG, 'y'.repeat(200), { cmdID: 2 });
    big.items[0].moreData = true;
    const after = (v: string) => session({ commands: [hdr(1)], final: true }, { commands: [hdr(1), { ...get('./DevDetail/LrgObj'), cmdID: '2' }], final: true },
      { commands: [hdr(2), flag(v)], final: true }, { commands: [hdr(2), big] });
    expect(verdicts(findings(SERVER_CHECKS, after('true'), 'MDM-LO-019'))).toEqual(['pass']);
    const f = findings(SERVER_CHECKS, after('false'), 'MDM-LO-019');
    expect(verdicts(f)).toEqual(['warn']);
    expect(f[0].evidence).toContain('msg 4 (server->device) /SyncBody: a chunk of a large object, though the device reported ./DevDetail/LrgObj "false" in msg 3');
  });

  test('MDM-LO-015 is out of scope in server mode only, with a reason, and judged in client mode', () => {
    expect(outOfScope('MDM-LO-015', 'server')).toContain('cannot be seen on the wire');
    expect(outOfScope('MDM-LO-015', 'client')).toBeUndefined();
    expect(outOfScope('MDM-LO-015')).toBeUndefined();
    const server = coverageOf('server').find((r) => r.id === 'MDM-LO-015')!;
    expect([server.outOfScope !== undefined, server.judgedBy]).toEqual([true, []]);
    expect(coverageOf('client').find((r) => r.id === 'MDM-LO-015')!.judgedBy.length).toBeGreaterThan(0);
  });
});

test.describe('client mode: the client under test', () => {
  const get2 = { commands: [hdr(1), { ...get(BIG), cmdID: '2' }, { ...get('./DevDetail/SwV'), cmdID: '3' }], final: true };
  const swv = results({ cmdID: 4, msgRef: '1', cmdRef: '3', items: [item({ source: './DevDetail/SwV', data: '10.0' })] });
  const pull = (msgRef: number) => ({ commands: [hdr(msgRef), alert('1222', [], 2)] });

  test('the chunks of an upload follow each other with nothing between them (MDM-LO-013)', () => {
    const ok = session({ commands: [hdr(1)], final: true }, get2, { commands: [hdr(1), chunk(4, BIG, 'a'.repeat(100), true, 150)] }, pull(2),
      { commands: [hdr(2), chunk(2, BIG, 'a'.repeat(50), false), swv], final: true });
    expect(verdicts(findings(CLIENT_CHECKS, ok, 'MDM-LO-013'))).toEqual(['pass']);
    const between = session({ commands: [hdr(1)], final: true }, get2, { commands: [hdr(1), chunk(4, BIG, 'a'.repeat(100), true, 150)] }, pull(2),
      { commands: [hdr(2), swv, chunk(3, BIG, 'a'.repeat(50), false)], final: true });
    const f = findings(CLIENT_CHECKS, between, 'MDM-LO-013');
    expect(verdicts(f)).toEqual(['fail']);
    expect(f[0].evidence).toContain('msg 5 (device->server) /SyncBody/Results[1]: Results sent while the chunked Results of');
    const gap = session({ commands: [hdr(1)], final: true }, get2, { commands: [hdr(1), chunk(4, BIG, 'a'.repeat(100), true, 150)] }, pull(2),
      { commands: [hdr(2)] }, pull(3), { commands: [hdr(3), chunk(2, BIG, 'a'.repeat(50), false)], final: true });
    expect(findings(CLIENT_CHECKS, gap, 'MDM-LO-013')[0].evidence).toContain('travel in consecutive messages');
    // The server gave the object up with Alert 1225: the device owes no more of it.
    const abandoned = session({ commands: [hdr(1)], final: true }, get2, { commands: [hdr(1), chunk(4, BIG, 'a'.repeat(100), true, 150)] },
      { commands: [hdr(2), alert('1225', [item({ source: BIG })], 2)], final: true }, { commands: [hdr(2), swv], final: true });
    expect(verdicts(findings(CLIENT_CHECKS, abandoned, 'MDM-LO-013'))).toEqual(['pass']);
  });

  test('Results split across messages other than by chunks fail MDM-LO-022, and the extra Results count follows from it', () => {
    const getBoth = { commands: [hdr(1), { ...get('./DevDetail/SwV', BIG), cmdID: '2' }], final: true };
    const part = (cmdID: number, uri: string, data: string, more = false) => results({ cmdID, msgRef: '1', cmdRef: '2', items: [item({ source: uri, data, moreData: more })] });
    const split = session({ commands: [hdr(1)], final: true }, getBoth, { commands: [hdr(1), status({ cmdID: 2, msgRef: '1', cmdRef: '2', cmd: 'Get', code: 200 }), part(3, './DevDetail/SwV', '10.0')] },
      pull(2), { commands: [hdr(2), part(2, BIG, 'b'.repeat(80))], final: true });
    expect(verdicts(findings(CLIENT_CHECKS, split, 'MDM-LO-022'))).toEqual(['fail']);
    expect(verdicts(findings(CLIENT_CHECKS, split, 'MDM-RES-004'))).toContain('fail (of MDM-LO-022)');
    const whole = session({ commands: [hdr(1)], final: true }, getBoth, { commands: [hdr(1), status({ cmdID: 2, msgRef: '1', cmdRef: '2', cmd: 'Get', code: 200 }),
      results({ cmdID: 3, msgRef: '1', cmdRef: '2', items: [item({ source: './DevDetail/SwV', data: '10.0' }), item({ source: BIG, data: 'b'.repeat(80), moreData: true, size: 120 })] })] },
    pull(2), { commands: [hdr(2), part(2, BIG, 'b'.repeat(40))], final: true });
    expect(verdicts(findings(CLIENT_CHECKS, whole, 'MDM-LO-022'))).toEqual(['pass']);
    expect(findings(CLIENT_CHECKS, whole, 'MDM-RES-004').filter((f) => f.verdict === 'fail')).toEqual([]);
  });

  test('no object larger than the MaxObjSize of the server SyncHdr: a warning, as Windows ignores it (MDM-LO-018, A-12)', () => {
    const limited = { ...get2, maxObjSize: 100 };
    const within = session({ commands: [hdr(1)], final: true }, limited, { commands: [hdr(1), swv], final: true });
    expect(verdicts(findings(CLIENT_CHECKS, within, 'MDM-LO-018'))).toEqual(['pass']);
    const larger = session({ commands: [hdr(1)], final: true }, limited, { commands: [hdr(1), chunk(4, BIG, 'c'.repeat(90), true, 400)] });
    const f = findings(CLIENT_CHECKS, larger, 'MDM-LO-018');
    expect(verdicts(f)).toEqual(['warn']);
    expect(f[0].evidence).toContain('an object of 400 bytes, larger than the MaxObjSize 100');
    // Without a limit any size goes.
    expect(findings(CLIENT_CHECKS, session({ commands: [hdr(1)], final: true }, get2, { commands: [hdr(1), chunk(4, BIG, 'c'.repeat(90), true, 400)] }), 'MDM-LO-018')).toEqual([]);
  });
});
