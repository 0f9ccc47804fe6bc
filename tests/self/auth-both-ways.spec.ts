/**
 * Application-level authentication in both directions (OMA-DMP 9, OMA-DMS 5.3): the reference server presents its
 * own credentials and answers a device's challenge, the reference device verifies them; end to end over loopback in
 * both schemes, through the command line in both modes, and the rows the fault matrices cannot show.
 */
import { expect, test } from '@playwright/test';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Finding } from '../../harness/checks/finding';
import { DEVICE_FAULTS } from '../../harness/device/faults';
import { ReferenceDevice, type ReferenceDeviceOptions } from '../../harness/device/reference-device';
import { EMBEDDED_CLIENT_FEATURES, startEmbeddedClient } from '../../harness/iut/embedded-client';
import { createTestPki, writePki, type TestPki } from '../../harness/pki';
import { faultByName } from '../../harness/protocol/fault';
import type { ConformanceReport } from '../../harness/report/report';
import { withoutCertificate } from '../../harness/scenarios/client/auth-flows';
import { runScenario, type Feature } from '../../harness/scenarios/scenario';
import { basicChallenge, md5Challenge } from '../../harness/scenarios/server/auth';
import { serverCredentials as serverCredentialsScenario } from '../../harness/scenarios/server/server-credentials';
import type { ServerUnderTest } from '../../harness/scenarios/server/target';
import { SERVER_FAULTS, type ServerFault } from '../../harness/server/faults';
import { ReferenceServer, type ReferenceServerOptions } from '../../harness/server/reference-server';
import { get, metaValue, type SyncML } from '../../harness/syncml';
import type { Exchange } from '../../harness/transport';
import { withReferencePair } from './reference-peers';
import { BIN, runCli, scaled } from './run-cli';

const MD5 = 'syncml:auth-md5' as const;
const BASIC = 'syncml:auth-basic' as const;
const DEVICE_CREDS = { scheme: MD5, user: 'dev', password: 'dev-secret' };
const SERVER_CREDS = { scheme: MD5, user: 'srv', password: 'srv-secret' };

let pki: TestPki;
test.beforeAll(() => {
  pki = createTestPki({ keyType: 'ec' });
});

