/**
 * The `mdm-conformance` command (shared/design/cli-contract.md). Every error a user can cause is a one-line
 * message and exit code 2, never a stack trace.
 */
import { UsageError } from './cli/args';
import { helpText, HelpRequested } from './cli/command';
import { COMMANDS } from './cli/commands';
import { exitOnSignals } from './iut/cleanup';
import { harnessVersion } from './paths';

const USAGE = [
  'usage: mdm-conformance <command> [options]      (mdm-conformance <command> --help for its options)',
  '',
  ...Object.entries(COMMANDS).map(([name, { label, brief }]) => `  ${(label ?? name).padEnd(13)}${brief}`),
  '',
  'exit codes: 0 conforms, 1 a requirement failed, 2 the run could not be judged (bad usage, unreachable, nothing judged)',
  '  --version     the harness version',
].join('\n');

/** The command called `name`; a name the object inherits (`constructor`, `toString`) is no command. */
function commandNamed(name: string): (typeof COMMANDS)[string] | undefined {
  return Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
}

async function main(argv: string[]): Promise<number> {
  exitOnSignals();
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const [name, ...rest] = argv;
  if (name === '--help' || name === 'help') {
    const topic = rest[0] ? commandNamed(rest[0]) : undefined;
    out(topic ? helpText(topic.load().spec) : USAGE);
    return 0;
  }
  if (name === '--version') {
    out(`mdm-conformance ${harnessVersion()}`);
    return 0;
  }
  if (!name) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const command = commandNamed(name);
  if (!command) {
    process.stderr.write(`mdm-conformance: unknown command "${name}"; commands: ${Object.keys(COMMANDS).join(', ')} (see mdm-conformance --help)\n`);
    return 2;
  }
  try {
    return await command.load().run(rest, out);
  } catch (e) {
    if (e instanceof HelpRequested) {
      out(e.text);
      return 0;
    }
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
