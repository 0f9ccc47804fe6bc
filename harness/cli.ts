/**
 * The `mdm-conformance` command (shared/design/cli-contract.md). Every error a user can cause is a one-line
 * message and exit code 2, never a stack trace.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from './cli/args';
import { HelpRequested } from './cli/command';
import { DEVICE, deviceCommand } from './cli/device';
import { ENROLL, enrollCommand } from './cli/enroll';
import { GRADE, gradeCommand } from './cli/grade';
import { listCommand, LIST } from './cli/list';
import { LOAD, loadCommand } from './cli/load';
import { MERGE, mergeCommand } from './cli/merge';
import { PKI_INIT, runPkiCommand } from './cli/pki';
import { PROXY, proxyCommand } from './cli/proxy';
import { SERVE, serveCommand } from './cli/serve';
import { TEST_CLIENT, testClientCommand } from './cli/test-client';
import { TEST_SERVER, testServerCommand } from './cli/test-server';
import type { CommandSpec } from './cli/command';

type Run = (argv: string[], out: (line: string) => void) => Promise<number> | number;

const COMMANDS: Record<string, { spec: CommandSpec; run: Run }> = {
  'test-server': { spec: TEST_SERVER, run: testServerCommand },
  'test-client': { spec: TEST_CLIENT, run: testClientCommand },
  serve: { spec: SERVE, run: serveCommand },
  device: { spec: DEVICE, run: deviceCommand },
  load: { spec: LOAD, run: loadCommand },
  grade: { spec: GRADE, run: gradeCommand },
  proxy: { spec: PROXY, run: proxyCommand },
  merge: { spec: MERGE, run: mergeCommand },
  enroll: { spec: ENROLL, run: enrollCommand },
  list: { spec: LIST, run: listCommand },
  pki: { spec: PKI_INIT, run: (argv, out) => runPkiCommand(argv, out) },
};

function version(): string {
  return (JSON.parse(readFileSync(join(__dirname, '../package.json'), 'utf8')) as { version: string }).version;
}

const USAGE = [
  'usage: mdm-conformance <command> [options]      (mdm-conformance <command> --help for its options)',
  '',
  ...Object.values(COMMANDS).map(({ spec }) => `  ${spec.name.padEnd(13)}${spec.brief}`),
  '',
  'exit codes: 0 conforms, 1 a requirement failed, 2 the run could not be judged (bad usage, unreachable, nothing judged)',
  '  --version     the harness version',
].join('\n');

async function main(argv: string[]): Promise<number> {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const [name, ...rest] = argv;
  if (name === '--help' || name === 'help') {
    const topic = rest[0] && COMMANDS[rest[0]];
    out(topic ? (await import('./cli/command')).helpText(topic.spec) : USAGE);
    return 0;
  }
  if (name === '--version') {
    out(`mdm-conformance ${version()}`);
    return 0;
  }
  if (!name) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`mdm-conformance: unknown command "${name}"; commands: ${Object.keys(COMMANDS).join(', ')} (see mdm-conformance --help)\n`);
    return 2;
  }
  try {
    return await command.run(rest, out);
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
