/**
 * Every command of `mdm-conformance`, by name: its one-line description, and where its specification (flags, help)
 * and its code live. A command's module is loaded only when that command runs, so a run loads what it uses and not
 * the reference peers, the grader and the proxy besides.
 */
import type { CommandSpec } from './command';

type Run = (argv: string[], out: (line: string) => void) => Promise<number> | number;

export interface CommandEntry {
  /** How the list of commands names it, when not by its key alone (`pki init`). */
  label?: string;
  brief: string;
  /** `require`, not `import()`: the test runner's transform would load a dynamically imported TypeScript module as ESM. */
  load: () => { spec: CommandSpec; run: Run };
}

export const COMMANDS: Record<string, CommandEntry> = {
  'test-server': {
    brief: 'test a server (the harness plays the device); without --url, the embedded reference server',
    load: () => {
      const m = require('./test-server') as typeof import('./test-server');
      return { spec: m.TEST_SERVER, run: m.testServerCommand };
    },
  },
  'test-client': {
    brief: 'test a client (the harness plays the server); without --trigger or --wait, the embedded reference device',
    load: () => {
      const m = require('./test-client') as typeof import('./test-client');
      return { spec: m.TEST_CLIENT, run: m.testClientCommand };
    },
  },
  serve: {
    brief: 'run the reference server until Ctrl-C',
    load: () => {
      const m = require('./serve') as typeof import('./serve');
      return { spec: m.SERVE, run: m.serveCommand };
    },
  },
  device: {
    brief: 'run one session of the reference device',
    load: () => {
      const m = require('./device') as typeof import('./device');
      return { spec: m.DEVICE, run: m.deviceCommand };
    },
  },
  load: {
    brief: 'a fleet of simulated devices checking in concurrently',
    load: () => {
      const m = require('./load') as typeof import('./load');
      return { spec: m.LOAD, run: m.loadCommand };
    },
  },
  grade: {
    brief: 'judge captured traffic (HAR, folders of XML messages, transcripts) offline',
    load: () => {
      const m = require('./grade') as typeof import('./grade');
      return { spec: m.GRADE, run: m.gradeCommand };
    },
  },
  proxy: {
    brief: 'a judging reverse proxy between a real device and a real server',
    load: () => {
      const m = require('./proxy') as typeof import('./proxy');
      return { spec: m.PROXY, run: m.proxyCommand };
    },
  },
  merge: {
    brief: 'one report from shard reports or several load machines',
    load: () => {
      const m = require('./merge') as typeof import('./merge');
      return { spec: m.MERGE, run: m.mergeCommand };
    },
  },
  enroll: {
    brief: 'enroll like Windows (MS-MDE2) and write the identity for --pki',
    load: () => {
      const m = require('./enroll') as typeof import('./enroll');
      return { spec: m.ENROLL, run: m.enrollCommand };
    },
  },
  list: {
    brief: 'list requirements, suites, faults or features',
    load: () => {
      const m = require('./list') as typeof import('./list');
      return { spec: m.LIST, run: m.listCommand };
    },
  },
  pki: {
    label: 'pki init',
    brief: 'write a test PKI (CA, server and device identities)',
    load: () => {
      const m = require('./pki') as typeof import('./pki');
      return { spec: m.PKI_INIT, run: (argv, out) => m.runPkiCommand(argv, out) };
    },
  },
};

/** The specification of every command, for help and documentation. */
export function commandSpecs(): CommandSpec[] {
  return Object.values(COMMANDS).map((c) => c.load().spec);
}
