/**
 * Faults of the reference device in what it does with commands and what it says about them: codes, Statuses,
 * Results, Items, containers, alerts and the Windows session habits. Each is one realistic violation naming the
 * catalogue ids the client checks and scenarios must report; they close the device's fault catalogue.
 */
import { codeOf, eventAlert, item, metaValue, type Alert, type Command, type Item, type Results, type Sequence, type SyncML } from '../syncml';
import { mutations } from '../protocol/mutations';
import type { DeviceFault } from './faults';

const isPackage1 = (msg: SyncML) => msg.body.commands.some((c) => c.kind === 'Alert' && ['1200', '1201'].includes(codeOf(c) ?? ''));
const LOGIN_STATUS = 'com.microsoft/MDM/LoginStatus';
const isLoginStatus = (c: Command): c is Alert => c.kind === 'Alert' && c.items.some((it) => metaValue(it.meta, 'Type') === LOGIN_STATUS);

/** A CmdID no command of the message uses yet. */
function freeCmdID(msg: SyncML): string {
  let max = 0;
  const visit = (cs: Command[]) => cs.forEach((c) => {
    if (c.kind !== 'Unknown') max = Math.max(max, Number(c.cmdID) || 0);
    if (c.kind === 'Atomic' || c.kind === 'Sequence') visit(c.commands);
  });
  visit(msg.body.commands);
  return String(max + 1);
}

/** Adds an alert to package 1, after the session alert and LoginStatus unless `first`. */
function alertInPackage1(make: () => Alert, first = false) {
  return (msg: SyncML) => {
    if (!isPackage1(msg)) return;
    const a = { ...make(), cmdID: freeCmdID(msg) };
    const at = first ? 0 : msg.body.commands.findIndex((c) => c.kind === 'Replace');
    msg.body.commands.splice(at < 0 ? msg.body.commands.length : at, 0, a);
  };
}

/** An asynchronous completion as the EnterpriseDesktopAppManagement CSP reports an MSI install (catalogue 3.4). */
const completion = (over: { source?: string; moreData?: boolean } = {}): Alert => {
  const a = eventAlert('1226', {
    type: 'Reversed-Domain-Name:com.microsoft.mdm.win32csp_install', format: 'int', mark: 'informational', data: '0',
    source: 'source' in over ? over.source : './Device/Vendor/MSFT/EnterpriseDesktopAppManagement/MSI/%7B6E1E5C7A-0B7E-4C3B-9A6B-2E7F5D7C1A11%7D/DownloadInstall',
  });
  if (over.moreData) a.items[0].moreData = true;
  return a;
};

const resultsOf = (msg: SyncML) => msg.body.commands.filter((c): c is Results => c.kind === 'Results');
const eachResultsItem = (msg: SyncML, edit: (it: Item, r: Results) => void) => resultsOf(msg).forEach((r) => r.items.forEach((it) => edit(it, r)));

