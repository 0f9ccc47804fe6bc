/**
 * Every security probe proven on its own: against the clean reference peer it passes with nothing inconclusive and
 * no advisory; against each fault that breaks what it judges it reports the declared id (a failure, or a warning for
 * a SHOULD); against each weakness the catalogue is silent on it reports the advisory, and nothing fails. The fault
 * matrices prove the faults among all scenarios; here each probe is shown to catch them itself, and the advisories,
 * which the matrices do not count, are shown end to end: scenario, report section, command line.
 */
import { expect, test } from '@playwright/test';
import { runCli } from './run-cli';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEVICE_FAULTS, DEVICE_WEAKNESSES, type DeviceFault } from '../../harness/device/faults';
import { EMBEDDED_CLIENT_FEATURES, startEmbeddedClient } from '../../harness/iut/embedded-client';
import { EMBEDDED_FEATURES, startEmbeddedServer } from '../../harness/iut/embedded-server';
import { createTestPki, writePki, type TestPki } from '../../harness/pki';
import { faultByName } from '../../harness/protocol/fault';
import { reportSchemaErrors, type ConformanceReport } from '../../harness/report/report';
import { grade } from '../../harness/report/verdicts';
import { SECURITY_SCENARIOS as CLIENT_PROBES } from '../../harness/scenarios/client/security';
import { runScenario, type Feature, type Scenario, type ScenarioResult } from '../../harness/scenarios/scenario';
import type { ClientUnderTest } from '../../harness/scenarios/client';
import type { ServerUnderTest } from '../../harness/scenarios/server';
import { SECURITY_SCENARIOS as SERVER_PROBES } from '../../harness/scenarios/server/security';
import { SERVER_FAULTS, SERVER_WEAKNESSES, type ServerFault } from '../../harness/server/faults';
import { ReferenceServer } from '../../harness/server/reference-server';

let pki: TestPki;
test.beforeAll(() => {
  pki = createTestPki({ keyType: 'ec' });
});

interface Outcome {
  failed: string[];
  warned: string[];
  inconclusive: string[];
  advised: string[];
}

function outcome(r: ScenarioResult): Outcome {
  const ids = (v: string) => [...new Set(r.findings.filter((f) => grade(f) === v).map((f) => f.id))].sort();
  return { failed: ids('fail'), warned: ids('warn'), inconclusive: ids('inconclusive'), advised: [...new Set((r.advisories ?? []).map((a) => a.probe))].sort() };
}

const CLEAN: Outcome = { failed: [], warned: [], inconclusive: [], advised: [] };

/** Which faults (SERVER_FAULTS / DEVICE_FAULTS) and weaknesses each probe must catch, and what it reports. */
const SERVER_PROOFS: Record<string, { peer: string; reports: Partial<Outcome> }[]> = {
  'security/xml-entities': [
    { peer: 'resolves-external-entities', reports: { advised: ['xml-external-entity'] } },
    { peer: 'crashes-on-malformed-input', reports: { failed: ['MDM-ROB-006'] } },
  ],
  'security/oversized-messages': [
    { peer: 'unbounded-request-body', reports: { advised: ['unbounded-request-body'] } },
    { peer: 'oversized-body-crashes', reports: { failed: ['MDM-ROB-006'] } },
  ],
  'security/session-isolation': [
    { peer: 'sessions-keyed-by-sessionid', reports: { failed: ['MDM-SES-021'] } },
    { peer: 'accepts-certificate-of-another-device', reports: { advised: ['certificate-not-bound-to-device'] } },
  ],
  'security/replayed-md5-credential': [
    { peer: 'nonce-not-renewed', reports: { failed: ['MDM-AUTH-019'] } },
    { peer: 'short-nonces', reports: { warned: ['MDM-AUTH-021'] } },
    { peer: 'nonce-reused-in-challenge', reports: { failed: ['MDM-AUTH-022'] } },
  ],
  'security/protocol-downgrade': [{ peer: 'accepts-any-protocol-version', reports: { warned: ['MDM-ROB-002'] } }],
};

const CLIENT_PROOFS: Record<string, { peer: string; reports: Partial<Outcome> }[]> = {
  'security/xml-entities': [
    { peer: 'resolves-external-entities', reports: { advised: ['xml-external-entity'] } },
    { peer: 'sessionid-reused', reports: { failed: ['MDM-TERM-008'] } },
  ],
  'security/protocol-downgrade': [{ peer: 'ignores-protocol-version', reports: { warned: ['MDM-ROB-002'] } }],
  'security/locuri-tricks': [
    { peer: 'decodes-locuri-before-splitting', reports: { failed: ['MDM-XML-018'] } },
    { peer: 'resolves-dot-segments', reports: { advised: ['locuri-dot-segments'] } },
  ],
};

