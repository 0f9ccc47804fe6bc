/**
 * The reference device's command knobs and Windows session habits: the clean default on each, and what the knob a
 * fault flips changes (one violation each), on the engine test profile and the Windows profile.
 */
import { expect, test } from '@playwright/test';
import { join } from 'node:path';
import { executeCommands, type DeviceBehaviour, type ExecutionContext } from '../../harness/device/execute';
import { loadDefaultTree, loadProfile, readProfileFile } from '../../harness/device/profile';
import type { DmTree } from '../../harness/device/tree';
import {
  numberedByPosition, sessionExtras, syncApplicationVersion, syncTypeAlert, WINDOWS_SESSION_BEHAVIOUR, withMsftExtensions,
} from '../../harness/device/windows-session';
import {
  add, atomic, codeOf, del, exec, get, item, message, meta, MSFT_NS, replace, sequence, status, type Atomic, type Command, type Replace, type Status,
} from '../../harness/syncml';

const CSP = './Vendor/MSFT/HarnessCSP';
const MSG = '3';
const engineTree = () => loadProfile(readProfileFile(join(__dirname, 'engine-test-device.json')), { deviceId: 'dev-0001' });

function numbered(...commands: Command[]): Command[] {
  let next = 1;
  const visit = (c: Command) => {
    if (c.kind !== 'Unknown' && c.cmdID === undefined) c.cmdID = String(next++);
    if (c.kind === 'Atomic' || c.kind === 'Sequence') c.commands.forEach(visit);
  };
  commands.forEach(visit);
  return commands;
}

const line = (s: Status) => [s.cmd, s.cmdRef, codeOf(s), ...s.targetRefs].join(' ');

function run(commands: Command[], behaviour?: Partial<DeviceBehaviour>, tree: DmTree = engineTree(), ctx: Partial<ExecutionContext> = {}) {
  const out = executeCommands(tree, commands, { msgRef: MSG, behaviour, ...ctx });
  return { ...out, tree, codes: out.statuses.map(line) };
}

/** The codes a command list gets from the clean device and from one with `knob`. */
function both(make: () => Command[], knob: Partial<DeviceBehaviour>, tree: () => DmTree = engineTree) {
  return { clean: run(make(), undefined, tree()).codes, faulty: run(make(), knob, tree()).codes };
}

test.describe('LocURI readings (MDM-XML-015, MDM-XML-017) and Data (MDM-XML-020)', () => {
  test('a leading "/" is refused unless read as "./"', () => {
    expect(both(() => numbered(get('/DevInfo/Man')), { leadingSlashIsRoot: true })).toEqual({ clean: ['Get 1 400'], faulty: ['Get 1 200'] });
  });

  test('an empty segment is refused unless collapsed', () => {
    expect(both(() => numbered(get('./DevInfo//Man')), { collapseEmptySegments: true })).toEqual({ clean: ['Get 1 400'], faulty: ['Get 1 200'] });
  });

  test('a Replace with Format and no Data is incomplete (412) unless taken as an empty value', () => {
    const noData = (): Command[] => numbered({ kind: 'Replace', items: [item({ target: `${CSP}/Settings/Notes`, format: 'chr' })] });
    expect(both(noData, { missingDataIsEmpty: true })).toEqual({ clean: ['Replace 1 412'], faulty: ['Replace 1 200'] });
  });
});

