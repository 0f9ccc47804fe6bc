/** Server scenarios of the auth phase: mutual TLS identities (MDM-TRN-004) and SyncML challenges (catalogue S6). */
import type { Finding } from '../../checks/finding';
import type { DeviceRun, ReferenceDeviceOptions } from '../../device/reference-device';
import { mintDeviceIdentity, type BadDeviceIdentity, type Identity, type TestPki } from '../../pki';
import { DEVICE_FAULTS } from '../../device/faults';
import { faultByName } from '../../protocol/fault';
import { codeOf, get, metaValue, type Status, type SyncML } from '../../syncml';
import type { Scenario, ScenarioLog } from '../scenario';
import { HMAC_SCENARIOS } from './hmac';
import { SERVER_CREDENTIAL_SCENARIOS } from './server-credentials';
import { deviceFor, enrollSecondDevice, secondDeviceId, session, type ServerUnderTest } from './target';

type ServerScenario = Scenario<ServerUnderTest>;

const CASES: { kind: BadDeviceIdentity | 'none'; what: string }[] = [
  { kind: 'none', what: 'no client certificate' },
  { kind: 'untrusted-ca', what: 'a certificate from an untrusted CA' },
  { kind: 'expired', what: 'an expired certificate' },
  { kind: 'not-yet-valid', what: 'a certificate not yet valid' },
  { kind: 'wrong-eku', what: 'a certificate without the clientAuth key usage' },
];

/** Minting an RSA identity takes a few hundred milliseconds: each bad identity is made once per PKI and device. */
const minted = new WeakMap<TestPki, Map<string, Identity>>();
function mint(pki: TestPki, kind: BadDeviceIdentity, deviceId: string): Identity {
  let forPki = minted.get(pki);
  if (!forPki) minted.set(pki, (forPki = new Map()));
  const key = `${kind}\u0000${deviceId}`;
  let identity = forPki.get(key);
  if (!identity) forPki.set(key, (identity = mintDeviceIdentity(pki, kind, { deviceId })));
  return identity;
}

/** The code of the SyncHdr Status of an exchange's reply, if it had one. */
function headerCode(x: DeviceRun['view']['exchanges'][number] | undefined): string | undefined {
  const hdr = x?.response?.syncml?.body.commands.find((c): c is Status => c.kind === 'Status' && c.cmdRef?.trim() === '0');
  return hdr && codeOf(hdr);
}

/** Whether the server let the session proceed: some SyncML reply has a SyncHdr Status 200 or 212. */
function accepted(run: DeviceRun): boolean {
  return run.view.exchanges.some((x) => ['200', '212'].includes(headerCode(x) ?? ''));
}

/**
 * How the server met an identity, as evidence can tell it: refused only by a TLS alert or handshake failure, an
 * HTTP 401 or 403, or a SyncML SyncHdr Status 401, 403 or 407. Anything else (a reset, HTTP 400 or 500, silence)
 * says nothing about the identity: a server that checks no certificate at all and resets on anything unexpected
 * must not pass as one that refuses bad certificates.
 */
export function identityOutcome(run: DeviceRun): { outcome: 'accepted' | 'refused' | 'unclear'; how: string } {
  const x = run.exchanges[0];
  if (!x) return { outcome: 'unclear', how: 'nothing was exchanged' };
  if (accepted(run)) return { outcome: 'accepted', how: `HTTP ${x.response?.status}, SyncHdr Status ${run.view.exchanges.map(headerCode).find((c) => c === '200' || c === '212')}` };
  if (x.error?.kind === 'tls') return { outcome: 'refused', how: `TLS: ${x.error.message}` };
  const status = x.response?.status;
  if (status === 401 || status === 403) return { outcome: 'refused', how: `HTTP ${status}` };
  const hdr = headerCode(run.view.exchanges[0]);
  if (hdr && ['401', '403', '407'].includes(hdr)) return { outcome: 'refused', how: `SyncHdr Status ${hdr}` };
  if (x.error) return { outcome: 'unclear', how: `${x.error.kind}: ${x.error.message}` };
  return { outcome: 'unclear', how: `HTTP ${status}${hdr ? `, SyncHdr Status ${hdr}` : ''}` };
}

