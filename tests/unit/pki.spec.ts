import { test, expect } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import {
  certificateFacts, createTestPki, mintDeviceIdentity, mintServerIdentity, readPki, writePki, PKI_FILES,
  type BadDeviceIdentity, type BadServerIdentity, type Identity, type KeyType, type TestPki,
} from '../../harness/pki';
import { runPkiCommand } from '../../harness/cli/pki';
import { seeded } from '../../harness/protocol/random';

const OPENSSL = '/usr/bin/openssl';
const OPENSSL_MISSING = `${OPENSSL} not found: the openssl cross-checks of the test PKI need it`;
const CONTRACT_FILES = ['ca.pem', 'ca-key.pem', 'server.pem', 'server-key.pem', 'device.pem', 'device-key.pem', 'device-id.txt'];
const WINDOWS_DEVICE_ID = /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/;

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mdm-pki-'));
  tempDirs.push(dir);
  return dir;
}
test.afterEach(() => {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

interface VerifyResult {
  ok: boolean;
  output: string;
}

function opensslVerify(caPem: string, certPem: string, extraArgs: string[] = []): VerifyResult {
  const dir = tempDir();
  writeFileSync(join(dir, 'ca.pem'), caPem);
  writeFileSync(join(dir, 'cert.pem'), certPem);
  return opensslVerifyFiles(join(dir, 'ca.pem'), join(dir, 'cert.pem'), extraArgs);
}

function opensslVerifyFiles(caFile: string, certFile: string, extraArgs: string[] = []): VerifyResult {
  const run = spawnSync(OPENSSL, ['verify', ...extraArgs, '-CAfile', caFile, certFile], { encoding: 'utf8' });
  return { ok: run.status === 0, output: `${run.stdout}${run.stderr}` };
}

function runCli(argv: string[]): { code: number; lines: string[] } {
  const lines: string[] = [];
  const code = runPkiCommand(argv, (line) => lines.push(line));
  return { code, lines };
}

function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).sort().map((file) => [file, readFileSync(join(dir, file), 'utf8')]));
}

interface HandshakeOutcome {
  server: { authorized: boolean; error?: string; peerCN?: string };
  client: { authorized: boolean; error?: string };
}