test.describe('codes (MDM-STS-020, -021, -022, MDM-CMD-REP-002, -DEL-002, -EXE-002)', () => {
  test('a value that does not fit the format: 415, or the code a fault picks', () => {
    expect(both(() => numbered(replace(`${CSP}/Settings/Count`, 'seven', { format: 'int' })), { badFormatCode: '400' })).toEqual({ clean: ['Replace 1 415'], faulty: ['Replace 1 400'] });
  });

  test('a node an access-control list keeps the server out of: 425 for every command, the subtree included', () => {
    const denied = './Vendor/MSFT/DMClient/Provider/OtherMDM';
    const make = () => numbered(get(`${denied}/EntDeviceName`), replace(`${denied}/EntDeviceName`, 'x'), add(`${denied}/New`, 'x'), del(denied));
    expect(both(make, { deniedCode: '405' }, () => loadDefaultTree('dev-0001'))).toEqual({
      clean: ['Get 1 425', 'Replace 2 425', 'Add 3 425', 'Delete 4 425'],
      faulty: ['Get 1 405', 'Replace 2 405', 'Add 3 405', 'Delete 4 405'],
    });
  });

  test('Replace or Delete of a missing node: 404, unless answered 200 doing nothing', () => {
    const make = () => numbered(replace(`${CSP}/Settings/Gone`, 'x'), del(`${CSP}/Items/Gone`));
    expect(both(make, { replaceMissingCode: '200', deleteMissingCode: '200' })).toEqual({ clean: ['Replace 1 404', 'Delete 2 404'], faulty: ['Replace 1 200', 'Delete 2 200'] });
  });

  test('Exec reports its launch outcome (405 for a leaf without Exec) and 202 for asynchronous work', () => {
    const make = () => numbered(exec(`${CSP}/Settings/Name`), exec(`${CSP}/Actions/Deferred`), exec(`${CSP}/Actions/Echo`));
    expect(both(make, { execAcceptsBeforeLaunch: true })).toEqual({ clean: ['Exec 1 405', 'Exec 2 202', 'Exec 3 200'], faulty: ['Exec 1 202', 'Exec 2 202', 'Exec 3 202'] });
    expect(run(make(), { asyncAcceptedCode: '204' }).codes).toEqual(['Exec 1 405', 'Exec 2 204', 'Exec 3 200']);
  });
});

test.describe('Atomic (MDM-CMD-GET-005, MDM-CMD-ATO-003, -004, -006, -007)', () => {
  test('Get and nested Atomic members are refused before anything runs, unless the device takes them', () => {
    const withGet = () => numbered(atomic(replace(`${CSP}/Settings/Count`, '5', { format: 'int' }), get(`${CSP}/Settings/Name`)));
    expect(both(withGet, { atomicMembers: ['Add', 'Delete', 'Replace', 'Exec', 'Get'] })).toEqual({
      clean: ['Atomic 1 507', 'Replace 2 215', 'Get 3 500'],
      faulty: ['Atomic 1 200', 'Replace 2 200', 'Get 3 200'],
    });
    const nested = () => numbered(atomic(replace(`${CSP}/Settings/Name`, 'n'), atomic(replace(`${CSP}/Settings/Notes`, 'm'))));
    expect(both(nested, { atomicMembers: ['Add', 'Delete', 'Replace', 'Exec', 'Atomic'] })).toEqual({
      clean: ['Atomic 1 507', 'Replace 2 215', 'Atomic 3 500', 'Replace 4 215'],
      faulty: ['Atomic 1 200', 'Replace 2 200', 'Atomic 3 200', 'Replace 4 200'],
    });
  });

  test('checked as it goes, a member before the bad one runs and is rolled back (216): no effect, but it ran', () => {
    const { codes, tree } = run(numbered(atomic(replace(`${CSP}/Settings/Name`, 'changed'), get(`${CSP}/Settings/Notes`))), { atomicValidatesFirst: false });
    expect(codes).toEqual(['Atomic 1 507', 'Replace 2 216', 'Get 3 500']);
    expect(tree.lookup(`${CSP}/Settings/Name`)?.value).toBe('reference');
  });

  test('rolled-back members report 216, or the code a fault picks', () => {
    const failing = () => numbered(atomic(replace(`${CSP}/Settings/Notes`, 'x'), del(`${CSP}/Items/Gone`)));
    expect(both(failing, { rolledBackCode: '200' })).toEqual({ clean: ['Atomic 1 507', 'Replace 2 216', 'Delete 3 404'], faulty: ['Atomic 1 507', 'Replace 2 200', 'Delete 3 404'] });
  });

  test('an Atomic past the status limit fails with 517 and rolls back, or keeps its effects under the fault', () => {
    const many = () => numbered(atomic(replace(`${CSP}/Settings/Notes`, 'a'), replace(`${CSP}/Settings/Name`, 'b')));
    const rolled = run(many(), { atomicStatusLimit: 1 });
    expect(rolled.codes).toEqual(['Atomic 1 517', 'Replace 2 216', 'Replace 3 216']);
    expect(rolled.tree.lookup(`${CSP}/Settings/Notes`)?.value).toBe('none');
    const kept = run(many(), { atomicStatusLimit: 1, keepEffectsOn517: true });
    expect(kept.codes).toEqual(['Atomic 1 517', 'Replace 2 200', 'Replace 3 200']);
    expect(kept.tree.lookup(`${CSP}/Settings/Notes`)?.value).toBe('a');
    expect(run(many()).codes).toEqual(['Atomic 1 200', 'Replace 2 200', 'Replace 3 200']);
  });
});

