/**
 * HMAC integrity (`syncml:auth-MAC`, OMA-DMS 5.4) as the reference peers apply it around their session engines.
 * The mac covers the exact bytes sent, so it is made where a message is encoded, never inside the sans-IO engines:
 * `hmacHeaderFor` signs an encoded body, `withMacInCred` reproduces the mistake of carrying it in `Cred`, and
 * `ServerHmac` is the server's side of one session: it verifies the device's header, answers each authenticated
 * message 200 with a new nonce, and signs the server's own replies with the nonce the device handed it.
 *
 * Catalogue: MDM-AUTH-027 (header, never Cred; mac over the exact body), MDM-AUTH-028 (header form, username =
 * SyncHdr Source LocName), MDM-AUTH-029 (every later message; 200 and a new NextNonce; missing or invalid is an
 * authentication failure).
 */
import { AuthScheme, formatHmacHeader, HMAC_HEADER, hmacMac, isBase64, parseHmacHeader } from './auth';
import { nonceBytes } from './credentials';
import { chal, codeOf, cred, metaValue, type Chal, type Status, type SyncML } from '../syncml';

/** What one side makes its mac from: its user id and secret, and the nonce (base64) the other side last gave it. */
export interface HmacKey {
  user: string;
  password: string;
  nonce: string;
}

/**
 * How a peer writes its header: `username` is the SyncHdr Source LocName when conforming; `omitted` leaves the
 * parameter out and a string names another user (the MDM-AUTH-028 faults).
 */
export type HmacUsername = 'locName' | 'omitted' | { other: string };

const bytesOf = (body: string | Uint8Array): Uint8Array => (typeof body === 'string' ? new Uint8Array(Buffer.from(body, 'utf8')) : body);

/** The mac of an encoded body, as OMA-DMS 5.4 defines it (MDM-AUTH-027). */
export function macOf(body: string | Uint8Array, key: HmacKey): string {
  return hmacMac(key.user, key.password, nonceBytes(key.nonce), bytesOf(body));
}

/** `x-syncml-hmac: algorithm=MD5, username="<LocName>", mac=<…>` over `body` (MDM-AUTH-028). */
export function hmacHeaderFor(body: string | Uint8Array, key: HmacKey, username: HmacUsername = 'locName'): string {
  const mac = macOf(body, key);
  if (username === 'omitted') return `algorithm=MD5, mac=${mac}`;
  return formatHmacHeader({ algorithm: 'MD5', username: username === 'locName' ? key.user : username.other, mac });
}

/**
 * The MDM-AUTH-027 mistake: the mac, made over the message as it would go without it, carried in a SyncHdr `Cred`
 * of Type `syncml:auth-MAC` instead of the HTTP header. `encode` turns a message into the bytes that are sent.
 */
export function withMacInCred(msg: SyncML, key: HmacKey, encode: (m: SyncML) => string | Uint8Array): SyncML {
  const mac = macOf(encode(msg), key);
  const out = structuredClone(msg);
  out.hdr.cred = cred(AuthScheme.Mac, mac);
  out.hdr.source = { ...(out.hdr.source ?? { locURI: '' }), locName: key.user };
  return out;
}

