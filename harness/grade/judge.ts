/**
 * Judging captured DM sessions with the passive checks: the server checks on what the server sent, the client
 * checks on what the device sent, as a live run would (SERVER_CHECKS in test-server, CLIENT_CHECKS in test-client).
 *
 * A row of role `both` binds whichever side sends the construct: it is judged on each side, its evidence says which
 * side (`server side:`, `device side:`), and it fails when either side failed it. What the capture lacks is never
 * held against a side: a capture that begins after package 1 leaves the session-start rules inconclusive with that
 * reason, one that ends mid-session leaves "never did it by the end" rules unjudged (the checks read
 * `startsAtPackage1` and `endsMidSession` of the view), and HTTP-level rules need a capture with headers.
 */
import { basename } from 'node:path';
import { CLIENT_CHECKS } from '../checks/client-checks';
import { runChecks, type Finding } from '../checks/finding';
import { releasedAfter } from '../checks/memo';
import { requirement } from '../checks/registry';
import { SERVER_CHECKS } from '../checks/server-checks';
import { startsAtPackage1 } from '../checks/session';
import { judgeability } from '../scenarios/catalog';
import type { CapturedSession } from './sessions';

/** Whose messages are judged: the device's (client checks), the server's (server checks), or both. */
export type GradeRole = 'device' | 'server' | 'both';

export const GRADE_ROLES: readonly GradeRole[] = ['device', 'server', 'both'];

/**
 * Rules about the start of a session (package 1 and what it carries): a capture that begins later cannot show them.
 * The checks do not judge them on such a view; this says why.
 */
const SESSION_START_RULES: readonly string[] = [
  'MDM-CMD-ALT-001', 'MDM-SES-002', 'MDM-SES-003', 'MDM-SES-004', 'MDM-CMD-ALT-004', 'MDM-CMD-ALT-009', 'MDM-HDR-012',
];
for (const id of SESSION_START_RULES) requirement(id);

/** `server side: ` or `device side: ` before the evidence of a row that binds both sides. */
function sided(findings: readonly Finding[], side: 'server' | 'device'): Finding[] {
  return findings.map((f) => (requirement(f.id).role === 'both' ? { ...f, evidence: `${side} side: ${f.evidence}` } : f));
}

/** The passive checks of the chosen sides on one captured session. */
export function judgeCaptured(session: CapturedSession, role: GradeRole): Finding[] {
  const findings: Finding[] = [];
  releasedAfter(() => {
    if (role !== 'device') findings.push(...sided(runChecks(SERVER_CHECKS, session.view), 'server'));
    if (role !== 'server') findings.push(...sided(runChecks(CLIENT_CHECKS, session.view), 'device'));
  });
  if (!startsAtPackage1(session.view)) {
    const judged = new Set(findings.map((f) => f.id));
    const why = `the capture of this session starts mid-session (its first device message is ${firstMsgID(session)}), so package 1 is not in it`;
    for (const id of SESSION_START_RULES) {
      if (judged.has(id) || !judgedBy(role, id)) continue;
      findings.push({ id, verdict: 'inconclusive', check: 'capture', evidence: why });
    }
  }
  return findings;
}

function firstMsgID(session: CapturedSession): string {
  const first = session.view.exchanges.find((x) => x.request)?.request;
  const id = first?.syncml?.hdr.msgID?.trim();
  return id ? `MsgID ${id}` : first ? 'unreadable' : 'missing: the capture opens with a server message';
}

/** Whether a passive check of the judged sides reports the row. */
function judgedBy(role: GradeRole, id: string): boolean {
  return (role !== 'device' && (judgeability('server').get(id)?.checks.length ?? 0) > 0)
    || (role !== 'server' && (judgeability('client').get(id)?.checks.length ?? 0) > 0);
}

/** What the captured traffic offered, for the reasons of rows it could not judge. */
export interface CaptureFacts {
  sessions: number;
  /** Sessions whose capture begins with package 1. */
  fromStart: number;
  /** Messages that came with HTTP headers (HAR, harness transcripts, the proxy). */
  withHeaders: number;
}

export function captureFacts(sessions: readonly CapturedSession[]): CaptureFacts {
  let withHeaders = 0;
  for (const s of sessions) for (const x of s.view.exchanges) for (const m of [x.request, x.response]) if (m?.http) withHeaders++;
  return { sessions: sessions.length, fromStart: sessions.filter((s) => startsAtPackage1(s.view)).length, withHeaders };
}

