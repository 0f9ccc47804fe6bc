/**
 * The clean reference device against the clean reference server, over mutual TLS on loopback: every scenario a
 * correct pair can run (catalogue section 6), with the transcript asserted message by message.
 */
import { expect, test } from '@playwright/test';
import { ReferenceDevice, type ReferenceDeviceOptions } from '../../harness/device/reference-device';
import { createTestPki, type TestPki } from '../../harness/pki';
import { ReferenceServer, type ReferenceServerOptions } from '../../harness/server/reference-server';
import { add, atomic, del, eventAlert, exec, get, replace, sequence, type Command, type SyncML } from '../../harness/syncml';
import type { Exchange } from '../../harness/transport';
import { withReferencePair } from './reference-peers';
import { NODES } from '../../harness/scenarios/server/nodes';

let pki: TestPki;
test.beforeAll(() => {
  pki = createTestPki({ keyType: 'ec' });
});

const ENTRIES = NODES.nodeEntries;

/** One line per message: `D2 Status(SyncHdr 1/0=200) Results(Get 1/5) Final`. */
function lines(exchanges: Exchange[]): string[] {
  const out: string[] = [];
  let d = 0;
  let s = 0;
  const describe = (m: SyncML) => [
    ...m.body.commands.map((c: Command) => {
      if (c.kind === 'Status') return `Status(${c.cmd} ${c.msgRef}/${c.cmdRef}=${c.data?.text}${c.chal ? ' Chal' : ''})`;
      if (c.kind === 'Alert') return `Alert(${c.data?.text})`;
      if (c.kind === 'Results') return `Results(${c.msgRef}/${c.cmdRef}${c.items.some((i) => i.moreData) ? ' chunk' : ''})`;
      if (c.kind === 'Atomic' || c.kind === 'Sequence') return `${c.kind}[${c.commands.map((m) => m.kind).join(' ')}]`;
      if (c.kind === 'Unknown') return c.name;
      return `${c.kind}${c.items.some((i) => i.moreData) ? '(chunk)' : ''}`;
    }),
    ...(m.body.final ? ['Final'] : []),
  ].join(' ');
  for (const x of exchanges) {
    if (x.request.parsed) out.push(`D${++d} ${describe(x.request.parsed.message)}`);
    if (x.response?.parsed) out.push(`S${++s} ${describe(x.response.parsed.message)}`);
  }
  return out;
}

/** The reference pair of this file's PKI (reference-peers.ts). */
function pair(
  serverOpts: Partial<ReferenceServerOptions>, deviceOpts: Partial<ReferenceDeviceOptions>,
  body: (server: ReferenceServer, device: ReferenceDevice, url: string) => Promise<void>,
): Promise<void> {
  return withReferencePair(pki, serverOpts, deviceOpts, body);
}

test('minimal session: package 1, a Status-only close, and nothing more from the device (S1; MDM-TERM-001, MDM-TERM-002)', async () => {
  await pair({}, {}, async (_server, device, url) => {
    const run = await device.runSession(url);
    expect(run.end).toEqual({ reason: 'completed' });
    expect(lines(run.exchanges)).toEqual([
      'D1 Alert(1201) Alert(1224) Replace Final',
      'S1 Status(SyncHdr 1/0=200) Status(Alert 1/2=200) Status(Alert 1/3=200) Status(Replace 1/4=200) Final',
    ]);
  });
});

test('Get of a leaf, an interior node and a missing node: Status then Results, no Status for the Results (S2; MDM-STS-014, MDM-CMD-GET-004)', async () => {
  await pair({}, {}, async (server, device, url) => {
    server.queue(pki.deviceId, get('./DevDetail/SwV'), get('./DevInfo'), get(`${ENTRIES}/404`));
    const run = await device.runSession(url);
    expect(lines(run.exchanges)).toEqual([
      'D1 Alert(1201) Alert(1224) Replace Final',
      'S1 Status(SyncHdr 1/0=200) Status(Alert 1/2=200) Status(Alert 1/3=200) Status(Replace 1/4=200) Get Get Get Final',
      'D2 Status(SyncHdr 1/0=200) Status(Get 1/5=200) Status(Get 1/6=200) Status(Get 1/7=404) Results(1/5) Results(1/6) Final',
      'S2 Status(SyncHdr 2/0=200) Final',
    ]);
    const results = server.sessions[0].events.filter((e) => e.type === 'results');
    expect(results.map((e) => e.type === 'results' && [e.items[0].source?.locURI, e.items[0].data?.text])).toEqual([
      ['./DevDetail/SwV', expect.stringMatching(/^10\./)],
      ['./DevInfo', 'DevId/Man/Mod/DmV/Lang'],
    ]);
  });
});

