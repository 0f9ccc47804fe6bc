/**
 * The passive authentication rules (checks/authentication.ts) on sessions built by hand: each rule passes on a
 * correct exchange and fails, with a precise message, on a broken one. The HMAC rows (MDM-AUTH-027..029) are shown
 * here on hand-built headers; hmac-integrity.spec.ts shows them between the reference peers.
 */
import { expect, test } from '@playwright/test';
import { deviceAuthenticates, deviceMessagesAreWellFormed } from '../../harness/checks/client-checks';
import { runChecks, type Check, type Finding } from '../../harness/checks/finding';
import { serverAuthenticates } from '../../harness/checks/server-checks';
import { sessionFromMessages, type SessionView } from '../../harness/checks/session';
import { formatHmacHeader, md5Credential } from '../../harness/protocol/auth';
import { chal, cred, get, message, status, type Command, type Cred, type SyncML } from '../../harness/syncml';

const DEV = 'dev-1';
const URL = 'https://mdm.example.test/ManagementServer/MDM.svc';
const NONCE_A = 'AAECAwQFBgcICQoLDA0ODw==';
const NONCE_B = 'EBESExQVFhcYGRobHB0eHw==';
const MD5 = 'syncml:auth-md5';

function deviceMsg(msgID: number, commands: Command[], opts: { cred?: Cred; locName?: string; final?: boolean } = {}): SyncML {
  return message({ sessionID: '1', msgID, target: URL, source: DEV, sourceName: opts.locName, cred: opts.cred, commands, final: opts.final ?? true });
}

function serverMsg(msgID: number, commands: Command[], opts: { cred?: Cred; final?: boolean } = {}): SyncML {
  return message({ sessionID: '1', msgID, target: DEV, source: URL, sourceName: opts.cred ? 'srv' : undefined, cred: opts.cred, commands, final: opts.final ?? true });
}

const hdr = (msgRef: number, code: number, c?: ReturnType<typeof chal>) => status({ msgRef: String(msgRef), cmdRef: '0', cmd: 'SyncHdr', code, chal: c });

/** Findings of one check on a session, the HTTP headers of chosen messages (index in send order) set. */
function judge(check: Check<never>, messages: SyncML[], headers: Record<number, Record<string, string>> = {}): Finding[] {
  const view: SessionView = sessionFromMessages(messages);
  let i = 0;
  for (const x of view.exchanges) {
    for (const m of [x.request, x.response]) {
      if (m && headers[i]) m.http = { bodyBytes: 0, headers: headers[i] };
      i++;
    }
  }
  return runChecks([check], view as never);
}

const on = (findings: Finding[], id: string) => findings.filter((f) => f.id === id).map((f) => `${f.verdict}: ${f.evidence}`);

