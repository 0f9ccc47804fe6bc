/**
 * The reference device's DM account in its tree (DMAcc CSP, `./SyncML/DMAcc/{AccountUID}`): the AppAuth entry of the
 * credentials it presents to the server (AAuthLevel `CLCRED`), whose AAuthName and AAuthSecret a server may Replace
 * only nodes that exist). The device reads its credentials from there when a session starts, so a
 * change made during a session takes effect in the next one (MDM-AUTH-030).
 */
import { AuthScheme, type CredScheme } from '../protocol/auth';
import { CLIENT_CREDENTIAL_ENTRY } from '../protocol/credential-change';
import type { AccessType, DmTree } from './tree';

/** The reference device's account node name (on Windows a hash of the w7 PROVIDER-ID; the harness's device names its own). */
export const REFERENCE_DM_ACCOUNT = 'MDMConformance';
/** The AppAuth entry of the reference device's own credentials. */
export const CLIENT_CREDENTIAL_ROOT = `./SyncML/DMAcc/${REFERENCE_DM_ACCOUNT}/AppAuth/${CLIENT_CREDENTIAL_ENTRY}`;
/** The node a server replaces to change the reference device's secret. */
export const CLIENT_CREDENTIAL_SECRET = `${CLIENT_CREDENTIAL_ROOT}/AAuthSecret`;
/** The node a server replaces to change the reference device's user id. */
export const CLIENT_CREDENTIAL_NAME = `${CLIENT_CREDENTIAL_ROOT}/AAuthName`;

const READ_WRITE: readonly AccessType[] = ['Add', 'Get', 'Replace'];
/** A secret is written, never read back. */
const WRITE_ONLY: readonly AccessType[] = ['Add', 'Replace'];

/**
 * Puts the account with the device's credentials into the tree, unless it is there already (a tree shared by devices
 * that play one client keeps what a server changed).
 */
export function provisionAccount(tree: DmTree, creds: { scheme: CredScheme | typeof AuthScheme.Mac; user: string; password: string }): void {
  if (tree.has(CLIENT_CREDENTIAL_ROOT)) return;
  const interior = (uri: string) => {
    if (!tree.has(uri)) tree.define(uri, { format: 'node', access: ['Get'] });
  };
  for (const uri of ['./SyncML', './SyncML/DMAcc', `./SyncML/DMAcc/${REFERENCE_DM_ACCOUNT}`, `./SyncML/DMAcc/${REFERENCE_DM_ACCOUNT}/AppAuth`, CLIENT_CREDENTIAL_ROOT]) interior(uri);
  const leaf = (name: string, value: string, access = READ_WRITE) => tree.define(`${CLIENT_CREDENTIAL_ROOT}/${name}`, { format: 'chr', access, value });
  leaf('AAuthLevel', CLIENT_CREDENTIAL_ENTRY);
  leaf('AAuthType', creds.scheme === AuthScheme.Md5 ? 'DIGEST' : creds.scheme === AuthScheme.Mac ? 'HMAC' : 'BASIC');
  leaf('AAuthName', creds.user);
  leaf('AAuthSecret', creds.password, WRITE_ONLY);
}

/** The user id and secret the account holds now: what the device presents in its next session. */
export function accountCredentials(tree: DmTree): { user?: string; password?: string } {
  const user = tree.lookup(CLIENT_CREDENTIAL_NAME)?.value;
  const password = tree.lookup(CLIENT_CREDENTIAL_SECRET)?.value;
  return { ...(user !== undefined ? { user } : {}), ...(password !== undefined ? { password } : {}) };
}