test.describe('Statuses and Results of several Items (MDM-STS-008, -009, -010, MDM-RES-004)', () => {
  const mixed = () => numbered(get('./DevInfo/Man', './DevInfo/Nope'));
  test('Items that fare differently: one Status each, unless one Status carries the first Item\'s code', () => {
    expect(both(mixed, { statusPerItem: false })).toEqual({ clean: ['Get 1 200 ./DevInfo/Man', 'Get 1 404 ./DevInfo/Nope'], faulty: ['Get 1 200'] });
  });

  test('a Status covering every Item names none, unless the fault lists their TargetRefs', () => {
    const same = () => numbered(get('./DevInfo/Man', './DevInfo/Mod'));
    expect(both(same, { targetRefsOnSharedStatus: true })).toEqual({ clean: ['Get 1 200'], faulty: ['Get 1 200 ./DevInfo/Man ./DevInfo/Mod'] });
  });

  test('one Results per Get, unless one per Item', () => {
    const same = () => numbered(get('./DevInfo/Man', './DevInfo/Mod'));
    expect(run(same()).results.map((r) => r.items.length)).toEqual([2]);
    expect(run(same(), { resultsPerItem: true }).results.map((r) => r.items.length)).toEqual([1, 1]);
  });

  test('a Sequence is answered 200 whatever its members got, unless it takes its failing member\'s code', () => {
    const seq = () => numbered(sequence(get('./DevInfo/Nope'), get('./DevInfo/Man')));
    expect(both(seq, { sequenceTakesMemberCode: true })).toEqual({ clean: ['Sequence 1 200', 'Get 2 404', 'Get 3 200'], faulty: ['Sequence 1 404', 'Get 2 404', 'Get 3 200'] });
  });
});

test.describe('Meta inheritance (MDM-RES-006, MDM-CMD-ATO-009) and implicit Add (MDM-CMD-ADD-003, -004)', () => {
  test('Meta of a command, or of an Atomic, gives its Items their Format', () => {
    const viaCommand = (): Replace => ({ kind: 'Replace', meta: meta({ format: 'int' }), items: [item({ target: `${CSP}/Settings/Count`, data: '4' })] });
    const viaAtomic = (): Atomic => ({ kind: 'Atomic', meta: meta({ format: 'int' }), commands: [{ kind: 'Replace', items: [item({ target: `${CSP}/Settings/Count`, data: '5' })] }] });
    expect(both(() => numbered(viaCommand()), { commandMetaApplies: false })).toEqual({ clean: ['Replace 1 200'], faulty: ['Replace 1 415'] });
    expect(both(() => numbered(viaAtomic()), { containerMetaApplies: false })).toEqual({ clean: ['Atomic 1 200', 'Replace 2 200'], faulty: ['Atomic 1 507', 'Replace 2 415'] });
  });

  test('missing ancestors are created, unless the device does no implicit Add (404)', () => {
    const deep = () => numbered(add(`${CSP}/Items/New/Leaf`, 'x'));
    expect(both(deep, { implicitAdd: false })).toEqual({ clean: ['Add 1 200'], faulty: ['Add 1 404'] });
  });

  test('an ancestor that cannot be created is named in an Item of the Status, unless the fault leaves it out', () => {
    const blocked = () => numbered(add('./DevInfo/Group/Leaf', 'x'));
    expect(run(blocked()).statuses[0].items).toEqual([item({ target: './DevInfo/Group' })]);
    expect(run(blocked(), { namesFailedAncestor: false }).statuses[0].items).toEqual([]);
  });
});

