/**
 * Server scenarios of the setup, get-results, management-rounds and termination phases (catalogue section 6,
 * column "server under test": S1-S5, S9).
 */
import { statusesOf } from '../../checks/common';
import { sameNumber } from '../../checks/compare';
import { sessionFromTranscript } from '../../checks/from-transcript';
import { label } from '../../checks/session';
import { varyPackage1, type Package1Shape } from '../../device/package1';
import type { DeviceRun } from '../../device/reference-device';
import { add, atomic, codeOf, del, eventAlert, exec, get, replace, sequence, WBXML_MEDIA_TYPE, type Command, type SyncML } from '../../syncml';
import type { Exchange } from '../../transport';
import { describeCertificate } from '../../transport/record';
import type { Scenario } from '../scenario';
import { NODES } from './nodes';
import { deviceFor, judgeSession, needsControl, NO_REPLY, reachable, session, SetupError, type ServerUnderTest } from './target';

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

/** Why a server certificate was refused that say the harness was given the wrong CA: a setup problem, not a finding. */
const UNTRUSTED_CHAIN = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_SIGNATURE_FAILURE',
]);

/** The device message of a transport exchange, as evidence names it. */
function msgOf(run: DeviceRun, x: Exchange): string {
  const m = run.view.exchanges[run.exchanges.indexOf(x)]?.request;
  return m ? label(m) : 'a device message';
}

/**
 * MDM-TRN-002 and MDM-TRN-003 from what the device's transport saw: every exchange of a session went over TLS to an
 * https URL, and the certificate the server authenticated with validated against the CA the device was given (the
 * enterprise root provisioned at enrollment, MDM-TRN-003) and named the host. A certificate that does not chain to
 * that CA says the harness was given the wrong one, which is a setup problem; an expired certificate, or one for
 * another host, is the server's. Port 443 is where devices expect the endpoint; another port is noted, not failed.
 */
export const httpsEndpoint: ServerScenario = {
  id: 'setup/https-endpoint',
  phase: 'setup',
  title: 'runs a session and judges its transport: HTTPS all the way, and a server certificate the device validates',
  requirements: ['MDM-TRN-002', 'MDM-TRN-003'],
  needs: (t) => (t.clientCertHeader
    ? 'the harness speaks plain HTTP to a server behind a TLS-terminating proxy (--client-cert-header): the HTTPS endpoint devices reach is the proxy\'s, which the harness does not see'
    : undefined),
  async run(t, log) {
    const check = this.id;
    const run = await session(t, log);
    const refused = run.exchanges.find((x) => x.error?.kind === 'tls' && x.tls?.peerCertificate && !x.tls.authorized);
    if (refused) {
      if (UNTRUSTED_CHAIN.has(refused.tls!.authorizationError ?? '')) {
        throw new SetupError(`cannot reach the server: ${refused.error!.message}; pass --server-ca FILE with the CA of the server's certificate`);
      }
      log.add([{ id: 'MDM-TRN-003', verdict: 'fail', check, evidence: `${msgOf(run, refused)}: ${refused.error!.message}; the device cannot validate the certificate the server authenticates with` }]);
      log.blame('MDM-TRN-003');
      return;
    }
    const plain = run.exchanges.find((x) => x.cleartext);
    if (plain) {
      log.add([{ id: 'MDM-TRN-002', verdict: 'fail', check, evidence: `${msgOf(run, plain)}: the device was sent to ${plain.request.url ?? 'a plain HTTP URL'} and posted over plain HTTP; the management endpoint is HTTPS` }]);
      log.blame('MDM-TRN-002');
      return;
    }
    if (!reachable(log, run, check)) return;
    const secured = run.exchanges.filter((x) => x.tls?.authorized && x.response);
    const first = secured[0];
    if (!first) return;
    const port = new URL(t.url).port || '443';
    if (port !== '443') log.note(`the management endpoint listens on port ${port}; devices in production expect 443 (MDM-TRN-002)`);
    const protocols = [...new Set(secured.map((x) => x.tls?.protocol).filter(Boolean))].join(', ');
    log.add([
      { id: 'MDM-TRN-002', verdict: 'pass', check, evidence: `all ${run.exchanges.length} exchange(s) went over TLS (${protocols || 'TLS'}) to ${new URL(t.url).origin}` },
      { id: 'MDM-TRN-003', verdict: 'pass', check, evidence: `the server authenticated with ${describeCertificate(first.tls?.peerCertificate)}, valid until ${first.tls?.peerCertificate?.validTo}, which validates against the CA the device trusts and names ${new URL(t.url).hostname}` },
    ]);
  },
};

