import { expect, test } from '@playwright/test';
import { runChecks, type Finding } from '../../harness/checks/finding';
import { addressProblems, SERVER_COMMAND_CHECKS } from '../../harness/checks/server/commands';
import { sessionFromMessages, type SessionView } from '../../harness/checks/session';
import { DeviceSession } from '../../harness/protocol/device-session';
import { ServerSession, type ServerBehaviour } from '../../harness/protocol/server-session';
import {
  judgeAcceptedNotRetried, judgeOrderKept, judgeResultsTaken, judgeTypedValues, refsAfterData, spacedCmdIDs, withoutResultsMsgRef,
} from '../../harness/scenarios/server/commands';
import {
  add, alert, atomic, codeOf, del, exec, get, item, message, metaValue, parseSyncML, replace, results, sequence, serializeSyncML, status,
  type Command, type Results, type Status, type SyncML,
} from '../../harness/syncml';

const DEVICE = 'dev-0001';
const SERVER = 'https://mdm.example/ManagementServer/MDM.svc';
const DEVINFO = ['./DevInfo/DevId', './DevInfo/Man', './DevInfo/Lang'];

/** CmdIDs in document order from `first`, containers before their members. */
function numbered(commands: Command[], first = 1): Command[] {
  let next = first;
  const visit = (c: Command) => {
    if (c.kind !== 'Unknown' && c.cmdID === undefined) c.cmdID = String(next++);
    if (c.kind === 'Atomic' || c.kind === 'Sequence') c.commands.forEach(visit);
  };
  commands.forEach(visit);
  return commands;
}

function devicePackage1(): SyncML {
  return message({
    sessionID: '1', msgID: 1, target: SERVER, source: DEVICE, final: true,
    commands: numbered([alert('1201'), { kind: 'Replace', items: DEVINFO.map((uri) => item({ source: uri, data: 'x' })) }], 2),
  });
}

const hdrStatus = (msgRef: number) => status({ msgRef: String(msgRef), cmdRef: '0', cmd: 'SyncHdr', code: 200 });

/** A server message: the SyncHdr Status, then `commands`, numbered from 1. */
function serverMessage(msgID: number, answering: number, commands: Command[], final = true): SyncML {
  return message({ sessionID: '1', msgID, target: DEVICE, source: SERVER, final, commands: numbered([hdrStatus(answering), ...commands]) });
}

/** Package 1 answered with the Statuses it is owed, then `commands`. */
function firstReply(commands: Command[], final = true): SyncML {
  return serverMessage(1, 1, [
    status({ msgRef: '1', cmdRef: '2', cmd: 'Alert', code: 200 }), status({ msgRef: '1', cmdRef: '3', cmd: 'Replace', code: 200 }), ...commands,
  ], final);
}

const judge = (view: SessionView) => runChecks(SERVER_COMMAND_CHECKS, view);
const verdicts = (findings: Finding[], verdict: Finding['verdict']) => [...new Set(findings.filter((f) => f.verdict === verdict).map((f) => f.id))].sort();

