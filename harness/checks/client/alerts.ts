/**
 * Passive checks of the alerts a client under test sends (catalogue 2.8, 3.4): only the alert codes MS-MDM uses
 * (MDM-CMD-ALT-003), generic alerts after the session alert and within one message (MDM-CMD-ALT-007, -008), and the
 * Windows client events, each judged only when the device sends it: LoginStatus, SyncType, DevicePrepSync,
 * unenrollment, request-pending, asynchronous completion and the Entra user token (MDM-CMD-ALT-009..018).
 */
import { codeOf, metaValue, type Alert, type Item } from '../../syncml';
import type { AnyClientSessionView } from '../client-checks';
import { sentBy } from '../common';
import { defineCheck, type Judge } from '../finding';
import { commandsWithPaths, startsAtPackage1, trimmed, type WireMessage } from '../session';

const MS_MDM_ALERTS = new Set(['1200', '1201', '1222', '1223', '1224', '1225', '1226']);
const SESSION_ALERTS = new Set(['1200', '1201']);

/** Windows client event and generic alert types (catalogue 3.4), with the Data each may carry. */
export const ALERT_TYPES = {
  loginStatus: 'com.microsoft/MDM/LoginStatus',
  syncType: 'com.microsoft.mdm.synctype',
  devicePrepSync: 'com.microsoft/MDM/DevicePrepSync',
  aadUserToken: 'com.microsoft/MDM/AADUserToken',
  requestPending: 'Reversed-Domain-Name:com.microsoft.mdm.requestpending',
  unenrollment: 'com.microsoft:mdm.unenrollment.userrequest',
} as const;
const LOGIN_STATUS = ['user', 'others', 'none'];
const SYNC_TYPES = ['user', 'device', 'mixed'];
const PREP_STATES = ['PendingProvisioning', 'Bootstrapping', 'ExecutingProvisioning', 'ProvisioningComplete'];
const REVERSED_DOMAIN = 'Reversed-Domain-Name:';

interface SentAlert {
  alert: Alert;
  code: string;
  m: WireMessage;
  path: string;
}

function deviceAlerts(session: AnyClientSessionView): SentAlert[] {
  const out: SentAlert[] = [];
  for (const m of sentBy(session, 'device')) {
    for (const { command, path } of commandsWithPaths(m.syncml?.body.commands ?? [])) {
      if (command.kind === 'Alert') out.push({ alert: command, code: codeOf(command) ?? '', m, path });
    }
  }
  return out;
}

const typeOf = (it: Item) => metaValue(it.meta, 'Type');
const dataOf = (it: Item) => trimmed(it.data?.text);
const itemPath = (a: SentAlert, n: number) => `${a.path}/Item${a.alert.items.length > 1 ? `[${n + 1}]` : ''}`;

/** MDM-CMD-ALT-003: the device's alert codes are MS-MDM's; 1100-1104 are OMA user-interaction alerts Windows does not use. */
export const deviceAlertCodes = defineCheck<AnyClientSessionView>({
  name: 'deviceAlertCodes',
  ids: ['MDM-CMD-ALT-003'],
  run(session, judge) {
    for (const a of deviceAlerts(session)) {
      if (!/^\d{4}$/.test(a.code)) continue; // an Alert without its code is a content-model defect (MDM-CMD-ALT-002)
      judge.saw('MDM-CMD-ALT-003');
      if (MS_MDM_ALERTS.has(a.code)) continue;
      const ui = /^110[0-4]$/.test(a.code) ? ', an OMA user-interaction alert that is not part of MS-MDM' : '';
      judge.fail('MDM-CMD-ALT-003', a.m, `${a.path}/Data`, `alert code ${a.code}${ui}; MS-MDM uses 1200, 1201, 1222, 1223, 1224, 1225 and 1226`);
    }
  },
});

