/**
 * npm run registry [-- <path/to/requirements.md>] [--check]
 *
 * Regenerates harness/checks/requirements.json and harness/syncml/codes.json from the requirements catalogue
 * (default ../shared/spec/requirements.md, relative to the project root). With --check nothing is written and the
 * exit status says whether the committed files are current. Any malformed row, duplicate id or count that disagrees
 * with section 5 ends the run with exit status 1 and nothing written.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { buildRegistry, CatalogueError, renderJson } from './registry-source';

const ROOT = resolve(__dirname, '..');
const DEFAULT_CATALOGUE = resolve(ROOT, '../shared/spec/requirements.md');
const OUTPUTS = {
  requirements: resolve(ROOT, 'harness/checks/requirements.json'),
  codes: resolve(ROOT, 'harness/syncml/codes.json'),
};

function main(argv: readonly string[]): number {
  const check = argv.includes('--check');
  const positional = argv.filter((a) => !a.startsWith('--'));
  const unknown = argv.filter((a) => a.startsWith('--') && a !== '--check');
  if (unknown.length > 0 || positional.length > 1) {
    process.stderr.write('usage: npm run registry -- [path/to/requirements.md] [--check]\n');
    return 2;
  }
  const catalogue = positional[0] ? resolve(positional[0]) : DEFAULT_CATALOGUE;
  if (!existsSync(catalogue)) {
    process.stderr.write(`registry: catalogue not found: ${catalogue}\n`);
    return 1;
  }

  let built;
  try {
    built = buildRegistry(readFileSync(catalogue, 'utf8'));
  } catch (e) {
    if (e instanceof CatalogueError) {
      process.stderr.write(`registry: ${catalogue}: ${e.message}\n`);
      return 1;
    }
    throw e;
  }

  const files = [
    { path: OUTPUTS.requirements, text: renderJson(built.requirements) },
    { path: OUTPUTS.codes, text: renderJson(built.codes) },
  ];
  const show = (p: string) => relative(process.cwd(), p) || p;
  if (check) {
    const stale = files.filter((f) => !existsSync(f.path) || readFileSync(f.path, 'utf8') !== f.text);
    for (const f of stale) process.stderr.write(`registry: ${show(f.path)} is out of date with ${show(catalogue)}\n`);
    if (stale.length === 0) process.stdout.write('registry: generated files are current\n');
    return stale.length === 0 ? 0 : 1;
  }
  for (const f of files) writeFileSync(f.path, f.text);
  const { requirements, codes } = built;
  process.stdout.write(
    `registry: ${requirements.count} requirements, ${requirements.sources.length} sources -> ${show(OUTPUTS.requirements)}\n` +
      `registry: ${codes.alerts.length} alert codes, ${codes.alertTypes.length} alert types, ${codes.statuses.length} status codes -> ${show(OUTPUTS.codes)}\n`,
  );
  return 0;
}

process.exitCode = main(process.argv.slice(2));
