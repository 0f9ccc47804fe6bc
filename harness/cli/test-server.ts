/** `mdm-conformance test-server` (CLI contract, "Testing a server"). */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { certificateFacts } from '../pki';
import { featuresOf, ProfileFileError, readCapabilityProfile } from '../iut/capability-profile';
import { EMBEDDED_CREDENTIALS, EMBEDDED_FEATURES, embeddedServerCredentials } from '../iut/embedded-settings';
import type { RunConfig } from '../iut/run-config';
import type { SyncMLEncoding } from '../protocol/encoding';
import type { Feature } from '../scenarios/scenario';
import { SUITE_NAMES } from '../scenarios/catalog';
import { listenAddress, many, one, seedOf, UsageError, type ParsedArgs } from './args';
import { parseCommand, refuseIgnored, type CommandSpec, type FlagSpec } from './command';
import { credentialsOf, encodingOf, SERVER_AUTH_FLAG, serverCredentialsOf } from './options';
import { readExpectations } from './expectations';
import { loadDevicePki, readPem, throwawayPki } from './identity';
import { runSuites } from './run-suites';
import { ENROLL_ONLY_FLAGS, TEST_SERVER_ENROLL_FLAGS } from './enroll-flags';

/** Flags both test commands take, in the contract's words. */
export const RUN_FLAGS: readonly FlagSpec[] = [
  { name: 'suite', value: 'NAME', repeat: true, default: 'every suite', help: `run only this suite: ${SUITE_NAMES.join(', ')}` },
  { name: 'reports', value: 'DIR', default: './reports', help: 'where the reports are written (replaced on every run)' },
  { name: 'auth', value: 'md5|basic', help: 'the SyncML Cred scheme the implementation under test uses (default: none, mutual TLS only)' },
  { name: 'client-credentials', value: 'USER:SECRET', help: "the device's credentials for --auth (what a device sends in its SyncHdr Cred)" },
  { name: 'profile', value: 'FILE', help: 'capability profile: optional features declared, and (for clients) the node map; see mdm-conformance list features' },
  { name: 'expect', value: 'FILE', help: 'expected failures: {"expectedFailures": [{"id": "MDM-…", "reason": "…"}]}; a listed failure does not fail the run' },
  { name: 'strict', help: 'warnings (SHOULD-level and observed-traffic deviations) fail the run' },
  { name: 'seed', value: 'N', default: 'a fixed seed, printed', help: 'drives every random choice: the same implementation and seed give the same verdicts' },
  { name: 'shard', value: 'I/N', help: 'run part I of N of the tests (join the reports with merge)' },
  { name: 'timeout', value: 'MS', default: '5000', help: 'per request to the implementation under test; a setup problem is found within twice this' },
  { name: 'canary-listen', value: 'ADDRESS:PORT', default: 'a free loopback port', help: 'where the security suite\'s entity-fetch canary listens: an address of this host the implementation can reach (port 0: any free port)' },
];

/** `--canary-listen`: a concrete address, since the canary's URL goes into the probes as it is. */
export function canaryListenOf(args: ParsedArgs, out: (line: string) => void): RunConfig['canaryListen'] {
  const text = one(args, 'canary-listen');
  if (text === undefined) return undefined;
  const { host, port, exposed } = listenAddress(text, '--canary-listen');
  if (host === '0.0.0.0' || host === '::') throw new UsageError(`--canary-listen ${text}: name the address the implementation reaches this host at, not a wildcard; the probes carry it in their URLs`);
  if (exposed) out(`warning: the entity canary listens on ${host}, reachable from other hosts; use it only on a network you trust`);
  return { host, port };
}