export const COMMAND_FAULTS: readonly DeviceFault[] = [
  // Document syntax
  { name: 'unescaped-ampersand', summary: 'writes "&" in a Data value unescaped, so its message is not well-formed XML', violates: ['MDM-XML-001'], text: (xml) => xml.replace(/&amp;/g, '&') },
  { name: 'final-not-last', summary: 'writes Final first in SyncBody, ahead of its commands', violates: ['MDM-XML-004'], text: (xml) => xml.replace(/<SyncBody([^>]*)>(.*)<Final\/><\/SyncBody>/s, '<SyncBody$1><Final/>$2</SyncBody>') },
  {
    name: 'ds-put-devinf', summary: 'also sends its device information as a SyncML DS Put in package 1', violates: ['MDM-XML-005'],
    text: (xml) => (/<Data>120[01]<\/Data>/.test(xml)
      ? xml.replace('<Final/>', '<Put><CmdID>90</CmdID><Meta><Type xmlns="syncml:metinf">application/vnd.syncml-devinf+xml</Type></Meta><Item><Source><LocURI>./devinf12</LocURI></Source><Data>dm</Data></Item></Put><Final/>')
      : xml),
  },
  { name: 'item-data-before-source', summary: 'writes an Item\'s Data before its Source', violates: ['MDM-XML-011'], text: (xml) => xml.replace(/<Item>(<Source>(?:(?!<\/Source>).)*<\/Source>)((?:<Meta>(?:(?!<\/Meta>).)*<\/Meta>)?)(<Data>[^<]*<\/Data>)/g, '<Item>$3$1$2') },
  { name: 'metinf-namespace-missing', summary: 'writes Meta fields of its Items without the syncml:metinf namespace', violates: ['MDM-XML-012'], message: mutations.metinfWithoutNamespace },
  {
    name: 'raw-xml-in-data', summary: 'returns a value holding XML as raw markup in Data, neither escaped nor in CDATA', violates: ['MDM-XML-009'],
    text: (xml) => xml.replace(/<Data>([^<]*&lt;[^<]*)<\/Data>/g, (_, inner: string) => `<Data>${inner.replace(/&lt;/g, '<').replace(/&gt;/g, '>')}</Data>`),
  },
  {
    name: 'ancestor-named-without-dot', summary: 'names the ancestor an implicit Add could not create as a path without the leading "./"', violates: ['MDM-XML-019'],
    message: (msg) => msg.body.commands.forEach((c) => {
      if (c.kind === 'Status') for (const it of c.items) if (it.target?.locURI?.startsWith('./')) it.target.locURI = it.target.locURI.slice(2);
    }),
  },
  { name: 'leading-slash-accepted', summary: 'reads a LocURI starting with "/" as rooted at "./" and runs the command', violates: ['MDM-XML-015'], behaviour: { leadingSlashIsRoot: true } },
  { name: 'empty-segment-collapsed', summary: 'reads an empty LocURI segment ("//") as none and runs the command', violates: ['MDM-XML-017'], behaviour: { collapseEmptySegments: true } },
  { name: 'missing-data-as-empty', summary: 'takes a Replace Item with Format but no Data as an empty value', violates: ['MDM-XML-020'], behaviour: { missingDataIsEmpty: true } },
  { name: 'old-protocol-commands-refused', summary: 'accepts an OMA DM 1.1 document (SyncHdr 200) yet refuses its commands with 400', violates: ['MDM-XML-003'], warningOnly: true, behaviour: { runOldProtocolCommands: false } },

  // Status codes and Statuses
  {
    name: 'hresult-in-status-data', summary: 'reports the Windows error 0x86000002 in Status Data instead of the SyncML code 404', violates: ['MDM-STS-016'],
    message: (msg) => msg.body.commands.forEach((c) => {
      if (c.kind === 'Status' && c.data && codeOf(c) === '404') c.data = { text: '0x86000002' };
    }),
  },
  { name: 'bad-format-400', summary: 'answers a value that does not fit the node\'s format with 400 instead of 415', violates: ['MDM-STS-020'], behaviour: { badFormatCode: '400' } },
  { name: 'access-denied-405', summary: 'answers a node its access-control list keeps the server out of with 405 instead of 425', violates: ['MDM-STS-021'], behaviour: { deniedCode: '405' } },
  { name: 'async-work-204', summary: 'answers work it runs in the background with 204 instead of 202', violates: ['MDM-STS-022', 'MDM-CMD-EXE-002'], warningOnly: true, behaviour: { asyncAcceptedCode: '204' } },
  { name: 'sequence-status-from-member', summary: 'answers a Sequence with the error code of its failing member', violates: ['MDM-STS-008'], behaviour: { sequenceTakesMemberCode: true } },
  { name: 'one-status-for-mixed-items', summary: 'answers a multi-Item command with one Status carrying the first Item\'s code, even when the Items fared differently', violates: ['MDM-STS-009'], behaviour: { statusPerItem: false } },
  { name: 'targetref-on-shared-status', summary: 'lists every Item\'s TargetRef on the one Status that covers them all', violates: ['MDM-STS-010'], behaviour: { targetRefsOnSharedStatus: true } },
  {
    name: 'no-status-for-sequence', summary: 'answers the members of a Sequence but not the Sequence itself', violates: ['MDM-CMD-SEQ-004'],
    message: (msg) => {
      msg.body.commands = msg.body.commands.filter((c) => !(c.kind === 'Status' && c.cmd?.trim() === 'Sequence'));
    },
  },

  // Results
  { name: 'results-cmd-results', summary: 'writes Cmd "Results" in its Results instead of leaving it out or naming the Get', violates: ['MDM-RES-001'], message: (msg) => resultsOf(msg).forEach((r) => (r.cmd = 'Results')) },
  { name: 'results-without-source', summary: 'leaves the Source out of the Item of a one-Item Results', violates: ['MDM-RES-002'], message: (msg) => resultsOf(msg).forEach((r) => r.items.length === 1 && delete r.items[0].source) },
  { name: 'results-per-item', summary: 'answers a Get of several nodes with one Results per node', violates: ['MDM-RES-004'], behaviour: { resultsPerItem: true } },

  // Add, Replace, Delete, Exec
  { name: 'replace-missing-200', summary: 'answers a Replace of a node that does not exist with 200, doing nothing', violates: ['MDM-CMD-REP-002'], behaviour: { replaceMissingCode: '200' } },
  { name: 'delete-missing-200', summary: 'answers a Delete of a node that does not exist with 200', violates: ['MDM-CMD-DEL-002'], behaviour: { deleteMissingCode: '200' } },
  { name: 'exec-accepted-before-launch', summary: 'answers every Exec 202 before finding out whether it can run', violates: ['MDM-CMD-EXE-002'], behaviour: { execAcceptsBeforeLaunch: true } },

  // Atomic and Sequence
  { name: 'get-in-atomic-run', summary: 'runs a Get inside an Atomic instead of answering it 500', violates: ['MDM-CMD-GET-005'], behaviour: { atomicMembers: ['Add', 'Delete', 'Replace', 'Exec', 'Get'] } },
  { name: 'nested-atomic-run', summary: 'runs a nested Atomic as part of its parent instead of answering 500 and 507', violates: ['MDM-CMD-ATO-004'], behaviour: { atomicMembers: ['Add', 'Delete', 'Replace', 'Exec', 'Atomic'] } },
  { name: 'atomic-validated-late', summary: 'runs the members of an Atomic before finding the invalid one, then rolls back', violates: ['MDM-CMD-ATO-003'], behaviour: { atomicValidatesFirst: false } },
  { name: 'rolled-back-reported-200', summary: 'reports the members a failed Atomic rolled back with 200 instead of 216', violates: ['MDM-CMD-ATO-006'], behaviour: { rolledBackCode: '200' } },
  { name: 'oversized-atomic-517-kept', summary: 'answers an Atomic of more than 20 members 517, yet keeps and reports the members\' effects', violates: ['MDM-CMD-ATO-007'], behaviour: { atomicStatusLimit: 20, keepEffectsOn517: true } },
  {
    name: 'results-wrapped-in-sequence', summary: 'wraps the Results of each reply in a Sequence, a chunked Results included', violates: ['MDM-CMD-ATO-008', 'MDM-SES-005'],
    message: (msg) => {
      const results = resultsOf(msg);
      if (!results.length) return;
      const wrapper: Sequence = { kind: 'Sequence', cmdID: freeCmdID(msg), commands: results };
      const at = msg.body.commands.indexOf(results[0]);
      msg.body.commands = msg.body.commands.filter((c) => c.kind !== 'Results');
      msg.body.commands.splice(at, 0, wrapper);
    },
  },

  // Alerts
  {
    name: 'ui-alert-code', summary: 'reports its LoginStatus client event under code 1100, an OMA user-interaction alert', violates: ['MDM-CMD-ALT-003'],
    message: (msg) => msg.body.commands.forEach((c) => isLoginStatus(c) && (c.data = { text: '1100' })),
  },
  {
    name: 'alert-data-after-item', summary: 'writes an Alert\'s code after its Item', violates: ['MDM-CMD-ALT-002'],
    text: (xml) => xml.replace(/<Alert>(<CmdID>[^<]*<\/CmdID>)(<Data>[^<]*<\/Data>)(<Item>(?:(?!<\/Alert>).)*)<\/Alert>/g, '<Alert>$1$3$2</Alert>'),
  },
  {
    name: 'loginstatus-without-meta', summary: 'sends the LoginStatus alert Item without Meta, so nothing says what its Data is', violates: ['MDM-CMD-ALT-004'],
    message: (msg) => msg.body.commands.forEach((c) => isLoginStatus(c) && c.items.forEach((it) => delete it.meta)),
  },
  {
    name: 'loginstatus-account-name', summary: 'reports the signed-in account name in LoginStatus instead of user, others or none', violates: ['MDM-CMD-ALT-009'], warningOnly: true,
    message: (msg) => msg.body.commands.forEach((c) => isLoginStatus(c) && c.items.forEach((it) => (it.data = { text: 'AzureAD\\harness' }))),
  },
  { name: 'generic-alert-before-session-alert', summary: 'sends a pending generic alert ahead of the session alert in package 1', violates: ['MDM-CMD-ALT-007'], message: alertInPackage1(() => completion(), true) },
  {
    name: 'generic-alert-split-without-large-objects', summary: 'reports ./DevDetail/LrgObj false, yet sends a generic alert that continues in the next message (MoreData)', violates: ['MDM-CMD-ALT-008'],
    message: (msg) => {
      alertInPackage1(() => completion({ moreData: true }))(msg);
      eachResultsItem(msg, (it) => {
        if (/(^|\/)DevDetail\/LrgObj$/.test(it.source?.locURI?.trim() ?? '')) it.data = { text: 'false' };
      });
    },
  },
  {
    name: 'completion-alert-without-source', summary: 'reports an asynchronous completion without naming the node it concerns', violates: ['MDM-CMD-ALT-017'], warningOnly: true,
    message: alertInPackage1(() => completion({ source: undefined })),
  },
  {
    name: 'deviceprepsync-unknown-state', summary: 'reports a DevicePrepSync state that is not one of Windows\' four', violates: ['MDM-CMD-ALT-012'], warningOnly: true,
    message: alertInPackage1(() => eventAlert('1224', { type: 'com.microsoft/MDM/DevicePrepSync', data: 'Provisioning' })),
  },
  {
    name: 'unenrollment-alert-chr', summary: 'sends the unenrollment generic alert with Format chr and Data "true"', violates: ['MDM-CMD-ALT-013'], warningOnly: true,
    message: alertInPackage1(() => eventAlert('1226', { type: 'com.microsoft:mdm.unenrollment.userrequest', format: 'chr', data: 'true' })),
  },
  {
    name: 'keepalive-as-generic-alert', summary: 'sends its request-pending keep-alive as a generic alert 1226 instead of a client event 1224', violates: ['MDM-CMD-ALT-015'], warningOnly: true,
    message: alertInPackage1(() => eventAlert('1226', { type: 'Reversed-Domain-Name:com.microsoft.mdm.requestpending', data: '1' })),
  },
  {
    name: 'aad-user-token-empty', summary: 'sends the AADUserToken alert without a token', violates: ['MDM-CMD-ALT-018'], warningOnly: true,
    message: alertInPackage1(() => ({ kind: 'Alert', data: { text: '1224' }, items: [item({ type: 'com.microsoft/MDM/AADUserToken' })] })),
  },

  // Meta inheritance, implicit Add
  { name: 'command-meta-ignored', summary: 'reads Format and Type only on the Item, ignoring the Meta of the command', violates: ['MDM-RES-006'], warningOnly: true, behaviour: { commandMetaApplies: false } },
  { name: 'container-meta-ignored', summary: 'ignores the Meta of an Atomic or Sequence for its members', violates: ['MDM-CMD-ATO-009'], warningOnly: true, behaviour: { containerMetaApplies: false } },
  { name: 'no-implicit-add', summary: 'answers an Add whose parent does not exist 404 instead of creating the parent', violates: ['MDM-CMD-ADD-003'], warningOnly: true, behaviour: { implicitAdd: false } },
  { name: 'failed-ancestor-not-named', summary: 'refuses an implicit Add without naming the ancestor it could not create', violates: ['MDM-CMD-ADD-004'], warningOnly: true, behaviour: { namesFailedAncestor: false } },

  // Windows session habits
  { name: 'no-msft-namespace', summary: 'leaves xmlns:msft off its SyncBody although the server set SyncApplicationVersion 3.0', violates: ['MDM-XML-006'], warningOnly: true, behaviour: { declareMsftNamespace: false } },
  { name: 'no-originalerror', summary: 'reports failures without msft:originalerror although the server set SyncApplicationVersion 3.0', violates: ['MDM-XML-007'], warningOnly: true, behaviour: { originalErrorOnFailures: false } },
  {
    name: 'synctype-unknown-value', summary: 'reports its session type as "multiuser" instead of user, device or mixed', violates: ['MDM-CMD-ALT-010'], warningOnly: true,
    message: (msg) => msg.body.commands.forEach((c) => {
      if (c.kind === 'Alert') for (const it of c.items) if (metaValue(it.meta, 'Type') === 'com.microsoft.mdm.synctype') it.data = { text: 'multiuser' };
    }),
  },
  { name: 'mixed-session-refuses-device-settings', summary: 'refuses device-scoped settings with 405 in a mixed session, as a user session would', violates: ['MDM-CMD-ALT-011'], behaviour: { mixedSessionRefuses: 'device' } },
  { name: 'cmdrefs-by-position', summary: 'assumes the server numbers its commands from 1 without gaps, and answers them by position', violates: ['MDM-ID-004', 'MDM-ID-006'], warningOnly: true, behaviour: { cmdRefsByPosition: true } },
  { name: 'strict-status-child-order', summary: 'gives up on a server reply whose Status carries TargetRef after Data (the order MS-MDM prints)', violates: ['MDM-STS-002'], warningOnly: true, behaviour: { strictStatusChildOrder: true } },
];
