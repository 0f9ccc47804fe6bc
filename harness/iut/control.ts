/**
 * The `--control` adapter (CLI contract): the harness writes the SyncML command elements to queue (each with its
 * CmdID) to a file and runs the vendor's command with {deviceId} and {file} substituted; exit 0 means queued.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeCommand, type Command } from '../syncml';
import { runCommand, substitute } from './shell';

export const CONTROL_TIMEOUT_MS = 30_000;

/** CmdIDs from 1, nested members included, so each element the vendor receives is complete. */
function numbered(commands: Command[]): Command[] {
  let next = 1;
  const walk = (c: Command): Command => {
    if (c.kind === 'Unknown') return c;
    const copy = { ...c, cmdID: String(next++) } as Command;
    if (copy.kind === 'Atomic' || copy.kind === 'Sequence') copy.commands = copy.commands.map(walk);
    return copy;
  };
  return commands.map(walk);
}

export function controlAdapter(template: string, timeoutMs = CONTROL_TIMEOUT_MS): (deviceId: string, commands: Command[]) => Promise<void> {
  return async (deviceId, commands) => {
    const dir = mkdtempSync(join(tmpdir(), 'mdm-control-'));
    const file = join(dir, 'commands.xml');
    try {
      writeFileSync(file, numbered(commands).map(encodeCommand).join('\n'));
      const command = substitute(template, { deviceId, file });
      const result = await runCommand(command, { timeoutMs });
      if (result.timedOut) throw new Error(`--control command did not finish within ${timeoutMs} ms: ${command}`);
      if (result.exitCode !== 0) {
        throw new Error(`--control command ${result.error ?? `exited ${result.exitCode}`}: ${command}${result.stderr ? `\n${result.stderr.trim()}` : ''}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}
