/**
 * A command's flags as data: parsed strictly, and turned into its `--help`. What a user types that the command does
 * not take is a usage error (exit 2) with one line saying what was wrong: an unknown option, a positional argument
 * where none is taken, a single-dash flag (`-u`, `-h`), a missing value. A CI gate must never go green on a typo.
 */
import { resolve } from 'node:path';
import { UsageError, type ParsedArgs } from './args';

export interface FlagSpec {
  /** Without the dashes: `url`. */
  name: string;
  /** Placeholder of the value (`URL`); absent for a switch. */
  value?: string;
  repeat?: true;
  /** What applies when the flag is absent, as help shows it. */
  default?: string;
  help: string;
}

export interface CommandSpec {
  /** `test-server`, or `pki init` for a command with a verb. */
  name: string;
  /** What the command does, at the head of its --help (its one-line brief is in commands.ts). */
  summary: string;
  /** Positional arguments, when the command takes any: `REPORT...`. */
  positionals?: { name: string; help: string; min: number };
  flags: readonly FlagSpec[];
  /** Lines of worked examples for --help. */
  examples?: readonly string[];
}

/** `--help` was asked for: the caller prints the help text and exits 0. */
export class HelpRequested extends Error {
  constructor(readonly text: string) {
    super('help');
  }
}

function suggestion(arg: string, spec: CommandSpec): string {
  if (/^https?:\/\//.test(arg) && spec.flags.some((f) => f.name === 'url')) return `; did you mean --url ${arg}?`;
  if (/^https?:\/\//.test(arg) && spec.flags.some((f) => f.name === 'upstream')) return `; did you mean --upstream ${arg}?`;
  return '';
}

function closest(name: string, spec: CommandSpec): string {
  const near = spec.flags.map((f) => f.name).filter((f) => f.startsWith(name.slice(0, 3)) || name.startsWith(f.slice(0, 3)));
  return near.length ? `; did you mean ${near.map((n) => `--${n}`).join(' or ')}?` : '';
}

export function parseCommand(argv: readonly string[], spec: CommandSpec): ParsedArgs {
  const out: ParsedArgs = { values: new Map(), switches: new Set(), positionals: [] };
  const byName = new Map(spec.flags.map((f) => [f.name, f]));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help') throw new HelpRequested(helpText(spec));
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
      const flag = byName.get(name);
      if (!flag) throw new UsageError(`unknown option --${name}${closest(name, spec)} (see mdm-conformance ${spec.name} --help)`);
      if (!flag.value) {
        if (eq > 0) throw new UsageError(`--${name} takes no value`);
        out.switches.add(name);
        continue;
      }
      const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined || (eq < 0 && value.startsWith('--'))) throw new UsageError(`--${name} needs a value: --${name} ${flag.value}`);
      const list = out.values.get(name) ?? [];
      if (list.length && !flag.repeat) throw new UsageError(`--${name} given twice; it takes one ${flag.value}`);
      // Paths are resolved against where the command was started: the suites run elsewhere, and repro scripts from
      // their own folder.
      list.push(flag.value === 'FILE' || flag.value === 'DIR' ? resolve(value) : value);
      out.values.set(name, list);
      continue;
    }
    if (arg.length > 1 && arg.startsWith('-')) {
      throw new UsageError(`"${arg}" is not an option: options are spelled out with two dashes (${arg === '-h' ? '--help' : `--${spec.flags[0]?.name ?? 'help'}`}…); see mdm-conformance ${spec.name} --help`);
    }
    if (!spec.positionals) throw new UsageError(`unexpected argument "${arg}": ${spec.name} takes options only${suggestion(arg, spec)}`);
    out.positionals.push(arg);
  }
  if (spec.positionals && out.positionals.length < spec.positionals.min) {
    throw new UsageError(`${spec.name} needs ${spec.positionals.min === 1 ? 'a' : `at least ${spec.positionals.min}`} ${spec.positionals.name.replace(/\.\.\.$/, '')} argument${spec.positionals.min === 1 ? '' : 's'} (see --help)`);
  }
  return out;
}

/** The complete help of a command: usage, what it does, every flag with its value and default. */
export function helpText(spec: CommandSpec): string {
  const usage = `usage: mdm-conformance ${spec.name}${spec.flags.length ? ' [options]' : ''}${spec.positionals ? ` ${spec.positionals.name}` : ''}`;
  const left = (f: FlagSpec) => `--${f.name}${f.value ? ` ${f.value}` : ''}`;
  const width = Math.min(34, Math.max(...spec.flags.map((f) => left(f).length), 0) + 2);
  const lines = [usage, '', ...wrap(spec.summary, 100, '  ')];
  if (spec.positionals) lines.push('', `  ${spec.positionals.name.padEnd(width)}${spec.positionals.help}`);
  if (spec.flags.length) lines.push('', 'options:');
  for (const f of spec.flags) {
    const text = `${f.help}${f.repeat ? ' (repeatable)' : ''}${f.default ? ` [default: ${f.default}]` : ''}`;
    const head = `  ${left(f)}`;
    const body = wrap(text, 100 - width - 2, '');
    if (head.length >= width + 2) {
      lines.push(head);
      lines.push(...body.map((b) => `${' '.repeat(width + 2)}${b}`));
    } else {
      lines.push(`${head.padEnd(width + 2)}${body[0] ?? ''}`, ...body.slice(1).map((b) => `${' '.repeat(width + 2)}${b}`));
    }
  }
  lines.push(`  ${'--help'.padEnd(width)}this text`);
  if (spec.examples?.length) lines.push('', 'examples:', ...spec.examples.map((e) => `  ${e}`));
  return lines.join('\n');
}

function wrap(text: string, width: number, indent: string): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      out.push(`${indent}${line}`);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(`${indent}${line}`);
  return out;
}

/** Flags given that this combination of options ignores: each is an error that says why (a silent no-op is a lie). */
export function refuseIgnored(args: ParsedArgs, rules: readonly { flag: string; when: boolean; why: string }[]): void {
  for (const r of rules) {
    if (r.when && (args.values.has(r.flag) || args.switches.has(r.flag))) throw new UsageError(`--${r.flag} has no effect here: ${r.why}`);
  }
}
