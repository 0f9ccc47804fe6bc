/**
 * Server scenarios of the auth phase in the other direction: the server authenticates to the device (OMA-DMP 9,
 * OMA-DMS 5.3; A-16, A-17: w7 `CLIENT`, DMAcc `SRVCRED`). The harness plays a device configured with the server's
 * credentials (`--server-credentials`): it challenges a server message without them, hands the server a nonce for
 * each next Cred (MDM-AUTH-020), and checks every Cred the server presents against the formula of its scheme.
 *
 * Which id covers what:
 * - the Cred answering the device's challenge: in the scheme asked for (MDM-AUTH-025, passive), made with the
 *   challenge's fresh nonce (MDM-AUTH-022), by the formula (MDM-AUTH-014 basic, MDM-AUTH-015 md5) over the decoded
 *   nonce bytes (MDM-AUTH-016);
 * - the next session's first Cred made with the nonce the device handed with its 212 (MDM-AUTH-010);
 * - a device that accepts with 200 and a new nonce gets Cred again in the next message, made with it (MDM-AUTH-009);
 * - a different secret for every device: two devices hand the server the same nonce, and the two digests it answers
 *   with must differ (MDM-AUTH-024).
 * The Cred's form (MDM-AUTH-013), its place (MDM-HDR-015), its scheme staying put (MDM-AUTH-011) and DIGEST only
 * (MDM-AUTH-031) are the passive checks' (checks/authentication.ts).
 */
import type { Finding } from '../../checks/finding';
import { headerStatus } from '../../checks/authentication';
import { label, trimmed, type WireMessage } from '../../checks/session';
import type { DeviceRun, ReferenceDevice, ReferenceDeviceOptions } from '../../device/reference-device';
import { ACCEPTS_SERVER_WITH_200 } from '../../device/faults';
import { AuthScheme, basicCredential, md5Digest } from '../../protocol/auth';
import { nonceBytes } from '../../protocol/credentials';
import { codeOf, get, metaValue } from '../../syncml';
import type { Scenario, ScenarioLog } from '../scenario';
import { SECOND_DEVICE_SUFFIX, validIdentity } from './security';
import { deviceFor, judgeSession, type ServerUnderTest } from './target';

type ServerScenario = Scenario<ServerUnderTest>;
type Creds = NonNullable<ServerUnderTest['serverCredentials']>;

/** One Cred the server presented, and the nonce it had to be made with. */
export interface PresentedCred {
  at: WireMessage;
  type?: string;
  data: string;
  /** The nonce the device last handed the server before this message (this session, else the stored one). */
  expected?: string;
  /** The device's refusal this Cred answers: the server's previous message was challenged 401 or 407. */
  answers?: { code: string; at: WireMessage };
  /** The first server message of the session. */
  opening: boolean;
  /** Every nonce the device had handed the server before this message (older ones first). */
  earlier: string[];
}

/**
 * The server's Creds in a session, each with the nonce the device last handed it (`stored`: from an earlier session);
 * `known` are nonces other devices of the scenario handed the server, which a stale Cred may be made from.
 */
export function presentedCreds(run: DeviceRun, stored: string | undefined, known: readonly string[] = []): PresentedCred[] {
  const out: PresentedCred[] = [];
  const handed: string[] = stored ? [stored] : [];
  let answers: PresentedCred['answers'];
  run.view.exchanges.forEach((x, i) => {
    const own = x.request.syncml && headerStatus(x.request.syncml);
    if (own) {
      const nonce = metaValue(own.chal?.meta, 'NextNonce')?.trim();
      if (nonce) handed.push(nonce);
      const code = codeOf(own) ?? '';
      answers = code === '401' || code === '407' ? { code, at: x.request } : undefined;
    }
    const reply = x.response;
    const cred = reply?.syncml?.hdr.cred;
    if (reply && cred) {
      out.push({
        at: reply, type: metaValue(cred.meta, 'Type')?.trim(), data: trimmed(cred.data?.text), expected: handed.at(-1), answers, opening: i === 0,
        earlier: [...known, ...handed.slice(0, -1)],
      });
    }
  });
  return out;
}