test.describe('the SyncType of an AVD multi-user session (MDM-CMD-ALT-011)', () => {
  const writes = () => numbered(replace('./Vendor/MSFT/Policy/Config/Update/ActiveHoursStart', '9', { format: 'int' }), replace('./User/Vendor/MSFT/Any', 'x'));
  const windows = () => loadDefaultTree('dev-0001');
  test('a user session refuses device-scoped settings, a device session user-scoped ones, a mixed one neither', () => {
    expect(run(writes(), undefined, windows(), { sessionScope: 'user' }).codes[0]).toBe('Replace 1 405');
    expect(run(writes(), undefined, windows(), { sessionScope: 'device' }).codes).toEqual(['Replace 1 200', 'Replace 2 405']);
    expect(run(writes(), undefined, windows(), { sessionScope: 'mixed' }).codes[0]).toBe('Replace 1 200');
    expect(run(writes(), { mixedSessionRefuses: 'device' }, windows(), { sessionScope: 'mixed' }).codes[0]).toBe('Replace 1 405');
  });
});

test.describe('Windows session habits (MDM-XML-006, MDM-XML-007, MDM-ID-004)', () => {
  const failure = () => message({ sessionID: '1', msgID: 2, target: 's', source: 'd', commands: [status({ msgRef: '1', cmdRef: '0', cmd: 'SyncHdr', code: 200 }), status({ msgRef: '1', cmdRef: '2', cmd: 'Get', code: 404 }), status({ msgRef: '1', cmdRef: '3', cmd: 'Get', code: 200 })], final: true });

  test('SyncApplicationVersion is read from the enrollment; 5.0 on a multi-session host gives the session its SyncType', () => {
    const tree = loadDefaultTree('dev-0001');
    expect(syncApplicationVersion(tree)).toBe(1);
    expect(sessionExtras(tree, 'mixed').scope).toBeUndefined();
    tree.replace('./Vendor/MSFT/DMClient/Provider/MDMConformance/SyncApplicationVersion', { value: '5.0' });
    expect(sessionExtras(tree, 'mixed')).toEqual({ version: 5, scope: 'mixed' });
    expect(sessionExtras(tree, undefined).scope).toBeUndefined();
    expect(syncTypeAlert('user').items[0]).toEqual(item({ type: 'com.microsoft.mdm.synctype', data: 'user' }));
  });

  test('from 3.0: xmlns:msft on SyncBody and msft:originalerror on failure Data only; below 3.0 nothing', () => {
    const at3 = withMsftExtensions(failure(), { version: 3 }, WINDOWS_SESSION_BEHAVIOUR);
    expect(at3.body.attrs).toEqual({ 'xmlns:msft': MSFT_NS });
    expect(at3.body.commands.map((c) => (c.kind === 'Status' ? c.data?.attrs : undefined))).toEqual([undefined, { 'msft:originalerror': '0x86000002' }, undefined]);
    expect(withMsftExtensions(failure(), { version: 2 }, WINDOWS_SESSION_BEHAVIOUR)).toEqual(failure());
    const without = withMsftExtensions(failure(), { version: 3 }, { ...WINDOWS_SESSION_BEHAVIOUR, declareMsftNamespace: false, originalErrorOnFailures: false });
    expect(without).toEqual(failure());
  });

  test('numbering by position matches the server only while its CmdIDs run 1, 2, 3 …', () => {
    const msg = message({ sessionID: '1', msgID: 1, target: 'd', source: 's', commands: [get('./A'), get('./B')], final: true });
    msg.body.commands[0].cmdID = '7';
    msg.body.commands[1].cmdID = '10';
    const extras = { version: 1, serverMessage: msg };
    expect(msg.body.commands.map((c) => numberedByPosition(c, extras).cmdID)).toEqual(['1', '2']);
  });
});
