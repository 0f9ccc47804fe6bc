/**
 * Client scenarios of the setup phase (catalogue S1, column "client under test"): package 1, the HTTP framing
 * Windows uses, the header, and the silent close of a session the server has nothing for.
 */
import type { Finding } from '../../checks/finding';
import { label, trimmed } from '../../checks/session';
import { codeOf, metaValue } from '../../syncml';
import type { Scenario } from '../scenario';
import { oneSession, type ClientRun, type ClientUnderTest } from './target';

type ClientScenario = Scenario<ClientUnderTest>;

/** The first message of the session is a package 1: a session alert and the DevInfo Replace (MDM-SES-001). */
function opensWithPackage1(run: ClientRun, check: string): Finding {
  const first = run.view.exchanges[0]?.request;
  const msg = first?.syncml;
  if (!first || !msg) return { id: 'MDM-SES-001', verdict: 'fail', check, evidence: 'the first message of the session is not a SyncML document' };
  const alert = msg.body.commands.some((c) => c.kind === 'Alert' && ['1200', '1201'].includes(codeOf(c) ?? ''));
  const devInfo = msg.body.commands.some((c) => c.kind === 'Replace' && c.items.some((it) => trimmed(it.source?.locURI ?? it.target?.locURI).startsWith('./DevInfo/')));
  const missing = [!alert && 'a session Alert (1201 or 1200)', !devInfo && 'a Replace of ./DevInfo nodes'].filter(Boolean);
  if (!missing.length) return { id: 'MDM-SES-001', verdict: 'pass', check, evidence: `${label(first)}: the session opens with a package 1 (session Alert and DevInfo Replace)` };
  // The missing part has a row of its own, failed by the passive checks: this row follows from it (one cause, one failure).
  return {
    id: 'MDM-SES-001', verdict: 'fail', check, consequenceOf: alert ? 'MDM-SES-003' : 'MDM-CMD-ALT-001',
    evidence: `${label(first)} /SyncBody: the session opens without ${missing.join(' and ')}, so it is not an OMA-DMP 8.3 package 1`,
  };
}

/**
 * Windows reports who is signed in with Alert 1224 LoginStatus in package 1 (MDM-CMD-ALT-009, a MAY): the
 * passive checks credit it when present; its absence is a Windows-interoperability note, never a failure.
 */
function loginStatus(run: ClientRun, check: string): Finding[] {
  const first = run.view.exchanges[0]?.request;
  const alerts = first?.syncml?.body.commands.filter((c) => c.kind === 'Alert' && codeOf(c) === '1224') ?? [];
  const present = alerts.some((a) => a.kind === 'Alert' && a.items.some((it) => metaValue(it.meta, 'Type') === 'com.microsoft/MDM/LoginStatus'));
  if (!first || present) return [];
  // A MAY left undone is no deviation and no pass: the rule simply did not arise.
  return [{ id: 'MDM-CMD-ALT-009', verdict: 'inconclusive', check, evidence: `${label(first)} /SyncBody: no Alert 1224 com.microsoft/MDM/LoginStatus in package 1 (a MAY; Windows sends it: user, others or none)` }];
}

export const package1: ClientScenario = {
  id: 'setup/package-1',
  phase: 'setup',
  title: 'triggers two sessions with nothing queued: judges package 1, the HTTP framing, the header and the silent close',
  requirements: [
    'MDM-TRN-001', 'MDM-TRN-005', 'MDM-TRN-009', 'MDM-TRN-011', 'MDM-XML-001', 'MDM-XML-002', 'MDM-XML-004', 'MDM-HDR-001',
    'MDM-HDR-002', 'MDM-HDR-003', 'MDM-HDR-004', 'MDM-HDR-005', 'MDM-HDR-006', 'MDM-HDR-008', 'MDM-HDR-010', 'MDM-HDR-012',
    'MDM-CMD-ALT-001', 'MDM-CMD-ALT-002', 'MDM-CMD-ALT-009', 'MDM-SES-001', 'MDM-SES-002', 'MDM-SES-003', 'MDM-SES-004',
    'MDM-SES-005', 'MDM-TERM-001', 'MDM-STS-011',
  ],
  async run(t, log) {
    const first = await oneSession(t, log, {}, { check: this.id });
    if (!first.connected) return;
    log.add([opensWithPackage1(first, this.id), ...loginStatus(first, this.id)]);
    const second = await oneSession(t, log, {}, { check: this.id });
    if (!second.connected) return;
    const [a, b] = [first.sessionIDs[0], second.sessionIDs[0]];
    log.add([a !== undefined && a === b
      ? { id: 'MDM-HDR-006', verdict: 'fail', check: this.id, evidence: `two sessions in a row both used SessionID "${a}"; each new session uses a new one` }
      : { id: 'MDM-HDR-006', verdict: 'pass', check: this.id, evidence: `consecutive sessions used SessionIDs "${a}" and "${b}"` }]);
  },
};

export const SETUP_SCENARIOS: readonly ClientScenario[] = [package1];
