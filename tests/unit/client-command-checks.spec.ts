/**
 * The client checks of commands, Statuses, Items and alerts, each on a conforming device session (exercised, no
 * deviation) and on a broken one (a failure naming the message, element and rule).
 */
import { expect, test } from '@playwright/test';
import { deviceAlertCodes, deviceGenericAlerts, deviceWindowsAlerts } from '../../harness/checks/client/alerts';
import {
  deviceAtomicStatusesAcrossMessages, deviceContainersInOneMessage, deviceItemAddressesAndData, deviceStatusesMatchCommandsAndItems,
} from '../../harness/checks/client/commands';
import { runChecks, type Check, type Finding } from '../../harness/checks/finding';
import { sessionFromMessages, type SessionView } from '../../harness/checks/session';
import {
  add, alert, atomic, eventAlert, get, item, message, results, sequence, status, type Alert, type Command, type Item, type SyncML,
} from '../../harness/syncml';

const DEVICE = 'dev-0001';
const SERVER = 'https://mdm.example.test/omadm';

/** Numbers commands (containers before members) from `from`, as a peer's assembler does. */
function numbered(commands: Command[], from = 1): Command[] {
  let next = from;
  const visit = (c: Command) => {
    if (c.kind !== 'Unknown' && c.cmdID === undefined) c.cmdID = String(next++);
    if (c.kind === 'Atomic' || c.kind === 'Sequence') c.commands.forEach(visit);
  };
  commands.forEach(visit);
  return commands;
}

const device = (msgID: number, commands: Command[], final = true): SyncML =>
  message({ sessionID: '1', msgID, target: SERVER, source: DEVICE, commands: numbered(commands), final });
const server = (msgID: number, commands: Command[], final = true): SyncML =>
  message({ sessionID: '1', msgID, target: DEVICE, source: SERVER, commands: numbered(commands), final });

const package1 = (...extra: Command[]) =>
  device(1, [alert('1201'), eventAlert('1224', { type: 'com.microsoft/MDM/LoginStatus', data: 'user' }), ...extra, { kind: 'Replace', items: [item({ source: './DevInfo/DevId', data: DEVICE })] }]);
const hdr = (msgRef: string) => status({ msgRef, cmdRef: '0', cmd: 'SyncHdr', code: 200 });
const st = (cmdRef: string, cmd: string, code: number, more: { targetRefs?: string[]; items?: Item[]; msgRef?: string } = {}) =>
  status({ msgRef: more.msgRef ?? '1', cmdRef, cmd, code, targetRefs: more.targetRefs, items: more.items });

function judge(check: Check<SessionView>, messages: SyncML[]): Finding[] {
  return runChecks([check], sessionFromMessages(messages));
}
const failures = (findings: Finding[], id: string) => findings.filter((f) => f.id === id && f.verdict === 'fail');
const passed = (findings: Finding[], id: string) => findings.some((f) => f.id === id && f.verdict === 'pass');

