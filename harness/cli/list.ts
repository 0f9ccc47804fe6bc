/**
 * `mdm-conformance list requirements|suites|faults|features`: what the harness knows, with the ids a vendor types
 * elsewhere (`--suite`, `--fault`, `--expect`, a capability profile).
 */
import { REQUIREMENTS } from '../checks/registry';
import { outOfScope, outOfScopeIn } from '../checks/scope';
import { DEVICE_FAULTS, DEVICE_VARIANTS, DEVICE_WEAKNESSES } from '../device/faults';
import { FEATURES } from '../iut/capability-profile';
import type { Fault } from '../protocol/fault';
import { scenariosOf, suitesOf } from '../scenarios/catalog';
import { SERVER_FAULTS, SERVER_VARIANTS, SERVER_WEAKNESSES } from '../server/faults';
import { UsageError } from './args';
import { parseCommand, type CommandSpec } from './command';

const TOPICS = ['requirements', 'suites', 'faults', 'features'] as const;

export const LIST: CommandSpec = {
  name: 'list',
  summary: 'Lists requirements (id, level, role, phase and text), suites (per mode, with their tests), faults of the reference peers '
    + '(with the requirements each violates) or the features a capability profile declares.',
  positionals: { name: TOPICS.join('|'), help: 'what to list', min: 1 },
  flags: [],
};

function faultLines(title: string, faults: readonly Fault<unknown>[]): string[] {
  return [title, ...faults.map((f) => `  ${f.name.padEnd(42)}${f.violates.length ? f.violates.join(', ') : f.advises?.length ? `advisory ${f.advises.join(', ')}` : 'conforming'}: ${f.summary}`)];
}

export function listCommand(argv: string[], out: (line: string) => void): number {
  const args = parseCommand(argv, LIST);
  const [topic, ...extra] = args.positionals;
  if (extra.length || !TOPICS.includes(topic as never)) throw new UsageError(`list takes one of ${TOPICS.join(', ')}`);
  if (topic === 'requirements') {
    for (const r of REQUIREMENTS) {
      const modes = Object.keys(outOfScopeIn(r.id));
      const scope = outOfScope(r.id) ? '  (out of scope)' : modes.length ? `  (out of scope in ${modes.join(' and ')} mode)` : '';
      out(`${r.id}  ${r.level}  role ${r.role}  phase ${r.phase}  ${r.sections}${scope}`);
      out(`    ${r.text.replace(/`/g, '')}`);
    }
  } else if (topic === 'suites') {
    for (const mode of ['server', 'client'] as const) {
      out(`${mode} (test-${mode}):`);
      for (const suite of suitesOf(mode)) {
        out(`  ${suite}`);
        for (const s of scenariosOf(mode, suite)) out(`    ${s.title} [${s.requirements.join(', ')}]`);
      }
    }
  } else if (topic === 'faults') {
    const lines = [
      ...faultLines('reference server faults (serve --fault NAME):', SERVER_FAULTS),
      ...faultLines('reference server weaknesses (advisories):', SERVER_WEAKNESSES),
      ...faultLines('reference server conforming variants:', SERVER_VARIANTS),
      ...faultLines('reference device faults (device --fault NAME):', DEVICE_FAULTS),
      ...faultLines('reference device weaknesses (advisories):', DEVICE_WEAKNESSES),
      ...faultLines('reference device conforming variants:', DEVICE_VARIANTS),
    ];
    for (const l of lines) out(l);
  } else {
    out('capability profile features ({"features": {"NAME": true}}):');
    for (const f of FEATURES) out(`  ${f.name.padEnd(18)}${f.help}`);
  }
  return 0;
}
