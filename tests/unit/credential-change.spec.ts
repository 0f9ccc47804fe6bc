/**
 * A change of the device's credentials during a session (MDM-AUTH-030) in the reference peers: the device keeps its
 * DMAcc account in its tree and takes a replaced secret from its next session on; the reference server verifies the
 * new secret from the device's next session on, once the device took the change. The faults of either peer apply it
 * at once. The peers talk over loopback HTTPS, as in a run.
 */
import { expect, test } from '@playwright/test';
import { accountCredentials, CLIENT_CREDENTIAL_NAME, CLIENT_CREDENTIAL_SECRET, provisionAccount } from '../../harness/device/dm-account';
import { DEVICE_FAULTS } from '../../harness/device/faults';
import { ReferenceDevice } from '../../harness/device/reference-device';
import { DmTree } from '../../harness/device/tree';
import { md5Digest } from '../../harness/protocol/auth';
import { acceptedCredentialChanges, clientCredentialField, credentialChangesIn, withCredentialChanges } from '../../harness/protocol/credential-change';
import { nonceBytes } from '../../harness/protocol/credentials';
import type { ServerEvent } from '../../harness/protocol/server-session';
import { createTestPki, type TestPki } from '../../harness/pki';
import { SERVER_FAULTS } from '../../harness/server/faults';
import { ReferenceServer } from '../../harness/server/reference-server';
import { atomic, codeOf, get, metaValue, replace, type Status, type SyncML } from '../../harness/syncml';

const CREDS = { scheme: 'syncml:auth-md5' as const, user: 'harness-dev', password: 's3cret!' };
const NEW_SECRET = 's3cret!-changed';

test.describe('credential nodes', () => {
  test('the AAuthName and AAuthSecret of the CLCRED entry are the client\'s credentials; other entries and nodes are not', () => {
    expect(clientCredentialField('./SyncML/DMAcc/ABC123/AppAuth/CLCRED/AAuthSecret')).toBe('password');
    expect(clientCredentialField(' ./SyncML/DMAcc/ABC123/AppAuth/CLCRED/AAuthName ')).toBe('user');
    expect(clientCredentialField('./SyncML/DMAcc/ABC123/AppAuth/SRVCRED/AAuthSecret')).toBeUndefined();
    expect(clientCredentialField('./SyncML/DMAcc/ABC123/AppAuth/CLCRED/AAuthData')).toBeUndefined();
    expect(clientCredentialField('./DevDetail/SwV')).toBeUndefined();
  });

  test('a Replace, also inside an Atomic, is a change; a Get is not', () => {
    expect(credentialChangesIn(replace(CLIENT_CREDENTIAL_SECRET, 'x'))).toEqual([{ field: 'password', value: 'x', uri: CLIENT_CREDENTIAL_SECRET }]);
    expect(credentialChangesIn(atomic(replace(CLIENT_CREDENTIAL_NAME, 'u'), replace('./DevDetail/SwV', 'v')))).toEqual([{ field: 'user', value: 'u', uri: CLIENT_CREDENTIAL_NAME }]);
    expect(credentialChangesIn(get(CLIENT_CREDENTIAL_SECRET))).toEqual([]);
  });

  test('only a change the device answered 200 is taken', () => {
    const status = (code: string, value: string): ServerEvent => ({
      type: 'status', msgRef: '2', cmdRef: '3', code, answers: { msgID: '2', command: replace(CLIENT_CREDENTIAL_SECRET, value) }, status: { kind: 'Status', items: [], targetRefs: [], sourceRefs: [] } as unknown as Status,
    });
    const taken = acceptedCredentialChanges([status('405', 'refused'), status('200', 'taken')]);
    expect(taken.map((c) => c.value)).toEqual(['taken']);
    expect(withCredentialChanges(CREDS, taken)).toEqual({ ...CREDS, password: 'taken' });
  });

  test('the device account holds the credentials and hides the secret from Get', () => {
    const tree = new DmTree();
    provisionAccount(tree, CREDS);
    expect(accountCredentials(tree)).toEqual({ user: CREDS.user, password: CREDS.password });
    expect(tree.get(CLIENT_CREDENTIAL_SECRET).ok).toBe(false);
    expect(tree.replace(CLIENT_CREDENTIAL_SECRET, { value: NEW_SECRET }).ok).toBe(true);
    provisionAccount(tree, CREDS); // a shared tree keeps what a server changed
    expect(accountCredentials(tree).password).toBe(NEW_SECRET);
  });
});

