import { expect, test } from '@playwright/test';
import { enroll, EnrollmentError, EnrollmentService, type EnrollmentServiceOptions } from '../../harness/enrollment';
import { deviceEnroller } from '../../harness/iut/enrolled-devices';
import { enrollOver, openRunChannel } from '../../harness/iut/run-channel';
import { createTestPki } from '../../harness/pki';
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
  stop(): Promise<void>;
}

/**
 * A server that takes DM sessions only from the identities its enrollment service issued, and a target as the
 * fixtures build it for `test-server --enroll`: the first device enrolled, more devices enrolled by the CLI's side of
 * the run channel, no CA key.
 */
async function enrolledRun(opts: Partial<EnrollmentServiceOptions> = {}): Promise<EnrolledRun> {
  const pki = createTestPki({ keyType: 'ec' });
  const enrollment = new EnrollmentService({ ca: pki.ca, credentials: { user: USER, password: SECRET }, ...opts });
  const server = new ReferenceServer({ identity: pki.server, ca: pki.ca.certPem, enrollment, acceptOnlyEnrolled: true });
  const url = await server.start();
  const enroller = deviceEnroller({ discoveryUrl: EnrollmentService.discoveryUrl(new URL(url).origin), email: USER, user: USER, password: SECRET, serverCa: pki.ca.certPem, seed: 3 });
  const identity = await enroller(FIRST);
  const channel = await openRunChannel({ enroll: enroller });
  const target: ServerUnderTest = {
    seed: 3, url, serverCa: pki.ca.certPem, deviceId: FIRST, identity, timeoutMs: 5_000, enrollDevice: enrollOver(channel, 30_000),
    queue: async (deviceId, commands) => server.queue(deviceId, ...commands),
  };
  return { target, enrollment, server, stop: async () => {
    await channel.close();
    await server.stop();
  } };
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
      await run.stop();
    }
  });

  test('auth identity cases: bad identities stay inconclusive for want of a CA key, each saying so; the enrolled identity and no certificate are judged', async () => {
    const run = await enrolledRun();
    try {
      const result = await runScenario(mutualTls, run.target, new Set());
      const trn = result.findings.filter((f) => f.id === 'MDM-TRN-004');
      expect(trn.filter((f) => f.verdict === 'pass').map((f) => f.evidence)).toEqual(['no client certificate: refused (HTTP 403)']);
      const inconclusive = trn.filter((f) => f.verdict === 'inconclusive');
      expect(inconclusive).toHaveLength(4);
      for (const f of inconclusive) expect(f.evidence).toMatch(/: the device identity was enrolled \(--enroll\): minting this case needs the CA key of a test PKI \(pki init\)/);
    } finally {
      await run.stop();
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
      await run.stop();
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
