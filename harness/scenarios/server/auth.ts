/** Server scenarios of the auth phase: mutual TLS identities (MDM-TRN-004) and SyncML challenges (catalogue S6). */
import type { Finding } from '../../checks/finding';
import type { DeviceRun } from '../../device/reference-device';
import { mintDeviceIdentity, type BadDeviceIdentity, type Identity, type TestPki } from '../../pki';
import { codeOf, type Status } from '../../syncml';
import type { Scenario, ScenarioLog } from '../scenario';
import { deviceFor, session, type ServerUnderTest } from './target';

type ServerScenario = Scenario<ServerUnderTest>;

const CASES: { kind: BadDeviceIdentity | 'none'; what: string }[] = [
  { kind: 'none', what: 'no client certificate' },
  { kind: 'untrusted-ca', what: 'a certificate from an untrusted CA' },
  { kind: 'expired', what: 'an expired certificate' },
  { kind: 'not-yet-valid', what: 'a certificate not yet valid' },
  { kind: 'wrong-eku', what: 'a certificate without the clientAuth key usage' },
  { kind: 'cn-mismatch', what: 'the certificate of another device (CN differs from the header Source)' },
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

/** Whether the server let the session proceed: some SyncML reply has a SyncHdr Status 200 or 212. */
function accepted(run: DeviceRun): boolean {
  return run.view.exchanges.some((x) => {
    const hdr = x.response?.syncml?.body.commands.find((c): c is Status => c.kind === 'Status' && c.cmdRef?.trim() === '0');
    return !!hdr && ['200', '212'].includes(codeOf(hdr) ?? '');
  });
}

function how(run: DeviceRun): string {
  const x = run.exchanges[0];
  if (!x) return 'nothing was exchanged';
  if (x.error) return `${x.error.kind}: ${x.error.message}`;
  return `HTTP ${x.response?.status}`;
}

export const mutualTls: ServerScenario = {
  id: 'auth/mutual-tls-identities',
  phase: 'auth',
  title: 'connects with no, untrusted, expired, not yet valid, wrong-usage and foreign certificates, then with the right one',
  requirements: ['MDM-TRN-004'],
  async run(t, log) {
    const findings: Finding[] = [];
    for (const c of CASES) {
      let identity: Identity | undefined;
      if (c.kind !== 'none') {
        if (!t.pki) {
          findings.push({ id: 'MDM-TRN-004', verdict: 'inconclusive', check: this.id, evidence: `${c.what}: the device identity comes from --client-cert, so the harness cannot mint this case` });
          continue;
        }
        identity = mint(t.pki, c.kind, t.deviceId);
      }
      const device = deviceFor(t, { identity });
      try {
        const run = await device.runSession(t.url);
        log.transcripts.push(run.exchanges);
        const ok = !accepted(run);
        findings.push({
          id: 'MDM-TRN-004', verdict: ok ? 'pass' : 'fail', check: this.id,
          evidence: ok ? `${c.what}: refused (${how(run)})` : `${c.what}: the server accepted the session (${how(run)}, SyncHdr Status 200/212)`,
        });
      } finally {
        await device.close();
      }
    }
    const valid = await session(t, log);
    findings.push({
      id: 'MDM-TRN-004', verdict: accepted(valid) ? 'pass' : 'fail', check: this.id,
      evidence: accepted(valid) ? 'the enrolled identity was accepted' : `the enrolled device identity was refused (${how(valid)})`,
    });
    log.add(findings);
  },
};

function challengeScenario(scheme: 'md5' | 'basic'): ServerScenario {
  const type = scheme === 'md5' ? 'syncml:auth-md5' : 'syncml:auth-basic';
  return {
    id: `auth/${scheme}-challenge`,
    phase: 'auth',
    title: `sends package 1 without credentials, answers the ${scheme} challenge, then tries a wrong password`,
    requirements: ['MDM-AUTH-004', 'MDM-AUTH-005', 'MDM-AUTH-008', scheme === 'md5' ? 'MDM-AUTH-015' : 'MDM-AUTH-014'],
    feature: scheme === 'md5' ? 'md5-auth' : 'basic-auth',
    needs: (t) => (t.credentials?.scheme === type ? undefined : `needs --auth ${scheme} with --client-credentials USER:SECRET`),
    async run(t, log) {
      const creds = t.credentials!;
      const good = await session(t, log, { preemptiveAuth: false });
      const check = this.id;
      judgeChallengeFlow(log, good, check);
      const wrong = await session(t, log, { preemptiveAuth: false, credentials: { ...creds, password: `${creds.password}-wrong` } });
      const formula = scheme === 'md5' ? 'MDM-AUTH-015' : 'MDM-AUTH-014';
      log.add([{
        id: formula, verdict: accepted(wrong) ? 'fail' : 'pass', check,
        evidence: accepted(wrong) ? 'credentials made with a wrong password were accepted' : 'credentials made with a wrong password were refused',
      }]);
    },
  };
}

function judgeChallengeFlow(log: ScenarioLog, run: DeviceRun, check: string): void {
  const [first, second] = run.view.exchanges;
  const hdrOf = (x: typeof first | undefined) => x?.response?.syncml?.body.commands.find((c): c is Status => c.kind === 'Status' && c.cmdRef?.trim() === '0');
  const challenge = hdrOf(first);
  const code = challenge && codeOf(challenge);
  log.add([{
    id: 'MDM-AUTH-005', verdict: code === '407' ? 'pass' : 'fail', check,
    evidence: code === '407' ? 'package 1 without Cred was answered 407 (missing credentials)' : `package 1 without Cred was answered ${code ?? 'without a SyncHdr Status'}; expected 407 with a Chal`,
  }]);
  const after = hdrOf(second);
  const done = after && codeOf(after);
  log.add([{
    id: 'MDM-AUTH-008', verdict: done === '212' || done === '200' ? 'pass' : 'fail', check,
    evidence: done ? `the re-sent package 1 with Cred was answered ${done}` : 'no answer to the re-sent package 1',
  }]);
}

export const md5Challenge = challengeScenario('md5');
export const basicChallenge = challengeScenario('basic');

export const AUTH_SCENARIOS: readonly ServerScenario[] = [mutualTls, md5Challenge, basicChallenge];
