/**
 * Verdict regressions, second theme: no failure for behaviour the catalogue allows, and a deviation reported under
 * the right id. Each test builds the example that showed the defect and asserts the verdict the catalogue (section 4
 * ambiguities A-nn included) calls for; a comment names the defective behaviour each one would have caught.
 */
import { expect, test } from '@playwright/test';
import { createServer } from 'node:net';
import type { Finding } from '../../harness/checks/finding';
import { trimmed } from '../../harness/checks/session';
import type { DeviceFault } from '../../harness/device/faults';
import type { ReferenceDevice } from '../../harness/device/reference-device';
import { EMBEDDED_CLIENT_CREDENTIALS } from '../../harness/iut/embedded-client';
import { EMBEDDED_FEATURES, startEmbeddedServer } from '../../harness/iut/embedded-server';
import { createTestPki, type TestPki } from '../../harness/pki';
import { decodeNonce, md5Digest } from '../../harness/protocol/auth';
import { md5Challenge as clientMd5Challenge } from '../../harness/scenarios/client/auth';
import { expectValue, resultsFor, sentCommand } from '../../harness/scenarios/client/expect';
import { package1 } from '../../harness/scenarios/client/setup';
import { sessionsOf } from '../../harness/scenarios/client/target';
import { runScenario, type Feature } from '../../harness/scenarios/scenario';
import { mutualTls } from '../../harness/scenarios/server/auth';
import { minimalSession } from '../../harness/scenarios/server/sessions';
import { SetupError } from '../../harness/scenarios/server/target';
import { SERVER_WEAKNESSES } from '../../harness/server/faults';
import { codeOf, metaValue, parseSyncML, type Status } from '../../harness/syncml';
import {
  about, alert, CHUNKED_NODE, chunkedObject, clientChecks, clientTarget, cmd, dev, hdrSt, package1Body, package1Statuses,
  REQUEST_PENDING, results, rootFailures, rowVerdict, SERVER_URL, serverChecks, serverTarget, sessionOf, srv, st, startMiniServer,
} from './verdict-regressions-kit';

const SWV = './DevDetail/SwV';
const NO_FEATURES: ReadonlySet<Feature> = new Set();
const failuresOf = (findings: readonly Finding[], id: string) => about(findings, id).filter((f) => f.verdict === 'fail');

let pki: TestPki;
test.beforeAll(() => {
  pki = createTestPki({ keyType: 'ec' });
});

test('5.1 client MDM-HDR-010: a header Source other than the client certificate\'s CN is no failure', () => {
  // Defective: the client's header Source was compared with the CN of its certificate and failed MDM-HDR-010 when
  // they differed, a rule the catalogue does not have (the Source is the device id, tied to ./DevInfo/DevId).
  const view = sessionOf([dev(1, package1Body()), srv(1, package1Statuses())], { serverUrl: SERVER_URL, deviceId: 'CN-OF-THE-CLIENT-CERTIFICATE' });
  const findings = clientChecks(view);
  expect(about(findings, 'MDM-HDR-010').map((f) => f.verdict)).toEqual(['pass']);
  expect(about(findings, 'MDM-HDR-012').map((f) => f.verdict)).toEqual(['pass']);
  expect(rootFailures(findings)).toEqual([]);
});

