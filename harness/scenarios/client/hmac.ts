/**
 * Client scenario of HMAC integrity (`syncml:auth-MAC`, OMA-DMS 5.4; MDM-AUTH-027..029): the reference server requires
 * HMAC of the client and challenges it with `syncml:auth-MAC`. The passive checks judge the header's form and its
 * presence on every later message; this scenario judges what needs the secret: each mac is made from the client's
 * user and secret and the nonce of the server's last Chal, over the exact body sent.
 */
import type { Finding } from '../../checks/finding';
import { AuthScheme, HMAC_HEADER, parseHmacHeader } from '../../protocol/auth';
import { headerIn, macOf } from '../../protocol/hmac-integrity';
import { get, metaValue, type Status, type SyncML } from '../../syncml';
import type { Scenario } from '../scenario';
import { nodesOf, oneSession, type ClientUnderTest } from './target';

type ClientScenario = Scenario<ClientUnderTest>;

const headerStatus = (m: SyncML | undefined) => m?.body.commands.find((c): c is Status => c.kind === 'Status' && c.cmdRef?.trim() === '0');

export const hmacIntegrity: ClientScenario = {
  id: 'auth/hmac-integrity',
  phase: 'auth',
  title: 'challenges the client with syncml:auth-MAC: every later message carries x-syncml-hmac over the exact body, made from the nonce of the server\'s last Chal',
  requirements: ['MDM-AUTH-027', 'MDM-AUTH-029'],
  feature: 'hmac',
  needs: (t) => (t.credentials ? undefined : 'needs --auth with --client-credentials USER:SECRET: HMAC is made from the client\'s user and secret'),
  async run(t, log) {
    const check = this.id;
    const creds = t.credentials!;
    const n = nodesOf(t);
    const run = await oneSession(t, log, { clientAuth: { ...creds, scheme: AuthScheme.Mac }, rounds: [[get(n.readableLeaf)], [get(n.readableLeaves[0])]] }, { check });
    if (!run.connected) return;
    const findings: Finding[] = [];
    let nonce: string | undefined;
    let since: number | undefined;
    for (const x of run.exchanges) {
      const header = headerIn(x.request.headers ?? {}, HMAC_HEADER);
      const at = `request ${x.index + 1}`;
      if (nonce !== undefined && header === undefined && since !== undefined) {
        findings.push({ id: 'MDM-AUTH-029', verdict: 'fail', check, evidence: `${at}: no x-syncml-hmac, though the client has signed its messages since request ${since + 1}; once in use HMAC is on every later message` });
      } else if (nonce !== undefined && header !== undefined) {
        since ??= x.index;
        const parsed = parseHmacHeader(header);
        // A header that does not parse is the passive checks' (MDM-AUTH-028); its mac is judged when there is one.
        if (parsed.ok) {
          const right = macOf(x.request.body, { user: creds.user, password: creds.password, nonce });
          findings.push(right === parsed.header.mac
            ? { id: 'MDM-AUTH-027', verdict: 'pass', check, evidence: `${at}: the mac verifies over the exact body with the client's secret and the nonce ${nonce} of the server's last Chal` }
            : { id: 'MDM-AUTH-027', verdict: 'fail', check, evidence: `${at}: the mac ${parsed.header.mac} is not the one the client's secret and the nonce ${nonce} of the server's last Chal make over the exact body (${right})` });
          if (x.index > since) findings.push({ id: 'MDM-AUTH-029', verdict: 'pass', check, evidence: `${at}: x-syncml-hmac again, made from the new nonce ${nonce}` });
        }
      }
      const status = headerStatus(x.response?.parsed?.message);
      const handed = metaValue(status?.chal?.meta, 'Type')?.trim() === AuthScheme.Mac ? metaValue(status?.chal?.meta, 'NextNonce')?.trim() : undefined;
      if (handed) nonce = handed;
    }
    if (nonce === undefined) log.note('the reference server never handed a syncml:auth-MAC nonce in this session');
    else if (since === undefined) log.note('the client answered the syncml:auth-MAC challenge without x-syncml-hmac');
    log.add(findings);
  },
};

export const HMAC_SCENARIOS: readonly ClientScenario[] = [hmacIntegrity];
