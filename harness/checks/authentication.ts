/**
 * Application-level authentication as the wire shows it, in both directions (OMA-DMP 9, OMA-DMS 5.3; catalogue 3.9):
 * each party may present credentials (`SyncHdr/Cred`) and may authenticate the other (the `Status` for the other's
 * `SyncHdr`: 212 or 200 accepts, 401/407 with a `Chal` refuses). The same rules bind the server in server mode and
 * the device in client mode; which rows a side is judged on is the caller's choice (`ids`).
 *
 * Only what needs no secret is judged here: codes, challenges, schemes, nonce handling and the HMAC header's form.
 * Whether a digest is right needs the credentials and is the scenarios' business.
 */
import { isBase64, parseHmacHeader, HMAC_HEADER } from '../protocol/auth';
import { codeOf, metaValue, type Status, type SyncML } from '../syncml';
import { numberKey } from './compare';
import type { Judge } from './finding';
import { commandsWithPaths, messagesOf, trimmed, type AnySessionView, type Party, type WireMessage } from './session';

const BASIC = 'syncml:auth-basic';
const MD5 = 'syncml:auth-md5';
const MAC = 'syncml:auth-MAC';
const MIN_NONCE_OCTETS = 16;

/** The Status a message carries for the SyncHdr of the other party's message. */
export function headerStatus(msg: SyncML): Status | undefined {
  return msg.body.commands.find((c): c is Status => c.kind === 'Status' && numberKey(c.cmdRef) === '0');
}

/** `Meta/Type` of a Cred or Chal, trimmed. */
const typeOf = (meta: Parameters<typeof metaValue>[0]) => metaValue(meta, 'Type')?.trim();

function octets(nonce: string): number | undefined {
  return isBase64(nonce) ? Buffer.from(nonce, 'base64').length : undefined;
}

/**
 * `Cred` of one message: Meta Type basic or md5 and Format b64 (mandatory for md5) with Data (MDM-AUTH-013); Cred
 * sits in the SyncHdr, never in a command (MDM-HDR-015).
 */
export function judgeCredentials(m: WireMessage, judge: Judge, ids: { cred?: boolean; inCommand?: boolean }): void {
  const msg = m.syncml;
  if (!msg) return;
  const cred = msg.hdr.cred;
  if (cred && ids.cred) {
    judge.saw('MDM-AUTH-013');
    const type = typeOf(cred.meta);
    const format = metaValue(cred.meta, 'Format')?.trim();
    const data = trimmed(cred.data?.text);
    if (type === MAC) {
      // A MAC in Cred is MDM-AUTH-027's (judgeAuthentication), not a malformed Cred.
    } else if (type !== BASIC && type !== MD5) {
      judge.fail('MDM-AUTH-013', m, '/SyncHdr/Cred/Meta/Type', `Type ${type ? `"${type}"` : 'missing'}; a Cred is syncml:auth-basic or syncml:auth-md5`);
    } else if (type === MD5 && format !== 'b64') {
      judge.fail('MDM-AUTH-013', m, '/SyncHdr/Cred/Meta/Format', `Format ${format ? `"${format}"` : 'missing'} on an md5 Cred; it is mandatory and b64`);
    } else if (format !== undefined && format !== 'b64') {
      judge.fail('MDM-AUTH-013', m, '/SyncHdr/Cred/Meta/Format', `Format "${format}"; a Cred is b64`);
    } else if (!data || !isBase64(data)) {
      judge.fail('MDM-AUTH-013', m, '/SyncHdr/Cred/Data', `Data ${data ? `"${data.slice(0, 40)}"` : 'missing'} is not base64`);
    } else if (type === MD5 && octets(data) !== 16) {
      judge.fail('MDM-AUTH-013', m, '/SyncHdr/Cred/Data', `an md5 digest decodes to 16 octets, this one to ${octets(data)}`);
    }
  }
  if (!ids.inCommand) return;
  if (cred) judge.saw('MDM-HDR-015');
  for (const { command, path } of commandsWithPaths(msg.body.commands)) {
    if (command.kind === 'Status' || !('cred' in command) || !command.cred) continue;
    judge.saw('MDM-HDR-015');
    judge.fail('MDM-HDR-015', m, `${path}/Cred`, 'Cred inside a command; credentials belong in the SyncHdr');
  }
}

interface Challenge {
  type?: string;
  at: WireMessage;
}

