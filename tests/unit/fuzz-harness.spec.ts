import { expect, test } from '@playwright/test';
import fc from 'fast-check';
import { harnessSurvives } from '../../harness/fuzz/harness-survives';
import { mutate, mutatedCase, mutateWbxml, MUTATION_KINDS, WBXML_MUTATION_KINDS, wbxmlMutatedCase } from '../../harness/fuzz/mutators';
import { WBXML_MEDIA_TYPE } from '../../harness/syncml';

// Implementations under test are buggy by definition: the harness must keep judging whatever they send.
// 10,000 seeded cases, in two halves so that two workers share them.
for (const seed of [424242, 171717]) {
  test(`5,000 mutated messages (seed ${seed}) yield findings or a protocol error, never an exception in the codec, checks or peers`, () => {
    test.setTimeout(120_000);
    const seen = new Set<string>();
    fc.assert(
      fc.property(mutatedCase(), (c) => {
        for (const m of c.mutations) seen.add(m.kind);
        harnessSurvives(mutate(c.message, c.mutations));
      }),
      { numRuns: 5_000, seed },
    );
    expect([...seen].sort()).toEqual([...MUTATION_KINDS].sort());
  });
}

test('2,000 mutated WBXML messages yield findings or a protocol error, never an exception in the codec, checks or peers', () => {
  test.setTimeout(120_000);
  const seen = new Set<string>();
  fc.assert(
    fc.property(wbxmlMutatedCase(), (c) => {
      for (const m of c.mutations) seen.add(m.kind);
      harnessSurvives(mutateWbxml(c), WBXML_MEDIA_TYPE);
    }),
    { numRuns: 2_000, seed: 616161 },
  );
  expect([...seen].sort()).toEqual([...WBXML_MUTATION_KINDS].sort());
});