test('5.2 HTTP 429/503 with Retry-After and an empty body: the device waits and resends; no MDM-TRN-005/TERM-003/STS-012 failure; MDM-TRN-022 warns if it persists', async () => {
  // Defective: the device took the throttling reply for the server's answer: an empty body in no DM media type failed
  // MDM-TERM-003, MDM-STS-012 and MDM-TRN-005, and the session ended there.
  const throttle = (status: number) => ({ status, headers: { 'retry-after': '0' } });

  const once = await startMiniServer(pki, (_req, n) => (n === 0 ? throttle(503) : undefined));
  try {
    const result = await runScenario(minimalSession, serverTarget(pki, once.url), NO_FEATURES);
    for (const id of ['MDM-TRN-005', 'MDM-TERM-003', 'MDM-STS-012']) expect(failuresOf(result.findings, id), id).toEqual([]);
    expect(rootFailures(result.findings)).toEqual([]);
    expect(about(result.findings, 'MDM-TRN-022').map((f) => f.verdict)).toEqual(['pass']);
    // The same package 1 went again after the wait, and the session went through.
    const [throttled, resent] = (result.transcripts[0] as { request: { body: Buffer }; response?: { status?: number } }[]);
    expect(throttled.response?.status).toBe(503);
    expect(resent.request.body.equals(throttled.request.body)).toBe(true);
    expect(about(result.findings, 'MDM-SES-012').map((f) => f.verdict)).toEqual(['pass']);
  } finally {
    await once.stop();
  }

  const always = await startMiniServer(pki, () => throttle(429));
  try {
    const result = await runScenario(minimalSession, serverTarget(pki, always.url), NO_FEATURES);
    const exchanges = result.transcripts[0] as unknown[];
    expect(exchanges).toHaveLength(4); // the first try and three bounded retries, then the device gives up
    for (const id of ['MDM-TRN-005', 'MDM-TERM-003', 'MDM-STS-012']) expect(failuresOf(result.findings, id), id).toEqual([]);
    const trn022 = about(result.findings, 'MDM-TRN-022');
    expect(trn022.map((f) => f.verdict)).toEqual(['warn']);
    expect(trn022[0].evidence).toContain('still throttled (HTTP 429, Retry-After 0) when the device gave up');
    expect(rowVerdict('server', result.findings, 'MDM-TRN-022')).toBe('warn');
  } finally {
    await always.stop();
  }
});

test('5.3 A-34: no CmdRef on the 400 Status for a command without CmdID does not fail MDM-STS-001', () => {
  // Defective: the content model's "Status lacks CmdRef" was a MDM-STS-001 failure even where the answered command
  // had no CmdID to name (WOMA: "returns blank in the status element"; A-34 accepts an empty or absent CmdRef).
  const answered = (peerLacksCmdID: boolean) => clientChecks(sessionOf([
    dev(1, package1Body()),
    srv(1, package1Statuses() + cmd('Get', peerLacksCmdID ? undefined : 5, { target: SWV })),
    dev(2, hdrSt(1, 1) + st(2, 1, '', 'Get', 400, { noCmdRef: true })),
    srv(2, hdrSt(1, 2)),
  ]));
  const findings = answered(true);
  expect(failuresOf(findings, 'MDM-STS-001')).toEqual([]);
  expect(failuresOf(findings, 'MDM-ID-006')).toEqual([]);
  expect(rowVerdict('client', findings, 'MDM-STS-001')).toBe('pass');
  // The same Status when the Get had CmdID 5: it names no command, a real deviation.
  expect(failuresOf(answered(false), 'MDM-STS-001').map((f) => f.evidence)).toEqual(['msg 3 (device->server) /SyncBody/Status[2]/CmdRef: Status lacks CmdRef']);
});

test('5.4 A-15: a continuation message without VerProto warns MDM-HDR-003 instead of failing it', () => {
  // Defective: every message without VerProto failed MDM-HDR-003, though the catalogue requires it only in the first
  // message of a package and makes its absence elsewhere a warning.
  const spread = (secondHasVerProto: boolean, firstHasVerProto = true) => clientChecks(sessionOf([
    dev({ msgID: 1, noVerProto: !firstHasVerProto }, package1Body(), false),
    srv(1, package1Statuses() + alert(5, 1222), false),
    dev({ msgID: 2, noVerProto: !secondHasVerProto }, hdrSt(1, 1) + alert(2, 1226, { meta: { Type: 'com.microsoft.mdm:EnrollmentStatus' }, data: 'ok' })),
    srv(2, hdrSt(1, 2) + st(2, 2, 2, 'Alert', 200)),
  ]));
  const continuation = about(spread(false), 'MDM-HDR-003');
  expect(continuation.map((f) => f.verdict)).toEqual(['warn']);
  expect(continuation[0].evidence).toMatch(/^msg 3 \(device->server\) \/SyncHdr\/VerProto: a continuation message without VerProto.*\(A-15\)$/);
  expect(rowVerdict('client', spread(false), 'MDM-HDR-003')).toBe('warn');
  // The first message of the package without it: a failure, as the catalogue says.
  expect(failuresOf(spread(true, false), 'MDM-HDR-003').map((f) => f.evidence)).toEqual(['msg 1 (device->server) /SyncHdr/VerProto: SyncHdr lacks VerProto']);
});

