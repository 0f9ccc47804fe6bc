/**
 * The exec adapter of the CLI contract's `--trigger 'COMMAND'` (test-client): for each DM session a scenario needs,
 * the command runs once with `{url} {ca} {cert} {key} {deviceId}` substituted, starts one client-initiated session
 * and exits when the session has ended.
 *
 * A failing, hanging or noisy command is evidence about the client, never a harness error: `runCommand` does not
 * throw, kills the whole process group on timeout, and keeps the tail of stdout and stderr for the report.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestPki } from '../pki';
import type { Trigger, TriggerOptions } from '../scenarios/client/target';
import { removeAtExit } from './cleanup';
import { runCommand, substitute } from './shell';

export { runCommand, shellQuote, substitute, DEFAULT_MAX_OUTPUT_BYTES } from './shell';
/** Per session, unless the scenario asks for less. */
export const DEFAULT_TRIGGER_TIMEOUT_MS = 60_000;

export const TRIGGER_PLACEHOLDERS = ['url', 'ca', 'cert', 'key', 'deviceId'] as const;
export type TriggerPlaceholder = (typeof TRIGGER_PLACEHOLDERS)[number];

export interface ExecTriggerOptions {
  /** The `--trigger` template. */
  command: string;
  /** Written to a private temporary directory for `{ca}`, `{cert}` and `{key}`. */
  pki: TestPki;
  /** Default the PKI's device id. */
  deviceId?: string;
  /** Per session, when the scenario does not set one. */
  timeoutMs?: number;
  maxOutputBytes?: number;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

export interface ExecTrigger {
  trigger: Trigger;
  /** Where the PEM files are. */
  files: { ca: string; cert: string; key: string };
  /** Removes the temporary directory. */
  dispose(): void;
}

/** A trigger that runs a vendor's command line once per session. */
export function execTrigger(opts: ExecTriggerOptions): ExecTrigger {
  const dir = removeAtExit(mkdtempSync(join(tmpdir(), 'mdm-conformance-trigger-')));
  const files = { ca: join(dir, 'ca.pem'), cert: join(dir, 'device.pem'), key: join(dir, 'device-key.pem') };
  writeFileSync(files.ca, opts.pki.ca.certPem, { mode: 0o644 });
  writeFileSync(files.cert, opts.pki.device.certPem, { mode: 0o644 });
  writeFileSync(files.key, opts.pki.device.keyPem, { mode: 0o600 });
  let extraCas = 0;
  const trigger: Trigger = (o: TriggerOptions) => {
    let ca = files.ca;
    if (o.ca !== undefined && o.ca !== opts.pki.ca.certPem) {
      ca = join(dir, `ca-${++extraCas}.pem`);
      writeFileSync(ca, o.ca, { mode: 0o644 });
    }
    const line = substitute(opts.command, { url: o.url, ca, cert: files.cert, key: files.key, deviceId: opts.deviceId ?? opts.pki.deviceId });
    return runCommand(line, { timeoutMs: o.timeoutMs ?? opts.timeoutMs, maxOutputBytes: opts.maxOutputBytes, cwd: opts.cwd, env: opts.env });
  };
  return { trigger, files, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * `--wait`: the client connects by itself (a real device polling on its schedule); the session counts as done when
 * the reference server saw it end, or after the timeout.
 */
export const waitTrigger: Trigger = async (o) => {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    (o.serverSawEnd ?? new Promise<never>(() => undefined)).then(() => false),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), o.timeoutMs ?? DEFAULT_TRIGGER_TIMEOUT_MS))),
  ]);
  clearTimeout(timer);
  return { exitCode: timedOut ? null : 0, timedOut, unobserved: true, stdout: '', stderr: '', ms: Date.now() - started };
};
