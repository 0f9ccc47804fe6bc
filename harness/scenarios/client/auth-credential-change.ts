/**
 * Client scenario of a credential change during a session (OMA-DMS 5.4.3, MDM-AUTH-030): the reference server
 * authenticates every message (200 and a fresh nonce, MDM-AUTH-009), so every client message carries `Cred`, and
 * replaces the client's secret (DMAcc `AppAuth/CLCRED/AAuthSecret`, the capability profile's
 * `nodes.clientCredentialSecret`). The client's messages for the rest of that session must carry credentials made with
 * the old secret; its next session's, with the new one. That next session puts the old secret back, so the client
 * leaves the scenario with the credentials it came with.
 *
 * Evidence never shows a secret: the harness knows both and says which one a Cred was made with.
 */
import type { Finding } from '../../checks/finding';
import { label, trimmed, type WireMessage } from '../../checks/session';
import { AuthScheme, basicCredential } from '../../protocol/auth';
import { credentialChangesIn } from '../../protocol/credential-change';
import { codeOf, get, metaValue, replace, type Status } from '../../syncml';
import type { Scenario } from '../scenario';
import { digestNonce, type Creds } from './challenges';
import { freshTag, nodesOf, serverFor, session, unmapped, type ClientRun, type ClientUnderTest } from './target';

type ClientScenario = Scenario<ClientUnderTest>;

const ID = 'MDM-AUTH-030';

/** Which of two secrets a message's Cred was made with; `none` when it carries no Cred. */
export type SecretUsed = 'old' | 'new' | 'neither' | 'none';

/** Every nonce the server handed the client in a run: what an md5 Cred may be made from. */
function handedNonces(run: ClientRun): string[] {
  return run.view.exchanges.flatMap((x) => {
    const hdr = x.response?.syncml?.body.commands.find((c): c is Status => c.kind === 'Status' && trimmed(c.cmdRef) === '0');
    const nonce = metaValue(hdr?.chal?.meta, 'NextNonce')?.trim();
    return nonce ? [nonce] : [];
  });
}

/** Which secret the Cred of a client message was made with: basic compared as is, md5 against every nonce handed out. */
export function secretUsed(msg: WireMessage | undefined, creds: Creds, secrets: { old: string; new: string }, nonces: string[]): SecretUsed {
  const cred = msg?.syncml?.hdr.cred;
  const data = trimmed(cred?.data?.text);
  if (!cred || !data) return 'none';
  const scheme = metaValue(cred.meta, 'Type')?.trim() ?? creds.scheme;
  const madeWith = (password: string) => (scheme === AuthScheme.Basic
    ? basicCredential(creds.user, password) === data
    : digestNonce(data, { ...creds, password }, nonces)?.asText === false);
  if (madeWith(secrets.old)) return 'old';
  if (madeWith(secrets.new)) return 'new';
  return 'neither';
}

/** The code of the client's Status for the command `cmdID` of server message `msgID`, in the messages given. */
function statusFor(messages: WireMessage[], msgID: string, cmdID: string): string | undefined {
  for (const m of messages) {
    const s = m.syncml?.body.commands.find((c): c is Status => c.kind === 'Status' && trimmed(c.msgRef) === msgID && trimmed(c.cmdRef) === cmdID);
    if (s) return codeOf(s);
  }
  return undefined;
}

/** Where a session changed the client's secret: the server message, the Replace's CmdID, and the client messages after it (same SessionID). */
function changeIn(run: ClientRun, node: string): { at: WireMessage; msgID: string; cmdID: string; after: WireMessage[] } | undefined {
  const xs = run.view.exchanges;
  for (let i = 0; i < xs.length; i++) {
    const reply = xs[i].response?.syncml;
    const command = reply?.body.commands.find((c) => credentialChangesIn(c).some((ch) => ch.field === 'password' && ch.uri === node.trim()));
    if (!reply || !command) continue;
    const sessionID = trimmed(xs[i].request.syncml?.hdr.sessionID);
    const after = xs.slice(i + 1).map((x) => x.request).filter((m) => trimmed(m.syncml?.hdr.sessionID) === sessionID);
    return { at: xs[i].response!, msgID: trimmed(reply.hdr.msgID) ?? '', cmdID: trimmed(command.cmdID) ?? '', after };
  }
  return undefined;
}

/**
 * MDM-AUTH-030 within the session of the change: every Cred the client sends after it took the change is made with
 * the old secret. Returns the findings and whether the client took the change (Status 200).
 */
