import { expect, test } from '@playwright/test';
import { CLEAN_DEVICE_BEHAVIOUR, executeCommands, type DeviceBehaviour } from '../../harness/device/execute';
import { join } from 'node:path';
import { loadProfile, readProfileFile } from '../../harness/device/profile';
import type { DmTree } from '../../harness/device/tree';
import {
  add, alert, atomic, codeOf, del, exec, get, item, meta, parseSyncML, replace, sequence, status, type Command, type Status,
} from '../../harness/syncml';

/** The DM tree engine is tested on a profile with a writable test subtree, not on the reference device's Windows tree. */
const ENGINE_TEST_PROFILE = join(__dirname, 'engine-test-device.json');
function engineTestTree(deviceId: string): DmTree {
  return loadProfile(readProfileFile(ENGINE_TEST_PROFILE), { deviceId });
}

const CSP = './Vendor/MSFT/HarnessCSP';
const MSG = '3';

/** CmdIDs in document order, containers before their members, as a server numbers them. */
function numbered(...commands: Command[]): Command[] {
  let next = 1;
  const visit = (c: Command) => {
    if (c.kind !== 'Unknown' && c.cmdID === undefined) c.cmdID = String(next++);
    if (c.kind === 'Atomic' || c.kind === 'Sequence') c.commands.forEach(visit);
  };
  commands.forEach(visit);
  return commands;
}

/** Commands as the codec reads them from a server message body. */
function fromXml(body: string): Command[] {
  const xml =
    '<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1</SessionID>' +
    `<MsgID>${MSG}</MsgID><Target><LocURI>dev-0001</LocURI></Target><Source><LocURI>https://mdm.example/</LocURI></Source></SyncHdr>` +
    `<SyncBody>${body}<Final/></SyncBody></SyncML>`;
  return parseSyncML(xml).message.body.commands;
}

function run(commands: Command[], behaviour?: Partial<DeviceBehaviour>, tree: DmTree = engineTestTree('dev-0001')) {
  const outcome = executeCommands(tree, commands, { msgRef: MSG, behaviour });
  return { ...outcome, tree, codes: outcome.statuses.map(line) };
}

/** `Cmd CmdRef code [TargetRef…]` for each Status. */
function line(s: Status): string {
  return [s.cmd, s.cmdRef, codeOf(s), ...s.targetRefs].join(' ');
}

function valueAt(tree: DmTree, uri: string): string | undefined {
  return tree.lookup(uri)?.value;
}

function dump(tree: DmTree): unknown[] {
  return tree.uris().map((u) => tree.lookup(u));
}