const HTTP_RULE = /^MDM-TRN-/;

/**
 * Why a row no finding mentions was not judged when grading traffic: the side it binds was left out (--role), the
 * capture lacked what the rule needs (package 1, HTTP headers), the situation never arose, or only an active
 * scenario of the suites can provoke it.
 */
export function notJudgedInCapture(role: GradeRole, facts: CaptureFacts, where = 'captured traffic'): (id: string) => string | undefined {
  return (id) => {
    const row = requirement(id);
    if (role === 'server' && row.role === 'client') return `a rule for the device: --role server judged only the server's messages`;
    if (role === 'device' && row.role === 'server') return `a rule for the server: --role device judged only the device's messages`;
    const sides = ([['server', 'server'], ['client', 'device']] as const).filter(([, side]) => role === 'both' || role === side);
    const checks = sides.flatMap(([mode]) => judgeability(mode).get(id)?.checks ?? []);
    if (!checks.length) {
      const scenarios = sides.flatMap(([mode]) => judgeability(mode).get(id)?.scenarios ?? []);
      if (scenarios.length) {
        const command = [...new Set(sides.filter(([mode]) => judgeability(mode).get(id)?.scenarios.length).map(([mode]) => (mode === 'server' ? 'test-server' : 'test-client')))].join(' or ');
        return `only an active scenario judges it (${scenarios[0].id}): the harness must provoke the situation, which ${where} cannot do; run ${command}`;
      }
      return 'no check or scenario of this harness judges it yet';
    }
    if (!facts.sessions) return `no DM session in the ${where}`;
    if (SESSION_START_RULES.includes(id) && facts.fromStart === 0) return `no session of the ${where} starts at package 1 (the capture begins mid-session)`;
    if (HTTP_RULE.test(id) && facts.withHeaders === 0) return `the ${where} holds no HTTP headers (a folder or a text of messages): HTTP-level rules are judged only on captures that keep them (HAR, harness transcripts, the proxy)`;
    const situations = [...new Set(checks.map((c) => c.when).filter((w): w is string => !!w))];
    if (situations.length) return `the situation did not arise in the ${where}: it needs ${situations.join(', or ')}`;
    return `the ${where} never showed the situation this rule is about`;
  };
}

/** A title for each captured session, unique within the run: device, SessionID and where it was read from. */
export function sessionTitles(sessions: readonly CapturedSession[]): string[] {
  const seen = new Map<string, number>();
  return sessions.map((s) => {
    const first = s.sources[0]?.source;
    const last = s.sources.at(-1)?.source;
    const where = first ? `${basename(first.file)} ${first.position}${last && last !== first ? ` to ${last.file === first.file ? '' : `${basename(last.file)} `}${last.position}` : ''}` : 'no message';
    const base = `session ${s.sessionID ?? '(no SessionID)'} of device ${s.deviceId ?? '(unknown)'} (${where})`;
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return n > 1 ? `${base} #${n}` : base;
  });
}

/** What a reader of the report should know about how whole a captured session is. */
export function captureNotes(s: CapturedSession): string[] {
  const notes: string[] = [];
  const files = [...new Set(s.sources.map((x) => x.source.file))];
  notes.push(`read from ${files.join(', ')}: ${s.sources.length} message(s), ${s.view.exchanges.length} exchange(s)`);
  notes.push(startsAtPackage1(s.view) ? 'the capture starts at package 1' : 'the capture starts mid-session: rules about the start of the session are not judged');
  notes.push(s.hints.endsWithClose ? 'it ends with the server closing the session' : s.hints.aborted ? 'the session was aborted (Alert 1223)' : 'the capture ends mid-session: what would have come next is not judged');
  if (s.hints.missingRequests) notes.push(`${s.hints.missingRequests} server message(s) without the device message they answer`);
  if (s.hints.missingReplies) notes.push(`${s.hints.missingReplies} device message(s) without a captured reply`);
  if (s.hints.msgIDGaps.length) notes.push(`MsgID gaps (messages missing from the capture?): ${s.hints.msgIDGaps.join('; ')}`);
  if (s.hints.unreadable) notes.push(`${s.hints.unreadable} message(s) not readable as SyncML (judged as such, MDM-XML-001)`);
  return notes;
}