test('5.5 a Status answering a Status (MDM-STS-013, MDM-AUTH-033\'s 406) does not fail MDM-ID-006', () => {
  // Defective: Statuses were left out of the index of commands a Status may answer, so the device's 406 to the
  // server's challenge Status (CmdRef = that Status's CmdID) failed MDM-ID-006 as "no command with CmdID 1".
  const chal = '<Chal><Meta><Type xmlns="syncml:metinf">syncml:auth-MAC</Type><Format xmlns="syncml:metinf">b64</Format><NextNonce xmlns="syncml:metinf">TmV4dE5vbmNl</NextNonce></Meta></Chal>';
  const findings = clientChecks(sessionOf([
    dev(1, package1Body()),
    srv(1, hdrSt(1, 1, 401, { chal })),
    dev(2, hdrSt(1, 1) + st(2, 1, 1, 'Status', 406) + package1Body().replace(/<CmdID>(\d)<\/CmdID>/g, (_m, n: string) => `<CmdID>${Number(n) + 2}</CmdID>`)),
    srv(2, package1Statuses(2)),
  ]));
  expect(failuresOf(findings, 'MDM-ID-006')).toEqual([]);
  expect(failuresOf(findings, 'MDM-STS-015')).toEqual([]);
  expect(about(findings, 'MDM-ID-006').map((f) => f.verdict)).toEqual(['pass']);
});

test('5.6 a Results without MsgRef (message 1, MDM-ID-007) does not fail MDM-CMD-GET-002 (resultsFor, expectValue)', () => {
  // Defective: the client scenario helpers matched a Results by the MsgRef text, so one without MsgRef (which refers
  // to message 1) was never found: "answered 200 and returned no value", a MDM-CMD-GET-002 failure.
  const view = sessionOf([
    dev(1, package1Body()),
    srv(1, package1Statuses() + cmd('Get', 5, { target: SWV })),
    dev(2, hdrSt(1, 1) + st(2, 1, 5, 'Get', 200) + results(3, undefined, 5, { source: SWV, data: '10.0.22631' })),
    srv(2, hdrSt(1, 2)),
  ]);
  const sent = sentCommand(view, { kind: 'Get', target: SWV })!;
  expect(resultsFor(view, sent).get(SWV)?.data).toBe('10.0.22631');
  const value = expectValue(view, { kind: 'Get', target: SWV }, SWV, '10.0.22631', 'MDM-CMD-GET-002', 'regression', 'the value the device reports');
  expect([value.verdict, value.evidence]).toEqual(['pass', 'msg 3 (device->server) /SyncBody/Results/Item/Data: ./DevDetail/SwV reads "10.0.22631", the value the device reports']);
  expect(about(clientChecks(view), 'MDM-CMD-GET-002').map((f) => f.verdict)).toEqual(['pass']);
});

test('5.7 a client that starts a fresh session after an unreadable reply within one trigger run does not fail MDM-HDR-005/HDR-008 (sessionsOf)', () => {
  // Defective: everything the server saw during one trigger run was judged as one session, so a client that gave up
  // on an unreadable reply (MDM-TERM-008) and opened a new session (new SessionID, MsgID 1) failed MDM-HDR-005
  // ("SessionID changed") and MDM-HDR-008 ("MsgID 1, expected 2").
  const run = sessionOf([
    dev({ msgID: 1, sessionID: '2A' }, package1Body()),
    'this is not a SyncML message',
    dev({ msgID: 1, sessionID: '2B' }, package1Body()),
    srv({ msgID: 1, sessionID: '2B' }, package1Statuses()),
  ], { serverUrl: SERVER_URL });
  const sessions = sessionsOf(run);
  expect(sessions.map((s) => s.exchanges.map((x) => x.request.n))).toEqual([[1], [3]]);
  const findings = sessions.flatMap((s) => clientChecks(s));
  for (const id of ['MDM-HDR-005', 'MDM-HDR-008']) {
    expect(failuresOf(findings, id), id).toEqual([]);
    expect(rowVerdict('client', findings, id), id).toBe('pass');
  }
  // A SessionID changed in the middle of a session (MsgID 2) stays one session, and fails.
  const changed = sessionOf([
    dev({ msgID: 1, sessionID: '2A' }, package1Body()),
    srv({ msgID: 1, sessionID: '2A' }, package1Statuses() + cmd('Get', 5, { target: SWV })),
    dev({ msgID: 2, sessionID: '2B' }, hdrSt(1, 1) + st(2, 1, 5, 'Get', 200) + results(3, 1, 5, { source: SWV, data: '10' })),
    srv({ msgID: 2, sessionID: '2B' }, hdrSt(1, 2)),
  ], { serverUrl: SERVER_URL });
  expect(sessionsOf(changed)).toHaveLength(1);
  expect(failuresOf(sessionsOf(changed).flatMap((s) => clientChecks(s)), 'MDM-HDR-005')).toHaveLength(1);
});

