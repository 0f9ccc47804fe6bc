/**
 * HMAC integrity (syncml:auth-MAC, OMA-DMS 5.4) between the reference peers: the device signs every message after the
 * challenge in x-syncml-hmac over the exact body, the server verifies it and answers 200 with a new nonce, and signs
 * its own replies once the device hands it a nonce. Each fault of either peer breaks the row it names
 * (MDM-AUTH-027..029), as the passive checks report it.
 */
import { expect, test } from '@playwright/test';
import { runChecks, type Finding } from '../../harness/checks/finding';
import { CLIENT_CHECKS } from '../../harness/checks/client-checks';
import { SERVER_CHECKS } from '../../harness/checks/server-checks';
import { DEVICE_FAULTS } from '../../harness/device/faults';
import { ReferenceDevice, type ReferenceDeviceOptions } from '../../harness/device/reference-device';
import { createTestPki, type TestPki } from '../../harness/pki';
import { AuthScheme, HMAC_HEADER, parseHmacHeader } from '../../harness/protocol/auth';
import { faultByName } from '../../harness/protocol/fault';
import { hmacHeaderFor, macVerifies, ServerHmac, withMacInCred } from '../../harness/protocol/hmac-integrity';
import { SERVER_FAULTS } from '../../harness/server/faults';
import { ReferenceServer, type ReferenceServerOptions } from '../../harness/server/reference-server';
import { codeOf, get, metaValue, type Status, type SyncML } from '../../harness/syncml';
import type { Exchange } from '../../harness/transport';

const USER = { user: 'harness-dev', password: 's3cret!' };
const MAC = { scheme: AuthScheme.Mac, ...USER };
const MD5 = { scheme: AuthScheme.Md5, ...USER };
const SERVER = { scheme: AuthScheme.Md5, user: 'harness-server', password: 'srv-secret' };
const HMAC_BODY = '<SyncML xmlns="SYNCML:SYNCML1.2"></SyncML>';

let pki: TestPki;
test.beforeAll(() => {
  pki = createTestPki({ keyType: 'ec' });
});

const headerOf = (x: Exchange, side: 'request' | 'response') => {
  const h = (side === 'request' ? x.request.headers : x.response?.headers) ?? {};
  return Object.entries(h).find(([k]) => k.toLowerCase() === HMAC_HEADER)?.[1] as string | undefined;
};
const hdrStatus = (m: SyncML | undefined) => m?.body.commands.find((c): c is Status => c.kind === 'Status' && c.cmdRef?.trim() === '0');
const failed = (findings: Finding[]) => [...new Set(findings.filter((f) => f.verdict === 'fail').map((f) => f.id))].sort();
const passed = (findings: Finding[]) => [...new Set(findings.filter((f) => f.verdict === 'pass').map((f) => f.id))].sort();
const HMAC_IDS = ['MDM-AUTH-027', 'MDM-AUTH-028', 'MDM-AUTH-029'];

async function pair(serverOpts: Partial<ReferenceServerOptions>, deviceOpts: Partial<ReferenceDeviceOptions>, sessions = 1) {
  const server = new ReferenceServer({ identity: pki.server, ca: pki.ca.certPem, ...serverOpts });
  const url = await server.start();
  const device = new ReferenceDevice({ deviceId: pki.deviceId, identity: pki.device, serverCa: pki.ca.certPem, ...deviceOpts });
  try {
    const runs = [];
    for (let i = 0; i < sessions; i++) {
      server.queueRounds(pki.deviceId, [get('./DevInfo/DmV')], [get('./DevInfo/Lang')]);
      runs.push(await device.runSession(url));
    }
    return { runs, device };
  } finally {
    await device.close();
    await server.stop();
  }
}

