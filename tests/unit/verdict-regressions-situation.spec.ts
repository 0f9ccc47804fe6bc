/**
 * Verdict regressions, first theme: a rule passes only where its situation arose, and a rule that can fail does.
 * Each test builds the example that showed the defect (a transcript of SyncML messages, or a short scenario run
 * against a reference peer with a fault or knob) and asserts the verdict the catalogue calls for; a comment names
 * the defective behaviour each one would have caught.
 */
import { expect, test } from '@playwright/test';
import { DEVICE_FAULTS } from '../../harness/device/faults';
import { startEmbeddedClient } from '../../harness/iut/embedded-client';
import { EMBEDDED_CREDENTIALS, EMBEDDED_FEATURES, startEmbeddedServer } from '../../harness/iut/embedded-server';
import { createTestPki, type TestPki } from '../../harness/pki';
import { faultByName } from '../../harness/protocol/fault';
import { grade } from '../../harness/report/verdicts';
import { commandsOverRounds } from '../../harness/scenarios/client/management';
import { unreadableReplies } from '../../harness/scenarios/client/robustness';
import { package1 } from '../../harness/scenarios/client/setup';
import { DEFAULT_CLIENT_NODES, oneSession } from '../../harness/scenarios/client/target';
import { runScenario, ScenarioLog, type Feature } from '../../harness/scenarios/scenario';
import { md5Challenge } from '../../harness/scenarios/server/auth';
import { malformedRequests, windowsHabits } from '../../harness/scenarios/server/robustness';
import { SERVER_FAULTS, SERVER_VARIANTS } from '../../harness/server/faults';
import { atomic, get, replace } from '../../harness/syncml';
import {
  about, alert, chunkedObject, clientChecks, clientTarget, cmd, container, dev, hdrSt, package1Body, package1Statuses, results, rootFailures, rowVerdict,
  serverChecks, sessionOf, srv, st,
} from './verdict-regressions-kit';

const POLICY = './Vendor/MSFT/Policy/Config/Browser/AllowCookies';
const NO_FEATURES: ReadonlySet<Feature> = new Set();

let pki: TestPki;
test.beforeAll(() => {
  pki = createTestPki({ keyType: 'ec' }); // EC keys: the identities the scenarios mint take milliseconds
});

test('4.1 MDM-STS-024: the server reply to the device message carrying 214 is judged; a new Replace right after it fails', () => {
  // Defective: the check began judging with the exchange after the one whose device message carried the 214, so
  // the server's very reply to it (here the last message of the session) was never looked at and the rule passed.
  const cancelledThen = (reply: string) => sessionOf([
    dev(1, package1Body()),
    srv(1, package1Statuses() + cmd('Replace', 5, { target: POLICY, data: '1' })),
    dev(2, hdrSt(1, 1) + st(2, 1, 5, 'Replace', 214)),
    srv(2, reply),
  ]);

  const defiant = serverChecks(cancelledThen(hdrSt(1, 2) + cmd('Replace', 2, { target: POLICY, data: '0' })));
  const [finding] = about(defiant, 'MDM-STS-024');
  expect(about(defiant, 'MDM-STS-024')).toHaveLength(1);
  expect(finding.verdict).toBe('fail');
  expect(finding.evidence).toMatch(/^msg 4 \(server->device\) \/SyncBody: still sends Replace after the device answered 214 in msg 3/);
  // A SHOULD (WOMA 214 row): a warning in the report, which fails a run only under --strict.
  expect(grade(finding)).toBe('warn');
  expect(rowVerdict('server', defiant, 'MDM-STS-024')).toBe('warn');

  const obedient = serverChecks(cancelledThen(hdrSt(1, 2)));
  expect(about(obedient, 'MDM-STS-024').map((f) => f.verdict)).toEqual(['pass']);
});