test.describe('one Status per command or per Item (MDM-STS-008, MDM-STS-009, MDM-STS-010)', () => {
  // Server msg 1: Get 1 of A and B; Sequence 2 of Get 3 (missing) and Get 4.
  const commands = () => [get('./A', './B'), sequence(get('./Missing'), get('./A'))];
  const reply = (statuses: Command[], resultsFor1: string[]) => device(2, [hdr('1'), ...statuses,
    ...(resultsFor1.length ? [results({ msgRef: '1', cmdRef: '1', cmd: 'Get', items: resultsFor1.map((s) => item({ source: s, data: 'v' })) })] : []),
    results({ msgRef: '1', cmdRef: '4', cmd: 'Get', items: [item({ source: './A', data: 'v' })] })]);
  const members = [st('3', 'Get', 404), st('4', 'Get', 200)];

  test('per-Item Statuses with TargetRef when the Items fare differently, and a Sequence answered for itself, pass', () => {
    const f = judge(deviceStatusesMatchCommandsAndItems, [package1(), server(1, commands()), reply([st('1', 'Get', 200, { targetRefs: ['./A'] }), st('1', 'Get', 404, { targetRefs: ['./B'] }), st('2', 'Sequence', 200), ...members], ['./A'])]);
    expect(f.filter((x) => x.verdict !== 'pass')).toEqual([]);
    for (const id of ['MDM-STS-008', 'MDM-STS-009']) expect(passed(f, id), id).toBe(true);
  });

  test('one Status for Items that fared differently fails MDM-STS-009, the Results giving it away', () => {
    const f = judge(deviceStatusesMatchCommandsAndItems, [package1(), server(1, commands()), reply([st('1', 'Get', 200), st('2', 'Sequence', 200), ...members], ['./A'])]);
    expect(failures(f, 'MDM-STS-009')[0].evidence).toMatch(/^msg 3 \(device->server\) \/SyncBody\/Status\[2\]\/Data: one Status 200 for all Items of the Get 1 of msg 2 \(server->device\), yet Results came back only for \.\/A, not for \.\/B/);
  });

  test('per-Item Statuses that leave an Item out, or name none, fail MDM-STS-009', () => {
    const f = judge(deviceStatusesMatchCommandsAndItems, [package1(), server(1, commands()), reply([st('1', 'Get', 200, { targetRefs: ['./A'] }), st('2', 'Sequence', 200), ...members], ['./A'])]);
    expect(failures(f, 'MDM-STS-009')[0].evidence).toContain('its only Status names ./A: no Status for ./B');
  });

  test('one Status covering every Item passes without TargetRef and fails MDM-STS-010 with them', () => {
    const ok = judge(deviceStatusesMatchCommandsAndItems, [package1(), server(1, commands()), reply([st('1', 'Get', 200), st('2', 'Sequence', 200), ...members], ['./A', './B'])]);
    expect(passed(ok, 'MDM-STS-010')).toBe(true);
    const f = judge(deviceStatusesMatchCommandsAndItems, [package1(), server(1, commands()), reply([st('1', 'Get', 200, { targetRefs: ['./A', './B'] }), st('2', 'Sequence', 200), ...members], ['./A', './B'])]);
    expect(failures(f, 'MDM-STS-010')[0].evidence).toContain('carries TargetRef/SourceRef (./A, ./B); a Status that covers every Item names none');
  });

  test('a Sequence answered with its failing member\'s code, or naming Items, fails MDM-STS-008', () => {
    const f = judge(deviceStatusesMatchCommandsAndItems, [package1(), server(1, commands()), reply([st('1', 'Get', 200, { targetRefs: ['./A'] }), st('1', 'Get', 404, { targetRefs: ['./B'] }), st('2', 'Sequence', 404, { targetRefs: ['./Missing'] }), ...members], ['./A'])]);
    const evidence = failures(f, 'MDM-STS-008').map((x) => x.evidence);
    expect(evidence).toEqual([
      expect.stringContaining('the Status of the Sequence 2 of msg 2 (server->device) names Items (./Missing)'),
      expect.stringContaining('the Sequence 2 of msg 2 (server->device) is answered 404, the code its member Get 3 got'),
    ]);
  });
});

test.describe('Atomic Statuses across messages and containers in one message (MDM-CMD-ATO-007, MDM-CMD-ATO-008)', () => {
  const big = () => server(1, [atomic(add('./N/a', 'x'), add('./N/b', 'y'))]);

  test('Statuses spread over two messages of an Atomic that ran (200) pass; spread under another code fails', () => {
    const spread = (code: number) => [package1(), big(), device(2, [hdr('1'), st('1', 'Atomic', code), st('2', 'Add', 200)], false), server(2, [alert('1222')], false), device(3, [hdr('2'), st('1', 'Alert', 200, { msgRef: '2' }), st('3', 'Add', 200)])];
    expect(judge(deviceAtomicStatusesAcrossMessages, spread(200))).toEqual([{ id: 'MDM-CMD-ATO-007', verdict: 'pass', check: 'deviceAtomicStatusesAcrossMessages', evidence: 'no deviation observed' }]);
    expect(failures(judge(deviceAtomicStatusesAcrossMessages, spread(500)), 'MDM-CMD-ATO-007')[0].evidence).toContain('spread over 2 messages though the Atomic is answered 500');
  });

  test('an Atomic answered 517 whose members report 200 fails; Statuses in one message are not judged', () => {
    const f = judge(deviceAtomicStatusesAcrossMessages, [package1(), big(), device(2, [hdr('1'), st('1', 'Atomic', 517), st('2', 'Add', 200), st('3', 'Add', 216)])]);
    expect(failures(f, 'MDM-CMD-ATO-007').map((x) => x.evidence)).toEqual([expect.stringMatching(/Status\[3\]\/Data: the Atomic 1 of msg 2 \(server->device\) failed with 517, yet this member reports 200/)]);
    expect(judge(deviceAtomicStatusesAcrossMessages, [package1(), big(), device(2, [hdr('1'), st('1', 'Atomic', 200), st('2', 'Add', 200), st('3', 'Add', 200)])])).toEqual([]);
  });

  test('a container the device sends with a member chunk fails MDM-CMD-ATO-008', () => {
    const chunk = results({ msgRef: '1', cmdRef: '1', items: [item({ source: './Big', data: 'part', moreData: true })] });
    const f = judge(deviceContainersInOneMessage, [package1(), server(1, [get('./Big')]), device(2, [hdr('1'), st('1', 'Get', 200), sequence(chunk)], false)]);
    expect(failures(f, 'MDM-CMD-ATO-008')[0].evidence).toBe('msg 3 (device->server) /SyncBody/Sequence/Results: a member of this Sequence is a chunk (MoreData) that continues in the next message; an Atomic or Sequence goes whole in one message');
    expect(judge(deviceContainersInOneMessage, [package1(), server(1, [get('./Big')])])).toEqual([]);
  });
});