test.describe('Get and Results', () => {
  test('Get of a leaf: Status 200 and Results with MsgRef, CmdRef, Cmd Get, Source, Format (MDM-CMD-GET-002, MDM-RES-001, MDM-RES-002, MDM-RES-003)', () => {
    const { statuses, results } = run(numbered(get('./DevInfo/DmV')));
    expect(statuses).toEqual([status({ msgRef: MSG, cmdRef: '1', cmd: 'Get', code: '200' })]);
    expect(results).toEqual([
      { kind: 'Results', msgRef: MSG, cmdRef: '1', cmd: 'Get', items: [item({ source: './DevInfo/DmV', format: 'chr', data: '1.3' })] },
    ]);
    expect(statuses[0].cmdID).toBeUndefined();
    expect(results[0].cmdID).toBeUndefined();
  });

  test('Results state Format for int and bool, and Type when it is not text/plain (MDM-RES-003)', () => {
    const { results } = run(numbered(get(`${CSP}/Settings/Count`), get('./DevDetail/LrgObj'), get(`${CSP}/Settings/Blob`)));
    expect(results.map((r) => r.items[0].meta)).toEqual([
      meta({ format: 'int' }),
      meta({ format: 'bool' }),
      meta({ format: 'b64', type: 'application/octet-stream' }),
    ]);
    expect(results.map((r) => r.cmdRef)).toEqual(['1', '2', '3']);
  });

  test('Get of an interior node returns its child names, URI-encoded, with Format node (MDM-CMD-GET-004)', () => {
    const tree = engineTestTree('dev-0001');
    run(numbered(add(`${CSP}/Items/two%20words`, 'x')), undefined, tree);
    const { results } = run(numbered(get('./DevInfo', `${CSP}/Items`)), undefined, tree);
    expect(results[0].items).toEqual([
      item({ source: './DevInfo', format: 'node', data: 'DevId/Man/Mod/DmV/Lang' }),
      item({ source: `${CSP}/Items`, format: 'node', data: 'First/two%20words' }),
    ]);
  });

  test('Get of a missing node answers 404 and no Results (MDM-STS-017)', () => {
    const { codes, results } = run(numbered(get('./DevInfo/Missing')));
    expect(codes).toEqual(['Get 1 404']);
    expect(results).toEqual([]);
  });

  test('Get of an unsupported feature answers 406; Get where not granted 405 (MDM-STS-020)', () => {
    const { codes, results } = run(numbered(get(`${CSP}/Legacy/Mode`), get(`${CSP}/Actions/Echo`)));
    expect(codes).toEqual(['Get 1 406', 'Get 2 405']);
    expect(results).toEqual([]);
  });

  test('a multi-Item Get with one outcome: one Status without TargetRef, one Results with every Item (MDM-STS-010, MDM-RES-004)', () => {
    const { statuses, results } = run(numbered(get('./DevInfo/Man', './DevInfo/Mod', './DevInfo/Lang')));
    expect(statuses.map(line)).toEqual(['Get 1 200']);
    expect(statuses[0].targetRefs).toEqual([]);
    expect(results).toHaveLength(1);
    expect(results[0].items.map((i) => i.source?.locURI)).toEqual(['./DevInfo/Man', './DevInfo/Mod', './DevInfo/Lang']);
  });

  test('a multi-Item Get with mixed outcomes: one Status per Item with TargetRef, Results hold the successful Items (MDM-STS-009, MDM-RES-004)', () => {
    const { codes, results } = run(numbered(get('./DevInfo/Man', './DevInfo/Nope', './DevDetail/SwV')));
    expect(codes).toEqual(['Get 1 200 ./DevInfo/Man', 'Get 1 404 ./DevInfo/Nope', 'Get 1 200 ./DevDetail/SwV']);
    expect(results).toHaveLength(1);
    expect(results[0].items.map((i) => i.source?.locURI)).toEqual(['./DevInfo/Man', './DevDetail/SwV']);
  });

  test('Statuses in command order, all Results after them, one Results per successful Get (MDM-STS-007, MDM-RES-004, MDM-RES-007)', () => {
    const { codes, results } = run(numbered(get('./DevInfo/Man'), replace(`${CSP}/Settings/Name`, 'n'), get('./DevInfo/Nope'), get('./DevInfo/Mod')));
    expect(codes).toEqual(['Get 1 200', 'Replace 2 200', 'Get 3 404', 'Get 4 200']);
    expect(results.map((r) => r.cmdRef)).toEqual(['1', '4']);
  });

  test('./Device/… and ./device/… reach the device tree; Results name the URI as requested (MDM-XML-019, MDM-RES-002)', () => {
    const { codes, results } = run(numbered(get('./Device/DevInfo/DevId'), get('./device/DevInfo/DevId')));
    expect(codes).toEqual(['Get 1 200', 'Get 2 200']);
    expect(results.map((r) => [r.items[0].source?.locURI, r.items[0].data?.text])).toEqual([
      ['./Device/DevInfo/DevId', 'dev-0001'],
      ['./device/DevInfo/DevId', 'dev-0001'],
    ]);
  });
});

