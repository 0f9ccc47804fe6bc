/**
 * The `mdm-conformance` command (shared/design/cli-contract.md). Every error a user can cause is a one-line
 * message and exit code 2, never a stack trace.
 */
import { UsageError } from './cli/args';
import { deviceCommand } from './cli/device';
import { enrollCommand } from './cli/enroll';
import { loadCommand } from './cli/load';
import { mergeCommand } from './cli/merge';
import { serveCommand } from './cli/serve';
import { testClientCommand } from './cli/test-client';
import { testServerCommand } from './cli/test-server';
import { runPkiCommand } from './pki/cli';

const USAGE = `usage: mdm-conformance <command> [options]

  test-server [--url URL] [--pki DIR] [--server-ca FILE] [--client-cert FILE --client-key FILE]
              [--device-id ID] [--control 'COMMAND {deviceId} {file}'] [--suite NAME]... [--reports DIR]
              [--auth md5|basic --client-credentials USER:SECRET] [--profile FILE] [--expect FILE] [--strict]
      test a server; without --url, the embedded reference server
  test-client [--trigger 'COMMAND {url} {ca} {cert} {key} {deviceId}'] [--wait] [--listen HOST:PORT] [--pki DIR]
              [--suite NAME]... [--reports DIR] [--auth md5|basic --client-credentials USER:SECRET] [--expect FILE]
      test a client; without --trigger, the embedded reference device
  serve [--listen HOST:PORT] [--pki DIR] [--fault NAME]... [--enroll-credentials USER:SECRET]
      run the reference server; with --enroll-credentials, its MS-MDE2 enrollment service too
  device --url URL [--pki DIR] [--device-id ID] [--fault NAME]...   run one reference-device session
  load [--url URL --pki DIR] [--devices N] [--concurrency C] (--sessions S | --duration D) [--reports DIR]
      a fleet of simulated devices checking in concurrently; without --url, the embedded reference server
  merge REPORT... [--out DIR]      one conformance report from shards (--shard) or several load machines
  enroll --discovery URL --email ADDRESS [--auth-policy OnPremise|Federated|Certificate]
         [--user U --password P | --token T] [--cert FILE --key FILE] [--ca FILE] [--device-id ID] [--seed N] --out DIR
      enroll like Windows (MS-MDE2) and write the issued identity for --pki
  pki init --out DIR [--device-id ID] [--force]                 write a test PKI

exit codes: 0 conforming, 1 a requirement failed, 2 the run could not be judged`;

type Command = (argv: string[], out: (line: string) => void) => Promise<number> | number;

const COMMANDS: Record<string, Command> = {
  'test-server': testServerCommand,
  'test-client': testClientCommand,
  serve: serveCommand,
  device: deviceCommand,
  enroll: enrollCommand,
  load: loadCommand,
  merge: mergeCommand,
  pki: (argv, out) => runPkiCommand(argv, out),
};

async function main(argv: string[]): Promise<number> {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    out(USAGE);
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`mdm-conformance: unknown command "${name}"\n${USAGE}\n`);
    return 2;
  }
  try {
    return await command(rest, out);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`mdm-conformance ${name}: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`mdm-conformance ${name}: internal error: ${(e as Error).message}\n`);
    return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`mdm-conformance: ${(e as Error).message}\n`);
    process.exit(2);
  },
);
