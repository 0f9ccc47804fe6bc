/**
 * `test-server --enroll`: the device enrolls first (MS-MDE2 discovery, policy, enrollment; one line per step), then
 * the suites run with the DM URL and the identity the enrollment gave, and enroll a second device the same way where
 * a scenario needs one.
 *
 * With `--discovery URL` the enrollment is the vendor's. Without it, the CLI hosts the embedded reference server with
 * its enrollment service, taking DM sessions only from the certificates that service issued, enrolls against it with
 * the chosen policy, and lends its command queue to the suites through a loopback channel: the identity it issued
 * must meet the same server in every worker.
 *
 * A failed enrollment is one line naming the step and why, and exit 2: nothing is judged.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { enroll, EnrollmentError, writeEnrollment, type EnrollmentResult, type EnrollOptions } from '../enrollment';
import { featuresOf, type CapabilityProfile } from '../iut/capability-profile';
import { EMBEDDED_CREDENTIALS, EMBEDDED_ENROLLMENT_ACCOUNT, EMBEDDED_FEATURES, startEmbeddedServer, type EmbeddedServer } from '../iut/embedded-server';
import { preflight } from '../iut/preflight';
import { deviceEnroller } from '../iut/enrolled-devices';
import { openRunChannel, type OpenRunChannel } from '../iut/run-channel';
import type { Credentials, RunConfig } from '../iut/run-config';
import { PKI_FILES } from '../pki';
import { one, UsageError, type ParsedArgs } from './args';
import { refuseIgnored } from './command';
import { enrollArgsOf, requirePolicyCredentials, type EnrollArgs } from './enroll';
import type { ExpectationsFile } from './expectations';
import { credentialsOf } from './options';
import { loadPki, readPem, throwawayPki } from './identity';
import { runSuites } from './run-suites';

/** Enrollment requests get this long when --timeout is not given: an enrollment service is slower than a DM session. */
const ENROLL_TIMEOUT_MS = 10_000;

export interface EnrolledRun {
  config: RunConfig;
  expectations: { file: string; content: ExpectationsFile } | undefined;
  profile: CapabilityProfile | undefined;
  timeoutMs: number;
}

/** Where the enrollment goes and with what; for the embedded server the harness holds its account. */
interface Plan {
  options: EnrollOptions;
  /** The embedded reference server the CLI hosts; absent with --discovery. */
  embedded?: { server: EmbeddedServer; pkiDir: string };
}