test.describe('Add, Replace, Delete, Exec', () => {
  test('Add of a new leaf answers 200 and stores the value (MDM-CMD-ADD-001, MDM-CMD-ADD-002)', () => {
    const { codes, tree } = run(numbered(add(`${CSP}/Items/Count`, '12', { format: 'int' })));
    expect(codes).toEqual(['Add 1 200']);
    expect(tree.lookup(`${CSP}/Items/Count`)).toMatchObject({ format: 'int', value: '12' });
  });

  test('Add of an existing node answers 418 (MDM-STS-018)', () => {
    expect(run(numbered(add(`${CSP}/Settings/Name`, 'x'))).codes).toEqual(['Add 1 418']);
  });

  test('implicit Add creates the missing interior ancestors (MDM-CMD-ADD-003)', () => {
    const { codes, tree } = run(numbered(add(`${CSP}/Items/New/Deep/Leaf`, 'v')));
    expect(codes).toEqual(['Add 1 200']);
    expect(tree.childNames(`${CSP}/Items/New`)).toEqual(['Deep']);
    expect(valueAt(tree, `${CSP}/Items/New/Deep/Leaf`)).toBe('v');
  });

  test('Add below a read-only node answers 405 and names the ancestor it could not create (MDM-STS-019, MDM-CMD-ADD-004)', () => {
    const { statuses, tree } = run(numbered(add('./Vendor/MSFT/NewCSP/Setting', 'x'), add('./DevInfo/Extra', 'x')));
    expect(statuses.map(line)).toEqual(['Add 1 405', 'Add 2 405']);
    expect(statuses[0].items).toEqual([item({ target: './Vendor/MSFT/NewCSP' })]);
    expect(statuses[1].items).toEqual([]);
    expect(tree.has('./Vendor/MSFT/NewCSP')).toBe(false);
  });

  test('Replace overwrites an existing value (MDM-CMD-REP-001, MDM-CMD-REP-002)', () => {
    const { codes, tree } = run(numbered(replace(`${CSP}/Settings/Count`, '5', { format: 'int' }), replace(`${CSP}/Settings/Enabled`, 'false', { format: 'bool' })));
    expect(codes).toEqual(['Replace 1 200', 'Replace 2 200']);
    expect([valueAt(tree, `${CSP}/Settings/Count`), valueAt(tree, `${CSP}/Settings/Enabled`)]).toEqual(['5', 'false']);
  });

  test('Replace of a read-only node answers 405 (MDM-STS-019)', () => {
    const { codes, tree } = run(numbered(replace('./DevInfo/Man', 'Other', { format: 'chr' }), replace('./DevDetail/SwV', '1')));
    expect(codes).toEqual(['Replace 1 405', 'Replace 2 405']);
    expect(valueAt(tree, './DevInfo/Man')).toBe('Microsoft Corporation');
  });

  test('Replace of a missing node answers 404, in DevInfo and elsewhere (MDM-CMD-REP-002, A-25)', () => {
    const { codes, tree } = run(numbered(replace('./DevInfo/Nope', 'x'), replace(`${CSP}/Settings/Missing`, 'x')));
    expect(codes).toEqual(['Replace 1 404', 'Replace 2 404']);
    expect(tree.has(`${CSP}/Settings/Missing`)).toBe(false);
  });

  test('data that does not fit the node, or a Format or Type other than the node\'s, answers 415 (MDM-STS-020)', () => {
    const { codes, tree } = run(
      numbered(
        replace(`${CSP}/Settings/Count`, 'abc', { format: 'int' }),
        replace(`${CSP}/Settings/Count`, '5'),
        replace(`${CSP}/Settings/Count`, '5', { format: 'chr' }),
        replace(`${CSP}/Settings/Enabled`, 'yes', { format: 'bool' }),
        replace(`${CSP}/Settings/Blob`, 'AA==', { format: 'b64', type: 'image/png' }),
        add(`${CSP}/Items/N`, 'abc', { format: 'int' }),
        add(`${CSP}/Items/M`, 'x', { format: 'text' }),
      ),
    );
    expect(codes).toEqual(['Replace 1 415', 'Replace 2 415', 'Replace 3 415', 'Replace 4 415', 'Replace 5 415', 'Add 6 415', 'Add 7 415']);
    expect(valueAt(tree, `${CSP}/Settings/Count`)).toBe('3');
    expect(tree.has(`${CSP}/Items/N`)).toBe(false);
  });

  test('an Item setting a value without Data is incomplete: 412 (MDM-XML-020)', () => {
    const [cmd] = numbered(replace(`${CSP}/Settings/Name`, 'x'));
    if (cmd.kind !== 'Replace') throw new Error('unexpected');
    delete cmd.items[0].data;
    expect(run([cmd]).codes).toEqual(['Replace 1 412']);
  });

  test('commands on an unsupported feature answer 406 (MDM-STS-020)', () => {
    const { codes } = run(numbered(replace(`${CSP}/Legacy/Mode`, '2', { format: 'int' }), add(`${CSP}/Legacy/X`, 'x'), del(`${CSP}/Legacy`)));
    expect(codes).toEqual(['Replace 1 406', 'Add 2 406', 'Delete 3 406']);
  });

  test('Replace accepted for asynchronous completion answers 202 (MDM-STS-022)', () => {
    expect(run(numbered(replace('./Vendor/MSFT/Personalization/DesktopImageUrl', 'https://img.example/a.jpg'))).codes).toEqual(['Replace 1 202']);
  });

  test('Delete removes the subtree (200); permanent or root 405; missing 404; read-only 405 (MDM-CMD-DEL-001, MDM-CMD-DEL-002, MDM-STS-019)', () => {
    const { codes, tree } = run(
      numbered(del(`${CSP}/Items/First`), del(`${CSP}/Settings/Name`), del('.'), del(`${CSP}/Items/First`), del('./DevInfo/Lang')),
    );
    expect(codes).toEqual(['Delete 1 200', 'Delete 2 405', 'Delete 3 405', 'Delete 4 404', 'Delete 5 405']);
    expect(tree.has(`${CSP}/Items/First/Value`)).toBe(false);
    expect(run(numbered(get(`${CSP}/Items/First/Value`)), undefined, tree).codes).toEqual(['Get 1 404']);
  });

  test('Exec answers 200, or 202 for a long-running action; missing 404; not executable 405 (MDM-CMD-EXE-001, MDM-CMD-EXE-002)', () => {
    const { codes } = run(
      numbered(exec(`${CSP}/Actions/Echo`, 'hello'), exec(`${CSP}/Actions/Deferred`), exec('./Vendor/MSFT/Reboot/RebootNow'), exec(`${CSP}/Actions/Nope`), exec('./DevInfo/Man')),
    );
    expect(codes).toEqual(['Exec 1 200', 'Exec 2 202', 'Exec 3 200', 'Exec 4 404', 'Exec 5 405']);
  });

  test('a multi-Item Replace with mixed outcomes gets one Status per Item; with one outcome a single Status (MDM-STS-009, MDM-STS-010)', () => {
    const mixed = replace(`${CSP}/Settings/Name`, 'a');
    mixed.items.push(item({ target: './DevInfo/Man', data: 'b' }), item({ target: `${CSP}/Items/First/Value`, data: 'c' }));
    const same = del(`${CSP}/Settings/Count`, `${CSP}/Settings/Enabled`);
    const { statuses } = run(numbered(mixed, same));
    expect(statuses.map(line)).toEqual([
      `Replace 1 200 ${CSP}/Settings/Name`,
      'Replace 1 405 ./DevInfo/Man',
      `Replace 1 200 ${CSP}/Items/First/Value`,
      'Delete 2 200',
    ]);
    expect(statuses[3].targetRefs).toEqual([]);
  });

  test('percent-escaped node names are decoded per segment (MDM-XML-018)', () => {
    const { codes, tree } = run(numbered(add(`${CSP}/Items/caf%C3%A9`, 'latte'), get(`${CSP}/Items`)));
    expect(codes).toEqual(['Add 1 200', 'Get 2 200']);
    expect(tree.childNames(`${CSP}/Items`)).toEqual(['First', 'caf%C3%A9']);
  });
});

