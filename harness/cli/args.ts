import { DEFAULT_SEED, parseSeed } from '../protocol/random';

/** A small, strict flag parser: unknown flags and missing values are usage errors (exit 2), never ignored. */
export class UsageError extends Error {}

export interface FlagSpec {
  /** Flags that take a value; `true` marks those that may repeat. */
  values: Record<string, boolean>;
  /** Flags without a value. */
  switches?: string[];
}

export interface ParsedArgs {
  values: Map<string, string[]>;
  switches: Set<string>;
  positionals: string[];
}

export function parseArgs(argv: string[], spec: FlagSpec): ParsedArgs {
  const out: ParsedArgs = { values: new Map(), switches: new Set(), positionals: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      out.positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
    if (spec.switches?.includes(name)) {
      if (eq > 0) throw new UsageError(`--${name} takes no value`);
      out.switches.add(name);
      continue;
    }
    if (!(name in spec.values)) throw new UsageError(`unknown option --${name}`);
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || (eq < 0 && value.startsWith('--'))) throw new UsageError(`--${name} needs a value`);
    const list = out.values.get(name) ?? [];
    if (list.length && !spec.values[name]) throw new UsageError(`--${name} given twice`);
    list.push(value);
    out.values.set(name, list);
  }
  return out;
}

export function one(args: ParsedArgs, name: string): string | undefined {
  return args.values.get(name)?.[0];
}

export function many(args: ParsedArgs, name: string): string[] {
  return args.values.get(name) ?? [];
}

/** `USER:SECRET` (the secret may itself contain colons). */
export function userSecret(value: string, flag: string): { user: string; password: string } {
  const colon = value.indexOf(':');
  if (colon <= 0) throw new UsageError(`${flag} takes USER:SECRET`);
  return { user: value.slice(0, colon), password: value.slice(colon + 1) };
}

/**
 * `HOST:PORT` where a listener binds. Loopback unless the user names another address: a real device on another
 * host needs one, and `exposed` tells the caller to warn that the listener is reachable from the network.
 */
export function listenAddress(value: string, flag: string): { host: string; port: number; exposed: boolean } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(value);
  if (!m || Number(m[2]) > 65535) throw new UsageError(`${flag} takes HOST:PORT, e.g. 127.0.0.1:8443 (or 0.0.0.0:8443 to be reached from other hosts)`);
  const host = m[1].replace(/^\[|\]$/g, '');
  const loopback = ['127.0.0.1', '::1', 'localhost'].includes(host) || host.startsWith('127.');
  return { host, port: Number(m[2]), exposed: !loopback };
}

/** `--seed N` (default the fixed default seed): the run's random choices follow it. */
export function seedOf(args: ParsedArgs): number {
  const text = one(args, 'seed');
  if (text === undefined) return DEFAULT_SEED;
  const seed = parseSeed(text);
  if (seed === undefined) throw new UsageError(`--seed takes a whole number from 0 to 4294967295, got "${text}"`);
  return seed;
}