export const mutualTls: ServerScenario = {
  id: 'auth/mutual-tls-identities',
  phase: 'auth',
  title: 'connects with the enrolled identity, then with no, untrusted, expired, not yet valid and wrong-usage certificates',
  requirements: ['MDM-TRN-004', 'MDM-AUTH-002'],
  async run(t, log) {
    const check = this.id;
    // The control: only a server that takes the valid identity can show that it refuses the bad ones.
    const valid = await session(t, log);
    if (identityOutcome(valid).outcome !== 'accepted') {
      log.add([{ id: 'MDM-TRN-004', verdict: 'inconclusive', check, evidence: `the enrolled identity did not complete a session (${identityOutcome(valid).how}), so refusals of bad identities would prove nothing` }]);
      return;
    }
    // Taking the valid identity is the control, not the rule: MDM-TRN-004 passes only on a bad identity refused.
    log.note('the enrolled identity was accepted (the control)');
    const findings: Finding[] = [];
    for (const c of CASES) {
      let identity: Identity | undefined;
      if (c.kind !== 'none') {
        if (!t.pki) {
          const source = t.enrollDevice ? 'was enrolled (--enroll): minting this case needs the CA key of a test PKI (pki init), which an enrollment does not give'
            : 'comes from --client-cert, so the harness cannot mint this case';
          findings.push({ id: 'MDM-TRN-004', verdict: 'inconclusive', check, evidence: `${c.what}: the device identity ${source}` });
          continue;
        }
        identity = mint(t.pki, c.kind, t.deviceId);
      }
      const device = deviceFor(t, log, { identity });
      try {
        const run = await device.runSession(t.url);
        log.transcripts.push(run.exchanges);
        const { outcome, how } = identityOutcome(run);
        findings.push(
          outcome === 'refused' ? { id: 'MDM-TRN-004', verdict: 'pass', check, evidence: `${c.what}: refused (${how})` }
            : outcome === 'accepted' ? { id: 'MDM-TRN-004', verdict: 'fail', check, evidence: `${c.what}: the server accepted the session (${how})` }
              : { id: 'MDM-TRN-004', verdict: 'inconclusive', check, evidence: `${c.what}: ${how}, which is neither a refusal of the identity (TLS alert, HTTP 401/403, SyncHdr 401/403/407) nor an acceptance` },
        );
      } finally {
        await device.close();
      }
    }
    log.add(findings);
    await authenticatesDevices(t, log, check);
    await bindsCertificateToDevice(t, log);
  },
};

/**
 * MDM-AUTH-002: the device is authenticated to the server at one layer at least. A device with neither a certificate
 * nor credentials must not get a session; the server's side of the rule (its certificate verified by the device) held
 * for every session that reached it over TLS.
 */
async function authenticatesDevices(t: ServerUnderTest, log: ScenarioLog, check: string): Promise<void> {
  const device = deviceFor(t, log, { identity: undefined, credentials: undefined });
  try {
    const run = await device.runSession(t.url);
    log.transcripts.push(run.exchanges);
    const { outcome, how } = identityOutcome(run);
    const server = t.clientCertHeader ? '' : '; the server\'s own certificate chained to the CA the device trusts';
    log.add([
      outcome === 'refused' ? { id: 'MDM-AUTH-002', verdict: 'pass', check, evidence: `a device with neither a client certificate nor credentials was refused (${how})${server}` }
        : outcome === 'accepted' ? { id: 'MDM-AUTH-002', verdict: 'fail', check, evidence: `a device with neither a client certificate nor credentials got a session (${how}): the server authenticates the device at no layer` }
          : { id: 'MDM-AUTH-002', verdict: 'inconclusive', check, evidence: `a device with neither a client certificate nor credentials: ${how}, neither a refusal nor an acceptance` },
    ]);
  } finally {
    await device.close();
  }
}

/**
 * A certificate the server's CA issued to another device, presented under this device's id. The catalogue asks only
 * that unknown certificates be refused (MDM-TRN-004); a server that lets one device speak as another is a weakness
 * worth knowing, reported as an advisory. When the run enrolled, the other device is enrolled the same way (a
 * minted certificate would be refused as unknown, which says nothing about binding); a server that refuses a
 * second enrollment leaves the probe out, with a note saying why.
 */