/** One TLS handshake on loopback; both sides accept whatever they get so that each side's verdict can be read. */
async function handshake(serverIdentity: Identity, clientIdentity: Identity, caPem: string): Promise<HandshakeOutcome> {
  const sockets = new Set<tls.TLSSocket>();
  const server = tls.createServer({
    key: serverIdentity.keyPem, cert: serverIdentity.certPem, ca: [caPem], requestCert: true, rejectUnauthorized: false,
  });
  const serverSide = new Promise<HandshakeOutcome['server']>((resolve, reject) => {
    server.once('secureConnection', (socket) => {
      sockets.add(socket);
      const peerCN = socket.getPeerCertificate().subject?.CN;
      resolve({
        authorized: socket.authorized,
        error: socket.authorizationError?.message ?? String(socket.authorizationError ?? ''),
        peerCN: Array.isArray(peerCN) ? peerCN[0] : peerCN,
      });
    });
    server.once('tlsClientError', reject);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const client = tls.connect({
      host: '127.0.0.1', port, ca: [caPem], key: clientIdentity.keyPem, cert: clientIdentity.certPem, rejectUnauthorized: false,
    });
    sockets.add(client);
    const clientSide = await new Promise<HandshakeOutcome['client']>((resolve, reject) => {
      client.once('secureConnect', () => resolve({ authorized: client.authorized, error: client.authorizationError?.message ?? String(client.authorizationError ?? '') }));
      client.once('error', reject);
    });
    return { server: await serverSide, client: clientSide };
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

test.describe('pki init (CLI contract, "Test PKI")', () => {
  test('MDM-TRN-003 MDM-TRN-004: pki init --out DIR writes the contract file set, and openssl verifies server.pem and device.pem against ca.pem', () => {
    test.skip(!existsSync(OPENSSL), OPENSSL_MISSING);
    const dir = join(tempDir(), 'nested', 'pki');
    const { code, lines } = runCli(['pki', 'init', '--out', dir]);
    expect(code, lines.join('\n')).toBe(0);
    expect(readdirSync(dir).sort()).toEqual([...CONTRACT_FILES].sort());
    for (const file of CONTRACT_FILES) expect(lines.join('\n')).toContain(file);

    expect(opensslVerifyFiles(join(dir, 'ca.pem'), join(dir, 'server.pem'), ['-purpose', 'sslserver', '-verify_hostname', 'localhost']).ok).toBe(true);
    expect(opensslVerifyFiles(join(dir, 'ca.pem'), join(dir, 'server.pem'), ['-verify_ip', '127.0.0.1']).ok).toBe(true);
    const device = opensslVerifyFiles(join(dir, 'ca.pem'), join(dir, 'device.pem'), ['-purpose', 'sslclient']);
    expect(device.ok, device.output).toBe(true);

    const deviceId = readFileSync(join(dir, 'device-id.txt'), 'utf8').trim();
    expect(deviceId).toMatch(WINDOWS_DEVICE_ID);
    expect(certificateFacts(readFileSync(join(dir, 'device.pem'), 'utf8')).subjectCN).toBe(deviceId);
    for (const key of ['ca-key.pem', 'server-key.pem', 'device-key.pem']) expect(statSync(join(dir, key)).mode & 0o077).toBe(0);
  });

  test('pki init refuses to overwrite an existing set without --force and leaves it unchanged; with --force it replaces it', () => {
    const dir = tempDir();
    expect(runCli(['pki', 'init', '--out', dir]).code).toBe(0);
    const before = snapshot(dir);

    const refused = runCli(['pki', 'init', '--out', dir]);
    expect(refused.code).toBe(1);
    expect(refused.lines).toHaveLength(1);
    expect(refused.lines[0]).toContain('--force');
    expect(snapshot(dir)).toEqual(before);

    const forced = runCli(['pki', 'init', '--out', dir, '--force']);
    expect(forced.code, forced.lines.join('\n')).toBe(0);
    const after = snapshot(dir);
    for (const file of CONTRACT_FILES) expect(after[file], file).not.toBe(before[file]);
    expect(readPki(dir).deviceId).toBe(after['device-id.txt'].trim());
  });

  test('MDM-TRN-004: pki init --device-id ID puts ID in the device certificate CN and in device-id.txt', () => {
    const dir = tempDir();
    const { code } = runCli(['init', `--out=${dir}`, '--device-id', 'VENDOR-TEST-DEVICE-0001']);
    expect(code).toBe(0);
    expect(readFileSync(join(dir, 'device-id.txt'), 'utf8')).toBe('VENDOR-TEST-DEVICE-0001\n');
    expect(certificateFacts(readFileSync(join(dir, 'device.pem'), 'utf8')).subjectCN).toBe('VENDOR-TEST-DEVICE-0001');
    expect(readPki(dir).deviceId).toBe('VENDOR-TEST-DEVICE-0001');
  });

  test('pki init --out a directory that cannot be created exits 1 with one line naming it', () => {
    const file = join(tempDir(), 'a-file');
    writeFileSync(file, '');
    // /proc answers ENOENT to mkdir under an existing parent, which sends Node's recursive mkdir into an endless loop.
    const uncreatable = [join(file, 'pki'), ...(existsSync('/proc/self') ? ['/proc/mdm-conformance-pki/deeper'] : [])];
    for (const dir of uncreatable) {
      const { code, lines } = runCli(['pki', 'init', '--out', dir]);
      expect(code, dir).toBe(1);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`cannot create the directory ${dir}`);
    }
  });

  const badUsages: string[][] = [
    [],
    ['pki'],
    ['pki', 'frobnicate'],
    ['pki', 'init'],
    ['pki', 'init', '--out'],
    ['pki', 'init', '--out', '--force'],
    ['pki', 'init', '--out', 'DIR', '--device-id'],
    ['pki', 'init', '--out', 'DIR', '--device-id', 'has space'],
    ['pki', 'init', '--out', 'DIR', '--colour'],
    ['pki', 'init', '--out', 'DIR', 'stray'],
    ['pki', 'init', '--out', 'DIR', '--force=yes'],
  ];
  for (const argv of badUsages) {
    test(`${JSON.stringify(argv)} is bad usage: exit 2, one line, nothing written`, () => {
      const base = tempDir();
      const resolved = argv.map((arg) => (arg === 'DIR' ? join(base, 'pki') : arg));
      const { code, lines } = runCli(resolved);
      expect(code).toBe(2);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain('usage: mdm-conformance pki init --out DIR');
      expect(lines[0]).not.toMatch(/\n|\bat .*\(.*:\d+:\d+\)/);
      expect(existsSync(join(base, 'pki'))).toBe(false);
    });
  }
});

for (const keyType of ['rsa', 'ec'] as KeyType[]) {
  test.describe(`test PKI with ${keyType} keys`, () => {
    let pki: TestPki;
    test.beforeAll(() => {
      pki = createTestPki({ keyType });
    });

    test('a root CA unique to this PKI\'s seed: CA:true, keyCertSign, valid from a day ago for ten years', () => {
      const ca = new X509Certificate(pki.ca.certPem);
      expect(ca.ca).toBe(true);
      expect(ca.checkIssued(ca)).toBe(true);
      expect(ca.publicKey.asymmetricKeyType).toBe(keyType);
      const facts = certificateFacts(pki.ca.certPem);
      expect(facts.subjectCN).toMatch(/^mdm-conformance test CA [0-9a-f]{8}$/);
      expect(facts.issuerCN).toBe(facts.subjectCN);
      const day = 86_400_000;
      expect(Math.abs(Date.now() - day - facts.notBefore.getTime())).toBeLessThan(60_000);
      expect(facts.notAfter.getUTCFullYear() - new Date().getUTCFullYear()).toBe(10);

      const other = createTestPki({ keyType, rng: seeded(2, 'another-pki') });
      expect(certificateFacts(other.ca.certPem).subjectCN).not.toBe(facts.subjectCN);
      expect(other.deviceId).not.toBe(pki.deviceId);
      // The names follow the seed (the same seed, the same names: reproducible runs); the keys are fresh every time.
      const again = createTestPki({ keyType });
      expect(certificateFacts(again.ca.certPem).subjectCN).toBe(facts.subjectCN);
      expect(again.deviceId).toBe(pki.deviceId);
      expect(again.ca.keyPem).not.toBe(pki.ca.keyPem);
      expect(other.deviceId).not.toBe(pki.deviceId);
      expect(pki.deviceId).toMatch(WINDOWS_DEVICE_ID);
    });

    test('MDM-TRN-003: the server certificate is issued by the CA for localhost, 127.0.0.1 and ::1 with EKU serverAuth', () => {
      test.skip(!existsSync(OPENSSL), OPENSSL_MISSING);
      const facts = certificateFacts(pki.server.certPem);
      expect(facts.subjectCN).toBe('localhost');
      expect(facts.sans).toEqual(['DNS:localhost', 'IP:127.0.0.1', 'IP:::1']);
      expect(facts.extKeyUsage).toEqual(['serverAuth']);
      expect(facts.issuerCN).toBe(certificateFacts(pki.ca.certPem).subjectCN);
      for (const check of [['-verify_hostname', 'localhost'], ['-verify_ip', '127.0.0.1'], ['-verify_ip', '::1']]) {
        const result = opensslVerify(pki.ca.certPem, pki.server.certPem, ['-x509_strict', '-purpose', 'sslserver', ...check]);
        expect(result.ok, `${check.join(' ')}: ${result.output}`).toBe(true);
      }
    });

    test('MDM-TRN-004: the device certificate is issued by the CA with CN = the device id and EKU clientAuth', () => {
      test.skip(!existsSync(OPENSSL), OPENSSL_MISSING);
      const facts = certificateFacts(pki.device.certPem);
      expect(facts.subjectCN).toBe(pki.deviceId);
      expect(facts.extKeyUsage).toEqual(['clientAuth']);
      const result = opensslVerify(pki.ca.certPem, pki.device.certPem, ['-x509_strict', '-purpose', 'sslclient']);
      expect(result.ok, result.output).toBe(true);
    });

    test('MDM-TRN-004: a minted valid device identity for another device id verifies, with a key of its own', () => {
      test.skip(!existsSync(OPENSSL), OPENSSL_MISSING);
      const identity = mintDeviceIdentity(pki, 'valid', { deviceId: 'FLEET-DEVICE-42' });
      expect(certificateFacts(identity.certPem).subjectCN).toBe('FLEET-DEVICE-42');
      expect(identity.keyPem).not.toBe(pki.device.keyPem);
      expect(opensslVerify(pki.ca.certPem, identity.certPem, ['-purpose', 'sslclient']).ok).toBe(true);
      expect(certificateFacts(mintDeviceIdentity(pki, 'valid').certPem).subjectCN).toBe(pki.deviceId);
    });

    const badDevices: Array<{ kind: BadDeviceIdentity; args: string[]; reason: RegExp | null; also?: (facts: ReturnType<typeof certificateFacts>, pki: TestPki) => void }> = [
      { kind: 'expired', args: [], reason: /certificate has expired/, also: (facts) => expect(facts.notAfter.getTime()).toBeLessThan(Date.now()) },
      { kind: 'not-yet-valid', args: [], reason: /certificate is not yet valid/, also: (facts) => expect(facts.notBefore.getTime()).toBeGreaterThan(Date.now()) },
      { kind: 'untrusted-ca', args: [], reason: /unable to get local issuer certificate/, also: (facts) => expect(facts.issuerCN).toMatch(/^mdm-conformance untrusted CA /) },
      // OpenSSL 3 says "unsuitable certificate purpose", 1.1 said "unsupported certificate purpose".
      { kind: 'wrong-eku', args: ['-purpose', 'sslclient'], reason: /(unsuitable|unsupported) certificate purpose/, also: (facts) => expect(facts.extKeyUsage).toEqual(['serverAuth']) },
      {
        kind: 'cn-mismatch', args: ['-purpose', 'sslclient'], reason: null,
        also: (facts, pki) => {
          expect(facts.subjectCN).not.toBe(pki.deviceId);
          expect(facts.subjectCN).toMatch(WINDOWS_DEVICE_ID);
        },
      },
    ];
    for (const { kind, args, reason, also } of badDevices) {
      test(`MDM-TRN-004: the ${kind} device identity ${reason ? `fails openssl verify with "${reason.source}"` : 'verifies but names another device'}`, () => {
        test.skip(!existsSync(OPENSSL), OPENSSL_MISSING);
        const identity = mintDeviceIdentity(pki, kind);
        const facts = certificateFacts(identity.certPem);
        also?.(facts, pki);
        if (kind !== 'cn-mismatch') expect(facts.subjectCN).toBe(pki.deviceId);
        const result = opensslVerify(pki.ca.certPem, identity.certPem, args);
        if (reason) {
          expect(result.ok, result.output).toBe(false);
          expect(result.output).toMatch(reason);
          if (args.length) expect(opensslVerify(pki.ca.certPem, identity.certPem).ok, 'fails only for its purpose').toBe(true);
        } else {
          expect(result.ok, result.output).toBe(true);
        }
      });
    }

    const badServers: Array<{ kind: BadServerIdentity; reason: RegExp }> = [
      { kind: 'expired', reason: /certificate has expired/ },
      { kind: 'untrusted-ca', reason: /unable to get local issuer certificate/ },
    ];
    for (const { kind, reason } of badServers) {
      test(`MDM-TRN-003: the ${kind} server identity fails openssl verify with "${reason.source}"`, () => {
        test.skip(!existsSync(OPENSSL), OPENSSL_MISSING);
        const identity = mintServerIdentity(pki, kind);
        expect(certificateFacts(identity.certPem).sans).toEqual(['DNS:localhost', 'IP:127.0.0.1', 'IP:::1']);
        const result = opensslVerify(pki.ca.certPem, identity.certPem);
        expect(result.ok, result.output).toBe(false);
        expect(result.output).toMatch(reason);
      });
    }

    test('MDM-TRN-003: the wrong-host server identity chains to the CA but matches neither localhost nor 127.0.0.1', () => {
      test.skip(!existsSync(OPENSSL), OPENSSL_MISSING);
      const identity = mintServerIdentity(pki, 'wrong-host');
      const facts = certificateFacts(identity.certPem);
      expect(facts.subjectCN).toBe('mdm.invalid.example');
      expect(facts.sans).toEqual(['DNS:mdm.invalid.example']);
      expect(opensslVerify(pki.ca.certPem, identity.certPem, ['-purpose', 'sslserver']).ok).toBe(true);
      const byName = opensslVerify(pki.ca.certPem, identity.certPem, ['-verify_hostname', 'localhost']);
      expect(byName.ok).toBe(false);
      expect(byName.output).toMatch(/hostname mismatch/);
      const byAddress = opensslVerify(pki.ca.certPem, identity.certPem, ['-verify_ip', '127.0.0.1']);
      expect(byAddress.ok).toBe(false);
      expect(byAddress.output).toMatch(/IP address mismatch/);
      expect(opensslVerify(pki.ca.certPem, mintServerIdentity(pki, 'valid').certPem, ['-verify_hostname', 'localhost']).ok).toBe(true);
    });

    test('MDM-TRN-003 MDM-TRN-004: a loopback mutual-TLS handshake with the device identity is authorized on both sides', async () => {
      const outcome = await handshake(pki.server, pki.device, pki.ca.certPem);
      expect(outcome.server.authorized, outcome.server.error).toBe(true);
      expect(outcome.server.peerCN).toBe(pki.deviceId);
      expect(outcome.client.authorized, outcome.client.error).toBe(true);
    });

    for (const kind of ['untrusted-ca', 'expired'] as const) {
      test(`MDM-TRN-004: over loopback mutual TLS the server sees the ${kind} device identity as not authorized`, async () => {
        const outcome = await handshake(pki.server, mintDeviceIdentity(pki, kind), pki.ca.certPem);
        expect(outcome.server.authorized).toBe(false);
        // OpenSSL's "unable to get local issuer certificate" at depth 0 surfaces in Node as UNABLE_TO_VERIFY_LEAF_SIGNATURE.
        expect(outcome.server.error).toMatch(kind === 'expired' ? /CERT_HAS_EXPIRED/ : /UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT/);
      });
    }

    test('MDM-TRN-003: over loopback TLS the client refuses the wrong-host server identity for 127.0.0.1', async () => {
      const outcome = await handshake(mintServerIdentity(pki, 'wrong-host'), pki.device, pki.ca.certPem);
      expect(outcome.client.authorized).toBe(false);
      expect(outcome.client.error).toMatch(/127\.0\.0\.1|altname|IP/i);
    });
  });
}

test.describe('test PKI library', () => {
  test('serverHosts names the server certificate, and minted server identities keep those hosts', () => {
    const pki = createTestPki({ keyType: 'ec', serverHosts: ['mdm.test.example', '10.0.0.5', 'fe80::1'] });
    const expected = ['DNS:mdm.test.example', 'IP:10.0.0.5', 'IP:fe80::1'];
    expect(certificateFacts(pki.server.certPem).subjectCN).toBe('mdm.test.example');
    expect(certificateFacts(pki.server.certPem).sans).toEqual(expected);
    expect(certificateFacts(mintServerIdentity(pki, 'valid').certPem).sans).toEqual(expected);
    expect(() => createTestPki({ serverHosts: [] })).toThrow(/at least one/);
    expect(() => createTestPki({ serverHosts: ['not a host'] })).toThrow(/not a host/);
  });

  test('writePki then readPki gives back the same PKI, and identities minted from it chain to its CA', () => {
    const dir = tempDir();
    const pki = createTestPki({ keyType: 'ec', deviceId: 'ROUND-TRIP-1' });
    writePki(dir, pki);
    const back = readPki(dir);
    expect(back).toEqual(pki);
    const ca = new X509Certificate(back.ca.certPem);
    expect(new X509Certificate(mintDeviceIdentity(back, 'valid').certPem).checkIssued(ca)).toBe(true);
    expect(() => writePki(dir, pki)).toThrow(/refusing to overwrite.*--force/);
    writePki(dir, createTestPki({ keyType: 'ec' }), { force: true });
    expect(readPki(dir).deviceId).not.toBe('ROUND-TRIP-1');
  });

  test('readPki on a directory missing a file names the file and suggests npx mdm-conformance pki init --out DIR', () => {
    const dir = tempDir();
    writePki(dir, createTestPki({ keyType: 'ec' }));
    for (const file of CONTRACT_FILES) {
      renameSync(join(dir, file), join(dir, `${file}.away`));
      try {
        expect(() => readPki(dir)).toThrow(`test PKI file missing: ${join(dir, file)}; create a test PKI with: npx mdm-conformance pki init --out ${dir}`);
      } finally {
        renameSync(join(dir, `${file}.away`), join(dir, file));
      }
    }
    const empty = join(tempDir(), 'nothing-here');
    expect(() => readPki(empty)).toThrow(new RegExp(`missing: .*ca\\.pem.*npx mdm-conformance pki init --out ${empty}`));
  });

  test('readPki names the bad file when a set is corrupt or mixed from two PKIs', () => {
    const dir = tempDir();
    const pki = createTestPki({ keyType: 'ec' });
    const other = createTestPki({ keyType: 'ec' });
    const cases: Array<[file: string, text: string, problem: RegExp]> = [
      [PKI_FILES.deviceCert, 'not a certificate', /device\.pem: not a PEM certificate/],
      [PKI_FILES.serverKey, 'garbage', /server-key\.pem: not a PEM private key/],
      [PKI_FILES.deviceKey, other.device.keyPem, /device-key\.pem: not the private key of device\.pem/],
      [PKI_FILES.serverCert, other.server.certPem, /server\.pem: not issued by ca\.pem/],
      [PKI_FILES.deviceId, 'SOMEONE-ELSE\n', /device-id\.txt: says SOMEONE-ELSE but device\.pem has CN/],
      [PKI_FILES.deviceId, '\n', /device-id\.txt: empty/],
    ];
    for (const [file, text, problem] of cases) {
      writePki(dir, pki, { force: true });
      writeFileSync(join(dir, file), text);
      expect(() => readPki(dir), file).toThrow(problem);
      expect(() => readPki(dir), file).toThrow(/pki init --out .* --force/);
    }
  });

  test('certificateFacts rejects text that is not a certificate with a clear error', () => {
    expect(() => certificateFacts('hello')).toThrow(/not a PEM certificate/);
  });

  test('device ids with white space are refused', () => {
    expect(() => createTestPki({ keyType: 'ec', deviceId: 'two words' })).toThrow(/white space/);
    expect(() => createTestPki({ keyType: 'ec', deviceId: '' })).toThrow(/non-empty/);
  });
});