test.describe('malformed commands', () => {
  test('an element that is not a DM command under SyncBody, Atomic or Sequence answers 400 with Cmd = its name (MDM-XML-013)', () => {
    const commands = fromXml(
      '<Copy><CmdID>1</CmdID><Item><Target><LocURI>./A</LocURI></Target></Item></Copy>' +
        '<Sequence><CmdID>2</CmdID><Frobnicate><CmdID>3</CmdID></Frobnicate>' +
        `<Replace><CmdID>4</CmdID><Item><Target><LocURI>${CSP}/Settings/Name</LocURI></Target><Data>seq</Data></Item></Replace></Sequence>` +
        `<Atomic><CmdID>5</CmdID><Add><CmdID>6</CmdID><Item><Target><LocURI>${CSP}/Items/A</LocURI></Target><Data>a</Data></Item></Add>` +
        '<Move><CmdID>7</CmdID></Move></Atomic>',
    );
    const { codes, tree } = run(commands);
    expect(codes).toEqual(['Copy 1 400', 'Sequence 2 200', 'Frobnicate 3 400', 'Replace 4 200', 'Atomic 5 507', 'Add 6 215', 'Move 7 400']);
    expect(valueAt(tree, `${CSP}/Settings/Name`)).toBe('seq');
    expect(tree.has(`${CSP}/Items/A`)).toBe(false);
  });

  test('a command without CmdID answers 400 with an empty CmdRef and is not executed (MDM-XML-014, A-34)', () => {
    const commands = fromXml(`<Replace><Item><Target><LocURI>${CSP}/Settings/Name</LocURI></Target><Data>x</Data></Item></Replace>`);
    const { statuses, tree } = run(commands);
    expect(statuses).toEqual([status({ msgRef: MSG, cmdRef: '', cmd: 'Replace', code: '400' })]);
    expect(valueAt(tree, `${CSP}/Settings/Name`)).toBe('reference');
  });

  test('a container without CmdID answers 400 and runs none of its members (MDM-XML-014, MDM-STS-004)', () => {
    const seq = sequence(add(`${CSP}/Items/A`, 'a', { cmdID: 2 }));
    const { codes, tree } = run([seq]);
    expect(codes).toEqual(['Sequence  400', 'Add 2 215']);
    expect(tree.has(`${CSP}/Items/A`)).toBe(false);
  });

  test('a LocURI starting with / is rejected with 400 (MDM-XML-015, A-33)', () => {
    const { codes, tree } = run(numbered(get('/DevInfo/DevId'), add(`/${CSP.slice(2)}/Items/A`, 'a'), replace('/Vendor/MSFT/HarnessCSP/Settings/Name', 'x')));
    expect(codes).toEqual(['Get 1 400', 'Add 2 400', 'Replace 3 400']);
    expect(tree.has(`${CSP}/Items/A`)).toBe(false);
  });

  test('. after the first segment, empty and * segments are invalid URIs: 400 (MDM-XML-016, MDM-XML-017)', () => {
    const { codes } = run(numbered(get('./DevInfo/./DevId'), get('./DevInfo//DevId'), get('./Vendor/*/DMClient'), get('./DevInfo/')));
    expect(codes).toEqual(['Get 1 400', 'Get 2 400', 'Get 3 400', 'Get 4 400']);
  });

  test('a server Alert other than the session alerts answers 406; Status is never answered (MDM-STS-015, MDM-CMD-ALT-003)', () => {
    const serverStatus = status({ cmdID: 9, msgRef: '1', cmdRef: '2', cmd: 'Alert', code: '200' });
    const { codes } = run(numbered(alert('1226'), alert('1100'), serverStatus, alert('1223'), alert('1222')));
    expect(codes).toEqual(['Alert 1 406', 'Alert 2 406', 'Alert 3 200', 'Alert 4 200']);
  });
});

