/**
 * Client scenarios of the auth phase over several messages and sessions (OMA-DMP 9.1, OMA-DMS 5.3): the nonce a
 * server hands with 212 opens the next session (MDM-AUTH-010) and a stale one is recovered from with the challenge's
 * fresh nonce (MDM-AUTH-022); a server that accepts with 200 gets credentials again in every message (MDM-AUTH-009);
 * a client without a certificate authenticates with MD5 (MDM-AUTH-003); a refusal with RespURI redirects the next
 * message (MDM-HDR-016).
 */
import { headerStatus } from '../../checks/authentication';
import type { Finding } from '../../checks/finding';
import { label, trimmed, type WireMessage } from '../../checks/session';
import { AuthScheme, md5Digest } from '../../protocol/auth';
import { nonceBytes } from '../../protocol/credentials';
import { codeOf, get, metaValue } from '../../syncml';
import type { Scenario } from '../scenario';
import { challengesOf, digestNonce } from './challenges';
import { nodesOf, oneSession, serverFor, session, type ClientRun, type ClientUnderTest } from './target';

type ClientScenario = Scenario<ClientUnderTest>;

/** Nonces the server handed the device with an acceptance (212 or 200), in order. */
function acceptanceNonces(run: ClientRun): { nonce: string; code: string; at: WireMessage }[] {
  const out: { nonce: string; code: string; at: WireMessage }[] = [];
  for (const x of run.view.exchanges) {
    const hdr = x.response?.syncml && headerStatus(x.response.syncml);
    const code = hdr ? codeOf(hdr) ?? '' : '';
    const nonce = metaValue(hdr?.chal?.meta, 'NextNonce')?.trim();
    if (nonce && (code === '212' || code === '200')) out.push({ nonce, code, at: x.response! });
  }
  return out;
}

/** Every nonce the server handed the device in a run (challenges and acceptances). */
function allNonces(run: ClientRun): string[] {
  return run.view.exchanges.flatMap((x) => {
    const hdr = x.response?.syncml && headerStatus(x.response.syncml);
    const nonce = metaValue(hdr?.chal?.meta, 'NextNonce')?.trim();
    return nonce ? [nonce] : [];
  });
}

const md5Only = (t: ClientUnderTest) => (t.credentials?.scheme === AuthScheme.Md5 ? undefined : 'needs --auth md5 with --client-credentials USER:SECRET');

export const nextSessionNonce: ClientScenario = {
  id: 'auth/next-session-nonce',
  phase: 'auth',
  title: 'accepts MD5 credentials with 212 and a nonce for the next session: the next session opens with a Cred made from it; a server that has forgotten that nonce refuses it, and the client answers with the fresh nonce of the challenge',
  requirements: ['MDM-AUTH-010', 'MDM-AUTH-022'],
  feature: 'md5-auth',
  needs: md5Only,
  async run(t, log) {
    const creds = t.credentials!;
    const check = this.id;
    const n = nodesOf(t);
    const findings: Finding[] = [];
    const server = await serverFor(t, log, { clientAuth: creds, rounds: [[get(n.readableLeaf)]] });
    let handed: { nonce: string; code: string; at: WireMessage } | undefined;
    let known: string[] = [];
    try {
      const first = await session(t, log, server, { check });
      if (!first.connected) return;
      handed = acceptanceNonces(first).at(-1);
      known = allNonces(first);
      if (!handed) {
        log.note('the first session never reached an acceptance with a nonce for the next session');
        return;
      }
      server.reference.queue(t.deviceId, get(n.readableLeaf));
      const second = await session(t, log, server, { check });
      const opening = second.view.exchanges[0]?.request;
      const data = trimmed(opening?.syncml?.hdr.cred?.data?.text);
      if (!opening || !data) {
        findings.push({ id: 'MDM-AUTH-010', verdict: 'inconclusive', check, evidence: `${opening ? label(opening) : 'the second session'}: the client opens its sessions without credentials, so the nonce ${handed.nonce} handed with the ${handed.code} had no use` });
      } else {
        const used = digestNonce(data, creds, [...known, handed.nonce]);
        findings.push(used?.nonce === handed.nonce && !used.asText
          ? { id: 'MDM-AUTH-010', verdict: 'pass', check, evidence: `${label(opening)} /SyncHdr/Cred/Data: the session opens with a Cred made from the nonce ${handed.nonce} the server handed with its ${handed.code} (${label(handed.at)} of the previous session)` }
          : { id: 'MDM-AUTH-010', verdict: 'fail', check, evidence: `${label(opening)} /SyncHdr/Cred/Data: the session opens with a Cred made from ${used ? `the nonce ${used.nonce}${used.asText ? ' (as text)' : ''}` : 'no nonce the server handed out'}, not from ${handed.nonce}, which came with the ${handed.code} of the previous session (${label(handed.at)})` });
      }
      handed = acceptanceNonces(second).at(-1) ?? handed;
      known = [...known, ...allNonces(second)];
    } finally {
      await server.stop();
    }
    // A server that knows nothing of that nonce: the stale Cred is refused, and one more challenge brings a fresh nonce.
    const stale = await oneSession(t, log, { clientAuth: creds, rounds: [[get(n.readableLeaf)]] }, { check });
    if (stale.connected) findings.push(...judgeStaleRecovery(stale, creds, handed.nonce, known, check));
    log.add(findings);
  },
};

