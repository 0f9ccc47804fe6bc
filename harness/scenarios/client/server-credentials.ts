/**
 * Client scenarios of the auth phase in the other direction: the client authenticates the server (OMA-DMS 5.3; w7
 * `CLIENT`, DMAcc `SRVCRED`; A-16, A-17). The reference server presents `--server-credentials` in every session; here
 * it also presents none, a stale one, a wrong one, and answers the client's challenge in another scheme.
 *
 * Which id covers what:
 * - the commands of a server that has not authenticated are not run (MDM-AUTH-002);
 * - a Cred made from the nonce the client handed with its 212 is accepted at the start of the next session
 *   (MDM-AUTH-010);
 * - a Cred made with a wrong secret is refused, one made as MDM-AUTH-015 prescribes is accepted (MDM-AUTH-015);
 * - the client's challenges, codes, nonces and schemes (MDM-AUTH-004, -005, -008, -012, -018, -020..-022, -025,
 *   -031) are the passive checks' (checks/authentication.ts), which judge every session of these scenarios.
 */
import { headerStatus } from '../../checks/authentication';
import type { Finding } from '../../checks/finding';
import { label } from '../../checks/session';
import { codeOf, get, type Status } from '../../syncml';
import type { Scenario } from '../scenario';
import { refusedServerMessages, sentCommand, statusFor } from './expect';
import { nodesOf, oneSession, serverFor, session, type ClientRun, type ClientUnderTest } from './target';

type ClientScenario = Scenario<ClientUnderTest>;

/** The first server message that carried a command but no Cred, and what the client did with its Get. */
function unauthenticatedGet(run: ClientRun): { msg: string; code?: string; at: string } | undefined {
  for (const x of run.view.exchanges) {
    const msg = x.response?.syncml;
    if (!msg || msg.hdr.cred || !msg.body.commands.some((c) => c.kind === 'Get')) continue;
    const msgID = msg.hdr.msgID?.trim() ?? '';
    const get = msg.body.commands.find((c) => c.kind === 'Get');
    for (const y of run.view.exchanges) {
      const answer = y.request.syncml?.body.commands.find((c): c is Status => c.kind === 'Status' && c.msgRef?.trim() === msgID && c.cmdRef?.trim() === get?.cmdID?.trim());
      if (answer && y.request.n > x.response!.n) return { msg: label(x.response!), code: codeOf(answer), at: label(y.request) };
    }
    return { msg: label(x.response!), at: 'no answer' };
  }
  return undefined;
}

/** The client's verdict on the first server message that carried a Cred: 212/200 accepted, 401/407 refused. */
function verdictOnFirstCred(run: ClientRun): { code: string; at: string; of: string } | undefined {
  const first = run.view.exchanges.find((x) => x.response?.syncml?.hdr.cred);
  if (!first?.response?.syncml) return undefined;
  const msgID = first.response.syncml.hdr.msgID?.trim();
  for (const x of run.view.exchanges) {
    const hdr = x.request.syncml && headerStatus(x.request.syncml);
    if (hdr && hdr.msgRef?.trim() === msgID && x.request.n > first.response.n) return { code: codeOf(hdr) ?? '', at: label(x.request), of: label(first.response) };
  }
  return undefined;
}

