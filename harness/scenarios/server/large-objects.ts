/** Server scenarios of the large-object phase (catalogue S8, column "server under test"; OMA-DMP 6 and 7). */
import { label } from '../../checks/session';
import { defaultProfilePath, loadProfile, readProfileFile, validateProfile } from '../../device/profile';
import type { DmTree } from '../../device/tree';
import { mintDeviceIdentity, type Identity, type TestPki } from '../../pki';
import { get, replace } from '../../syncml';
import type { Scenario } from '../scenario';
import { NODES } from './nodes';
import { enrollSecondDevice, needsControl, reachable, secondDeviceId, session, type ServerUnderTest } from './target';

type ServerScenario = Scenario<ServerUnderTest>;

/** A text node: its large values exercise escaping across chunk boundaries. */
const BLOB = NODES.expectedValue;
const NAME = NODES.cacheVersion;

/** Text of `n` bytes that exercises escaping as it is chunked. */
function payload(n: number): string {
  const unit = 'large-object <chunk> & data 0123456789 ';
  return unit.repeat(Math.ceil(n / unit.length)).slice(0, n);
}

export const deferredCommands: ServerScenario = {
  id: 'large-objects/commands-wait-for-next-package',
  phase: 'large-object',
  title: 'advertises a small MaxMsgSize and queues more than fits: the rest must wait for later packages',
  requirements: ['MDM-LO-019', 'MDM-LO-005'],
  feature: 'large-objects',
  needs: needsControl,
  async run(t, log) {
    await t.queue!(t.deviceId, [1, 2, 3, 4, 5, 6].map((n) => replace(NAME, `name ${n} ${payload(250)}`, { format: 'chr' })));
    const run = await session(t, log, { maxMsgSize: 1200 });
    if (!reachable(log, run, this.id)) return;
    // More was queued than one message of 1200 bytes holds: the limit was in play whichever way the server honoured it.
    const replies = run.view.exchanges.filter((x) => x.response?.syncml?.body.commands.some((c) => c.kind === 'Replace'));
    if (replies.length > 1) log.add([{ id: 'MDM-LO-019', verdict: 'pass', check: this.id, evidence: `the 6 queued Replace commands came in ${replies.length} messages within the device's MaxMsgSize` }]);
  },
};

export const chunkedItem: ServerScenario = {
  id: 'large-objects/item-larger-than-a-message',
  phase: 'large-object',
  title: 'queues a Replace larger than the device MaxMsgSize: it must arrive in chunks and reassemble exactly',
  requirements: ['MDM-LO-009', 'MDM-LO-011', 'MDM-LO-013', 'MDM-LO-008', 'MDM-LO-006'],
  feature: 'large-objects',
  needs: needsControl,
  async run(t, log) {
    const value = payload(7000);
    await t.queue!(t.deviceId, [replace(BLOB, value, { format: 'chr' })]);
    let stored: string | undefined;
    const run = await session(t, log, { maxMsgSize: 2500 }, async (d) => {
      const r = await d.runSession(t.url);
      const got = d.tree.get(BLOB);
      stored = got.ok ? got.data : undefined;
      return r;
    });
    if (!reachable(log, run, this.id)) return;
    const ok = stored === value;
    log.add([{
      id: 'MDM-LO-008', verdict: ok ? 'pass' : 'fail', check: this.id,
      evidence: ok ? `the ${value.length}-byte object arrived in chunks and reassembled exactly`
        : `the device does not hold the ${value.length}-byte object after the session (holds ${stored?.length ?? 'nothing'} bytes)`,
    }]);
  },
};

export const maxObjSize: ServerScenario = {
  id: 'large-objects/object-larger-than-max-obj-size',
  phase: 'large-object',
  title: 'advertises MaxObjSize and queues a larger object: the server must not send it',
  requirements: ['MDM-LO-018'],
  feature: 'large-objects',
  needs: needsControl,
  async run(t, log) {
    await t.queue!(t.deviceId, [replace(BLOB, payload(4000), { format: 'chr' })]);
    const run = await session(t, log, { maxMsgSize: 3000, maxObjSize: 1500 });
    if (!reachable(log, run, this.id)) return;
    // Held back entirely is the conforming outcome, and no message shows it: the scenario knows what was queued.
    const sent = run.view.exchanges.some((x) => x.response?.syncml?.body.commands.some((c) => 'items' in c && c.items.some((i) => i.target?.locURI?.trim() === BLOB)));
    if (!sent) log.add([{ id: 'MDM-LO-018', verdict: 'pass', check: this.id, evidence: 'the 4000-byte object queued for the device was not sent: the device advertised MaxObjSize 1500' }]);
  },
};

