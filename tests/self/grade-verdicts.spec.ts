/**
 * Grading judges traffic as the live suites do: the transcripts of server and client scenarios run against the
 * embedded peers, exported as a run attaches them and graded, give the live verdicts of every passive-check row;
 * each reference-peer fault that shows in traffic is found by grading its transcripts; and a capture cut short at
 * either end yields no failure the whole capture would not.
 */
import { expect, test } from '@playwright/test';
import { CLIENT_CHECKS } from '../../harness/checks/client-checks';
import type { Finding } from '../../harness/checks/finding';
import { SERVER_CHECKS } from '../../harness/checks/server-checks';
import { DEVICE_FAULTS } from '../../harness/device/faults';
import { ReferenceDevice } from '../../harness/device/reference-device';
import { groupSessions, toHar, transcriptMessages, type CapturedSession } from '../../harness/grade';
import { harMessages } from '../../harness/grade/har';
import { judgeCaptured, type GradeRole } from '../../harness/grade/judge';
import { EMBEDDED_CLIENT_FEATURES, startEmbeddedClient } from '../../harness/iut/embedded-client';
import { EMBEDDED_FEATURES, startEmbeddedServer } from '../../harness/iut/embedded-server';
import { createTestPki, type TestPki } from '../../harness/pki';
import type { Fault } from '../../harness/protocol/fault';
import { Redactor } from '../../harness/report/redact';
import { exportSessions, type TranscriptExport } from '../../harness/report/transcript-export';
import { grade } from '../../harness/report/verdicts';
import { CLIENT_SCENARIOS } from '../../harness/scenarios/client';
import { inBatches } from '../../harness/scenarios/matrix';
import { runScenario, type Feature, type Scenario, type ScenarioResult, type SeededTarget } from '../../harness/scenarios/scenario';
import { SERVER_SCENARIOS } from '../../harness/scenarios/server';
import { judgeability } from '../../harness/scenarios/catalog';
import { ReferenceServer } from '../../harness/server/reference-server';
import { SERVER_FAULTS } from '../../harness/server/faults';
import { get, replace } from '../../harness/syncml';
import type { Exchange } from '../../harness/transport';

let pki: TestPki;
test.beforeAll(() => {
  pki = createTestPki({ keyType: 'ec' });
});

const SIDE = {
  server: { checks: new Set(SERVER_CHECKS.map((c) => c.name)), ids: new Set(SERVER_CHECKS.flatMap((c) => c.ids)), role: 'server' as GradeRole },
  client: { checks: new Set(CLIENT_CHECKS.map((c) => c.name)), ids: new Set(CLIENT_CHECKS.flatMap((c) => c.ids)), role: 'device' as GradeRole },
};
type Side = keyof typeof SIDE;

/** A scenario's transcripts as a run attaches them (redacted JSON), read back and grouped into captured sessions. */
function captured(result: ScenarioResult): CapturedSession[] {
  const exported: TranscriptExport = { scenario: result.scenario, sessions: exportSessions(result.transcripts, new Redactor()), marks: [] };
  return groupSessions(transcriptMessages(JSON.parse(JSON.stringify(exported)), `${result.scenario}.json`));
}

/** One verdict per requirement, as a report grades it: fail over warn over pass over the rest. */
function verdicts(findings: readonly Finding[]): Record<string, string> {
  const order = ['fail', 'warn', 'pass', 'not-applicable', 'inconclusive'];
  const out: Record<string, string> = {};
  for (const f of findings) {
    const v = grade(f);
    if (!(f.id in out) || order.indexOf(v) < order.indexOf(out[f.id])) out[f.id] = v;
  }
  return out;
}

/**
 * Rows whose passive check reads, besides the messages, what only a live run knows; a capture holds neither, so
 * grading leaves them inconclusive with the check's own reason.
 */
const RUN_CONTEXT: Record<Side, Record<string, string>> = {
  client: {
    'MDM-TRN-006': 'the encoding the client was provisioned with (--encoding)',
    'MDM-TRN-014': 'whether the client was told to sign its messages, and with which certificate',
  },
  server: {
    'MDM-AUTH-009': 'the credentials the server was configured with, to tell which nonce its digest was made from',
    'MDM-AUTH-022': 'the credentials the server was configured with, to tell which nonce its digest was made from',
  },
};

/** Faults whose violation shows at the very end of a session, which a capture cannot tell from a capture that ends there. */
const AT_CAPTURE_END: Record<string, string> = {
  'no-final-on-replies': 'the device stops after the server asks for the rest of its package: a capture that ends there looks the same',
};

