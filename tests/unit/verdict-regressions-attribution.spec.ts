/**
 * Verdict regressions, third theme: attribution. A finding says what the evidence shows (a refusal only when it is
 * one), and one cause gives one failure: what follows from it is listed under it as a consequence. Each test builds
 * the example that showed the defect; a comment names the defective behaviour each one would have caught.
 */
import { expect, test } from '@playwright/test';
import type { Finding } from '../../harness/checks/finding';
import { DEVICE_FAULTS } from '../../harness/device/faults';
import { startEmbeddedClient } from '../../harness/iut/embedded-client';
import { EMBEDDED_FEATURES, startEmbeddedServer } from '../../harness/iut/embedded-server';
import { createTestPki, type TestPki } from '../../harness/pki';
import { faultByName } from '../../harness/protocol/fault';
import { expectStatus } from '../../harness/scenarios/client/expect';
import { commandsOverRounds } from '../../harness/scenarios/client/management';
import { runScenario, type Feature, type ScenarioResult } from '../../harness/scenarios/scenario';
import { mutualTls } from '../../harness/scenarios/server/auth';
import { sessionIdsAreOpaque } from '../../harness/scenarios/server/robustness';
import { minimalSession } from '../../harness/scenarios/server/sessions';
import { SERVER_FAULTS } from '../../harness/server/faults';
import {
  about, clientChecks, cmd, dev, fingerprintOf, hdrSt, package1Body, package1Statuses, rootFailures, rowVerdict, serverTarget, sessionOf, srv,
  st, startMiniServer,
} from './verdict-regressions-kit';

const NO_FEATURES: ReadonlySet<Feature> = new Set();

let pki: TestPki;
test.beforeAll(() => {
  pki = createTestPki({ keyType: 'ec' });
});

/** Failures of a scenario result grouped by the session (transcript) they were judged on. */
function failuresBySession(result: ScenarioResult): Map<number, Finding[]> {
  const out = new Map<number, Finding[]>();
  result.findings.forEach((f, i) => {
    const session = result.findingSessions?.[i];
    if (f.verdict !== 'fail' || session === null || session === undefined) return;
    out.set(session, [...(out.get(session) ?? []), f]);
  });
  return out;
}

