/** `mdm-conformance device --url URL`: one session of the reference device, transcript printed (CLI contract). */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { ReferenceDevice, type DeviceMemory } from '../device/reference-device';
import { DEVICE_FAULTS, DEVICE_WEAKNESSES } from '../device/faults';
import { seeded as seededRng } from '../protocol/random';
import { one, seedOf, UsageError } from './args';
import { parseCommand, type CommandSpec } from './command';
import { durationOf } from './duration';
import { runOptionsOf } from '../protocol/fault';
import { credentialsOf, encodingOf, faultsNamed, SERVER_AUTH_FLAG, serverCredentialsOf } from './options';
import { loadDevicePki, readPem } from './identity';
import { printExchanges } from './transcript-print';

export const DEVICE: CommandSpec = {
  name: 'device',
  summary: 'Runs one session of the reference device against a server and prints the transcript. '
    + 'Exit 0 completed, 1 the session went wrong, 2 the server was unreachable or bad usage.',
  flags: [
    { name: 'url', value: 'URL', help: 'the management endpoint to POST to (required)' },
    { name: 'pki', value: 'DIR', help: 'pki init or enroll folder: the device identity, the CA for the server, the device id' },
    { name: 'device-id', value: 'ID', default: 'DIR/device-id.txt', help: 'the device id to speak as' },
    { name: 'ca', value: 'FILE', default: 'DIR/ca.pem', help: 'CA the server certificate must chain to' },
    { name: 'cert', value: 'FILE', default: 'DIR/device.pem', help: 'device certificate to present' },
    { name: 'key', value: 'FILE', default: 'DIR/device-key.pem', help: 'its private key' },
    { name: 'fault', value: 'NAME', repeat: true, help: 'switch on a catalogued fault or weakness of the reference device (see mdm-conformance list faults)' },
    { name: 'auth', value: 'md5|basic', help: 'application-level credentials to answer a challenge with' },
    { name: 'client-credentials', value: 'USER:SECRET', help: 'the credentials for --auth' },
    { name: 'server-credentials', value: 'USER:SECRET', help: 'require the server to present these credentials, and run none of its commands until it has (w7 CLIENT, DMAcc SRVCRED)' },
    SERVER_AUTH_FLAG,
    { name: 'state', value: 'FILE', help: 'keep the nonces and the session counter in FILE from one run to the next, as a device keeps them between sessions' },
    { name: 'http2', help: 'offer HTTP/2 (ALPN h2), as Windows does' },
    { name: 'encoding', value: 'xml|wbxml', default: 'xml', help: 'the encoding the device was provisioned with: wbxml posts application/vnd.syncml.dm+wbxml; replies are read in either' },
    { name: 'sign', help: 'sign every message with MS-Signature made with the device identity, as Windows does once the server set RequireMessageSigning' },
    { name: 'timeout', value: 'DURATION', default: '10s', help: 'per request' },
    { name: 'seed', value: 'N', default: 'the clock, as a device keeps its session counter', help: 'fixes the SessionID and every random choice' },
  ],
};

export async function deviceCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const args = parseCommand(argv, DEVICE);
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
  const serverCredentials = serverCredentialsOf(args);
  const faults = faultsNamed(args, [...DEVICE_FAULTS, ...DEVICE_WEAKNESSES]);
  // A fault that shows only in a WBXML or signing session (wbxml-labelled-xml, signature-wrong-digest) sets it up.
  const needs = runOptionsOf(faults);
  const encoding = encodingOf(args) ?? needs.encoding;
  const signing = args.switches.has('sign') || needs.signing === true;
  if (signing && !identity) throw new UsageError('--sign signs with the device identity: pass --pki DIR or --cert FILE --key FILE');
  const stateFile = one(args, 'state');
  const memory = stateFile ? readMemory(stateFile) : undefined;
  // A device keeps its session counter across sessions; one process runs one session, so without --seed or --state the
  // clock stands in for that memory and a new process does not reuse the SessionID of the last (MDM-HDR-006, MDM-TERM-008).
  const seeded = one(args, 'seed') !== undefined;
  const device = new ReferenceDevice({
    rng: seededRng(seedOf(args), 'device', deviceId),
    sessionCounter: memory?.sessionCounter ?? (seeded ? undefined : Date.now() % 9999),
    deviceId,
    identity,
    serverCa,
    faults,
    timeoutMs: durationOf(one(args, 'timeout'), '--timeout') ?? 10_000,
    http2: args.switches.has('http2'),
    credentials: credentials && { ...credentials, nonce: memory?.nonce },
    // As Windows does: credentials in package 1 whenever the device can make them (basic, or md5 with a nonce kept).
    preemptiveAuth: true,
    serverCredentials: serverCredentials && { ...serverCredentials, nonce: memory?.serverNonce },
    encoding,
    signing: signing ? {} : undefined,
  });
  try {
    const run = await device.runSession(url);
    if (stateFile) writeFileSync(stateFile, `${JSON.stringify(device.memory(), null, 2)}\n`);
    printExchanges(run.exchanges, out);
    out(`session ${run.sessionID}: ${run.view.outcome} after ${run.rounds} round trip(s)`);
    if (run.end.reason === 'transport-error') return 2;
    // A fault that makes the device die exits as an aborted process does (128 + SIGABRT).
    if (run.end.reason === 'crashed') return 134;
    return ['completed', 'empty-reply', 'aborted-by-server', 'aborted-by-device'].includes(run.end.reason) ? 0 : 1;
  } finally {
    await device.close();
  }
}

/** The memory of an earlier run (`--state`); a file that does not exist yet is a device's first session. */
function readMemory(file: string): DeviceMemory | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const data = JSON.parse(readFileSync(file, 'utf8')) as Partial<DeviceMemory>;
    if (typeof data.sessionCounter !== 'number') throw new Error('no sessionCounter');
    return { sessionCounter: data.sessionCounter, nonce: typeof data.nonce === 'string' ? data.nonce : undefined, serverNonce: typeof data.serverNonce === 'string' ? data.serverNonce : undefined };
  } catch (e) {
    throw new UsageError(`--state ${file} is not a device state this command wrote (${(e as Error).message}); delete it to start afresh`);
  }
}