test('4.2 MDM-SES-009 can fail: new commands before the device finished its answers fail the server; a device that closes its package unanswered is failed itself (client mode)', async () => {
  // Defective: the check failed the server only when the device's message carried Final with statuses still missing
  // (the device's own fault, MDM-STS-004) and never when the device's package was still open, the one case the
  // rule is about: a conforming server could fail, a violating one could not.
  const GETS = cmd('Get', 5, { target: './DevDetail/SwV' }) + cmd('Get', 6, { target: './DevDetail/FwV' });
  const answersGet5 = hdrSt(1, 1) + st(2, 1, 5, 'Get', 200) + results(3, 1, 5, { source: './DevDetail/SwV', data: '10.0.22631' });
  const newPackage = srv(2, hdrSt(1, 2) + cmd('Replace', 2, { target: POLICY, data: '1' }));

  // Server mode, from a transcript (no fault of the reference server breaks this rule): the device's message has no
  // Final, so its answer to Get 6 is still to come, and the server already starts a new package.
  const impatient = serverChecks(sessionOf([dev(1, package1Body()), srv(1, package1Statuses() + GETS), dev(2, answersGet5, false), newPackage]));
  const ses009 = about(impatient, 'MDM-SES-009');
  expect(ses009.map((f) => f.verdict)).toEqual(['fail']);
  expect(ses009[0].evidence).toContain('msg 4 (server->device) /SyncBody: new commands while the device, whose package is not finished, has not yet answered Get 6 of msg 1');

  // The same server message after a device package closed with Final but without the Status for Get 6: the device
  // broke MDM-STS-004; the server, told the package was complete, did nothing wrong.
  const unanswered = sessionOf([dev(1, package1Body()), srv(1, package1Statuses() + GETS), dev(2, answersGet5), newPackage]);
  expect(about(serverChecks(unanswered), 'MDM-SES-009').map((f) => f.verdict)).toEqual(['pass']);
  const device = clientChecks(unanswered);
  expect(about(rootFailures(device), 'MDM-STS-004').map((f) => f.evidence)).toEqual(['msg 2 (server->device) /SyncBody/Get[2]: the device never answered this Get (CmdID 6) with a Status']);
  expect(about(device, 'MDM-SES-010').filter((f) => f.verdict === 'fail').map((f) => f.consequenceOf)).toEqual(['MDM-STS-004']);

  // The device knob: the reference device with member-status-missing drops the Status of an Atomic's last member.
  // Client mode fails the device (MDM-STS-004); the same wire judged in server mode does not blame the server, which
  // started its next round only after the device's Final.
  const client = await startEmbeddedClient({ pki, faults: [faultByName(DEVICE_FAULTS, 'member-status-missing')] });
  try {
    const log = new ScenarioLog();
    const n = DEFAULT_CLIENT_NODES;
    const run = await oneSession(client.target, log, { rounds: [[atomic(replace(n.writableIntLeaf!, '9', { format: 'int' }), replace(n.writableChrLeaf!, 'nine'))], [get(n.writableChrLeaf!)]] }, { check: 'regression' });
    expect(rootFailures(log.findings).map((f) => f.id)).toContain('MDM-STS-004');
    expect(about(rootFailures(log.findings), 'MDM-STS-004')[0].evidence).toMatch(/\/SyncBody\/Atomic\/Replace\[2\]: the device never answered this Replace/);
    expect(about(serverChecks(run.view), 'MDM-SES-009').map((f) => f.verdict)).toEqual(['pass']);
  } finally {
    await client.stop();
  }
});

test('4.3 MDM-LO-016: the Target of later chunks is examined, not only the first chunk\'s', () => {
  // Defective: MDM-LO-016 looked at the first chunk only; a later chunk without its Target was never judged by it
  // (it was taken for a different object instead, see 5.8).
  const findings = serverChecks(chunkedObject({}));
  const lo016 = about(findings, 'MDM-LO-016');
  expect(lo016.map((f) => [f.verdict, f.evidence.split(':')[0]])).toEqual([['warn', 'msg 4 (server->device) /SyncBody/Replace/Item']]);
  expect(lo016[0].evidence).toContain(`a continuation chunk of ${POLICY} without its Target`);
  expect(rowVerdict('server', findings, 'MDM-LO-016')).toBe('warn');
  // Every chunk addressed: the rule was looked at on the later chunk too, and holds.
  expect(about(serverChecks(chunkedObject({ target: POLICY })), 'MDM-LO-016').map((f) => f.verdict)).toEqual(['pass']);
});