test('5.8 A-23: a later chunk without Target warns MDM-LO-016 instead of failing MDM-LO-013', () => {
  // Defective: continuation chunks were recognised by their Target only; one without Target was taken for another
  // command sent while the object was unfinished, a MDM-LO-013 failure. A-23: correlate by message sequence.
  const findings = serverChecks(chunkedObject({}));
  expect(failuresOf(findings, 'MDM-LO-013')).toEqual([]);
  expect(rowVerdict('server', findings, 'MDM-LO-013')).toBe('pass');
  expect(about(findings, 'MDM-LO-016').map((f) => f.verdict)).toEqual(['warn']);
  // Another node addressed before the last chunk is a new object, and that still fails.
  const interleaved = serverChecks(chunkedObject({ target: './Vendor/MSFT/Policy/Config/Browser/AllowDoNotTrack' }));
  expect(failuresOf(interleaved, 'MDM-LO-013').map((f) => f.evidence)).toEqual([`msg 4 (server->device) /SyncBody/Replace: Replace of ./Vendor/MSFT/Policy/Config/Browser/AllowDoNotTrack sent while the large object for ${CHUNKED_NODE} is unfinished`]);
});

test('5.9 A-23: the 213 for a chunk may reference the current message\'s CmdID or the first chunk\'s', () => {
  // Defective: a 213 was looked for under one spelling of the reference only (MsgRef/CmdRef compared as text with
  // the chunk's own message), so an acknowledgement in the other form A-23 accepts was "no Status, expected 213".
  // Client side: the server sends a 3-chunk object, continuation chunks under CmdID 2 of their own messages.
  const downstream = (ack: (msgRef: number, cmdRef: number) => [number, number], code = 213) => clientChecks(sessionOf([
    dev(1, package1Body()),
    srv(1, package1Statuses() + cmd('Replace', 5, { target: CHUNKED_NODE, meta: { Format: 'chr', Size: '9' }, data: 'abc', moreData: true }), false),
    dev(2, hdrSt(1, 1) + st(2, ...ack(1, 5), 'Replace', code) + alert(3, 1222), false),
    srv(2, hdrSt(1, 2) + cmd('Replace', 2, { target: CHUNKED_NODE, data: 'def', moreData: true }), false),
    dev(3, hdrSt(1, 2) + st(2, ...ack(2, 2), 'Replace', code) + alert(3, 1222), false),
    srv(3, hdrSt(1, 3) + cmd('Replace', 2, { target: CHUNKED_NODE, data: 'ghi' })),
    dev(4, hdrSt(1, 3) + st(2, 3, 2, 'Replace', 200)),
    srv(4, hdrSt(1, 4)),
  ]));
  const current = downstream((msgRef, cmdRef) => [msgRef, cmdRef]);
  const first = downstream(() => [1, 5]);
  for (const findings of [current, first]) {
    expect(failuresOf(findings, 'MDM-LO-010')).toEqual([]);
    expect(about(findings, 'MDM-LO-010').map((f) => f.verdict)).toEqual(['pass']);
  }
  expect(failuresOf(downstream((m, c) => [m, c], 200), 'MDM-LO-010')).toHaveLength(2);

  // Server side: the device returns Results in three chunks, the continuations under CmdID 2 of their messages.
  const upstream = (ack: (msgRef: number, cmdRef: number) => [number, number]) => serverChecks(sessionOf([
    dev(1, package1Body()),
    srv(1, package1Statuses() + cmd('Get', 5, { target: SWV })),
    dev(2, hdrSt(1, 1) + st(2, 1, 5, 'Get', 200) + results(3, 1, 5, { source: SWV, meta: { Size: '9' }, data: 'abc', moreData: true }), false),
    srv(2, hdrSt(1, 2) + st(2, ...ack(2, 3), 'Results', 213) + alert(3, 1222), false),
    dev(3, hdrSt(1, 2) + results(2, 1, 5, { source: SWV, data: 'def', moreData: true }), false),
    srv(3, hdrSt(1, 3) + st(2, ...ack(3, 2), 'Results', 213) + alert(3, 1222), false),
    dev(4, hdrSt(1, 3) + results(2, 1, 5, { source: SWV, data: 'ghi' })),
    srv(4, hdrSt(1, 4)),
  ]));
  for (const findings of [upstream((m, c) => [m, c]), upstream(() => [2, 3])]) {
    expect(failuresOf(findings, 'MDM-LO-021')).toEqual([]);
    expect(about(findings, 'MDM-LO-021').map((f) => f.verdict)).toEqual(['pass']);
  }
});

