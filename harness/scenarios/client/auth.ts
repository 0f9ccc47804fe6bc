/**
 * Client scenarios of the auth phase (catalogue S6 and S7, column "client under test"): the client refuses a
 * server certificate it cannot validate and presents its own; challenged for credentials, it re-sends package 1
 * with the right Cred, and it stops when they keep being refused.
 */
import type { Finding } from '../../checks/finding';
import { label, trimmed } from '../../checks/session';
import type { BadServerIdentity } from '../../pki';
import { AuthScheme, basicCredential } from '../../protocol/auth';
import { codeOf, get, metaValue, type Status, type SyncML } from '../../syncml';
import type { Scenario, ScenarioLog } from '../scenario';
import { challengesOf, digestNonce, type Challenge, type Creds } from './challenges';
import { AUTH_FLOW_SCENARIOS } from './auth-flows';
import { HMAC_SCENARIOS } from './hmac';
import { serverCredentials } from './server-credentials';
import { nodesOf, oneSession, type ClientRun, type ClientUnderTest } from './target';

type ClientScenario = Scenario<ClientUnderTest>;

const BAD_SERVERS: { kind: BadServerIdentity; what: string }[] = [
  { kind: 'untrusted-ca', what: 'a certificate from a CA the client was not told to trust' },
  { kind: 'expired', what: 'an expired certificate' },
  { kind: 'wrong-host', what: 'a certificate for another host name' },
];

/** The device certificate as the server saw it on every request (MDM-TRN-004). */
function presentsIdentity(run: ClientRun, deviceId: string, check: string): Finding {
  for (const x of run.exchanges) {
    const tls = x.tls;
    const cert = tls?.peerCertificate;
    const problem = !cert ? 'no client certificate'
      : !tls.authorized ? `a client certificate that does not verify against the harness CA (${tls.authorizationError ?? 'not trusted'})`
        : cert.subjectCN !== deviceId ? `the certificate of "${cert.subjectCN}", not of the device "${deviceId}"` : undefined;
    if (problem) return { id: 'MDM-TRN-004', verdict: 'fail', check, evidence: `request ${x.index + 1} to the server came with ${problem}` };
  }
  return { id: 'MDM-TRN-004', verdict: 'pass', check, evidence: `every request of the session presented the device certificate (CN ${deviceId}, issued by the harness CA)` };
}

export const mutualTls: ClientScenario = {
  id: 'auth/mutual-tls',
  phase: 'auth',
  title: 'serves with a valid certificate, then with an untrusted, an expired and a wrong-host one: the client presents its certificate and refuses the bad ones',
  requirements: ['MDM-TRN-004', 'MDM-AUTH-002'],
  async run(t, log) {
    const n = nodesOf(t);
    const check = this.id;
    const valid = await oneSession(t, log, { rounds: [[get(n.readableLeaf)]] }, { check });
    if (!valid.connected) {
      log.add([{ id: 'MDM-AUTH-002', verdict: 'inconclusive', check, evidence: 'the client did not connect to a server with a valid certificate either, so a refusal of bad ones would prove nothing' }]);
      return;
    }
    log.add([presentsIdentity(valid, t.deviceId, check)]);
    for (const bad of BAD_SERVERS) {
      const run = await oneSession(t, log, { identity: bad.kind, rounds: [[get(n.readableLeaf)]] }, { check, mayStayAway: true });
      // The client's own account of the refusal says why; the server only sees the handshake break off.
      const why = run.trigger.stderr.trim().split('\n').at(-1) || run.refused.map((x) => x.error?.message).filter(Boolean).join('; ') || 'no request arrived';
      log.add([run.connected
        ? {
          id: 'MDM-AUTH-002', verdict: 'fail', check,
          evidence: `the server presented ${bad.what} and the client still sent ${run.exchanges.length} message(s); it must not send anything to a server it cannot authenticate (MDM-TRN-003 is the server's side of this)`,
        }
        : { id: 'MDM-AUTH-002', verdict: 'pass', check, evidence: `the server presented ${bad.what}: the client sent nothing (${why})` }]);
    }
  },
};