export const serverCredentials: ClientScenario = {
  id: 'auth/server-credentials',
  phase: 'auth',
  title: 'presents the server\'s credentials only when challenged, then from the nonce handed with the 212, then stale, then with a wrong secret, and answers an md5 challenge with basic: the client runs commands only of a server it authenticated',
  requirements: ['MDM-AUTH-002', 'MDM-AUTH-010', 'MDM-AUTH-015'],
  needs: (t) => (t.serverCredentials ? undefined : 'needs --server-credentials USER:SECRET (what the client expects the server to present)'),
  async run(t, log) {
    const check = this.id;
    const n = nodesOf(t);
    const findings: Finding[] = [];
    const get1 = { kind: 'Get', target: n.readableLeaf };

    // A server that knows no nonce of this client yet presents nothing at first: the client refuses its message.
    const server = await serverFor(t, log, { rounds: [[get(n.readableLeaf)]] });
    try {
      const first = await session(t, log, server, { check });
      if (!first.connected) return;
      const unauth = unauthenticatedGet(first);
      if (unauth) {
        const ran = unauth.code?.startsWith('2');
        findings.push({
          id: 'MDM-AUTH-002', verdict: ran ? 'fail' : unauth.code ? 'pass' : 'inconclusive', check,
          evidence: ran ? `${unauth.at}: the Get of ${unauth.msg}, a server message without credentials, was run (${unauth.code}); a client that authenticates its server runs nothing before it has`
            : unauth.code ? `${unauth.at}: the Get of ${unauth.msg}, a server message without credentials, was not run (${unauth.code})` : `${unauth.msg}: the Get of a server message without credentials was never answered`,
        });
      }
      const answered = sentCommand(first.view, get1);
      const status = answered && statusFor(first.view, answered, n.readableLeaf);
      const accepted = verdictOnFirstCred(first);
      if (accepted && !['200', '212'].includes(accepted.code)) {
        findings.push({ id: 'MDM-AUTH-015', verdict: 'fail', check, evidence: `${accepted.at}: the server's Cred in ${accepted.of}, made as MDM-AUTH-015 prescribes from --server-credentials and the nonce the client handed over, was refused (${accepted.code}); check that the client and --server-credentials agree` });
      } else if (accepted) {
        findings.push({ id: 'MDM-AUTH-015', verdict: 'pass', check, evidence: `${accepted.at}: the server's Cred in ${accepted.of}, made from the nonce the client handed over, was accepted (${accepted.code})${status ? `; the Get then answered ${status.code}` : ''}` });
      }
      if (refusedServerMessages(first.view).size === 0 && !first.view.exchanges.some((x) => x.response?.syncml?.hdr.cred)) {
        log.note('the client neither refused the server\'s messages nor saw a Cred: it does not authenticate the server');
      }

      // The next session: the server opens with a Cred made from the nonce the client handed with its 212.
      server.reference.queue(t.deviceId, get(n.readableLeaf));
      const second = await session(t, log, server, { check });
      const opening = second.view.exchanges[0]?.response;
      const verdict = verdictOnFirstCred(second);
      if (!opening?.syncml?.hdr.cred || !verdict) {
        findings.push({ id: 'MDM-AUTH-010', verdict: 'inconclusive', check, evidence: 'the client handed the server no nonce with an acceptance in the first session, so the second could not open with credentials' });
      } else {
        findings.push(['200', '212'].includes(verdict.code)
          ? { id: 'MDM-AUTH-010', verdict: 'pass', check, evidence: `${verdict.at}: the session opened with a Cred made from the nonce the client handed with its acceptance in the previous session, and the client accepted it (${verdict.code})` }
          : { id: 'MDM-AUTH-010', verdict: 'fail', check, evidence: `${verdict.at}: the session opened with a Cred made from the nonce the client handed for this purpose with its acceptance in the previous session, and the client refused it (${verdict.code})` });
      }
    } finally {
      await server.stop();
    }

    // A Cred made from a nonce the client never handed out: refused with a fresh nonce (passive checks), then accepted.
    await oneSession(t, log, { behaviour: { staleCredentials: true }, rounds: [[get(n.readableLeaf)]] }, { check });

    // A wrong secret: every Cred refused, no command run.
    const wrong = await oneSession(t, log, { serverCredentials: { ...t.serverCredentials!, password: `${t.serverCredentials!.password}-wrong` }, rounds: [[get(n.readableLeaf)]] }, { check });
    if (wrong.connected) {
      const verdict = verdictOnFirstCred(wrong);
      const sent = sentCommand(wrong.view, get1);
      const ran = sent && statusFor(wrong.view, sent, n.readableLeaf)?.code.startsWith('2');
      if (verdict) {
        findings.push(['200', '212'].includes(verdict.code) || ran
          ? { id: 'MDM-AUTH-015', verdict: 'fail', check, evidence: `${verdict.at}: the server's Cred in ${verdict.of}, made with a wrong secret, was accepted (${verdict.code})${ran ? ' and its Get run' : ''}` }
          : { id: 'MDM-AUTH-015', verdict: 'pass', check, evidence: `${verdict.at}: the server's Cred in ${verdict.of}, made with a wrong secret, was refused (${verdict.code})` });
      }
    }

    // The client's md5 challenge answered with valid basic credentials: not to be taken (MDM-AUTH-025, passive).
    await oneSession(t, log, { behaviour: { answerChallengeScheme: 'syncml:auth-basic' }, rounds: [[get(n.readableLeaf)]] }, { check });

    // A server that presents nothing and has nothing to send: the client must not answer with a bare challenge (MDM-AUTH-012).
    await oneSession(t, log, { behaviour: { withholdCredentials: true } }, { check });
    log.add(findings);
  },
};
