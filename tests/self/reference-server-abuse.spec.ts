/**
 * The reference server under abuse (issue "hardening", item 4): several enrolled devices, each with its own
 * certificate, run sessions while another posts garbage at the same time; every device gets its own commands and
 * nothing of another's; a device that sends another device's SessionID gets a session of its own; and sessions a
 * client opens and abandons are expired after `sessionIdleMs` (MDM-SES-021, MDM-TERM-008).
 */
import { expect, test } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import { ReferenceDevice, type SteppedSession } from '../../harness/device/reference-device';
import { createTestPki, mintDeviceIdentity, type Identity, type TestPki } from '../../harness/pki';
import { ReferenceServer, type SessionRecord } from '../../harness/server/reference-server';
import { get, replace, serializeSyncML } from '../../harness/syncml';
import { NODES } from '../../harness/scenarios/server/nodes';

const NAME = NODES.cacheVersion;

let pki: TestPki;
const identities = new Map<string, Identity>();
test.beforeAll(() => {
  pki = createTestPki({ keyType: 'ec' });
  for (const id of ['abuse-a', 'abuse-b', 'abuse-c']) identities.set(id, mintDeviceIdentity(pki, 'valid', { deviceId: id }));
});

function deviceOf(id: string): ReferenceDevice {
  return new ReferenceDevice({ deviceId: id, identity: identities.get(id)!, serverCa: pki.ca.certPem, timeoutMs: 3_000 });
}

async function startServer(opts: { sessionIdleMs?: number; onSessionEnd?: (r: SessionRecord) => void } = {}): Promise<ReferenceServer> {
  const server = new ReferenceServer({ identity: pki.server, ca: pki.ca.certPem, maxRequestBytes: 256 * 1024, ...opts });
  await server.start();
  return server;
}

/** Steps a session until the server's reply carries a command: the session is then half-way, waiting for statuses. */
async function halfWay(s: SteppedSession): Promise<void> {
  for (let i = 0; i < 3 && s.next; i++) {
    const x = await s.step();
    if (x?.response?.parsed?.message.body.commands.some((c) => c.kind !== 'Status')) return;
  }
  throw new Error(`session ${s.sessionID} never carried a command`);
}

test('keeps serving every device while one posts garbage at the same time, and each device gets only its own commands', async () => {
  const server = await startServer();
  const ids = [...identities.keys()];
  const garbageDevice = new ReferenceDevice({ deviceId: pki.deviceId, identity: pki.device, serverCa: pki.ca.certPem, timeoutMs: 3_000 });
  const devices = ids.map(deviceOf);
  try {
    for (const id of ids) server.queueRounds(id, [replace(NAME, `owned by ${id}`, { format: 'chr' })], [get(NAME)]);
    const xml = serializeSyncML(garbageDevice.package1(server.url));
    const garbage: (string | Buffer)[] = [
      'this is not a SyncML message',
      xml.slice(0, xml.length / 2),
      `<!DOCTYPE SyncML [<!ENTITY x SYSTEM "file:///etc/passwd">]>${xml}`,
      `<SyncML xmlns="SYNCML:SYNCML1.2">${'<a>'.repeat(5_000)}`,
      randomBytes(4096),
      Buffer.alloc(300 * 1024, 0x61),
    ];
    let running = true;
    let passes = 0;
    const flood = (async () => {
      while (running || passes === 0) {
        for (const body of garbage) await garbageDevice.post(server.url, body);
        passes++;
      }
    })();
    const runs = await Promise.all(devices.map(async (d) => {
      const out = [];
      for (let i = 0; i < 3; i++) out.push(await d.runSession(server.url));
      return out;
    }));
    running = false;
    await flood;

    for (const [i, id] of ids.entries()) {
      expect(runs[i].map((r) => r.end), `${id}'s sessions`).toEqual([{ reason: 'completed' }, { reason: 'completed' }, { reason: 'completed' }]);
      // The device's own tree holds its own value, and what it read back is its own.
      expect(devices[i].tree.get(NAME)).toMatchObject({ ok: true, data: `owned by ${id}` });
      const results = server.sessionsOf(id).flatMap((s) => s.events).filter((e) => e.type === 'results');
      expect(results.map((e) => e.type === 'results' && e.items[0]?.data?.text)).toEqual([`owned by ${id}`]);
      // No reply to this device mentions another device's value.
      for (const x of server.transcript.exchanges.filter((e) => e.request.parsed?.message.hdr.source?.locURI?.trim() === id)) {
        for (const other of ids.filter((o) => o !== id)) expect(x.response?.body.toString('utf8') ?? '').not.toContain(`owned by ${other}`);
      }
    }
    // None of the garbage parses as SyncML; every well-behaved request does.
    const floodExchanges = server.transcript.exchanges.filter((x) => !x.request.parsed);
    expect(passes).toBeGreaterThan(0);
    expect(floodExchanges.length).toBeGreaterThanOrEqual(garbage.length);
    expect(floodExchanges.every((x) => x.response !== undefined)).toBe(true);
    // The garbage came while the devices' sessions were running, not before or after them.
    const sessions = server.transcript.exchanges.filter((x) => x.request.parsed);
    const [first, last] = [Math.min(...sessions.map((x) => x.startedAt)), Math.max(...sessions.map((x) => x.endedAt))];
    expect(floodExchanges.filter((x) => x.startedAt > first && x.startedAt < last).length).toBeGreaterThanOrEqual(2);
    // Garbage gets a 4xx, never a 5xx; the handler never failed.
    expect([...new Set(floodExchanges.map((x) => x.response!.status))].sort()).toEqual([400, 413]);
    expect(server.transcript.exchanges.filter((x) => x.error?.kind === 'handler')).toEqual([]);
  } finally {
    await garbageDevice.close();
    await Promise.all(devices.map((d) => d.close()));
    await server.stop();
  }
});

