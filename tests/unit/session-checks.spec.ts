import { expect, test } from '@playwright/test';
import { CLIENT_CHECKS } from '../../harness/checks/client-checks';
import { runChecks, type Finding } from '../../harness/checks/finding';
import { SERVER_CHECKS } from '../../harness/checks/server-checks';
import { sessionFromMessages, type SessionView } from '../../harness/checks/session';
import { HWDEVID_URI, varyPackage1, WINDOWS_PACKAGE_1, describePackage1 } from '../../harness/device/package1';
import { MessageAssembler } from '../../harness/protocol/assembler';
import { DeviceSession } from '../../harness/protocol/device-session';
import { seeded } from '../../harness/protocol/random';
import { ranToServerClose, type ClientRun } from '../../harness/scenarios/client/target';
import { alert, eventAlert, get, item, message, replace, results, status, type Command, type SyncML } from '../../harness/syncml';

const DEV = 'HARNESS-DEV-0001';
const SRV = 'https://mdm.example.test/ManagementServer/MDM.svc';
const dev = (msgID: number, commands: Command[], final = true): SyncML => message({ sessionID: '7', msgID, target: SRV, source: DEV, commands, final });
const srv = (msgID: number, commands: Command[], final = true, respURI?: string): SyncML =>
  message({ sessionID: '7', msgID, target: DEV, source: SRV, commands, final, respURI });
const ok = (cmdID: number, msgRef: number, cmdRef: number, cmd: string, code = 200) => status({ cmdID, msgRef: String(msgRef), cmdRef: String(cmdRef), cmd, code });
const devInfo = (cmdID: number, withHwDevId = false): Command => ({
  kind: 'Replace', cmdID: String(cmdID),
  items: [item({ source: './DevInfo/DevId', data: DEV }), ...(withHwDevId ? [item({ source: HWDEVID_URI, data: 'ABCD' })] : [])],
});
const loginStatus = (cmdID: number, who: string) => ({ ...alert('1224', [item({ type: 'com.microsoft/MDM/LoginStatus', data: who })]), cmdID: String(cmdID) });

/** Findings of one id, as verdict plus whether they follow from another failure. */
function of(findings: Finding[], id: string): string[] {
  return findings.filter((f) => f.id === id).map((f) => (f.consequenceOf ? `${f.verdict} (after ${f.consequenceOf})` : f.verdict));
}
const server = (view: SessionView) => runChecks(SERVER_CHECKS, view);

/** Windows' package 1 (CmdIDs 2, 3, 4) and a package 2 that answers it properly, with one Get. */
const windowsPackage1 = dev(1, [alert('1201', [], 2), loginStatus(3, 'none'), devInfo(4)]);
const package2 = (extra: Command[] = []) => srv(1, [ok(1, 1, 0, 'SyncHdr'), ok(2, 1, 2, 'Alert'), ok(3, 1, 3, 'Alert'), ok(4, 1, 4, 'Replace'), ...extra]);

test.describe('package 2 and the packages after it (MDM-SES-007, MDM-SES-011)', () => {
  test('package 2 of Statuses and management commands passes; a client alert in it fails MDM-SES-007 where it stands', () => {
    const good = server(sessionFromMessages([windowsPackage1, package2([{ ...get('./DevDetail/SwV'), cmdID: '5' }])]));
    expect(of(good, 'MDM-SES-007')).toEqual(['pass']);

    const echoed = server(sessionFromMessages([windowsPackage1, package2([alert('1201', [], 5)])]));
    expect(of(echoed, 'MDM-SES-007')).toEqual(['fail']);
    expect(echoed.find((f) => f.id === 'MDM-SES-007')?.evidence).toContain('msg 2 (server->device) /SyncBody/Alert[5]: package 2 carries an Alert 1201');
  });

  test('a package 2 that misses what another row requires lists MDM-SES-007 under that row', () => {
    const noAlertStatus = srv(1, [ok(1, 1, 0, 'SyncHdr'), ok(2, 1, 4, 'Replace')]);
    const findings = server(sessionFromMessages([windowsPackage1, noAlertStatus]));
    expect(of(findings, 'MDM-STS-005')).toEqual(['fail', 'fail']);
    expect(of(findings, 'MDM-SES-007')).toEqual(['fail (after MDM-STS-005)', 'fail (after MDM-STS-005)']);
  });

  test('package 4 answers a client alert of package 3; leaving it out, or sending a Results, fails', () => {
    const get1 = { ...get('./DevDetail/SwV'), cmdID: '5' };
    const pkg3 = dev(2, [ok(1, 1, 0, 'SyncHdr'), ok(2, 1, 5, 'Get'), results({ cmdID: 3, msgRef: '1', cmdRef: '5', cmd: 'Get', items: [item({ source: './DevDetail/SwV', data: '10' })] }),
      { ...eventAlert('1226', { type: 'Reversed-Domain-Name:com.microsoft.mdm.win32csp_install', format: 'int', data: '0' }), cmdID: '4' }]);
    const answered = server(sessionFromMessages([windowsPackage1, package2([get1]), pkg3, srv(2, [ok(1, 2, 0, 'SyncHdr'), ok(2, 2, 4, 'Alert')])]));
    expect(of(answered, 'MDM-SES-011')).toEqual(['pass']);

    const unanswered = server(sessionFromMessages([windowsPackage1, package2([get1]), pkg3, srv(2, [ok(1, 2, 0, 'SyncHdr')])]));
    expect(of(unanswered, 'MDM-SES-011')).toEqual(['fail (after MDM-STS-005)']);

    const echo = results({ cmdID: 3, msgRef: '2', cmdRef: '3', items: [item({ source: './DevDetail/SwV', data: '10' })] });
    const withResults = server(sessionFromMessages([windowsPackage1, package2([get1]), pkg3, srv(2, [ok(1, 2, 0, 'SyncHdr'), ok(2, 2, 4, 'Alert'), echo])]));
    expect(of(withResults, 'MDM-SES-011')).toEqual(['fail']);
  });
});

