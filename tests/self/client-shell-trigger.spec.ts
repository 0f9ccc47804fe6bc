import { expect, test } from '@playwright/test';
import { join } from 'node:path';
import { execTrigger } from '../../harness/iut/trigger';
import { createTestPki } from '../../harness/pki';
import { grade } from '../../harness/report/verdicts';
import { CLIENT_SCENARIOS } from '../../harness/scenarios/client';
import { inBatches } from '../../harness/scenarios/matrix';
import { scaled } from './run-cli';
import { runScenario, type Feature } from '../../harness/scenarios/scenario';

const ROOT = join(__dirname, '..', '..');

/**
 * What the reference device run as a command line cannot show: its Results and Statuses go out whole, so its package
 * never spans messages; and a process per session keeps no setting, such as SyncApplicationVersion, to the next.
 */
const NOT_EXERCISED_BY_THIS_CLIENT = [
  'MDM-LO-001', 'MDM-LO-006', 'MDM-LO-009', 'MDM-LO-011', 'MDM-CMD-ATO-007', 'MDM-XML-006', 'MDM-XML-007', 'MDM-CMD-ALT-011',
];
/** Node roles Windows has no default for, which this command line's (absent) capability profile leaves unmapped. */
const NOT_MAPPED = ['MDM-STS-021', 'MDM-SES-020', 'MDM-AUTH-030'];
/** Rows of scenarios that need credentials the command line below does not declare (--auth, --server-credentials). */
const NEEDS_CREDENTIALS = ['MDM-AUTH-002', 'MDM-AUTH-003', 'MDM-AUTH-009', 'MDM-AUTH-010', 'MDM-AUTH-015', 'MDM-HDR-016'];

// A vendor's client needs nothing but a command line: here the reference device runs as a separate process per
// session through the exec adapter, exactly as `test-client --trigger` runs a vendor's, and every client scenario
// judges it.
test('a client that is only a shell command can be certified through --trigger', async ({}, testInfo) => {
  test.setTimeout(scaled(180_000)); // the time a loaded machine needs
  const pki = createTestPki({ keyType: 'ec' });
  const exec = execTrigger({
    command: 'node bin/mdm-conformance.js device --url {url} --ca {ca} --cert {cert} --key {key} --device-id {deviceId}',
    pki,
    cwd: ROOT,
    timeoutMs: 30_000,
  });
  const target = { pki, deviceId: pki.deviceId, trigger: exec.trigger };
  // The command line above declares no application-level credentials, so md5-auth is not claimed.
  const features = new Set<Feature>(['atomic', 'large-objects']);
  try {
    // Scenarios are independent (each has its own server, each session its own process), so they may overlap.
    const results = await inBatches(CLIENT_SCENARIOS, 4, (s) => runScenario(s, target, features));
    const findings = results.flatMap((r) => r.findings);
    await testInfo.attach('client-shell-trigger.json', { body: JSON.stringify(results, null, 2), contentType: 'application/json' });
    const of = (verdict: string) => [...new Set(findings.filter((f) => grade(f) === verdict).map((f) => `${f.id}: ${f.evidence}`))];
    expect(of('fail'), 'the reference device behind a shell command fails nothing').toEqual([]);
    // Scenarios that need credentials this command line does not declare (its own, or what it expects of the server)
    // say so, and judge nothing.
    const needsFlags = (f: { evidence: string }) => /^needs --(auth|server-credentials)/.test(f.evidence);
    const inconclusive = [...new Set(findings.filter((f) => f.verdict === 'inconclusive' && !needsFlags(f)).map((f) => f.id))];
    expect(inconclusive.sort()).toEqual([...NOT_EXERCISED_BY_THIS_CLIENT].sort());
    const waiting = [...new Set(findings.filter((f) => f.verdict === 'inconclusive' && needsFlags(f)).map((f) => f.id))];
    expect(waiting.sort()).toEqual([...NEEDS_CREDENTIALS].sort());
    const passed = new Set(findings.filter((f) => f.verdict === 'pass').map((f) => f.id));
    const claimed = CLIENT_SCENARIOS.filter((s) => !s.feature || features.has(s.feature)).flatMap((s) => s.requirements);
    const unjudged = [...new Set(claimed)].filter((id) => !passed.has(id) && !NOT_EXERCISED_BY_THIS_CLIENT.includes(id) && !NOT_MAPPED.includes(id) && !NEEDS_CREDENTIALS.includes(id));
    expect(unjudged, 'every requirement the scenarios claim passed').toEqual([]);
    console.log(`shell-command client: ${passed.size} requirements passed over ${results.reduce((n, r) => n + r.transcripts.length, 0)} sessions`);
  } finally {
    exec.dispose();
  }
});
