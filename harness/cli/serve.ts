/** `mdm-conformance serve`: the reference server until interrupted, printing each session (CLI contract). */
import { EnrollmentService } from '../enrollment';
import { ReferenceServer } from '../server/reference-server';
import { SERVER_FAULTS, SERVER_WEAKNESSES } from '../server/faults';
import { hostPort, one, parseArgs, UsageError, userSecret } from './args';
import { credentialsOf, faultsNamed } from './options';
import { loadPki, throwawayPki } from './identity';
import { printExchanges } from './transcript-print';

export async function serveCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const args = parseArgs(argv, {
    values: { listen: false, pki: false, fault: true, auth: false, 'client-credentials': false, 'enroll-credentials': false },
    switches: ['enrolled-only'],
  });
  const { host, port } = hostPort(one(args, 'listen') ?? '127.0.0.1:8443', '--listen');
  const pkiDir = one(args, 'pki');
  const { pki, dir } = pkiDir ? { pki: loadPki(pkiDir), dir: pkiDir } : throwawayPki();
  const credentials = credentialsOf(args, 'client-credentials');
  const faults = faultsNamed(args, [...SERVER_FAULTS, ...SERVER_WEAKNESSES]);
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
    enrollment,
    acceptOnlyEnrolled: args.switches.has('enrolled-only'),
    identity: pki.server,
    ca: pki.ca.certPem,
    host,
    port,
    faults,
    clientAuth: credentials,
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
  out(`PKI in ${dir}: clients trust ${dir}/ca.pem and present ${dir}/device.pem (device id ${pki.deviceId})`);
  if (faults.length) out(`faults switched on: ${faults.map((f) => f.name).join(', ')}`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.stop();
  out('stopped');
  return 0;
}