test.describe('CmdID numbering (MDM-ID-004)', () => {
  const fromOne = dev(1, [alert('1201', [], 1), devInfo(2)]);

  test('Statuses that name the CmdIDs as sent pass, whatever the numbering', () => {
    expect(of(server(sessionFromMessages([fromOne, srv(1, [ok(1, 1, 0, 'SyncHdr'), ok(2, 1, 1, 'Alert'), ok(3, 1, 2, 'Replace')])])), 'MDM-ID-004')).toEqual(['pass']);
    expect(of(server(sessionFromMessages([windowsPackage1, package2()])), 'MDM-ID-004')).toEqual(['pass']);
    const gaps = dev(1, [alert('1201', [], 3), devInfo(9)]);
    expect(of(server(sessionFromMessages([gaps, srv(1, [ok(1, 1, 0, 'SyncHdr'), ok(2, 1, 3, 'Alert'), ok(3, 1, 9, 'Replace')])])), 'MDM-ID-004')).toEqual(['pass']);
  });

  test('Statuses counting 2, 3 … against a device that numbered from 1 are a warning, beside the MDM-ID-006 failure', () => {
    const findings = server(sessionFromMessages([fromOne, srv(1, [ok(1, 1, 0, 'SyncHdr'), ok(2, 1, 2, 'Alert'), ok(3, 1, 3, 'Replace')])]));
    expect(of(findings, 'MDM-ID-004')).toEqual(['warn']);
    expect(findings.find((f) => f.id === 'MDM-ID-004')?.evidence).toContain('count CmdRef 2, 3 in order, but the device numbered its commands 1, 2');
    expect(of(findings, 'MDM-ID-006')).toEqual(['fail']);
  });

  test('Statuses that skip a Results and answer the rest in order name real commands: no assumed numbering', () => {
    const event = (cmdID: number) => ({ ...eventAlert('1226', { type: 'Reversed-Domain-Name:com.microsoft.mdm.win32csp_install', format: 'int', data: '0' }), cmdID: String(cmdID) });
    const r = results({ cmdID: 2, msgRef: '1', cmdRef: '5', cmd: 'Get', items: [item({ source: './DevDetail/SwV', data: '10' })] });
    const pkg3 = dev(2, [ok(1, 1, 0, 'SyncHdr'), r, event(3), event(4)]);
    const findings = server({ exchanges: sessionFromMessages([windowsPackage1, package2([{ ...get('./DevDetail/SwV'), cmdID: '5' }]), pkg3, srv(2, [ok(1, 2, 0, 'SyncHdr'), ok(2, 2, 3, 'Alert'), ok(3, 2, 4, 'Alert')])]).exchanges.slice(1) });
    expect(of(findings, 'MDM-ID-004')).toEqual(['pass']);
  });

  test('a device message of Statuses only gives the server nothing to number by', () => {
    const pkg3 = dev(2, [ok(1, 1, 0, 'SyncHdr')]);
    const findings = server({ exchanges: sessionFromMessages([windowsPackage1, package2(), pkg3, srv(2, [ok(1, 2, 0, 'SyncHdr')])]).exchanges.slice(1) });
    expect(of(findings, 'MDM-ID-004')).toEqual([]);
  });
});

