/**
 * Server scenario of HMAC integrity (`syncml:auth-MAC`, OMA-DMS 5.4; MDM-AUTH-027..029): a device whose account
 * prefers HMAC authenticates with MD5 once to get a nonce, then opens its next session with `x-syncml-hmac` over the
 * exact body of every message, handing the server a nonce for its own macs in each Status for its SyncHdr. The passive
 * checks judge the header's form, its presence on every later message and the server's 200 with a new nonce; this
 * scenario judges what needs the secrets: the server verifies the device's mac (a mac made with a wrong secret is
 * refused) and the server's own macs verify.
 */
import type { Finding } from '../../checks/finding';
import { AuthScheme, HMAC_HEADER, parseHmacHeader } from '../../protocol/auth';
import { headerIn, macOf } from '../../protocol/hmac-integrity';
import { codeOf, get, metaValue, type Status, type SyncML } from '../../syncml';
import type { Exchange } from '../../transport';
import type { Scenario, ScenarioLog } from '../scenario';
import { deviceFor, judgeSession, type ServerUnderTest } from './target';

type ServerScenario = Scenario<ServerUnderTest>;

const headerStatus = (m: SyncML | undefined) => m?.body.commands.find((c): c is Status => c.kind === 'Status' && c.cmdRef?.trim() === '0');
const codeIn = (m: SyncML | undefined) => {
  const s = headerStatus(m);
  return s ? codeOf(s) : undefined;
};
const signed = (x: Exchange) => headerIn(x.request.headers ?? {}, HMAC_HEADER) !== undefined;

export const hmacIntegrity: ServerScenario = {
  id: 'auth/hmac-integrity',
  phase: 'auth',
  title: 'authenticates with MD5 for a nonce, opens the next session with HMAC (x-syncml-hmac) on every message, handing the server nonces for its own macs, then sends a mac made with a wrong secret',
  requirements: ['MDM-AUTH-027'],
  feature: 'hmac',
  needs: (t) => (t.credentials?.scheme === AuthScheme.Md5 ? undefined
    : 'needs --auth md5 with --client-credentials USER:SECRET: HMAC is made from the MD5 secret and the nonce the server hands with its acceptance'),
  async run(t, log) {
    const check = this.id;
    const creds = { ...t.credentials!, scheme: AuthScheme.Mac };
    const device = deviceFor(t, log, { credentials: creds, preemptiveAuth: true, handServerHmacNonces: !!t.serverCredentials });
    let nonce: string | undefined;
    let hmac: Exchange[] = [];
    try {
      // A queued Get keeps each session going past package 1, so that a later message shows HMAC kept up.
      if (t.queue) await t.queue(t.deviceId, [get('./DevInfo/DmV')]);
      const first = await run(device, t, log);
      nonce = device.memory().nonce;
      if (!nonce) {
        log.add([{ id: 'MDM-AUTH-027', verdict: 'inconclusive', check, evidence: `session ${first}: the server handed no nonce with its acceptance of the MD5 credentials, so the device has none to make an HMAC from` }]);
        return;
      }
      if (t.queue) await t.queue(t.deviceId, [get('./DevInfo/DmV'), get('./DevInfo/Lang')]);
      await run(device, t, log, (x) => (hmac = x));
      nonce = device.memory().nonce ?? nonce; // the probe below uses the server's latest nonce: only its secret is wrong
    } finally {
      await device.close();
    }
    const opened = hmac[0];
    if (!opened || !signed(opened) || !['200', '212'].includes(codeIn(opened.response?.parsed?.message) ?? '')) {
      const how = !opened ? 'nothing was exchanged' : `package 1 was answered ${opened.response?.parsed ? `SyncHdr Status ${codeIn(opened.response.parsed.message) ?? 'missing'}` : `HTTP ${opened.response?.status ?? 'nothing'}`}`;
      log.add([{ id: 'MDM-AUTH-027', verdict: 'fail', check, evidence: `a session opened with an x-syncml-hmac made as OMA-DMS 5.4 prescribes (the nonce ${nonce} handed with the last acceptance) was not accepted: ${how}` }]);
      return;
    }
    const findings: Finding[] = [...ownMacs(t, hmac, check)];
    // The control passed; a mac made with a wrong secret must not get in.
    const wrong = deviceFor(t, log, { credentials: { ...creds, password: `${creds.password}-wrong`, nonce }, preemptiveAuth: true });
    try {
      const probe = (await wrong.runSession(t.url)).exchanges;
      log.transcripts.push(probe);
      const taken = probe.find((x) => signed(x) && ['200', '212'].includes(codeIn(x.response?.parsed?.message) ?? ''));
      findings.push(taken
        ? { id: 'MDM-AUTH-027', verdict: 'fail', check, evidence: `an x-syncml-hmac made with a wrong secret was accepted (SyncHdr Status ${codeIn(taken.response?.parsed?.message)}): the server does not verify the mac` }
        : { id: 'MDM-AUTH-027', verdict: 'pass', check, evidence: `an HMAC session made with the right secret was accepted (${hmac.length} message(s)), one made with a wrong secret refused` });
    } finally {
      await wrong.close();
    }
    log.add(findings);
  },
};

/** One session of `device`, recorded and judged by the passive checks; gives its id. */
async function run(device: ReturnType<typeof deviceFor>, t: ServerUnderTest, log: ScenarioLog, keep?: (x: Exchange[]) => void): Promise<string> {
  const result = await device.runSession(t.url);
  log.transcripts.push(result.exchanges);
  log.note(`session ${result.sessionID}: ${result.rounds} round trip(s), ${result.view.outcome}`);
  judgeSession(log, result.view);
  keep?.(result.exchanges);
  return result.sessionID;
}

/**
 * The server's own x-syncml-hmac (MDM-AUTH-027): made from its secret and the nonce the device handed in the message
 * it answers, over the exact reply body. The header's form is the passive checks' (MDM-AUTH-028).
 */
function ownMacs(t: ServerUnderTest, exchanges: Exchange[], check: string): Finding[] {
  const own = t.serverCredentials;
  if (!own) return [];
  const out: Finding[] = [];
  for (const x of exchanges) {
    const header = x.response && headerIn(x.response.headers ?? {}, HMAC_HEADER);
    const parsed = header === undefined ? undefined : parseHmacHeader(header);
    const handed = metaValue(headerStatus(x.request.parsed?.message)?.chal?.meta, 'NextNonce')?.trim();
    if (!parsed?.ok || !handed || !x.response) continue;
    const right = macOf(x.response.body, { ...own, nonce: handed });
    out.push(right === parsed.header.mac
      ? { id: 'MDM-AUTH-027', verdict: 'pass', check, evidence: `reply ${x.index + 1}: the server's x-syncml-hmac verifies over the exact body with its secret and the nonce ${handed} the device handed it` }
      : { id: 'MDM-AUTH-027', verdict: 'fail', check, evidence: `reply ${x.index + 1}: the server's mac ${parsed.header.mac} is not the one its secret and the nonce ${handed} (handed in the request) make over the exact body (${right})` });
  }
  return out;
}

export const HMAC_SCENARIOS: readonly ServerScenario[] = [hmacIntegrity];