/** What a presented Cred was made of: the expected nonce, another one, the nonce's text, or nothing known. */
export function madeWith(p: PresentedCred, creds: Creds): 'expected' | 'text' | 'older' | 'unknown' {
  const digest = (nonce: Uint8Array) => md5Digest(creds.user, creds.password, nonce);
  if (p.expected !== undefined && digest(nonceBytes(p.expected)) === p.data) return 'expected';
  if (p.expected !== undefined && digest(new Uint8Array(Buffer.from(p.expected, 'utf8'))) === p.data) return 'text';
  if (p.earlier.some((n) => digest(nonceBytes(n)) === p.data)) return 'older';
  return 'unknown';
}

/** The formula rows for one presented Cred (MDM-AUTH-014, -015, -016), and the nonce rows where they apply. */
function judgePresented(p: PresentedCred, creds: Creds, check: string): Finding[] {
  const at = `${label(p.at)} /SyncHdr/Cred/Data`;
  if (p.type !== creds.scheme) return []; // the scheme is MDM-AUTH-025's and MDM-AUTH-031's (passive)
  if (creds.scheme === AuthScheme.Basic) {
    const expected = basicCredential(creds.user, creds.password);
    return [p.data === expected
      ? { id: 'MDM-AUTH-014', verdict: 'pass', check, evidence: `${at}: B64("user:password") of the server's credentials` }
      : { id: 'MDM-AUTH-014', verdict: 'fail', check, evidence: `${at}: "${p.data}" is not B64("${creds.user}:password") = "${expected}"` }];
  }
  if (p.expected === undefined) return [];
  const how = madeWith(p, creds);
  const out: Finding[] = [];
  if (how === 'expected') {
    out.push(
      { id: 'MDM-AUTH-015', verdict: 'pass', check, evidence: `${at}: B64(MD5(B64(MD5(user:password)):nonce)) with the nonce ${p.expected} the device handed over` },
      { id: 'MDM-AUTH-016', verdict: 'pass', check, evidence: `${at}: made over the decoded bytes of the nonce ${p.expected}` },
    );
  } else if (how === 'text') {
    out.push({ id: 'MDM-AUTH-016', verdict: 'fail', check, evidence: `${at}: the digest was made over the base64 text of the nonce ${p.expected}; the decoded bytes enter the hash` });
  } else if (how === 'unknown') {
    out.push({ id: 'MDM-AUTH-015', verdict: 'fail', check, evidence: `${at}: "${p.data}" is not B64(MD5(B64(MD5("${creds.user}:password")):nonce)) for the nonce ${p.expected} the device handed over, nor for any earlier nonce of this scenario` });
  }
  if (p.answers?.code === '401') {
    // MDM-AUTH-022: a refused Cred is followed by one more challenge with a fresh nonce, and the answer uses it.
    out.push(how === 'older'
      ? { id: 'MDM-AUTH-022', verdict: 'fail', check, evidence: `${at}: made with an older nonce, not the fresh ${p.expected} of the device's challenge (${label(p.answers.at)}) that refused the previous Cred` }
      : { id: 'MDM-AUTH-022', verdict: how === 'expected' ? 'pass' : 'inconclusive', check, evidence: `${at}: ${how === 'expected' ? 'answers the device\'s refusal' : 'the Cred answering the device\'s refusal'} (${label(p.answers.at)}) ${how === 'expected' ? `with a Cred made from its fresh nonce ${p.expected}` : 'matches no nonce the device handed over'}` });
  }
  return out;
}

/** Runs one session of `device`, judged and recorded. */
async function runOn(device: ReferenceDevice, t: ServerUnderTest, log: ScenarioLog): Promise<DeviceRun> {
  const run = await device.runSession(t.url);
  log.transcripts.push(run.exchanges);
  log.note(`session ${run.sessionID}: ${run.rounds} round trip(s), ${run.view.outcome}`);
  judgeSession(log, run.view);
  return run;
}

async function withDevice<T>(t: ServerUnderTest, log: ScenarioLog, opts: Partial<ReferenceDeviceOptions>, body: (d: ReferenceDevice) => Promise<T>): Promise<T> {
  const device = deviceFor(t, log, opts);
  try {
    return await body(device);
  } finally {
    await device.close();
  }
}

