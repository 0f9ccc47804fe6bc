import { expect, test } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import { createPublicKey, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDevicePki, loadPki } from '../../harness/cli/identity';
import { enrollCommand } from '../../harness/cli/enroll';
import { ReferenceDevice } from '../../harness/device/reference-device';
import {
  advisoriesOf, AUTH_POLICIES, enroll, ENROLLMENT_SERVICE_FAULTS, EnrollmentError, EnrollmentService, readEnrollment, writeEnrollment,
  type EnrollmentServiceOptions, type EnrollOptions,
} from '../../harness/enrollment';
import { createTestPki, mintDeviceIdentity, readDevicePki, writePki, type TestPki } from '../../harness/pki';
import { ReferenceServer } from '../../harness/server/reference-server';
import { BIN, runCli } from './run-cli';

const USER = 'alice@example.com';
const SECRET = 'enrollment-secret-42';

interface Running {
  pki: TestPki;
  enrollment: EnrollmentService;
  server: ReferenceServer;
  dmUrl: string;
  discoveryUrl: string;
}

async function startServer(opts: Partial<EnrollmentServiceOptions> = {}): Promise<Running> {
  const pki = createTestPki({ keyType: 'ec' });
  const enrollment = new EnrollmentService({ ca: pki.ca, credentials: { user: USER, password: SECRET }, ...opts });
  const server = new ReferenceServer({ identity: pki.server, ca: pki.ca.certPem, enrollment, acceptOnlyEnrolled: true });
  const dmUrl = await server.start();
  return { pki, enrollment, server, dmUrl, discoveryUrl: EnrollmentService.discoveryUrl(new URL(dmUrl).origin) };
}

function credentialsFor(policy: EnrollOptions['authPolicy'], pki: TestPki): Partial<EnrollOptions> {
  if (policy === 'OnPremise') return { user: USER, password: SECRET };
  if (policy === 'Federated') return { token: SECRET };
  return { clientIdentity: pki.device };
}

function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'mdm-enroll-'));
}

for (const policy of AUTH_POLICIES) {
  test(`${policy}: enrolls, the issued certificate is for the CSR key and chains to the CA, the folder reads as a PKI, and a DM session with it succeeds where only enrolled devices are accepted`, async () => {
    const run = await startServer();
    try {
      const steps: string[] = [];
      const result = await enroll({
        discoveryUrl: run.discoveryUrl, email: USER, authPolicy: policy, ...credentialsFor(policy, run.pki), serverCa: run.pki.ca.certPem,
        seed: 5, onStep: (step) => steps.push(step),
      });
      expect(steps).toEqual(['discovery-probe', 'discovery', 'policy', 'enrollment', 'provisioning']);
      expect(result.authPolicy).toBe(policy);
      const cert = new X509Certificate(result.identity.certPem);
      expect(cert.verify(new X509Certificate(run.pki.ca.certPem).publicKey)).toBe(true);
      expect(cert.publicKey.export({ type: 'spki', format: 'der' })).toEqual(createPublicKey(result.identity.keyPem).export({ type: 'spki', format: 'der' }));
      expect(cert.keyUsage).toContain('1.3.6.1.5.5.7.3.2');
      expect(result.policy).toMatchObject({ source: 'service', hashAlgorithm: 'sha256', minimalKeyLength: 2048 });
      expect(result.dmUrl).toBe(run.dmUrl);
      expect(result.providerId).toBe('mdm-conformance');
      expect(result.advisories).toEqual([]);
      expect(run.enrollment.knows(result.identity.certPem)).toBe(result.deviceId);
      expect(run.enrollment.knows(cert.fingerprint256)).toBe(result.deviceId);

      const dir = join(scratch(), 'enrolled');
      writeEnrollment(dir, result);
      const back = readDevicePki(dir);
      expect(back.deviceId).toBe(result.deviceId);
      expect(loadDevicePki(dir).device.keyPem).toBe(result.identity.keyPem);
      expect(readEnrollment(dir).record).toMatchObject({ authPolicy: policy, dmUrl: run.dmUrl, deviceId: result.deviceId, providerId: 'mdm-conformance' });
      expect(() => loadPki(dir)).toThrow(/enrolled device identity .* pki init/);
      const written = readdirSync(join(dir, 'exchanges')).join('\n') + readdirSync(join(dir, 'exchanges')).map((f) => readFileSync(join(dir, 'exchanges', f), 'utf8')).join('');
      expect(written).toMatch(/01-discovery-probe\.txt/);
      expect(written).not.toContain(SECRET);

      const device = new ReferenceDevice({ deviceId: back.deviceId, identity: back.device, serverCa: back.ca.certPem });
      try {
        const session = await device.runSession(result.dmUrl);
        expect(session.end.reason).toBe('completed');
      } finally {
        await device.close();
      }
      expect(run.server.sessions.at(-1)).toMatchObject({ deviceId: result.deviceId, state: 'closing' });
    } finally {
      await run.server.stop();
    }
  });
}