async function bindsCertificateToDevice(t: ServerUnderTest, log: ScenarioLog): Promise<void> {
  let identity: Identity;
  let whose: string;
  if (t.enrollDevice) {
    const other = secondDeviceId(t);
    const enrolled = await enrollSecondDevice(t, other);
    if ('why' in enrolled) {
      log.note(`a certificate of another device presented for ${t.deviceId}: not probed, ${enrolled.why}`);
      return;
    }
    identity = enrolled.identity;
    whose = `a certificate the enrollment service issued to another device (${other})`;
  } else if (t.pki) {
    identity = mint(t.pki, 'cn-mismatch', t.deviceId);
    whose = 'a certificate the CA issued to another device (another CN)';
  } else {
    return;
  }
  const device = deviceFor(t, log, { identity });
  try {
    const run = await device.runSession(t.url);
    log.transcripts.push(run.exchanges);
    if (identityOutcome(run).outcome === 'accepted') {
      log.advise('certificate-not-bound-to-device', `${whose} was accepted for a session of device ${t.deviceId}: the server does not tie the TLS identity to the device a session speaks for, so one enrolled device can act as another`);
    }
  } finally {
    await device.close();
  }
}

function challengeScenario(scheme: 'md5' | 'basic'): ServerScenario {
  const type = scheme === 'md5' ? 'syncml:auth-md5' : 'syncml:auth-basic';
  const formula = scheme === 'md5' ? 'MDM-AUTH-015' : 'MDM-AUTH-014';
  return {
    id: `auth/${scheme}-challenge`,
    phase: 'auth',
    title: `sends package 1 without credentials, answers the ${scheme} challenge, then tries a wrong password${scheme === 'md5' ? ' and a digest over the nonce text' : ''}`,
    requirements: ['MDM-AUTH-004', 'MDM-AUTH-005', 'MDM-AUTH-008', 'MDM-AUTH-009', formula, ...(scheme === 'md5' ? ['MDM-AUTH-016', 'MDM-AUTH-010', 'MDM-AUTH-025'] : [])],
    feature: scheme === 'md5' ? 'md5-auth' : 'basic-auth',
    needs: (t) => (t.credentials?.scheme === type ? undefined : `needs --auth ${scheme} with --client-credentials USER:SECRET`),
    async run(t, log) {
      const creds = t.credentials!;
      const check = this.id;
      // A queued Get keeps the session going past the authentication, so what the server does next can be seen.
      if (t.queue) await t.queue(t.deviceId, [get('./DevInfo/DmV')]);
      const good = await session(t, log, { preemptiveAuth: false });
      const goodAccepted = judgeChallengeFlow(log, good, check, !!t.queue);
      if (scheme === 'md5') await judgeNextSessionNonce(t, log, good, check);
      const wrong = await session(t, log, { preemptiveAuth: false, credentials: { ...creds, password: `${creds.password}-wrong` } });
      const wrongAccepted = accepted(wrong);
      judgeRefusalCode(log, wrong, check);
      // The formula is right when the right credentials get in and a wrong password does not (MDM-AUTH-014/-015).
      log.add([
        wrongAccepted ? { id: formula, verdict: 'fail', check, evidence: 'credentials made with a wrong password were accepted: the server does not check them' }
          : !goodAccepted ? { id: formula, verdict: 'fail', check, evidence: `credentials made as ${formula} prescribes, with the right password, were refused` }
            : { id: formula, verdict: 'pass', check, evidence: 'the right credentials were accepted and a wrong password refused' },
      ]);
      if (scheme !== 'md5') return;
      // MDM-AUTH-016: the decoded nonce bytes enter the hash; a digest over the base64 text must be refused.
      const textual = await session(t, log, { preemptiveAuth: false, faults: [faultByName(DEVICE_FAULTS, 'md5-over-nonce-text')] });
      const textAccepted = accepted(textual);
      log.add([
        textAccepted && !goodAccepted ? { id: 'MDM-AUTH-016', verdict: 'fail', check, evidence: 'a digest over the nonce\'s base64 text was accepted and one over its decoded bytes refused: the server hashes the text' }
          : textAccepted ? { id: 'MDM-AUTH-016', verdict: 'fail', check, evidence: 'a digest over the nonce\'s base64 text was accepted as well as the right one' }
            : goodAccepted ? { id: 'MDM-AUTH-016', verdict: 'pass', check, evidence: 'a digest over the decoded nonce bytes was accepted, one over the base64 text refused' }
              : { id: 'MDM-AUTH-016', verdict: 'inconclusive', check, evidence: 'the right credentials were refused, so how the server treats the nonce cannot be told' },
      ]);
      // MDM-AUTH-025, MDM-AUTH-026: the md5 challenge answered with valid basic credentials; the passive checks judge
      // whether the server took them.
      await session(t, log, { preemptiveAuth: false, credentials: { ...creds, scheme: 'syncml:auth-basic' }, faults: [faultByName(DEVICE_FAULTS, 'answers-in-own-scheme')] });
    },
  };
}

