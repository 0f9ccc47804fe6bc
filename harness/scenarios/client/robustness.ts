/**
 * Client scenarios of the robustness phase (catalogue S9 and S10, column "client under test"): server replies the
 * client cannot read must not hang it or spoil its next session, and malformed commands are answered with the
 * codes Windows documents.
 */
import type { Finding } from '../../checks/finding';
import { get, item, type Replace } from '../../syncml';
import type { Scenario } from '../scenario';
import type { MalformedReply } from '../../server/malformed';
import { UNKNOWN_COMMAND } from '../../server/malformed';
import { expectStatus } from './expect';
import { describeTrigger, nodesOf, unmapped, oneSession, serverFor, session, type ClientRun, type ClientUnderTest } from './target';

type ClientScenario = Scenario<ClientUnderTest>;

const UNREADABLE: { kind: MalformedReply; what: string }[] = [
  { kind: 'not-xml', what: 'a reply that is not XML' },
  { kind: 'wrong-namespace', what: 'a reply in a namespace other than SYNCML:SYNCML1.2' },
  { kind: 'doctype', what: 'a reply with a DOCTYPE declaring an external entity' },
  { kind: 'empty-body', what: 'HTTP 200 with an empty body instead of the closing package' },
];

export const unreadableReplies: ClientScenario = {
  id: 'robustness/unreadable-replies',
  phase: 'robustness',
  title: 'answers with a body that is not XML, in a foreign namespace, with a DOCTYPE, and empty at the close: the client ends that session and its next one starts afresh',
  requirements: ['MDM-TERM-008', 'MDM-ROB-009'],
  async run(t, log) {
    const n = nodesOf(t);
    const check = this.id;
    for (const c of UNREADABLE) {
      const server = await serverFor(t, log, { malformedReply: c.kind, rounds: [[get(n.readableLeaf)]] });
      try {
        const spoilt = await session(t, log, server, { check });
        if (!spoilt.connected) return;
        const findings: Finding[] = [];
        if (spoilt.trigger.timedOut) {
          findings.push({ id: 'MDM-TERM-008', verdict: 'fail', check, evidence: `after ${c.what} the client hung until the session timed out` });
        }
        server.reference.queue(t.deviceId, get(n.readableLeaf));
        const next = await session(t, log, server, { check });
        if (c.kind === 'empty-body') findings.push(survivedEmptyReply(spoilt, next, check));
        if (next.connected && !spoilt.trigger.timedOut) findings.push(freshStart(spoilt.sessionIDs, next, c.what, check));
        log.add(findings);
      } finally {
        await server.stop();
      }
    }
  },
};

/**
 * An empty HTTP 200 where the closing package belonged ends the session; it must not crash the client (MDM-ROB-009).
 * A client the harness starts shows it by its exit status; one that runs on its own (`--wait`) by coming back for
 * its next session.
 */
function survivedEmptyReply(spoilt: ClientRun, next: ClientRun, check: string): Finding {
  const id = 'MDM-ROB-009';
  const t = spoilt.trigger;
  if (t.timedOut) return { id, verdict: 'fail', check, evidence: 'after an empty HTTP 200 reply at the end of the session the client hung' };
  if (t.unobserved) {
    return next.connected
      ? { id, verdict: 'pass', check, evidence: 'after an empty HTTP 200 reply at the end of the session, the client came back for its next session' }
      : { id, verdict: 'inconclusive', check, evidence: 'the client runs on its own (--wait) and did not come back after the empty reply: whether it crashed cannot be seen; use --trigger' };
  }
  return t.exitCode === 0 && !t.signal
    ? { id, verdict: 'pass', check, evidence: 'the empty HTTP 200 reply ended the session and the client exited 0' }
    : { id, verdict: 'fail', check, evidence: `the empty HTTP 200 reply at the end of the session made the client fail: ${describeTrigger(t)}` };
}

/** The session after the broken one is a new session (MDM-TERM-008): new SessionID, MsgID 1, and it completes. */
export function freshStart(before: string[], next: Awaited<ReturnType<typeof session>>, what: string, check: string): Finding {
  const first = next.view.exchanges[0]?.request.syncml;
  const id = first?.hdr.sessionID?.trim() ?? '';
  const msgID = first?.hdr.msgID?.trim();
  const problems = [
    before.includes(id) && `reuses SessionID "${id}" of the broken session`,
    msgID !== '1' && `starts at MsgID ${msgID}`,
    next.trigger.timedOut && 'does not end',
  ].filter(Boolean);
  return problems.length
    ? { id: 'MDM-TERM-008', verdict: 'fail', check, evidence: `after ${what}, the client's next session ${problems.join(', ')}` }
    : { id: 'MDM-TERM-008', verdict: 'pass', check, evidence: `after ${what}, the client's next session started afresh (SessionID "${id}", MsgID 1)` };
}