/** Whether the device showed, in Results of ./DevDetail/LrgObj, that it handles large objects (MDM-LO-017). */
function largeObjectSupport(session: AnyClientSessionView): boolean | undefined {
  let support: boolean | undefined;
  for (const m of sentBy(session, 'device')) {
    for (const { command } of commandsWithPaths(m.syncml?.body.commands ?? [])) {
      if (command.kind !== 'Results') continue;
      for (const it of command.items) if (/(^|\/)DevDetail\/LrgObj$/.test(trimmed(it.source?.locURI))) support = dataOf(it).toLowerCase() === 'true';
    }
  }
  return support;
}

/**
 * Generic alerts (1226) come after the session alert (MDM-CMD-ALT-007), and a device without large-object support
 * keeps each within one message (MDM-CMD-ALT-008): an alert Item with MoreData continues in the next message.
 */
export const deviceGenericAlerts = defineCheck<AnyClientSessionView>({
  name: 'deviceGenericAlerts',
  ids: ['MDM-CMD-ALT-007', 'MDM-CMD-ALT-008'],
  when: {
    'MDM-CMD-ALT-007': 'the device to send a generic alert (1226)',
    'MDM-CMD-ALT-008': 'the device to send a generic alert (1226); one spread over messages is judged when the session shows ./DevDetail/LrgObj',
  },
  run(session, judge) {
    const generic = deviceAlerts(session).filter((a) => a.code === '1226');
    if (!generic.length) return;
    const first = session.exchanges[0]?.request;
    const opening = startsAtPackage1(session) ? first?.syncml?.body.commands ?? [] : [];
    const sessionAlertAt = opening.findIndex((c) => c.kind === 'Alert' && SESSION_ALERTS.has(codeOf(c) ?? ''));
    const largeObjects = largeObjectSupport(session);
    for (const a of generic) {
      judge.saw('MDM-CMD-ALT-007');
      const at = a.m === first ? opening.indexOf(a.alert) : -1;
      if (at >= 0 && sessionAlertAt >= 0 && at < sessionAlertAt) {
        judge.fail('MDM-CMD-ALT-007', a.m, a.path, `a generic alert ahead of the session alert ${codeOf(opening[sessionAlertAt] as Alert)}; generic alerts come after the session-initiation alert`);
      }
      const spread = a.alert.items.some((it) => it.moreData);
      if (!spread) {
        judge.saw('MDM-CMD-ALT-008');
        continue;
      }
      if (largeObjects === undefined) continue; // whether it may spread depends on large-object support, not shown
      judge.saw('MDM-CMD-ALT-008');
      if (!largeObjects) {
        judge.fail('MDM-CMD-ALT-008', a.m, a.path, 'the generic alert continues in the next message (MoreData), yet the device reports ./DevDetail/LrgObj false: a device without large-object support keeps each generic alert within one message');
      }
    }
  },
});

/** The Windows client events and generic alerts, each judged on its own shape when the device sends it. */
export const deviceWindowsAlerts = defineCheck<AnyClientSessionView>({
  name: 'deviceWindowsAlerts',
  ids: ['MDM-CMD-ALT-009', 'MDM-CMD-ALT-010', 'MDM-CMD-ALT-012', 'MDM-CMD-ALT-013', 'MDM-CMD-ALT-015', 'MDM-CMD-ALT-017', 'MDM-CMD-ALT-018'],
  when: {
    'MDM-CMD-ALT-009': 'the device to send the LoginStatus alert (a MAY: Windows sends it)',
    'MDM-CMD-ALT-010': 'the device to report its SyncType (AVD multi-session host in multi-user mode)',
    'MDM-CMD-ALT-012': 'the device to send a DevicePrepSync alert (Windows 11 24H2+ during provisioning)',
    'MDM-CMD-ALT-013': 'the device to send the unenrollment alert (the user unenrolls)',
    'MDM-CMD-ALT-015': 'the device to send a request-pending keep-alive (DMClient EnableOmaDmKeepAliveMessage)',
    'MDM-CMD-ALT-017': 'the device to report an asynchronous CSP completion in an alert',
    'MDM-CMD-ALT-018': 'the device to deliver an Entra user token in an alert (AVD multi-user mode)',
  },
  run(session, judge) {
    const first = session.exchanges[0]?.request;
    for (const a of deviceAlerts(session)) {
      a.alert.items.forEach((it, n) => judgeEvent(a, it, itemPath(a, n), a.m === first && startsAtPackage1(session), judge));
    }
  },
});

