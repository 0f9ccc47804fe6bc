/**
 * MS-Signature through the reference peers (MDM-TRN-014, MDM-TRN-015): a signing device and a server that requires
 * signatures, the server's refusals, the scenario that judges a server, the check that judges a client, and the
 * command line.
 */
import { expect, test } from '@playwright/test';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLIENT_CHECKS } from '../../harness/checks/client-checks';
import { runChecks, type Finding } from '../../harness/checks/finding';
import { DEVICE_FAULTS } from '../../harness/device/faults';
import { ReferenceDevice, type ReferenceDeviceOptions } from '../../harness/device/reference-device';
import { EMBEDDED_CLIENT_FEATURES, startEmbeddedClient } from '../../harness/iut/embedded-client';
import { EMBEDDED_FEATURES, startEmbeddedServer } from '../../harness/iut/embedded-server';
import { createTestPki, mintDeviceIdentity, writePki } from '../../harness/pki';
import { MS_SIGNATURE_HEADER, signMessage, verifyMessageSignature } from '../../harness/pki/ms-signature';
import { faultByName } from '../../harness/protocol/fault';
import type { ConformanceReport } from '../../harness/report/report';
import { messageSigning as clientMessageSigning } from '../../harness/scenarios/client/auth';
import { featuresFor } from '../../harness/scenarios/matrix';
import { runScenario } from '../../harness/scenarios/scenario';
import { messageSigning as serverMessageSigning } from '../../harness/scenarios/server/auth';
import { SERVER_FAULTS } from '../../harness/server/faults';
import { ReferenceServer } from '../../harness/server/reference-server';
import { get, serializeSyncML } from '../../harness/syncml';
import { runCli, scaled } from './run-cli';

const pki = createTestPki({ keyType: 'ec' });
const other = mintDeviceIdentity(pki, 'cn-mismatch', { deviceId: pki.deviceId });
const SIGNING = featuresFor(EMBEDDED_FEATURES, { signing: true });

async function withServer<T>(work: (server: ReferenceServer, url: string) => Promise<T>, requireSignatures = true): Promise<T> {
  const server = new ReferenceServer({ identity: pki.server, ca: pki.ca.certPem, requireSignatures });
  const url = await server.start();
  try {
    return await work(server, url);
  } finally {
    await server.stop();
  }
}

async function session(url: string, opts: Partial<ReferenceDeviceOptions>) {
  const device = new ReferenceDevice({ deviceId: pki.deviceId, identity: pki.device, serverCa: pki.ca.certPem, ...opts });
  try {
    return await device.runSession(url);
  } finally {
    await device.close();
  }
}

const ids = (findings: Finding[], id: string) => findings.filter((f) => f.id === id);