/** A header value by case-insensitive name. */
export function headerIn(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : headers[key];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** The Status a message carries for the other party's SyncHdr. */
function headerStatusOf(msg: SyncML): Status | undefined {
  return msg.body.commands.find((c): c is Status => c.kind === 'Status' && c.cmdRef?.trim() === '0');
}

/** Whether a mac in a received header is the one `key` makes over `body` (never throws: the header is peer input). */
export function macVerifies(header: string, body: string | Uint8Array, key: HmacKey, locName: string | undefined): { ok: true } | { ok: false; why: string } {
  const parsed = parseHmacHeader(header);
  if (!parsed.ok) return { ok: false, why: parsed.error };
  if (parsed.header.username !== locName?.trim()) return { ok: false, why: `username "${parsed.header.username}" is not the SyncHdr Source LocName "${locName?.trim() ?? ''}"` };
  if (parsed.header.username !== key.user) return { ok: false, why: `username "${parsed.header.username}" is not the user "${key.user}"` };
  if (!isBase64(key.nonce)) return { ok: false, why: 'no nonce was handed for this mac' };
  return macOf(body, key) === parsed.header.mac ? { ok: true } : { ok: false, why: `mac ${parsed.header.mac} is not the one the secret and the nonce ${key.nonce} make over the body` };
}

/** How the server's side of HMAC can go wrong (faults of the reference server). */
export interface ServerHmacBehaviour {
  /** The code for an authenticated HMAC message: 200 with a new NextNonce (MDM-AUTH-029), or 212 without one. */
  hmacAnswer: '200' | '212';
  /** The username of the server's own header (MDM-AUTH-028). */
  hmacOwnUsername: 'locName' | 'omitted';
  /** Where the server's own mac goes: the header, or a SyncHdr Cred (the MDM-AUTH-027 mistake). */
  hmacOwnPlacement: 'header' | 'cred';
}

export const CONFORMING_SERVER_HMAC: ServerHmacBehaviour = { hmacAnswer: '200', hmacOwnUsername: 'locName', hmacOwnPlacement: 'header' };

/** The server's verdict on one device message, in the terms of the session engine's SyncHdr Status. */
export interface IntegrityVerdict {
  ok: boolean;
  code: '200' | '212' | '401' | '407';
  chal?: Chal;
  /** What the session's event log records; none for a message of a session already authenticated. */
  outcome?: 'challenged' | 'refused' | 'accepted';
}

export interface ServerHmacOptions {
  /** The device's user id and secret; without them the server takes no HMAC. */
  client?: { user: string; password: string };
  /** The server requires HMAC of the device and challenges with `syncml:auth-MAC`; otherwise it takes HMAC from a device that uses it. */
  required: boolean;
  /** The nonce (base64) the device was handed for this session, shared with MD5 (one nonce per account). */
  nonce?: string;
  /** Told each nonce handed with an acceptance: the device opens its next session with the last one. */
  onNextNonce?: (nonce: string) => void;
  /** A fresh nonce (the run's seeded generator). */
  newNonce: () => string;
  /** The server's own user id and secret, for its own header once the device hands it a nonce. */
  own?: { user: string; password: string };
  behaviour?: Partial<ServerHmacBehaviour>;
}

/** The server's side of HMAC in one session. */
export class ServerHmac {
  /** The device has authenticated a message with HMAC: from now on every message must be (MDM-AUTH-029). */
  inUse = false;
  private nonce: string | undefined;
  /** The nonce the device handed for the server's own next mac (its Status Chal of Type syncml:auth-MAC). */
  private ownNonce: string | undefined;
  /** The MDM-AUTH-029 fault: HMAC taken like a Cred, 212 once and never checked again. */
  private settled = false;
  private readonly behaviour: ServerHmacBehaviour;

  constructor(private readonly opts: ServerHmacOptions) {
    this.nonce = opts.nonce;
    this.behaviour = { ...CONFORMING_SERVER_HMAC, ...opts.behaviour };
  }

  /**
   * The verdict on a device message: undefined when HMAC plays no part (the session engine authenticates as
   * configured). `body` is the request body exactly as received.
   */
  judge(msg: SyncML, body: string | Uint8Array, headers: Record<string, string | string[] | undefined>): IntegrityVerdict | undefined {
    const status = headerStatusOf(msg);
    const handed = metaValue(status?.chal?.meta, 'Type')?.trim() === AuthScheme.Mac ? metaValue(status?.chal?.meta, 'NextNonce')?.trim() : undefined;
    if (handed && (codeOf(status!) === '200' || codeOf(status!) === '212')) this.ownNonce = handed;
    const client = this.opts.client;
    if (!client) return undefined;
    if (this.settled) return { ok: true, code: '200' };
    const header = headerIn(headers, HMAC_HEADER);
    if (header === undefined) {
      if (!this.inUse && !this.opts.required) return undefined;
      // Missing once in use, or never sent to a server that requires it: an authentication failure (MDM-AUTH-029).
      // A Cred in its place (another scheme, or a MAC where the header belongs: MDM-AUTH-027) is refused, not missing.
      return msg.hdr.cred ? this.challenge('401', 'refused') : this.challenge('407', 'challenged');
    }
    const key = { ...client, nonce: this.nonce ?? '' };
    if (!macVerifies(header, body, key, msg.hdr.source?.locName).ok) return this.challenge('401', 'refused');
    this.inUse = true;
    if (this.behaviour.hmacAnswer === '212') {
      this.settled = true;
      return { ok: true, code: '212', outcome: 'accepted' };
    }
    // MDM-AUTH-029: 200 and a new nonce for the next message, which is also the nonce of the next session.
    this.nonce = this.opts.newNonce();
    this.opts.onNextNonce?.(this.nonce);
    return { ok: true, code: '200', chal: chal(AuthScheme.Mac, this.nonce), outcome: 'accepted' };
  }

  private challenge(code: '401' | '407', outcome: 'challenged' | 'refused'): IntegrityVerdict {
    this.nonce = this.opts.newNonce(); // MDM-AUTH-022: a fresh nonce with every challenge
    return { ok: false, code, chal: chal(AuthScheme.Mac, this.nonce), outcome };
  }

  /** The key of the server's own mac for its next reply: HMAC in use and a nonce handed by the device. */
  ownKey(): HmacKey | undefined {
    const own = this.opts.own;
    return own && this.inUse && this.ownNonce ? { ...own, nonce: this.ownNonce } : undefined;
  }

  /** The reply as it goes with the server's own mac: LocName set, or (the fault) the mac in Cred. */
  prepareReply(reply: SyncML, encode: (m: SyncML) => string | Uint8Array): SyncML {
    const key = this.ownKey();
    if (!key) return reply;
    const named: SyncML = { ...reply, hdr: { ...reply.hdr, source: { ...(reply.hdr.source ?? { locURI: '' }), locName: key.user } } };
    return this.behaviour.hmacOwnPlacement === 'cred' ? withMacInCred(named, key, encode) : named;
  }

  /** The server's own `x-syncml-hmac` over the reply body, when it sends one. */
  headerForReply(body: string | Uint8Array): string | undefined {
    const key = this.ownKey();
    if (!key || this.behaviour.hmacOwnPlacement === 'cred') return undefined;
    return hmacHeaderFor(body, key, this.behaviour.hmacOwnUsername === 'omitted' ? 'omitted' : 'locName');
  }
}