function judgeEvent(a: SentAlert, it: Item, at: string, package1: boolean, judge: Judge): void {
  const type = typeOf(it);
  const data = dataOf(it);
  const fail = (id: string, why: string) => judge.fail(id, a.m, at, why);
  const oneOf = (id: string, allowed: string[], what: string) => {
    judge.saw(id);
    if (!allowed.includes(data)) fail(id, `${what} "${data}"; it is one of ${allowed.join(', ')}`);
  };
  const inAlert = (id: string, code: string, what: string) => {
    if (a.code !== code) fail(id, `${what} travels in Alert ${code}, not ${a.code}`);
  };
  switch (type) {
    case ALERT_TYPES.loginStatus:
      return oneOf('MDM-CMD-ALT-009', LOGIN_STATUS, 'LoginStatus');
    case ALERT_TYPES.syncType:
      oneOf('MDM-CMD-ALT-010', SYNC_TYPES, 'SyncType');
      inAlert('MDM-CMD-ALT-010', '1224', 'the SyncType event');
      if (!package1) fail('MDM-CMD-ALT-010', 'the SyncType event belongs in package 1, where it sets the session\'s scope');
      return;
    case ALERT_TYPES.devicePrepSync:
      oneOf('MDM-CMD-ALT-012', PREP_STATES, 'DevicePrepSync state');
      return inAlert('MDM-CMD-ALT-012', '1224', 'the DevicePrepSync event');
    case ALERT_TYPES.unenrollment: {
      judge.saw('MDM-CMD-ALT-013');
      inAlert('MDM-CMD-ALT-013', '1226', 'the unenrollment alert');
      const format = metaValue(it.meta, 'Format');
      if (format !== 'int' || data !== '1') fail('MDM-CMD-ALT-013', `the unenrollment alert carries Format ${format ?? '(none)'} and Data "${data}"; Windows sends Format int and Data 1`);
      if (!package1) fail('MDM-CMD-ALT-013', 'the unenrollment alert belongs in package 1 of the session the unenrollment opens');
      return;
    }
    case ALERT_TYPES.requestPending:
      judge.saw('MDM-CMD-ALT-015');
      inAlert('MDM-CMD-ALT-015', '1224', 'the request-pending keep-alive');
      if (data !== '1') fail('MDM-CMD-ALT-015', `the request-pending keep-alive carries Data "${data}"; it carries 1`);
      return;
    case ALERT_TYPES.aadUserToken:
      judge.saw('MDM-CMD-ALT-018');
      if (!data) fail('MDM-CMD-ALT-018', 'the AADUserToken alert carries no token in Data');
      return;
  }
  if (type?.startsWith(REVERSED_DOMAIN) && (a.code === '1224' || a.code === '1226')) {
    // An asynchronous completion (A-18: in 1224 or 1226): which node finished, how it went, as Format int, Mark informational.
    judge.saw('MDM-CMD-ALT-017');
    const problems = [
      !trimmed(it.source?.locURI) && 'no Source LocURI naming the node',
      metaValue(it.meta, 'Format') !== 'int' && `Format ${metaValue(it.meta, 'Format') ?? '(none)'}, not int`,
      metaValue(it.meta, 'Mark') !== 'informational' && `Mark ${metaValue(it.meta, 'Mark') ?? '(none)'}, not informational`,
      !/^[+-]?\d+$/.test(data) && `Data "${data}" is not the result code`,
    ].filter(Boolean);
    if (problems.length) fail('MDM-CMD-ALT-017', `the completion alert ${type} has ${problems.join(', ')}`);
  }
}