/** The reply to package 1 re-sent with credentials: 212 or 200, and what the server does with the rest of the session. */
function judgeChallengeFlow(log: ScenarioLog, run: DeviceRun, check: string, continues: boolean): boolean {
  const [first, second, third] = run.view.exchanges;
  const code = headerCode(first);
  log.add([{
    id: 'MDM-AUTH-005', verdict: code === '407' ? 'pass' : 'fail', check,
    evidence: code === '407' ? 'package 1 without Cred was answered 407 (missing credentials)' : `package 1 without Cred was answered ${code ?? 'without a SyncHdr Status'}; expected 407 with a Chal`,
  }]);
  const done = headerCode(second);
  if (done !== '212' && done !== '200') return false;
  // 212: authenticated for the session, later messages need no Cred (MDM-AUTH-008); 200: the next message must carry
  // them again (MDM-AUTH-009). Either way the next message shows whether the server keeps its word.
  const id = done === '212' ? 'MDM-AUTH-008' : 'MDM-AUTH-009';
  const next = headerCode(third);
  if (!third) {
    log.add([{ id, verdict: 'inconclusive', check, evidence: `the re-sent package 1 was answered ${done} and the session ended there${continues ? '' : '; with --control the harness queues a command so that the session goes on'}` }]);
    return true;
  }
  const ok = next === '200' || next === '212';
  const carried = third.request.syncml?.hdr.cred ? 'with' : 'without';
  log.add([{
    id, verdict: ok ? 'pass' : 'fail', check,
    evidence: ok ? `answered ${done}; the next message, ${carried} Cred, was answered ${next}`
      : `answered ${done}, yet the next message, ${carried} Cred${done === '212' ? ' as 212 allows' : ' as 200 requires'}, was answered ${next ?? 'without a SyncHdr Status'}`,
  }]);
  return true;
}

/**
 * MDM-AUTH-010: the nonce the server handed with its 212 opens the next session; a Cred made with it before any
 * challenge is accepted.
 */
async function judgeNextSessionNonce(t: ServerUnderTest, log: ScenarioLog, good: DeviceRun, check: string): Promise<void> {
  const handed = good.view.exchanges.map((x) => x.response?.syncml && headerOf(x.response.syncml)).find((s) => s && codeOf(s) === '212');
  const nonce = metaValue(handed?.chal?.meta, 'NextNonce')?.trim();
  if (!nonce) {
    log.note('the server handed no nonce with its 212, so the next session could only start with a challenge');
    return;
  }
  const next = await session(t, log, { preemptiveAuth: true, credentials: { ...t.credentials!, nonce } });
  const code = headerCode(next.view.exchanges[0]);
  log.add([code === '200' || code === '212'
    ? { id: 'MDM-AUTH-010', verdict: 'pass', check, evidence: `session ${next.sessionID} opened with a Cred made from the nonce ${nonce} handed with the 212 of session ${good.sessionID}, and was answered ${code}` }
    : { id: 'MDM-AUTH-010', verdict: 'fail', check, evidence: `session ${next.sessionID} opened with a Cred made from the nonce ${nonce}, which the server handed with its 212 in session ${good.sessionID} for this very purpose, and was answered ${code ?? 'without a SyncHdr Status'}` }]);
}