/** One line per message: `S2 Cred(md5) Status(SyncHdr 2/0=212 Chal) Get Final`. */
function lines(exchanges: Exchange[]): string[] {
  const out: string[] = [];
  const describe = (who: string, m: SyncML) => {
    const type = metaValue(m.hdr.cred?.meta, 'Type')?.replace('syncml:auth-', '');
    const parts = m.body.commands.map((c) => (c.kind === 'Status' ? `Status(${c.cmd} ${c.msgRef}/${c.cmdRef}=${c.data?.text}${c.chal ? ' Chal' : ''})` : c.kind === 'Alert' ? `Alert(${c.data?.text})` : c.kind));
    return [`${who}${m.hdr.msgID}`, ...(type ? [`Cred(${type})`] : []), ...parts, ...(m.body.final ? ['Final'] : [])].join(' ');
  };
  for (const x of exchanges) {
    if (x.request.parsed) out.push(describe('D', x.request.parsed.message));
    if (x.response?.parsed) out.push(describe('S', x.response.parsed.message));
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

const chalNonce = (x: Exchange, from: 'request' | 'response') => {
  const msg = (from === 'request' ? x.request : x.response)?.parsed?.message;
  const hdr = msg?.body.commands.find((c) => c.kind === 'Status' && c.cmdRef === '0');
  return hdr?.kind === 'Status' ? metaValue(hdr.chal?.meta, 'NextNonce') : undefined;
};

test.describe('server-to-client authentication over loopback', () => {
  test('md5: the device challenges the server, which answers with its Cred made from the nonce given; the next session opens with a Cred made from the nonce handed with the 212 (MDM-AUTH-010, -020, -025)', async () => {
    await pair({ clientAuth: DEVICE_CREDS, serverCredentials: SERVER_CREDS }, { credentials: DEVICE_CREDS, serverCredentials: SERVER_CREDS, preemptiveAuth: true }, async (server, device, url) => {
      server.queue(pki.deviceId, get('./DevDetail/SwV'));
      const first = await device.runSession(url);
      expect(first.end).toEqual({ reason: 'completed' });
      expect(lines(first.exchanges)).toEqual([
        'D1 Alert(1201) Alert(1224) Replace Final',
        'S1 Status(SyncHdr 1/0=407 Chal) Status(Alert 1/2=407) Status(Alert 1/3=407) Status(Replace 1/4=407) Final',
        // The server challenged the device and presented nothing: the device answers and challenges it in turn.
        'D2 Cred(md5) Status(SyncHdr 1/0=407 Chal) Alert(1201) Alert(1224) Replace Final',
        'S2 Cred(md5) Status(SyncHdr 2/0=212 Chal) Status(Alert 2/2=200) Status(Alert 2/3=200) Status(Replace 2/4=200) Get Final',
        'D3 Status(SyncHdr 2/0=212 Chal) Status(Get 2/5=200) Results Final',
        'S3 Status(SyncHdr 3/0=200) Final',
      ]);
      // S2's LocName carries the server's user id, and its digest is made from the nonce of D2's challenge.
      const s2 = first.exchanges[1].response!.parsed!.message;
      expect(s2.hdr.source?.locName).toBe('srv');
      const handed = chalNonce(first.exchanges[2], 'request')!;
      expect(device.serverNonce).toBe(handed);
      expect(server.sessions[0].events.filter((e) => e.type === 'server-auth').map((e) => e.type === 'server-auth' && `${e.outcome} ${e.code}`)).toEqual(['challenged 407', 'accepted 212']);

      server.queue(pki.deviceId, get('./DevDetail/SwV'));
      const second = await device.runSession(url);
      expect(lines(second.exchanges)).toEqual([
        'D1 Cred(md5) Alert(1201) Alert(1224) Replace Final',
        'S1 Cred(md5) Status(SyncHdr 1/0=212 Chal) Status(Alert 1/2=200) Status(Alert 1/3=200) Status(Replace 1/4=200) Get Final',
        'D2 Status(SyncHdr 1/0=212 Chal) Status(Get 1/5=200) Results Final',
        'S2 Status(SyncHdr 2/0=200) Final',
      ]);
    });
  });

  test('basic: the server presents its Cred from its first message on, the device accepts with 212 and hands no nonce', async () => {
    const basic = { ...SERVER_CREDS, scheme: BASIC };
    await pair({ serverCredentials: basic }, { serverCredentials: basic }, async (server, device, url) => {
      server.queue(pki.deviceId, get('./DevDetail/SwV'));
      const run = await device.runSession(url);
      expect(lines(run.exchanges)).toEqual([
        'D1 Alert(1201) Alert(1224) Replace Final',
        'S1 Cred(basic) Status(SyncHdr 1/0=200) Status(Alert 1/2=200) Status(Alert 1/3=200) Status(Replace 1/4=200) Get Final',
        'D2 Status(SyncHdr 1/0=212) Status(Get 1/5=200) Results Final',
        'S2 Status(SyncHdr 2/0=200) Final',
      ]);
      expect(run.exchanges[0].response!.parsed!.message.hdr.cred?.data?.text).toBe(Buffer.from('srv:srv-secret').toString('base64'));
    });
  });

  test('a wrong server secret: the device refuses every Cred with a fresh nonce, runs nothing and ends the session; the server gives its commands up', async () => {
    await pair({ serverCredentials: { ...SERVER_CREDS, password: 'not-this' } }, { serverCredentials: SERVER_CREDS }, async (server, device, url) => {
      server.queue(pki.deviceId, get('./DevDetail/SwV'));
      const run = await device.runSession(url);
      expect(run.end.reason).toBe('auth-failed');
      const refusals = run.exchanges.map((x) => x.request.parsed!.message.body.commands.find((c) => c.kind === 'Status' && c.cmd === 'Get')).filter(Boolean);
      expect(refusals.map((s) => s?.kind === 'Status' && s.data?.text)).toEqual(expect.arrayContaining(['401']));
      expect(refusals.every((s) => s?.kind === 'Status' && s.data?.text !== '200')).toBe(true);
      const nonces = run.exchanges.map((x) => chalNonce(x, 'request')).filter(Boolean);
      expect(new Set(nonces).size).toBe(nonces.length);
      expect(server.sessions[0].events.some((e) => e.type === 'undeliverable' && e.command.kind === 'Get')).toBe(true);
    });
  });

  test('a device that requires server credentials refuses a server that has none, and the server sends its commands no more', async () => {
    await pair({}, { serverCredentials: SERVER_CREDS }, async (server, device, url) => {
      server.queue(pki.deviceId, get('./DevDetail/SwV'));
      const run = await device.runSession(url);
      expect(lines(run.exchanges)).toEqual([
        'D1 Alert(1201) Alert(1224) Replace Final',
        'S1 Status(SyncHdr 1/0=200) Status(Alert 1/2=200) Status(Alert 1/3=200) Status(Replace 1/4=200) Get Final',
        'D2 Status(SyncHdr 1/0=407 Chal) Status(Get 1/5=407) Final',
        'S2 Status(SyncHdr 2/0=200) Final',
      ]);
      const undeliverable = server.sessions[0].events.find((e) => e.type === 'undeliverable');
      expect(undeliverable?.type === 'undeliverable' && undeliverable.reason).toMatch(/requires server credentials/);
    });
  });
});

// ---------------------------------------------------------------------------------------------------------------

const scratch = () => mkdtempSync(join(tmpdir(), 'mdm-auth-both-'));
const report = (dir: string) => JSON.parse(readFileSync(join(dir, 'conformance-report.json'), 'utf8')) as ConformanceReport;
const verdict = (r: ConformanceReport, id: string) => r.requirements.find((x) => x.id === id)?.verdict;

test.describe('command line', () => {
  test.describe.configure({ timeout: scaled(180_000) });

  test('a client that needs the server\'s MD5 credentials passes test-client --server-auth md5 --server-credentials (exit 0), and without them the run stops with the way out (exit 2)', async () => {
    const dir = scratch();
    const device = (state: string) => `node ${BIN} device --url {url} --ca {ca} --cert {cert} --key {key} --device-id {deviceId} --auth md5 --client-credentials dev:dev-secret --server-credentials srv:srv-secret --state ${join(dir, state)}`;
    const reports = scratch();
    // Every session of the suite goes through the server's credentials: refused, answered, accepted with 212.
    const ok = await runCli(['test-client', '--trigger', device('a.json'), '--auth', 'md5', '--client-credentials', 'dev:dev-secret', '--server-auth', 'md5', '--server-credentials', 'srv:srv-secret', '--suite', 'get-results', '--reports', reports]);
    expect(ok.code, ok.out).toBe(0);
    const r = report(reports);
    for (const id of ['MDM-AUTH-004', 'MDM-AUTH-005', 'MDM-AUTH-012', 'MDM-AUTH-018', 'MDM-AUTH-020', 'MDM-AUTH-021', 'MDM-AUTH-025', 'MDM-AUTH-031']) {
      expect(verdict(r, id), id).toBe('pass');
    }

    const without = await runCli(['test-client', '--trigger', device('b.json'), '--suite', 'get-results', '--reports', scratch()]);
    expect(without.code, without.out).toBe(2);
    expect(without.out).toContain('the client refused the reference server\'s SyncHdr (Status 407, syncml:auth-md5): it authenticates its server; pass --server-auth md5 --server-credentials USER:SECRET');
    const wrong = await runCli(['test-client', '--trigger', device('c.json'), '--server-credentials', 'srv:other', '--suite', 'get-results', '--reports', scratch()]);
    expect(wrong.code, wrong.out).toBe(2);
    expect(wrong.out).toContain('the client refused the server credentials of --server-credentials (Status 401, syncml:auth-md5)');
  });

  test('test-server --server-credentials: the device requires and verifies what the server presents (exit 0); a server that presents one secret to every device fails MDM-AUTH-024 (exit 1)', async () => {
    const pkiDir = scratch();
    writePki(pkiDir, pki, { force: true });
    const perDevice = (id: string) => ({ ...SERVER_CREDS, password: id === pki.deviceId ? SERVER_CREDS.password : `other-${id}` });
    for (const faults of [[], [faultByName(SERVER_FAULTS, 'one-server-secret')]]) {
      const server = new ReferenceServer({ identity: pki.server, ca: pki.ca.certPem, clientAuth: DEVICE_CREDS, serverCredentials: perDevice, faults });
      await server.start();
      try {
        const reports = scratch();
        const run = await runCli(['test-server', '--url', server.url, '--pki', pkiDir, '--auth', 'md5', '--client-credentials', 'dev:dev-secret', '--server-credentials', 'srv:srv-secret', '--suite', 'auth', '--reports', reports]);
        const r = report(reports);
        if (!faults.length) {
          expect(run.code, run.out).toBe(0);
          for (const id of ['MDM-AUTH-013', 'MDM-AUTH-015', 'MDM-AUTH-016', 'MDM-AUTH-022', 'MDM-AUTH-024', 'MDM-AUTH-025', 'MDM-AUTH-031', 'MDM-HDR-015']) expect(verdict(r, id), id).toBe('pass');
        } else {
          expect(run.code, run.out).toBe(1);
          expect(run.out).toContain('FAIL MDM-AUTH-024');
        }
      } finally {
        await server.stop();
      }
    }
  });

  test('--server-credentials and --server-auth where they have no effect, or half given, are usage errors', async () => {
    const cases: [string[], RegExp][] = [
      [['test-client', '--server-credentials', 'a:b'], /--server-credentials has no effect here: the embedded reference device expects credentials of its own/],
      [['test-server', '--server-auth', 'md5'], /--server-auth has no effect here: the embedded reference server presents credentials of its own/],
      [['test-client', '--trigger', 'true', '--server-auth', 'md5'], /--server-auth md5 needs --server-credentials USER:SECRET/],
      [['test-client', '--trigger', 'true', '--server-auth', 'hmac', '--server-credentials', 'a:b'], /--server-auth takes md5 or basic/],
      [['device', '--url', 'https://127.0.0.1:9/x', '--device-id', 'd', '--server-credentials', 'nocolon'], /--server-credentials takes USER:SECRET/],
    ];
    for (const [args, message] of cases) {
      const run = await runCli(args, scaled(30_000));
      expect(run.code, `${args.join(' ')}\n${run.out}`).toBe(2);
      expect(run.out).toMatch(message);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------

/** A reference server of the given configuration as a server under test (features: what it offers). */
async function serverTarget(opts: Partial<ReferenceServerOptions>, extra: Partial<ServerUnderTest>): Promise<{ target: ServerUnderTest; stop(): Promise<void> }> {
  const server = new ReferenceServer({ identity: pki.server, ca: pki.ca.certPem, ...opts });
  const url = await server.start();
  return {
    target: { url, serverCa: pki.ca.certPem, deviceId: pki.deviceId, identity: pki.device, pki, queue: async (id, cmds) => server.queue(id, ...cmds), timeoutMs: 3_000, ...extra },
    stop: () => server.stop(),
  };
}

const verdicts = (findings: Finding[], id: string) => [...new Set(findings.filter((f) => f.id === id && !f.consequenceOf).map((f) => f.verdict))].sort();

test.describe('rows the fault matrices cannot show', () => {
  const basic = { ...DEVICE_CREDS, scheme: BASIC };
  const features = new Set<Feature>(['basic-auth', 'md5-auth']);

  test('server mode, basic (MDM-AUTH-014): a server that checks basic credentials passes, one that takes any fails; a server presenting a basic Cred without its user id fails', async () => {
    const take = faultByName(SERVER_FAULTS, 'accepts-wrong-credentials');
    for (const [faults, expected] of [[[], ['pass']], [[take], ['fail']]] as [ServerFault[], string[]][]) {
      const peer = await serverTarget({ clientAuth: basic, faults }, { credentials: basic });
      try {
        const r = await runScenario(basicChallenge, peer.target, features);
        expect(verdicts(r.findings, 'MDM-AUTH-014'), faults.map((f) => f.name).join() || 'clean').toEqual(expected);
      } finally {
        await peer.stop();
      }
    }
    const withoutUser: ServerFault = { name: 'basic-without-user-id', summary: 'presents B64(password)', violates: ['MDM-AUTH-014'], behaviour: { serverCredWithoutUserId: true } };
    const serverBasic = { ...SERVER_CREDS, scheme: BASIC };
    for (const [faults, expected] of [[[], ['pass']], [[withoutUser], ['fail']]] as [ServerFault[], string[]][]) {
      const peer = await serverTarget({ serverCredentials: serverBasic, faults }, { serverCredentials: serverBasic });
      try {
        const r = await runScenario(serverCredentialsScenario, peer.target, features);
        expect(verdicts(r.findings, 'MDM-AUTH-014'), faults.map((f) => f.name).join() || 'clean').toContain(expected[0]);
        if (faults.length) expect(verdicts(r.findings, 'MDM-AUTH-014')).not.toContain('pass');
      } finally {
        await peer.stop();
      }
    }
  });

  test('server mode (MDM-AUTH-026, a MAY): a server that takes valid basic credentials after its md5 challenge gets a warning beside the MDM-AUTH-025 failure', async () => {
    const peer = await serverTarget({ clientAuth: DEVICE_CREDS, faults: [faultByName(SERVER_FAULTS, 'accepts-any-scheme')] }, { credentials: DEVICE_CREDS });
    try {
      const r = await runScenario(md5Challenge, peer.target, features);
      expect(verdicts(r.findings, 'MDM-AUTH-025')).toContain('fail');
      expect(verdicts(r.findings, 'MDM-AUTH-026')).toContain('fail'); // graded a warning: the row is a MAY
    } finally {
      await peer.stop();
    }
  });

  test('client mode (MDM-AUTH-003): a client without a certificate that answers with MD5 passes (the clean device presents one: not applicable)', async () => {
    for (const [faults, expected] of [[[], 'not-applicable'], [[faultByName(DEVICE_FAULTS, 'no-client-certificate')], 'pass'], [[faultByName(DEVICE_FAULTS, 'no-certificate-basic-only')], 'fail']] as const) {
      const client = await startEmbeddedClient({ pki, faults });
      try {
        const r = await runScenario(withoutCertificate, client.target, EMBEDDED_CLIENT_FEATURES);
        expect(verdicts(r.findings, 'MDM-AUTH-003'), faults.map((f) => f.name).join() || 'clean').toEqual([expected]);
      } finally {
        await client.stop();
      }
    }
  });
});
