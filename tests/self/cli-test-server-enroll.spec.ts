import { expect, test } from '@playwright/test';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../../harness/cli/args';
import { testServerCommand } from '../../harness/cli/test-server';
import { AUTH_POLICIES, ENROLLMENT_SERVICE_FAULTS, EnrollmentService, type EnrollmentServiceFault } from '../../harness/enrollment';
import { EMBEDDED_ENROLLMENT_ACCOUNT } from '../../harness/iut/embedded-server';
import { createTestPki, writePki } from '../../harness/pki';
import type { ConformanceReport } from '../../harness/report/report';
import { ReferenceServer } from '../../harness/server/reference-server';
import { expectEveryRowAccountedFor, runCli, scaled } from './run-cli';

const USER = 'alice@example.com';
const SECRET = 'enrollment-secret-42';
const STEPS = ['discovery-probe', 'discovery', 'policy', 'enrollment', 'provisioning'];

const scratch = () => mkdtempSync(join(tmpdir(), 'mdm-cli-enroll-'));
const report = (dir: string) => JSON.parse(readFileSync(join(dir, 'conformance-report.json'), 'utf8')) as ConformanceReport;
const tests = (dir: string) => (JSON.parse(readFileSync(join(dir, 'conformance-tests.json'), 'utf8')) as { tests: { scenario?: string; notes: string[]; findings: { id: string; verdict: string; evidence: string }[] }[] }).tests;

/** The lines of a run that match, each pattern's first capture. */
function captures(out: string, pattern: RegExp): string[] {
  return [...out.matchAll(new RegExp(pattern.source, 'gm'))].map((m) => m[1]);
}

/** A reference server in this process, with its enrollment service and only enrolled devices accepted, as a vendor's would be. */
async function servedEnrollmentServer(opts: { faults?: EnrollmentServiceFault[]; maxDevicesPerUser?: number } = {}) {
  const pki = createTestPki({ keyType: 'ec' });
  const pkiDir = scratch();
  writePki(pkiDir, pki, { force: true });
  const enrollment = new EnrollmentService({ ca: pki.ca, credentials: { user: USER, password: SECRET }, ...opts });
  // Every certificate the DM side is shown, as the fingerprint it looks up.
  const presented: string[] = [];
  const knows = enrollment.knows.bind(enrollment);
  enrollment.knows = (fingerprint: string) => {
    presented.push(fingerprint);
    return knows(fingerprint);
  };
  const server = new ReferenceServer({ identity: pki.server, ca: pki.ca.certPem, enrollment, acceptOnlyEnrolled: true });
  const url = await server.start();
  return { pki, pkiDir, enrollment, server, presented, discoveryUrl: EnrollmentService.discoveryUrl(new URL(url).origin) };
}

