import { expect, test } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { enroll, EnrollmentError, EnrollmentService, type EnrollmentServiceOptions } from '../../harness/enrollment';
import { deviceEnroller } from '../../harness/iut/enrolled-devices';
import type { EnrollmentRunConfig } from '../../harness/iut/run-config';
import { createTestPki, writePki } from '../../harness/pki';
import { runScenario } from '../../harness/scenarios/scenario';
import { mutualTls } from '../../harness/scenarios/server/auth';
import { sessionIsolation } from '../../harness/scenarios/server/security';
import type { ServerUnderTest } from '../../harness/scenarios/server/target';
import { ReferenceServer } from '../../harness/server/reference-server';

const USER = 'alice@example.com';
const SECRET = 'enrollment-secret-42';
const FIRST = 'DEVICE-ONE';
const SECOND = `${FIRST}-second`;

interface EnrolledRun {
  target: ServerUnderTest;
  enrollment: EnrollmentService;
  server: ReferenceServer;
}

/**
 * A server that takes DM sessions only from the identities its enrollment service issued, and a target as the
 * fixtures build it for `test-server --enroll`: the first device enrolled, more devices by `enrollDevice`, no CA key.
 */
async function enrolledRun(opts: Partial<EnrollmentServiceOptions> = {}): Promise<EnrolledRun> {
  const pki = createTestPki({ keyType: 'ec' });
  const dir = mkdtempSync(join(tmpdir(), 'mdm-enrolled-'));
  writePki(dir, pki, { force: true });
  const enrollment = new EnrollmentService({ ca: pki.ca, credentials: { user: USER, password: SECRET }, ...opts });
  const server = new ReferenceServer({ identity: pki.server, ca: pki.ca.certPem, enrollment, acceptOnlyEnrolled: true });
  const url = await server.start();
  const cfg: EnrollmentRunConfig = {
    discoveryUrl: EnrollmentService.discoveryUrl(new URL(url).origin), email: USER, authPolicy: 'OnPremise', user: USER, password: SECRET,
    caFile: join(dir, 'ca.pem'), timeoutMs: 10_000, deviceId: FIRST, certificate: { subject: '', issuer: '', fingerprint256: '' },
  };
  const enrollDevice = deviceEnroller(cfg, 3);
  const identity = await enrollDevice(FIRST);
  const target: ServerUnderTest = {
    seed: 3, url, serverCa: pki.ca.certPem, deviceId: FIRST, identity, timeoutMs: 5_000, enrollDevice,
    queue: async (deviceId, commands) => server.queue(deviceId, ...commands),
  };
  return { target, enrollment, server };
}