test.describe('Atomic', () => {
  test('all members succeed: Atomic 200 before its members, each with its own code, tree changed (MDM-CMD-ATO-001, MDM-CMD-ATO-006, MDM-STS-004, A-10)', () => {
    const { codes, tree } = run(
      numbered(
        atomic(add(`${CSP}/Items/A`, 'a'), replace(`${CSP}/Settings/Count`, '8', { format: 'int' }), del(`${CSP}/Items/First`), exec(`${CSP}/Actions/Deferred`)),
      ),
    );
    expect(codes).toEqual(['Atomic 1 200', 'Add 2 200', 'Replace 3 200', 'Delete 4 200', 'Exec 5 202']);
    expect(valueAt(tree, `${CSP}/Items/A`)).toBe('a');
    expect(valueAt(tree, `${CSP}/Settings/Count`)).toBe('8');
    expect(tree.has(`${CSP}/Items/First`)).toBe(false);
  });

  test('Meta of the Atomic applies to its members (MDM-CMD-ATO-009)', () => {
    const a = atomic(replace(`${CSP}/Settings/Count`, '9'), add(`${CSP}/Items/N`, '10'));
    a.meta = meta({ format: 'int' });
    const { codes, tree } = run(numbered(a));
    expect(codes).toEqual(['Atomic 1 200', 'Replace 2 200', 'Add 3 200']);
    expect(tree.lookup(`${CSP}/Items/N`)).toMatchObject({ format: 'int', value: '10' });
  });

  test('a failing member rolls back the whole Atomic: 507, the member its own code, earlier members 216, later 215, tree unchanged (MDM-CMD-ATO-002, MDM-CMD-ATO-006)', () => {
    const tree = engineTestTree('dev-0001');
    const before = dump(tree);
    const { codes } = run(
      numbered(
        atomic(
          add(`${CSP}/Items/A/B`, 'a'),
          del(`${CSP}/Items/First`),
          replace(`${CSP}/Settings/Count`, '8', { format: 'int' }),
          replace('./DevInfo/Man', 'x'),
          add(`${CSP}/Items/C`, 'c'),
        ),
      ),
      undefined,
      tree,
    );
    expect(codes).toEqual(['Atomic 1 507', 'Add 2 216', 'Delete 3 216', 'Replace 4 216', 'Replace 5 405', 'Add 6 215']);
    expect(dump(tree)).toEqual(before);
  });

  test('a multi-Item member that partly fails: its successful Items report 216 (MDM-CMD-ATO-006, MDM-STS-009)', () => {
    const member = add(`${CSP}/Items/A`, 'a');
    member.items.push(item({ target: `${CSP}/Settings/Name`, data: 'exists' }));
    const { codes, tree } = run(numbered(atomic(member)));
    expect(codes).toEqual(['Atomic 1 507', `Add 2 216 ${CSP}/Items/A`, `Add 2 418 ${CSP}/Settings/Name`]);
    expect(tree.has(`${CSP}/Items/A`)).toBe(false);
  });

  test('Get inside Atomic answers 500, the Atomic 507, and no member runs (MDM-CMD-GET-005, MDM-CMD-ATO-003)', () => {
    const { codes, results, tree } = run(numbered(atomic(add(`${CSP}/Items/A`, 'a'), get('./DevInfo/Man'))));
    expect(codes).toEqual(['Atomic 1 507', 'Add 2 215', 'Get 3 500']);
    expect(results).toEqual([]);
    expect(tree.has(`${CSP}/Items/A`)).toBe(false);
  });

  test('a nested Atomic answers 500, the enclosing Atomic 507, and no member runs (MDM-CMD-ATO-004, MDM-CMD-ATO-003)', () => {
    const { codes, tree } = run(numbered(atomic(add(`${CSP}/Items/A`, 'a'), atomic(add(`${CSP}/Items/B`, 'b')))));
    expect(codes).toEqual(['Atomic 1 507', 'Add 2 215', 'Atomic 3 500', 'Add 4 215']);
    expect(tree.has(`${CSP}/Items/A`)).toBe(false);
    expect(tree.has(`${CSP}/Items/B`)).toBe(false);
  });

  test('a member without CmdID makes the Atomic invalid: 400 with empty CmdRef, 507, nothing runs (MDM-CMD-ATO-003, MDM-XML-014)', () => {
    const a = atomic(add(`${CSP}/Items/A`, 'a', { cmdID: 2 }), add(`${CSP}/Items/B`, 'b'));
    a.cmdID = '1';
    const { codes, tree } = run([a]);
    expect(codes).toEqual(['Atomic 1 507', 'Add 2 215', 'Add  400']);
    expect(tree.has(`${CSP}/Items/A`)).toBe(false);
  });

  test('Atomic inside a Sequence runs normally (MDM-CMD-SEQ-004, MDM-CMD-ATO-002)', () => {
    const { codes, tree } = run(numbered(sequence(atomic(add(`${CSP}/Items/A`, 'a'), add(`${CSP}/Items/B`, 'b')), get(`${CSP}/Items/A`))));
    expect(codes).toEqual(['Sequence 1 200', 'Atomic 2 200', 'Add 3 200', 'Add 4 200', 'Get 5 200']);
    expect(tree.has(`${CSP}/Items/B`)).toBe(true);
  });
});