test.describe('test-server --enroll (enrollment first, then the suites with the identity it issued)', () => {
  test.describe.configure({ timeout: scaled(150_000) });

  for (const policy of AUTH_POLICIES) {
    // One policy runs every suite; the others the suites where identities matter, to keep the self suite short.
    const suites = policy === 'OnPremise' ? [] : ['--suite', 'auth', '--suite', 'security'];
    test(`embedded reference server, ${policy}: enrolls step by step, runs ${suites.length ? 'the auth and security suites' : 'every suite'} as the device the enrollment service issued (not the pki init one), enrolls a second device for session isolation, exit 0`, async () => {
      const reports = scratch();
      const pkiDir = scratch();
      const pki = createTestPki({ keyType: 'ec' });
      writePki(pkiDir, pki, { force: true });
      const run = await runCli(['test-server', '--enroll', '--auth-policy', policy, '--pki', pkiDir, '--reports', reports, ...suites]);
      expect(run.code, run.out).toBe(0);

      // One line per step, in order, all before the suites start.
      const stepLines = captures(run.out, /^enroll ([a-z-]+): /);
      expect(stepLines).toEqual(STEPS);
      expect(run.out.indexOf('enroll provisioning:')).toBeLessThan(run.out.indexOf('running '));
      expect(run.out).toMatch(new RegExp(`^enroll discovery: AuthPolicy ${policy};`, 'm'));

      // The identity used: what the enrollment service issued, not the pki init device identity.
      const [deviceId] = captures(run.out, /^enrolled device (\S+) \(/);
      const [fingerprint] = captures(run.out, /^enrolled device \S+ \(\w+\): certificate .*, SHA-256 ([0-9A-F:]+), issued by /);
      const [issuedFingerprint] = captures(run.out, new RegExp(`^embedded enrollment service: issued device ${deviceId} \\(${policy}\\) a certificate, SHA-256 ([0-9A-F:]+)$`));
      expect(fingerprint).toBeTruthy();
      expect(issuedFingerprint).toBe(fingerprint);
      expect(fingerprint).not.toBe(new X509Certificate(pki.device.certPem).fingerprint256);
      expect(deviceId).not.toBe(pki.deviceId);
      const [identityDir] = captures(run.out, /; identity in (\S+)$/);
      expect(new X509Certificate(readFileSync(join(identityDir, 'device.pem'), 'utf8')).fingerprint256).toBe(fingerprint);
      const r = report(reports);
      expect(r.iut).toMatchObject({ url: 'embedded reference server', deviceId, enrollment: { authPolicy: policy, deviceId, certificate: { fingerprint256: fingerprint, issuer: new X509Certificate(pki.ca.certPem).subject.replace(/\n/g, ', ') } } });

      // The second device: enrolled the same way during the run, and MDM-SES-021 judged with it.
      expect(run.out).toMatch(new RegExp(`^embedded enrollment service: issued device ${deviceId}-second \\(${policy}\\) a certificate`, 'm'));
      expect(r.requirements.find((x) => x.id === 'MDM-SES-021')?.verdict).toBe('pass');
      expect(r.requirements.find((x) => x.id === 'MDM-TRN-004')?.verdict).toBe('pass');
      const [sessions] = captures(run.out, /^embedded reference server: took DM sessions only with the certificates its enrollment service issued: (.+); refused \d+ request\(s\)$/);
      expect(sessions).toMatch(new RegExp(`^\\d+ of ${deviceId}, \\d+ of ${deviceId}-second$`));
      expect(r.summary.failed).toBe(0);
      if (!suites.length) expectEveryRowAccountedFor(r, 'server');

      // The enrollment secret is in no line and no report.
      expect(run.out).not.toContain(EMBEDDED_ENROLLMENT_ACCOUNT.password);
      expect(readFileSync(join(reports, 'conformance-report.json'), 'utf8')).not.toContain(EMBEDDED_ENROLLMENT_ACCOUNT.password);
      expect(readFileSync(join(reports, 'conformance-tests.json'), 'utf8')).not.toContain(EMBEDDED_ENROLLMENT_ACCOUNT.password);
    });
  }

  test('a served enrollment server (--discovery): the device presents the certificate the service issued, the DM URL comes from the provisioning document, bad identities are inconclusive for want of a CA key', async () => {
    const served = await servedEnrollmentServer();
    try {
      const reports = scratch();
      const run = await runCli([
        'test-server', '--enroll', '--discovery', served.discoveryUrl, '--email', USER, '--user', USER, '--password', SECRET,
        '--enroll-ca', join(served.pkiDir, 'ca.pem'), '--suite', 'setup', '--suite', 'auth', '--reports', reports,
      ]);
      expect(run.code, run.out).toBe(0);
      expect(captures(run.out, /^enroll ([a-z-]+): /)).toEqual(STEPS);
      expect(run.out).toContain(`testing ${served.server.url} as the enrolled device`);
      expect(run.out).not.toContain(SECRET);
      const r = report(reports);
      const enrolled = (r.iut as { enrollment: { deviceId: string; certificate: { fingerprint256: string } } }).enrollment;
      // The reference server issued the certificate, and it is the one the device presented in its DM sessions.
      const issued = served.enrollment.issued();
      expect(issued.map((i) => i.fingerprint256)).toContain(enrolled.certificate.fingerprint256);
      expect(served.presented).toContain(enrolled.certificate.fingerprint256);
      expect(served.server.sessionsOf(enrolled.deviceId).filter((s) => s.state !== 'refused').length).toBeGreaterThan(0);
      // The auth suite's certificate of another device came from a second enrollment, and was refused for this device.
      expect(issued.map((i) => i.deviceId)).toEqual([enrolled.deviceId, `${enrolled.deviceId}-second`]);
      expect(run.out).toContain(`enrolled another device ${enrolled.deviceId}-second for the suites: certificate SHA-256 ${issued[1].fingerprint256}`);
      const trn = tests(reports).flatMap((t) => t.findings).filter((f) => f.id === 'MDM-TRN-004');
      expect(trn.filter((f) => f.verdict === 'inconclusive').map((f) => f.evidence)).toEqual([
        'a certificate from an untrusted CA', 'an expired certificate', 'a certificate not yet valid', 'a certificate without the clientAuth key usage',
      ].map((what) => `${what}: the device identity was enrolled (--enroll): minting this case needs the CA key of a test PKI (pki init), which an enrollment does not give`));
      expect(r.requirements.find((x) => x.id === 'MDM-TRN-004')?.verdict).toBe('pass');
    } finally {
      await served.server.stop();
    }
  });

  test('a served enrollment server that allows one device per user: the second device is refused, said in one note, and the run still judges what it can (exit 0)', async () => {
    const served = await servedEnrollmentServer({ maxDevicesPerUser: 1 });
    try {
      const reports = scratch();
      const run = await runCli([
        'test-server', '--enroll', '--discovery', served.discoveryUrl, '--email', USER, '--user', USER, '--password', SECRET,
        '--enroll-ca', join(served.pkiDir, 'ca.pem'), '--suite', 'auth', '--reports', reports,
      ]);
      expect(run.code, run.out).toBe(0);
      const [deviceId] = captures(run.out, /^enrolled device (\S+) \(/);
      expect(run.out).toMatch(new RegExp(`^note: could not enroll another device ${deviceId}-second: failed at enrollment: SOAP fault s:Receiver/s:Authorization: User already enrolled in too many devices \\(DeviceCapReached: 1 per user\\)`, 'm'));
      expect(served.enrollment.issued().map((i) => i.deviceId)).toEqual([deviceId]);
      const auth = tests(reports).find((t) => t.scenario === 'auth/mutual-tls-identities')!;
      expect(auth.notes.join('\n')).toMatch(/a certificate of another device presented for .*: not probed, enrolling a second device .* failed at enrollment: .*DeviceCapReached/);
    } finally {
      await served.server.stop();
    }
  });

  for (const fault of ENROLLMENT_SERVICE_FAULTS) {
    test(`enrollment service fault ${fault.name}: exit 2 with one line naming the step (${fault.failsAt}), nothing judged`, async () => {
      const served = await servedEnrollmentServer({ faults: [fault] });
      try {
        const reports = scratch();
        const run = await runCli([
          'test-server', '--enroll', '--discovery', served.discoveryUrl, '--email', USER, '--user', USER, '--password', SECRET,
          '--enroll-ca', join(served.pkiDir, 'ca.pem'), '--reports', reports,
        ], scaled(60_000));
        expect(run.code, run.out).toBe(2);
        const lines = run.out.trim().split('\n');
        const errors = lines.filter((l) => l.startsWith('error:'));
        expect(errors).toHaveLength(1);
        expect(errors[0]).toMatch(new RegExp(`^error: enrollment failed at ${fault.failsAt}: `));
        expect(errors[0]).toMatch(fault.clientSays);
        expect(lines.at(-1)).toBe(errors[0]);
        // The steps before the failing one completed; the suites never started.
        expect(captures(run.out, /^enroll ([a-z-]+): /)).toEqual(STEPS.slice(0, STEPS.indexOf(fault.failsAt)));
        expect(run.out).not.toMatch(/running \d+ tests/);
        expect(existsSync(join(reports, 'conformance-report.json'))).toBe(false);
        expect(served.server.sessions).toEqual([]);
      } finally {
        await served.server.stop();
      }
    });
  }

  test('options that make no sense with --enroll, or without it, are usage errors: exit 2, one line', async () => {
    const discovery = 'https://127.0.0.1:9/EnrollmentServer/Discovery.svc';
    const cases: [string[], RegExp][] = [
      [['--enroll', '--client-cert', 'device.pem'], /--client-cert has no effect here: with --enroll the device presents the certificate its enrollment issued/],
      [['--discovery', discovery], /--discovery has no effect here: it is an option of the enrollment, which runs only with --enroll/],
      [['--auth-policy', 'Federated'], /--auth-policy has no effect here: it is an option of the enrollment/],
      [['--enroll', '--user', USER], /--user has no effect here: the embedded reference server's enrollment service has its own account/],
      [['--enroll', '--url', 'https://127.0.0.1:9/ManagementServer/MDM.svc'], /--url has no effect here: the embedded reference server's DM URL comes from its enrollment/],
      [['--enroll', '--control', './queue.sh {deviceId} {file}'], /--control has no effect here: the embedded reference server queues commands itself/],
      [['--enroll', '--ca', 'ca.pem'], /unknown option --ca/],
      [['--enroll', '--discovery', discovery], /test-server --enroll --discovery URL needs --email ADDRESS/],
      [['--enroll', '--discovery', discovery, '--email', USER], /--auth-policy OnPremise needs --user U --password P/],
      [['--enroll', '--discovery', discovery, '--email', USER, '--auth-policy', 'Federated', '--token', 't', '--password', 'p'], /--password has no effect here: the Federated policy sends no password/],
      [['--enroll', '--discovery', discovery, '--email', USER, '--user', USER, '--password', 'p', '--pki', 'pki'], /--pki has no effect here: with --enroll --discovery the device identity and the server CA come from the enrollment/],
      [['--enroll', '--auth-policy', 'Kerberos'], /--auth-policy takes OnPremise, Federated or Certificate/],
    ];
    // Refused before anything is started: in this process, then one of them as a user runs it.
    for (const [args, message] of cases) {
      const error = await testServerCommand(args, () => undefined).then(() => undefined, (e: unknown) => e);
      expect(error, args.join(' ')).toBeInstanceOf(UsageError);
      expect((error as Error).message, args.join(' ')).toMatch(message);
    }
    const run = await runCli(['test-server', ...cases[0][0]], scaled(30_000));
    expect(run.code).toBe(2);
    expect(run.out.trim().split('\n')).toEqual([expect.stringMatching(cases[0][1])]);
  });

  test('a discovery URL where nothing listens: exit 2 with one line naming the discovery-probe step', async () => {
    const run = await runCli(['test-server', '--enroll', '--discovery', 'https://127.0.0.1:9/EnrollmentServer/Discovery.svc', '--email', USER, '--user', USER, '--password', SECRET, '--reports', scratch()], scaled(30_000));
    expect(run.code).toBe(2);
    expect(run.out.trim().split('\n').filter((l) => l.startsWith('error:'))).toEqual([expect.stringMatching(/^error: enrollment failed at discovery-probe: cannot connect to 127\.0\.0\.1:9: connection refused$/)]);
  });
});