export const TEST_SERVER: CommandSpec = {
  name: 'test-server',
  summary: 'Tests an MS-MDM server: the harness plays a Windows-like reference device and drives the suites against it. '
    + 'Without --url it tests the embedded reference server. Exit 0 conforms, 1 a requirement failed, 2 the run could not be judged.',
  flags: [
    { name: 'url', value: 'URL', default: 'the embedded reference server', help: 'the management endpoint of the server under test, e.g. https://127.0.0.1:8443/ManagementServer/MDM.svc' },
    { name: 'pki', value: 'DIR', help: 'a pki init (or enroll) folder: the device identity, the CA for the server certificate, the device id' },
    { name: 'server-ca', value: 'FILE', default: 'DIR/ca.pem', help: 'CA the server certificate must chain to' },
    { name: 'client-cert', value: 'FILE', default: 'DIR/device.pem', help: 'device certificate to present' },
    { name: 'client-key', value: 'FILE', default: 'DIR/device-key.pem', help: 'its private key' },
    { name: 'device-id', value: 'ID', default: 'DIR/device-id.txt, or the certificate CN', help: 'the enrolled device id the harness speaks as' },
    { name: 'control', value: "'COMMAND {deviceId} {file}'", help: 'queues management commands on the server: runs COMMAND with a file of SyncML commands; without it, scenarios that need queued commands are inconclusive' },
    { name: 'http2', help: 'offer HTTP/2 (ALPN h2) as Windows does, and speak it when the server picks it' },
    { name: 'client-cert-header', value: 'NAME', help: 'for a server behind a TLS-terminating proxy: speak HTTP to --url (http://…) and send the device certificate in this header (URL-encoded PEM); TLS rows are then inconclusive' },
    ...TEST_SERVER_ENROLL_FLAGS,
    { name: 'encoding', value: 'xml|wbxml', default: 'xml', help: 'what the device speaks in every scenario: wbxml posts application/vnd.syncml.dm+wbxml, as a device the server provisioned WBXML does, and declares the wbxml feature' },
    { name: 'sign', help: 'the server requires MS-Signature (it set RequireMessageSigning): the device signs every message with its identity, and the message-signing rows are judged; a profile declaring message-signing implies it' },
    ...RUN_FLAGS,
    { name: 'server-credentials', value: 'USER:SECRET', help: 'the credentials the server presents to this device: the device of the auth scenarios then requires and verifies them (w7 CLIENT, DMAcc SRVCRED)' },
    SERVER_AUTH_FLAG,
  ],
  examples: [
    'mdm-conformance test-server',
    'mdm-conformance test-server --enroll --auth-policy Federated',
    'mdm-conformance test-server --enroll --discovery https://enterpriseenrollment.example.test/EnrollmentServer/Discovery.svc --email alice@example.test --user alice@example.test --password "$PASS" --enroll-ca corp-ca.pem',
    "mdm-conformance test-server --url https://mdm.example.test/ManagementServer/MDM.svc --pki pki --control './queue.sh {deviceId} {file}'",
  ],
};

export function shardOf(args: ParsedArgs): string | undefined {
  const shard = one(args, 'shard');
  if (shard === undefined) return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(shard);
  if (!m || Number(m[1]) < 1 || Number(m[1]) > Number(m[2])) throw new UsageError('--shard takes I/N, e.g. 1/2 (this machine runs part I of N)');
  return shard;
}

export function suitesOf(args: ParsedArgs, mode: 'server' | 'client', available: readonly string[]): string[] {
  const suites = many(args, 'suite');
  for (const s of suites) {
    if (!SUITE_NAMES.includes(s as never)) throw new UsageError(`unknown suite "${s}"; suites: ${available.join(', ')}`);
    if (!available.includes(s)) throw new UsageError(`the ${mode} mode has no ${s} suite; its suites: ${available.join(', ')}`);
  }
  return suites;
}

export function profileOf(args: ParsedArgs) {
  const path = one(args, 'profile');
  if (!path) return undefined;
  try {
    return readCapabilityProfile(path);
  } catch (e) {
    if (e instanceof ProfileFileError) throw new UsageError(e.message);
    throw e;
  }
}

function hasCaKey(dir: string): boolean {
  return existsSync(join(dir, 'ca-key.pem'));
}

/**
 * The declared features with what the run's set-up stands for: a WBXML run declares `wbxml` (the implementation
 * takes WBXML), a signing run `message-signing`.
 */