test('5.10 a request-pending keep-alive answered per MDM-CMD-ALT-016 does not fail MDM-LO-004', () => {
  // Defective: a keep-alive (a device message without Final) was taken for an unfinished device package, so the
  // reply MDM-CMD-ALT-016 prescribes (Statuses, nothing new) failed MDM-LO-004 for lacking Alert 1222.
  const findings = serverChecks(sessionOf([
    dev(1, package1Body()),
    srv(1, package1Statuses() + cmd('Exec', 5, { target: './Device/Vendor/MSFT/Defender/Scan', data: '1' })),
    dev(2, hdrSt(1, 1) + alert(2, 1224, { meta: { Type: REQUEST_PENDING }, data: '' }), false),
    srv(2, hdrSt(1, 2) + st(2, 2, 2, 'Alert', 200)),
    dev(3, hdrSt(1, 2) + st(2, 1, 5, 'Exec', 200)),
    srv(3, hdrSt(1, 3)),
  ]));
  for (const id of ['MDM-LO-004', 'MDM-LO-005', 'MDM-LO-007']) expect(failuresOf(findings, id), id).toEqual([]);
  expect(about(findings, 'MDM-CMD-ALT-016').map((f) => f.verdict)).toEqual(['pass']);
  expect(rowVerdict('server', findings, 'MDM-LO-004')).toBe('inconclusive');
});

test('5.11 a server that accepts a CA-issued certificate whose CN differs from the header Source does not fail MDM-TRN-004 (advisory certificate-not-bound-to-device)', async () => {
  // Defective: a certificate the CA issued to another device (another CN) was one of the "bad identities" of
  // MDM-TRN-004, so a server that takes every certificate its CA issued failed a rule that only asks it to refuse
  // certificates it did not issue. Now it is an advisory, which changes no verdict.
  const weak = SERVER_WEAKNESSES.find((w) => w.name === 'accepts-certificate-of-another-device')!;
  expect(weak.advises).toEqual(['certificate-not-bound-to-device']);
  const lenient = await startEmbeddedServer({ pki, faults: [weak] });
  try {
    const result = await runScenario(mutualTls, lenient.target, EMBEDDED_FEATURES);
    expect(failuresOf(result.findings, 'MDM-TRN-004')).toEqual([]);
    expect(rowVerdict('server', result.findings, 'MDM-TRN-004')).toBe('pass');
    expect(result.advisories?.map((a) => a.probe)).toEqual(['certificate-not-bound-to-device']);
    expect(result.advisories?.[0].evidence).toContain('a certificate the CA issued to another device (another CN) was accepted');
  } finally {
    await lenient.stop();
  }
  const binding = await startEmbeddedServer({ pki });
  try {
    const result = await runScenario(mutualTls, binding.target, EMBEDDED_FEATURES);
    expect(result.advisories).toBeUndefined();
  } finally {
    await binding.stop();
  }
});

/** The MD5 nonces of the server's challenges in the device's session `sessionID`, oldest first. */
function challengeNonces(device: ReferenceDevice, sessionID: string): string[] {
  const out: string[] = [];
  for (const x of device.transcript.exchanges) {
    if (trimmed(x.request.parsed?.message.hdr.sessionID) !== sessionID) continue;
    const hdr = x.response?.parsed?.message.body.commands.find((c): c is Status => c.kind === 'Status' && trimmed(c.cmdRef) === '0');
    const nonce = hdr?.chal && ['401', '407'].includes(codeOf(hdr) ?? '') ? metaValue(hdr.chal.meta, 'NextNonce') : undefined;
    if (nonce) out.push(nonce);
  }
  return out;
}

