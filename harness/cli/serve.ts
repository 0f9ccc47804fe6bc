/** `mdm-conformance serve`: the reference server until interrupted, printing each session (CLI contract). */
import { EnrollmentService } from '../enrollment';
import { ReferenceServer } from '../server/reference-server';
import { SERVER_FAULTS, SERVER_WEAKNESSES } from '../server/faults';
import { seeded } from '../protocol/random';
import { listenAddress, one, seedOf, UsageError, userSecret } from './args';
import { parseCommand, refuseIgnored, type CommandSpec } from './command';
import { runOptionsOf } from '../protocol/fault';
import { credentialsOf, faultsNamed, SERVER_AUTH_FLAG, serverCredentialsOf } from './options';
import { loadPki, throwawayPki } from './identity';
import { printExchanges } from './transcript-print';

export const SERVE: CommandSpec = {
  name: 'serve',
  summary: 'Runs the reference server until interrupted (Ctrl-C), printing each session\'s transcript: point a client at it while you develop. '
    + 'Exit 0 when stopped, 2 when it cannot listen or on bad usage.',
  flags: [
    { name: 'listen', value: 'HOST:PORT', default: '127.0.0.1:8443', help: 'where to listen; a non-loopback address is allowed when named, with a warning' },
    { name: 'pki', value: 'DIR', default: 'a fresh test PKI', help: 'pki init folder: the server identity and the CA it trusts for device certificates' },
    { name: 'fault', value: 'NAME', repeat: true, help: 'switch on a catalogued fault or weakness of the reference server (see mdm-conformance list faults)' },
    { name: 'auth', value: 'md5|basic', help: 'require application-level credentials of every device' },
    { name: 'client-credentials', value: 'USER:SECRET', help: 'the credentials --auth requires' },
    { name: 'server-credentials', value: 'USER:SECRET', help: 'the credentials the server presents to every device, and answers a device\'s challenge with' },
    SERVER_AUTH_FLAG,
    { name: 'enroll-credentials', value: 'USER:SECRET', help: 'run the MS-MDE2 enrollment service too, taking this OnPremise account (and the secret as Federated token)' },
    { name: 'enrolled-only', help: 'take DM sessions only from certificates the enrollment service issued' },
    { name: 'require-signatures', help: 'as a server that set RequireMessageSigning: refuse (HTTP 403) every message without a valid MS-Signature by the certificate of its device' },
    { name: 'seed', value: 'N', default: 'a fixed seed', help: 'the nonces the server makes follow it' },
  ],
};

export async function serveCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const args = parseCommand(argv, SERVE);
  refuseIgnored(args, [{ flag: 'client-credentials', when: !one(args, 'auth'), why: 'credentials are required only with --auth md5|basic' }]);
  const { host, port, exposed } = listenAddress(one(args, 'listen') ?? '127.0.0.1:8443', '--listen');
  if (exposed) out(`warning: listening on ${host}, reachable from other hosts; use it only on a network you trust`);
  const pkiDir = one(args, 'pki');
  const { pki, dir } = pkiDir ? { pki: loadPki(pkiDir), dir: pkiDir } : throwawayPki(seedOf(args));
  const credentials = credentialsOf(args, 'client-credentials');
  const faults = faultsNamed(args, [...SERVER_FAULTS, ...SERVER_WEAKNESSES]);
  // A signature fault (accepts-bad-signature) is a way of requiring signatures: it implies requiring them.
  const requireSignatures = args.switches.has('require-signatures') || runOptionsOf(faults).signing === true;
  const enrollCredentials = one(args, 'enroll-credentials');
  if (args.switches.has('enrolled-only') && !enrollCredentials) throw new UsageError('--enrolled-only needs --enroll-credentials USER:SECRET');
  const enrollment = enrollCredentials
    ? new EnrollmentService({
      ca: pki.ca,
      credentials: userSecret(enrollCredentials, '--enroll-credentials'),
      onIssued: (issued) => out(`=== enrolled device ${issued.deviceId} (${issued.authPolicy}): certificate SHA-256 ${issued.fingerprint256}`),
    })
    : undefined;
  const server = new ReferenceServer({
    rng: seeded(seedOf(args), 'reference-server'),
    exposed,
    enrollment,
    acceptOnlyEnrolled: args.switches.has('enrolled-only'),
    identity: pki.server,
    ca: pki.ca.certPem,
    host,
    port,
    faults,
    clientAuth: credentials,
    requireSignatures,
    serverCredentials: serverCredentialsOf(args),
    onSessionEnd: (record) => {
      out(`=== session ${record.sessionID || '(none)'} of device ${record.deviceId || '(unknown)'}: ${record.state}`);
      printExchanges(server.exchangesOf(record), out);
    },
  });
  let url: string;
  try {
    url = await server.start();
  } catch (e) {
    out(`cannot listen on ${host}:${port}: ${(e as Error).message}`);
    return 2;
  }
  out(`reference server listening on ${url}`);
  if (enrollment) {
    out(`enrollment discovery URL ${EnrollmentService.discoveryUrl(new URL(url).origin)} (OnPremise user and password, or the password as Federated token, or Certificate)`);
    if (args.switches.has('enrolled-only')) out('DM sessions are accepted only with certificates the enrollment service issued');
  }
  out(`PKI in ${dir}${pkiDir ? '' : ' (temporary: removed when serve stops; pki init and --pki keep one)'}: clients trust ${dir}/ca.pem and present ${dir}/device.pem (device id ${pki.deviceId})`);
  if (faults.length) out(`faults switched on: ${faults.map((f) => f.name).join(', ')}`);
  if (requireSignatures) out('every message must carry a valid MS-Signature by its device certificate (RequireMessageSigning)');
  out('replies go in the encoding of each request: XML, or WBXML to application/vnd.syncml.dm+wbxml');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.stop();
  out('stopped');
  return 0;
}