test.describe('HMAC in x-syncml-hmac (MDM-AUTH-027, -028, -029)', () => {
  const mac = 'oTXTWWWJwTJRha9P+zTs6A==';

  test('MDM-AUTH-028: the header parses and names the SyncHdr Source LocName, or the error says what is wrong', () => {
    const good = formatHmacHeader({ username: 'dev', mac, algorithm: 'MD5' });
    const session = [deviceMsg(1, [], { locName: 'dev' }), serverMsg(1, [hdr(1, 200, chal('syncml:auth-MAC', NONCE_A))])];
    expect(on(judge(deviceAuthenticates, session, { 0: { 'x-syncml-hmac': good } }), 'MDM-AUTH-028')).toEqual(['pass: no deviation observed']);
    expect(on(judge(deviceAuthenticates, session, { 0: { 'X-SyncML-HMAC': 'algorithm=MD5, mac=abc' } }), 'MDM-AUTH-028')).toEqual([
      'fail: msg 1 (device->server) x-syncml-hmac: missing required parameter username',
    ]);
    const other = formatHmacHeader({ username: 'someone', mac });
    expect(on(judge(deviceAuthenticates, session, { 0: { 'x-syncml-hmac': other } }), 'MDM-AUTH-028')).toEqual([
      'fail: msg 1 (device->server) x-syncml-hmac: username "someone" is not the SyncHdr Source LocName "dev"',
    ]);
  });

  test('MDM-AUTH-029: once in use, on every later message; an HMAC message is answered 200 with a new nonce', () => {
    const header = { 'x-syncml-hmac': formatHmacHeader({ username: 'dev', mac }) };
    const session = [
      deviceMsg(1, [], { locName: 'dev' }), serverMsg(1, [hdr(1, 200, chal('syncml:auth-MAC', NONCE_A)), get('./DevInfo/DmV')]),
      deviceMsg(2, [hdr(1, 200)], { locName: 'dev' }), serverMsg(2, [hdr(2, 200, chal('syncml:auth-MAC', NONCE_B))]),
    ];
    expect(on(judge(deviceAuthenticates, session, { 0: header, 2: header }), 'MDM-AUTH-029')).toEqual([]);
    expect(on(judge(deviceAuthenticates, session, { 0: header }), 'MDM-AUTH-029')).toEqual([
      'fail: msg 3 (device->server) x-syncml-hmac: no x-syncml-hmac, though this party has sent it since msg 1; once in use it is on every later message',
    ]);
    // The server as authenticator of the device's HMAC: 212 is wrong, 200 with a NextNonce right.
    const with212 = [deviceMsg(1, [], { locName: 'dev' }), serverMsg(1, [hdr(1, 212)])];
    expect(on(judge(serverAuthenticates, with212, { 0: header }), 'MDM-AUTH-029')).toEqual([
      'fail: msg 2 (server->device) /SyncBody/Status[1]: msg 1, authenticated by HMAC, answered 212 without a NextNonce; HMAC is answered 200 with a new nonce for every message',
    ]);
    expect(on(judge(serverAuthenticates, session.slice(0, 2), { 0: header }), 'MDM-AUTH-029')).toEqual(['pass: no deviation observed']);
  });

  test('MDM-AUTH-027: a MAC never travels in Cred', () => {
    const session = [deviceMsg(1, [], { cred: cred('syncml:auth-MAC', 'oTXTWWWJwTJRha9P+zTs6A=='), locName: 'dev' }), serverMsg(1, [hdr(1, 200)])];
    expect(on(judge(deviceAuthenticates, session), 'MDM-AUTH-027')).toEqual([
      'fail: msg 1 (device->server) /SyncHdr/Cred/Meta/Type: syncml:auth-MAC in Cred; an HMAC travels in the x-syncml-hmac HTTP header, never in Cred',
    ]);
    expect(on(judge(deviceMessagesAreWellFormed, session), 'MDM-AUTH-013')).toEqual(['pass: no deviation observed']);
  });
});

