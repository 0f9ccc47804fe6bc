/** Option values several commands share: credentials (`--auth`, `--client-credentials`), `--encoding` and `--fault` names. */
import type { Credentials } from '../iut/run-config';
import { parseEncoding, type SyncMLEncoding } from '../protocol/encoding';
import { faultByName, type Fault } from '../protocol/fault';
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