/** MDM-AUTH-022: credentials before any challenge use the last nonce received; refused, the retry uses the fresh one. */
function judgeStaleRecovery(run: ClientRun, creds: NonNullable<ClientUnderTest['credentials']>, last: string, known: string[], check: string): Finding[] {
  const opening = run.view.exchanges[0]?.request;
  const data = trimmed(opening?.syncml?.hdr.cred?.data?.text);
  if (!opening || !data) return [];
  const refusal = challengesOf(run)[0];
  const out: Finding[] = [];
  const used = digestNonce(data, creds, [...known, last]);
  out.push(used?.nonce === last
    ? { id: 'MDM-AUTH-022', verdict: 'pass', check, evidence: `${label(opening)} /SyncHdr/Cred/Data: credentials sent before any challenge are made from the last nonce received, ${last}` }
    : { id: 'MDM-AUTH-022', verdict: 'fail', check, evidence: `${label(opening)} /SyncHdr/Cred/Data: credentials sent before any challenge are made from ${used ? `the nonce ${used.nonce}` : 'no nonce the harness handed out'}, not from the last one received, ${last}` });
  if (!refusal?.nonce) return out;
  const retry = trimmed(refusal.reply?.syncml?.hdr.cred?.data?.text);
  if (!refusal.reply || !retry) return out;
  const again = digestNonce(retry, creds, [...known, last, refusal.nonce]);
  out.push(again?.nonce === refusal.nonce
    ? { id: 'MDM-AUTH-022', verdict: 'pass', check, evidence: `${label(refusal.reply)} /SyncHdr/Cred/Data: the stale credentials refused (${label(refusal.at)}, ${refusal.code}), the retry is made from the fresh nonce ${refusal.nonce}` }
    : { id: 'MDM-AUTH-022', verdict: 'fail', check, evidence: `${label(refusal.reply)} /SyncHdr/Cred/Data: after the stale credentials were refused with the fresh nonce ${refusal.nonce} (${label(refusal.at)}), the retry is made from ${again ? `the nonce ${again.nonce}` : 'no nonce the harness handed out'}` });
  return out;
}