test("a device that sends another device's SessionID gets a session of its own, and the first session carries on (MDM-SES-021)", async () => {
  const server = await startServer();
  const [a, b] = ['abuse-a', 'abuse-b'].map(deviceOf);
  try {
    server.queueRounds('abuse-a', [get('./DevDetail/SwV')], [replace(NAME, 'for abuse-a only', { format: 'chr' })]);
    const sa = a.openSession(server.url);
    await halfWay(sa);
    const sb = b.openSession(server.url, { sessionID: sa.sessionID });
    const bx = await sb.step();
    const bReply = bx?.response?.parsed?.message;
    expect(bReply?.hdr.msgID).toBe('1');
    expect(bReply?.hdr.target?.locURI).toBe('abuse-b');
    expect(bx?.response?.body.toString('utf8')).not.toContain('for abuse-a only');
    for (let i = 0; i < 4 && sb.next; i++) await sb.step();
    for (let i = 0; i < 6 && sa.next; i++) await sa.step();
    expect(sa.exchanges.map((x) => x.response?.parsed?.message.hdr.msgID)).toEqual(['1', '2', '3']);
    expect(sa.exchanges.some((x) => x.response?.body.toString('utf8').includes('for abuse-a only'))).toBe(true);
    const records = server.sessions.filter((r) => r.sessionID === sa.sessionID);
    expect(records.map((r) => [r.deviceId, r.state])).toEqual([['abuse-a', 'closing'], ['abuse-b', 'closing']]);
    expect(a.tree.get(NAME)).toMatchObject({ data: 'for abuse-a only' });
    expect(b.tree.get(NAME)).not.toMatchObject({ data: 'for abuse-a only' });
  } finally {
    await a.close();
    await b.close();
    await server.stop();
  }
});

test('sessions a client opens and abandons are expired after sessionIdleMs, and their SessionID then starts afresh (MDM-SES-021, MDM-TERM-008)', async () => {
  const IDLE_MS = 300;
  const ended: SessionRecord[] = [];
  const server = await startServer({ sessionIdleMs: IDLE_MS, onSessionEnd: (r) => ended.push(r) });
  const ids = [...identities.keys()];
  const devices = ids.map(deviceOf);
  try {
    for (const id of ids) server.queue(id, get('./DevDetail/SwV'));
    const abandoned = await Promise.all(devices.map(async (d) => {
      const s = d.openSession(server.url);
      await halfWay(s);
      return s;
    }));
    const left = Date.now();
    const records = abandoned.map((s, i) => server.sessions.find((r) => r.deviceId === ids[i] && r.sessionID === s.sessionID)!);
    expect(records.map((r) => r.state)).toEqual(['open', 'open', 'open']);
    // Nothing else reaches the server: the expiry comes on its own.
    await expect.poll(() => records.map((r) => r.state), { timeout: 3_000, intervals: [50] }).toEqual(['expired', 'expired', 'expired']);
    const took = Date.now() - left;
    expect(took).toBeGreaterThanOrEqual(IDLE_MS - 50); // timers fire a few ms early or late
    expect(took).toBeLessThan(IDLE_MS + 1_000);
    expect(ended.filter((r) => r.state === 'expired')).toHaveLength(3);

    // The device comes back with the rest of the abandoned session: the server no longer knows it, so it is a new one.
    const before = server.sessions.length;
    const late = await abandoned[0].step();
    expect(late?.response?.parsed?.message.hdr.msgID).toBe('1');
    expect(server.sessions.length).toBe(before + 1);
    // And a fresh session of every device runs to the end.
    for (const d of devices) expect((await d.runSession(server.url)).end).toEqual({ reason: 'completed' });
  } finally {
    await Promise.all(devices.map((d) => d.close()));
    await server.stop();
  }
});
