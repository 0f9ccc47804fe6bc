import { expect, test } from '@playwright/test';
import { scaled } from './run-cli';
import { EMBEDDED_FEATURES, startEmbeddedServer } from '../../harness/iut/embedded-server';
import { createTestPki } from '../../harness/pki';
import { cleanRow, inBatches, matrixRow, proof, summaryLine } from '../../harness/scenarios/matrix';
import { SERVER_SCENARIOS } from '../../harness/scenarios/server';
import { SERVER_FAULTS, SERVER_VARIANTS, type ServerFault } from '../../harness/server/faults';

/** Ids a check can report that no fault of the reference peer shows failing yet: this list may only shrink. */
const UNPROVEN: string[] = [

];

// Every check of the server suite is proven here: it fails against the fault that breaks its requirement and
// passes against the clean reference server (architecture principle 6).
test('every server scenario against the clean reference server and each of its faults', async ({}, testInfo) => {
  test.setTimeout(scaled(120_000)); // the time a loaded machine needs
  const pki = createTestPki({ keyType: 'ec' }); // EC keys: minting the bad identities takes milliseconds
  const start = async (faults: readonly ServerFault[]) => startEmbeddedServer({ pki, faults });
  const clean = await cleanRow(SERVER_VARIANTS, SERVER_SCENARIOS, EMBEDDED_FEATURES, start);
  const rows = await inBatches(SERVER_FAULTS, 4, (fault) => matrixRow(fault, SERVER_SCENARIOS, EMBEDDED_FEATURES, start));
  const line = summaryLine('server', clean, rows);
  console.log(line);
  await testInfo.attach('server-fault-matrix.json', { body: JSON.stringify({ clean, rows }, null, 2), contentType: 'application/json' });

  expect(clean.failed, 'the clean reference server fails no requirement').toEqual([]);
  expect(clean.inconclusive, 'the clean reference server leaves no requirement inconclusive').toEqual([]);
  const missed = rows.filter((r) => !r.rightRequirement).map((r) => `${r.fault}: declares ${r.declared.join(', ')}; failed ${r.failed.join(', ') || 'nothing'}`);
  expect(missed, 'faults whose declared requirements were not all reported').toEqual([]);
  const { judgeable, unproven } = proof('server', rows);
  expect(unproven, 'ids a check can report that no fault shows failing').toEqual(UNPROVEN);
  const proven = judgeable.length - unproven.length;
  expect(line).toBe(`server faults detected: ${rows.length}/${rows.length}, right requirement: ${rows.length}/${rows.length}, proven: ${proven}/${judgeable.length}, clean: pass`);
});
