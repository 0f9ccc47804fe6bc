/**
 * Server scenario of a credential change during a session (OMA-DMS 5.4.3, MDM-AUTH-030). Through the control adapter
 * the harness has the server replace the reference device's secret (its DMAcc account's
 * `AppAuth/CLCRED/AAuthSecret`, which the device keeps as Windows does). The device takes the change with 200 and,
 * as the row requires, goes on with the old secret for the rest of the session and with the new one from its next
 * session on. A server that authenticates every message (200 and a fresh nonce, MDM-AUTH-009) must keep accepting
 * credentials made with the old secret until the session ends; one that answers 212 is owed no more credentials in
 * the session, which then says nothing. A server that refuses the next session never took the new secret into its
 * own store, which the row does not ask of it. Once the next session is accepted, a third one puts the old secret
 * back, so the scenarios that follow find the device's credentials as the run configured them.
 *
 * Evidence never shows a secret.
 */
import type { Finding } from '../../checks/finding';
import { label, type WireMessage } from '../../checks/session';
import { CLIENT_CREDENTIAL_SECRET } from '../../device/dm-account';
import type { DeviceRun, ReferenceDevice } from '../../device/reference-device';
import { describePackage1 } from '../../device/package1';
import { credentialChangesIn } from '../../protocol/credential-change';
import { codeOf, replace, type Status } from '../../syncml';
import type { Scenario, ScenarioLog } from '../scenario';
import { deviceFor, judgeSession, needsControl, reachable, type ServerUnderTest } from './target';

type ServerScenario = Scenario<ServerUnderTest>;

const ID = 'MDM-AUTH-030';
const ACCEPTED = new Set(['200', '212']);
const REFUSED = new Set(['401', '407']);

type Exchange = DeviceRun['view']['exchanges'][number];

function headerCode(x: Exchange): string | undefined {
  const hdr = x.response?.syncml?.body.commands.find((c): c is Status => c.kind === 'Status' && c.cmdRef?.trim() === '0');
  return hdr && codeOf(hdr);
}

/** The server message that carried the Replace of the device's secret, and the exchanges after it. */
function changeIn(run: DeviceRun): { at: WireMessage; after: Exchange[] } | undefined {
  const xs = run.view.exchanges;
  const i = xs.findIndex((x) => x.response?.syncml?.body.commands.some((c) => credentialChangesIn(c).some((ch) => ch.uri === CLIENT_CREDENTIAL_SECRET)));
  return i < 0 ? undefined : { at: xs[i].response!, after: xs.slice(i + 1) };
}

/** Whether the server let a session in: a device message with Cred answered 200 or 212. */
function credentialsAccepted(run: DeviceRun): WireMessage | undefined {
  const x = run.view.exchanges.find((e) => e.request.syncml?.hdr.cred && ACCEPTED.has(headerCode(e) ?? ''));
  return x?.request;
}

/**
 * MDM-AUTH-030 within the session of the change: every device message after it carries credentials made with the old
 * secret (the reference device keeps them for the session), and the server must accept each.
 */
export function judgeSameSession(run: DeviceRun, check: string): Finding {
  const change = changeIn(run);
  if (!change) return { id: ID, verdict: 'inconclusive', check, evidence: `the server did not send the queued Replace of ${CLIENT_CREDENTIAL_SECRET} in the session (${run.view.outcome})` };
  const withCred = change.after.filter((x) => x.request.syncml?.hdr.cred);
  const refused = withCred.find((x) => REFUSED.has(headerCode(x) ?? ''));
  if (refused) {
    return {
      id: ID, verdict: 'fail', check,
      evidence: `${label(refused.response!)}: the server refused with ${headerCode(refused)} the credentials of ${label(refused.request)}, made with the device's old secret in the session in which the server replaced it (${label(change.at)}); a change of the credentials takes effect only in later sessions`,
    };
  }
  const accepted = withCred.find((x) => ACCEPTED.has(headerCode(x) ?? ''));
  if (accepted) {
    return { id: ID, verdict: 'pass', check, evidence: `${label(accepted.response!)}: after replacing the device's secret (${label(change.at)}), the server accepted (${headerCode(accepted)}) the credentials of ${label(accepted.request)}, made with the old secret, for the rest of the session` };
  }
  const why = change.after.length
    ? 'the server had authenticated the device for the whole session (212, MDM-AUTH-008), so no device message after the change carried credentials'
    : 'the session ended before the device sent another message';
  return { id: ID, verdict: 'inconclusive', check, evidence: `${label(change.at)}: the server replaced the device's secret, but ${why}: which secret it verifies within that session is not visible (a server that authenticates every message with 200 shows it)` };
}

/** One session of the scenario's device, recorded and judged by the passive checks. */
async function oneSession(t: ServerUnderTest, log: ScenarioLog, device: ReferenceDevice, check: string): Promise<DeviceRun | undefined> {
  const run = await device.runSession(t.url);
  log.transcripts.push(run.exchanges);
  log.note(`session ${run.sessionID} (package 1: ${describePackage1(device.package1Shape)}): ${run.rounds} round trip(s), ${run.view.outcome}`);
  judgeSession(log, run.view);
  return reachable(log, run, check) ? run : undefined;
}

export const credentialChangeNextSession: ServerScenario = {
  id: 'auth/credential-change-next-session',
  phase: 'auth',
  title: 'has the server replace the device\'s secret (DMAcc CLCRED AAuthSecret): it keeps accepting credentials made with the old secret for the rest of that session, and the next session with the new one; a third session puts the old secret back',
  requirements: [ID],
  needs: (t) => needsControl(t) ?? (t.credentials ? undefined : 'needs the device\'s application-level credentials: pass --auth with --client-credentials USER:SECRET'),
  async run(t, log) {
    const check = this.id;
    const creds = t.credentials!;
    const newSecret = `${creds.password}-${log.rng.hex(4)}`;
    // One device for every session: it keeps its DM account, and with it the secret, from one session to the next.
    const device = deviceFor(t, log);
    const findings: Finding[] = [];
    try {
      await t.queue!(t.deviceId, [replace(CLIENT_CREDENTIAL_SECRET, newSecret)]);
      const first = await oneSession(t, log, device, check);
      if (!first) return;
      const same = judgeSameSession(first, check);
      findings.push(same);
      if (!changeIn(first)) return;
      const second = await oneSession(t, log, device, check);
      if (!second) return;
      const inWith = credentialsAccepted(second);
      if (!inWith) {
        findings.push({
          id: ID, verdict: 'inconclusive', check,
          evidence: `the server refused the next session, whose credentials were made with the new secret the device took (${second.view.outcome}): it did not take the new secret into its own store, which MDM-AUTH-030 does not require; the device's old secret still holds for the server`,
        });
        return;
      }
      const tail = `the next session, with credentials made with the new secret, was accepted (${label(inWith)})`;
      if (same.verdict === 'pass') findings.push({ id: ID, verdict: 'pass', check, evidence: tail });
      else findings[0] = { ...same, evidence: `${same.evidence}; ${tail}` };
      // Put the old secret back: the server changes it again, and the device takes it from its next session on.
      await t.queue!(t.deviceId, [replace(CLIENT_CREDENTIAL_SECRET, creds.password)]);
      const third = await oneSession(t, log, device, check);
      if (!third || !changeIn(third)) log.note('the old secret could not be put back: the server may keep the secret this scenario set for the device; provision the device\'s credentials again before the next run');
    } finally {
      await device.close();
      log.add(findings);
    }
  },
};

export const CREDENTIAL_CHANGE_SCENARIOS: readonly ServerScenario[] = [credentialChangeNextSession];