test.describe('node addresses and markup in device Items (MDM-XML-019, MDM-XML-009)', () => {
  const getOf = (uri: string) => server(1, [get(uri)]);
  const resultsWith = (source: string, data: Item['data']) =>
    device(2, [hdr('1'), st('1', 'Get', 200), results({ msgRef: '1', cmdRef: '1', cmd: 'Get', items: [{ source: { locURI: source }, data }] })]);

  test('URIs rooted at ./, and a LocURI the server sent echoed as sent, pass', () => {
    const f = judge(deviceItemAddressesAndData, [package1(), getOf('DevInfo/Man'), resultsWith('DevInfo/Man', { text: 'x' })]);
    expect(f).toEqual([{ id: 'MDM-XML-019', verdict: 'pass', check: 'deviceItemAddressesAndData', evidence: 'no deviation observed' }]);
  });

  test('a node named without ./, or with characters a URI cannot hold, fails MDM-XML-019', () => {
    const named = (target: string) => device(2, [hdr('1'), st('1', 'Add', 405, { items: [item({ target })] })]);
    expect(failures(judge(deviceItemAddressesAndData, [package1(), server(1, [add('./DevInfo/X/Y', 'v')]), named('DevInfo/X')]), 'MDM-XML-019')[0].evidence)
      .toBe('msg 3 (device->server) /SyncBody/Status[2]/Item/Target/LocURI: "DevInfo/X" is not a device-tree URI rooted at "./"');
    expect(failures(judge(deviceItemAddressesAndData, [package1(), server(1, [add('./DevInfo/X/Y', 'v')]), named('./DevInfo/My Node')]), 'MDM-XML-019')[0].evidence)
      .toContain('"./DevInfo/My Node" is not a URI: characters outside the URI set must be percent-escaped');
  });

  test('markup escaped, or in an element that declares its namespace, passes; raw elements fail MDM-XML-009', () => {
    const escaped = judge(deviceItemAddressesAndData, [package1(), getOf('./P'), resultsWith('./P', { text: '<Setting>1</Setting>' })]);
    expect(passed(escaped, 'MDM-XML-009')).toBe(true);
    const own = { type: 'element' as const, name: 'Setting', ns: 'urn:example:policy', attrs: { xmlns: 'urn:example:policy' }, children: [{ type: 'text' as const, text: '1', cdata: false }] };
    expect(failures(judge(deviceItemAddressesAndData, [package1(), getOf('./P'), resultsWith('./P', { text: '1', markup: [own] })]), 'MDM-XML-009')).toEqual([]);
    const raw = { ...own, ns: '', attrs: {} };
    const f = judge(deviceItemAddressesAndData, [package1(), getOf('./P'), resultsWith('./P', { text: '1', markup: [raw] })]);
    expect(failures(f, 'MDM-XML-009')[0].evidence).toBe('msg 3 (device->server) /SyncBody/Results/Item/Data: Data holds the element <Setting> as raw markup without a namespace of its own, so it reads as SyncML; escape the markup or wrap it in CDATA');
  });
});

