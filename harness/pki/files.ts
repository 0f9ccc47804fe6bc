/**
 * The on-disk form of a test PKI, the file set of the CLI contract ("Test PKI"). Implementations under test
 * are configured with these paths, so the names never change.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { certificateFacts } from './facts';
import type { TestPki } from './identities';

export const PKI_FILES = {
  caCert: 'ca.pem',
  caKey: 'ca-key.pem',
  serverCert: 'server.pem',
  serverKey: 'server-key.pem',
  deviceCert: 'device.pem',
  deviceKey: 'device-key.pem',
  deviceId: 'device-id.txt',
} as const;

/** Each file with what it is for, in the order `pki init` lists them. */
export const PKI_FILE_PURPOSES: ReadonlyArray<readonly [file: string, purpose: string]> = [
  [PKI_FILES.caCert, 'test root CA (servers under test trust it for client certificates, clients for the server certificate)'],
  [PKI_FILES.caKey, 'test root CA private key'],
  [PKI_FILES.serverCert, 'TLS server certificate, issued by the CA'],
  [PKI_FILES.serverKey, 'TLS server private key'],
  [PKI_FILES.deviceCert, 'device identity (client certificate, CN = the device id), issued by the CA'],
  [PKI_FILES.deviceKey, 'device private key'],
  [PKI_FILES.deviceId, 'the device id in device.pem'],
];

const PRIVATE_KEY_FILES: ReadonlySet<string> = new Set([PKI_FILES.caKey, PKI_FILES.serverKey, PKI_FILES.deviceKey]);

export function existingPkiFiles(dir: string): string[] {
  return PKI_FILE_PURPOSES.map(([file]) => file).filter((file) => existsSync(join(dir, file)));
}

export function writePki(dir: string, pki: TestPki, opts: { force?: boolean } = {}): void {
  const existing = existingPkiFiles(dir);
  if (existing.length && !opts.force) {
    throw new Error(`refusing to overwrite the test PKI in ${dir} (${existing.join(', ')} already there); pass --force to replace it`);
  }
  try {
    makeDirectory(dir);
  } catch (error) {
    throw new Error(`cannot create the directory ${dir}: ${(error as Error).message}`);
  }
  const contents: Record<string, string> = {
    [PKI_FILES.caCert]: pki.ca.certPem,
    [PKI_FILES.caKey]: pki.ca.keyPem,
    [PKI_FILES.serverCert]: pki.server.certPem,
    [PKI_FILES.serverKey]: pki.server.keyPem,
    [PKI_FILES.deviceCert]: pki.device.certPem,
    [PKI_FILES.deviceKey]: pki.device.keyPem,
    [PKI_FILES.deviceId]: `${pki.deviceId}\n`,
  };
  for (const [file, text] of Object.entries(contents)) {
    const path = join(dir, file);
    const mode = PRIVATE_KEY_FILES.has(file) ? 0o600 : 0o644;
    writeFileSync(path, text, { mode });
    // writeFileSync applies the mode only when it creates the file; a forced overwrite keeps keys private too.
    chmodSync(path, mode);
  }
}

/**
 * `mkdir -p` that always ends. Node's `mkdirSync(dir, { recursive: true })` spins forever where mkdir answers
 * ENOENT although the parent exists (under /proc, below a dangling symlink); here, once the parent has been
 * made or found, a second ENOENT is final.
 */
