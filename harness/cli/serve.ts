/** `mdm-conformance serve`: the reference server until interrupted, printing each session (CLI contract). */
import { ReferenceServer } from '../server/reference-server';
import { SERVER_FAULTS } from '../server/faults';
import { faultByName } from '../protocol/fault';
import { hostPort, many, one, parseArgs, UsageError, userSecret } from './args';
import { loadPki, throwawayPki } from './identity';
import { printExchanges } from './transcript-print';

export async function serveCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const args = parseArgs(argv, { values: { listen: false, pki: false, fault: true, auth: false, 'client-credentials': false } });
  const { host, port } = hostPort(one(args, 'listen') ?? '127.0.0.1:8443', '--listen');
  const pkiDir = one(args, 'pki');
  const { pki, dir } = pkiDir ? { pki: loadPki(pkiDir), dir: pkiDir } : throwawayPki();
  const auth = one(args, 'auth');
  if (auth && auth !== 'md5' && auth !== 'basic') throw new UsageError('--auth takes md5 or basic');
  const creds = one(args, 'client-credentials');
  if (auth && !creds) throw new UsageError(`--auth ${auth} needs --client-credentials USER:SECRET`);
  const faults = many(args, 'fault').map((name) => {
    try {
      return faultByName(SERVER_FAULTS, name);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  });
  const server = new ReferenceServer({
    identity: pki.server,
    ca: pki.ca.certPem,
    host,
    port,
    faults,
    clientAuth: auth ? { scheme: auth === 'md5' ? 'syncml:auth-md5' : 'syncml:auth-basic', ...userSecret(creds!, '--client-credentials') } : undefined,
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