test.describe('the reference peers across a change of the device secret', () => {
  let pki: TestPki;
  test.beforeAll(() => {
    pki = createTestPki({ keyType: 'ec' });
  });

  /** Which secret a message's md5 Cred was made with, over the nonces the server handed out. */
  function secretOf(msg: SyncML, nonces: string[]): string | undefined {
    const data = msg.hdr.cred?.data?.text.trim();
    if (!data) return undefined;
    for (const password of [CREDS.password, NEW_SECRET]) {
      if (nonces.some((n) => md5Digest(CREDS.user, password, nonceBytes(n)) === data)) return password === CREDS.password ? 'old' : 'new';
    }
    return 'neither';
  }

  async function twoSessions(opts: { deviceFault?: string; serverFault?: string; node?: string }) {
    const server = new ReferenceServer({
      identity: pki.server, ca: pki.ca.certPem, clientAuth: CREDS, behaviour: { authenticatePerMessage: true },
      faults: SERVER_FAULTS.filter((f) => f.name === opts.serverFault),
    });
    const url = await server.start();
    const device = new ReferenceDevice({
      deviceId: pki.deviceId, identity: pki.device, serverCa: pki.ca.certPem, credentials: CREDS, timeoutMs: 3_000,
      faults: DEVICE_FAULTS.filter((f) => f.name === opts.deviceFault),
    });
    try {
      server.queueRounds(pki.deviceId, [replace(opts.node ?? CLIENT_CREDENTIAL_SECRET, NEW_SECRET)], [get('./DevDetail/SwV')]);
      const first = await device.runSession(url);
      const second = await device.runSession(url);
      const nonces = [first, second].flatMap((r) => r.exchanges).flatMap((x) => {
        const hdr = x.response?.parsed?.message.body.commands.find((c): c is Status => c.kind === 'Status' && c.cmdRef?.trim() === '0');
        const nonce = metaValue(hdr?.chal?.meta, 'NextNonce')?.trim();
        return nonce ? [nonce] : [];
      });
      const used = (r: typeof first) => r.exchanges.map((x) => x.request.parsed?.message).filter((m): m is SyncML => !!m?.hdr.cred).map((m) => secretOf(m, nonces));
      const refused = (r: typeof first) => r.exchanges.filter((x) => {
        const hdr = x.response?.parsed?.message.body.commands.find((c): c is Status => c.kind === 'Status' && c.cmdRef?.trim() === '0');
        return hdr && codeOf(hdr) === '401';
      }).length;
      return { first: used(first), second: used(second), refusedFirst: refused(first), refusedSecond: refused(second), tree: device.tree };
    } finally {
      await device.close();
      await server.stop();
    }
  }

  test('the device keeps the old secret for the session and presents the new one in the next; the server follows', async () => {
    const r = await twoSessions({});
    expect(r.first.length).toBeGreaterThanOrEqual(3); // every message of the session carries Cred (200, MDM-AUTH-009)
    expect(r.first.every((u) => u === 'old')).toBe(true);
    expect(r.refusedFirst).toBe(0);
    expect(r.second[0]).toBe('new');
    expect(r.refusedSecond).toBe(0);
    expect(accountCredentials(r.tree).password).toBe(NEW_SECRET);
  });

  test('a Replace the device refuses (no such account) changes nothing on either side', async () => {
    const r = await twoSessions({ node: './SyncML/DMAcc/NoSuchAccount/AppAuth/CLCRED/AAuthSecret' });
    expect([...r.first, ...r.second].every((u) => u === 'old')).toBe(true);
    expect(r.refusedFirst + r.refusedSecond).toBe(0);
  });

  test('the device fault presents the new secret within the session, and the server refuses it', async () => {
    const r = await twoSessions({ deviceFault: 'applies-credential-change-at-once' });
    expect(r.first[0]).toBe('old');
    expect(r.first.slice(1)).toContain('new');
    expect(r.refusedFirst).toBeGreaterThan(0);
  });

  test('the server fault refuses the old secret within the session in which it sent the change', async () => {
    const r = await twoSessions({ serverFault: 'applies-credential-change-at-once' });
    expect(r.first.every((u) => u === 'old')).toBe(true);
    expect(r.refusedFirst).toBeGreaterThan(0);
    expect(r.second[0]).toBe('new'); // the device took the change, and so did the server for the next session
    expect(r.refusedSecond).toBe(0);
  });
});