test.describe('a server that requires signatures (RequireMessageSigning)', () => {
  test('takes a signing device: every message carries an MS-Signature that verifies over its exact body with the device certificate', async () => {
    await withServer(async (server, url) => {
      server.queue(pki.deviceId, get('./DevDetail/SwV'));
      const signingTime = new Date();
      const run = await session(url, { signing: { signingTime: () => signingTime } });
      expect(run.end).toEqual({ reason: 'completed' });
      expect(run.exchanges.length).toBe(2);
      for (const x of run.exchanges) {
        const header = x.request.headers[MS_SIGNATURE_HEADER.toLowerCase()];
        const verdict = verifyMessageSignature(x.request.body, header, { expected: pki.device.certPem, trusted: [pki.ca.certPem] });
        expect(verdict).toMatchObject({ ok: true, signerCN: pki.deviceId });
        expect(verdict.ok && verdict.signingTime?.getTime()).toBe(Math.floor(signingTime.getTime() / 1000) * 1000);
        expect(x.response?.status).toBe(200);
      }
      expect(server.sessions).toHaveLength(1);
      expect(server.sessions[0].state).not.toBe('refused');
    });
  });

  const REFUSED: [string, Partial<ReferenceDeviceOptions>, RegExp][] = [
    ['an unsigned message', {}, /no MS-Signature header: this server requires every message signed with the device identity/],
    ['a signature over other bytes', { signing: {}, faults: [faultByName(DEVICE_FAULTS, 'signature-wrong-digest')] }, /MS-Signature refused: messageDigest does not match the body/],
    ['a signature by another device\'s certificate', { signing: { identity: other } }, /MS-Signature refused: signed by CN=.*, not the device certificate/],
    ['a signing time an hour old', { signing: { signingTime: () => new Date(Date.now() - 3_600_000) } }, /MS-Signature refused: signing time .* is 360\d s from .*, more than the 600 s allowed/],
  ];
  for (const [what, opts, reason] of REFUSED) {
    test(`refuses ${what} with HTTP 403 before any SyncML, saying why`, async () => {
      await withServer(async (server, url) => {
        const run = await session(url, opts);
        expect(run.end.reason).toBe('protocol-error');
        expect(run.exchanges).toHaveLength(1);
        const reply = run.exchanges[0].response!;
        expect(reply.status).toBe(403);
        expect(reply.body.toString()).toMatch(reason);
        expect(server.sessions.map((s) => s.state)).toEqual(['refused']);
      });
    });
  }

  test('reads the header under the DMClient CSP spelling MDM-Signature as well', async () => {
    await withServer(async (_server, url) => {
      const device = new ReferenceDevice({ deviceId: pki.deviceId, identity: pki.device, serverCa: pki.ca.certPem });
      try {
        const body = serializeSyncML(device.package1(url));
        const x = await device.post(url, body, { 'MDM-Signature': signMessage(Buffer.from(body), pki.device, { signingTime: new Date() }) });
        expect(x.response?.status).toBe(200);
        expect(x.response?.parsed).toBeDefined();
      } finally {
        await device.close();
      }
    });
  });

  test('a server that does not require signatures takes unsigned messages (the default)', async () => {
    await withServer(async (_server, url) => {
      expect((await session(url, {})).end).toEqual({ reason: 'completed' });
    }, false);
  });
});

test.describe('MDM-TRN-015: the message-signing scenario judges a server', () => {
  const run = async (faults: typeof SERVER_FAULTS[number][] = [], signing = true) => {
    const embedded = await startEmbeddedServer({ pki, faults, signing });
    try {
      return await runScenario(serverMessageSigning, embedded.target, SIGNING);
    } finally {
      await embedded.stop();
    }
  };

  test('the clean server: the signed session accepted, the unsigned, badly signed and other device\'s sessions refused', async () => {
    const result = await run();
    const found = ids(result.findings, 'MDM-TRN-015');
    expect(found.map((f) => f.verdict)).toEqual(['pass', 'pass', 'pass', 'pass']);
    expect(found.map((f) => f.evidence)).toEqual([
      'a session signed with the device identity was accepted',
      'messages without MS-Signature: refused (HTTP 403)',
      'messages whose MS-Signature digests other bytes than the body: refused (HTTP 403)',
      'messages signed with the certificate the CA issued to another device: refused (HTTP 403)',
    ]);
  });

  const FAULTY: [string, string[]][] = [
    ['accepts-bad-signature', ['digests other bytes', 'another device']],
    ['accepts-other-device-signature', ['another device']],
  ];
  for (const [name, accepted] of FAULTY) {
    test(`fault ${name}: fails on what it accepted, passes the rest`, async () => {
      const result = await run([faultByName(SERVER_FAULTS, name)]);
      const failed = ids(result.findings, 'MDM-TRN-015').filter((f) => f.verdict === 'fail');
      expect(failed.map((f) => accepted.find((a) => f.evidence.includes(a)))).toEqual(accepted);
      for (const f of failed) expect(f.evidence).toMatch(/the server accepted the session \(HTTP 200, SyncHdr Status (200|212)\); it must verify the signature/);
    });
  }

  test('a server that declares message-signing but does not require it fails on the unsigned session', async () => {
    const result = await run([], false);
    const failed = ids(result.findings, 'MDM-TRN-015').filter((f) => f.verdict === 'fail').map((f) => f.evidence);
    expect(failed).toHaveLength(3);
    expect(failed[0]).toMatch(/^messages without MS-Signature: the server accepted the session/);
  });

  test('without the message-signing feature the row is not applicable', async () => {
    const embedded = await startEmbeddedServer({ pki });
    try {
      const result = await runScenario(serverMessageSigning, embedded.target, EMBEDDED_FEATURES);
      expect(result.findings).toEqual([{ id: 'MDM-TRN-015', verdict: 'not-applicable', check: 'auth/message-signing', evidence: 'feature "message-signing" is not declared in the capability profile' }]);
    } finally {
      await embedded.stop();
    }
  });
});