/** The nonces the device handed the server in a run, in order. */
function handedIn(run: DeviceRun): string[] {
  return run.view.exchanges.flatMap((x) => {
    const own = x.request.syncml && headerStatus(x.request.syncml);
    const nonce = metaValue(own ? own.chal?.meta : undefined, 'NextNonce')?.trim();
    return nonce ? [nonce] : [];
  });
}

/** Whether the device refused some server message of the run (401/407 for its SyncHdr). */
function challengedServer(run: DeviceRun): boolean {
  return run.view.exchanges.some((x) => {
    const own = x.request.syncml && headerStatus(x.request.syncml);
    return !!own && ['401', '407'].includes(codeOf(own) ?? '');
  });
}

const NO_CHANCE = 'the server sent no command and no challenge, so the device had no message it could refuse (MDM-AUTH-012)';

export const serverCredentials: ServerScenario = {
  id: 'auth/server-credentials',
  phase: 'auth',
  title: 'requires the server\'s own credentials: challenges its message, checks the Cred it answers with, expects the next session to open with a Cred made from the nonce handed with the 212, then accepts with 200 to see Cred again in the next message',
  requirements: ['MDM-AUTH-009', 'MDM-AUTH-010', 'MDM-AUTH-014', 'MDM-AUTH-015', 'MDM-AUTH-016', 'MDM-AUTH-022', 'MDM-AUTH-025'],
  needs: (t) => (t.serverCredentials ? undefined : 'needs --server-credentials USER:SECRET (what the server presents to devices; --server-auth md5 by default)'),
  async run(t, log) {
    const creds = t.serverCredentials!;
    const check = this.id;
    const md5 = creds.scheme === AuthScheme.Md5;
    const findings: Finding[] = [];
    const queueGet = async () => t.queue && t.queue(t.deviceId, [get('./DevInfo/DmV')]);
    if (!md5) {
      for (const id of ['MDM-AUTH-009', 'MDM-AUTH-010', 'MDM-AUTH-015', 'MDM-AUTH-016', 'MDM-AUTH-022']) {
        findings.push({ id, verdict: 'not-applicable', check, evidence: 'the server presents syncml:auth-basic credentials, which use no nonce' });
      }
    } else {
      findings.push({ id: 'MDM-AUTH-014', verdict: 'not-applicable', check, evidence: 'the server presents syncml:auth-md5 credentials' });
    }
    const verifying = { serverCredentials: creds, preemptiveAuth: false };
    /** Every nonce the scenario's devices handed the server, in order. */
    const handedSoFar: string[] = [];
    const remember = (run: DeviceRun) => handedSoFar.push(...handedIn(run));

    // Sessions 1 and 2: one device, which keeps the nonce it hands over with its 212 for the server's next session.
    await withDevice(t, log, verifying, async (device) => {
      await queueGet();
      const first = await runOn(device, t, log);
      const presented = presentedCreds(first, undefined);
      remember(first);
      if (!presented.length) {
        log.note(challengedServer(first) ? 'the device challenged the server, and the server never presented credentials' : NO_CHANCE);
        return;
      }
      for (const p of presented) findings.push(...judgePresented(p, creds, check));
      if (!md5) return;
      const handed = device.serverNonce;
      if (!handed) {
        log.note('the device did not accept the server\'s credentials in the first session, so it handed over no nonce for the next one');
        return;
      }
      await queueGet();
      const second = await runOn(device, t, log);
      const opening = presentedCreds(second, handed, handedSoFar).find((p) => p.opening);
      remember(second);
      if (!opening) {
        log.note(`the server did not open session ${second.sessionID} with credentials (it waits to be challenged), so the nonce ${handed} handed with the 212 was not put to use`);
        return;
      }
      const how = madeWith(opening, creds);
      findings.push(...judgePresented(opening, creds, check).filter((f) => f.id !== 'MDM-AUTH-022'));
      findings.push(how === 'expected'
        ? { id: 'MDM-AUTH-010', verdict: 'pass', check, evidence: `${label(opening.at)} /SyncHdr/Cred: session ${second.sessionID} opens with a Cred made from the nonce ${handed} the device handed with its 212 in session ${first.sessionID}` }
        : { id: 'MDM-AUTH-010', verdict: how === 'older' ? 'fail' : 'inconclusive', check, evidence: `${label(opening.at)} /SyncHdr/Cred: session ${second.sessionID} opens with a Cred ${how === 'older' ? 'made from an older nonce' : 'that matches no nonce the device handed over'}, not from the nonce ${handed} handed with the 212 of session ${first.sessionID}` });
    });

    // Session 3: a device that has handed this server nothing yet refuses whatever it presents, then accepts with 200.
    await withDevice(t, log, { ...verifying, faults: [ACCEPTS_SERVER_WITH_200] }, async (device) => {
      await queueGet();
      const run = await runOn(device, t, log);
      const presented = presentedCreds(run, undefined, handedSoFar);
      for (const p of presented) findings.push(...judgePresented(p, creds, check));
      // MDM-AUTH-009: after 200 and a new nonce the next message carries Cred again (presence: the passive check),
      // made with that nonce (here).
      const afterOk = presented.filter((p) => !p.answers && !p.opening && p.expected !== undefined);
      for (const p of md5 ? afterOk : []) {
        const how = madeWith(p, creds);
        findings.push(how === 'expected'
          ? { id: 'MDM-AUTH-009', verdict: 'pass', check, evidence: `${label(p.at)} /SyncHdr/Cred: after the device's 200 the server presents its Cred again, made from the new nonce ${p.expected}` }
          : { id: 'MDM-AUTH-009', verdict: 'fail', check, evidence: `${label(p.at)} /SyncHdr/Cred: after the device's 200 with the new nonce ${p.expected}, the server's Cred is made ${how === 'older' ? 'from an older nonce' : how === 'text' ? 'over the nonce text' : 'from no nonce the device handed over'}` });
      }
      if (!presented.length) log.note(challengedServer(run) ? 'the device challenged the server, and the server never presented credentials' : NO_CHANCE);
    });
    log.add(findings);
  },
};