test('the HMAC test vector of the catalogue, in the header the peers send', () => {
  const header = hmacHeaderFor(HMAC_BODY, { ...USER, nonce: 'AAECAwQFBgcICQoLDA0ODw==' });
  expect(header).toBe('algorithm=MD5, username="harness-dev", mac=D9Gzu+NZMI2CPCXkiJ5HBA==');
  expect(macVerifies(header, HMAC_BODY, { ...USER, nonce: 'AAECAwQFBgcICQoLDA0ODw==' }, 'harness-dev')).toEqual({ ok: true });
  expect(macVerifies(header, `${HMAC_BODY} `, { ...USER, nonce: 'AAECAwQFBgcICQoLDA0ODw==' }, 'harness-dev')).toMatchObject({ ok: false, why: expect.stringContaining('not the one') });
  expect(macVerifies(header, HMAC_BODY, { ...USER, nonce: 'AAECAwQFBgcICQoLDA0ODw==' }, 'someone')).toMatchObject({ ok: false, why: expect.stringContaining('LocName') });
  expect(parseHmacHeader(hmacHeaderFor(HMAC_BODY, { ...USER, nonce: 'AA==' }, 'omitted'))).toMatchObject({ ok: false, error: 'missing required parameter username' });
});

test('the server side verifies, renews the nonce with 200, and refuses a missing or wrong header', () => {
  let n = 0;
  const hmac = new ServerHmac({ client: USER, required: true, nonce: 'AAECAwQFBgcICQoLDA0ODw==', newNonce: () => Buffer.alloc(16, ++n).toString('base64') });
  const msg = { hdr: { source: { locURI: 'dev', locName: 'harness-dev' } }, body: { commands: [] } } as unknown as SyncML;
  expect(hmac.judge(msg, HMAC_BODY, {})).toMatchObject({ ok: false, code: '407' });
  const first = hmac.judge(msg, HMAC_BODY, { [HMAC_HEADER]: hmacHeaderFor(HMAC_BODY, { ...USER, nonce: Buffer.alloc(16, 1).toString('base64') }) });
  expect(first).toMatchObject({ ok: true, code: '200', outcome: 'accepted' });
  expect(metaValue(first!.chal!.meta, 'NextNonce')).toBe(Buffer.alloc(16, 2).toString('base64'));
  // The old nonce is spent: the same header again is refused (MDM-AUTH-029: a new nonce for every message).
  expect(hmac.judge(msg, HMAC_BODY, { [HMAC_HEADER]: hmacHeaderFor(HMAC_BODY, { ...USER, nonce: Buffer.alloc(16, 1).toString('base64') }) })).toMatchObject({ ok: false, code: '401' });
  expect(hmac.judge(msg, HMAC_BODY, {})).toMatchObject({ ok: false, code: '407' });
  const inCred = withMacInCred(msg, { ...USER, nonce: 'AA==' }, () => HMAC_BODY);
  expect(hmac.judge(inCred, HMAC_BODY, {})).toMatchObject({ ok: false, code: '401' });
});

test('a server that requires HMAC: the device answers the syncml:auth-MAC challenge and signs every later message', async () => {
  const { runs } = await pair({ clientAuth: MAC }, { credentials: MD5 });
  const x = runs[0].exchanges;
  expect(runs[0].end).toEqual({ reason: 'completed' });
  expect(codeOf(hdrStatus(x[0].response?.parsed?.message)!)).toBe('407');
  expect(metaValue(hdrStatus(x[0].response?.parsed?.message)!.chal!.meta, 'Type')).toBe(AuthScheme.Mac);
  expect(x.length).toBeGreaterThanOrEqual(3);
  let nonce = metaValue(hdrStatus(x[0].response?.parsed?.message)!.chal!.meta, 'NextNonce')!;
  for (const e of x.slice(1)) {
    const header = headerOf(e, 'request');
    expect(header, `request ${e.index + 1} carries x-syncml-hmac`).toBeDefined();
    expect(e.request.parsed?.message.hdr.cred).toBeUndefined();
    expect(macVerifies(header!, e.request.body, { ...USER, nonce }, e.request.parsed?.message.hdr.source?.locName)).toEqual({ ok: true });
    const answer = hdrStatus(e.response?.parsed?.message)!;
    expect(codeOf(answer)).toBe('200');
    nonce = metaValue(answer.chal!.meta, 'NextNonce')!;
  }
  const findings = runChecks(CLIENT_CHECKS, runs[0].view);
  expect(failed(findings)).toEqual([]);
  expect(passed(findings)).toEqual(expect.arrayContaining(['MDM-AUTH-027', 'MDM-AUTH-028']));
});

