/**
 * The large-object behaviour of the reference peers, sans I/O: a DeviceSession and a ServerSession talk to each
 * other in memory, so each rule is shown on the messages themselves, conforming by default and broken by its knob.
 */
import { expect, test } from '@playwright/test';
import { executeCommands } from '../../harness/device/execute';
import { defaultProfilePath, loadProfile, readProfileFile, validateProfile } from '../../harness/device/profile';
import type { DmTree } from '../../harness/device/tree';
import { DeviceSession, type DeviceSessionBehaviour } from '../../harness/protocol/device-session';
import { ServerSession, type ServerBehaviour } from '../../harness/protocol/server-session';
import { codeOf, get, replace, type Command, type SyncML } from '../../harness/syncml';

const DEVICE = 'urn:uuid:lo-device';
const SERVER = 'https://mdm.example/ManagementServer/MDM.svc';
const NODE = './Device/Vendor/MSFT/NodeCache/MDMConformance/Nodes/1/ExpectedValue';

function tree(lrgObj = 'true'): DmTree {
  const profile = structuredClone(validateProfile(readProfileFile(defaultProfilePath)));
  profile.tree.DevDetail.children!.LrgObj.value = lrgObj;
  return loadProfile(profile, { deviceId: DEVICE });
}

interface Pair {
  tree?: DmTree;
  queue: Command[];
  device?: { maxMsgSize?: number; maxSendSize?: number; interruptUpload?: boolean; behaviour?: Partial<DeviceSessionBehaviour> };
  server?: Partial<ServerBehaviour>;
}

/** Runs one session between the two engines; every message in order, device first. */
function converse(p: Pair): { messages: SyncML[]; server: ServerSession; tree: DmTree } {
  const t = p.tree ?? tree();
  const queue = [...p.queue];
  const server = new ServerSession({ serverUrl: SERVER, deviceId: DEVICE, sessionID: '1', queue: { peek: () => queue[0], shift: () => queue.shift() }, behaviour: p.server });
  const device = new DeviceSession({
    deviceId: DEVICE, serverUrl: SERVER, sessionID: '1', devInfo: [{ uri: './DevInfo/DevId', value: DEVICE }],
    executor: (commands, ctx) => executeCommands(t, commands, { msgRef: ctx.msgRef }),
    maxMsgSize: p.device?.maxMsgSize, maxSendSize: p.device?.maxSendSize, interruptUpload: p.device?.interruptUpload, behaviour: p.device?.behaviour,
  });
  const messages: SyncML[] = [];
  let next: SyncML | undefined = device.start();
  for (let i = 0; next && i < 30; i++) {
    messages.push(next);
    const reply = server.receive(next);
    messages.push(reply);
    next = device.receive(reply);
  }
  return { messages, server, tree: t };
}

const fromServer = (ms: SyncML[]) => ms.filter((_, i) => i % 2 === 1);
const fromDevice = (ms: SyncML[]) => ms.filter((_, i) => i % 2 === 0);
const chunks = (ms: SyncML[]) => fromServer(ms).flatMap((m) => m.body.commands).filter((c) => 'items' in c && c.items.some((i) => i.moreData));
const gets = (ms: SyncML[], uri: string) => fromServer(ms).flatMap((m) => m.body.commands).filter((c) => c.kind === 'Get' && c.items.some((i) => i.target?.locURI === uri));
const value = 'large object & <data> '.repeat(320);