test('4.4 MDM-CMD-SEQ-004: members of an Atomic do not exercise it when no Sequence was sent', () => {
  // Defective: any nested command marked MDM-CMD-SEQ-004 exercised, so a session with an Atomic and no Sequence
  // reported the Sequence rule passed.
  const withContainer = (kind: 'Atomic' | 'Sequence', answerMember7: boolean) => clientChecks(sessionOf([
    dev(1, package1Body()),
    srv(1, package1Statuses() + container(kind, 5, cmd('Replace', 6, { target: POLICY, data: '1' }), cmd('Replace', 7, { target: './Vendor/MSFT/Policy/Config/Browser/AllowDoNotTrack', data: '1' }))),
    dev(2, hdrSt(1, 1) + st(2, 1, 5, kind, 200) + st(3, 1, 6, 'Replace', 200) + (answerMember7 ? st(4, 1, 7, 'Replace', 200) : '')),
    srv(2, hdrSt(1, 2)),
  ]));

  const atomicOnly = withContainer('Atomic', true);
  expect(about(atomicOnly, 'MDM-CMD-SEQ-004')).toEqual([]);
  expect(rowVerdict('client', atomicOnly, 'MDM-CMD-SEQ-004')).toBe('inconclusive');
  expect(about(atomicOnly, 'MDM-STS-004').map((f) => f.verdict)).toEqual(['pass']);

  expect(about(withContainer('Sequence', true), 'MDM-CMD-SEQ-004').map((f) => f.verdict)).toEqual(['pass']);
  const memberUnanswered = about(withContainer('Sequence', false), 'MDM-CMD-SEQ-004');
  expect(memberUnanswered.map((f) => [f.verdict, f.evidence])).toEqual([['fail', 'msg 2 (server->device) /SyncBody/Sequence/Replace[2]: the device never answered this Replace (CmdID 7) with a Status']]);
});

test('4.5 MDM-LO-009 / MDM-LO-019: not exercised merely because MaxMsgSize was advertised, when no large object was sent', () => {
  // Defective: once the device advertised MaxMsgSize, every reply marked MDM-LO-019 and MDM-LO-009 exercised, so a
  // server that never had anything large to send passed both.
  const advertising = (maxMsgSize: string, reply: string) => serverChecks(sessionOf([
    { xml: dev({ msgID: 1, meta: { MaxMsgSize: maxMsgSize } }, package1Body()) },
    { xml: reply },
  ]));
  const small = advertising('10000', srv(1, package1Statuses()));
  for (const id of ['MDM-LO-009', 'MDM-LO-019']) {
    expect(about(small, id), id).toEqual([]);
    expect(rowVerdict('server', small, id), id).toBe('inconclusive');
  }

  // A 1200-byte value sent whole to a device that takes messages of at most 600 bytes: both rules arise and fail.
  const whole = advertising('600', srv(1, package1Statuses() + cmd('Replace', 5, { target: POLICY, data: 'x'.repeat(1200) })));
  expect(about(whole, 'MDM-LO-019').map((f) => f.verdict)).toEqual(['fail']);
  expect(about(whole, 'MDM-LO-009').map((f) => [f.verdict, f.evidence])).toEqual([
    ['fail', 'msg 2 (server->device) /SyncBody/Replace/Item: a Replace of 1343 bytes, larger than MaxMsgSize 600, is sent whole instead of in chunks'],
  ]);
});

test('4.6 MDM-XML-008: the device sends msft:originalerror on the Data of a failure Status, and a server that refuses it fails', async () => {
  // Defective: the robustness scenario only declared xmlns:msft on SyncBody and never put msft:originalerror on a
  // Status Data, so a server that refuses the attribute (a parser that is not namespace-aware) passed.
  const clean = await startEmbeddedServer({ pki });
  try {
    const result = await runScenario(windowsHabits, clean.target, EMBEDDED_FEATURES);
    expect(about(result.findings, 'MDM-XML-008').map((f) => f.verdict)).toEqual(['pass']);
    const sent = (result.transcripts as { request: { body: Buffer } }[][]).flat().map((x) => x.request.body.toString('utf8'));
    expect(sent.some((body) => /<Data msft:originalerror="0x86000002">404<\/Data>/.test(body))).toBe(true);
  } finally {
    await clean.stop();
  }
  const strict = await startEmbeddedServer({ pki, faults: [faultByName(SERVER_FAULTS, 'rejects-msft-attributes')] });
  try {
    const result = await runScenario(windowsHabits, strict.target, EMBEDDED_FEATURES);
    const xml008 = about(result.findings, 'MDM-XML-008');
    expect(xml008.map((f) => f.verdict)).toEqual(['fail']);
    expect(xml008[0].evidence).toMatch(/^xmlns:msft on SyncBody and msft:originalerror on the Data of a 404 Status: the session failed/);
  } finally {
    await strict.stop();
  }
  // Without --control no failure Status can be provoked: not judged, and said so.
  const uncontrolled = await startEmbeddedServer({ pki });
  try {
    const result = await runScenario(windowsHabits, { ...uncontrolled.target, queue: undefined }, EMBEDDED_FEATURES);
    expect(about(result.findings, 'MDM-XML-008').map((f) => f.verdict)).toEqual(['inconclusive']);
  } finally {
    await uncontrolled.stop();
  }
});