export const chunkedResults: ServerScenario = {
  id: 'large-objects/results-in-chunks',
  phase: 'large-object',
  title: 'answers a Get with Results larger than a message, in chunks: each must be acknowledged with 213',
  requirements: ['MDM-LO-021', 'MDM-LO-010'],
  feature: 'large-objects',
  needs: needsControl,
  async run(t, log) {
    await t.queue!(t.deviceId, [get(BLOB)]);
    const run = await session(t, log, { maxSendSize: 1500 }, async (d) => {
      d.tree.replace(BLOB, { format: 'chr', value: payload(5000) });
      return d.runSession(t.url);
    });
    reachable(log, run, this.id);
  },
};

export const resultsSizeMismatch: ServerScenario = {
  id: 'large-objects/results-size-mismatch',
  phase: 'large-object',
  title: 'uploads chunked Results whose total differs from the declared Size: the server must answer 424',
  requirements: ['MDM-LO-012'],
  feature: 'large-objects',
  needs: needsControl,
  async run(t, log) {
    await t.queue!(t.deviceId, [get(BLOB)]);
    const run = await session(t, log, { maxSendSize: 1500, uploadSizeError: 10 }, async (d) => {
      d.tree.replace(BLOB, { format: 'chr', value: payload(4000) });
      return d.runSession(t.url);
    });
    reachable(log, run, this.id);
  },
};

export const devicePackageSpansMessages: ServerScenario = {
  id: 'large-objects/device-package-spans-messages',
  phase: 'large-object',
  title: 'spreads its reply package over several messages: each must get a "Next Message" reply',
  requirements: ['MDM-LO-004', 'MDM-LO-007'],
  needs: needsControl,
  async run(t, log) {
    await t.queue!(t.deviceId, [get('./DevInfo/Man'), get('./DevInfo/Mod'), get('./DevInfo/Lang'), get('./DevDetail/SwV'), get('./DevDetail/FwV'), get('./DevDetail/HwV')]);
    const run = await session(t, log, { maxSendSize: 1100 });
    reachable(log, run, this.id);
  },
};

/** Every DevInfo and DevDetail leaf Windows lets a server read: one Get of them all is larger than 1200 bytes. */
const INVENTORY = [
  './DevInfo/Man', './DevInfo/Mod', './DevInfo/DmV', './DevInfo/Lang', './DevDetail/DevTyp', './DevDetail/OEM', './DevDetail/FwV',
  './DevDetail/SwV', './DevDetail/HwV', './DevDetail/LrgObj', './DevDetail/URI/MaxDepth', './DevDetail/URI/MaxTotLen',
  './DevDetail/URI/MaxSegLen', './DevDetail/Ext/Microsoft/DeviceName', './DevDetail/Ext/Microsoft/OSPlatform',
  './DevDetail/Ext/Microsoft/ProcessorArchitecture', './DevDetail/Ext/Microsoft/TotalRAM', './DevDetail/Ext/Microsoft/TotalStorage',
];

export const commandLargerThanAMessage: ServerScenario = {
  id: 'large-objects/command-larger-than-a-message',
  phase: 'large-object',
  title: `advertises MaxMsgSize 1200 and queues one Get of ${INVENTORY.length} nodes, larger than that by itself: it must not reach the device whole`,
  requirements: ['MDM-LO-022'],
  feature: 'large-objects',
  needs: needsControl,
  async run(t, log) {
    const maxMsgSize = 1200;
    await t.queue!(t.deviceId, [get(...INVENTORY)]);
    const run = await session(t, log, { maxMsgSize });
    if (!reachable(log, run, this.id)) return;
    // Sent whole, the Get overflows its message: the passive checks fail that. Split into smaller Gets, or held back,
    // every command fitted a message; no message shows the second, the scenario knows what was queued.
    const carrying = run.view.exchanges.map((x) => x.response).filter((m) => m?.syncml?.body.commands.some((c) => c.kind === 'Get' && c.items.some((i) => INVENTORY.includes(i.target?.locURI?.trim() ?? ''))));
    if (carrying.some((m) => (m?.http?.bodyBytes ?? 0) > maxMsgSize)) return;
    const evidence = carrying.length
      ? `the ${INVENTORY.length}-node Get, larger than MaxMsgSize ${maxMsgSize} as one command, came as smaller Gets in ${carrying.length} message(s) within it`
      : `the ${INVENTORY.length}-node Get, larger than MaxMsgSize ${maxMsgSize} as one command, was not sent`;
    log.add([{ id: 'MDM-LO-022', verdict: 'pass', check: this.id, evidence }]);
  },
};