test.describe('MDM-TRN-014: a client told to sign is judged on every message', () => {
  const features = featuresFor(EMBEDDED_CLIENT_FEATURES, { signing: true });
  const judge = async (faults = [] as typeof DEVICE_FAULTS[number][]) => {
    const embedded = await startEmbeddedClient({ pki, faults, signing: true });
    try {
      return ids((await runScenario(clientMessageSigning, embedded.target, features)).findings, 'MDM-TRN-014');
    } finally {
      await embedded.stop();
    }
  };

  test('the signing reference device passes', async () => {
    const found = await judge();
    expect(found.map((f) => f.verdict)).toEqual(['pass']);
  });

  const FAULTY: [string, RegExp][] = [
    ['unsigned-when-required', /^msg 1 \(device->server\) MS-Signature: no MS-Signature header, yet the client was told to sign every message/],
    ['signature-wrong-digest', /^msg 1 \(device->server\) MS-Signature: messageDigest does not match the body/],
  ];
  for (const [name, evidence] of FAULTY) {
    test(`device fault ${name} fails`, async () => {
      const found = await judge([faultByName(DEVICE_FAULTS, name)]);
      expect(found[0]?.verdict).toBe('fail');
      expect(found[0].evidence).toMatch(evidence);
    });
  }

  test('a signature made with another certificate than the device\'s fails, naming both', async () => {
    await withServer(async (_server, url) => {
      const run = await session(url, { signing: { identity: other } });
      const found = ids(runChecks(CLIENT_CHECKS, { ...run.view, signer: pki.device.certPem }), 'MDM-TRN-014');
      expect(found[0].verdict).toBe('fail');
      expect(found[0].evidence).toMatch(new RegExp(`signed by CN=\\S+, not the device certificate \\(CN=${pki.deviceId}\\)`));
    }, false);
  });

  test('without the message-signing feature the row is not applicable, and an unsigned client is not judged on it', async () => {
    const embedded = await startEmbeddedClient({ pki });
    try {
      const result = await runScenario(clientMessageSigning, embedded.target, EMBEDDED_CLIENT_FEATURES);
      expect(result.findings.map((f) => f.verdict)).toEqual(['not-applicable']);
    } finally {
      await embedded.stop();
    }
  });
});

test.describe('signing on the command line', () => {
  test.describe.configure({ timeout: scaled(120_000) });

  test('device --sign completes a session with a server that requires signatures; without --sign it is refused (exit 1)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mdm-sign-'));
    writePki(dir, pki, { force: true });
    await withServer(async (_server, url) => {
      const signed = await runCli(['device', '--url', url, '--pki', dir, '--sign', '--encoding', 'wbxml', '--seed', '1'], scaled(30_000));
      expect(signed.code, signed.out).toBe(0);
      expect(signed.out).toContain('(WBXML body of');
      const unsigned = await runCli(['device', '--url', url, '--pki', dir, '--seed', '2'], scaled(30_000));
      expect(unsigned.code, unsigned.out).toBe(1);
      expect(unsigned.out).toContain('no MS-Signature header');
    });
  });

  test('device --sign without an identity is a usage error', async () => {
    const run = await runCli(['device', '--url', 'https://127.0.0.1:9/x', '--device-id', 'D', '--sign'], scaled(30_000));
    expect(run.code).toBe(2);
    expect(run.out).toContain('--sign signs with the device identity: pass --pki DIR or --cert FILE --key FILE');
  });

  test('test-server --sign --suite auth: the embedded server requires signatures, the device signs, MDM-TRN-015 passes', async () => {
    const reports = mkdtempSync(join(tmpdir(), 'mdm-sign-report-'));
    const run = await runCli(['test-server', '--sign', '--suite', 'auth', '--reports', reports], scaled(90_000));
    expect(run.code, run.out).toBe(0);
    expect(run.out).toContain('signing every message (MS-Signature)');
    const r = JSON.parse(readFileSync(join(reports, 'conformance-report.json'), 'utf8')) as ConformanceReport;
    expect(r.requirements.find((x) => x.id === 'MDM-TRN-015')?.verdict).toBe('pass');
    expect((r.iut as { features: string[] }).features).toContain('message-signing');
  });
});