/**
 * The rules of one party `judged` over a session, as presenter of its own credentials and as authenticator of the
 * other's. Rows not in `ids` are not reported.
 */
export function judgeAuthentication(session: AnySessionView, judged: Party, judge: Judge, ids: ReadonlySet<string>): void {
  const on = (id: string) => ids.has(id);
  const other: Party = judged === 'device' ? 'server' : 'device';
  const who = judged === 'device' ? 'the device' : 'the server';
  const peer = judged === 'device' ? 'the server' : 'the device';
  let lastOther: WireMessage | undefined;
  let lastOwn: WireMessage | undefined;
  // As authenticator of the other party.
  const issued: string[] = [];
  let challenged: Challenge | undefined;
  let acceptedType: string | undefined;
  let gave212 = false;
  let acceptedMd5: WireMessage | undefined;
  let handedNonce = false;
  // As presenter of its own credentials.
  let challengedBy: Challenge | undefined;
  let wantsCredAgain: WireMessage | undefined;
  let ownAcceptedType: string | undefined;
  // HMAC.
  let macSince: WireMessage | undefined;

  for (const m of messagesOf(session)) {
    const msg = m.syncml;
    if (!msg) continue;
    const status = headerStatus(msg);
    const code = status ? codeOf(status) ?? '' : '';
    const chalType = typeOf(status?.chal?.meta);
    const nonce = metaValue(status?.chal?.meta, 'NextNonce')?.trim();
    if (m.from === other) {
      // The other party's verdict on our last message and its credentials.
      const ownCred = lastOwn?.syncml?.hdr.cred;
      if ((code === '401' || code === '407') && status?.chal) challengedBy = { type: chalType, at: m };
      if ((code === '200' || code === '212') && ownCred) ownAcceptedType ??= typeOf(ownCred.meta);
      if (code === '200' && ownCred && nonce) wantsCredAgain = m;
      lastOther = m;
      continue;
    }

    // --- the judged party's message: its credentials ---
    const cred = msg.hdr.cred;
    const credType = cred ? typeOf(cred.meta) : undefined;
    if (credType === MAC && on('MDM-AUTH-027')) {
      judge.saw('MDM-AUTH-027');
      judge.fail('MDM-AUTH-027', m, '/SyncHdr/Cred/Meta/Type', 'syncml:auth-MAC in Cred; an HMAC travels in the x-syncml-hmac HTTP header, never in Cred');
    }
    if (on('MDM-AUTH-031') && judged === 'server' && cred) {
      judge.saw('MDM-AUTH-031');
      if (credType !== MD5) judge.fail('MDM-AUTH-031', m, '/SyncHdr/Cred/Meta/Type', `the server presents ${credType ?? 'a Cred without Type'}; what a server presents to a Windows client is DIGEST (syncml:auth-md5) only`);
    }
    if (challengedBy && on('MDM-AUTH-025')) {
      const asked = challengedBy.type;
      if (cred) {
        judge.saw('MDM-AUTH-025');
        if (asked && credType !== asked) judge.fail('MDM-AUTH-025', m, '/SyncHdr/Cred/Meta/Type', `${peer} challenged for ${asked} (msg ${challengedBy.at.n}) and ${who} answered with ${credType ?? 'a Cred without Type'}`);
      } else if (judged === 'server') {
        judge.saw('MDM-AUTH-025');
        judge.fail('MDM-AUTH-025', m, '/SyncHdr', `${peer} challenged the server's credentials (${asked ?? 'no scheme named'}, msg ${challengedBy.at.n}) and the server's next message carries no Cred`);
      }
    }
    challengedBy = undefined;
    if (wantsCredAgain && on('MDM-AUTH-009')) {
      judge.saw('MDM-AUTH-009');
      if (!cred) judge.fail('MDM-AUTH-009', m, '/SyncHdr', `${peer} accepted the credentials with 200 and a new nonce (msg ${wantsCredAgain.n}), so this message must carry them again; it has no Cred`);
    }
    wantsCredAgain = undefined;
    if (ownAcceptedType && cred && on('MDM-AUTH-011')) {
      judge.saw('MDM-AUTH-011');
      if (credType !== ownAcceptedType) judge.fail('MDM-AUTH-011', m, '/SyncHdr/Cred/Meta/Type', `${who} authenticated with ${ownAcceptedType} and now presents ${credType ?? 'a Cred without Type'}; the scheme does not change within the session`);
    }
    judgeHmac(m, lastOther, judge, on, () => macSince, (x) => (macSince ??= x));

    // --- the judged party's verdict on the other's last message ---
    if (status && lastOther?.syncml) {
      const theirs = lastOther.syncml.hdr.cred;
      const theirType = theirs ? typeOf(theirs.meta) : undefined;
      const at = `/SyncBody/Status[${msg.body.commands.filter((c) => c.kind === 'Status').indexOf(status) + 1}]`;
      // MDM-AUTH-008: once 212 was given, every later message of the other party is one that needs no Cred.
      if (gave212 && on('MDM-AUTH-008')) judge.saw('MDM-AUTH-008');
      if (challenged && theirs) {
        // MDM-AUTH-025 (and, for an md5 challenge of a server's, MDM-AUTH-026): an answer in another scheme is not taken.
        const otherScheme = challenged.type !== undefined && theirType !== challenged.type;
        const accepted = code === '200' || code === '212';
        for (const id of ['MDM-AUTH-025', ...(judged === 'server' && challenged.type === MD5 ? ['MDM-AUTH-026'] : [])]) {
          if (!on(id)) continue;
          judge.saw(id);
          if (otherScheme && accepted) judge.fail(id, m, `${at}/Data`, `${who} challenged for ${challenged.type} (msg ${challenged.at.n}) and accepted (${code}) a Cred of ${theirType ?? 'no Type'}; an answer in another scheme ends the session`);
        }
      }
      if (code === '401' || code === '407') {
        if (on('MDM-AUTH-004')) {
          judge.saw('MDM-AUTH-004');
          if (!status.chal) judge.fail('MDM-AUTH-004', m, at, `Status ${code} for ${peer}'s SyncHdr without a Chal naming the scheme`);
        }
        if (on('MDM-AUTH-005')) {
          judge.saw('MDM-AUTH-005');
          // An HMAC in x-syncml-hmac is credentials carried too (OMA-DMS 5.4: an invalid one is an authentication failure).
          const carried = theirs ? 'a Cred' : headerValue(lastOther, HMAC_HEADER) !== undefined ? 'an x-syncml-hmac' : undefined;
          if (code === '407' && carried) judge.fail('MDM-AUTH-005', m, `${at}/Data`, `407 (credentials missing) for msg ${lastOther.n}, which carried ${carried}: refused credentials are answered 401`);
          if (code === '401' && !carried) judge.fail('MDM-AUTH-005', m, `${at}/Data`, `401 (credentials refused) for msg ${lastOther.n}, which carried no Cred: missing credentials are answered 407`);
        }
        if (gave212 && on('MDM-AUTH-008') && !theirs) {
          judge.fail('MDM-AUTH-008', m, `${at}/Data`, `${who} answered 212 earlier in the session, so ${peer} needs no further Cred; yet msg ${lastOther.n} without Cred is challenged ${code}`);
        }
        if (code === '401' && theirs && on('MDM-AUTH-022')) {
          judge.saw('MDM-AUTH-022');
          if (nonce && issued.includes(nonce)) judge.fail('MDM-AUTH-022', m, `${at}/Chal/Meta/NextNonce`, `the challenge after refused credentials re-issues the nonce ${nonce}, already handed out in this session; the one more challenge carries a fresh nonce`);
        }
        challenged = { type: chalType, at: m };
      } else if ((code === '200' || code === '212') && theirs) {
        acceptedType ??= theirType;
        if (code === '212') gave212 = true;
        if (theirType === MD5) acceptedMd5 ??= m;
        challenged = undefined;
      }
      if (status.chal) {
        if (chalType === MD5 || chalType === MAC) {
          if (on('MDM-AUTH-018')) {
            judge.saw('MDM-AUTH-018');
            if (metaValue(status.chal.meta, 'Format')?.trim() !== 'b64' || !nonce || !isBase64(nonce)) judge.fail('MDM-AUTH-018', m, `${at}/Chal`, `a ${chalType} Chal needs Meta Format b64 and a base64 NextNonce`);
          }
          if (nonce && on('MDM-AUTH-021')) {
            judge.saw('MDM-AUTH-021');
            const n = octets(nonce);
            if (n !== undefined && n < MIN_NONCE_OCTETS) judge.warn('MDM-AUTH-021', m, `${at}/Chal/Meta/NextNonce`, `a nonce of ${n} octets; nonces should be at least 16 random octets (128 bits)`);
          }
        }
        if (acceptedType && on('MDM-AUTH-011') && (code === '200' || code === '212' || code === '401' || code === '407')) {
          judge.saw('MDM-AUTH-011');
          if (chalType !== acceptedType) judge.fail('MDM-AUTH-011', m, `${at}/Chal/Meta/Type`, `${peer} authenticated with ${acceptedType}, and ${who} now names ${chalType ?? 'no scheme'}; the scheme does not change within the session`);
        }
        if (on('MDM-AUTH-031') && judged === 'device') {
          judge.saw('MDM-AUTH-031');
          if (chalType !== MD5) judge.fail('MDM-AUTH-031', m, `${at}/Chal/Meta/Type`, `the device asks the server for ${chalType ?? 'no scheme'}; Windows takes DIGEST (syncml:auth-md5) only from a server`);
        }
        if (on('MDM-AUTH-001') && judged === 'server') {
          judge.saw('MDM-AUTH-001');
          if (chalType !== BASIC && chalType !== MD5 && chalType !== MAC) judge.fail('MDM-AUTH-001', m, `${at}/Chal/Meta/Type`, `the server asks for ${chalType ?? 'no scheme'}; application-level client authentication is syncml:auth-basic or syncml:auth-md5`);
        }
        if (nonce) issued.push(nonce);
        // The nonce for the next session comes with an acceptance; a challenge's nonce is for the answer to it.
        if (nonce && (code === '200' || code === '212')) handedNonce = true;
      }
    }
    lastOwn = m;
  }
  // MDM-AUTH-020: a Windows client that authenticated the server with MD5 hands it the nonce for the next session.
  if (acceptedMd5 && on('MDM-AUTH-020')) {
    judge.saw('MDM-AUTH-020');
    if (!handedNonce) judge.fail('MDM-AUTH-020', acceptedMd5, '/SyncBody/Status[1]', 'the device accepted the server\'s MD5 credentials and handed it no nonce for the next session in any Status (Chal/Meta/NextNonce)');
  }
}