/**
 * The client of 5.12: a reference device that answers every challenge after the first with a digest over the first
 * nonce of the session (an older nonce), and whose trigger run opens a second session when the first was refused.
 */
function staleNonceClient() {
  const creds = EMBEDDED_CLIENT_CREDENTIALS;
  let device: ReferenceDevice | undefined;
  const olderNonce: DeviceFault = {
    name: 'answers-with-an-older-nonce', summary: 'builds its Cred from the first nonce of the session', violates: ['MDM-AUTH-023'], warningOnly: true,
    message: (msg) => {
      const nonces = device ? challengeNonces(device, trimmed(msg.hdr.sessionID)) : [];
      if (msg.hdr.cred?.data && nonces.length >= 2) msg.hdr.cred.data.text = md5Digest(creds.user, creds.password, decodeNonce(nonces[0]));
    },
  };
  const client = clientTarget(pki, async (d, url) => {
    const first = await d.runSession(url);
    if (first.end.reason === 'completed') return { exitCode: 0 };
    const again = await d.runSession(url); // a client that tries once more, in a fresh session
    return again.end.reason === 'completed' ? { exitCode: 0 } : { exitCode: 1, stderr: `authentication failed: ${'detail' in again.end ? again.end.detail : again.end.reason}` };
  }, { credentials: creds, faults: [olderNonce] }, { credentials: creds });
  device = client.device;
  return client;
}

test('5.12 client MDM-AUTH-022 (the example): the client answers the second challenge with the older nonce and retries in a fresh session', async () => {
  // Not a regression test by itself: it shows the client of the test below does what that test assumes, so its
  // expected failure cannot come from a broken example.
  const { target, device, stop } = staleNonceClient();
  try {
    const result = await runScenario(clientMd5Challenge, target, new Set<Feature>(['md5-auth']));
    const refused = [...new Set(device.transcript.exchanges.map((x) => trimmed(x.request.parsed?.message.hdr.sessionID)))].slice(-2);
    expect(refused).toHaveLength(2);
    for (const sessionID of refused) {
      const nonces = challengeNonces(device, sessionID);
      expect(nonces.length).toBeGreaterThanOrEqual(2);
      const creds = device.transcript.exchanges.filter((x) => trimmed(x.request.parsed?.message.hdr.sessionID) === sessionID).map((x) => trimmed(x.request.parsed?.message.hdr.cred?.data?.text)).filter(Boolean);
      expect(creds[1]).toBe(md5Digest(EMBEDDED_CLIENT_CREDENTIALS.user, EMBEDDED_CLIENT_CREDENTIALS.password, decodeNonce(nonces[0])));
    }
    expect(result.findings.length).toBeGreaterThan(0);
  } finally {
    await stop();
  }
});

test('5.12 client MDM-AUTH-022: an older nonce is a MDM-AUTH-023 warning (SHOULD), and no unstated "more than 3 attempts" bound is failed', async () => {
  // Defective: a digest over an older nonce failed MDM-AUTH-022 (a MUST about the authenticator's one fresh
  // challenge) where the catalogue's rule for it is MDM-AUTH-023 (a SHOULD: a warning); and a trigger run with more
  // than 3 credentialed messages failed MDM-AUTH-022 ("kept re-sending"), a bound the catalogue does not state.
  const { target, stop } = staleNonceClient();
  try {
    const { findings } = await runScenario(clientMd5Challenge, target, new Set<Feature>(['md5-auth']));
    expect.soft(failuresOf(findings, 'MDM-AUTH-022').map((f) => f.evidence), 'no MDM-AUTH-022 failure for an older nonce or for more than 3 attempts').toEqual([]);
    expect.soft(about(findings, 'MDM-AUTH-023').map((f) => f.verdict), 'the older nonce reported under MDM-AUTH-023').toContain('warn');
  } finally {
    await stop();
  }
});

