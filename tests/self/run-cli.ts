/** Runs the `mdm-conformance` command as a user would, in its own process, for the command-line tests. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = join(__dirname, '../..');
export const BIN = join(ROOT, 'bin/mdm-conformance.js');

export interface CliRun {
  code: number | null;
  /** stdout and stderr, interleaved as they came. */
  out: string;
}

export function runCli(args: string[], timeoutMs = 90_000): Promise<CliRun> {
  return new Promise((resolve) => {
    // The command must not inherit a conformance run's configuration from the runner that started the test.
    const env = { ...process.env, MDM_CONFORMANCE_MODE: '', MDM_CONFORMANCE_CONFIG: '' };
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}