test('management over several rounds: Add, Replace, Exec, Sequence, Delete with Windows codes (S3)', async () => {
  await pair({}, { maxMsgSize: 1400 }, async (server, device, url) => {
    server.queue(
      pki.deviceId,
      add(`${ENTRIES}/2`),
      add(`${ENTRIES}/2/ExpectedValue`, 'two', { format: 'chr' }),
      replace('./DevInfo/Man', 'Other'),
      exec('./Device/Vendor/MSFT/Defender/Scan', '1'),
      sequence(replace(NODES.cacheVersion, 'first', { format: 'chr' }), get(NODES.cacheVersion)),
      add(`${ENTRIES}/2`),
      del(`${ENTRIES}/2`),
    );
    const run = await device.runSession(url);
    expect(run.end).toEqual({ reason: 'completed' });
    const codes = server.sessions[0].events.flatMap((e) => (e.type === 'status' && e.answers ? [`${e.answers.command.kind}=${e.code}`] : []));
    expect(codes).toEqual(['Add=200', 'Add=200', 'Replace=405', 'Exec=202', 'Sequence=200', 'Replace=200', 'Get=200', 'Add=418', 'Delete=200']);
    expect(lines(run.exchanges).filter((l) => l.startsWith('S')).length).toBeGreaterThan(2); // spread over rounds by MaxMsgSize
    expect(device.tree.get(`${ENTRIES}/2`).ok).toBe(false);
  });
});

test('Atomic success and rollback: 200s, then 507 with 216 and the tree unchanged (S4; MDM-CMD-ATO-002, MDM-CMD-ATO-006)', async () => {
  await pair({}, {}, async (server, device, url) => {
    server.queue(
      pki.deviceId,
      atomic(replace(NODES.cacheVersion, 'kept', { format: 'chr' }), replace(NODES.activeHoursStart, '9', { format: 'int' })),
      atomic(replace(NODES.cacheVersion, 'rolled back', { format: 'chr' }), replace(`${ENTRIES}/404/ExpectedValue`, 'x')),
    );
    const run = await device.runSession(url);
    expect(lines(run.exchanges)[2]).toBe(
      'D2 Status(SyncHdr 1/0=200) Status(Atomic 1/5=200) Status(Replace 1/6=200) Status(Replace 1/7=200) ' +
        'Status(Atomic 1/8=507) Status(Replace 1/9=216) Status(Replace 1/10=404) Final',
    );
    const name = device.tree.get(NODES.cacheVersion);
    expect(name.ok && name.data).toBe('kept');
  });
});

test('client alerts: a generic alert 1226 in package 1 is answered 200 (S5; MDM-CMD-ALT-006)', async () => {
  await pair({}, {}, async (server, device, url) => {
    const run = await device.runSession(url, { alerts: [eventAlert('1226', { type: 'com.microsoft:mdm.unenrollment.userrequest', format: 'int', data: '1' })] });
    expect(lines(run.exchanges)).toEqual([
      'D1 Alert(1201) Alert(1224) Alert(1226) Replace Final',
      'S1 Status(SyncHdr 1/0=200) Status(Alert 1/2=200) Status(Alert 1/3=200) Status(Alert 1/4=200) Status(Replace 1/5=200) Final',
    ]);
    expect(server.sessions[0].events.some((e) => e.type === 'alert' && e.code === '1226')).toBe(true);
  });
});