test.describe('credentials and challenges, either party', () => {
  const digest = md5Credential('srv', 'pw', NONCE_A);

  test('MDM-AUTH-013: an md5 Cred needs Format b64 and a 16-octet digest', () => {
    const withoutFormat: Cred = { meta: { fields: [{ name: 'Type', value: MD5, attrs: { xmlns: 'syncml:metinf' } }] }, data: { text: digest } };
    const session = [deviceMsg(1, [], { cred: withoutFormat, locName: 'dev' }), serverMsg(1, [hdr(1, 212)])];
    expect(on(judge(deviceMessagesAreWellFormed, session), 'MDM-AUTH-013')).toEqual(['fail: msg 1 (device->server) /SyncHdr/Cred/Meta/Format: Format missing on an md5 Cred; it is mandatory and b64']);
    const short = [deviceMsg(1, [], { cred: cred(MD5, 'AAEC'), locName: 'dev' }), serverMsg(1, [hdr(1, 212)])];
    expect(on(judge(deviceMessagesAreWellFormed, short), 'MDM-AUTH-013')).toEqual(['fail: msg 1 (device->server) /SyncHdr/Cred/Data: an md5 digest decodes to 16 octets, this one to 3']);
  });

  test('MDM-AUTH-005 and MDM-AUTH-022 (device as authenticator): 407 is for missing credentials, and a refusal brings a fresh nonce', () => {
    const session = [
      deviceMsg(1, []),
      serverMsg(1, [hdr(1, 200), get('./DevInfo/DmV')]),
      deviceMsg(2, [hdr(1, 407, chal(MD5, NONCE_A))]),
      serverMsg(2, [get('./DevInfo/DmV')], { cred: cred(MD5, digest) }),
      deviceMsg(3, [hdr(2, 407, chal(MD5, NONCE_A))]),
      serverMsg(3, []),
    ];
    const findings = judge(deviceAuthenticates, session);
    expect(on(findings, 'MDM-AUTH-005')).toEqual(['fail: msg 5 (device->server) /SyncBody/Status[1]/Data: 407 (credentials missing) for msg 4, which carried a Cred: refused credentials are answered 401']);
    const fixed = session.map((m, i) => (i === 4 ? deviceMsg(3, [hdr(2, 401, chal(MD5, NONCE_A))]) : m));
    expect(on(judge(deviceAuthenticates, fixed), 'MDM-AUTH-022')).toEqual([
      'fail: msg 5 (device->server) /SyncBody/Status[1]/Chal/Meta/NextNonce: the challenge after refused credentials re-issues the nonce AAECAwQFBgcICQoLDA0ODw==, already handed out in this session; the one more challenge carries a fresh nonce',
    ]);
  });

  test('MDM-AUTH-025 and MDM-AUTH-011: a challenge is answered in its scheme, an answer in another is not accepted, and the scheme stays', () => {
    const basicAnswer = [
      deviceMsg(1, []),
      serverMsg(1, [hdr(1, 407, chal(MD5, NONCE_A))]),
      deviceMsg(2, [hdr(1, 200)], { cred: cred('syncml:auth-basic', Buffer.from('dev:pw').toString('base64')) }),
      serverMsg(2, [hdr(2, 212)]),
    ];
    expect(on(judge(deviceAuthenticates, basicAnswer), 'MDM-AUTH-025')).toEqual(['fail: msg 3 (device->server) /SyncHdr/Cred/Meta/Type: the server challenged for syncml:auth-md5 (msg 2) and the device answered with syncml:auth-basic']);
    expect(on(judge(serverAuthenticates, basicAnswer), 'MDM-AUTH-025')).toEqual(['fail: msg 4 (server->device) /SyncBody/Status[1]/Data: the server challenged for syncml:auth-md5 (msg 2) and accepted (212) a Cred of syncml:auth-basic; an answer in another scheme ends the session']);
    const changing = [
      deviceMsg(1, [], { cred: cred(MD5, digest), locName: 'dev' }),
      serverMsg(1, [hdr(1, 212, chal('syncml:auth-basic', NONCE_B))]),
    ];
    expect(on(judge(serverAuthenticates, changing), 'MDM-AUTH-011')).toEqual(['fail: msg 2 (server->device) /SyncBody/Status[1]/Chal/Meta/Type: the device authenticated with syncml:auth-md5, and the server now names syncml:auth-basic; the scheme does not change within the session']);
  });

  test('MDM-AUTH-031: what a server presents is DIGEST, what a device asks of a server is DIGEST', () => {
    const basicCred = cred('syncml:auth-basic', Buffer.from('srv:pw').toString('base64'));
    const session = [deviceMsg(1, []), serverMsg(1, [hdr(1, 200), get('./DevInfo/DmV')], { cred: basicCred }), deviceMsg(2, [hdr(1, 401, chal('syncml:auth-basic'))]), serverMsg(2, [])];
    expect(on(judge(serverAuthenticates, session), 'MDM-AUTH-031')).toEqual(['fail: msg 2 (server->device) /SyncHdr/Cred/Meta/Type: the server presents syncml:auth-basic; what a server presents to a Windows client is DIGEST (syncml:auth-md5) only']);
    expect(on(judge(deviceAuthenticates, session), 'MDM-AUTH-031')).toEqual(['fail: msg 3 (device->server) /SyncBody/Status[1]/Chal/Meta/Type: the device asks the server for syncml:auth-basic; Windows takes DIGEST (syncml:auth-md5) only from a server']);
  });
});