test('4.7 MDM-ROB-006: judged by the Status 400/412 for the malformed command, not by any HTTP status below 500', async () => {
  // Defective: a malformed request passed whenever the HTTP status was below 500, so a server that answered an
  // element that is no command (or an Alert without its code) with Status 200 passed.
  const lax = await startEmbeddedServer({ pki, faults: [faultByName(SERVER_FAULTS, 'malformed-command-answered-200')] });
  try {
    const { findings } = await runScenario(malformedRequests, lax.target, EMBEDDED_FEATURES);
    const failed = about(findings, 'MDM-ROB-006').filter((f) => f.verdict === 'fail').map((f) => f.evidence);
    expect(failed).toContain('an element that is not a DM command: answered Status 200; expected 400 or 412');
    expect(failed).toContain('an Alert without its code: answered Status 200; expected 400 or 412');
    expect(rowVerdict('server', findings, 'MDM-ROB-006')).toBe('fail');
  } finally {
    await lax.stop();
  }
  const clean = await startEmbeddedServer({ pki });
  try {
    const { findings } = await runScenario(malformedRequests, clean.target, EMBEDDED_FEATURES);
    expect(about(findings, 'MDM-ROB-006').filter((f) => f.verdict !== 'pass')).toEqual([]);
    expect(about(findings, 'MDM-ROB-006').map((f) => f.evidence)).toContain('an Alert without CmdID: answered Status 400');
  } finally {
    await clean.stop();
  }
});

test('4.8 MDM-ROB-009 (client): a client that exits non-zero after an empty HTTP 200 fails (warn, SHOULD) instead of passing', async () => {
  // Defective: any client that did not hang passed, whatever its exit status: one that crashed on the empty reply
  // (exit 1, a signal) was reported as treating it as the end of the session.
  expect(faultByName(DEVICE_FAULTS, 'crashes-on-empty-reply').violates).toEqual(['MDM-ROB-009']);
  const crashing = await startEmbeddedClient({ pki, faults: [faultByName(DEVICE_FAULTS, 'crashes-on-empty-reply')] });
  try {
    const { findings } = await runScenario(unreadableReplies, crashing.target, NO_FEATURES);
    const rob009 = about(findings, 'MDM-ROB-009');
    expect(rob009.map((f) => f.verdict)).toEqual(['fail']);
    expect(rob009[0].evidence).toMatch(/^the empty HTTP 200 reply at the end of the session made the client fail: trigger signal SIGABRT/);
    expect(grade(rob009[0])).toBe('warn');
    expect(rowVerdict('client', findings, 'MDM-ROB-009')).toBe('warn');
  } finally {
    await crashing.stop();
  }
  const clean = await startEmbeddedClient({ pki });
  try {
    const { findings } = await runScenario(unreadableReplies, clean.target, NO_FEATURES);
    expect(about(findings, 'MDM-ROB-009').map((f) => [f.verdict, f.evidence])).toEqual([['pass', 'the empty HTTP 200 reply ended the session and the client exited 0']]);
  } finally {
    await clean.stop();
  }
});