test('5.13 a trigger that cannot run is a setup error, not MDM-TRN-001; a server that cannot be reached throws SetupError instead of failing MDM-TERM-003', async () => {
  // Defective: a trigger command that could not start was a client that "never connected" (MDM-TRN-001 failed), and
  // a server the harness could not connect to (refused, TLS not trusted) failed MDM-TERM-003.
  const { target, stop } = clientTarget(pki, async () => ({ exitCode: null, error: 'spawn /opt/contoso/dmclient ENOENT' }));
  try {
    await expect(runScenario(package1, target, NO_FEATURES)).rejects.toThrow('the trigger could not run: spawn /opt/contoso/dmclient ENOENT; check --trigger');
  } finally {
    await stop();
  }

  const closedPort = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
  const refused = runScenario(minimalSession, serverTarget(pki, `https://127.0.0.1:${closedPort}/ManagementServer/MDM.svc`), NO_FEATURES);
  await expect(refused).rejects.toBeInstanceOf(SetupError);
  await expect(refused).rejects.toThrow(/^cannot reach the server: /);

  const server = await startMiniServer(pki);
  try {
    const otherCa = createTestPki({ keyType: 'ec' }).ca.certPem;
    const untrusted = runScenario(minimalSession, serverTarget(pki, server.url, { serverCa: otherCa }), NO_FEATURES);
    await expect(untrusted).rejects.toBeInstanceOf(SetupError);
  } finally {
    await server.stop();
  }
});

test('5.14 an Alert answered 400 or 412 because it is malformed does not fail MDM-CMD-ALT-005', () => {
  // Defective: MDM-CMD-ALT-005 allowed only 200 or 406 for an Alert, so the 400/412 MDM-ROB-006 prescribes for an
  // Alert without its code was a failure.
  const answeredWith = (alertXml: string, code: number) => serverChecks(sessionOf([
    dev(1, package1Body() + alertXml),
    srv(1, package1Statuses() + st(5, 1, 4, 'Alert', code)),
  ]));
  for (const code of [400, 412]) {
    const findings = answeredWith('<Alert><CmdID>4</CmdID></Alert>', code);
    expect(failuresOf(findings, 'MDM-CMD-ALT-005'), String(code)).toEqual([]);
    expect(rowVerdict('server', findings, 'MDM-CMD-ALT-005')).toBe('pass');
  }
  // A well-formed generic Alert the server answers 400 is still a failure.
  expect(failuresOf(answeredWith(alert(4, 1224, { meta: { Type: 'com.microsoft/MDM/AADUserToken' }, data: 'x' }), 400), 'MDM-CMD-ALT-005').map((f) => f.evidence))
    .toEqual(['msg 2 (server->device): Alert 1224 answered 400; an Alert gets 200, or 406 when not supported']);
});

test('5.15 numbers and URLs are compared by value: :443 and host case, MsgID 01, MsgRef/CmdRef 01 vs 1', () => {
  // Defective: references and URLs were compared as text, so `https://MDM.example.test:443/omadm` was not the URL
  // `https://mdm.example.test/omadm` (MDM-HDR-011, MDM-HDR-010), MsgID `01` was not 1 (MDM-HDR-008, MDM-HDR-009), and a
  // Status with MsgRef `01` answered nothing (MDM-STS-003, MDM-ID-005, MDM-ID-006, MDM-STS-005).
  const SPELLED = 'https://MDM.example.test:443/omadm';
  const view = sessionOf([
    dev({ msgID: '01', target: SERVER_URL }, package1Body()),
    srv({ msgID: '01', source: SPELLED }, hdrSt(1, '01') + st(2, '1', '01', 'Alert', 200) + st(3, '01', '2', 'Alert', 200) + st(4, '01', '03', 'Replace', 200)),
  ]);
  const server = serverChecks(view);
  for (const id of ['MDM-HDR-009', 'MDM-HDR-011', 'MDM-STS-003', 'MDM-ID-005', 'MDM-ID-006', 'MDM-STS-005', 'MDM-STS-007']) {
    expect(failuresOf(server, id), id).toEqual([]);
    expect(about(server, id).map((f) => f.verdict), id).toEqual(['pass']);
  }
  const client = clientChecks(sessionOf([dev({ msgID: '01', target: SPELLED }, package1Body()), srv(1, package1Statuses())], { serverUrl: SERVER_URL }));
  for (const id of ['MDM-HDR-008', 'MDM-HDR-010']) expect(about(client, id).map((f) => f.verdict), id).toEqual(['pass']);
});