const passive = (side: Side, findings: readonly Finding[]) =>
  findings.filter((f) => SIDE[side].checks.has(f.check) && !f.consequenceOf && !(f.id in RUN_CONTEXT[side]));
const failing = (f: Finding, warningOnly: boolean | undefined) => grade(f) === 'fail' || (!!warningOnly && grade(f) === 'warn');

function gradedFindings(side: Side, sessions: readonly CapturedSession[]): Finding[] {
  return sessions.flatMap((s) => judgeCaptured(s, SIDE[side].role));
}

const SERVER_PICKS = ['setup/minimal-session', 'get-results/get-leaf-and-interior', 'management-rounds/add-replace-delete-exec-sequence', 'management-rounds/stops-after-214', 'termination/device-abort', 'large-objects/item-larger-than-a-message', 'large-objects/results-in-chunks', 'large-objects/device-package-spans-messages'];
const CLIENT_PICKS = ['setup/package-1', 'get-results/leaf-interior-missing-several', 'management-rounds/atomic', 'termination/server-abort', 'large-objects/server-object-in-chunks', 'large-objects/results-in-chunks'];

const pick = <T>(all: readonly Scenario<T>[], ids: readonly string[]) => ids.map((id) => {
  const s = all.find((x) => x.id === id);
  if (!s) throw new Error(`no scenario ${id}`);
  return s;
});

test.describe.configure({ mode: 'parallel' });

test('server scenarios against the embedded server: their graded transcripts give the live verdicts of every passive-check row', async () => {
  test.setTimeout(90_000);
  const server = await startEmbeddedServer({ pki });
  try {
    for (const scenario of pick(SERVER_SCENARIOS, SERVER_PICKS)) {
      const result = await runScenario(scenario, server.target, EMBEDDED_FEATURES);
      const sessions = captured(result);
      expect(sessions.length, scenario.id).toBeGreaterThan(0);
      const live = verdicts(passive('server', result.findings));
      const graded = verdicts(passive('server', gradedFindings('server', sessions)));
      expect(graded, scenario.id).toEqual(live);
      expect(Object.values(graded), scenario.id).not.toContain('fail');
    }
  } finally {
    await server.stop();
  }
});

test('client scenarios against the embedded device: their graded transcripts give the live verdicts of every passive-check row', async () => {
  test.setTimeout(90_000);
  const client = await startEmbeddedClient({ pki });
  try {
    for (const scenario of pick(CLIENT_SCENARIOS, CLIENT_PICKS)) {
      const result = await runScenario(scenario, client.target, EMBEDDED_CLIENT_FEATURES);
      const sessions = captured(result);
      expect(sessions.length, scenario.id).toBeGreaterThan(0);
      const live = verdicts(passive('client', result.findings));
      const graded = verdicts(passive('client', gradedFindings('client', sessions)));
      expect(graded, scenario.id).toEqual(live);
      expect(Object.values(graded), scenario.id).not.toContain('fail');
    }
  } finally {
    await client.stop();
  }
});

/**
 * Faults whose requirement a capture cannot show to a passive check, with why. Every other fault of both reference
 * peers must be found by grading the transcripts of the scenarios that provoke it.
 */
const NOT_IN_TRAFFIC: Record<Side, Record<string, string>> = { server: {}, client: {} };