/** The re-sent package 1 (OMA-DMP 9; MDM-AUTH-006): session Alert, DevInfo Replace, SyncHdr Status, Cred, same SessionID, next MsgID. */
function judgeResend(c: Challenge, previous: SyncML | undefined, check: string): Finding {
  const reply = c.reply?.syncml;
  if (!c.reply || !reply) {
    return { id: 'MDM-AUTH-006', verdict: 'fail', check, evidence: `${label(c.at)}: the server answered ${c.code} with a Chal and the client sent nothing more; it must re-send package 1 with credentials` };
  }
  const body = reply.body.commands;
  const hdrStatus = body.find((s): s is Status => s.kind === 'Status' && trimmed(s.cmdRef) === '0');
  const problems = [
    !body.some((a) => a.kind === 'Alert' && ['1200', '1201'].includes(codeOf(a) ?? '')) && 'no session Alert',
    !body.some((r) => r.kind === 'Replace') && 'no DevInfo Replace',
    !reply.hdr.cred && 'no Cred in the SyncHdr',
    (!hdrStatus || trimmed(hdrStatus.msgRef) !== trimmed(c.msg.hdr.msgID)) && `no Status for the server's SyncHdr (msg ${trimmed(c.msg.hdr.msgID)})`,
    previous && trimmed(reply.hdr.sessionID) !== trimmed(previous.hdr.sessionID) && `SessionID "${trimmed(reply.hdr.sessionID)}" instead of "${trimmed(previous.hdr.sessionID)}"`,
    previous && Number(reply.hdr.msgID) !== Number(previous.hdr.msgID) + 1 && `MsgID ${trimmed(reply.hdr.msgID)} instead of ${Number(previous.hdr.msgID) + 1}`,
  ].filter(Boolean);
  return problems.length
    ? { id: 'MDM-AUTH-006', verdict: 'fail', check, evidence: `${label(c.reply)}: the package 1 re-sent after the ${c.code} challenge has ${problems.join(', ')}` }
    : { id: 'MDM-AUTH-006', verdict: 'pass', check, evidence: `${label(c.reply)}: package 1 re-sent with Cred, the SyncHdr Status, the same SessionID and the next MsgID` };
}

/** The Cred of the re-sent package 1 (MDM-AUTH-013..017). */
function judgeCred(c: Challenge, creds: Creds, check: string): Finding[] {
  const reply = c.reply?.syncml;
  const cred = reply?.hdr.cred;
  if (!c.reply || !reply || !cred) return [];
  const at = `${label(c.reply)} /SyncHdr/Cred`;
  const type = metaValue(cred.meta, 'Type');
  const format = metaValue(cred.meta, 'Format');
  const data = trimmed(cred.data?.text);
  const out: Finding[] = [];
  const md5 = creds.scheme === AuthScheme.Md5;
  // A Type other than the one challenged for is MDM-AUTH-025's (the passive checks); the Meta's form is judged here.
  if (type !== (c.type ?? creds.scheme)) return out;
  const metaOk = format === 'b64' || (!md5 && format === undefined);
  out.push(metaOk
    ? { id: 'MDM-AUTH-013', verdict: 'pass', check, evidence: `${at}/Meta: Type ${type}, Format ${format ?? '(none)'}` }
    : { id: 'MDM-AUTH-013', verdict: 'fail', check, evidence: `${at}/Meta: Type ${type} and Format ${format ?? '(none)'}; ${md5 ? 'an md5 Cred needs Format b64' : 'a Cred is b64'}` });
  if (!md5) {
    const expected = basicCredential(creds.user, creds.password);
    out.push(data === expected
      ? { id: 'MDM-AUTH-014', verdict: 'pass', check, evidence: `${at}/Data: B64("user:password")` }
      : { id: 'MDM-AUTH-014', verdict: 'fail', check, evidence: `${at}/Data: "${data}" is not B64("${creds.user}:password") = "${expected}"` });
    return out;
  }
  const locName = trimmed(reply.hdr.source?.locName);
  out.push(locName === creds.user
    ? { id: 'MDM-AUTH-017', verdict: 'pass', check, evidence: `${label(c.reply)} /SyncHdr/Source/LocName: "${locName}"` }
    : { id: 'MDM-AUTH-017', verdict: 'fail', check, evidence: `${label(c.reply)} /SyncHdr/Source/LocName: "${locName}"; MD5 carries the user id "${creds.user}" there` });
  if (!c.nonce) return out;
  const used = digestNonce(data, creds, [c.nonce]);
  if (used?.asText) {
    out.push({ id: 'MDM-AUTH-016', verdict: 'fail', check, evidence: `${at}/Data: the digest was made over the nonce's base64 text "${c.nonce}"; it is made over the decoded bytes` });
  } else if (used) {
    out.push(
      { id: 'MDM-AUTH-015', verdict: 'pass', check, evidence: `${at}/Data: B64(MD5(B64(MD5(user:password)):nonce)) with the challenge's nonce` },
      { id: 'MDM-AUTH-016', verdict: 'pass', check, evidence: `${at}/Data: made over the decoded bytes of NextNonce ${c.nonce}` },
    );
  } else {
    out.push({ id: 'MDM-AUTH-015', verdict: 'fail', check, evidence: `${at}/Data: "${data}" is not B64(MD5(B64(MD5("${creds.user}:password")):nonce)) for the nonce ${c.nonce} of the challenge` });
  }
  return out;
}

/**
 * A client whose credentials keep being refused (MD5): each fresh challenge must be answered with its own nonce
 * (MDM-AUTH-022, stale-nonce recovery). A digest over an older nonce breaks MDM-AUTH-023 (SHOULD: build Cred from the
 * newest nonce), a warning. How many times a client retries before it gives up is not stated by the catalogue, so it
 * is never judged; a client that kept retrying until the session timed out is noted.
 */