test('4.9 MDM-AUTH-015 / MDM-AUTH-016 (server): a refused wrong password alone does not pass MDM-AUTH-015; MDM-AUTH-016 is judged', async () => {
  // Defective: MDM-AUTH-015 passed as soon as a wrong password was refused, so a server that refuses every digest
  // (a wrong formula) passed; MDM-AUTH-016 (decoded nonce bytes, not the base64 text) was not judged in server mode.

  // A server whose digest differs from the formula's: here it checks another password than the one the device holds,
  // so it refuses the right credentials as well as the wrong ones.
  const refusesAll = await startEmbeddedServer({ pki });
  try {
    const target = { ...refusesAll.target, credentials: { ...EMBEDDED_CREDENTIALS, password: `${EMBEDDED_CREDENTIALS.password}-elsewhere` } };
    const { findings } = await runScenario(md5Challenge, target, EMBEDDED_FEATURES);
    expect(about(findings, 'MDM-AUTH-015').map((f) => [f.verdict, f.evidence])).toEqual([
      ['fail', 'credentials made as MDM-AUTH-015 prescribes, with the right password, were refused'],
    ]);
    expect(about(findings, 'MDM-AUTH-016').map((f) => f.verdict)).toEqual(['inconclusive']);
  } finally {
    await refusesAll.stop();
  }
  const acceptsAny = await startEmbeddedServer({ pki, faults: [faultByName(SERVER_FAULTS, 'accepts-wrong-credentials')] });
  try {
    const { findings } = await runScenario(md5Challenge, acceptsAny.target, EMBEDDED_FEATURES);
    expect(about(findings, 'MDM-AUTH-015').map((f) => f.verdict)).toEqual(['fail']);
    expect(about(findings, 'MDM-AUTH-016').map((f) => [f.verdict, f.evidence])).toEqual([
      ['fail', 'a digest over the nonce\'s base64 text was accepted as well as the right one'],
    ]);
  } finally {
    await acceptsAny.stop();
  }
  const clean = await startEmbeddedServer({ pki });
  try {
    const { findings } = await runScenario(md5Challenge, clean.target, EMBEDDED_FEATURES);
    expect(about(findings, 'MDM-AUTH-015').map((f) => [f.verdict, f.evidence])).toEqual([['pass', 'the right credentials were accepted and a wrong password refused']]);
    expect(about(findings, 'MDM-AUTH-016').map((f) => f.verdict)).toEqual(['pass']);
  } finally {
    await clean.stop();
  }
});

test('4.10 MDM-TERM-004, MDM-SES-004, MDM-SES-010 (client): a device message answered with 1222 is not skipped; a device that never closes its package fails', () => {
  // Defective: a device message without Final answered by the server's Alert 1222 was skipped as "the device
  // continues its package", and nothing noticed when the device then never sent the rest: the session passed.
  const pull = (msgID: number, statusFor: number) => srv(msgID, hdrSt(1, statusFor) + alert(2, 1222), false);

  // Package 1 never closed: the device's only message has no Final, the server asks for the rest, nothing comes.
  const pkg1 = clientChecks(sessionOf([dev(1, package1Body(), false), pull(1, 1)]));
  const term004 = about(rootFailures(pkg1), 'MDM-TERM-004');
  expect(term004.map((f) => f.evidence)).toEqual([
    'msg 1 (device->server) /SyncBody: a message without Final promises more of the package, yet the device sent nothing more after the server asked for it (Alert 1222)',
  ]);
  expect(about(pkg1, 'MDM-SES-004').filter((f) => f.verdict === 'fail').map((f) => f.consequenceOf)).toEqual(['MDM-TERM-004']);
  expect(rowVerdict('client', pkg1, 'MDM-TERM-004')).toBe('fail');

  // A later package (the answer to a Get) left open the same way: MDM-SES-010 follows from it.
  const later = clientChecks(sessionOf([
    dev(1, package1Body()),
    srv(1, package1Statuses() + cmd('Get', 5, { target: './DevDetail/SwV' })),
    dev(2, hdrSt(1, 1) + st(2, 1, 5, 'Get', 200) + results(3, 1, 5, { source: './DevDetail/SwV', data: '10.0.22631' }), false),
    pull(2, 2),
  ]));
  expect(about(rootFailures(later), 'MDM-TERM-004')).toHaveLength(1);
  expect(about(later, 'MDM-SES-010').filter((f) => f.verdict === 'fail').map((f) => f.consequenceOf)).toEqual(['MDM-TERM-004']);

  // The device that does send the rest, closed with Final: no failure of the three.
  const completed = clientChecks(sessionOf([dev(1, package1Body(), false), pull(1, 1), dev(2, hdrSt(1, 1) + alert(2, 1224, { meta: { Type: 'com.microsoft/MDM/LoginStatus' }, data: 'user' })), srv(2, hdrSt(1, 2))]));
  for (const id of ['MDM-TERM-004', 'MDM-SES-004', 'MDM-SES-010']) expect(about(rootFailures(completed), id), id).toEqual([]);
});