test('MD5 challenge: 407 with Chal, package 1 re-sent with Cred, 212 with the next nonce (S6; MDM-AUTH-006, MDM-AUTH-010)', async () => {
  const credentials = { scheme: 'syncml:auth-md5' as const, user: 'harness-dev', password: 's3cret!' };
  await pair({ clientAuth: credentials }, { credentials, preemptiveAuth: true }, async (_server, device, url) => {
    const first = await device.runSession(url);
    expect(lines(first.exchanges)).toEqual([
      'D1 Alert(1201) Alert(1224) Replace Final',
      'S1 Status(SyncHdr 1/0=407 Chal) Status(Alert 1/2=407) Status(Alert 1/3=407) Status(Replace 1/4=407) Final',
      'D2 Status(SyncHdr 1/0=200) Alert(1201) Alert(1224) Replace Final',
      'S2 Status(SyncHdr 2/0=212 Chal) Status(Alert 2/2=200) Status(Alert 2/3=200) Status(Replace 2/4=200) Final',
    ]);
    expect(first.exchanges[1].request.parsed?.message.hdr.cred).toBeDefined();
    // The nonce handed over with 212 lets the next session authenticate without a challenge.
    const second = await device.runSession(url);
    expect(lines(second.exchanges)).toEqual([
      'D1 Alert(1201) Alert(1224) Replace Final',
      'S1 Status(SyncHdr 1/0=212 Chal) Status(Alert 1/2=200) Status(Alert 1/3=200) Status(Replace 1/4=200) Final',
    ]);
  });
});

test('large objects both ways and a multi-message device package (S8; MDM-LO-004, MDM-LO-009, MDM-LO-010, MDM-LO-021)', async () => {
  const big = 'chunk <me> & more '.repeat(300);
  await pair({}, { maxMsgSize: 2000, maxSendSize: 1500 }, async (server, device, url) => {
    server.queue(pki.deviceId, replace(NODES.expectedValue, big, { format: 'chr' }));
    const down = await device.runSession(url);
    const l = lines(down.exchanges);
    // MDM-LO-019: the server reads ./DevDetail/LrgObj before the first object it must chunk for this device.
    expect(l[1]).toBe('S1 Status(SyncHdr 1/0=200) Status(Alert 1/2=200) Status(Alert 1/3=200) Status(Replace 1/4=200) Get Final');
    expect(l[2]).toBe('D2 Status(SyncHdr 1/0=200) Status(Get 1/5=200) Results(1/5) Final');
    expect(l[3]).toBe('S2 Status(SyncHdr 2/0=200) Replace(chunk)');
    expect(l[4]).toBe('D3 Status(SyncHdr 2/0=200) Status(Replace 2/2=213) Alert(1222)');
    expect(l.at(-2)).toMatch(/^D\d+ Status\(SyncHdr \d+\/0=200\) Status\(Replace \d+\/\d+=200\) Final$/);
    const notes = device.tree.get(NODES.expectedValue);
    expect(notes.ok && notes.data).toBe(big);

    server.queue(pki.deviceId, get(NODES.expectedValue));
    const up = await device.runSession(url);
    const u = lines(up.exchanges);
    expect(u[2]).toMatch(/^D2 Status\(SyncHdr 1\/0=200\) Status\(Get 1\/5=200\) Results\(1\/5 chunk\)$/);
    expect(u[3]).toBe('S2 Status(SyncHdr 2/0=200) Status(Results 2/3=213) Alert(1222)');
    expect(u.at(-1)).toMatch(/^S\d+ Status\(SyncHdr \d+\/0=200\) Final$/);
    const received = server.sessionsOf(pki.deviceId).at(-1)!.events.find((e) => e.type === 'results');
    expect(received?.type === 'results' && received.items[0].data?.text).toBe(big);
  });
});

test('the device aborts with Alert 1223: the server answers with statuses only (S9; MDM-TERM-005, MDM-TERM-006)', async () => {
  await pair({}, { abortOnCommands: true }, async (server, device, url) => {
    server.queue(pki.deviceId, get('./DevDetail/SwV'));
    const run = await device.runSession(url);
    expect(run.end).toEqual({ reason: 'aborted-by-device' });
    expect(lines(run.exchanges).slice(2)).toEqual([
      'D2 Status(SyncHdr 1/0=200) Status(Get 1/5=200) Results(1/5) Alert(1223) Final',
      'S2 Status(SyncHdr 2/0=200) Status(Alert 2/4=200) Final',
    ]);
    expect(server.sessions[0].state).toBe('aborted');
  });
});