test.describe('what the server\'s commands hold (serverCommandShapes)', () => {
  const clean = () => [
    get('./DevInfo/Man', './DevDetail/SwV'),
    add('./Vendor/MSFT/NodeCache/P/Nodes/2'),
    replace('./Device/Vendor/MSFT/Policy/Config/Update/ActiveHoursStart', '9', { format: 'int' }),
    del('./Vendor/MSFT/NodeCache/P/Nodes/2'),
    exec('./Vendor/MSFT/Defender/Scan', '1', { format: 'int' }),
    atomic(add('./Vendor/A', 'a', { format: 'chr' }), replace('./Vendor/B', 'b', { format: 'chr' })),
    sequence(replace('./Vendor/C', 'c', { format: 'chr' }), get('./Vendor/C')),
    alert('1222'),
  ];

  test('a package of well-formed commands passes every rule, each seen', () => {
    const findings = judge(sessionFromMessages([devicePackage1(), firstReply(clean())]));
    expect(verdicts(findings, 'fail')).toEqual([]);
    expect(verdicts(findings, 'warn')).toEqual([]);
    expect(verdicts(findings, 'pass')).toEqual(expect.arrayContaining([
      'MDM-CMD-GET-001', 'MDM-CMD-ADD-001', 'MDM-CMD-REP-001', 'MDM-CMD-DEL-001', 'MDM-CMD-EXE-001', 'MDM-XML-020', 'MDM-CMD-ALT-003',
      'MDM-CMD-ATO-005', 'MDM-CMD-ATO-008', 'MDM-CMD-EXE-004', 'MDM-XML-015', 'MDM-XML-019', 'MDM-STS-008', 'MDM-STS-010',
    ]));
  });

  test('an Item without Target/LocURI fails the rule of its command (MDM-CMD-GET-001, ADD-001, REP-001, DEL-001, EXE-001)', () => {
    const noTarget = (c: Command) => {
      if ('items' in c) for (const it of c.items) delete it.target;
      return c;
    };
    const findings = judge(sessionFromMessages([devicePackage1(), firstReply([
      noTarget(get('./A')), noTarget(add('./B', 'b', { format: 'chr' })), noTarget(replace('./C', 'c')), noTarget(del('./D')), noTarget(exec('./E')),
    ])]));
    expect(verdicts(findings, 'fail')).toEqual(['MDM-CMD-ADD-001', 'MDM-CMD-DEL-001', 'MDM-CMD-EXE-001', 'MDM-CMD-GET-001', 'MDM-CMD-REP-001']);
    expect(findings.find((f) => f.id === 'MDM-CMD-REP-001')?.evidence).toMatch(/^msg 2 \(server->device\) \/SyncBody\/Replace\/Item\/Target\/LocURI: Replace Item without Target/);
  });

  test('the continuation chunk of a large object may leave its Target out (MDM-LO-016 warns, MDM-CMD-REP-001 does not fail)', () => {
    const first = replace('./Vendor/Blob', 'first half', { format: 'chr' });
    first.items[0].moreData = true;
    const rest = replace('./Vendor/Blob', 'second half');
    delete rest.items[0].target;
    const ack = message({ sessionID: '1', msgID: 2, target: SERVER, source: DEVICE, commands: numbered([hdrStatus(1), status({ msgRef: '1', cmdRef: '4', cmd: 'Replace', code: 213 }), alert('1222')]) });
    const findings = judge(sessionFromMessages([devicePackage1(), firstReply([first], false), ack, serverMessage(2, 2, [rest])]));
    expect(verdicts(findings, 'fail')).toEqual([]);
  });

  test('a value with a Format but no Data fails MDM-XML-020, an interior node or a null value does not; container Meta counts', () => {
    const empty = (c: Command) => {
      if ('items' in c) for (const it of c.items) delete it.data;
      return c;
    };
    const ok = judge(sessionFromMessages([devicePackage1(), firstReply([add('./Vendor/Node'), empty(replace('./Vendor/Null', '', { format: 'null' }))])]));
    expect(verdicts(ok, 'fail')).toEqual([]);
    const bad = judge(sessionFromMessages([devicePackage1(), firstReply([empty(replace('./Vendor/Int', '9', { format: 'int' }))])]));
    expect(bad.find((f) => f.id === 'MDM-XML-020' && f.verdict === 'fail')?.evidence).toMatch(/Replace of \.\/Vendor\/Int with Format int but no Data/);
    const inAtomic = atomic(empty(replace('./Vendor/Int', '9')));
    inAtomic.meta = { fields: [{ name: 'Format', value: 'int', attrs: { xmlns: 'syncml:metinf' } }] };
    expect(verdicts(judge(sessionFromMessages([devicePackage1(), firstReply([inAtomic])])), 'fail')).toEqual(['MDM-XML-020']);
  });

  test('an OMA user-interaction alert fails MDM-CMD-ALT-003', () => {
    const findings = judge(sessionFromMessages([devicePackage1(), firstReply([alert('1101', [item({ data: 'OK?' })]), get('./A')])]));
    expect(findings.filter((f) => f.verdict === 'fail').map((f) => f.evidence)).toEqual([expect.stringMatching(/\/SyncBody\/Alert\/Data: Alert 1101 is an OMA user-interaction alert/)]);
  });

  test('Add then Replace of one node in an Atomic fails MDM-CMD-ATO-005, however the node is written', () => {
    const findings = judge(sessionFromMessages([devicePackage1(), firstReply([atomic(add('./Device/Vendor/A', 'a', { format: 'chr' }), replace('./Vendor/A', 'b', { format: 'chr' }))])]));
    expect(findings.filter((f) => f.verdict === 'fail').map((f) => `${f.id} ${f.evidence}`)).toEqual([
      expect.stringMatching(/^MDM-CMD-ATO-005 .* \/SyncBody\/Atomic\/Replace: Replace of \.\/Vendor\/A after its Add \(\/SyncBody\/Atomic\/Add\)/),
    ]);
  });

  test('an Atomic with a chunk inside, or continued in the next message, fails MDM-CMD-ATO-008', () => {
    const chunk = replace('./Vendor/Blob', 'part', { format: 'chr' });
    chunk.items[0].moreData = true;
    const inside = judge(sessionFromMessages([devicePackage1(), firstReply([atomic(chunk)], false)]));
    expect(verdicts(inside, 'fail')).toEqual(['MDM-CMD-ATO-008']);
    const head = { ...atomic(replace('./Vendor/A', 'a')), cmdID: '9' };
    const tail = { ...atomic(replace('./Vendor/B', 'b')), cmdID: '9' };
    const next = message({ sessionID: '1', msgID: 2, target: SERVER, source: DEVICE, commands: numbered([hdrStatus(1), alert('1222')]) });
    const split = judge(sessionFromMessages([devicePackage1(), firstReply([head], false), next, serverMessage(2, 2, [tail])]));
    expect(split.find((f) => f.id === 'MDM-CMD-ATO-008' && f.verdict === 'fail')?.evidence).toMatch(/Atomic 9 continues the one at \/SyncBody\/Atomic of the previous message/);
  });

  test('an Exec with a Correlator is warned (MDM-CMD-EXE-004)', () => {
    const e = exec('./Vendor/MSFT/Defender/Scan', '1');
    e.correlator = 'c-1';
    const findings = judge(sessionFromMessages([devicePackage1(), firstReply([e])]));
    expect(verdicts(findings, 'warn')).toEqual(['MDM-CMD-EXE-004']);
    expect(verdicts(findings, 'fail')).toEqual([]);
  });
});

