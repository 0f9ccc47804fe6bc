/** Every command of `mdm-conformance`, by name, with its specification (flags, help) and what runs it. */
import { DEVICE, deviceCommand } from './device';
import { ENROLL, enrollCommand } from './enroll';
import { GRADE, gradeCommand } from './grade';
import { listCommand, LIST } from './list';
import { LOAD, loadCommand } from './load';
import { MERGE, mergeCommand } from './merge';
import { PKI_INIT, runPkiCommand } from './pki';
import { PROXY, proxyCommand } from './proxy';
import { SERVE, serveCommand } from './serve';
import { TEST_CLIENT, testClientCommand } from './test-client';
import { TEST_SERVER, testServerCommand } from './test-server';
import type { CommandSpec } from './command';

type Run = (argv: string[], out: (line: string) => void) => Promise<number> | number;

export const COMMANDS: Record<string, { spec: CommandSpec; run: Run }> = {
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

/** The specification of every command, for help and documentation. */
export const COMMAND_SPECS: readonly CommandSpec[] = Object.values(COMMANDS).map((c) => c.spec);
