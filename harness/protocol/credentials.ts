/** SyncHdr `Cred` for the application-level schemes (catalogue 3.9, MDM-AUTH-013..016). */
import { cred, type Cred } from '../syncml';
import { basicCredential, decodeNonce, md5Digest, type CredScheme } from './auth';

export type { CredScheme };

/** `nonceAsText` reproduces a known client bug: hashing the base64 text of the nonce rather than its bytes. */
export function credentialFor(c: { scheme: CredScheme; user: string; password: string; nonce?: string }, opts: { nonceAsText?: boolean } = {}): Cred {
  const nonce = opts.nonceAsText ? new Uint8Array(Buffer.from(c.nonce ?? '', 'utf8')) : nonceBytes(c.nonce ?? '');
  const value = c.scheme === 'syncml:auth-md5'
    ? md5Digest(c.user, c.password, nonce)
    : basicCredential(c.user, c.password);
  return cred(c.scheme, value);
}

/** A nonce that is not base64 is hashed as its text, so a peer's malformed nonce fails auth instead of the engine. */
function nonceBytes(b64: string): Uint8Array {
  try {
    return decodeNonce(b64);
  } catch {
    return new Uint8Array(Buffer.from(b64, 'utf8'));
  }
}