export async function testServerEnrolled(args: ParsedArgs, run: EnrolledRun, out: (line: string) => void): Promise<number> {
  const given = enrollArgsOf(args, 'enroll-ca');
  const embedded = !given.discoveryUrl;
  const url = one(args, 'url');
  const embeddedHas = (why: string) => (flag: string) => ({ flag, when: embedded, why });
  refuseIgnored(args, [
    { flag: 'client-cert', when: true, why: 'with --enroll the device presents the certificate its enrollment issued' },
    { flag: 'client-key', when: true, why: 'with --enroll the device presents the certificate its enrollment issued' },
    { flag: 'pki', when: !embedded, why: 'with --enroll --discovery the device identity and the server CA come from the enrollment' },
    { flag: 'url', when: embedded, why: "the embedded reference server's DM URL comes from its enrollment; with --discovery URL, --url overrides the enrolled DM URL" },
    ...['user', 'password', 'token', 'cert', 'key', 'enroll-ca'].map(embeddedHas("the embedded reference server's enrollment service has its own account and test CA; it is for --enroll --discovery URL")),
    { flag: 'server-ca', when: embedded, why: 'the embedded reference server uses its own test CA; --server-ca is for --discovery' },
    { flag: 'control', when: embedded, why: 'the embedded reference server queues commands itself; --control is for --discovery' },
    { flag: 'client-cert-header', when: !url, why: 'it is for a server behind a TLS-terminating proxy, given with --url http://…' },
  ]);
  const plain = !!url?.startsWith('http://');
  const certHeader = one(args, 'client-cert-header');
  if (plain && !certHeader) throw new UsageError(`--url ${url} is plain HTTP: the management endpoint is HTTPS (MS-MDM 2.1); for a server behind a TLS-terminating proxy, add --client-cert-header NAME`);
  if (certHeader && !plain) throw new UsageError('--client-cert-header speaks plain HTTP to the server behind its proxy: give --url http://…');
  if (!embedded) {
    if (!given.email) throw new UsageError('test-server --enroll --discovery URL needs --email ADDRESS (the user enrolling)');
    requirePolicyCredentials(given);
  }
  const { config } = run;
  const timeoutMs = one(args, 'timeout') ? run.timeoutMs : ENROLL_TIMEOUT_MS;
  const credentials = embedded ? EMBEDDED_CREDENTIALS : credentialsOf(args, 'client-credentials');
  const deviceId = one(args, 'device-id');

  const plan = embedded ? await embeddedPlan(args, given, config, out) : vendorPlan(given);
  let channel: OpenRunChannel | undefined;
  try {
    out(embedded
      ? `enrolling with the embedded reference server (${given.authPolicy}; pass --discovery URL to enroll with yours); seed ${config.seed}`
      : `enrolling with ${given.discoveryUrl} as ${given.email} (${given.authPolicy}); seed ${config.seed}`);
    let result: EnrollmentResult;
    try {
      result = await enroll({ ...plan.options, deviceId, seed: config.seed, timeoutMs, onStep: (step, line) => out(`enroll ${step}: ${line}`) });
    } catch (e) {
      if (e instanceof EnrollmentError) {
        out(`error: enrollment failed at ${e.step}: ${e.message}`);
        return 2;
      }
      throw e;
    }
    for (const a of result.advisories) out(`advisory ${a.probe} (${a.section}): ${a.evidence}`);

    // The identity is kept (it may have been the server's only enrollment): a later run can take it with --pki.
    const scratch = mkdtempSync(join(tmpdir(), 'mdm-conformance-enrolled-'));
    const identityDir = join(scratch, 'identity');
    try {
      writeEnrollment(identityDir, result);
    } catch (e) {
      out(`error: cannot keep the enrolled identity in ${identityDir}: ${(e as Error).message}`);
      return 2;
    }
    const cert = new X509Certificate(result.identity.certPem);
    const certificate = { subject: oneLine(cert.subject), issuer: oneLine(cert.issuer), fingerprint256: cert.fingerprint256 };
    out(`enrolled device ${result.deviceId} (${result.authPolicy}): certificate ${certificate.subject}, SHA-256 ${certificate.fingerprint256}, issued by ${certificate.issuer}; identity in ${identityDir}`);

    const dmUrl = url ?? result.dmUrl;
    const serverCaFile = one(args, 'server-ca') ?? serverCaOf(scratch, identityDir, result, given.caFile);
    const certPem = readPem(join(identityDir, PKI_FILES.deviceCert), 'the enrolled certificate');
    const keyPem = readPem(join(identityDir, PKI_FILES.deviceKey), 'the enrolled key');
    const serverCa = plain ? '' : readPem(serverCaFile, '--server-ca');
    const http2 = args.switches.has('http2');
    const problem = await preflight({ url: dmUrl, deviceId: result.deviceId, identity: { certPem, keyPem }, serverCa, credentials, timeoutMs: run.timeoutMs, http2, clientCertHeader: certHeader, enrolled: true });
    if (problem) {
      out(`error: ${problem}`);
      return 2;
    }
    // The suites' workers queue commands on the hosted server and have more devices enrolled through the CLI, which
    // keeps the enrollment secrets in memory.
    channel = await openRunChannel({
      queue: plan.embedded && ((id, commands) => plan.embedded!.server.server.queue(id, ...commands)),
      enroll: deviceEnroller({ ...plan.options, seed: config.seed, timeoutMs }, (id, outcome) => out('result' in outcome
        ? `enrolled another device ${id} for the suites: certificate SHA-256 ${new X509Certificate(outcome.result.identity.certPem).fingerprint256}`
        : `note: could not enroll another device ${id}${outcome.error instanceof EnrollmentError ? `: failed at ${outcome.error.step}` : ''}: ${outcome.error.message}`)),
    });
    config.server = {
      embedded, url: dmUrl,
      // Bad identities for the auth scenarios are minted from a CA key: the embedded server's test PKI has one, an enrollment not.
      pkiDir: plan.embedded?.pkiDir,
      serverCa: serverCaFile, clientCert: join(identityDir, PKI_FILES.deviceCert), clientKey: join(identityDir, PKI_FILES.deviceKey),
      deviceId: result.deviceId, control: one(args, 'control'), credentials: credentials as Credentials | undefined, http2, clientCertHeader: certHeader,
      timeoutMs: run.timeoutMs,
      enrollment: { discoveryUrl: plan.options.discoveryUrl, authPolicy: result.authPolicy, timeoutMs, deviceId: result.deviceId, certificate },
      channel: { url: channel.url, token: channel.token },
    };
    config.features = embedded
      ? [...(run.profile ? featuresOf(run.profile, 'md5') : EMBEDDED_FEATURES)]
      : [...featuresOf(run.profile, credentials ? (credentials.scheme === 'syncml:auth-md5' ? 'md5' : 'basic') : undefined)];
    out(`testing ${embedded ? 'the embedded reference server' : dmUrl} as the enrolled device ${result.deviceId}`);
    if (!embedded && !one(args, 'control')) out('note: no --control given: scenarios that need queued commands are skipped, their requirements not judged');
    const code = await runSuites(config, run.expectations, out);
    if (plan.embedded) for (const line of enrolledSessions(plan.embedded.server)) out(line);
    return code;
  } finally {
    await channel?.close();
    await plan.embedded?.server.stop();
  }
}