export const perMessageCredentials: ClientScenario = {
  id: 'auth/per-message-credentials',
  phase: 'auth',
  title: 'accepts the client\'s credentials with 200 and a new nonce on every message (not 212): every next message carries them again, made from the latest nonce',
  requirements: ['MDM-AUTH-009'],
  needs: (t) => (t.credentials ? undefined : 'needs --auth with --client-credentials USER:SECRET'),
  async run(t, log) {
    const creds = t.credentials!;
    const check = this.id;
    const n = nodesOf(t);
    const run = await oneSession(t, log, { clientAuth: creds, behaviour: { authenticatePerMessage: true }, rounds: [[get(n.readableLeaf)], [get(n.readableLeaves[0])]] }, { check });
    if (!run.connected) return;
    // Presence is the passive checks' (MDM-AUTH-009); here the nonce each md5 Cred is made from.
    if (creds.scheme !== AuthScheme.Md5) return;
    const findings: Finding[] = [];
    run.view.exchanges.forEach((x, i) => {
      const hdr = x.response?.syncml && headerStatus(x.response.syncml);
      const nonce = metaValue(hdr?.chal?.meta, 'NextNonce')?.trim();
      const next = run.view.exchanges[i + 1]?.request;
      const data = trimmed(next?.syncml?.hdr.cred?.data?.text);
      if (!hdr || codeOf(hdr) !== '200' || !nonce || !next || !data) return;
      const ok = md5Digest(creds.user, creds.password, nonceBytes(nonce)) === data;
      findings.push(ok
        ? { id: 'MDM-AUTH-009', verdict: 'pass', check, evidence: `${label(next)} /SyncHdr/Cred/Data: after 200 with the nonce ${nonce} (${label(x.response!)}) the credentials come again, made from it` }
        : { id: 'MDM-AUTH-009', verdict: 'fail', check, evidence: `${label(next)} /SyncHdr/Cred/Data: after 200 with the nonce ${nonce} (${label(x.response!)}) the digest is not made from that nonce; for MD5 it is recomputed with the nonce of the Chal returned` });
    });
    log.add(findings);
  },
};

export const withoutCertificate: ClientScenario = {
  id: 'auth/without-certificate',
  phase: 'auth',
  title: 'takes a client without a certificate and challenges it for MD5 credentials: a client that does not authenticate at the transport layer answers with MD5',
  requirements: ['MDM-AUTH-003'],
  needs: (t) => (t.credentials ? undefined : 'needs --auth with --client-credentials USER:SECRET'),
  async run(t, log) {
    const check = this.id;
    const n = nodesOf(t);
    const creds = { ...t.credentials!, scheme: AuthScheme.Md5 };
    const run = await oneSession(t, log, { clientAuth: creds, behaviour: { verifyClientCertificate: false }, rounds: [[get(n.readableLeaf)]] }, { check });
    if (!run.connected) return;
    const withCert = run.exchanges.find((x) => x.tls?.peerCertificate);
    if (withCert) {
      log.add([{ id: 'MDM-AUTH-003', verdict: 'not-applicable', check, evidence: `the client presented its certificate (CN ${withCert.tls!.peerCertificate!.subjectCN}): it authenticates at the transport layer, so it need not support MD5` }]);
      return;
    }
    const nonces = allNonces(run);
    const answers = run.view.exchanges.map((x) => x.request).filter((m) => m.syncml?.hdr.cred);
    const md5 = answers.find((m) => metaValue(m.syncml!.hdr.cred!.meta, 'Type')?.trim() === AuthScheme.Md5 && digestNonce(trimmed(m.syncml!.hdr.cred!.data?.text), creds, nonces)?.asText === false);
    const accepted = run.records.some((r) => r.events.some((e) => e.type === 'auth' && e.outcome === 'accepted'));
    log.add([md5 && accepted
      ? { id: 'MDM-AUTH-003', verdict: 'pass', check, evidence: `${label(md5)} /SyncHdr/Cred: without a client certificate the client authenticated with syncml:auth-md5` }
      : {
        id: 'MDM-AUTH-003', verdict: 'fail', check,
        evidence: `the client presented no certificate and ${answers.length ? `answered the md5 challenge with ${answers.map((m) => metaValue(m.syncml!.hdr.cred!.meta, 'Type') ?? 'a Cred without Type').join(', ')}${md5 ? ', which was not accepted' : ''}` : 'sent no credentials'}; a client that cannot authenticate at the transport layer supports syncml:auth-md5`,
      }]);
  },
};

export const respUriOnChallenge: ClientScenario = {
  id: 'auth/respuri-on-challenge',
  phase: 'auth',
  title: 'refuses the client\'s first message with a challenge that carries a RespURI: the client sends its next message, with credentials, to that URI',
  requirements: ['MDM-HDR-016'],
  needs: (t) => (t.credentials ? undefined : 'needs --auth with --client-credentials USER:SECRET'),
  async run(t, log) {
    const check = this.id;
    const n = nodesOf(t);
    const run = await oneSession(t, log, { clientAuth: t.credentials, behaviour: { respUriOnAuthFailure: true }, rounds: [[get(n.readableLeaf)]] }, { check });
    if (run.connected && !challengesOf(run).some((c) => c.msg.hdr.respURI)) {
      log.note('the server never refused the client\'s credentials, so no RespURI was sent');
    }
  },
};