test('a device that opens with HMAC after an MD5 session; the server signs its replies with the nonces the device hands it', async () => {
  const { runs, device } = await pair(
    { clientAuth: MD5, serverCredentials: SERVER },
    { credentials: MAC, preemptiveAuth: true, handServerHmacNonces: true },
    2,
  );
  const [md5, hmac] = runs;
  expect(md5.exchanges.some((e) => headerOf(e, 'request'))).toBe(false);
  expect(hmac.end).toEqual({ reason: 'completed' });
  expect(hmac.exchanges.every((e) => headerOf(e, 'request'))).toBe(true);
  const signed = hmac.exchanges.filter((e) => headerOf(e, 'response'));
  expect(signed.length).toBeGreaterThan(0);
  // Each signed reply verifies with the server's secret and the nonce the device handed in the request it answers.
  for (const e of signed) {
    const handed = metaValue(hdrStatus(e.request.parsed?.message)!.chal!.meta, 'NextNonce')!;
    expect(device.handedHmacNonces).toContain(handed);
    expect(macVerifies(headerOf(e, 'response')!, e.response!.body, { ...SERVER, nonce: handed }, e.response?.parsed?.message.hdr.source?.locName)).toEqual({ ok: true });
  }
  const findings = runChecks(SERVER_CHECKS, hmac.view);
  expect(failed(findings)).toEqual([]);
  expect(passed(findings)).toEqual(expect.arrayContaining(HMAC_IDS));
});

test('a wrong secret: the server refuses the HMAC with 401 and a fresh syncml:auth-MAC nonce, which MDM-AUTH-005 takes as credentials refused', async () => {
  const { runs } = await pair({ clientAuth: MAC }, { credentials: { ...MAC, password: 'wrong' } });
  const x = runs[0].exchanges;
  expect(runs[0].end).toMatchObject({ reason: 'auth-failed' });
  const refusals = x.filter((e) => headerOf(e, 'request')).map((e) => hdrStatus(e.response?.parsed?.message)!);
  expect(refusals.map((s) => codeOf(s))).toEqual(['401', '401']);
  expect(new Set(refusals.map((s) => metaValue(s.chal!.meta, 'NextNonce'))).size).toBe(2);
  const findings = runChecks(SERVER_CHECKS, runs[0].view);
  expect(failed(findings)).toEqual([]);
  expect(passed(findings)).toContain('MDM-AUTH-005');
});

for (const [name, id] of [['hmac-in-cred', 'MDM-AUTH-027'], ['hmac-without-username', 'MDM-AUTH-028'], ['hmac-username-is-device-id', 'MDM-AUTH-028'], ['hmac-first-message-only', 'MDM-AUTH-029']] as const) {
  test(`device fault ${name}: the client checks report ${id}`, async () => {
    const { runs } = await pair({ clientAuth: MAC }, { credentials: MD5, faults: [faultByName(DEVICE_FAULTS, name)] });
    const findings = runChecks(CLIENT_CHECKS, runs[0].view);
    expect(failed(findings).filter((f) => HMAC_IDS.includes(f))).toEqual([id]);
  });
}

for (const [name, ids] of [['hmac-answered-212', ['MDM-AUTH-029']], ['hmac-own-header-without-username', ['MDM-AUTH-028']], ['hmac-own-mac-in-cred', ['MDM-AUTH-027']]] as const) {
  test(`server fault ${name}: the server checks report ${ids.join(', ')}`, async () => {
    const { runs } = await pair(
      { clientAuth: MD5, serverCredentials: SERVER, faults: [faultByName(SERVER_FAULTS, name)] },
      { credentials: MAC, preemptiveAuth: true, handServerHmacNonces: true },
      2,
    );
    const findings = runChecks(SERVER_CHECKS, runs[1].view);
    expect(failed(findings).filter((f) => HMAC_IDS.includes(f))).toEqual(ids);
  });
}
