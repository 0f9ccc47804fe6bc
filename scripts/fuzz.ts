/**
 * `npm run fuzz -- [--runs N] [--seed S] [--wbxml]`: the harness's robustness property over many more mutated
 * messages than `npm test` runs; `--wbxml` mutates WBXML bodies instead of XML ones. A failure prints the seed, the
 * shrunk mutations and the minimal message that breaks the harness.
 */
import fc from 'fast-check';
import { harnessSurvives } from '../harness/fuzz/harness-survives';
import { mutate, mutatedCase, mutateWbxml, wbxmlMutatedCase } from '../harness/fuzz/mutators';
import { WBXML_MEDIA_TYPE } from '../harness/syncml';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i > 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(value) || value < 0) {
    console.error(`--${name} takes a whole number`);
    process.exit(2);
  }
  return value;
}

const runs = flag('runs', 100_000);
const seed = flag('seed', Date.now() % 2 ** 31);
const wbxml = process.argv.includes('--wbxml');
const started = Date.now();
const result = wbxml
  ? fc.check(fc.property(wbxmlMutatedCase(), (c) => harnessSurvives(mutateWbxml(c), WBXML_MEDIA_TYPE)), { numRuns: runs, seed })
  : fc.check(fc.property(mutatedCase(), (c) => harnessSurvives(mutate(c.message, c.mutations))), { numRuns: runs, seed });
const seconds = (Date.now() - started) / 1000;
if (result.failed) {
  const [c] = result.counterexample!;
  console.error(`harness failed on a mutated ${wbxml ? 'WBXML' : 'XML'} message (seed ${seed}, shrunk ${result.numShrinks} times)`);
  console.error(`mutations: ${JSON.stringify(c.mutations)}`);
  if ('stringTable' in c) console.error(`message (WBXML, hex): ${mutateWbxml(c).toString('hex').slice(0, 4000)}`);
  else console.error(`message: ${mutate(c.message, c.mutations).toString('utf8').slice(0, 4000)}`);
  console.error(`error: ${String(result.errorInstance)}`);
  process.exit(1);
}
console.log(`fuzz: ${runs} mutated ${wbxml ? 'WBXML' : 'XML'} messages, seed ${seed}, no harness failure, ${seconds.toFixed(1)} s (${Math.round(runs / seconds)} cases/s)`);