test.describe('node addresses (MDM-XML-015..019)', () => {
  test('device-tree addresses, relative or from "./", with escapes and a ?prop= query, are fine', () => {
    for (const uri of ['./Vendor/MSFT/A', 'Vendor/MSFT/A', './Device/Vendor/MSFT/NodeCache/P/Nodes/caf%C3%A9%20au%20lait', './DevInfo/Man?prop=Type', '.']) {
      expect(addressProblems(uri), uri).toEqual([]);
    }
  });

  test('each broken form names its rule', () => {
    const ids = (uri: string) => addressProblems(uri).map((p) => p.id);
    expect(ids('/Vendor/MSFT/A')).toEqual(['MDM-XML-015']);
    expect(ids('./Vendor/./MSFT')).toEqual(['MDM-XML-016']);
    expect(ids('./Vendor/../DevInfo')).toEqual(['MDM-XML-016']);
    expect(ids('./Vendor//MSFT')).toEqual(['MDM-XML-017']);
    expect(ids('./Vendor/MSFT/')).toEqual(['MDM-XML-017']);
    expect(ids('./Vendor/*')).toEqual(['MDM-XML-017']);
    expect(ids('./Vendor/café au lait')).toEqual(['MDM-XML-018']);
    expect(ids('./Vendor/%zz')).toEqual(['MDM-XML-018']);
    expect(ids('./Vendor/{GUID}')).toEqual(['MDM-XML-018']);
    expect(ids('urn:oma:mo:oma-dm-devinfo:1.0')).toEqual(['MDM-XML-019']);
    expect(ids('https://mdm.example/Vendor/MSFT')).toEqual(['MDM-XML-019']);
    expect(addressProblems('./Vendor/a b')[0].why).toBe('"./Vendor/a b" has " " unescaped in node name "a b"; characters outside the unreserved set are percent-escaped (UTF-8 bytes for non-ASCII)');
  });

  test('the check reports them with the Item\'s path', () => {
    const findings = judge(sessionFromMessages([devicePackage1(), firstReply([get('./DevInfo/Man', '/DevInfo/Mod')])]));
    expect(findings.filter((f) => f.verdict === 'fail').map((f) => `${f.id} ${f.evidence}`)).toEqual([
      'MDM-XML-015 msg 2 (server->device) /SyncBody/Get/Item[2]/Target/LocURI: "/DevInfo/Mod" starts with "/"; a node address starts at the root "./"',
    ]);
  });
});

