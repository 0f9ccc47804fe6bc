/**
 * What a Windows device does per session beyond OMA DM, and how the reference device reads a server message before
 * running it: the SyncApplicationVersion the server set for its enrollment (DMClient, catalogue 3.11) turns on the
 * `msft` namespace and `msft:originalerror` (3.0, MDM-XML-006, MDM-XML-007) and, on an AVD multi-session host in
 * multi-user mode, the SyncType of each session (5.0, MS-MDM 3.2.5.1.5, MDM-CMD-ALT-010, MDM-CMD-ALT-011).
 */
import { codeOf, eventAlert, MSFT_NS, status, type Alert, type Command, type Status, type SyncML } from '../syncml';
import type { SessionScope } from './execute';
import type { DmTree } from './tree';

/** Knobs of these per-session habits; each default is what Windows does, a fault flips one. */
export interface WindowsSessionBehaviour {
  /** With SyncApplicationVersion 3.0 or more, declare `xmlns:msft` on SyncBody (MDM-XML-006). */
  declareMsftNamespace: boolean;
  /** With SyncApplicationVersion 3.0 or more, put the underlying error on failure Status Data (MDM-XML-007). */
  originalErrorOnFailures: boolean;
  /** Run the commands of an OMA DM 1.1 document, as Windows does (MDM-XML-003); false takes it but answers each with 400. */
  runOldProtocolCommands: boolean;
  /** Take the server's CmdIDs as they are (MDM-ID-004); true numbers a message's commands from 1 and answers by that. */
  cmdRefsByPosition: boolean;
  /** Refuse (400) the commands of a server message whose Status children are not in DTD order, instead of tolerating it (MDM-STS-002). */
  strictStatusChildOrder: boolean;
}

export const WINDOWS_SESSION_BEHAVIOUR: Readonly<WindowsSessionBehaviour> = Object.freeze({
  declareMsftNamespace: true,
  originalErrorOnFailures: true,
  runOldProtocolCommands: true,
  cmdRefsByPosition: false,
  strictStatusChildOrder: false,
});

const PROVIDERS = './Vendor/MSFT/DMClient/Provider';
export const SYNC_TYPE = 'com.microsoft.mdm.synctype';
const OLD_NAMESPACE = 'SYNCML:SYNCML1.1';

/** The highest SyncApplicationVersion any enrollment of the device set, read when a session starts (default 1.0). */
export function syncApplicationVersion(tree: DmTree): number {
  let version = 1;
  for (const provider of tree.childNames(PROVIDERS) ?? []) {
    const value = Number(tree.lookup(`${PROVIDERS}/${provider}/SyncApplicationVersion`)?.value);
    if (Number.isFinite(value)) version = Math.max(version, value);
  }
  return version;
}

/** What one session of the device is like, fixed when it starts. */
export interface SessionExtras {
  version: number;
  /** The SyncType, on an AVD multi-session host in multi-user mode with SyncApplicationVersion 5.0 or more. */
  scope?: SessionScope;
  /** The server message being answered, for the executor. */
  serverMessage?: SyncML;
  /** The device refuses the commands of that message (a document it does not read, or reads too strictly). */
  refused?: boolean;
}

export function sessionExtras(tree: DmTree, multiSession: SessionScope | undefined): SessionExtras {
  const version = syncApplicationVersion(tree);
  return { version, scope: multiSession && version >= 5 ? multiSession : undefined };
}

/** The SyncType client event of package 1 (MS-MDM 3.2.5.1.5). */
export function syncTypeAlert(scope: SessionScope): Alert {
  return eventAlert('1224', { type: SYNC_TYPE, data: scope });
}

/**
 * Windows errors behind the SyncML codes, as `msft:originalerror` reports them; a code without a more precise
 * error reports the generic failure.
 */
const ORIGINAL_ERRORS: Record<string, string> = {
  '404': '0x86000002', // CFGMGR_E_NODENOTFOUND
  '415': '0x86000001', // CFGMGR_E_INVALIDDATATYPE
  '425': '0x80070005', // E_ACCESSDENIED
};
const GENERIC_ERROR = '0x80004005'; // E_FAIL

/** The `msft` extensions of a message sent with SyncApplicationVersion 3.0 or more (MDM-XML-006, MDM-XML-007). */
export function withMsftExtensions(msg: SyncML, extras: SessionExtras, behaviour: WindowsSessionBehaviour): SyncML {
  if (extras.version < 3) return msg;
  const out = structuredClone(msg);
  if (behaviour.declareMsftNamespace) out.body.attrs = { ...out.body.attrs, 'xmlns:msft': MSFT_NS };
  if (behaviour.originalErrorOnFailures) {
    for (const c of out.body.commands) {
      if (c.kind !== 'Status' || c.cmdRef?.trim() === '0' || !c.data) continue;
      const code = codeOf(c) ?? '';
      if (/^[45]\d\d$/.test(code)) c.data.attrs = { ...c.data.attrs, 'msft:originalerror': ORIGINAL_ERRORS[code] ?? GENERIC_ERROR };
    }
  }
  return out;
}

/** Statuses that refuse a message's commands without running them: 400 for a document the device does not read. */
export function refuseAll(commands: Command[], msgRef: string): { statuses: Status[]; results: [] } {
  const statuses = commands
    .filter((c) => c.kind !== 'Status' && c.kind !== 'Results')
    .map((c) => status({ msgRef, cmdRef: c.cmdID ?? '', cmd: c.kind === 'Unknown' ? c.name : c.kind, code: 400 }));
  return { statuses, results: [] };
}

export function isOldProtocol(msg: SyncML | undefined): boolean {
  return msg?.attrs?.xmlns?.trim() === OLD_NAMESPACE;
}

/**
 * The command with its CmdID replaced by its place in the server message, counting from 1 (the cmdRefsByPosition
 * fault): right only while the server numbers its commands 1, 2, 3 … with nothing skipped.
 */
export function numberedByPosition(command: Command, extras: SessionExtras): Command {
  const at = extras.serverMessage?.body.commands.indexOf(command) ?? -1;
  return at < 0 ? command : ({ ...command, cmdID: String(at + 1) } as Command);
}