/** The CLI hosts the embedded reference server with its enrollment service; the harness holds the account. */
async function embeddedPlan(args: ParsedArgs, given: EnrollArgs, config: RunConfig, out: (line: string) => void): Promise<Plan> {
  const pkiDir = one(args, 'pki');
  const { pki, dir } = pkiDir ? { pki: loadPki(pkiDir), dir: pkiDir } : throwawayPki(config.seed);
  const server = await startEmbeddedServer({
    pki, seed: config.seed,
    enrollment: { onIssued: (i) => out(`embedded enrollment service: issued device ${i.deviceId} (${i.authPolicy}) a certificate, SHA-256 ${i.fingerprint256}`) },
  });
  const { user, password } = EMBEDDED_ENROLLMENT_ACCOUNT;
  const policy = given.authPolicy;
  // Each policy with what it sends: the account's user and password, its password as the Federated token, or the
  // test PKI's device certificate (from the CA the service trusts) for the Certificate policy.
  const secrets = policy === 'OnPremise' ? { user, password } : policy === 'Federated' ? { token: password } : { clientIdentity: pki.device };
  return {
    options: { discoveryUrl: server.discoveryUrl!, email: given.email ?? user, authPolicy: policy, ...secrets, serverCa: pki.ca.certPem },
    embedded: { server, pkiDir: dir },
  };
}

function vendorPlan(given: EnrollArgs): Plan {
  const { discoveryUrl, email, authPolicy, user, password, token, certFile, keyFile, caFile } = given;
  return {
    options: {
      discoveryUrl: discoveryUrl!, email: email!, authPolicy, user, password, token,
      clientIdentity: certFile ? { certPem: readPem(certFile, '--cert'), keyPem: readPem(keyFile!, '--key') } : undefined,
      serverCa: caFile ? readPem(caFile, '--enroll-ca') : undefined,
    },
  };
}

/**
 * The CAs the DM server's certificate may chain to: the roots the provisioning document delivered and the CA that
 * verified the enrollment server (often the same host, or the same company CA).
 */
function serverCaOf(scratch: string, identityDir: string, result: EnrollmentResult, enrollCaFile: string | undefined): string {
  if (!enrollCaFile) return join(identityDir, PKI_FILES.caCert);
  const file = join(scratch, 'server-ca.pem');
  writeFileSync(file, [...result.roots, readPem(enrollCaFile, '--enroll-ca')].map((p) => (p.endsWith('\n') ? p : `${p}\n`)).join(''));
  return file;
}

/**
 * What the embedded server saw: it takes a DM session only with a certificate its enrollment service issued, for
 * the device it was issued to, so the sessions it took, counted by device, show which enrolled identities the run used.
 */
function enrolledSessions(embedded: EmbeddedServer): string[] {
  const issued = embedded.enrollment!.issued();
  const taken = new Map<string, number>();
  let refused = 0;
  for (const s of embedded.server.sessions) {
    if (s.state === 'refused') refused++;
    else taken.set(s.deviceId, (taken.get(s.deviceId) ?? 0) + 1);
  }
  return [
    `embedded enrollment service: issued ${issued.length} certificate(s), to ${issued.map((i) => i.deviceId).join(', ')}`,
    `embedded reference server: took DM sessions only with the certificates its enrollment service issued: ${[...taken].map(([d, n]) => `${n} of ${d}`).join(', ') || 'none'}; refused ${refused} request(s)`,
  ];
}

function oneLine(dn: string): string {
  return dn.replace(/\n/g, ', ');
}
