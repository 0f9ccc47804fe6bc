/**
 * Runs the vendor's shell commands (`--control`, `--trigger`): placeholders substituted and quoted for where they
 * stand, a timeout that reaches the whole process group, and the tail of the output kept as evidence.
 *
 * A failing, hanging or noisy command is evidence about the implementation, never a harness error: `runCommand`
 * does not throw.
 */
import { spawn } from 'node:child_process';

export interface CommandResult {
  exitCode: number | null;
  signal?: NodeJS.Signals;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  ms: number;
  command?: string;
  /** Why the command could not start at all. */
  error?: string;
}

/** Tail of each output stream kept as evidence. */
export const DEFAULT_MAX_OUTPUT_BYTES = 64 * 1024;
/** Unless the caller asks for another bound. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 60_000;
/** Between SIGTERM and SIGKILL of a command that overran its time. */
const KILL_GRACE_MS = 2_000;
/** How long stdout/stderr may stay open after the command exited (a background child holding them). */
const DRAIN_MS = 500;

const PLACEHOLDER = /^\{(\w+)\}/;

/**
 * Substitutes the placeholders, each quoted for where it stands in the template: bare, inside '…' or inside "…".
 * Vendor commands are written by hand (`--url={url}`, `"{cert}"`, `'{key}'` all occur), and a path or URL with a
 * space, quote or `$` must reach the client as one unchanged argument in every one of those spots.
 */
export function substitute(template: string, values: Readonly<Record<string, string | undefined>>): string {
  let out = '';
  let quote: '' | "'" | '"' = '';
  for (let i = 0; i < template.length; i++) {
    const ch = template[i];
    const name = PLACEHOLDER.exec(template.slice(i))?.[1];
    if (name !== undefined && values[name] !== undefined) {
      out += quoteFor(values[name]!, quote);
      i += name.length + 1;
      continue;
    }
    out += ch;
    if (ch === '\\' && quote !== "'" && i + 1 < template.length) out += template[++i];
    else if (quote === '' && (ch === "'" || ch === '"')) quote = ch;
    else if (ch === quote) quote = '';
  }
  return out;
}

/** POSIX shell quoting of one word. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

function quoteFor(value: string, quote: '' | "'" | '"'): string {
  if (quote === "'") return value.replace(/'/g, `'\\''`);
  if (quote === '"') return value.replace(/[\\"$`]/g, (c) => `\\${c}`);
  return shellQuote(value);
}

export interface RunCommandOptions {
  timeoutMs?: number;
  maxOutputBytes?: number;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** Runs a shell command line in its own process group. Never throws. */
export function runCommand(command: string, opts: RunCommandOptions = {}): Promise<CommandResult> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  const max = opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  const started = Date.now();
  const stdout = new Tail(max);
  const stderr = new Tail(max);
  return new Promise((resolve) => {
    let timedOut = false;
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    const finish = (exitCode: number | null, signal: NodeJS.Signals | null, error?: string) => {
      if (settled) return;
      settled = true;
      timers.forEach(clearTimeout);
      const result: CommandResult = { exitCode, timedOut, stdout: stdout.text(), stderr: stderr.text(), ms: Date.now() - started, command };
      if (signal) result.signal = signal;
      if (error) result.error = error;
      resolve(result);
    };
    let child: ReturnType<typeof spawn>;
    try {
      // detached: the command leads a process group of its own, so a timeout reaches everything it started.
      child = spawn('/bin/sh', ['-c', command], { cwd: opts.cwd, env: opts.env ?? process.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      finish(null, null, `could not start the command: ${(e as Error).message}`);
      return;
    }
    child.stdout?.on('data', (b: Buffer) => stdout.push(b));
    child.stderr?.on('data', (b: Buffer) => stderr.push(b));
    child.on('error', (e) => finish(null, null, `could not start the command: ${e.message}`));
    const killGroup = (signal: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, signal);
      } catch {
        // The group is already gone.
      }
    };
    timers.push(setTimeout(() => {
      timedOut = true;
      killGroup('SIGTERM');
      timers.push(setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS));
    }, timeoutMs));
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      timers.push(setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        finish(code, signal);
      }, DRAIN_MS));
    });
    child.on('close', (code, signal) => finish(exit?.code ?? code, exit?.signal ?? signal));
  });
}

/** The last `max` bytes of a stream, with a note of how much was dropped before them. */
class Tail {
  private chunks: Buffer[] = [];
  private kept = 0;
  private dropped = 0;

  constructor(private readonly max: number) {}

  push(b: Buffer): void {
    this.chunks.push(b);
    this.kept += b.length;
    while (this.kept > this.max) {
      const excess = this.kept - this.max;
      const head = this.chunks[0];
      if (head.length <= excess) {
        this.chunks.shift();
        this.kept -= head.length;
        this.dropped += head.length;
      } else {
        this.chunks[0] = head.subarray(excess);
        this.kept -= excess;
        this.dropped += excess;
      }
    }
  }

  text(): string {
    const body = Buffer.concat(this.chunks).toString('utf8');
    return this.dropped ? `[… ${this.dropped} earlier bytes not kept]\n${body}` : body;
  }
}