test.describe('Windows habits, transport and scope (MDM-ROB-005, MDM-TRN-002, MDM-SES-019, MDM-TERM-005)', () => {
  const get1 = { ...get('./DevDetail/SwV'), cmdID: '5' };
  const withCmd = (code?: number) => {
    const r = results({ cmdID: 3, msgRef: '1', cmdRef: '5', cmd: 'Get', items: [item({ source: './DevDetail/SwV', data: '10' })] });
    const pkg3 = dev(2, [ok(1, 1, 0, 'SyncHdr'), ok(2, 1, 5, 'Get'), r]);
    return server(sessionFromMessages([windowsPackage1, package2([get1]), pkg3, srv(2, [ok(1, 2, 0, 'SyncHdr'), ...(code ? [ok(2, 2, 3, 'Results', code)] : [])])]));
  };

  test('a Results with <Cmd> is taken (no Status, or 407 for credentials); refusing it with 400 fails MDM-ROB-005', () => {
    expect(of(withCmd(), 'MDM-ROB-005')).toEqual(['pass']);
    expect(of(withCmd(407), 'MDM-ROB-005')).toEqual(['pass']);
    expect(of(withCmd(400), 'MDM-ROB-005')).toEqual(['fail']);
    // 404 says the Results names no Get the server knows, not that it could not read the Results.
    expect(of(withCmd(404), 'MDM-ROB-005')).toEqual(['pass']);
  });

  test('a RespURI keeps the session on HTTPS', () => {
    const https = server(sessionFromMessages([windowsPackage1, srv(1, package2().body.commands, true, `${SRV}?s=7`)]));
    expect(of(https, 'MDM-TRN-002')).toEqual(['pass']);
    const plain = server(sessionFromMessages([windowsPackage1, srv(1, package2().body.commands, true, SRV.replace('https:', 'http:'))]));
    expect(of(plain, 'MDM-TRN-002')).toEqual(['fail']);
    expect(plain.find((f) => f.id === 'MDM-TRN-002')?.evidence).toContain('/SyncHdr/RespURI: RespURI "http://mdm.example.test/ManagementServer/MDM.svc" sends the device to http');
    expect(of(server(sessionFromMessages([windowsPackage1, package2()])), 'MDM-TRN-002')).toEqual([]);
  });

  test('user configuration while LoginStatus says none is a warning; with the user signed in it is not judged', () => {
    const userReplace = { ...replace('./User/Vendor/MSFT/NodeCache/MDMConformance/CacheVersion', 'x'), cmdID: '5' };
    const none = server(sessionFromMessages([windowsPackage1, package2([userReplace])]));
    expect(of(none, 'MDM-SES-019')).toEqual(['warn']);
    const signedIn = dev(1, [alert('1201', [], 2), loginStatus(3, 'user'), devInfo(4)]);
    expect(of(server(sessionFromMessages([signedIn, package2([userReplace])])), 'MDM-SES-019')).toEqual([]);
  });

  test('an abort carries Final; without it the server follows MDM-LO-005 and the device fails MDM-TERM-005', () => {
    const abort = alert('1223', [], 5);
    expect(of(server(sessionFromMessages([windowsPackage1, package2([abort])])), 'MDM-TERM-005')).toEqual(['pass']);
    const bare = srv(1, [...package2().body.commands, abort], false);
    expect(of(server(sessionFromMessages([windowsPackage1, bare])), 'MDM-TERM-005')).toEqual(['fail (after MDM-LO-005)']);

    const pkg3 = (final: boolean) => dev(2, [ok(1, 1, 0, 'SyncHdr'), ok(2, 1, 5, 'Get'), alert('1223', [], 3)], final);
    const client = (final: boolean) => runChecks(CLIENT_CHECKS, sessionFromMessages([windowsPackage1, package2([get1]), pkg3(final), srv(2, [ok(1, 2, 0, 'SyncHdr'), ok(2, 2, 3, 'Alert')])]));
    expect(of(client(true), 'MDM-TERM-005')).toEqual(['pass']);
    expect(of(client(false), 'MDM-TERM-005')).toEqual(['fail']);
  });
});