export const secretPerDevice: ServerScenario = {
  id: 'auth/server-secret-per-device',
  phase: 'auth',
  title: 'two devices hand the server the same nonce and compare the digests it presents to each: a different secret per device gives different digests',
  requirements: ['MDM-AUTH-024'],
  needs: (t) => (!t.serverCredentials ? 'needs --server-credentials USER:SECRET (what the server presents to devices)'
    : !t.pki ? 'needs harness-issued identities (--pki with the CA key) to mint the certificate of a second device' : undefined),
  async run(t, log) {
    const check = this.id;
    const nonce = log.rng.bytes(16).toString('base64');
    const other = `${t.deviceId}${SECOND_DEVICE_SUFFIX}`;
    const digests: { deviceId: string; p?: PresentedCred }[] = [];
    for (const deviceId of [t.deviceId, other]) {
      // Each device collects what the server presents for the one nonce it hands out, whatever the secret behind it.
      const opts: Partial<ReferenceDeviceOptions> = {
        deviceId, serverCredentials: { ...t.serverCredentials!, acceptAny: true, fixedNonce: nonce }, preemptiveAuth: false,
        ...(deviceId === t.deviceId ? {} : { identity: validIdentity(t.pki!, deviceId) }),
      };
      await withDevice(t, log, opts, async (device) => {
        if (t.queue) await t.queue(deviceId, [get('./DevInfo/DmV')]);
        const run = await runOn(device, t, log);
        digests.push({ deviceId, p: presentedCreds(run, undefined).find((p) => p.expected === nonce && p.type === AuthScheme.Md5) });
      });
    }
    const [a, b] = digests;
    if (!a.p || !b.p) {
      const missing = [a, b].filter((d) => !d.p).map((d) => d.deviceId).join(' and ');
      log.add([{ id: 'MDM-AUTH-024', verdict: 'inconclusive', check, evidence: `the server presented no md5 Cred made from the nonce ${nonce} to ${missing} (it must know the device and have a command or a challenge to send)` }]);
      return;
    }
    log.add([a.p.data === b.p.data
      ? { id: 'MDM-AUTH-024', verdict: 'fail', check, evidence: `${label(a.p.at)} and ${label(b.p.at)}: for the same nonce ${nonce} the server presented the same digest ${a.p.data} to ${a.deviceId} and to ${b.deviceId}, so the same user id and secret: each device needs a secret of its own` }
      : { id: 'MDM-AUTH-024', verdict: 'pass', check, evidence: `for the same nonce ${nonce} the server presented different digests to ${a.deviceId} and ${b.deviceId}: different secrets (or user ids)` }]);
  },
};