/** The declared ids and advisories are all reported; a weakness (advisory) fails nothing. */
function expectReports(got: Outcome, want: Partial<Outcome>, what: string): void {
  for (const key of ['failed', 'warned', 'advised'] as const) {
    for (const x of want[key] ?? []) expect(got[key], `${what}: ${key} ${x}`).toContain(x);
  }
  if (want.advised) expect(got.failed, `${what}: an advisory never comes with a failure`).toEqual([]);
}

async function runServerProbe(s: Scenario<ServerUnderTest>, faults: readonly ServerFault[]): Promise<Outcome> {
  const peer = await startEmbeddedServer({ pki, faults });
  try {
    return outcome(await runScenario(s, peer.target, EMBEDDED_FEATURES));
  } finally {
    await peer.stop();
  }
}

async function runClientProbe(s: Scenario<ClientUnderTest>, faults: readonly DeviceFault[], features: ReadonlySet<Feature>): Promise<Outcome> {
  const peer = await startEmbeddedClient({ pki, faults });
  try {
    return outcome(await runScenario(s, peer.target, features));
  } finally {
    await peer.stop();
  }
}

test.describe('server security probes', () => {
  for (const probe of SERVER_PROBES) {
    test(`${probe.id}: clean server passes, each fault and weakness is reported`, async () => {
      expect(await runServerProbe(probe, []), 'against the clean reference server').toEqual(CLEAN);
      const proofs = SERVER_PROOFS[probe.id];
      expect(proofs, `${probe.id} has proofs`).toBeDefined();
      for (const p of proofs) {
        const fault = faultByName([...SERVER_FAULTS, ...SERVER_WEAKNESSES], p.peer);
        expectReports(await runServerProbe(probe, [fault]), p.reports, `${probe.id} against ${p.peer}`);
      }
    });
  }
});

test.describe('client security probes', () => {
  for (const probe of CLIENT_PROBES) {
    test(`${probe.id}: clean device passes, each fault and weakness is reported`, async () => {
      expect(await runClientProbe(probe, [], EMBEDDED_CLIENT_FEATURES), 'against the clean reference device').toEqual(CLEAN);
      const proofs = CLIENT_PROOFS[probe.id];
      expect(proofs, `${probe.id} has proofs`).toBeDefined();
      for (const p of proofs) {
        const fault = faultByName([...DEVICE_FAULTS, ...DEVICE_WEAKNESSES], p.peer);
        expectReports(await runClientProbe(probe, [fault], EMBEDDED_CLIENT_FEATURES), p.reports, `${probe.id} against ${p.peer}`);
      }
    });
  }
});

test('every weakness is proven by some probe, and declares the advisory it makes', () => {
  const proven = (proofs: typeof SERVER_PROOFS) => new Set(Object.values(proofs).flat().map((p) => p.peer));
  for (const w of SERVER_WEAKNESSES) expect(proven(SERVER_PROOFS).has(w.name), w.name).toBe(true);
  for (const w of DEVICE_WEAKNESSES) expect(proven(CLIENT_PROOFS).has(w.name), w.name).toBe(true);
  for (const [proofs, weaknesses] of [[SERVER_PROOFS, SERVER_WEAKNESSES], [CLIENT_PROOFS, DEVICE_WEAKNESSES]] as const) {
    for (const p of Object.values(proofs).flat()) {
      const w = weaknesses.find((x) => x.name === p.peer);
      if (w) expect(p.reports.advised, p.peer).toEqual(w.advises);
    }
  }
});

test('advisories reach the report and the command line, and never fail the run', async () => {
  test.setTimeout(90_000);
  const dir = mkdtempSync(join(tmpdir(), 'mdm-security-'));
  writePki(join(dir, 'pki'), pki, { force: true });
  const server = new ReferenceServer({ identity: pki.server, ca: pki.ca.certPem, faults: SERVER_WEAKNESSES });
  await server.start();
  try {
    const reports = join(dir, 'reports');
    const run = await runCli(['test-server', '--url', server.url, '--pki', join(dir, 'pki'), '--suite', 'security', '--reports', reports]);
    expect(run.code, run.out).toBe(0);
    expect(run.out).toMatch(/security advisories \(2; no catalogue requirement, they never fail the run\):\n\s+SECURITY ADVISORY xml-external-entity: /);
    expect(run.out).toMatch(/SECURITY ADVISORY unbounded-request-body/);
    const report = JSON.parse(readFileSync(join(reports, 'conformance-report.json'), 'utf8')) as ConformanceReport;
    expect(reportSchemaErrors(report)).toEqual([]);
    expect(report.summary.failed).toBe(0);
    expect([...new Set(report.advisories?.map((a) => a.probe))].sort()).toEqual(['unbounded-request-body', 'xml-external-entity']);
    expect(report.advisories?.every((a) => a.test && a.evidence.length > 40)).toBe(true);
  } finally {
    await server.stop();
  }
});