test('4.11 latent: MDM-AUTH-008 only on 212, MDM-STS-022 only on 202, MDM-CMD-ALT-009 absent is inconclusive, MDM-AUTH-018 with a padded Type', async () => {
  // Defective: MDM-AUTH-008 (212 = authenticated for the session) passed on a 200 too; MDM-STS-022 passed on a
  // 200 for work the device did at once; a package 1 without the LoginStatus alert (a MAY) was reported on
  // MDM-CMD-ALT-009 instead of leaving it unjudged; an md5 Chal whose Type had white space around it was not
  // recognised, so a Chal without NextNonce escaped MDM-AUTH-018.

  // MDM-AUTH-008 (catalogue: "212 on the SyncHdr means authenticated for the rest of the session"); a server that
  // answers 200 and authenticates every message (a conforming variant) exercises MDM-AUTH-009 instead.
  const perMessage = await startEmbeddedServer({ pki, faults: [SERVER_VARIANTS.find((v) => v.name === 'authenticates-each-message')!] });
  try {
    const { findings } = await runScenario(md5Challenge, perMessage.target, EMBEDDED_FEATURES);
    expect(about(findings, 'MDM-AUTH-008').filter((f) => f.check === md5Challenge.id).map((f) => f.verdict)).toEqual(['inconclusive']);
    expect(about(findings, 'MDM-AUTH-009').filter((f) => f.check === md5Challenge.id).map((f) => f.verdict)).toEqual(['pass']);
  } finally {
    await perMessage.stop();
  }
  const per212 = await startEmbeddedServer({ pki });
  try {
    const { findings } = await runScenario(md5Challenge, per212.target, EMBEDDED_FEATURES);
    // The scenario's own judgement (the passive checks may add theirs on the same row).
    expect(about(findings, 'MDM-AUTH-008').filter((f) => f.check === md5Challenge.id).map((f) => [f.verdict, f.evidence])).toEqual([['pass', 'answered 212; the next message, without Cred, was answered 200']]);
  } finally {
    await per212.stop();
  }

  // MDM-STS-022 (a MAY): the "long-running" node of the map completes at once and is answered 200.
  const quick = await startEmbeddedClient({ pki });
  try {
    const target = { ...quick.target, nodes: { asyncExecutableNode: DEFAULT_CLIENT_NODES.executableNode!, asyncExecutableData: '' } };
    const { findings } = await runScenario(commandsOverRounds, target, NO_FEATURES);
    const sts022 = about(findings, 'MDM-STS-022');
    expect(sts022.map((f) => f.verdict)).toEqual(['inconclusive']);
    expect(sts022[0].evidence).toMatch(/answered 200, as though the work were done; 202 \(accepted for asynchronous completion\) did not arise$/);
    expect(rowVerdict('client', findings, 'MDM-STS-022')).toBe('inconclusive');
  } finally {
    await quick.stop();
  }

  // MDM-CMD-ALT-009 (a MAY): a client whose package 1 carries no LoginStatus alert.
  const { target: silent, stop } = clientTarget(pki, async (device, url) => {
    const run = await device.runSession(url, { loginStatus: false });
    return { exitCode: run.end.reason === 'completed' ? 0 : 1 };
  });
  try {
    const { findings } = await runScenario(package1, silent, NO_FEATURES);
    expect(about(findings, 'MDM-CMD-ALT-009').map((f) => f.verdict)).toEqual(['inconclusive']);
    expect(rowVerdict('client', findings, 'MDM-CMD-ALT-009')).toBe('inconclusive');
  } finally {
    await stop();
  }

  // MDM-AUTH-018: `<Type> syncml:auth-md5 </Type>` is the md5 scheme; its Chal lacks NextNonce.
  const chal = '<Chal><Meta><Type xmlns="syncml:metinf"> syncml:auth-md5 </Type><Format xmlns="syncml:metinf">b64</Format></Meta></Chal>';
  const padded = serverChecks(sessionOf([dev(1, package1Body()), srv(1, hdrSt(1, 1, 407, { chal }))]));
  expect(about(padded, 'MDM-AUTH-018').map((f) => [f.verdict, f.evidence])).toEqual([
    ['fail', 'msg 2 (server->device) /SyncBody/Status/Chal: a syncml:auth-md5 Chal needs Meta Format b64 and a base64 NextNonce'],
  ]);
});
