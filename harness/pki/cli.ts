/**
 * `mdm-conformance pki init --out DIR [--device-id ID] [--force]` (CLI contract, "Test PKI").
 * Exit codes: 0 written, 1 not written (an existing set without --force, or a file system error), 2 bad usage.
 */
import { resolve } from 'node:path';
import { existingPkiFiles, PKI_FILE_PURPOSES, writePki } from './files';
import { createTestPki } from './identities';

const USAGE = 'usage: mdm-conformance pki init --out DIR [--device-id ID] [--force]';

interface InitOptions {
  out: string;
  deviceId?: string;
  force: boolean;
}

class UsageError extends Error {}

/** `argv` is what follows the program name, with or without the leading `pki`. Never throws. */
export function runPkiCommand(argv: string[], out: (line: string) => void = (line) => console.log(line)): number {
  const args = argv[0] === 'pki' ? argv.slice(1) : argv;
  if (args.length === 1 && ['help', '--help', '-h'].includes(args[0])) {
    out(USAGE);
    return 0;
  }
  let options: InitOptions;
  try {
    options = parseInitArguments(args);
  } catch (error) {
    out(`pki: ${(error as Error).message} (${USAGE})`);
    return 2;
  }
  try {
    return init(options, out);
  } catch (error) {
    out(`pki init: ${(error as Error).message}`);
    return 1;
  }
}

function init(options: InitOptions, out: (line: string) => void): number {
  const dir = resolve(options.out);
  const existing = existingPkiFiles(dir);
  // Checked before generating keys as well as inside writePki, so a refusal is immediate.
  if (existing.length && !options.force) {
    out(`pki init: ${dir} already holds a test PKI (${existing.join(', ')}); left it unchanged, pass --force to replace it`);
    return 1;
  }
  const pki = createTestPki({ deviceId: options.deviceId });
  writePki(dir, pki, { force: options.force });
  out(`${existing.length ? 'replaced the' : 'wrote a'} test PKI in ${dir} (device id ${pki.deviceId}):`);
  for (const [file, purpose] of PKI_FILE_PURPOSES) out(`  ${file.padEnd(16)}${purpose}`);
  return 0;
}

function parseInitArguments(args: string[]): InitOptions {
  const [command, ...rest] = args;
  if (command === undefined) throw new UsageError('missing command');
  if (command !== 'init') throw new UsageError(`unknown command "${command}"`);
  let out: string | undefined;
  let deviceId: string | undefined;
  let force = false;
  for (let i = 0; i < rest.length; i++) {
    const [flag, inlineValue] = rest[i].startsWith('--') && rest[i].includes('=')
      ? [rest[i].slice(0, rest[i].indexOf('=')), rest[i].slice(rest[i].indexOf('=') + 1)]
      : [rest[i], undefined];
    const value = (): string => {
      const given = inlineValue ?? rest[++i];
      if (given === undefined || given === '' || (inlineValue === undefined && given.startsWith('--'))) {
        throw new UsageError(`${flag} needs a value`);
      }
      return given;
    };
    switch (flag) {
      case '--out':
        out = value();
        break;
      case '--device-id':
        deviceId = value();
        if (/\s/.test(deviceId)) throw new UsageError('--device-id must not contain white space');
        break;
      case '--force':
        if (inlineValue !== undefined) throw new UsageError('--force takes no value');
        force = true;
        break;
      default:
        throw new UsageError(flag.startsWith('-') ? `unknown option ${flag}` : `unexpected argument "${flag}"`);
    }
  }
  if (out === undefined) throw new UsageError('missing --out DIR');
  return { out, deviceId, force };
}