export function judgeSameSession(run: ClientRun, creds: Creds, newSecret: string, node: string, check: string): { findings: Finding[]; taken: boolean } {
  const change = changeIn(run, node);
  if (!change) {
    const why = run.records.some((r) => r.events.some((e) => e.type === 'auth' && e.outcome === 'accepted'))
      ? 'the session ended before the server could send it'
      : 'the server never accepted the client\'s credentials, so it sent no commands';
    return { findings: [{ id: ID, verdict: 'inconclusive', check, evidence: `the Replace of ${node} (nodes.clientCredentialSecret) never reached the client: ${why}` }], taken: false };
  }
  const code = statusFor(change.after, change.msgID, change.cmdID);
  if (code !== '200') {
    const what = code === undefined ? 'answered it with no Status' : `answered it ${code}`;
    return { findings: [{ id: ID, verdict: 'inconclusive', check, evidence: `${label(change.at)}: the client ${what}, so its credentials did not change (DMAcc takes a Replace only of a node that exists, A-25; check nodes.clientCredentialSecret)` }], taken: false };
  }
  const nonces = handedNonces(run);
  const secrets = { old: creds.password, new: newSecret };
  const used = change.after.map((m) => ({ m, used: secretUsed(m, creds, secrets, nonces) }));
  const early = used.find((u) => u.used === 'new');
  if (early) {
    return {
      findings: [{ id: ID, verdict: 'fail', check, evidence: `${label(early.m)} /SyncHdr/Cred: made with the new secret the server set in ${label(change.at)} (${node}), in the same session; a change of the credentials takes effect only in later sessions` }],
      taken: true,
    };
  }
  const old = used.find((u) => u.used === 'old');
  if (old) {
    return {
      findings: [{ id: ID, verdict: 'pass', check, evidence: `${label(old.m)} /SyncHdr/Cred: after the client took the new secret (Status 200 to ${label(change.at)}, ${node}), the rest of the session still carries credentials made with the old one` }],
      taken: true,
    };
  }
  const why = change.after.length
    ? `none of the client's ${change.after.length} message(s) after the change carried credentials made with either secret, although the server accepted every message with 200 and a new nonce (MDM-AUTH-009)`
    : 'the session ended before the client sent another message';
  return { findings: [{ id: ID, verdict: 'inconclusive', check, evidence: `${label(change.at)}: the client took the new secret (200), but ${why}, so which secret it uses in that session is not visible` }], taken: true };
}

/** MDM-AUTH-030 in the next session: the first Cred is made with the new secret (the change took effect). */
export function judgeNextSession(run: ClientRun, creds: Creds, newSecret: string, check: string, earlierNonces: string[] = []): Finding | undefined {
  const nonces = [...earlierNonces, ...handedNonces(run)];
  const secrets = { old: creds.password, new: newSecret };
  const first = run.view.exchanges.map((x) => x.request).map((m) => ({ m, used: secretUsed(m, creds, secrets, nonces) })).find((u) => u.used !== 'none');
  if (!first) return undefined;
  if (first.used === 'new') return { id: ID, verdict: 'pass', check, evidence: `${label(first.m)} /SyncHdr/Cred: the next session carries credentials made with the new secret: the change took effect there` };
  if (first.used === 'old') return { id: ID, verdict: 'fail', check, evidence: `${label(first.m)} /SyncHdr/Cred: the client took the new secret with 200 in the previous session, yet the next session still carries credentials made with the old one: the change never took effect` };
  return undefined;
}

export const credentialChangeNextSession: ClientScenario = {
  id: 'auth/credential-change-next-session',
  phase: 'auth',
  title: 'replaces the client\'s secret (DMAcc CLCRED AAuthSecret) in a session that authenticates every message: the rest of that session carries credentials made with the old secret, the next session credentials made with the new one, which then puts the old secret back',
  requirements: [ID],
  notApplicable: (t) => unmapped(nodesOf(t), 'clientCredentialSecret'),
  needs: (t) => (t.credentials ? undefined : 'needs the client\'s application-level credentials: pass --auth with --client-credentials USER:SECRET'),
  async run(t, log) {
    const creds = t.credentials!;
    const check = this.id;
    const n = nodesOf(t);
    const node = n.clientCredentialSecret!;
    const newSecret = `${creds.password}-${freshTag(log)}`;
    const findings: Finding[] = [];
    // The server tracks the change: once the client took it, it verifies the new secret from the next session on.
    const server = await serverFor(t, log, {
      clientAuth: creds, behaviour: { authenticatePerMessage: true }, rounds: [[replace(node, newSecret)], [get(n.readableLeaf)]],
    });
    try {
      const first = await session(t, log, server, { check });
      if (!first.connected) return;
      const same = judgeSameSession(first, creds, newSecret, node, check);
      findings.push(...same.findings);
      if (!same.taken) return;
      // The next session: made with the new secret; it puts the old one back for the scenarios that follow.
      server.reference.queue(t.deviceId, replace(node, creds.password));
      const second = await session(t, log, server, { check });
      const next = judgeNextSession(second, creds, newSecret, check, handedNonces(first));
      if (next && (findings[0].verdict !== 'inconclusive' || next.verdict === 'fail')) findings.push(next);
      else if (next?.verdict === 'pass') findings[0] = { ...findings[0], evidence: `${findings[0].evidence}; the next session carried credentials made with the new secret` };
      const restored = changeIn(second, node);
      const code = restored && statusFor(restored.after, restored.msgID, restored.cmdID);
      if (code !== '200') log.note(`the old secret could not be put back (${restored ? `the client answered the Replace of ${node} ${code ?? 'with no Status'}` : 'the Replace never reached the client'}): the client may keep the secret this scenario set; provision its credentials again before the next run`);
    } finally {
      await server.stop();
      log.add(findings);
    }
  },
};

export const CREDENTIAL_CHANGE_SCENARIOS: readonly ClientScenario[] = [credentialChangeNextSession];
