/**
 * Runs the vendor's shell commands (`--control`, `--trigger`) with placeholders substituted, a timeout that kills
 * the whole process group, and the output kept (bounded) as evidence. Never throws for a failing command.
 */
import { spawn } from 'node:child_process';

const OUTPUT_LIMIT = 64 * 1024;

export interface ShellResult {
  command: string;
  exitCode: number | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Single-quotes a value for /bin/sh, so a substituted path or URL is one word whatever it contains. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Replaces `{name}` placeholders with shell-quoted values; unknown placeholders are left as written. */
export function substitute(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in values ? shellQuote(values[name]) : whole));
}

export function runShell(command: string, timeoutMs: number, env: NodeJS.ProcessEnv = process.env): Promise<ShellResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', command], { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    const keep = (acc: string, chunk: Buffer) => (acc + chunk.toString('utf8')).slice(-OUTPUT_LIMIT);
    child.stdout.on('data', (c: Buffer) => (stdout = keep(stdout, c)));
    child.stderr.on('data', (c: Buffer) => (stderr = keep(stderr, c)));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL'); // the whole group: a shell's children must not outlive the timeout
      } catch {
        child.kill('SIGKILL');
      }
    }, timeoutMs);
    const finish = (exitCode: number | null) => {
      clearTimeout(timer);
      resolve({ command, exitCode, timedOut, stdout, stderr, ms: Date.now() - started });
    };
    child.on('error', (e) => {
      stderr += `\n${e.message}`;
      finish(null);
    });
    child.on('close', (code) => finish(code));
  });
}