/**
 * `x-syncml-hmac` (MDM-AUTH-027..029): the header's form and user (the SyncHdr Source LocName), HMAC on every later
 * message once in use, and an authenticated HMAC message answered 200 with a new NextNonce. The mac itself needs the
 * secret and is not judged here.
 */
function judgeHmac(m: WireMessage, answered: WireMessage | undefined, judge: Judge, on: (id: string) => boolean, since: () => WireMessage | undefined, start: (m: WireMessage) => void): void {
  const header = headerValue(m, HMAC_HEADER);
  if (header !== undefined) {
    start(m);
    if (on('MDM-AUTH-028')) {
      judge.saw('MDM-AUTH-028');
      const parsed = parseHmacHeader(header);
      if (!parsed.ok) judge.fail('MDM-AUTH-028', m, HMAC_HEADER, parsed.error);
      else if (parsed.header.username !== trimmed(m.syncml?.hdr.source?.locName)) {
        judge.fail('MDM-AUTH-028', m, HMAC_HEADER, `username "${parsed.header.username}" is not the SyncHdr Source LocName "${trimmed(m.syncml?.hdr.source?.locName)}"`);
      }
    }
    if (on('MDM-AUTH-027')) judge.saw('MDM-AUTH-027');
  } else if (since() && on('MDM-AUTH-029')) {
    judge.saw('MDM-AUTH-029');
    judge.fail('MDM-AUTH-029', m, HMAC_HEADER, `no x-syncml-hmac, though this party has sent it since msg ${since()!.n}; once in use it is on every later message`);
  }
  // The answer to an HMAC message of the other party: 200 (not 212) and a nonce for the next message.
  if (!answered || headerValue(answered, HMAC_HEADER) === undefined || !m.syncml || !on('MDM-AUTH-029')) return;
  const status = headerStatus(m.syncml);
  const code = status ? codeOf(status) ?? '' : '';
  if (!code.startsWith('2')) return;
  judge.saw('MDM-AUTH-029');
  const nonce = metaValue(status?.chal?.meta, 'NextNonce')?.trim();
  if (code !== '200' || !nonce) judge.fail('MDM-AUTH-029', m, '/SyncBody/Status[1]', `msg ${answered.n}, authenticated by HMAC, answered ${code}${nonce ? '' : ' without a NextNonce'}; HMAC is answered 200 with a new nonce for every message`);
}

function headerValue(m: WireMessage, name: string): string | undefined {
  const headers = m.http?.headers;
  if (!headers) return undefined;
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : headers[key];
}
