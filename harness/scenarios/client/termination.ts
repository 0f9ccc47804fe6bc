/**
 * Client scenarios of the termination phase (catalogue S1 and S9, column "client under test"): the device closes
 * each of its packages with Final, sends nothing once the server's package holds no command, and stays silent
 * after the server aborts with Alert 1223.
 */
import type { Finding } from '../../checks/finding';
import { label, type SessionView } from '../../checks/session';
import { codeOf, get } from '../../syncml';
import type { Scenario } from '../scenario';
import { nodesOf, oneSession, type ClientUnderTest } from './target';

type ClientScenario = Scenario<ClientUnderTest>;

/**
 * Final on the last message of every device package (MDM-TERM-004): a device message answering a closed server
 * package ends the device's package unless the server then asks for more with Alert 1222.
 */
function finalOnLastMessage(view: SessionView, check: string): Finding[] {
  const out: Finding[] = [];
  view.exchanges.forEach((x, i) => {
    const answered = view.exchanges[i - 1]?.response?.syncml;
    const msg = x.request.syncml;
    if (!answered?.body.final || !msg) return;
    const askedForMore = x.response?.syncml?.body.commands.some((c) => c.kind === 'Alert' && codeOf(c) === '1222');
    if (askedForMore) return;
    out.push(msg.body.final
      ? { id: 'MDM-TERM-004', verdict: 'pass', check, evidence: `${label(x.request)}: the device's package ends here, with Final` }
      : { id: 'MDM-TERM-004', verdict: 'fail', check, evidence: `${label(x.request)} /SyncBody: the last message of the device's package has no Final` });
  });
  return out;
}

export const silentClose: ClientScenario = {
  id: 'termination/silent-close-after-commands',
  phase: 'termination',
  title: 'sends one Get, then a closing package with statuses only: the device closes its package with Final and then sends nothing',
  requirements: ['MDM-TERM-001', 'MDM-STS-011', 'MDM-TERM-004', 'MDM-SES-010'],
  async run(t, log) {
    const n = nodesOf(t);
    const run = await oneSession(t, log, { rounds: [[get(n.readableLeaf)]] }, { check: this.id });
    if (run.connected) log.add(finalOnLastMessage(run.view, this.id));
  },
};

export const serverAbort: ClientScenario = {
  id: 'termination/server-abort',
  phase: 'termination',
  title: 'sends one Get, then aborts the session with Alert 1223 instead of the next round: the device must not reply',
  requirements: ['MDM-TERM-007'],
  async run(t, log) {
    const n = nodesOf(t);
    // Server message 2 is where the second round would have gone.
    await oneSession(t, log, { rounds: [[get(n.readableLeaf)], [get(n.interiorNode)]], behaviour: { abortInMessage: 2 } }, { check: this.id });
  },
};

export const TERMINATION_SCENARIOS: readonly ClientScenario[] = [silentClose, serverAbort];