export function withRunFeatures(features: Iterable<Feature>, encoding: SyncMLEncoding | undefined, signing: boolean): Feature[] {
  const out = new Set(features);
  if (encoding === 'wbxml') out.add('wbxml');
  if (signing) out.add('message-signing');
  return [...out];
}

/** `, in WBXML, signing every message` or nothing: how the run speaks, for the console. */
export function runLine(run: { encoding?: SyncMLEncoding; signing?: boolean }): string {
  const parts = [run.encoding === 'wbxml' ? 'in WBXML' : '', run.signing ? 'signing every message (MS-Signature)' : ''].filter(Boolean);
  return parts.length ? `, ${parts.join(', ')}` : '';
}

export function timeoutOf(args: ParsedArgs): number {
  const text = one(args, 'timeout');
  if (text === undefined) return 5_000;
  if (!/^\d+$/.test(text) || Number(text) < 100) throw new UsageError('--timeout takes milliseconds, at least 100 (e.g. 5000)');
  return Number(text);
}

/** The settings every run takes, whichever way the device gets its identity. */
function runConfigOf(args: ParsedArgs, out: (line: string) => void): RunConfig {
  return {
    canaryListen: canaryListenOf(args, out),
    mode: 'server', reportsDir: resolve(one(args, 'reports') ?? 'reports'), startedAt: new Date().toISOString(), strict: args.switches.has('strict'), seed: seedOf(args),
    suites: suitesOf(args, 'server', SUITE_NAMES), shard: shardOf(args), features: [], profilePath: one(args, 'profile'),
  };
}

function expectationsOf(args: ParsedArgs) {
  const expectFile = one(args, 'expect');
  return expectFile ? { file: expectFile, content: readExpectations(expectFile) } : undefined;
}

async function enrolledRun(args: ParsedArgs, out: (line: string) => void): Promise<number> {
  const expectations = expectationsOf(args);
  const profile = profileOf(args);
  // Loaded here: the enrollment client and the embedded server are not needed by any other kind of run.
  const { testServerEnrolled } = require('./test-server-enroll') as typeof import('./test-server-enroll');
  return testServerEnrolled(args, { config: runConfigOf(args, out), expectations, profile, timeoutMs: timeoutOf(args) }, out);
}

