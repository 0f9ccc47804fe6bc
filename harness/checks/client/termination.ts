/**
 * Passive checks of a client under test about how it ends a session on its own. Either side may abort with Alert 1223
 * (MDM-TERM-005, a MAY); when the device does, its aborting message carries Final, and it should bring the Statuses
 * and Results of what it already ran.
 */
import { codeOf } from '../../syncml';
import type { AnyClientSessionView } from '../client-checks';
import { sentBy } from '../common';
import { defineCheck } from '../finding';

export const deviceAbortsWithFinal = defineCheck<AnyClientSessionView>({
  name: 'deviceAbortsWithFinal',
  ids: ['MDM-TERM-005'],
  when: 'the device to abort the session with Alert 1223',
  run(session, judge) {
    for (const m of sentBy(session, 'device')) {
      const msg = m.syncml;
      if (!msg?.body.commands.some((c) => c.kind === 'Alert' && codeOf(c) === '1223')) continue;
      judge.saw('MDM-TERM-005');
      if (!msg.body.final) judge.fail('MDM-TERM-005', m, '/SyncBody', 'the device aborts the session with Alert 1223 in a message without Final; the aborting message carries Final (OMA-DMP 8.1)');
    }
  },
});

export const CLIENT_TERMINATION_CHECKS = [deviceAbortsWithFinal] as const;