function makeDirectory(dir: string): void {
  try {
    mkdirSync(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' && statSync(dir).isDirectory()) return;
    if (code !== 'ENOENT' || dirname(dir) === dir) throw error;
    makeDirectory(dirname(dir));
    mkdirSync(dir);
  }
}

/** Reads and cross-checks a PKI written by `writePki`; every error names the file at fault and the way out. */
export function readPki(dir: string): TestPki {
  const read = (file: string): string => {
    const path = join(dir, file);
    if (!existsSync(path)) {
      throw new Error(`test PKI file missing: ${path}; create a test PKI with: npx mdm-conformance pki init --out ${dir}`);
    }
    return readFileSync(path, 'utf8');
  };
  const bad = (file: string, problem: string): Error =>
    new Error(`bad test PKI file ${join(dir, file)}: ${problem}; recreate the set with: npx mdm-conformance pki init --out ${dir} --force`);

  const certificate = (file: string): { pem: string; cert: X509Certificate } => {
    const pem = read(file);
    try {
      return { pem, cert: new X509Certificate(pem) };
    } catch {
      throw bad(file, 'not a PEM certificate');
    }
  };
  const privateKey = (file: string, cert: X509Certificate, certFile: string): string => {
    const pem = read(file);
    let key: KeyObject;
    try {
      key = createPrivateKey(pem);
    } catch {
      throw bad(file, 'not a PEM private key');
    }
    if (!cert.checkPrivateKey(key)) throw bad(file, `not the private key of ${certFile}`);
    return pem;
  };

  const ca = certificate(PKI_FILES.caCert);
  const caKeyPem = privateKey(PKI_FILES.caKey, ca.cert, PKI_FILES.caCert);
  const issuedByCa = (file: string) => {
    const leaf = certificate(file);
    if (!leaf.cert.verify(ca.cert.publicKey)) throw bad(file, `not issued by ${PKI_FILES.caCert}`);
    return leaf;
  };
  const server = issuedByCa(PKI_FILES.serverCert);
  const serverKeyPem = privateKey(PKI_FILES.serverKey, server.cert, PKI_FILES.serverCert);
  const device = issuedByCa(PKI_FILES.deviceCert);
  const deviceKeyPem = privateKey(PKI_FILES.deviceKey, device.cert, PKI_FILES.deviceCert);

  const deviceId = read(PKI_FILES.deviceId).trim();
  if (!deviceId) throw bad(PKI_FILES.deviceId, 'empty');
  const deviceCN = certificateFacts(device.pem).subjectCN;
  if (deviceCN !== deviceId) throw bad(PKI_FILES.deviceId, `says ${deviceId} but ${PKI_FILES.deviceCert} has CN ${deviceCN ?? '(none)'}`);

  return {
    deviceId,
    ca: { certPem: ca.pem, keyPem: caKeyPem },
    server: { certPem: server.pem, keyPem: serverKeyPem },
    device: { certPem: device.pem, keyPem: deviceKeyPem },
  };
}

/** The record an `enroll` folder carries beside its PKI files; its presence marks an enrolled identity. */
export const ENROLLMENT_RECORD_FILE = 'enrollment.json';

/** What a device needs of a PKI folder: its identity and the CA it trusts for the server. */
export interface DevicePki {
  deviceId: string;
  ca: { certPem: string };
  device: { certPem: string; keyPem: string };
}

/**
 * Reads the device side of a PKI folder: a `pki init` folder (read and checked as `readPki` does), or a folder
 * written by `enroll`, which has no CA key and no server identity. There `ca.pem` holds the roots the enrollment
 * delivered, `device.pem` the issued certificate (with any intermediates after it), and the CN of the certificate
 * need not be the device id: the enrollment service chose it.
 */
export function readDevicePki(dir: string): DevicePki {
  if (!existsSync(join(dir, ENROLLMENT_RECORD_FILE)) || existsSync(join(dir, PKI_FILES.caKey))) return readPki(dir);
  const bad = (file: string, problem: string): Error =>
    new Error(`bad enrolled identity file ${join(dir, file)}: ${problem}; enroll again with: npx mdm-conformance enroll --discovery URL --email ADDRESS --out DIR`);
  const read = (file: string): string => {
    const path = join(dir, file);
    if (!existsSync(path)) throw bad(file, 'missing');
    return readFileSync(path, 'utf8');
  };
  const certificates = (file: string): X509Certificate[] => {
    const blocks = read(file).match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    if (!blocks.length) throw bad(file, 'no PEM certificate in it');
    try {
      return blocks.map((b) => new X509Certificate(b));
    } catch {
      throw bad(file, 'not a PEM certificate');
    }
  };
  const roots = certificates(PKI_FILES.caCert);
  const [leaf, ...chain] = certificates(PKI_FILES.deviceCert);
  const keyPem = read(PKI_FILES.deviceKey);
  let key: KeyObject;
  try {
    key = createPrivateKey(keyPem);
  } catch {
    throw bad(PKI_FILES.deviceKey, 'not a PEM private key');
  }
  if (!leaf.checkPrivateKey(key)) throw bad(PKI_FILES.deviceKey, `not the private key of ${PKI_FILES.deviceCert}`);
  let current = leaf;
  for (let depth = 0; !roots.some((r) => current.checkIssued(r) && current.verify(r.publicKey)); depth++) {
    const next = chain.find((c) => current.checkIssued(c) && current.verify(c.publicKey));
    if (!next || depth > 5) throw bad(PKI_FILES.deviceCert, `does not chain to ${PKI_FILES.caCert}`);
    current = next;
  }
  const deviceId = read(PKI_FILES.deviceId).trim();
  if (!deviceId) throw bad(PKI_FILES.deviceId, 'empty');
  return { deviceId, ca: { certPem: read(PKI_FILES.caCert) }, device: { certPem: read(PKI_FILES.deviceCert), keyPem } };
}