test('5.16 metaValue trims and resolves a namespace prefix (<m:Size>)', () => {
  // Defective: metaValue matched the element name exactly and kept white space, so `<m:Size> 6 </m:Size>` under
  // xmlns:m="syncml:metinf" was no Size, and a first chunk declaring its size so failed MDM-LO-011.
  const { message } = parseSyncML(dev(1, `<Replace><CmdID>2</CmdID><Meta xmlns:m="syncml:metinf"><m:Size> 6 </m:Size></Meta>${'<Item><Target><LocURI>./A</LocURI></Target><Data>x</Data></Item>'}</Replace>`));
  const replace = message.body.commands[0];
  expect(replace.kind === 'Replace' && metaValue(replace.meta, 'Size')).toBe('6');

  const prefixedSize = '<Meta xmlns:m="syncml:metinf"><m:Format>chr</m:Format><m:Size> 12 </m:Size></Meta>';
  const findings = serverChecks(sessionOf([
    dev(1, package1Body()),
    srv(1, package1Statuses() + `<Replace><CmdID>5</CmdID><Item><Target><LocURI>${CHUNKED_NODE}</LocURI></Target>${prefixedSize}<Data>abcdef</Data><MoreData/></Item></Replace>`, false),
    dev(2, hdrSt(1, 1) + st(2, 1, 5, 'Replace', 213) + alert(3, 1222), false),
    srv(2, hdrSt(1, 2) + cmd('Replace', 2, { target: CHUNKED_NODE, data: 'ghijkl' })),
  ]));
  expect(failuresOf(findings, 'MDM-LO-011')).toEqual([]);
  expect(about(findings, 'MDM-LO-011').map((f) => f.verdict)).toEqual(['pass']);
});

test('5.17 the evidence of MDM-RES-002 points at the device\'s Results item, not at the server\'s Get', () => {
  // Defective: the failure named the server message and the Get (`msg 2 (server->device) /SyncBody/Get`), so a
  // vendor was sent to the message that was right instead of the Item that was wrong.
  const findings = clientChecks(sessionOf([
    dev(1, package1Body()),
    srv(1, package1Statuses() + cmd('Get', 5, { target: SWV })),
    dev(2, hdrSt(1, 1) + st(2, 1, 5, 'Get', 200) + results(3, 1, 5, { source: './DevDetail/FwV', data: '1.0' })),
    srv(2, hdrSt(1, 2)),
  ]));
  expect(failuresOf(findings, 'MDM-RES-002').map((f) => f.evidence)).toEqual([
    'msg 3 (device->server) /SyncBody/Results/Item/Source/LocURI: Results item names "./DevDetail/FwV", which the Get 5 of msg 2 (server->device) did not ask for',
  ]);
});

test('5.18 a capture that does not start at package 1: package-1 rules and "MsgID starts at 1" are inconclusive, not failures', () => {
  // Defective: the first device message of any view was judged as package 1 (no Alert 1201, no DevInfo: failures)
  // and both sides' MsgIDs were expected to start at 1, so a capture taken mid-session failed rules it cannot show.
  const midSession = (startsAtPackage1?: boolean) => sessionOf([
    dev({ msgID: 5, sessionID: '3C' }, hdrSt(1, 6) + st(2, 6, 4, 'Get', 200) + results(3, 6, 4, { source: SWV, data: '10' })),
    srv({ msgID: 7, sessionID: '3C' }, hdrSt(1, 5) + cmd('Get', 2, { target: './DevDetail/FwV' })),
    dev({ msgID: 6, sessionID: '3C' }, hdrSt(1, 7) + st(2, 7, 2, 'Get', 200) + results(3, 7, 2, { source: './DevDetail/FwV', data: '1.0' })),
    srv({ msgID: 8, sessionID: '3C' }, hdrSt(1, 6)),
  ], startsAtPackage1 === undefined ? {} : { startsAtPackage1 });
  for (const view of [midSession(false), midSession()]) {
    const client = clientChecks(view);
    const server = serverChecks(view);
    for (const id of ['MDM-CMD-ALT-001', 'MDM-SES-002', 'MDM-SES-003', 'MDM-SES-004']) {
      expect(about(client, id), id).toEqual([]);
      expect(rowVerdict('client', client, id), id).toBe('inconclusive');
    }
    expect(about(client, 'MDM-HDR-008').map((f) => f.verdict)).toEqual(['pass']);
    expect(about(server, 'MDM-HDR-009').map((f) => f.verdict)).toEqual(['pass']);
  }
  // Taken from package 1 on, the same MsgIDs are wrong.
  expect(failuresOf(clientChecks(midSession(true)), 'MDM-HDR-008')[0].evidence).toBe('msg 1 (device->server) /SyncHdr/MsgID: MsgID 5, expected 1');
});