export async function testServerCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const args = parseCommand(argv, TEST_SERVER);
  const url = one(args, 'url');
  const enrolling = args.switches.has('enroll');
  refuseIgnored(args, [
    { flag: 'client-credentials', when: !one(args, 'auth'), why: 'credentials are sent only with --auth md5|basic' },
    ...ENROLL_ONLY_FLAGS.map((flag) => ({ flag, when: !enrolling, why: 'it is an option of the enrollment, which runs only with --enroll' })),
  ]);
  if (enrolling) return enrolledRun(args, out);
  refuseIgnored(args, [
    { flag: 'server-ca', when: !url, why: 'the embedded reference server uses its own test CA; --server-ca is for --url' },
    { flag: 'client-cert', when: !url, why: 'the embedded reference server issues its own device identity; --client-cert is for --url' },
    { flag: 'client-key', when: !url, why: 'the embedded reference server issues its own device identity; --client-key is for --url' },
    { flag: 'control', when: !url, why: 'the embedded reference server queues commands itself; --control is for --url' },
    { flag: 'client-cert-header', when: !url, why: 'it is for a server behind a TLS-terminating proxy, given with --url http://…' },
    { flag: 'server-credentials', when: !url, why: 'the embedded reference server presents credentials of its own to each device; --server-credentials is for --url' },
    { flag: 'server-auth', when: !url, why: 'the embedded reference server presents credentials of its own to each device; --server-auth is for --url' },
  ]);
  const expectations = expectationsOf(args);
  const profile = profileOf(args);
  const timeoutMs = timeoutOf(args);
  const config = runConfigOf(args, out);
  const seed = config.seed;
  const encoding = encodingOf(args);
  const signingAsked = args.switches.has('sign');
  if (!url) {
    const dir = one(args, 'pki') ?? throwawayPki(seed).dir;
    const pki = loadDevicePki(dir);
    config.features = withRunFeatures(profile ? featuresOf(profile, 'md5') : EMBEDDED_FEATURES, encoding, signingAsked);
    config.server = {
      embedded: true, pkiDir: dir, serverCa: join(dir, 'ca.pem'), clientCert: join(dir, 'device.pem'), clientKey: join(dir, 'device-key.pem'),
      deviceId: pki.deviceId, credentials: EMBEDDED_CREDENTIALS, serverCredentials: embeddedServerCredentials(pki.deviceId), http2: args.switches.has('http2'), timeoutMs,
      encoding, signing: config.features.includes('message-signing'),
    };
    out(`testing the embedded reference server (pass --url to test yours)${runLine(config.server)}; seed ${seed}`);
    return runSuites(config, expectations, out);
  }
  const pkiDir = one(args, 'pki');
  const pki = pkiDir ? loadDevicePki(pkiDir) : undefined;
  const certFile = one(args, 'client-cert') ?? (pkiDir && join(pkiDir, 'device.pem'));
  const keyFile = one(args, 'client-key') ?? (pkiDir && join(pkiDir, 'device-key.pem'));
  const caFile = one(args, 'server-ca') ?? (pkiDir && join(pkiDir, 'ca.pem'));
  const plain = url.startsWith('http://');
  const certHeader = one(args, 'client-cert-header');
  if (plain && !certHeader) throw new UsageError(`--url ${url} is plain HTTP: the management endpoint is HTTPS (MS-MDM 2.1); for a server behind a TLS-terminating proxy, add --client-cert-header NAME`);
  if (certHeader && !plain) throw new UsageError('--client-cert-header speaks plain HTTP to the server behind its proxy: give --url http://…');
  if (!certFile || !keyFile) throw new UsageError('the device needs an identity the server trusts: pass --pki DIR (from pki init or enroll) or --client-cert FILE --client-key FILE');
  if (!caFile && !plain) throw new UsageError('the harness must verify the server certificate: pass --server-ca FILE or --pki DIR');
  const certPem = readPem(certFile, '--client-cert');
  const keyPem = readPem(keyFile, '--client-key');
  const serverCa = caFile ? readPem(caFile, '--server-ca') : '';
  const deviceId = one(args, 'device-id') ?? pki?.deviceId ?? certificateFacts(certPem).subjectCN;
  if (!deviceId) throw new UsageError('cannot tell the device id: pass --device-id ID');
  const credentials = credentialsOf(args, 'client-credentials');
  config.features = withRunFeatures(featuresOf(profile, credentials ? (credentials.scheme === 'syncml:auth-md5' ? 'md5' : 'basic') : undefined), encoding, signingAsked);
  const signing = config.features.includes('message-signing');
  const serverCredentials = serverCredentialsOf(args);
  // Loaded here: the device a preflight runs is not needed by an embedded run.
  const { preflight } = require('../iut/preflight') as typeof import('../iut/preflight');
  const problem = await preflight({
    url, deviceId, identity: { certPem, keyPem }, serverCa, credentials, timeoutMs, http2: args.switches.has('http2'), clientCertHeader: certHeader,
    caHint: pkiDir ? join(pkiDir, 'ca.pem') : undefined, encoding, signing,
  });
  if (problem) {
    out(`error: ${problem}`);
    return 2;
  }
  config.server = {
    // Bad identities for the auth scenarios can be minted only from a CA key: a pki init folder has one, an enrolled one not.
    embedded: false, url, pkiDir: pkiDir && hasCaKey(pkiDir) && !one(args, 'client-cert') ? pkiDir : undefined, serverCa: caFile ?? '', clientCert: certFile, clientKey: keyFile,
    deviceId, control: one(args, 'control'), credentials, serverCredentials, http2: args.switches.has('http2'), clientCertHeader: certHeader, timeoutMs,
    encoding, signing,
  };
  out(`testing ${url} as device ${deviceId}${runLine(config.server)}; seed ${seed}`);
  if (!one(args, 'control')) out('note: no --control given: scenarios that need queued commands are skipped, their requirements not judged');
  return runSuites(config, expectations, out);
}