test.describe('Sequence', () => {
  test('members run in document order: Add then Replace of one node both succeed (MDM-CMD-SEQ-001, MDM-CMD-SEQ-004, MDM-STS-004)', () => {
    const { codes, tree } = run(numbered(sequence(add(`${CSP}/Items/S`, 'first'), replace(`${CSP}/Items/S`, 'second'), get(`${CSP}/Items/S`))));
    expect(codes).toEqual(['Sequence 1 200', 'Add 2 200', 'Replace 3 200', 'Get 4 200']);
    expect(valueAt(tree, `${CSP}/Items/S`)).toBe('second');
  });

  test('a failing member does not stop the Sequence, which still answers 200 (MDM-CMD-SEQ-004, MDM-STS-008)', () => {
    const { codes, results } = run(numbered(sequence(replace('./DevInfo/Man', 'x'), get('./DevInfo/Man')), get('./DevInfo/Mod')));
    expect(codes).toEqual(['Sequence 1 200', 'Replace 2 405', 'Get 3 200', 'Get 4 200']);
    expect(results.map((r) => r.cmdRef)).toEqual(['3', '4']);
  });
});

test.describe('behaviour knobs', () => {
  test('the clean behaviour is the Windows default and cannot be changed', () => {
    expect(CLEAN_DEVICE_BEHAVIOUR).toEqual({
      missingNodeGetCode: '404', atomicRollback: true, sequenceInOrder: true, statusForEveryCommand: true,
      resultsCmdRef: 'correct', addExistingCode: '418', readOnlyWriteCode: '405', statusOrder: 'document',
      decodeBeforeSplitting: false, resolveDotSegments: false, leadingSlashIsRoot: false, collapseEmptySegments: false,
      missingDataIsEmpty: false, badFormatCode: '415', deniedCode: '425', replaceMissingCode: '404', deleteMissingCode: '404',
      execAcceptsBeforeLaunch: false, asyncAcceptedCode: '202', atomicMembers: ['Add', 'Delete', 'Replace', 'Exec'],
      atomicValidatesFirst: true, rolledBackCode: '216', atomicStatusLimit: 0, keepEffectsOn517: false, resultsPerItem: false,
      statusPerItem: true, targetRefsOnSharedStatus: false, sequenceTakesMemberCode: false, commandMetaApplies: true,
      containerMetaApplies: true, implicitAdd: true, namesFailedAncestor: true, userScopeCode: '405',
    });
    expect(Object.isFrozen(CLEAN_DEVICE_BEHAVIOUR)).toBe(true);
  });

  test('missingNodeGetCode 200: a missing node answers 200 with empty Data; writes still 404 (MDM-STS-017)', () => {
    const { codes, results } = run(numbered(get('./DevInfo/Missing'), replace(`${CSP}/Missing`, 'x')), { missingNodeGetCode: '200' });
    expect(codes).toEqual(['Get 1 200', 'Replace 2 404']);
    expect(results).toEqual([
      { kind: 'Results', msgRef: MSG, cmdRef: '1', cmd: 'Get', items: [item({ source: './DevInfo/Missing', format: 'chr', data: '' })] },
    ]);
  });

  test('atomicRollback false: same Statuses, but the members\' effects stay in the tree (MDM-CMD-ATO-002)', () => {
    const commands = () => numbered(atomic(add(`${CSP}/Items/A`, 'a'), replace('./DevInfo/Man', 'x')));
    const clean = run(commands());
    const faulty = run(commands(), { atomicRollback: false });
    expect(faulty.codes).toEqual(clean.codes);
    expect(clean.tree.has(`${CSP}/Items/A`)).toBe(false);
    expect(faulty.tree.has(`${CSP}/Items/A`)).toBe(true);
  });

  test('sequenceInOrder false: members run in reverse, Statuses still in document order (MDM-CMD-SEQ-001, MDM-STS-007)', () => {
    const { codes, tree } = run(numbered(sequence(add(`${CSP}/Items/S`, 'first'), replace(`${CSP}/Items/S`, 'second'))), { sequenceInOrder: false });
    expect(codes).toEqual(['Sequence 1 200', 'Add 2 200', 'Replace 3 404']);
    expect(valueAt(tree, `${CSP}/Items/S`)).toBe('first');
  });

  test('statusForEveryCommand false: the last member of each container loses its Status (MDM-STS-004, MDM-CMD-SEQ-004)', () => {
    const commands = () =>
      numbered(sequence(add(`${CSP}/Items/A`, 'a'), get('./DevInfo/Man')), atomic(add(`${CSP}/Items/B`, 'b'), add(`${CSP}/Items/C`, 'c')), get('./DevInfo/Mod'));
    expect(run(commands()).codes).toEqual(['Sequence 1 200', 'Add 2 200', 'Get 3 200', 'Atomic 4 200', 'Add 5 200', 'Add 6 200', 'Get 7 200']);
    const faulty = run(commands(), { statusForEveryCommand: false });
    expect(faulty.codes).toEqual(['Sequence 1 200', 'Add 2 200', 'Atomic 4 200', 'Add 5 200', 'Get 7 200']);
    expect(faulty.tree.has(`${CSP}/Items/C`)).toBe(true);
    expect(faulty.results.map((r) => r.cmdRef)).toEqual(['3', '7']);
  });

  test('resultsCmdRef off-by-one: Results point at the wrong command (MDM-RES-001, MDM-RES-005)', () => {
    const { codes, results } = run(numbered(get('./DevInfo/Man'), get('./DevInfo/Mod')), { resultsCmdRef: 'off-by-one' });
    expect(codes).toEqual(['Get 1 200', 'Get 2 200']);
    expect(results.map((r) => r.cmdRef)).toEqual(['2', '3']);
  });

  test('addExistingCode: an Add of an existing node answers the faulty code (MDM-STS-018)', () => {
    const { codes, tree } = run(numbered(add(`${CSP}/Settings/Name`, 'x'), add(`${CSP}/Items/New`, 'n')), { addExistingCode: '500' });
    expect(codes).toEqual(['Add 1 500', 'Add 2 200']);
    expect(valueAt(tree, `${CSP}/Settings/Name`)).toBe('reference');
  });

  test('readOnlyWriteCode: writes to read-only nodes answer the faulty code, other refusals keep theirs (MDM-STS-019)', () => {
    const { codes } = run(
      numbered(replace('./DevInfo/Man', 'x'), add('./DevInfo/Extra', 'x'), del('./DevInfo/Lang'), del(`${CSP}/Settings/Name`), exec('./DevInfo/Man')),
      { readOnlyWriteCode: '403' },
    );
    expect(codes).toEqual(['Replace 1 403', 'Add 2 403', 'Delete 3 403', 'Delete 4 405', 'Exec 5 405']);
  });

  test('statusOrder reversed: the Statuses come in reverse command order (MDM-STS-007)', () => {
    const { codes } = run(numbered(get('./DevInfo/Man'), sequence(add(`${CSP}/Items/A`, 'a')), get('./DevInfo/Nope')), { statusOrder: 'reversed' });
    expect(codes).toEqual(['Get 4 404', 'Add 3 200', 'Sequence 2 200', 'Get 1 200']);
  });

  test('LocURIs are split before their escapes are decoded, and dot-segments are refused (MDM-XML-018, MDM-XML-016)', () => {
    const tricks = numbered(get(`${CSP}/Settings%2FName`), get(`${CSP}/Settings/../Settings/Name`), get('./DevInfo/%2E%2E/DevInfo/Man'), get('./DevInfo/./Man'), get('./DevInfo/M%61n'));
    expect(run(tricks).codes).toEqual(['Get 1 404', 'Get 2 400', 'Get 3 400', 'Get 4 400', 'Get 5 200']);
    // The weak readings: %2F becomes a separator; dot-segments are collapsed as in a file path. Results keep the URI as sent.
    expect(run(numbered(get(`${CSP}/Settings%2FName`)), { decodeBeforeSplitting: true }).codes).toEqual(['Get 1 200']);
    const dots = run(tricks, { resolveDotSegments: true });
    expect(dots.codes).toEqual(['Get 1 404', 'Get 2 200', 'Get 3 200', 'Get 4 200', 'Get 5 200']);
    expect(dots.results.map((r) => r.items[0].source?.locURI)).toEqual([`${CSP}/Settings/../Settings/Name`, './DevInfo/%2E%2E/DevInfo/Man', './DevInfo/./Man', './DevInfo/M%61n']);
  });

  test('a partial behaviour changes only the knob it names (MDM-STS-017, MDM-STS-018)', () => {
    const { codes } = run(numbered(get('./DevInfo/Missing'), add(`${CSP}/Settings/Name`, 'x')), { missingNodeGetCode: '200' });
    expect(codes).toEqual(['Get 1 200', 'Add 2 418']);
  });
});
