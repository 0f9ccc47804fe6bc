/**
 * `--suite fuzz`: a bounded, seeded batch of mutated package-1 messages posted to the server. A crash (connection
 * reset, no answer) or a 5xx fails MDM-ROB-006; fast-check shrinks the failing case, and the seed and the minimal
 * message go into the evidence so the vendor can replay it.
 */
import fc from 'fast-check';
import { mutate, mutationArb, type Mutation } from '../../fuzz/mutators';
import type { Exchange } from '../../transport';
import type { Scenario } from '../scenario';
import { deviceFor, reachable, session, type ServerUnderTest } from './target';

const RUNS = 60;
const TIME_LIMIT_MS = 20_000;

function crashed(x: Exchange): string | undefined {
  if (x.error && !x.response) return `${x.error.kind}: ${x.error.message}`;
  const status = x.response?.status ?? 0;
  return status >= 500 ? `HTTP ${status}` : undefined;
}

export const mutatedRequests: Scenario<ServerUnderTest> = {
  id: 'fuzz/mutated-requests',
  phase: 'robustness',
  title: `posts ${RUNS} seeded, structure-aware mutations of package 1 and expects no 5xx, reset or silence`,
  requirements: ['MDM-ROB-006'],
  async run(t, log) {
    const device = deviceFor(t, log, { timeoutMs: Math.min(t.timeoutMs ?? 5_000, 5_000) });
    // The batch follows the run's seed: the same --seed posts the same mutated messages.
    const seed = log.rng.int(0, 0x7fffffff);
    let failure: { mutations: Mutation[]; why: string } | undefined;
    try {
      const pkg1 = device.package1(t.url);
      const result = await fc.check(
        fc.asyncProperty(fc.array(mutationArb, { minLength: 1, maxLength: 3 }), async (mutations) => {
          const x = await device.post(t.url, mutate(pkg1, mutations));
          const why = crashed(x);
          if (why) failure = { mutations, why };
          return why === undefined;
        }),
        { numRuns: RUNS, seed, interruptAfterTimeLimit: TIME_LIMIT_MS },
      );
      if (result.failed) {
        const [mutations] = result.counterexample as [Mutation[]];
        const minimal = mutate(pkg1, mutations).toString('utf8');
        log.note(`minimal failing message (seed ${seed}):\n${minimal}`);
        log.add([{
          id: 'MDM-ROB-006', verdict: 'fail', check: this.id,
          evidence: `seed ${seed}, ${result.numRuns} cases, shrunk ${result.numShrinks} times: mutations ${JSON.stringify(mutations)} got ${failure?.why ?? 'a crash'}; minimal message: ${minimal.slice(0, 600)}${minimal.length > 600 ? '…' : ''}`,
        }]);
      } else {
        log.add([{ id: 'MDM-ROB-006', verdict: 'pass', check: this.id, evidence: `seed ${seed}: ${result.numRuns} mutated messages, none crashed the server or got a 5xx` }]);
      }
    } finally {
      await device.close();
    }
    const after = await session(t, log);
    reachable(log, after, this.id);
  },
};

export const FUZZ_SCENARIOS: readonly Scenario<ServerUnderTest>[] = [mutatedRequests];