test.describe('second devices of an enrolled run (test-server --enroll)', () => {
  test('session isolation: the second device is enrolled like the first, the server knows it, and MDM-SES-021 is judged (pass)', async () => {
    const run = await enrolledRun();
    try {
      const result = await runScenario(sessionIsolation, run.target, new Set());
      expect(result.findings.filter((f) => f.id === 'MDM-SES-021').map((f) => f.verdict)).toEqual(['pass']);
      expect(result.notes).toContain(`second device ${SECOND} enrolled like the first`);
      expect(run.enrollment.issued().map((i) => i.deviceId)).toEqual([FIRST, SECOND]);
      // The second device got a session of its own with its enrolled certificate; the first device's message under it was refused.
      expect(run.server.sessionsOf(SECOND).some((s) => s.state !== 'refused')).toBe(true);
      expect(run.server.sessions.some((s) => s.state === 'refused')).toBe(true);

      // The auth suite's certificate of another device is that same enrolled device: enrolled once, not twice.
      const auth = await runScenario(mutualTls, run.target, new Set());
      expect(run.enrollment.issued().map((i) => i.deviceId)).toEqual([FIRST, SECOND]);
      expect(auth.advisories ?? []).toEqual([]);
      expect(run.server.sessions.at(-1)).toMatchObject({ deviceId: FIRST, state: 'refused' });
      expect(run.server.transcript.exchanges.at(-1)?.response?.body.toString()).toBe(`client certificate was enrolled for device "${SECOND}", not the device "${FIRST}" in the SyncHdr Source\n`);
    } finally {
      await run.server.stop();
    }
  });

  test('auth identity cases: bad identities stay inconclusive for want of a CA key, each saying so; the enrolled identity and no certificate are judged', async () => {
    const run = await enrolledRun();
    try {
      const result = await runScenario(mutualTls, run.target, new Set());
      const trn = result.findings.filter((f) => f.id === 'MDM-TRN-004');
      expect(trn.filter((f) => f.verdict === 'pass').map((f) => f.evidence)).toEqual(['the enrolled identity was accepted', 'no client certificate: refused (HTTP 403)']);
      const inconclusive = trn.filter((f) => f.verdict === 'inconclusive');
      expect(inconclusive).toHaveLength(4);
      for (const f of inconclusive) expect(f.evidence).toMatch(/: the device identity was enrolled \(--enroll\): minting this case needs the CA key of a test PKI \(pki init\)/);
    } finally {
      await run.server.stop();
    }
  });

  test('a server that allows one device per user: session isolation is inconclusive, naming the step and the fault; nothing was queued for the first device', async () => {
    const run = await enrolledRun({ maxDevicesPerUser: 1 });
    try {
      const result = await runScenario(sessionIsolation, run.target, new Set());
      const [finding] = result.findings.filter((f) => f.id === 'MDM-SES-021');
      expect(finding.verdict).toBe('inconclusive');
      expect(finding.evidence).toMatch(new RegExp(`^enrolling a second device \\(${SECOND}\\) the way the run enrolled failed at enrollment: SOAP fault s:Receiver/s:Authorization: User already enrolled in too many devices \\(DeviceCapReached`));
      expect(finding.evidence).toMatch(/may allow only one enrollment per user/);
      expect(run.server.pending(FIRST)).toBe(0);
      expect(result.transcripts).toEqual([]);

      // The auth suite leaves the probe with another device's certificate out, with a note saying why.
      const auth = await runScenario(mutualTls, run.target, new Set());
      expect(auth.notes.join('\n')).toMatch(new RegExp(`a certificate of another device presented for ${FIRST}: not probed, enrolling a second device .* failed at enrollment: .*DeviceCapReached`));
      expect(run.enrollment.issued().map((i) => i.deviceId)).toEqual([FIRST]);
    } finally {
      await run.server.stop();
    }
  });

  test('the device cap of the reference enrollment service: enrolling the same device again is allowed, a new device is refused with DeviceCapReached', async () => {
    const pki = createTestPki({ keyType: 'ec' });
    const enrollment = new EnrollmentService({ ca: pki.ca, credentials: { user: USER, password: SECRET }, maxDevicesPerUser: 1 });
    const server = new ReferenceServer({ identity: pki.server, ca: pki.ca.certPem, enrollment, acceptOnlyEnrolled: true });
    const url = await server.start();
    try {
      const opts = { discoveryUrl: EnrollmentService.discoveryUrl(new URL(url).origin), email: USER, user: USER, password: SECRET, serverCa: pki.ca.certPem };
      await enroll({ ...opts, deviceId: 'A' });
      await enroll({ ...opts, deviceId: 'A' });
      const refused = await enroll({ ...opts, deviceId: 'B' }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(EnrollmentError);
      expect(refused).toMatchObject({ step: 'enrollment', message: expect.stringMatching(/s:Authorization: User already enrolled in too many devices \(DeviceCapReached: 1 per user\) \(HTTP 500\)/) });
      expect(enrollment.issued().map((i) => i.deviceId)).toEqual(['A', 'A']);
    } finally {
      await server.stop();
    }
  });
});
