/** `mdm-conformance device --url URL`: one session of the reference device, transcript printed (CLI contract). */
import { ReferenceDevice } from '../device/reference-device';
import { DEVICE_FAULTS, DEVICE_WEAKNESSES } from '../device/faults';
import { seeded as seededRng } from '../protocol/random';
import { one, parseArgs, seedOf, UsageError } from './args';
import { credentialsOf, faultsNamed } from './options';
import { loadDevicePki, readPem } from './identity';
import { printExchanges } from './transcript-print';

export async function deviceCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const args = parseArgs(argv, {
    values: { url: false, pki: false, 'device-id': false, ca: false, cert: false, key: false, fault: true, auth: false, 'client-credentials': false, timeout: false, seed: false },
  });
  const url = one(args, 'url');
  if (!url) throw new UsageError('device needs --url URL (the management endpoint to POST to)');
  const pkiDir = one(args, 'pki');
  const pki = pkiDir ? loadDevicePki(pkiDir) : undefined;
  const certFile = one(args, 'cert');
  const keyFile = one(args, 'key');
  if (!!certFile !== !!keyFile) throw new UsageError('--cert and --key go together');
  const identity = certFile ? { certPem: readPem(certFile, '--cert'), keyPem: readPem(keyFile!, '--key') } : pki?.device;
  const serverCa = one(args, 'ca') ? readPem(one(args, 'ca')!, '--ca') : pki?.ca.certPem;
  const deviceId = one(args, 'device-id') ?? pki?.deviceId;
  if (!deviceId) throw new UsageError('the device needs an id: pass --pki DIR (from pki init) or --device-id ID');
  if (!identity) out(`note: no client certificate (pass --pki DIR or --cert/--key); servers that require mutual TLS will refuse`);
  const credentials = credentialsOf(args, 'client-credentials');
  const faults = faultsNamed(args, [...DEVICE_FAULTS, ...DEVICE_WEAKNESSES]);
  // A device keeps its session counter across sessions; one process runs one session, so without --seed the clock
  // stands in for that memory and a new process does not reuse the SessionID of the last (MDM-HDR-006, MDM-TERM-008).
  const seeded = one(args, 'seed') !== undefined;
  const device = new ReferenceDevice({
    rng: seededRng(seedOf(args), 'device', deviceId),
    sessionCounter: seeded ? undefined : Date.now() % 9999,
    deviceId,
    identity,
    serverCa,
    faults,
    timeoutMs: Number(one(args, 'timeout') ?? 10_000),
    credentials,
  });
  try {
    const run = await device.runSession(url);
    printExchanges(run.exchanges, out);
    out(`session ${run.sessionID}: ${run.view.outcome} after ${run.rounds} round trip(s)`);
    if (run.end.reason === 'transport-error') return 2;
    return run.end.reason === 'completed' || run.end.reason === 'aborted-by-server' ? 0 : 1;
  } finally {
    await device.close();
  }
}
