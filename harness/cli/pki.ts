/**
 * `mdm-conformance pki init --out DIR [--device-id ID] [--host NAME]... [--force]` (CLI contract, "Test PKI").
 * Exit codes: 0 written, 1 not written (an existing set without --force, or a file system error), 2 bad usage.
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { createTestPki, DEFAULT_SERVER_HOSTS } from '../pki';
import { existingPkiFiles, PKI_FILE_PURPOSES, writePki } from '../pki/files';
import { Rng } from '../protocol/random';
import { many, one, UsageError } from './args';
import { HelpRequested, parseCommand, type CommandSpec } from './command';

const USAGE = 'usage: mdm-conformance pki init --out DIR [--device-id ID] [--host NAME]... [--force]';

export const PKI_INIT: CommandSpec = {
  name: 'pki init',
  summary: 'Writes a test PKI: a CA, a server identity and a device identity. Give your server DIR/server.pem and make it trust '
    + 'DIR/ca.pem for device certificates; give your client DIR/device.pem and make it trust DIR/ca.pem for the server. '
    + 'Exit 0 written, 1 not written, 2 bad usage.',
  flags: [
    { name: 'out', value: 'DIR', help: 'the folder to write (required); keep it out of version control' },
    { name: 'device-id', value: 'ID', default: 'a fresh GUID, as Windows reports its device id', help: 'CN of the device certificate' },
    { name: 'host', value: 'NAME', repeat: true, default: DEFAULT_SERVER_HOSTS.join(', '), help: 'a host name or address the server certificate names (a real host, a VM\'s address)' },
    { name: 'force', help: 'replace an existing set' },
  ],
};

/** `argv` is what follows the program name, with or without the leading `pki`. Never throws. */
export function runPkiCommand(argv: string[], out: (line: string) => void = (line) => console.log(line)): number {
  const args = argv[0] === 'pki' ? argv.slice(1) : argv;
  if (args.length === 1 && ['help', '--help'].includes(args[0])) {
    out(USAGE);
    return 0;
  }
  let parsed;
  try {
    if (args[0] === undefined) throw new UsageError('missing command');
    if (args[0] !== 'init') throw new UsageError(`unknown command "${args[0]}"`);
    parsed = parseCommand(args.slice(1), PKI_INIT);
    if (!one(parsed, 'out')) throw new UsageError('missing --out DIR');
    if (/\s/.test(one(parsed, 'device-id') ?? '')) throw new UsageError('--device-id must not contain white space');
  } catch (e) {
    if (e instanceof HelpRequested) {
      out(e.text);
      return 0;
    }
    out(`pki: ${(e as Error).message} (${USAGE})`);
    return 2;
  }
  try {
    return init(resolve(one(parsed, 'out')!), one(parsed, 'device-id'), many(parsed, 'host'), parsed.switches.has('force'), out);
  } catch (error) {
    out(`pki init: ${(error as Error).message}`);
    return 1;
  }
}

function init(dir: string, deviceId: string | undefined, hosts: string[], force: boolean, out: (line: string) => void): number {
  const existing = existingPkiFiles(dir);
  // Checked before generating keys as well as inside writePki, so a refusal is immediate.
  if (existing.length && !force) {
    out(`pki init: ${dir} already holds a test PKI (${existing.join(', ')}); left it unchanged, pass --force to replace it`);
    return 1;
  }
  // A kept identity is made once, like its keys, and every run reads it from disk: its device id and CA name are as
  // fresh as the keys, so two sets made for one server never share a device id.
  const rng = new Rng(`pki-init/${randomBytes(16).toString('hex')}`);
  const pki = createTestPki({ deviceId, rng, serverHosts: hosts.length ? [...hosts, ...DEFAULT_SERVER_HOSTS.filter((h) => !hosts.includes(h))] : undefined });
  writePki(dir, pki, { force });
  out(`${existing.length ? 'replaced the' : 'wrote a'} test PKI in ${dir} (device id ${pki.deviceId}${hosts.length ? `, server certificate for ${hosts.join(', ')} and loopback` : ''}):`);
  for (const [file, purpose] of PKI_FILE_PURPOSES) out(`  ${file.padEnd(16)}${purpose}`);
  out('keep this folder out of version control: it holds private keys');
  return 0;
}