const headerOf = (msg: SyncML) => msg.body.commands.find((c): c is Status => c.kind === 'Status' && c.cmdRef?.trim() === '0');

/** A wrong credential is refused with 401, not 407 (MDM-AUTH-005: 407 means missing, 401 refused). */
function judgeRefusalCode(log: ScenarioLog, run: DeviceRun, check: string): void {
  const refused = run.view.exchanges.slice(1).map(headerCode).find((c) => c === '401' || c === '407' || c === '403');
  if (!refused) return;
  log.add([{
    id: 'MDM-AUTH-005', verdict: refused === '401' ? 'pass' : 'fail', check,
    evidence: refused === '401' ? 'credentials with a wrong password were refused with 401' : `credentials with a wrong password were refused with ${refused}; 401 means the credentials carried were refused`,
  }]);
}

export const md5Challenge = challengeScenario('md5');
export const basicChallenge = challengeScenario('basic');

const BAD_SIGNATURES: { what: string; opts: (t: ServerUnderTest) => Partial<ReferenceDeviceOptions> | string }[] = [
  { what: 'messages without MS-Signature', opts: () => ({ signing: undefined }) },
  { what: 'messages whose MS-Signature digests other bytes than the body', opts: () => ({ signing: {}, faults: [faultByName(DEVICE_FAULTS, 'signature-wrong-digest')] }) },
  {
    what: 'messages signed with the certificate the CA issued to another device',
    opts: (t) => (t.pki ? { signing: { identity: mint(t.pki, 'cn-mismatch', t.deviceId) } } : 'the device identity comes from --client-cert, so the harness cannot mint another device\'s certificate'),
  },
];

/**
 * MDM-TRN-015: a server that enabled message signing verifies MS-Signature against the identity certificate it
 * enrolled for the device. A properly signed session is the control; unsigned messages, a signature over other
 * bytes and a signature by another device's certificate (over the right bytes, the TLS identity the right one) must
 * each be refused. Refusal is judged as for certificates (identityOutcome): only a clear refusal counts.
 */
export const messageSigning: ServerScenario = {
  id: 'auth/message-signing',
  phase: 'auth',
  title: 'sends a session signed with MS-Signature, then one unsigned, one whose signature does not match the body and one signed by another device',
  requirements: ['MDM-TRN-015'],
  feature: 'message-signing',
  async run(t, log) {
    const check = this.id;
    const valid = await session(t, log, { signing: {} });
    if (identityOutcome(valid).outcome !== 'accepted') {
      log.add([{ id: 'MDM-TRN-015', verdict: 'inconclusive', check, evidence: `the properly signed session did not go through (${identityOutcome(valid).how}), so refusals of bad signatures would prove nothing` }]);
      return;
    }
    const findings: Finding[] = [{ id: 'MDM-TRN-015', verdict: 'pass', check, evidence: 'a session signed with the device identity was accepted' }];
    for (const c of BAD_SIGNATURES) {
      const opts = c.opts(t);
      if (typeof opts === 'string') {
        findings.push({ id: 'MDM-TRN-015', verdict: 'inconclusive', check, evidence: `${c.what}: ${opts}` });
        continue;
      }
      const device = deviceFor(t, log, opts);
      try {
        const run = await device.runSession(t.url);
        log.transcripts.push(run.exchanges);
        const { outcome, how } = identityOutcome(run);
        findings.push(
          outcome === 'refused' ? { id: 'MDM-TRN-015', verdict: 'pass', check, evidence: `${c.what}: refused (${how})` }
            : outcome === 'accepted' ? { id: 'MDM-TRN-015', verdict: 'fail', check, evidence: `${c.what}: the server accepted the session (${how}); it must verify the signature against the device's enrolled certificate` }
              : { id: 'MDM-TRN-015', verdict: 'inconclusive', check, evidence: `${c.what}: ${how}, which is neither a refusal (HTTP 401/403, SyncHdr 401/403/407) nor an acceptance` },
        );
      } finally {
        await device.close();
      }
    }
    log.add(findings);
  },
};

export const AUTH_SCENARIOS: readonly ServerScenario[] = [mutualTls, messageSigning, md5Challenge, basicChallenge, ...SERVER_CREDENTIAL_SCENARIOS, ...HMAC_SCENARIOS];
