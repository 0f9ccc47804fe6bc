/**
 * Temporary directories that hold private keys (a throwaway test PKI, the PEM files a trigger reads): removed when
 * the process exits, however it exits, so no key of a run is left behind in the temporary directory.
 *
 * `exitOnSignals` (called once by the command line, never in a test worker) turns Ctrl-C, SIGTERM and SIGHUP into
 * an ordinary exit, so the removal runs then too; a command that handles a signal itself (serve stops its server
 * on Ctrl-C) keeps doing so, and the removal follows when it exits.
 */
import { rmSync } from 'node:fs';

const dirs = new Set<string>();
let hooked = false;

function removeAll(): void {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs.clear();
}

/** Removes `dir` when the process exits; returns it. */
export function removeAtExit(dir: string): string {
  dirs.add(dir);
  if (!hooked) {
    hooked = true;
    process.on('exit', removeAll);
  }
  return dir;
}

const SIGNAL_EXIT_CODES: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

export function exitOnSignals(): void {
  for (const [signal, code] of Object.entries(SIGNAL_EXIT_CODES) as [NodeJS.Signals, number][]) {
    const onSignal = () => {
      removeAll();
      // Another handler (a command's own graceful stop) ends the process itself.
      if (process.listenerCount(signal) === 1) process.exit(code);
    };
    process.on(signal, onSignal);
  }
}