test.describe('package 1 shapes', () => {
  test('the variation follows the seed and covers other numberings, the LoginStatus alert and HWDevID', () => {
    const draw = (seed: number) => Array.from({ length: 40 }, (_, i) => varyPackage1(seeded(seed, String(i)), { sessionAlert: true }));
    expect(draw(7)).toEqual(draw(7));
    const shapes = draw(7);
    expect(new Set(shapes.map((s) => s.firstCmdID)).size).toBeGreaterThan(1);
    expect(shapes.some((s) => s.cmdIDGap > 0)).toBe(true);
    expect(shapes.some((s) => !s.loginStatus) && shapes.some((s) => s.loginStatus)).toBe(true);
    expect(shapes.some((s) => s.hwDevId)).toBe(true);
    expect(shapes.some((s) => s.sessionAlert === '1200')).toBe(true);
    expect(varyPackage1(seeded(7, 'x')).sessionAlert).toBeUndefined();
    expect(describePackage1(WINDOWS_PACKAGE_1)).toBe('Alert 1201, CmdIDs from 2, LoginStatus alert, five DevInfo items');
  });

  test('package 1 numbers its commands from the first CmdID with the gap between them', () => {
    const start = (cmdIDs?: { first: number; gap: number }, loginStatus?: false) => new DeviceSession({
      deviceId: DEV, serverUrl: SRV, sessionID: '7', executor: () => ({ statuses: [], results: [] }), cmdIDs, loginStatus,
      devInfo: [{ uri: './DevInfo/DevId', value: DEV }],
    }).start().body.commands.map((c) => `${c.kind === 'Alert' ? `Alert ${c.data?.text}` : c.kind} ${c.cmdID}`);
    expect(start()).toEqual(['Alert 1201 2', 'Alert 1224 3', 'Replace 4']);
    expect(start({ first: 1, gap: 2 }, false)).toEqual(['Alert 1201 1', 'Replace 4']);
  });

  test('MessageAssembler.skip leaves numbers out and never goes back', () => {
    const a = new MessageAssembler({ sessionID: '1', msgID: 1, target: SRV, source: DEV }, undefined, 2);
    a.add(alert('1201'));
    a.skip(3);
    a.skip(-5);
    a.add(alert('1224'));
    expect(a.added.map((c) => c.cmdID)).toEqual(['2', '6']);
  });
});

test.describe('a client session runs to the server\'s close (MDM-SES-012)', () => {
  const get1 = { ...get('./DevDetail/SwV'), cmdID: '5' };
  const pkg3 = (final = true) => dev(2, [ok(1, 1, 0, 'SyncHdr'), ok(2, 1, 5, 'Get'), results({ cmdID: 3, msgRef: '1', cmdRef: '5', cmd: 'Get', items: [item({ source: './DevDetail/SwV', data: '10' })] })], final);
  const close = srv(2, [ok(1, 2, 0, 'SyncHdr')]);
  const run = (messages: SyncML[], exitCode: number | null = 0): ClientRun => ({
    view: { ...sessionFromMessages(messages), serverUrl: SRV, deviceId: DEV },
    trigger: { exitCode, timedOut: false, stdout: '', stderr: '', ms: 10 },
    exchanges: [], refused: [], connected: true, sessionIDs: ['7'], records: [],
  });

  test('answering every package until the server closes passes', () => {
    const f = ranToServerClose(run([windowsPackage1, package2([get1]), pkg3(), close]), 'c');
    expect(f).toMatchObject({ id: 'MDM-SES-012', verdict: 'pass' });
    expect(f?.evidence).toContain('ended with the server\'s closing package (msg 4 (server->device))');
  });

  test('going quiet while the server\'s last message carries commands fails; a crash was reported already', () => {
    const quiet = ranToServerClose(run([windowsPackage1, package2([get1])]), 'c');
    expect(quiet).toMatchObject({ id: 'MDM-SES-012', verdict: 'fail' });
    expect(quiet?.evidence).toBe('msg 2 (server->device): the client went quiet after the server\'s message carrying Get; the session lasts as long as the server sends commands');
    expect(ranToServerClose(run([windowsPackage1, package2([get1])], 1), 'c')).toBeUndefined();
  });

  test('a package left without Final that the server asked the rest of follows from MDM-TERM-004', () => {
    const nextPlease = srv(2, [ok(1, 2, 0, 'SyncHdr'), alert('1222', [], 2)], false);
    expect(ranToServerClose(run([windowsPackage1, package2([get1]), pkg3(false), nextPlease]), 'c')).toMatchObject({ verdict: 'fail', consequenceOf: 'MDM-TERM-004' });
  });
});