/** Why a fault is out of reach of grading: what its requirement needs that a transcript does not hold. */
function outOfReach(side: Side, fault: Fault<unknown>): string | undefined {
  const passiveIds = SIDE[side].ids;
  const active = fault.violates.filter((id) => !passiveIds.has(id));
  if (!fault.violates.length) return 'an advisory, not a requirement';
  if (!active.length) return undefined;
  const scenarios = [...new Set(active.flatMap((id) => judgeability(side).get(id)?.scenarios.map((x) => x.id) ?? []))];
  return `${active.join(', ')}: no passive check reads it from the messages; ${scenarios.length ? `the ${scenarios.join(', ')} scenario provokes it and knows what the harness sent or holds (a credential, a certificate, a malformed request, the tree's state)` : 'no check judges it'}`;
}

/**
 * A fault's row: the ids it violates that the live passive checks reported and grading found (`found`), that they
 * reported and grading missed (`missing`, a defect of grading), and that only a scenario reported, from what it
 * knows beyond the messages (`byScenario`: not in traffic).
 */
async function faultRow<T extends SeededTarget>(
  side: Side,
  fault: Fault<unknown>,
  scenarios: readonly Scenario<T>[],
  features: ReadonlySet<Feature>,
  start: () => Promise<{ target: T; stop(): Promise<void> }>,
): Promise<{ fault: string; found: string[]; missing: string[]; byScenario: string[] }> {
  const peer = await start();
  const graded = new Set<string>();
  const live = new Set<string>();
  try {
    for (const scenario of scenarios) {
      const result = await runScenario(scenario, peer.target, features);
      if (!result.transcripts.length) continue;
      for (const f of passive(side, result.findings)) if (failing(f, fault.warningOnly)) live.add(f.id);
      for (const f of passive(side, gradedFindings(side, captured(result)))) if (failing(f, fault.warningOnly)) graded.add(f.id);
      if (fault.violates.every((id) => graded.has(id))) break;
    }
  } finally {
    await peer.stop();
  }
  return {
    fault: fault.name,
    found: fault.violates.filter((id) => graded.has(id)),
    missing: fault.name in AT_CAPTURE_END ? [] : fault.violates.filter((id) => live.has(id) && !graded.has(id)),
    byScenario: fault.violates.filter((id) => !live.has(id) && !graded.has(id)),
  };
}

test('every server fault that shows in traffic is found by grading the transcripts of the server scenarios', async ({}, testInfo) => {
  test.setTimeout(240_000);
  const inReach = SERVER_FAULTS.filter((f) => {
    const why = outOfReach('server', f);
    if (why) NOT_IN_TRAFFIC.server[f.name] = why;
    return !why;
  });
  const scenarios = SERVER_SCENARIOS.filter((s) => !s.id.startsWith('fuzz/') && !s.id.startsWith('security/'));
  const rows = await inBatches(inReach, 4, (fault) => faultRow('server', fault as Fault<unknown>, scenarios, EMBEDDED_FEATURES, () => startEmbeddedServer({ pki, faults: [fault] })));
  await testInfo.attach('graded-server-faults.json', { body: JSON.stringify({ rows, notInTraffic: NOT_IN_TRAFFIC.server }, null, 2), contentType: 'application/json' });
  console.log(`server faults found by grading: ${rows.filter((r) => r.found.length).length}/${rows.length}; not in traffic: ${Object.keys(NOT_IN_TRAFFIC.server).length} (${Object.keys(NOT_IN_TRAFFIC.server).join(', ')}); found only by a scenario: ${rows.filter((r) => r.byScenario.length).map((r) => r.fault).join(', ')}`);
  expect(rows.filter((r) => r.missing.length)).toEqual([]);
  expect(rows.filter((r) => r.found.length).length).toBeGreaterThan(80);
});

test('every device fault that shows in traffic is found by grading the transcripts of the client scenarios', async ({}, testInfo) => {
  test.setTimeout(240_000);
  const inReach = DEVICE_FAULTS.filter((f) => {
    const why = outOfReach('client', f);
    if (why) NOT_IN_TRAFFIC.client[f.name] = why;
    return !why;
  });
  const rows = await inBatches(inReach, 4, (fault) => faultRow('client', fault as Fault<unknown>, CLIENT_SCENARIOS, EMBEDDED_CLIENT_FEATURES, () => startEmbeddedClient({ pki, faults: [fault] })));
  await testInfo.attach('graded-device-faults.json', { body: JSON.stringify({ rows, notInTraffic: NOT_IN_TRAFFIC.client }, null, 2), contentType: 'application/json' });
  console.log(`device faults found by grading: ${rows.filter((r) => r.found.length).length}/${rows.length}; not in traffic: ${Object.keys(NOT_IN_TRAFFIC.client).length} (${Object.keys(NOT_IN_TRAFFIC.client).join(', ')}); found only by a scenario: ${rows.filter((r) => r.byScenario.length).map((r) => r.fault).join(', ')}`);
  expect(rows.filter((r) => r.missing.length)).toEqual([]);
  expect(rows.filter((r) => r.found.length).length).toBeGreaterThan(60);
});

/** Reference-pair sessions that exercise multi-message packages, large objects in both directions and an abort. */
async function referenceSessions(): Promise<{ name: string; exchanges: Exchange[] }[]> {
  const server = new ReferenceServer({ identity: pki.server, ca: pki.ca.certPem });
  const url = await server.start();
  const out: { name: string; exchanges: Exchange[] }[] = [];
  const run = async (name: string, opts: Partial<ConstructorParameters<typeof ReferenceDevice>[0]>, queue: Parameters<ReferenceServer['queue']>[1][]) => {
    const device = new ReferenceDevice({ deviceId: pki.deviceId, identity: pki.device, serverCa: pki.ca.certPem, ...opts });
    try {
      server.queue(pki.deviceId, ...queue);
      const r = await device.runSession(url);
      expect(r.end.reason, name).toBe('completed');
      out.push({ name, exchanges: r.exchanges });
    } finally {
      await device.close();
    }
  };
  try {
    await run('small MaxMsgSize, many rounds', { maxMsgSize: 1000 }, [
      get('./DevDetail/SwV'), get('./DevInfo'), replace('./Vendor/MSFT/HarnessCSP/Settings/Name', 'cut', { format: 'chr' }), get('./DevInfo/Lang'),
      get('./DevDetail/HwV'), get('./DevInfo/Man'), get('./DevInfo/Mod'), get('./Vendor/MSFT/HarnessCSP/Settings/Name'),
      get('./DevDetail/OEM'), get('./DevInfo/DmV'), get('./DevDetail/FwV'), get('./DevDetail/DevTyp'),
    ]);
    await run('large objects both ways', { maxMsgSize: 2000, maxSendSize: 2000 }, [
      replace('./Vendor/MSFT/HarnessCSP/Settings/Name', 'x'.repeat(7000), { format: 'chr' }), get('./DevInfo/Lang'), get('./Vendor/MSFT/HarnessCSP/Settings/Name'),
    ]);
  } finally {
    await server.stop();
  }
  // MD5 authentication: a challenge, package 1 again with credentials, then the commands.
  const credentials = { scheme: 'syncml:auth-md5' as const, user: 'grader', password: 'cut-capture' };
  const authServer = new ReferenceServer({ identity: pki.server, ca: pki.ca.certPem, clientAuth: credentials });
  const authUrl = await authServer.start();
  const device = new ReferenceDevice({ deviceId: pki.deviceId, identity: pki.device, serverCa: pki.ca.certPem, credentials, maxMsgSize: 1500 });
  try {
    authServer.queue(pki.deviceId, get('./DevInfo/Lang'), get('./DevDetail/SwV'), replace('./Vendor/MSFT/HarnessCSP/Settings/Name', 'y'.repeat(3000), { format: 'chr' }));
    const r = await device.runSession(authUrl);
    expect(r.end.reason).toBe('completed');
    out.push({ name: 'md5 challenge and a large object', exchanges: r.exchanges });
  } finally {
    await device.close();
    await authServer.stop();
  }
  return out;
}

const failures = (sessions: readonly CapturedSession[]) => [...new Set(sessions.flatMap((s) => judgeCaptured(s, 'both')).filter((f) => grade(f) === 'fail').map((f) => f.id))].sort();

test('a capture cut in the middle of a session, at its start, its end or both, yields no failure the whole capture does not', async () => {
  test.setTimeout(90_000);
  for (const { name, exchanges } of await referenceSessions()) {
    const whole = groupSessions(harMessages(toHar(exchanges), `${name}.har`));
    expect(whole, name).toHaveLength(1);
    const expected = failures(whole);
    const n = exchanges.length;
    if (name.startsWith('md5')) {
      const challenged = whole[0].view.exchanges.some((x) => x.response?.syncml?.body.commands.some((c) => c.kind === 'Status' && c.chal));
      expect(challenged, 'the md5 session opens with a challenge').toBe(true);
    }
    expect(n, name).toBeGreaterThanOrEqual(4);
    for (let from = 0; from < n; from++) {
      for (let to = from + 1; to <= n; to++) {
        if (from === 0 && to === n) continue;
        const har = toHar(exchanges.slice(from, to));
        const cut = groupSessions(harMessages(har, `${name} ${from}-${to}.har`));
        expect(failures(cut), `${name}: exchanges ${from + 1} to ${to} of ${n}`).toEqual(expected.filter((id) => failures(cut).includes(id)));
        for (const s of cut) {
          if (s.startsAtPackage1) continue;
          const startRules = judgeCaptured(s, 'both').filter((f) => f.id === 'MDM-CMD-ALT-001');
          expect(startRules.map((f) => f.verdict), name).toEqual(['inconclusive']);
          expect(startRules[0].evidence).toMatch(/starts mid-session/);
        }
      }
      // The request of the last exchange kept, its reply not: the reply was not captured, nothing more.
      const messages = harMessages(toHar(exchanges.slice(from, n)), `${name} ${from}-reply-lost.har`);
      expect(messages.pop()?.from).toBe('server');
      expect(failures(groupSessions(messages)), `${name}: from exchange ${from + 1}, last reply not captured`).toEqual([]);
    }
  }
});
