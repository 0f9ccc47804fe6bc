/**
 * Option values several commands share: credentials (`--auth`, `--client-credentials`; `--server-auth`,
 * `--server-credentials`), `--encoding` and `--fault` names.
 */
import type { Credentials } from '../iut/run-config';
import { parseEncoding, type SyncMLEncoding } from '../protocol/encoding';
import { faultByName, type Fault } from '../protocol/fault';
import type { FlagSpec } from './command';
import { many, one, UsageError, userSecret, type ParsedArgs } from './args';

/** The credentials of `--auth` with the given credentials flag; a scheme without credentials is a usage error. */
export function credentialsOf(args: ParsedArgs, flag: 'client-credentials' | 'server-credentials', required = true): Credentials | undefined {
  const auth = one(args, 'auth');
  if (auth === undefined) return undefined;
  if (auth !== 'md5' && auth !== 'basic') throw new UsageError('--auth takes md5 or basic');
  const value = one(args, flag);
  if (!value) {
    if (required) throw new UsageError(`--auth ${auth} needs --${flag} USER:SECRET`);
    return undefined;
  }
  return { scheme: auth === 'md5' ? 'syncml:auth-md5' : 'syncml:auth-basic', ...userSecret(value, `--${flag}`) };
}

/** `--server-auth`, in every command that takes server credentials. */
export const SERVER_AUTH_FLAG: FlagSpec = {
  name: 'server-auth', value: 'md5|basic', default: 'md5 (Windows takes only DIGEST from a server, MDM-AUTH-031)', help: 'the scheme of --server-credentials',
};

/**
 * The server's own credentials (`--server-credentials USER:SECRET`, scheme `--server-auth`, md5 unless given): what a
 * server presents to a device that authenticates it (OMA-DMS 5.3; w7 `CLIENT`, DMAcc `SRVCRED`).
 */
export function serverCredentialsOf(args: ParsedArgs): Credentials | undefined {
  const scheme = one(args, 'server-auth');
  if (scheme !== undefined && scheme !== 'md5' && scheme !== 'basic') throw new UsageError('--server-auth takes md5 or basic');
  const value = one(args, 'server-credentials');
  if (!value) {
    if (scheme) throw new UsageError(`--server-auth ${scheme} needs --server-credentials USER:SECRET (the server's own credentials)`);
    return undefined;
  }
  return { scheme: scheme === 'basic' ? 'syncml:auth-basic' : 'syncml:auth-md5', ...userSecret(value, '--server-credentials') };
}

export function faultsNamed<B>(args: ParsedArgs, catalogue: readonly Fault<B>[]): Fault<B>[] {
  return many(args, 'fault').map((name) => {
    try {
      return faultByName(catalogue, name);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  });
}

/** `--encoding xml|wbxml`, or undefined when not given. */
export function encodingOf(args: ParsedArgs): SyncMLEncoding | undefined {
  const value = one(args, 'encoding');
  if (value === undefined) return undefined;
  const encoding = parseEncoding(value);
  if (!encoding) throw new UsageError(`--encoding takes xml or wbxml, not "${value}"`);
  return encoding;
}