test('the pki init device identity, trusted by the CA but never enrolled, is refused with 403 where only enrolled devices are accepted', async () => {
  const run = await startServer();
  const device = new ReferenceDevice({ deviceId: run.pki.deviceId, identity: run.pki.device, serverCa: run.pki.ca.certPem });
  try {
    const session = await device.runSession(run.dmUrl);
    expect(session.exchanges[0].response?.status).toBe(403);
    expect(session.exchanges[0].response?.body.toString()).toMatch(/not issued by this server's enrollment service/);
    expect(run.server.sessions.at(-1)?.state).toBe('refused');
  } finally {
    await device.close();
    await run.server.stop();
  }
});

test('a service that names certificates by a GUID of its own: the DM session is still matched to the enrolled device, and another device id with that certificate is refused', async () => {
  const run = await startServer({ subjectName: 'guid' });
  try {
    const result = await enroll({ discoveryUrl: run.discoveryUrl, email: USER, user: USER, password: SECRET, serverCa: run.pki.ca.certPem, deviceId: 'DEVICE-ONE' });
    expect(new X509Certificate(result.identity.certPem).subject).not.toContain('DEVICE-ONE');
    const good = new ReferenceDevice({ deviceId: 'DEVICE-ONE', identity: result.identity, serverCa: run.pki.ca.certPem });
    const bad = new ReferenceDevice({ deviceId: 'DEVICE-TWO', identity: result.identity, serverCa: run.pki.ca.certPem });
    try {
      expect((await good.runSession(run.dmUrl)).end.reason).toBe('completed');
      const refused = await bad.runSession(run.dmUrl);
      expect(refused.exchanges[0].response?.status).toBe(403);
      expect(refused.exchanges[0].response?.body.toString()).toMatch(/enrolled for device "DEVICE-ONE", not the device "DEVICE-TWO"/);
    } finally {
      await good.close();
      await bad.close();
    }
  } finally {
    await run.server.stop();
  }
});

for (const fault of ENROLLMENT_SERVICE_FAULTS) {
  test(`service fault ${fault.name} (${fault.summary}): enroll fails at ${fault.failsAt} with one line and leaves no folder`, async () => {
    const run = await startServer({ faults: [fault] });
    try {
      const parent = scratch();
      writePki(join(parent, 'pki'), run.pki, { force: true });
      const lines: string[] = [];
      const code = await enrollCommand(
        ['--discovery', run.discoveryUrl, '--email', USER, '--user', USER, '--password', SECRET, '--ca', join(parent, 'pki', 'ca.pem'), '--out', join(parent, 'out')],
        (line) => lines.push(line),
      );
      expect(code).toBe(2);
      const errors = lines.filter((l) => l.startsWith('error:'));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(new RegExp(`^error: enrollment failed at ${fault.failsAt}: `));
      expect(errors[0]).toMatch(fault.clientSays);
      expect(lines.at(-1)).toBe(errors[0]);
      expect(existsSync(join(parent, 'out'))).toBe(false);
      expect(readdirSync(parent).sort()).toEqual(['pki']);

      const error = await enroll({ discoveryUrl: run.discoveryUrl, email: USER, user: USER, password: SECRET, serverCa: run.pki.ca.certPem }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EnrollmentError);
      expect((error as EnrollmentError).step).toBe(fault.failsAt);
      const probes = advisoriesOf(error as EnrollmentError).map((a) => a.probe);
      expect(probes).toEqual(fault.advises ? [fault.advises] : []);
    } finally {
      await run.server.stop();
    }
  });
}

test('wrong password and wrong token: refused at the enrollment step with the SOAP fault reason (at the policy step where a policy service asks first)', async () => {
  const run = await startServer({ offerPolicy: false });
  const withPolicy = await startServer();
  try {
    const fail = (r: Running, o: Partial<EnrollOptions>) =>
      enroll({ discoveryUrl: r.discoveryUrl, email: USER, serverCa: r.pki.ca.certPem, ...o }).then(() => undefined, (e: EnrollmentError) => e);
    const password = await fail(run, { user: USER, password: 'not-the-secret' });
    expect(password).toMatchObject({ step: 'enrollment', message: 'SOAP fault s:Receiver/s:Authentication: User not recognized: wrong user name or password (HTTP 500)' });
    const token = await fail(run, { authPolicy: 'Federated', token: 'forged-token' });
    expect(token).toMatchObject({ step: 'enrollment', message: expect.stringMatching(/s:Authentication: User not recognized: the security token is not valid/) });
    const early = await fail(withPolicy, { user: USER, password: 'not-the-secret' });
    expect(early).toMatchObject({ step: 'policy', message: expect.stringMatching(/wrong user name or password/) });
    const untrusted = await fail(withPolicy, { authPolicy: 'Certificate', clientIdentity: mintDeviceIdentity(withPolicy.pki, 'untrusted-ca') });
    expect(untrusted).toMatchObject({ step: 'policy', message: expect.stringMatching(/not issued by a CA this service trusts/) });
    // Without a policy service the Windows defaults apply: a 2048-bit key signed with SHA-1.
    const ok = await enroll({ discoveryUrl: run.discoveryUrl, email: USER, user: USER, password: SECRET, serverCa: run.pki.ca.certPem });
    expect(ok.policy).toEqual({ minimalKeyLength: 2048, hashAlgorithm: 'sha1', source: 'default' });
  } finally {
    await run.server.stop();
    await withPolicy.server.stop();
  }
});

test('the same seed writes the same messages (MessageIDs, DeviceID, hardware id)', async () => {
  const run = await startServer();
  try {
    const bodies = async () => {
      const result = await enroll({ discoveryUrl: run.discoveryUrl, email: USER, user: USER, password: SECRET, serverCa: run.pki.ca.certPem, seed: 99 });
      return result.exchanges.slice(0, 3).map((x) => x.requestBody).concat(result.deviceId);
    };
    const [a, b] = [await bodies(), await bodies()];
    expect(a).toEqual(b);
    expect(a[1]).toMatch(/<a:MessageID>urn:uuid:[0-9a-f-]{36}<\/a:MessageID>/);
  } finally {
    await run.server.stop();
  }
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

test('enroll command against serve --enroll-credentials: exit 0, a folder device --pki takes, and exit 2 with one line where nothing listens', async () => {
  test.setTimeout(60_000);
  const dir = scratch();
  const pkiDir = join(dir, 'pki');
  writePki(pkiDir, createTestPki({ keyType: 'ec' }), { force: true });
  const port = await freePort();
  const serve: ChildProcess = spawn(process.execPath, [BIN, 'serve', '--pki', pkiDir, '--listen', `127.0.0.1:${port}`, '--enroll-credentials', `${USER}:${SECRET}`, '--enrolled-only'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  serve.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise((r) => serve.on('close', r));
  try {
    const until = Date.now() + 15_000;
    while (!/enrollment discovery URL (\S+)/.test(output)) {
      if (Date.now() > until) throw new Error(`serve did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const discovery = /enrollment discovery URL (\S+)/.exec(output)![1];
    const out = join(dir, 'enrolled');
    const enrolled = await runCli(['enroll', '--discovery', discovery, '--email', USER, '--user', USER, '--password', SECRET, '--ca', join(pkiDir, 'ca.pem'), '--out', out]);
    expect(enrolled.code, enrolled.out).toBe(0);
    expect(enrolled.out).toMatch(/^discovery-probe: GET .* HTTP 200$/m);
    expect(enrolled.out).toMatch(/^provisioning: device certificate CN=\S+ chains to /m);
    expect(enrolled.out).not.toContain(SECRET);
    const dmUrl = JSON.parse(readFileSync(join(out, 'enrollment.json'), 'utf8')).dmUrl as string;
    const session = await runCli(['device', '--url', dmUrl, '--pki', out]);
    expect(session.code, session.out).toBe(0);
    expect(session.out).toMatch(/session [0-9A-F]+: completed/);
    const refused = await runCli(['device', '--url', dmUrl, '--pki', pkiDir]);
    expect(refused.out).toMatch(/HTTP 403/);

    const nowhere = await runCli(['enroll', '--discovery', `https://127.0.0.1:${await freePort()}/EnrollmentServer/Discovery.svc`, '--email', USER, '--user', USER, '--password', SECRET, '--out', join(dir, 'never')]);
    expect(nowhere.code).toBe(2);
    expect(nowhere.out.trim().split('\n')).toEqual([expect.stringMatching(/^error: enrollment failed at discovery-probe: cannot connect to 127\.0\.0\.1:\d+: connection refused$/)]);
    expect(existsSync(join(dir, 'never'))).toBe(false);
  } finally {
    serve.kill('SIGINT');
    await exited;
  }
  expect(output).toMatch(/=== enrolled device \S+ \(OnPremise\)/);
});
