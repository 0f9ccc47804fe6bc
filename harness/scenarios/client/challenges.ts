/**
 * What the client auth scenarios read off a session: the reference server's challenges with the client message that
 * answers each, and which nonce an MD5 digest was made from.
 */
import { trimmed, type WireMessage } from '../../checks/session';
import { decodeNonce, md5Digest } from '../../protocol/auth';
import { codeOf, metaValue, type Status, type SyncML } from '../../syncml';
import type { ClientRun, ClientUnderTest } from './target';

export interface Challenge {
  /** The server message carrying the 401/407 and its Chal. */
  at: WireMessage;
  msg: SyncML;
  code: string;
  type?: string;
  nonce?: string;
  /** The device message that followed, if any. */
  reply?: WireMessage;
}

export function challengesOf(run: ClientRun): Challenge[] {
  const out: Challenge[] = [];
  run.view.exchanges.forEach((x, i) => {
    const msg = x.response?.syncml;
    const hdr = msg?.body.commands.find((c): c is Status => c.kind === 'Status' && trimmed(c.cmdRef) === '0');
    const code = hdr && codeOf(hdr);
    if (!msg || !hdr?.chal || (code !== '401' && code !== '407')) return;
    out.push({
      at: x.response!, msg, code, type: metaValue(hdr.chal.meta, 'Type'), nonce: metaValue(hdr.chal.meta, 'NextNonce'), reply: run.view.exchanges[i + 1]?.request,
    });
  });
  return out;
}

export type Creds = NonNullable<ClientUnderTest['credentials']>;

function nonceBytes(nonce: string, asText: boolean): Uint8Array {
  return asText ? new Uint8Array(Buffer.from(nonce, 'utf8')) : decodeNonce(nonce);
}

/** Which of the nonces a digest was made with, and how (over the decoded bytes, or wrongly over the base64 text). */
export function digestNonce(data: string, creds: Creds, nonces: string[]): { nonce: string; asText: boolean } | undefined {
  for (const nonce of [...nonces].reverse()) {
    for (const asText of [false, true]) {
      try {
        if (md5Digest(creds.user, creds.password, nonceBytes(nonce, asText)) === data) return { nonce, asText };
      } catch {
        // not a base64 nonce
      }
    }
  }
  return undefined;
}