test.describe('markup in Data (MDM-XML-009, MDM-XML-010)', () => {
  const withData = (data: string) => serializeSyncML(firstReply([replace('./Vendor/Policy', 'PLACEHOLDER', { format: 'chr' })])).replace('<Data>PLACEHOLDER</Data>', `<Data>${data}</Data>`);
  const run = (data: string) => judge(sessionFromMessages([devicePackage1(), withData(data)]));

  test('escaped markup passes both; markup in CDATA is a warning (Windows does not pass CDATA to the CSP)', () => {
    const escaped = run('&lt;enabled/&gt;&lt;data id="x" value="1"/&gt;');
    expect(verdicts(escaped, 'pass')).toEqual(expect.arrayContaining(['MDM-XML-009', 'MDM-XML-010']));
    expect(verdicts(escaped, 'fail')).toEqual([]);
    const cdata = run('<![CDATA[<enabled/>]]>');
    expect(verdicts(cdata, 'warn')).toEqual(['MDM-XML-010']);
    expect(verdicts(cdata, 'fail')).toEqual([]);
  });

  test('raw elements fail MDM-XML-009 unless they declare their own namespace', () => {
    expect(run('<enabled/><data id="x" value="1"/>').find((f) => f.verdict === 'fail')?.evidence).toMatch(/\/SyncBody\/Replace\/Item\/Data: markup <enabled> sent as elements of the SyncML document/);
    expect(verdicts(run('<wap-provisioningdoc xmlns="urn:example:wap"><characteristic/></wap-provisioningdoc>'), 'fail')).toEqual([]);
  });

  test('plain text is no markup: the rules are not exercised', () => {
    expect(run('plain value').map((f) => f.id)).not.toContain('MDM-XML-009');
  });
});