/**
 * MDM-AUTH-023 (a SHOULD): a nonce handed over by a device whose credentials the server refused does not replace the
 * nonce the server keeps for its next Cred.
 */
export const nonceOfUnauthenticatedDevice: ServerScenario = {
  id: 'auth/nonce-from-unauthenticated-device',
  phase: 'auth',
  title: 'a device whose own credentials fail hands the server a nonce with its 212: the server\'s next session still opens with a Cred made from the nonce of the device it authenticated',
  requirements: ['MDM-AUTH-023'],
  feature: 'md5-auth',
  needs: (t) => (!t.serverCredentials || t.serverCredentials.scheme !== AuthScheme.Md5 ? 'needs --server-credentials USER:SECRET with --server-auth md5'
    : t.credentials ? undefined : 'needs --auth with --client-credentials USER:SECRET (the server must refuse a device)'),
  async run(t, log) {
    const creds = t.serverCredentials!;
    const check = this.id;
    const verifying = { serverCredentials: creds, preemptiveAuth: false };
    const kept = await withDevice(t, log, verifying, async (device) => {
      if (t.queue) await t.queue(t.deviceId, [get('./DevInfo/DmV')]);
      await runOn(device, t, log);
      return device.serverNonce;
    });
    if (!kept) {
      log.add([{ id: 'MDM-AUTH-023', verdict: 'inconclusive', check, evidence: 'the device handed the server no nonce with an acceptance, so there was no nonce to keep' }]);
      return;
    }
    const wrong = { ...t.credentials!, password: `${t.credentials!.password}-wrong` };
    const untrusted = await withDevice(t, log, { ...verifying, serverCredentials: { ...creds, nonce: kept }, credentials: wrong }, (device) => runOn(device, t, log));
    const offered = handedIn(untrusted).find((n) => n !== kept);
    const refused = untrusted.view.exchanges.some((x) => {
      const reply = x.response?.syncml && headerStatus(x.response.syncml);
      return !!reply && ['401', '407'].includes(codeOf(reply) ?? '');
    });
    if (!offered || !refused) {
      log.add([{ id: 'MDM-AUTH-023', verdict: 'inconclusive', check, evidence: 'the device with a wrong password did not get to hand the server a nonce while being refused' }]);
      return;
    }
    await withDevice(t, log, { ...verifying, serverCredentials: { ...creds, nonce: kept } }, async (device) => {
      const run = await runOn(device, t, log);
      const opening = presentedCreds(run, kept, [offered]).find((p) => p.opening);
      if (!opening) {
        log.add([{ id: 'MDM-AUTH-023', verdict: 'inconclusive', check, evidence: `the server did not open session ${run.sessionID} with credentials` }]);
        return;
      }
      const how = madeWith(opening, creds);
      log.add([how === 'expected'
        ? { id: 'MDM-AUTH-023', verdict: 'pass', check, evidence: `${label(opening.at)} /SyncHdr/Cred: made from the nonce ${kept} of the authenticated device, not from ${offered}, which a device with refused credentials handed over` }
        : how === 'older'
          ? { id: 'MDM-AUTH-023', verdict: 'warn', check, evidence: `${label(opening.at)} /SyncHdr/Cred: made from the nonce ${offered}, handed over by a device whose credentials the server refused; that nonce should not replace the one kept (${kept})` }
          : { id: 'MDM-AUTH-023', verdict: 'inconclusive', check, evidence: `${label(opening.at)} /SyncHdr/Cred: made from neither the kept nonce ${kept} nor ${offered}` }]);
    });
  },
};

export const SERVER_CREDENTIAL_SCENARIOS: readonly ServerScenario[] = [serverCredentials, secretPerDevice, nonceOfUnauthenticatedDevice];