function judgeStaleNonceRecovery(run: ClientRun, creds: Creds, check: string, log: ScenarioLog): Finding[] {
  const out: Finding[] = [];
  if (run.trigger.timedOut) log.note('the client kept re-sending refused credentials until the session timed out (the catalogue states no bound on attempts)');
  if (creds.scheme !== AuthScheme.Md5) return out;
  const challenges = challengesOf(run);
  const nonces = challenges.map((c) => c.nonce).filter((n): n is string => !!n);
  const attempts = run.view.exchanges.filter((x) => x.request.syncml?.hdr.cred).length;
  log.note(`credentials refused ${challenges.length} time(s); the client sent credentials ${attempts} time(s)`);
  for (const c of challenges) {
    const data = trimmed(c.reply?.syncml?.hdr.cred?.data?.text);
    if (!c.reply || !data || !c.nonce) continue;
    const used = digestNonce(data, creds, nonces);
    if (!used) continue;
    const at = `${label(c.reply)} /SyncHdr/Cred/Data`;
    out.push(used.nonce === c.nonce
      ? { id: 'MDM-AUTH-022', verdict: 'pass', check, evidence: `${at}: the refused credentials were re-sent over the fresh nonce ${c.nonce} of the challenge they answer` }
      : { id: 'MDM-AUTH-023', verdict: 'warn', check, evidence: `${at}: made with the older nonce ${used.nonce}, not the newest ${c.nonce} of the challenge it answers` });
  }
  if (!out.some((f) => f.id === 'MDM-AUTH-023') && out.length) {
    out.push({ id: 'MDM-AUTH-023', verdict: 'pass', check, evidence: 'every Cred the client re-sent was built from the newest nonce' });
  }
  return out;
}

function challengeScenario(scheme: 'md5' | 'basic'): ClientScenario {
  const type = scheme === 'md5' ? AuthScheme.Md5 : AuthScheme.Basic;
  return {
    id: `auth/${scheme}-challenge`,
    phase: 'auth',
    title: `requires ${scheme} credentials: the client answers the challenge by re-sending package 1 with the right Cred, and gives up when they keep being refused`,
    requirements: scheme === 'md5'
      ? ['MDM-AUTH-006', 'MDM-AUTH-013', 'MDM-AUTH-015', 'MDM-AUTH-016', 'MDM-AUTH-017', 'MDM-AUTH-022', 'MDM-AUTH-023']
      : ['MDM-AUTH-006', 'MDM-AUTH-013', 'MDM-AUTH-014'],
    feature: scheme === 'md5' ? 'md5-auth' : 'basic-auth',
    // A client that declares the scheme makes its credentials in it from the user id and secret it has.
    needs: (t) => (t.credentials ? undefined : `needs --auth with --client-credentials USER:SECRET (the server challenges for ${scheme})`),
    async run(t, log) {
      const creds = { ...t.credentials!, scheme: type };
      const check = this.id;
      const n = nodesOf(t);
      const run = await oneSession(t, log, { clientAuth: creds, rounds: [[get(n.readableLeaf)]] }, { check });
      if (!run.connected) return;
      const [first] = challengesOf(run);
      if (!first) {
        log.note('the client sent credentials the server accepted without a challenge; the challenge flow was not exercised');
      } else {
        const index = run.view.exchanges.findIndex((x) => x.response === first.at);
        log.add([judgeResend(first, run.view.exchanges[index]?.request.syncml, check), ...judgeCred(first, creds, check)]);
      }
      const refused = await oneSession(t, log, { clientAuth: { ...creds, password: `${creds.password}-not-this` }, rounds: [[get(n.readableLeaf)]] }, { check });
      if (refused.connected) log.add(judgeStaleNonceRecovery(refused, creds, check, log));
    },
  };
}

export const md5Challenge = challengeScenario('md5');
export const basicChallenge = challengeScenario('basic');

/**
 * MDM-TRN-014: a client told to sign (RequireMessageSigning, declared with the `message-signing` feature) signs every
 * message with its device identity. The session runs against a server that refuses unsigned or badly signed
 * messages, as such a server does; every device message is judged by the passive check deviceSignsMessages, here
 * and in every other session of the run.
 */
export const messageSigning: ClientScenario = {
  id: 'auth/message-signing',
  phase: 'auth',
  title: 'serves as a server that requires MS-Signature: every message the client sends carries a valid signature by its device certificate',
  requirements: ['MDM-TRN-014'],
  feature: 'message-signing',
  async run(t, log) {
    const n = nodesOf(t);
    await oneSession(t, log, { requireSignatures: true, rounds: [[get(n.readableLeaf)], [get(n.interiorNode)]] }, { check: this.id });
  },
};

export const AUTH_SCENARIOS: readonly ClientScenario[] = [mutualTls, messageSigning, md5Challenge, basicChallenge, serverCredentials, ...AUTH_FLOW_SCENARIOS, ...HMAC_SCENARIOS];