test.describe('Statuses per command (MDM-STS-008..010)', () => {
  const alertStatus = () => status({ msgRef: '1', cmdRef: '2', cmd: 'Alert', code: 200 });
  const replaceStatus = (code = 200, sourceRefs: string[] = []) => status({ msgRef: '1', cmdRef: '3', cmd: 'Replace', code, sourceRefs });
  const reply = (statuses: Status[]) => serverMessage(1, 1, statuses);
  const run = (statuses: Status[]) => judge(sessionFromMessages([devicePackage1(), reply(statuses)]));

  test('one Status per command, none naming Items of the multi-Item Replace, passes', () => {
    const findings = run([alertStatus(), replaceStatus()]);
    expect(verdicts(findings, 'fail')).toEqual([]);
    expect(verdicts(findings, 'pass')).toEqual(['MDM-STS-008', 'MDM-STS-009', 'MDM-STS-010']);
  });

  test('one Status per Item, each naming its Item, passes; one naming no Item, the same Item twice, or leaving one out fails MDM-STS-009', () => {
    expect(verdicts(run([alertStatus(), replaceStatus(200, [DEVINFO[0]]), replaceStatus(200, [DEVINFO[1]]), replaceStatus(412, [DEVINFO[2]])]), 'fail')).toEqual([]);
    expect(run([alertStatus(), replaceStatus(200), replaceStatus(412, [DEVINFO[2]])]).find((f) => f.verdict === 'fail')?.evidence).toMatch(/2 Statuses answer Replace 3 of the device's msg 1 Item by Item, but this one names no Item/);
    expect(run([alertStatus(), replaceStatus(200, [DEVINFO[0]]), replaceStatus(412, [DEVINFO[0]]), replaceStatus(200, [DEVINFO[1]]), replaceStatus(200, [DEVINFO[2]])]).find((f) => f.verdict === 'fail')?.evidence).toMatch(/two Statuses of Replace 3 .* answer its Item \.\/DevInfo\/DevId/);
    expect(run([alertStatus(), replaceStatus(200, [DEVINFO[0]]), replaceStatus(412, [DEVINFO[2]])]).find((f) => f.verdict === 'fail')?.evidence).toMatch(/but \.\/DevInfo\/Man got no Status/);
  });

  test('the one Status of a multi-Item command naming Items fails MDM-STS-010; two Statuses for the Alert fail MDM-STS-008', () => {
    expect(verdicts(run([alertStatus(), replaceStatus(200, DEVINFO)]), 'fail')).toEqual(['MDM-STS-010']);
    expect(verdicts(run([alertStatus(), alertStatus(), replaceStatus()]), 'fail')).toEqual(['MDM-STS-008']);
  });
});

test.describe('scenario judgements', () => {
  /** Package 1; the server's Gets in message 1; the device's answer spread over two messages, the Results in the second. */
  function resultsSession(opts: { msgRef?: string; then?: Command[] } = {}): SessionView {
    const statuses = message({ sessionID: '1', msgID: 2, target: SERVER, source: DEVICE, commands: numbered([hdrStatus(1), status({ msgRef: '1', cmdRef: '4', cmd: 'Get', code: 200 })]) });
    const next = serverMessage(2, 2, [alert('1222')], false);
    const res = results({ msgRef: opts.msgRef ?? '1', cmdRef: '4', cmd: 'Get', items: [item({ source: './DevInfo/Man', format: 'chr', data: 'Contoso' })] });
    if (opts.msgRef === '') delete res.msgRef;
    const answer = message({ sessionID: '1', msgID: 3, target: SERVER, source: DEVICE, final: true, commands: numbered([hdrStatus(2), res]) });
    return sessionFromMessages([devicePackage1(), firstReply([get('./DevInfo/Man')]), statuses, next, answer, serverMessage(3, 3, opts.then ?? [])]);
  }

  test('Results taken after a later server message, with or without MsgRef, pass (MDM-RES-005, MDM-ID-007)', () => {
    expect(judgeResultsTaken(resultsSession(), 'MDM-RES-005', 's')).toMatchObject({ verdict: 'pass', evidence: '1 Results (1 of them in a later message than their Get\'s) taken: none refused, no node asked for again' });
    expect(judgeResultsTaken(resultsSession({ msgRef: '' }), 'MDM-ID-007', 's')).toMatchObject({ verdict: 'pass' });
    expect(judgeResultsTaken(resultsSession(), 'MDM-ID-007', 's')).toMatchObject({ verdict: 'inconclusive' });
  });

  test('a Results refused with an error Status, or its node asked for again, is a Results lost', () => {
    const refused = judgeResultsTaken(resultsSession({ msgRef: '', then: [status({ msgRef: '3', cmdRef: '2', cmd: 'Results', code: 400 })] }), 'MDM-ID-007', 's');
    expect(refused).toMatchObject({ verdict: 'fail' });
    expect(refused.evidence).toMatch(/answered 400: the server did not match it to its Get; a Results without MsgRef refers to message 1/);
    const again = judgeResultsTaken(resultsSession({ then: [get('./DevInfo/Man')] }), 'MDM-RES-005', 's');
    expect(again.evidence).toMatch(/Get of \.\/DevInfo\/Man asked again after the Results CmdID 2/);
  });

  test('a command sent again after the device accepted it with 202 fails MDM-STS-023', () => {
    const session = (then: Command[]) => sessionFromMessages([
      devicePackage1(), firstReply([exec('./Vendor/MSFT/Defender/Scan', '1')]),
      message({ sessionID: '1', msgID: 2, target: SERVER, source: DEVICE, final: true, commands: numbered([hdrStatus(1), status({ msgRef: '1', cmdRef: '4', cmd: 'Exec', code: 202 })]) }),
      serverMessage(2, 2, then),
    ]);
    expect(judgeAcceptedNotRetried(session([]), 's')).toMatchObject({ verdict: 'pass' });
    expect(judgeAcceptedNotRetried(session([exec('./Device/Vendor/MSFT/Defender/Scan', '1')]), 's').evidence).toMatch(/Exec of \.\/Device\/Vendor\/MSFT\/Defender\/Scan sent again after the device accepted it with 202/);
    expect(judgeAcceptedNotRetried(sessionFromMessages([devicePackage1(), firstReply([])]), 's')).toMatchObject({ verdict: 'inconclusive' });
  });

  test('typed values must keep their Format, and a Sequence its container (MDM-CMD-ADD-002, MDM-CMD-SEQ-003)', () => {
    const queued = [replace('./Vendor/Int', '9', { format: 'int' }), add('./Vendor/Node')];
    const relayed = sessionFromMessages([devicePackage1(), firstReply([replace('./Device/Vendor/Int', '9', { format: 'int' }), add('./Vendor/Node'), sequence(replace('./Vendor/C', 'c'), get('./Vendor/C'))])]);
    expect(judgeTypedValues(relayed, queued, 's')).toMatchObject({ verdict: 'pass' });
    expect(judgeOrderKept(relayed, './Vendor/C', './Vendor/C', 's')).toMatchObject({ verdict: 'pass' });
    const loose = sessionFromMessages([devicePackage1(), firstReply([replace('./Vendor/Int', '9'), add('./Vendor/Node'), replace('./Vendor/C', 'c'), get('./Vendor/C')])]);
    expect(judgeTypedValues(loose, queued, 's').evidence).toMatch(/Replace of \.\/Vendor\/Int states no Format, the value's Format is int/);
    expect(judgeOrderKept(loose, './Vendor/C', './Vendor/C', 's')).toMatchObject({ verdict: 'warn' });
  });

  test('the rewrites the scenarios apply to the device\'s messages keep them well-formed', () => {
    const withResults = serializeSyncML(message({ sessionID: '1', msgID: 2, target: SERVER, source: DEVICE, commands: numbered([
      hdrStatus(1), status({ msgRef: '1', cmdRef: '4', cmd: 'Get', code: 200, targetRefs: ['./A'] }), results({ msgRef: '1', cmdRef: '4', items: [item({ source: './A', data: 'a' })] }),
    ]) }));
    const bare = parseSyncML(withoutResultsMsgRef(withResults)).message.body.commands.find((c): c is Results => c.kind === 'Results');
    expect([bare?.msgRef, bare?.cmdRef]).toEqual([undefined, '4']);
    expect(parseSyncML(spacedCmdIDs(withResults)).message.body.commands.map((c) => c.cmdID)).toEqual(['8', '11', '14']);
    const moved = parseSyncML(refsAfterData(withResults));
    expect(moved.message.body.commands[1]).toMatchObject({ kind: 'Status', targetRefs: ['./A'] });
    expect(moved.deviations.map((d) => d.id)).toContain('MDM-STS-001');
  });
});

test.describe('the reference peers\' new behaviours', () => {
  const queueOf = (commands: Command[]) => ({ peek: () => commands[0], shift: () => commands.shift() });
  const server = (commands: Command[], behaviour: Partial<ServerBehaviour> = {}) => new ServerSession({ serverUrl: SERVER, deviceId: DEVICE, sessionID: '1', queue: queueOf(commands), behaviour });
  const codes = (m: SyncML) => m.body.commands.filter((c): c is Status => c.kind === 'Status').map((s) => `${s.cmd} ${s.cmdRef} ${codeOf(s)}${s.sourceRefs.length ? ` ${s.sourceRefs.join(',')}` : ''}`);

  test('the device sends a request-pending keep-alive, then its reply once the server has answered it (MDM-CMD-ALT-015)', () => {
    const device = new DeviceSession({
      deviceId: DEVICE, serverUrl: SERVER, sessionID: '1', devInfo: [], keepAlives: 1,
      executor: (commands, ctx) => ({ statuses: commands.map((c) => status({ msgRef: ctx.msgRef, cmdRef: c.cmdID ?? '', cmd: c.kind, code: 200 })), results: [] }),
    });
    device.start();
    const keepAlive = device.receive(serverMessage(1, 1, [replace('./Vendor/A', 'a')]))!;
    expect(keepAlive.body.final).toBeUndefined();
    const pending = keepAlive.body.commands.find((c) => c.kind === 'Alert');
    expect(pending && pending.kind === 'Alert' && [codeOf(pending), metaValue(pending.items[0].meta, 'Type'), pending.items[0].data?.text]).toEqual(['1224', 'Reversed-Domain-Name:com.microsoft.mdm.requestpending', '1']);
    const answer = device.receive(serverMessage(2, 2, [status({ msgRef: '2', cmdRef: '2', cmd: 'Alert', code: 200 })], false))!;
    expect(answer.body.final).toBe(true);
    expect(codes(answer)).toEqual(['SyncHdr 0 200', 'Replace 2 200']);
    expect((answer.body.commands[0] as Status).msgRef).toBe('2');
    expect((answer.body.commands[1] as Status).msgRef).toBe('1');
  });

  test('the server answers a keep-alive with Statuses only and no Final; the faulty one sends its next round of commands', () => {
    const keepAlive = message({ sessionID: '1', msgID: 2, target: SERVER, source: DEVICE, commands: numbered([hdrStatus(1), alert('1224', [item({ type: 'Reversed-Domain-Name:com.microsoft.mdm.requestpending', data: '1' })])]) });
    const run = (behaviour: Partial<ServerBehaviour>) => {
      // Two rounds: the second is released when the server starts its next package.
      const rounds = [[get('./A')], [get('./B')]];
      let current: Command[] = [];
      const queue = { peek: () => current[0], shift: () => current.shift(), startPackage: () => void (!current.length && rounds.length && (current = rounds.shift()!)) };
      const s = new ServerSession({ serverUrl: SERVER, deviceId: DEVICE, sessionID: '1', queue, behaviour });
      expect(s.receive(devicePackage1()).body.commands.map((c) => c.kind)).toEqual(['Status', 'Status', 'Status', 'Get']);
      return s.receive(structuredClone(keepAlive));
    };
    const clean = run({});
    expect(clean.body.commands.map((c) => c.kind)).toEqual(['Status', 'Status']);
    expect(clean.body.final).toBeUndefined();
    expect(run({ waitThroughKeepAlive: false }).body.commands.map((c) => c.kind)).toEqual(['Status', 'Status', 'Get']);
  });

  test('a Results without MsgRef refers to message 1; the faulty readings answer it 400 once a later message came (MDM-ID-007, MDM-RES-005)', () => {
    const results3 = (msgRef?: string) => {
      const r = results({ msgRef: msgRef ?? '1', cmdRef: '4', items: [item({ source: './A', data: 'a' })] });
      if (msgRef === undefined) delete r.msgRef;
      return message({ sessionID: '1', msgID: 3, target: SERVER, source: DEVICE, final: true, commands: numbered([hdrStatus(2), r]) });
    };
    const run = (behaviour: Partial<ServerBehaviour>, msgRef?: string) => {
      const s = server([get('./A')], behaviour);
      s.receive(devicePackage1());
      s.receive(message({ sessionID: '1', msgID: 2, target: SERVER, source: DEVICE, commands: numbered([hdrStatus(1), status({ msgRef: '1', cmdRef: '4', cmd: 'Get', code: 200 })]) }));
      return codes(s.receive(results3(msgRef)));
    };
    expect(run({})).toEqual(['SyncHdr 0 200']);
    expect(run({}, '1')).toEqual(['SyncHdr 0 200']);
    expect(run({ resultsMsgRef: 'latest-when-missing' })).toEqual(['SyncHdr 0 200', 'Results 2 400']);
    expect(run({ resultsMsgRef: 'latest-when-missing' }, '1')).toEqual(['SyncHdr 0 200']);
    expect(run({ resultsMsgRef: 'ignored' }, '1')).toEqual(['SyncHdr 0 200', 'Results 2 400']);
  });

  test('a device Item with a Format but no Data gets 412 on its own Status, naming it; the faults drop the name or accept it (MDM-XML-020, MDM-STS-009)', () => {
    const pkg = () => {
      const m = devicePackage1();
      const r = m.body.commands.find((c) => c.kind === 'Replace');
      if (r?.kind === 'Replace') r.items[2] = item({ source: DEVINFO[2], format: 'chr' });
      return m;
    };
    expect(codes(server([]).receive(pkg()))).toEqual(['SyncHdr 0 200', 'Alert 2 200', 'Replace 3 200 ./DevInfo/DevId', 'Replace 3 200 ./DevInfo/Man', 'Replace 3 412 ./DevInfo/Lang']);
    expect(codes(server([], { refsOnItemStatuses: false }).receive(pkg()))).toEqual(['SyncHdr 0 200', 'Alert 2 200', 'Replace 3 200', 'Replace 3 200', 'Replace 3 412']);
    expect(codes(server([], { refuseIncompleteItems: false }).receive(pkg()))).toEqual(['SyncHdr 0 200', 'Alert 2 200', 'Replace 3 200']);
  });

  test('a command answered 202 is done; the faulty server sends it again, once (MDM-STS-023)', () => {
    const run = (behaviour: Partial<ServerBehaviour>) => {
      const s = server([exec('./Vendor/MSFT/Defender/Scan', '1')], behaviour);
      s.receive(devicePackage1());
      const accepted = () => message({ sessionID: '1', msgID: 2, target: SERVER, source: DEVICE, final: true, commands: numbered([hdrStatus(1), status({ msgRef: '1', cmdRef: '4', cmd: 'Exec', code: 202 })]) });
      const second = s.receive(accepted());
      const exec2 = second.body.commands.find((c) => c.kind === 'Exec');
      const third = exec2 ? s.receive({ ...accepted(), hdr: { ...accepted().hdr, msgID: '3' }, body: { ...accepted().body, commands: numbered([hdrStatus(2), status({ msgRef: '2', cmdRef: exec2.cmdID!, cmd: 'Exec', code: 202 })]) } }) : undefined;
      return [second, third].map((m) => m?.body.commands.filter((c) => c.kind !== 'Status').map((c) => c.kind) ?? 'none');
    };
    expect(run({})).toEqual([[], 'none']);
    expect(run({ treat202AsAccepted: false })).toEqual([['Exec'], []]);
  });

  test('CmdIDs with gaps are answered as sent; the faulty server counts them up from the first (MDM-ID-004)', () => {
    const spaced = parseSyncML(spacedCmdIDs(serializeSyncML(devicePackage1()))).message;
    expect(codes(server([]).receive(structuredClone(spaced)))).toEqual(['SyncHdr 0 200', 'Alert 11 200', 'Replace 14 200']);
    expect(codes(server([], { cmdRefsAsSent: false }).receive(spaced))).toEqual(['SyncHdr 0 200', 'Alert 11 200', 'Replace 12 200']);
  });
});