export const interruptedUpload: ServerScenario = {
  id: 'large-objects/interrupted-upload',
  phase: 'large-object',
  title: 'answers two Gets with Results too large for one message, then sends the second Results instead of the next chunk of the first: the server must answer Alert 1225',
  requirements: ['MDM-LO-014'],
  feature: 'large-objects',
  needs: needsControl,
  async run(t, log) {
    await t.queue!(t.deviceId, [get(BLOB), get(NAME)]);
    const run = await session(t, log, { maxSendSize: 1500, interruptUpload: true }, async (d) => {
      d.tree.replace(BLOB, { format: 'chr', value: payload(5000) });
      return d.runSession(t.url);
    });
    if (!reachable(log, run, this.id)) return;
    const gets = run.view.exchanges.filter((x) => x.response?.syncml?.body.commands.some((c) => c.kind === 'Get'));
    if (gets.length > 1) {
      log.add([{
        id: 'MDM-LO-014', verdict: 'inconclusive', check: this.id,
        evidence: 'the server sent the two queued Gets in separate packages, so the device had no other Results to interrupt its chunked one with',
      }]);
    }
  },
};

/** The device's flag for large-object support (OMA-DMP 7; DevDetail CSP). */
const LRG_OBJ = './DevDetail/LrgObj';

/** The reference device's tree as shipped, but reading false in ./DevDetail/LrgObj: a device without large objects. */
function treeWithoutLargeObjects(deviceId: string): DmTree {
  const profile = structuredClone(validateProfile(readProfileFile(defaultProfilePath)));
  profile.tree.DevDetail.children!.LrgObj.value = 'false';
  return loadProfile(profile, { deviceId });
}

/** Minting an identity takes up to a few hundred milliseconds: the device's is made once per PKI. */
const minted = new WeakMap<TestPki, Map<string, Identity>>();
function identityFor(pki: TestPki, deviceId: string): Identity {
  let forPki = minted.get(pki);
  if (!forPki) minted.set(pki, (forPki = new Map()));
  let identity = forPki.get(deviceId);
  if (!identity) forPki.set(deviceId, (identity = mintDeviceIdentity(pki, 'valid', { deviceId })));
  return identity;
}

export const deviceWithoutLargeObjects: ServerScenario = {
  id: 'large-objects/device-without-large-objects',
  phase: 'large-object',
  title: `plays the second device, whose ${LRG_OBJ} reads false, with MaxMsgSize 2500 and a 7000-byte Replace queued for it: no chunk may reach it`,
  requirements: ['MDM-LO-019'],
  feature: 'large-objects',
  needs: (t) => needsControl(t) ?? (t.pki || t.enrollDevice ? undefined
    : 'needs the certificate of a second device, played without large objects: harness-issued identities (--pki from pki init) to mint it, or --enroll to enroll it'),
  async run(t, log) {
    // Not the run's own device, whose LrgObj the server may have read as true: the second device, which no other
    // scenario lets the server read (its other sessions end after package 1 or speak as the first device).
    const deviceId = secondDeviceId(t);
    let identity: Identity;
    if (t.enrollDevice) {
      const enrolled = await enrollSecondDevice(t, deviceId);
      if ('why' in enrolled) {
        log.add([{ id: 'MDM-LO-019', verdict: 'inconclusive', check: this.id, evidence: `${enrolled.why}; without a second device, a device without large objects cannot be played` }]);
        return;
      }
      identity = enrolled.identity;
    } else {
      identity = identityFor(t.pki!, deviceId);
    }
    await t.queue!(deviceId, [replace(BLOB, payload(7000), { format: 'chr' })]);
    const run = await session(t, log, { deviceId, identity, tree: treeWithoutLargeObjects(deviceId), maxMsgSize: 2500 });
    if (!reachable(log, run, this.id)) return;
    const replies = run.view.exchanges.map((x) => x.response).filter((m) => m?.syncml);
    const asked = replies.find((m) => m!.syncml!.body.commands.some((c) => c.kind === 'Get' && c.items.some((i) => i.target?.locURI?.trim() === LRG_OBJ)));
    const chunk = replies.find((m) => m!.syncml!.body.commands.some((c) => 'items' in c && c.items.some((i) => i.moreData)));
    const read = asked ? `the server read ${LRG_OBJ} in ${label(asked)}` : `the server never read ${LRG_OBJ}`;
    log.add([chunk
      ? { id: 'MDM-LO-019', verdict: 'warn', check: this.id, evidence: `${label(chunk)}: a chunk of a large object for a device whose ${LRG_OBJ} reads false; ${read}, and it should check it before sending chunked data` }
      : { id: 'MDM-LO-019', verdict: 'pass', check: this.id, evidence: `no chunk reached the device, whose ${LRG_OBJ} reads false (${read}; the 7000-byte Replace exceeds its MaxMsgSize 2500)` }]);
  },
};

export const LARGE_OBJECT_SCENARIOS: readonly ServerScenario[] = [
  deferredCommands, chunkedItem, maxObjSize, chunkedResults, resultsSizeMismatch, devicePackageSpansMessages, commandLargerThanAMessage,
  interruptedUpload, deviceWithoutLargeObjects,
];
