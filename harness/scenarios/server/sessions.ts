/**
 * Server scenarios of the setup, get-results, management-rounds and termination phases (catalogue section 6,
 * column "server under test": S1-S5, S9).
 */
import { add, atomic, del, eventAlert, exec, get, replace, sequence, WBXML_MEDIA_TYPE, type Command } from '../../syncml';
import type { Scenario } from '../scenario';
import { NODES } from './nodes';
import { needsControl, reachable, session, type ServerUnderTest } from './target';

type ServerScenario = Scenario<ServerUnderTest>;


/** Ends the session within the device's round limit once nothing is queued (MDM-SES-012). */
function judgeEnd(log: Parameters<ServerScenario['run']>[1], run: Awaited<ReturnType<typeof session>>, check: string): void {
  if (run.end.reason === 'round-limit') {
    log.add([{ id: 'MDM-SES-012', verdict: 'fail', check, evidence: `${run.end.detail}; the server controls the session length and must end it once its commands are done` }]);
  } else if (run.end.reason === 'completed') {
    log.add([{ id: 'MDM-SES-012', verdict: 'pass', check, evidence: `session ended after ${run.rounds} round trip(s)` }]);
  }
}

async function queued(t: ServerUnderTest, commands: Command[]): Promise<void> {
  await t.queue!(t.deviceId, commands);
}

export const minimalSession: ServerScenario = {
  id: 'setup/minimal-session',
  phase: 'setup',
  title: 'sends a Windows package 1 with nothing queued and judges the reply and the close',
  requirements: ['MDM-STS-003', 'MDM-STS-005', 'MDM-HDR-007', 'MDM-HDR-009', 'MDM-HDR-011', 'MDM-TERM-003', 'MDM-SES-012'],
  async run(t, log) {
    const run = await session(t, log);
    if (reachable(log, run, this.id)) judgeEnd(log, run, this.id);
  },
};

export const serverInitiatedAlert: ServerScenario = {
  id: 'setup/session-alert-1200',
  phase: 'setup',
  title: 'opens a session with Alert 1200, as a device answering a notification does',
  requirements: ['MDM-SES-008', 'MDM-STS-005'],
  async run(t, log) {
    const run = await session(t, log, {}, (d) => d.runSession(t.url, { sessionAlert: '1200' }));
    if (!reachable(log, run, this.id)) return;
    // The Alert is CmdID 2 of package 1, also when package 1 is re-sent after a challenge.
    const accepted = run.view.exchanges.some((x) => x.response?.syncml?.body.commands.some((c) => c.kind === 'Status' && c.cmd?.trim() === 'Alert' && c.cmdRef?.trim() === '2' && c.data?.text.trim() === '200'));
    log.add([{ id: 'MDM-SES-008', verdict: accepted ? 'pass' : 'fail', check: this.id, evidence: accepted ? 'Alert 1200 answered 200' : 'Alert 1200 was not accepted with 200' }]);
  },
};

export const getResults: ServerScenario = {
  id: 'get-results/get-leaf-and-interior',
  phase: 'get-result',
  title: 'has the server Get leaves and an interior node, in several Get commands, and returns Results',
  requirements: ['MDM-CMD-GET-001', 'MDM-STS-014', 'MDM-ID-005', 'MDM-ID-006'],
  needs: needsControl,
  async run(t, log) {
    await queued(t, [get('./DevDetail/SwV'), get('./DevInfo', './DevDetail/HwV'), get('./Vendor/MSFT/DMClient/HWDevID')]);
    const run = await session(t, log);
    if (reachable(log, run, this.id)) judgeEnd(log, run, this.id);
  },
};

export const managementRounds: ServerScenario = {
  id: 'management-rounds/add-replace-delete-exec-sequence',
  phase: 'management-multi-round',
  title: 'has the server Add, Replace, Delete, Exec and Sequence over several rounds',
  requirements: ['MDM-CMD-ADD-001', 'MDM-CMD-REP-001', 'MDM-CMD-DEL-001', 'MDM-CMD-EXE-001', 'MDM-SES-009', 'MDM-SES-012'],
  needs: needsControl,
  async run(t, log) {
    await queued(t, [
      add(`${NODES.nodeEntries}/2`),
      add(`${NODES.nodeEntries}/2/ExpectedValue`, 'two', { format: 'chr' }),
      replace(NODES.activeHoursStart, '7', { format: 'int' }),
      exec(NODES.updateSignature),
      sequence(replace(NODES.cacheVersion, 'first', { format: 'chr' }), get(NODES.cacheVersion)),
      del(`${NODES.nodeEntries}/2`),
    ]);
    // A small MaxMsgSize makes the server spread its commands over several packages (rounds).
    const run = await session(t, log, { maxMsgSize: 1400 });
    if (reachable(log, run, this.id)) judgeEnd(log, run, this.id);
  },
};