export const malformedCommands: ClientScenario = {
  id: 'robustness/malformed-commands',
  phase: 'robustness',
  title: 'sends an unknown command element, a command without CmdID, LocURIs that start with "/", hold an empty or "*" segment, and a Replace without Data',
  requirements: ['MDM-XML-013', 'MDM-XML-014', 'MDM-XML-015', 'MDM-XML-017', 'MDM-XML-020'],
  async run(t, log) {
    const n = nodesOf(t);
    const check = this.id;
    const [other] = n.readableLeaves;

    const unknown = await oneSession(t, log, { malformedReply: 'unknown-command', rounds: [[get(n.readableLeaf)]] }, { check });
    if (unknown.connected) {
      log.add([
        expectStatus(unknown.view, { kind: UNKNOWN_COMMAND, label: `<${UNKNOWN_COMMAND}> element under SyncBody` }, '400', 'MDM-XML-013', check),
        expectStatus(unknown.view, { kind: 'Get', target: n.readableLeaf }, '200', 'MDM-XML-013', check, 'an unknown element does not stop the rest of the message'),
      ]);
    }

    const noCmdID = await oneSession(t, log, { malformedReply: 'missing-cmdid', rounds: [[get(n.readableLeaf), get(other)]] }, { check });
    if (noCmdID.connected) {
      log.add([expectStatus(noCmdID.view, { kind: 'Get', target: other, label: `Get of ${other} without CmdID` }, '400', 'MDM-XML-014', check,
        'a command without CmdID is answered 400 with a blank CmdRef (A-34)')]);
    }

    const slashed = n.readableLeaf.replace(/^\.\//, '/');
    const slash = await oneSession(t, log, { malformedReply: 'slash-locuri', rounds: [[get(n.readableLeaf)]] }, { check });
    if (slash.connected) {
      log.add([expectStatus(slash.view, { kind: 'Get', target: slashed, label: `Get of "${slashed}"` }, 'non-2xx', 'MDM-XML-015', check,
        'a LocURI may not start with "/"; the code is not documented (A-33)')]);
    }

    const emptySegment = n.readableLeaf.replace(/\/([^/]+)$/, '//$1');
    const star = n.readableLeaf.replace(/\/[^/]+\/([^/]+)$/, '/*/$1');
    const writable = n.writableChrLeaf;
    const noData: Replace[] = writable ? [{ kind: 'Replace', items: [item({ target: writable, format: 'chr' })] }] : [];
    const bad = await oneSession(t, log, { rounds: [[get(emptySegment), get(star), ...noData]] }, { check });
    if (bad.connected) {
      log.add([
        expectStatus(bad.view, { kind: 'Get', target: emptySegment, label: `Get of "${emptySegment}" (empty segment)` }, 'non-2xx', 'MDM-XML-017', check),
        expectStatus(bad.view, { kind: 'Get', target: star, label: `Get of "${star}" ("*" segment)` }, 'non-2xx', 'MDM-XML-017', check),
        writable
          ? expectStatus(bad.view, { kind: 'Replace', target: writable, label: `Replace of ${writable} with Format chr and no Data (nodes.writableChrLeaf)` }, ['400', '412'], 'MDM-XML-020', check)
          : { id: 'MDM-XML-020', verdict: 'not-applicable', check, evidence: unmapped(n, 'writableChrLeaf')! },
      ]);
    }
  },
};

/** Retry-After of the throttling scenario, in seconds: long enough to tell waiting from not waiting, short enough for a run. */
const THROTTLE_SECONDS = 1;

/**
 * MDM-TRN-021: the server answers the client's first request HTTP 429 with Retry-After; the client waits at least
 * that long before it sends again, and the session then goes on as usual.
 */
export const throttledOnce: ClientScenario = {
  id: 'robustness/throttled-once',
  phase: 'robustness',
  title: `answers the first request HTTP 429 with Retry-After ${THROTTLE_SECONDS}: the client waits that long before sending again`,
  requirements: ['MDM-TRN-021'],
  async run(t, log) {
    const check = this.id;
    const n = nodesOf(t);
    const run = await oneSession(t, log, { rounds: [[get(n.readableLeaf)]], behaviour: { throttle: { requests: 1, seconds: THROTTLE_SECONDS } } }, { check });
    const throttled = run.exchanges.findIndex((x) => x.response?.status === 429);
    if (!run.connected || throttled < 0) return;
    const again = run.exchanges[throttled + 1];
    const waited = again ? again.startedAt - run.exchanges[throttled].endedAt : undefined;
    // The server stamps its answer when sent and the retry when it arrives: the network only adds to the wait seen.
    log.add([waited === undefined
      ? { id: 'MDM-TRN-021', verdict: 'fail', check, evidence: `after HTTP 429 with Retry-After ${THROTTLE_SECONDS} the client did not send again (${describeTrigger(run.trigger)})` }
      : waited + 50 < THROTTLE_SECONDS * 1000
        ? { id: 'MDM-TRN-021', verdict: 'fail', check, evidence: `after HTTP 429 with Retry-After ${THROTTLE_SECONDS} the client sent again ${waited} ms later; it waits at least the Retry-After interval` }
        : { id: 'MDM-TRN-021', verdict: 'pass', check, evidence: `after HTTP 429 with Retry-After ${THROTTLE_SECONDS} the client sent again ${waited} ms later` }]);
  },
};

/**
 * MDM-ROB-011: package 2 carries no Status for the client's Alerts (the MS-MDM example and Intune traffic do this,
 * A-09); the client carries on and runs the server's commands.
 */
export const noStatusForAlerts: ClientScenario = {
  id: 'robustness/no-status-for-alerts',
  phase: 'robustness',
  title: 'leaves the Statuses for the client\'s Alerts out of package 2, as Intune does: the client runs the server\'s Get as usual',
  requirements: ['MDM-ROB-011'],
  async run(t, log) {
    const check = this.id;
    const n = nodesOf(t);
    const run = await oneSession(t, log, { rounds: [[get(n.readableLeaf)]], behaviour: { statusForAlerts: false } }, { check });
    if (!run.connected) return;
    log.add([expectStatus(run.view, { kind: 'Get', target: n.readableLeaf, label: `Get of ${n.readableLeaf} in a package 2 without Statuses for the client's Alerts` }, '200', 'MDM-ROB-011', check,
      'a server that omits the Statuses for the client\'s Alerts must not stop the client (A-09)')]);
  },
};

export const ROBUSTNESS_SCENARIOS: readonly ClientScenario[] = [unreadableReplies, malformedCommands, noStatusForAlerts, throttledOnce];
