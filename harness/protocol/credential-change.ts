/**
 * Changes of the client's application-level credentials made through the DM tree (OMA-DMS 5.4.3, MDM-AUTH-030).
 *
 * A Windows device keeps its DM account in the DMAcc CSP, `./SyncML/DMAcc/{AccountUID}`; each `AppAuth/{ObjectName}`
 * entry holds one set of credentials, `AAuthLevel` saying whose (`CLCRED`: what the client presents to the server;
 * `SRVCRED`: what the server presents to the client), with `AAuthType`, `AAuthName`, `AAuthSecret` and `AAuthData`
 * . A server changes the client's user id or secret with a Replace of `AAuthName` or `AAuthSecret` of the
 * CLCRED entry; the change takes effect only in later sessions: the rest of the session goes on with the old
 * credentials on both sides.
 *
 * The reference peers name the client's entry `CLCRED` after its level; the AccountUID is the device's choice (a
 * hash of the w7 PROVIDER-ID on Windows), so any account matches.
 */
import type { Command } from '../syncml';
import type { ServerEvent } from './server-session';

/** The name of the AppAuth entry of the credentials the client presents (its AAuthLevel, DMAcc CSP). */
export const CLIENT_CREDENTIAL_ENTRY = 'CLCRED';

const CREDENTIAL_NODE = /^\.\/(?:SyncML|Vendor\/MSFT)\/DMAcc\/[^/]+\/AppAuth\/([^/]+)\/(AAuthName|AAuthSecret)$/;

/** Which part of the client's credentials a change sets. */
export type CredentialField = 'user' | 'password';

export interface CredentialChange {
  field: CredentialField;
  value: string;
  /** The node the change was addressed to. */
  uri: string;
}

/** The part of the client's credentials a node holds: AAuthName (user) or AAuthSecret (password) of its CLCRED entry. */
export function clientCredentialField(uri: string): CredentialField | undefined {
  const m = CREDENTIAL_NODE.exec(uri.trim());
  if (!m || m[1] !== CLIENT_CREDENTIAL_ENTRY) return undefined;
  return m[2] === 'AAuthName' ? 'user' : 'password';
}

/** The changes of the client's credentials a command makes: a Replace (or Add) of AAuthName/AAuthSecret, members of Atomic and Sequence included. */
export function credentialChangesIn(command: Command): CredentialChange[] {
  if (command.kind === 'Atomic' || command.kind === 'Sequence') return command.commands.flatMap(credentialChangesIn);
  if (command.kind !== 'Replace' && command.kind !== 'Add') return [];
  return command.items.flatMap((it) => {
    const uri = it.target?.locURI?.trim() ?? '';
    const field = clientCredentialField(uri);
    return field ? [{ field, value: it.data?.text ?? '', uri }] : [];
  });
}

/**
 * The changes the device took: each Status 200 in `events` that answers a Replace (or Add) of the client's
 * credentials the server sent. A refused change (any other code) changes nothing.
 */
export function acceptedCredentialChanges(events: readonly ServerEvent[]): CredentialChange[] {
  return events.flatMap((e) => (e.type === 'status' && e.code === '200' && e.answers ? credentialChangesIn(e.answers.command) : []));
}

/** Credentials with the changes applied in order. */
export function withCredentialChanges<T extends { user: string; password: string }>(creds: T, changes: readonly CredentialChange[]): T {
  const out = { ...creds };
  for (const c of changes) out[c.field] = c.value;
  return out;
}