export const errorStatuses: ServerScenario = {
  id: 'management-rounds/error-statuses',
  phase: 'management-multi-round',
  title: 'answers queued commands with 404, 405, 418, 500 and 507/216 and expects the server to carry on',
  requirements: ['MDM-CMD-ATO-001', 'MDM-SES-012', 'MDM-TERM-003'],
  needs: needsControl,
  async run(t, log) {
    await queued(t, [
      get(`${NODES.nodeEntries}/404`),
      replace('./DevInfo/Man', 'Other'),
      add(NODES.nodeCacheGroup),
      atomic(add(`${NODES.nodeEntries}/3`), replace(`${NODES.nodeEntries}/404/ExpectedValue`, 'x')),
      atomic(get(NODES.cacheVersion)),
    ]);
    const run = await session(t, log);
    if (reachable(log, run, this.id)) judgeEnd(log, run, this.id);
  },
};

export const stopsAfter214: ServerScenario = {
  id: 'management-rounds/stops-after-214',
  phase: 'management-multi-round',
  title: 'answers the first command 214 (cancelled) and expects no further commands in the session',
  requirements: ['MDM-STS-024'],
  needs: needsControl,
  async run(t, log) {
    await queued(t, [1, 2, 3, 4, 5].map((n) => replace(NODES.cacheVersion, `value ${n} ${'x'.repeat(300)}`, { format: 'chr' })));
    const run = await session(t, log, { maxMsgSize: 1200, cancelCommands: 1 });
    reachable(log, run, this.id);
  },
};

export const deviceAbort: ServerScenario = {
  id: 'termination/device-abort',
  phase: 'termination',
  title: 'aborts the session with Alert 1223 in its reply and expects statuses only',
  requirements: ['MDM-TERM-006'],
  needs: needsControl,
  async run(t, log) {
    await queued(t, [get('./DevDetail/SwV')]);
    const run = await session(t, log, { abortOnCommands: true });
    reachable(log, run, this.id);
  },
};

export const genericAlert: ServerScenario = {
  id: 'termination/generic-alert',
  phase: 'termination',
  title: 'reports a generic alert 1226 (user unenrollment) in package 1',
  requirements: ['MDM-CMD-ALT-006', 'MDM-STS-005'],
  async run(t, log) {
    const unenroll = eventAlert('1226', { type: 'com.microsoft:mdm.unenrollment.userrequest', format: 'int', data: '1' });
    const run = await session(t, log, {}, (d) => d.runSession(t.url, { alerts: [unenroll] }));
    reachable(log, run, this.id);
  },
};

/**
 * MDM-TRN-007: a server that provisions WBXML decodes it and answers in a form the device decodes. The Windows-like
 * device accepts both encodings, so XML answers pass there (MDM-TRN-008 still asks for the request's own); a device
 * whose Accept names WBXML alone, as a WBXML-only OMA DM client's does, shows whether the server keeps to what the
 * device can read. Each message is judged by the passive checks (serverDecodesWbxml, serverHttpFraming).
 */
export const wbxmlSessions: ServerScenario = {
  id: 'setup/wbxml-sessions',
  phase: 'setup',
  title: 'runs a session in WBXML as Windows sends it, then one from a device whose Accept names WBXML alone',
  requirements: ['MDM-TRN-007'],
  feature: 'wbxml',
  async run(t, log) {
    // A queued Get makes the server send a command and read Results in WBXML too.
    if (t.queue) await queued(t, [get('./DevDetail/SwV')]);
    const windows = await session(t, log, { encoding: 'wbxml' });
    if (!reachable(log, windows, this.id)) return;
    if (t.queue) await queued(t, [get('./DevInfo/DmV')]);
    await session(t, log, { encoding: 'wbxml', headers: { accept: WBXML_MEDIA_TYPE } });
  },
};

export const SESSION_SCENARIOS: readonly ServerScenario[] = [
  minimalSession, wbxmlSessions, serverInitiatedAlert, getResults, managementRounds, errorStatuses, stopsAfter214, deviceAbort, genericAlert,
];