test.describe('the reference server', () => {
  test('reads ./DevDetail/LrgObj before the first object the device MaxMsgSize forces into chunks (MDM-LO-019)', () => {
    const yes = converse({ queue: [replace(NODE, value, { format: 'chr' })], device: { maxMsgSize: 2500 } });
    expect(gets(yes.messages, './DevDetail/LrgObj')).toHaveLength(1);
    expect(chunks(yes.messages).length).toBeGreaterThan(1);
    const stored = yes.tree.get(NODE);
    expect(stored.ok && stored.data).toBe(value);

    const no = converse({ tree: tree('false'), queue: [replace(NODE, value, { format: 'chr' })], device: { maxMsgSize: 2500 } });
    expect(chunks(no.messages)).toEqual([]);
    expect(no.server.events.filter((e) => e.type === 'undeliverable').map((e) => e.type === 'undeliverable' && e.reason)[0]).toContain('does not take large objects');

    const unchecked = converse({ tree: tree('false'), queue: [replace(NODE, value, { format: 'chr' })], device: { maxMsgSize: 2500 }, server: { checkLrgObj: false } });
    expect(gets(unchecked.messages, './DevDetail/LrgObj')).toEqual([]);
    expect(chunks(unchecked.messages).length).toBeGreaterThan(1);
  });

  test('holds back a command that fits no message and cannot be chunked (MDM-LO-022)', () => {
    const many = get(...Array.from({ length: 30 }, (_, n) => `./DevDetail/Ext/Microsoft/Node${n}`));
    const held = converse({ queue: [many], device: { maxMsgSize: 1200 } });
    expect(fromServer(held.messages).flatMap((m) => m.body.commands).filter((c) => c.kind === 'Get')).toEqual([]);
    const sent = converse({ queue: [many], device: { maxMsgSize: 1200 }, server: { holdBackUnfittingCommands: false } });
    expect(fromServer(sent.messages).flatMap((m) => m.body.commands).filter((c) => c.kind === 'Get')).toHaveLength(1);
  });

  test('answers an upload abandoned before its last chunk with Alert 1225 naming it (MDM-LO-014)', () => {
    const t = tree();
    t.replace(NODE, { format: 'chr', value });
    const run = converse({ tree: t, queue: [get(NODE), get('./DevInfo/Mod')], device: { maxSendSize: 1500, interruptUpload: true } });
    const alerts = fromServer(run.messages).flatMap((m) => m.body.commands).filter((c) => c.kind === 'Alert' && codeOf(c) === '1225');
    expect(alerts.map((a) => a.kind === 'Alert' && a.items[0]?.source?.locURI)).toEqual([NODE]);
    const silent = converse({ tree: t, queue: [get(NODE), get('./DevInfo/Mod')], device: { maxSendSize: 1500, interruptUpload: true }, server: { alertInterruptedUpload: false } });
    expect(fromServer(silent.messages).flatMap((m) => m.body.commands).filter((c) => c.kind === 'Alert' && codeOf(c) === '1225')).toEqual([]);
  });
});

test.describe('the reference device', () => {
  const withValue = () => {
    const t = tree();
    t.replace(NODE, { format: 'chr', value });
    return t;
  };

  test('sends no object larger than the MaxObjSize of the server SyncHdr: the Get is answered 413 (MDM-LO-018)', () => {
    const run = converse({ tree: withValue(), queue: [get(NODE)], server: { advertiseMaxObjSize: 1000 } });
    const device = fromDevice(run.messages).flatMap((m) => m.body.commands);
    expect(device.filter((c) => c.kind === 'Results')).toEqual([]);
    expect(device.filter((c) => c.kind === 'Status' && c.cmd === 'Get').map((c) => c.kind === 'Status' && codeOf(c))).toEqual(['413']);
    const ignoring = converse({ tree: withValue(), queue: [get(NODE)], server: { advertiseMaxObjSize: 1000 }, device: { behaviour: { honourServerMaxObjSize: false } } });
    expect(fromDevice(ignoring.messages).flatMap((m) => m.body.commands).filter((c) => c.kind === 'Results')).toHaveLength(1);
  });

  test('keeps a Results of several Items too large for one message whole (MDM-LO-022); the fault spreads it', () => {
    const whole = converse({ tree: withValue(), queue: [get('./DevDetail/SwV', NODE)], device: { maxSendSize: 2000 } });
    const results = (ms: SyncML[]) => fromDevice(ms).map((m) => m.body.commands.filter((c) => c.kind === 'Results').length).filter((n) => n);
    expect(results(whole.messages)).toEqual([1]);
    const split = converse({ tree: withValue(), queue: [get('./DevDetail/SwV', NODE)], device: { maxSendSize: 2000, behaviour: { splitResultsOverMessages: true } } });
    expect(results(split.messages).length).toBeGreaterThan(1);
  });

  test('applies a chunked object only once it is whole (MDM-LO-015); the fault writes each chunk', () => {
    // The object is interrupted after its first chunk: nothing of it may stay.
    const run = (behaviour: Partial<DeviceSessionBehaviour>) => {
      const t = tree();
      t.replace(NODE, { format: 'chr', value: 'old' });
      converse({ tree: t, queue: [replace(NODE, value, { format: 'chr' }), get(NODE)], server: { chunkBytes: 1000, interruptChunkedObject: true }, device: { behaviour } });
      const read = t.get(NODE);
      return read.ok ? read.data : undefined;
    };
    expect(run({})).toBe('old');
    const early = run({ atomicChunkedObjects: false });
    expect(early).not.toBe('old');
    expect(value.startsWith(early!)).toBe(true);
  });
});