/**
 * Package 1 in shapes Windows does not send but the catalogue allows: CmdIDs from 1, or with gaps (MDM-ID-004), no
 * LoginStatus alert, a sixth DevInfo item (A-32). The passive checks judge the replies (MDM-ID-004: the Statuses
 * name the CmdIDs as sent; MDM-SES-007: package 2). Other scenarios vary package 1 by seed; these two shapes make
 * sure every run sees both kinds of numbering.
 */
export const package1Variations: ServerScenario = {
  id: 'setup/package-1-variations',
  phase: 'setup',
  title: 'opens sessions whose package 1 numbers its commands from 1, leaves gaps, drops the LoginStatus alert and adds the HWDevID item',
  requirements: ['MDM-ID-004', 'MDM-SES-007'],
  async run(t, log) {
    const shapes: Package1Shape[] = [
      { firstCmdID: 1, cmdIDGap: 0, loginStatus: false, hwDevId: false },
      { firstCmdID: 3, cmdIDGap: 2, loginStatus: true, hwDevId: true },
    ];
    for (const package1 of shapes) {
      const run = await session(t, log, { package1 });
      if (!reachable(log, run, this.id)) return;
    }
  },
};

export const minimalSession: ServerScenario = {
  id: 'setup/minimal-session',
  phase: 'setup',
  title: 'sends a Windows package 1 with nothing queued and judges the reply and the close',
  requirements: ['MDM-STS-003', 'MDM-STS-005', 'MDM-HDR-007', 'MDM-HDR-009', 'MDM-HDR-011', 'MDM-TERM-003', 'MDM-SES-012', 'MDM-SES-007'],
  async run(t, log) {
    // Nothing waits on the server here, so the session may open as if answering a trigger (1200) as well (A-27).
    const run = await session(t, log, { package1: varyPackage1(log.rng.fork('package-1'), { sessionAlert: true }) });
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
    // Package 1 may be sent twice (again with credentials after a challenge): the Alert is answered in either reply.
    const answers = run.view.exchanges.flatMap((x) => {
      const alert = x.request.syncml?.body.commands.find((c) => c.kind === 'Alert' && codeOf(c) === '1200');
      const st = alert && x.response?.syncml && statusesOf(x.response.syncml).find((s) => sameNumber(s.status.msgRef, x.request.syncml!.hdr.msgID) && sameNumber(s.status.cmdRef, alert.cmdID));
      return st ? [{ code: codeOf(st.status), at: `${label(x.response!)} ${st.path}` }] : [];
    });
    const accepted = answers.find((a) => a.code === '200');
    const last = answers.at(-1);
    log.add([accepted
      ? { id: 'MDM-SES-008', verdict: 'pass', check: this.id, evidence: `${accepted.at}: Alert 1200 answered 200` }
      : { id: 'MDM-SES-008', verdict: 'fail', check: this.id, evidence: last ? `${last.at}: Alert 1200 answered ${last.code}; a session may open with 1200 as well as 1201 (A-27)` : 'Alert 1200 got no Status; a session may open with 1200 as well as 1201 (A-27)' }]);
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

/**
 * MDM-SES-009: the device's Statuses for one server package do not fit in one of its messages, so its package 3
 * spans several; until the last of them (with Final) the server asks for more and sends nothing new.
 */
export const statusesOverSeveralMessages: ServerScenario = {
  id: 'management-rounds/statuses-over-several-messages',
  phase: 'management-multi-round',
  title: 'answers ten queued Replace commands with Statuses spread over several messages: no new command may come before the last',
  requirements: ['MDM-SES-009', 'MDM-SES-012'],
  needs: needsControl,
  async run(t, log) {
    await queued(t, Array.from({ length: 10 }, (_, n) => replace(NODES.cacheVersion, `v${n}`, { format: 'chr' })));
    const run = await session(t, log, { maxSendSize: 900 });
    if (reachable(log, run, this.id)) judgeEnd(log, run, this.id);
  },
};

/**
 * MDM-SES-011: package 3 carries, beside the answers, a new client alert (here the result of an asynchronous CSP
 * operation, MDM-CMD-ALT-017, A-18); package 4 answers it along with the SyncHdr.
 */
export const alertInLaterPackage: ServerScenario = {
  id: 'management-rounds/alert-in-later-package',
  phase: 'management-multi-round',
  title: 'answers a queued Get and, in the same package 3, reports the result of an asynchronous install with a generic alert',
  requirements: ['MDM-SES-011', 'MDM-STS-005'],
  needs: needsControl,
  async run(t, log) {
    await queued(t, [get('./DevDetail/SwV')]);
    const product = `%7B${log.rng.uuid()}%7D`;
    const result = eventAlert('1226', {
      type: 'Reversed-Domain-Name:com.microsoft.mdm.win32csp_install', format: 'int', mark: 'informational', data: '0',
      source: `./Device/Vendor/MSFT/EnterpriseDesktopAppManagement/MSI/${product}/DownloadInstall`,
    });
    const run = await session(t, log, {}, (d) => d.runSession(t.url, { laterAlerts: [result] }));
    if (reachable(log, run, this.id)) judgeEnd(log, run, this.id);
  },
};

const USER_NODE = './User/Vendor/MSFT/NodeCache/MDMConformance/CacheVersion';
const addressesUser = (msg: SyncML | undefined) => !!msg?.body.commands.some((c) => 'items' in c && c.kind !== 'Status' && c.items.some((i) => i.target?.locURI?.trim() === USER_NODE));

/**
 * MDM-SES-019: user configuration is queued while the device reports that nobody is signed in (LoginStatus none):
 * the server holds it back; in the next session, with the enrolled user signed in, it may send it. The second session
 * shows the command was really queued, so that holding it back is not mistaken for a queue that never filled.
 */
export const userScopeWaitsForUser: ServerScenario = {
  id: 'management-rounds/user-scope-waits-for-user',
  phase: 'management-multi-round',
  title: 'queues a user-scoped Replace while LoginStatus says nobody is signed in, then opens a session of the enrolled user',
  requirements: ['MDM-SES-019'],
  needs: needsControl,
  async run(t, log) {
    const check = this.id;
    await queued(t, [replace(USER_NODE, `user ${log.rng.hex(2)}`, { format: 'chr' })]);
    const nobody = await session(t, log, {}, (d) => d.runSession(t.url, { loginStatus: 'none' }));
    if (!reachable(log, nobody, check)) return;
    const sentEarly = nobody.view.exchanges.some((x) => addressesUser(x.response?.syncml));
    const user = await session(t, log, {}, (d) => d.runSession(t.url, { loginStatus: 'user' }));
    if (sentEarly || !reachable(log, user, check)) return; // the passive check warned where it was sent
    const sentLater = user.view.exchanges.some((x) => addressesUser(x.response?.syncml));
    log.add([sentLater
      ? { id: 'MDM-SES-019', verdict: 'pass', check, evidence: `the Replace of ${USER_NODE} waited while LoginStatus was none, and came in the session of the enrolled user (LoginStatus user)` }
      : { id: 'MDM-SES-019', verdict: 'inconclusive', check, evidence: `the Replace of ${USER_NODE} queued through --control reached the device in neither session, so holding it back says nothing` }]);
  },
};

/**
 * MDM-TERM-008, server side: a device loses a session half-way (the server has sent commands and waits for their
 * Statuses) and later opens a fresh one, with a new SessionID and MsgID 1. The server discards the half-open state
 * (catalogue 3.8: "new SessionID from device") and runs the new session as it would any other.
 */
export const abandonedSession: ServerScenario = {
  id: 'termination/abandoned-session',
  phase: 'robustness',
  title: 'drops a session while the server waits for Statuses, then opens a fresh session: the server must take it',
  requirements: ['MDM-TERM-008'],
  needs: needsControl,
  async run(t, log) {
    const check = this.id;
    await queued(t, [get('./DevDetail/SwV')]);
    const lost = deviceFor(t, log);
    let halfOpen: string | undefined;
    try {
      const s = lost.openSession(t.url);
      for (let i = 0; i < 4 && s.next && !halfOpen; i++) {
        const reply = (await s.step())?.response?.parsed?.message;
        if (reply?.body.commands.some((c) => c.kind !== 'Status' && !(c.kind === 'Alert' && ['1222', '1223'].includes(codeOf(c) ?? '')))) halfOpen = s.sessionID;
      }
      log.transcripts.push(s.exchanges);
      log.note(`session ${s.sessionID}: dropped by the device after ${s.exchanges.length} round trip(s), with the server's commands unanswered`);
      judgeSession(log, sessionFromTranscript(s.exchanges, 'dropped by the device (connection loss)'));
    } finally {
      await lost.close();
    }
    if (!halfOpen) {
      log.add([{ id: 'MDM-TERM-008', verdict: 'inconclusive', check, evidence: 'the server sent no command in the first session, so no session was left half-open; queue a command with --control' }]);
      return;
    }
    const fresh = await session(t, log);
    const first = fresh.view.exchanges[0];
    if (fresh.end.reason === 'completed' && first?.response?.syncml) {
      log.add([{ id: 'MDM-TERM-008', verdict: 'pass', check, evidence: `after session ${halfOpen} was dropped half-open, the device's fresh session ${fresh.sessionID} (MsgID 1) was taken and ran to its close in ${fresh.rounds} round trip(s)` }]);
      return;
    }
    const how = NO_REPLY.has(fresh.end.reason) || !first?.response?.syncml
      ? `the fresh session got no SyncML reply (${'detail' in fresh.end ? fresh.end.detail : fresh.end.reason})`
      : `the fresh session ended ${fresh.end.reason}${'detail' in fresh.end ? `: ${fresh.end.detail}` : ''}`;
    log.add([{ id: 'MDM-TERM-008', verdict: 'fail', check, evidence: `after session ${halfOpen} was dropped half-open, ${how}; the server expires a half-open session and takes the device's fresh one` }]);
    log.blame('MDM-TERM-008');
  },
};

/**
 * The transport comes first: a server certificate the device cannot validate makes every other session fail. The
 * abandoned session comes before any scenario that leaves sessions half-open on purpose (robustness, security).
 */
export const SESSION_SCENARIOS: readonly ServerScenario[] = [
  httpsEndpoint, minimalSession, wbxmlSessions, serverInitiatedAlert, getResults, managementRounds, errorStatuses, stopsAfter214, deviceAbort, genericAlert,
  abandonedSession,
];

/**
 * Sessions off the common path: package 1 in other shapes, Statuses over several messages, a client alert in a later
 * package, user configuration. They run after every other scenario, so that a run
 * cut short has judged the common path first.
 */
export const EDGE_SESSION_SCENARIOS: readonly ServerScenario[] = [
  package1Variations, statusesOverSeveralMessages, alertInLaterPackage, userScopeWaitsForUser,
];