test('6.1 a bad identity counts as refused only on a TLS failure, HTTP 401/403 or SyncHdr 401/403/407; the valid identity runs first as a control', async () => {
  // Defective: anything but an accepted session counted as the server refusing a bad certificate, so a server that
  // answers HTTP 400 (or resets) whatever the certificate passed MDM-TRN-004; and the bad identities were tried
  // whether or not the server took the valid one, so a server that refuses everyone "refused" them all.
  const enrolled = fingerprintOf(pki.device.certPem);
  const othersOnly = (answer: { status: number; destroy?: boolean }) => (req: { tls: { peerCertificate?: { fingerprint256: string } } }) =>
    (req.tls.peerCertificate?.fingerprint256 === enrolled ? undefined : { ...answer, headers: { 'content-type': 'text/plain' }, body: 'bad request' });

  // HTTP 400 to every certificate but the enrolled one: the control passes, the bad identities prove nothing.
  const answers400 = await startMiniServer(pki, othersOnly({ status: 400 }));
  try {
    const { findings } = await runScenario(mutualTls, serverTarget(pki, answers400.url), NO_FEATURES);
    const cases = about(findings, 'MDM-TRN-004');
    // Taking the valid identity is the control, not a pass: nothing here shows a refusal, so the row is not judged.
    expect(cases).toHaveLength(5);
    expect(rowVerdict('server', findings, 'MDM-TRN-004')).toBe('inconclusive');
    for (const f of cases) {
      expect(f.verdict, f.evidence).toBe('inconclusive');
      expect(f.evidence).toMatch(/: HTTP 400, which is neither a refusal of the identity \(TLS alert, HTTP 401\/403, SyncHdr 401\/403\/407\) nor an acceptance$/);
    }
  } finally {
    await answers400.stop();
  }

  // A reset for every other certificate: no refusal either.
  const resets = await startMiniServer(pki, othersOnly({ status: 200, destroy: true }));
  try {
    const { findings } = await runScenario(mutualTls, serverTarget(pki, resets.url), NO_FEATURES);
    const cases = about(findings, 'MDM-TRN-004');
    expect(cases.map((f) => f.verdict)).toEqual(Array(5).fill('inconclusive'));
  } finally {
    await resets.stop();
  }

  // The control fails (HTTP 400 to the enrolled identity too): the bad identities are not tried, and the reason says why.
  const refusesAll = await startMiniServer(pki, () => ({ status: 400, headers: { 'content-type': 'text/plain' }, body: 'bad request' }));
  try {
    const { findings } = await runScenario(mutualTls, serverTarget(pki, refusesAll.url), NO_FEATURES);
    expect(about(findings, 'MDM-TRN-004').map((f) => [f.verdict, f.evidence])).toEqual([
      ['inconclusive', 'the enrolled identity did not complete a session (HTTP 400), so refusals of bad identities would prove nothing'],
    ]);
    expect(rowVerdict('server', findings, 'MDM-TRN-004')).toBe('inconclusive');
  } finally {
    await refusesAll.stop();
  }

  // A real refusal (the reference server: TLS alert or HTTP 403 for each bad identity) passes every case.
  const strict = await startEmbeddedServer({ pki });
  try {
    const { findings } = await runScenario(mutualTls, strict.target, EMBEDDED_FEATURES);
    const trn004 = about(findings, 'MDM-TRN-004');
    expect(trn004).toHaveLength(5);
    for (const f of trn004) expect(f.verdict, f.evidence).toBe('pass');
    expect(trn004.every((f) => /: refused \((TLS: |HTTP 40[13]|SyncHdr Status 40[137])/.test(f.evidence))).toBe(true);
  } finally {
    await strict.stop();
  }
});

/** The minimal session against a server that ends it with an empty HTTP 200 (fault empty-body-at-end), failures by session. */
async function emptyReplyRun(): Promise<{ result: ScenarioResult; sessions: Map<number, Finding[]> }> {
  const server = await startEmbeddedServer({ pki, faults: [faultByName(SERVER_FAULTS, 'empty-body-at-end')] });
  try {
    const result = await runScenario(minimalSession, server.target, EMBEDDED_FEATURES);
    return { result, sessions: failuresBySession(result) };
  } finally {
    await server.stop();
  }
}

test('6.2 an empty reply fails MDM-TERM-003, and MDM-STS-012 only as its consequence', async () => {
  // Defective: the empty HTTP 200 at the end of a session failed MDM-TERM-003 and, for the same missing message,
  // MDM-STS-012: one fact counted under two rules.
  const { result, sessions } = await emptyReplyRun();
  expect(sessions.size).toBeGreaterThan(0);
  for (const [session, failures] of sessions) {
    expect([...new Set(rootFailures(failures).map((f) => f.id))], `session ${session}`).toEqual(['MDM-TERM-003']);
    expect(rootFailures(failures).map((f) => f.evidence)).toContain('msg 4 (server->device): HTTP 200 with an empty body instead of a SyncML reply (A-22)');
    expect(failures.filter((f) => f.id === 'MDM-STS-012').map((f) => f.consequenceOf), `session ${session}`).toEqual(['MDM-TERM-003']);
  }
  expect(rowVerdict('server', result.findings, 'MDM-TERM-003')).toBe('fail');
  expect(rowVerdict('server', result.findings, 'MDM-STS-012')).not.toBe('fail');
});

test('6.2 an empty reply fails MDM-TERM-003 once', async () => {
  // Defective: the same empty reply was failed twice under MDM-TERM-003 in one session, by the passive check
  // (serverAnswersEveryPackage) and by the scenario's reachable(), which now leaves it to the check.
  const { sessions } = await emptyReplyRun();
  expect(sessions.size).toBeGreaterThan(0);
  for (const [session, failures] of sessions) {
    expect(rootFailures(failures).map((f) => f.id), `session ${session}: one failure for one empty reply`).toEqual(['MDM-TERM-003']);
  }
});

test('6.3 a Status code that is no code ("0") fails MDM-STS-016; the scenario\'s "expected 200, found 0" is its consequence (expectStatus)', () => {
  // Defective: the scenario reported its own failure, "expected 200, found 0", beside MDM-STS-016's, so one wrong
  // Data counted twice, under a rule (here MDM-CMD-GET-002) the device may well keep.
  const view = sessionOf([
    dev(1, package1Body()),
    srv(1, package1Statuses() + cmd('Get', 5, { target: './DevDetail/SwV' })),
    dev(2, hdrSt(1, 1) + st(2, 1, 5, 'Get', 0)),
    srv(2, hdrSt(1, 2)),
  ]);
  const passive = clientChecks(view);
  expect(about(rootFailures(passive), 'MDM-STS-016').map((f) => f.evidence)).toEqual(['msg 3 (device->server) /SyncBody/Status[2]/Data: status code "0" is not a three-digit SyncML code']);

  const expected = expectStatus(view, { kind: 'Get', target: './DevDetail/SwV' }, '200', 'MDM-CMD-GET-002', 'get-results/get-leaf-and-interior');
  expect(expected.verdict).toBe('fail');
  expect(expected.consequenceOf).toBe('MDM-STS-016');
  expect(expected.evidence).toMatch(/^msg 3 \(device->server\) \/SyncBody\/Status\[2\]\/Data: expected 200, found "0", which is no SyncML response code/);
  const all = [...passive, expected];
  expect(rowVerdict('client', all, 'MDM-STS-016')).toBe('fail');
  expect(rowVerdict('client', all, 'MDM-CMD-GET-002')).not.toBe('fail');
  // A real code other than the expected one stays the scenario's own failure.
  const wrong = expectStatus(sessionOf([
    dev(1, package1Body()), srv(1, package1Statuses() + cmd('Get', 5, { target: './DevDetail/SwV' })), dev(2, hdrSt(1, 1) + st(2, 1, 5, 'Get', 404)), srv(2, hdrSt(1, 2)),
  ]), { kind: 'Get', target: './DevDetail/SwV' }, '200', 'MDM-CMD-GET-002', 'get-results/get-leaf-and-interior');
  expect([wrong.verdict, wrong.consequenceOf]).toEqual(['fail', undefined]);
});

test('6.4 a client that crashes mid-session (crashes-on-exec): one MDM-SES-012 failure naming the signal and the round; every "no Status" after it is its consequence', async () => {
  // Defective: a client that died on the server's Exec was reported once per command it never answered (a "no
  // Status" failure under each scenario rule), and the crash itself under no rule at all.
  const client = await startEmbeddedClient({ pki, faults: [faultByName(DEVICE_FAULTS, 'crashes-on-exec')] });
  try {
    const result = await runScenario(commandsOverRounds, client.target, NO_FEATURES);
    const roots = rootFailures(result.findings);
    expect(roots.map((f) => f.id)).toEqual(['MDM-SES-012']);
    expect(roots[0].evidence).toMatch(/^the client was killed by SIGABRT in round trip \d+, without answering the server's MsgID \d+ \([^)]*Exec[^)]*\)/);
    const unanswered = result.findings.filter((f) => f.verdict === 'fail' && /returned no Status/.test(f.evidence));
    expect(unanswered.length).toBeGreaterThan(0);
    for (const f of unanswered) expect(f.consequenceOf, f.evidence).toBe('MDM-SES-012');
    expect(rowVerdict('client', result.findings, 'MDM-SES-012')).toBe('fail');
    for (const f of unanswered) expect(rowVerdict('client', result.findings, f.id), f.id).not.toBe('fail');
  } finally {
    await client.stop();
  }
});

test('6.5 a server that parses SessionIDs as numbers fails MDM-ROB-007 once per session, by name, in robustness/sessionid-forms; that session\'s other failures are consequences', async () => {
  // Defective: a SessionID the server could not parse broke every message of its session, and each check reported
  // its own failure (no reply: MDM-TERM-003, and so on) beside or instead of the one cause, MDM-ROB-007.
  const server = await startEmbeddedServer({ pki, faults: [faultByName(SERVER_FAULTS, 'sessionid-parsed-as-number')] });
  try {
    const result = await runScenario(sessionIdsAreOpaque, server.target, EMBEDDED_FEATURES);
    expect(result.scenario).toBe('robustness/sessionid-forms');
    const sessions = failuresBySession(result);
    expect(sessions.size).toBeGreaterThan(0);
    let consequences = 0;
    for (const [session, failures] of sessions) {
      expect(rootFailures(failures).map((f) => f.id), `session ${session}`).toEqual(['MDM-ROB-007']);
      for (const f of failures.filter((x) => x.id !== 'MDM-ROB-007')) expect(f.consequenceOf, f.evidence).toBe('MDM-ROB-007');
      consequences += failures.length - 1;
    }
    expect(consequences).toBeGreaterThan(0); // the broken sessions did fail other checks, all listed under the root
    const failed = about(result.findings, 'MDM-ROB-007').filter((f) => f.verdict === 'fail').map((f) => f.evidence);
    expect(failed.length).toBe(sessions.size);
    expect(failed.some((e) => e.startsWith('a SessionID that is no number at all ("x-9"): the session failed'))).toBe(true);
    expect(rootFailures(result.findings).every((f) => f.id === 'MDM-ROB-007')).toBe(true);
    expect(rowVerdict('server', result.findings, 'MDM-ROB-007')).toBe('fail');
  } finally {
    await server.stop();
  }
});
