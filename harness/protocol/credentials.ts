/** SyncHdr `Cred` for the application-level schemes (catalogue 3.9, MDM-AUTH-013..016), in either direction. */
import { createHash } from 'node:crypto';
import { cred, type Cred } from '../syncml';
import { basicCredential, decodeNonce, md5Digest, md5DigestFromHash, type CredScheme } from './auth';

export type { CredScheme };

/** Known ways of getting a credential wrong, reproduced by faults of the reference peers. */
export interface CredentialShape {
  /** Hash the base64 text of the nonce rather than its bytes (the mistake MDM-AUTH-016 warns about). */
  nonceAsText?: boolean;
  /** Leave the user id out: B64(password) for basic (MDM-AUTH-014), B64(MD5(password)) as the md5 secret (MDM-AUTH-015). */
  passwordOnly?: boolean;
}

export function credentialFor(c: { scheme: CredScheme; user: string; password: string; nonce?: string }, opts: CredentialShape = {}): Cred {
  const nonce = opts.nonceAsText ? new Uint8Array(Buffer.from(c.nonce ?? '', 'utf8')) : nonceBytes(c.nonce ?? '');
  if (c.scheme !== 'syncml:auth-md5') {
    return cred(c.scheme, opts.passwordOnly ? Buffer.from(c.password, 'utf8').toString('base64') : basicCredential(c.user, c.password));
  }
  if (!opts.passwordOnly) return cred(c.scheme, md5Digest(c.user, c.password, nonce));
  const passwordHash = createHash('md5').update(Buffer.from(c.password, 'utf8')).digest('base64');
  return cred(c.scheme, md5DigestFromHash(passwordHash, nonce));
}

/** A nonce that is not base64 is hashed as its text, so a peer's malformed nonce fails auth instead of the engine. */
export function nonceBytes(b64: string): Uint8Array {
  try {
    return decodeNonce(b64);
  } catch {
    return new Uint8Array(Buffer.from(b64, 'utf8'));
  }
}