test.describe('device alerts (MDM-CMD-ALT-003, -007..-018)', () => {
  const completion = (over: { source?: string; moreData?: boolean; mark?: string } = {}): Alert => {
    const a = eventAlert('1226', { type: 'Reversed-Domain-Name:com.microsoft.mdm.win32csp_install', format: 'int', mark: over.mark ?? 'informational', data: '0', source: over.source });
    if (over.moreData) a.items[0].moreData = true;
    return a;
  };

  test('codes outside MS-MDM\'s fail MDM-CMD-ALT-003, naming a user-interaction alert as such', () => {
    expect(passed(judge(deviceAlertCodes, [package1()]), 'MDM-CMD-ALT-003')).toBe(true);
    const f = judge(deviceAlertCodes, [device(1, [alert('1201'), alert('1101'), { kind: 'Replace', items: [] }])]);
    expect(failures(f, 'MDM-CMD-ALT-003')[0].evidence).toBe('msg 1 (device->server) /SyncBody/Alert[2]/Data: alert code 1101, an OMA user-interaction alert that is not part of MS-MDM; MS-MDM uses 1200, 1201, 1222, 1223, 1224, 1225 and 1226');
  });

  test('a generic alert after the session alert passes; ahead of it fails MDM-CMD-ALT-007', () => {
    expect(failures(judge(deviceGenericAlerts, [package1(completion({ source: './N' }))]), 'MDM-CMD-ALT-007')).toEqual([]);
    const ahead = device(1, [completion({ source: './N' }), alert('1201'), { kind: 'Replace', items: [item({ source: './DevInfo/DevId', data: DEVICE })] }]);
    expect(failures(judge(deviceGenericAlerts, [ahead]), 'MDM-CMD-ALT-007')[0].evidence).toContain('a generic alert ahead of the session alert 1201');
  });

  test('a generic alert spread over messages is judged by ./DevDetail/LrgObj: fails when false, passes when true, not judged unknown', () => {
    const lrgObj = (value: string) => [server(1, [get('./DevDetail/LrgObj')]), device(2, [hdr('1'), st('1', 'Get', 200), results({ msgRef: '1', cmdRef: '1', items: [item({ source: './DevDetail/LrgObj', data: value })] })])];
    const split = package1(completion({ source: './N', moreData: true }));
    expect(failures(judge(deviceGenericAlerts, [split, ...lrgObj('false')]), 'MDM-CMD-ALT-008')[0].evidence).toContain('yet the device reports ./DevDetail/LrgObj false');
    expect(passed(judge(deviceGenericAlerts, [split, ...lrgObj('true')]), 'MDM-CMD-ALT-008')).toBe(true);
    expect(judge(deviceGenericAlerts, [split]).filter((x) => x.id === 'MDM-CMD-ALT-008')).toEqual([]);
  });

  test('each Windows event is judged by its own shape, only when sent', () => {
    expect(judge(deviceWindowsAlerts, [package1()]).map((x) => `${x.id} ${x.verdict}`)).toEqual(['MDM-CMD-ALT-009 pass']);
    const events: [Alert, string, RegExp][] = [
      [eventAlert('1224', { type: 'com.microsoft/MDM/LoginStatus', data: 'alice' }), 'MDM-CMD-ALT-009', /LoginStatus "alice"; it is one of user, others, none/],
      [eventAlert('1224', { type: 'com.microsoft.mdm.synctype', data: 'all' }), 'MDM-CMD-ALT-010', /SyncType "all"; it is one of user, device, mixed/],
      [eventAlert('1226', { type: 'com.microsoft.mdm.synctype', data: 'user' }), 'MDM-CMD-ALT-010', /travels in Alert 1224, not 1226/],
      [eventAlert('1224', { type: 'com.microsoft/MDM/DevicePrepSync', data: 'Done' }), 'MDM-CMD-ALT-012', /DevicePrepSync state "Done"/],
      [eventAlert('1226', { type: 'com.microsoft:mdm.unenrollment.userrequest', format: 'chr', data: '1' }), 'MDM-CMD-ALT-013', /Format chr and Data "1"; Windows sends Format int and Data 1/],
      [eventAlert('1224', { type: 'Reversed-Domain-Name:com.microsoft.mdm.requestpending', data: '2' }), 'MDM-CMD-ALT-015', /carries Data "2"; it carries 1/],
      [completion({ mark: 'critical' }), 'MDM-CMD-ALT-017', /has no Source LocURI naming the node, Mark critical, not informational/],
      [alert('1224', [item({ type: 'com.microsoft/MDM/AADUserToken' })]), 'MDM-CMD-ALT-018', /carries no token/],
    ];
    for (const [event, id, why] of events) {
      const f = judge(deviceWindowsAlerts, [package1(event)]);
      expect(failures(f, id).map((x) => x.evidence), id).toEqual([expect.stringMatching(why)]);
    }
    const fine: Alert[] = [
      eventAlert('1224', { type: 'com.microsoft.mdm.synctype', data: 'mixed' }),
      eventAlert('1224', { type: 'com.microsoft/MDM/DevicePrepSync', data: 'Bootstrapping' }),
      eventAlert('1226', { type: 'com.microsoft:mdm.unenrollment.userrequest', format: 'int', data: '1' }),
      completion({ source: './Device/Vendor/MSFT/EnterpriseDesktopAppManagement/MSI/X/DownloadInstall' }),
    ];
    const f = judge(deviceWindowsAlerts, [package1(...fine)]);
    expect(f.map((x) => `${x.id} ${x.verdict}`).sort()).toEqual(['MDM-CMD-ALT-009', 'MDM-CMD-ALT-010', 'MDM-CMD-ALT-012', 'MDM-CMD-ALT-013', 'MDM-CMD-ALT-017'].map((id) => `${id} pass`));
  });
});