/**
 * MDM-AUTH-023 (a SHOULD): the client builds its Cred from the newest nonce even from a server it has not
 * authenticated, but a nonce that server hands over for the next session does not replace the one it keeps.
 */
export const nonceOfUnauthenticatedServer: ClientScenario = {
  id: 'auth/nonce-from-unauthenticated-server',
  phase: 'auth',
  title: 'a server whose own credentials fail challenges the client and accepts it with a nonce for the next session: the client answers with the newest nonce, yet opens its next session with the nonce of the server it authenticated',
  requirements: ['MDM-AUTH-023'],
  feature: 'md5-auth',
  needs: (t) => md5Only(t) ?? (t.serverCredentials ? undefined : 'needs --server-credentials USER:SECRET (a client that authenticates its server)'),
  async run(t, log) {
    const creds = t.credentials!;
    const check = this.id;
    const n = nodesOf(t);
    const findings: Finding[] = [];
    const good = await serverFor(t, log, { clientAuth: creds, rounds: [[get(n.readableLeaf)]] });
    try {
      const first = await session(t, log, good, { check });
      if (!first.connected) return;
      const kept = acceptanceNonces(first).at(-1);
      if (!kept) {
        log.note('the first session never reached an acceptance with a nonce for the next session');
        return;
      }
      const wrongServer = { ...t.serverCredentials!, password: `${t.serverCredentials!.password}-wrong` };
      const bad = await oneSession(t, log, { clientAuth: creds, serverCredentials: wrongServer, rounds: [[get(n.readableLeaf)]] }, { check });
      const offered = acceptanceNonces(bad).at(-1);
      // The Cred answering the unauthenticated server's challenge: made from that challenge's nonce, the newest.
      const answer = challengesOf(bad).find((c) => c.nonce && c.reply?.syncml?.hdr.cred);
      if (answer?.reply) {
        const used = digestNonce(trimmed(answer.reply.syncml!.hdr.cred!.data?.text), creds, [...allNonces(first), ...allNonces(bad)]);
        if (used) {
          findings.push(used.nonce === answer.nonce
            ? { id: 'MDM-AUTH-023', verdict: 'pass', check, evidence: `${label(answer.reply)} /SyncHdr/Cred: made from the newest nonce ${answer.nonce}, which came from a server not yet authenticated` }
            : { id: 'MDM-AUTH-023', verdict: 'warn', check, evidence: `${label(answer.reply)} /SyncHdr/Cred: made from ${used.nonce}, not from the newest nonce ${answer.nonce} of the challenge it answers` });
        }
      }
      if (!offered || offered.nonce === kept.nonce) {
        log.note('the server with the wrong secret never accepted the client with a nonce for the next session');
      } else {
        good.reference.queue(t.deviceId, get(n.readableLeaf));
        const next = await session(t, log, good, { check });
        const opening = next.view.exchanges[0]?.request;
        const data = trimmed(opening?.syncml?.hdr.cred?.data?.text);
        const used = data ? digestNonce(data, creds, [kept.nonce, offered.nonce]) : undefined;
        if (opening && used) {
          findings.push(used.nonce === kept.nonce
            ? { id: 'MDM-AUTH-023', verdict: 'pass', check, evidence: `${label(opening)} /SyncHdr/Cred: the next session opens with the nonce ${kept.nonce} of the server the client authenticated, not ${offered.nonce} of the one it refused` }
            : { id: 'MDM-AUTH-023', verdict: 'warn', check, evidence: `${label(opening)} /SyncHdr/Cred: the next session opens with the nonce ${offered.nonce}, handed over by a server whose credentials the client refused (${label(offered.at)}); it should keep ${kept.nonce}` });
        }
      }
    } finally {
      await good.stop();
    }
    log.add(findings);
  },
};

export const AUTH_FLOW_SCENARIOS: readonly ClientScenario[] = [nextSessionNonce, perMessageCredentials, withoutCertificate, respUriOnChallenge, nonceOfUnauthenticatedServer];
