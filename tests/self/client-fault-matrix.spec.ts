import { expect, test } from '@playwright/test';
import { DEVICE_FAULTS, DEVICE_VARIANTS, type DeviceFault } from '../../harness/device/faults';
import { EMBEDDED_CLIENT_FEATURES, startEmbeddedClient } from '../../harness/iut/embedded-client';
import { createTestPki } from '../../harness/pki';
import { CLIENT_SCENARIOS } from '../../harness/scenarios/client';
import { scaled } from './run-cli';
import { cleanRow, inBatches, matrixRow, proof, summaryLine } from '../../harness/scenarios/matrix';

/** Ids a check can report that no fault of the reference peer shows failing yet: this list may only shrink. */
const UNPROVEN: string[] = [];

// Every check of the client suite is proven here: it fails against the device fault that breaks its requirement
// and passes against the clean reference device (architecture principle 6).
test('every client scenario against the clean reference device and each of its faults', async ({}, testInfo) => {
  test.setTimeout(scaled(240_000)); // the time a loaded machine needs
  const pki = createTestPki({ keyType: 'ec' }); // EC keys: minting the bad server identities takes milliseconds
  const start = async (faults: readonly DeviceFault[]) => startEmbeddedClient({ pki, faults });
  const clean = await cleanRow(DEVICE_VARIANTS, CLIENT_SCENARIOS, EMBEDDED_CLIENT_FEATURES, start);
  const rows = await inBatches(DEVICE_FAULTS, 4, (fault) => matrixRow(fault, CLIENT_SCENARIOS, EMBEDDED_CLIENT_FEATURES, start));
  const line = summaryLine('client', clean, rows);
  console.log(line);
  await testInfo.attach('client-fault-matrix.json', { body: JSON.stringify({ clean, rows }, null, 2), contentType: 'application/json' });

  expect(clean.failed, 'the clean reference device fails no requirement').toEqual([]);
  expect(clean.inconclusive, 'the clean reference device leaves no requirement inconclusive').toEqual([]);
  const warned = DEVICE_FAULTS.filter((f) => f.warningOnly).map((f) => rows.find((r) => r.fault === f.name)!);
  expect(warned.filter((r) => !r.declared.every((id) => r.warned.includes(id) || r.failed.includes(id))).map((r) => r.fault), 'warning-only faults reported').toEqual([]);
  const missed = rows.filter((r) => !r.rightRequirement).map((r) => `${r.fault}: declares ${r.declared.join(', ')}; failed ${r.failed.join(', ') || 'nothing'}`);
  expect(missed, 'faults whose declared requirements were not all reported').toEqual([]);
  const { judgeable, unproven } = proof('client', rows);
  expect(unproven, 'ids a check can report that no fault shows failing').toEqual(UNPROVEN);
  const proven = judgeable.length - unproven.length;
  expect(line).toBe(`client faults detected: ${rows.length}/${rows.length}, right requirement: ${rows.length}/${rows.length}, proven: ${proven}/${judgeable.length}, clean: pass`);
});
