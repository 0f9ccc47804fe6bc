/**
 * The test PKI: one root CA, the server identity a reference server presents, the device identity a reference
 * device presents, and the deliberately broken identities that mutual-TLS tests (MDM-TRN-003, MDM-TRN-004)
 * offer to an implementation to see it refuse them.
 */
import { isIP } from 'node:net';
import {
  authorityFromIdentity, createAuthority, issueIdentity, type CertificateTemplate, type Identity, type KeyType,
  type SigningAuthority, type Validity,
} from './certificates';
import { certificateFacts } from './facts';
import { seeded, type Rng } from '../protocol/random';

export type { Identity, KeyType } from './certificates';

export interface TestPki {
  deviceId: string;
  ca: Identity;
  server: Identity;
  device: Identity;
}

export interface PkiOptions {
  /** CN of the device certificate; default a fresh upper-case GUID, as Windows reports its device id. */
  deviceId?: string;
  /** Host names and IP addresses of the server certificate; the first is also its CN. */
  serverHosts?: string[];
  /** 'rsa' (2048 bits, the default) or 'ec' (P-256, much faster to generate for fleets of devices). */
  keyType?: KeyType;
  /**
   * Where the device id, names and serial numbers come from (the run's seed); keys stay random. Absent: the default
   * seed, so that the same PKI options always give the same names.
   */
  rng?: Rng;
}

export type BadDeviceIdentity = 'expired' | 'not-yet-valid' | 'untrusted-ca' | 'wrong-eku' | 'cn-mismatch';
export type BadServerIdentity = 'expired' | 'untrusted-ca' | 'wrong-host';

export const DEFAULT_SERVER_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '::1'];

/** A name under the reserved .invalid TLD, so a wrong-host certificate can never match a real server. */
export const WRONG_SERVER_HOST = 'mdm.invalid.example';

const DAY_MS = 86_400_000;

export function createTestPki(opts: PkiOptions = {}): TestPki {
  const rng = opts.rng ?? seeded(undefined, 'test-pki');
  const deviceId = opts.deviceId ?? newDeviceId(rng);
  checkDeviceId(deviceId);
  const serverHosts = opts.serverHosts ?? [...DEFAULT_SERVER_HOSTS];
  checkServerHosts(serverHosts);
  const { identity: ca, authority } = createAuthority(`mdm-conformance test CA ${randomSuffix(rng)}`, authorityValidity(), opts.keyType ?? 'rsa');
  return {
    deviceId,
    ca,
    server: issueIdentity({ ...serverTemplate(serverHosts, currentValidity()), serial: rng.bytes(16) }, authority),
    device: issueIdentity({ ...deviceTemplate(deviceId, currentValidity()), serial: rng.bytes(16) }, authority),
  };
}

/**
 * A device identity from the PKI's CA with a fresh key. `opts.deviceId` (default the PKI's device id) is the
 * device it is for; the bad kinds differ from a valid identity for that device in exactly one respect, and
 * `cn-mismatch` carries another device id in its CN.
 */
export function mintDeviceIdentity(pki: TestPki, kind: 'valid' | BadDeviceIdentity, opts: { deviceId?: string; rng?: Rng } = {}): Identity {
  const deviceId = opts.deviceId ?? pki.deviceId;
  checkDeviceId(deviceId);
  const authority = authorityFromIdentity(pki.ca);
  const rng = opts.rng ?? seeded(undefined, 'minted-device', deviceId, kind);
  const serial = rng.bytes(16);
  const device = (id: string, validity: Validity): CertificateTemplate => ({ ...deviceTemplate(id, validity), serial });
  switch (kind) {
    case 'valid':
      return issueIdentity(device(deviceId, currentValidity()), authority);
    case 'expired':
      return issueIdentity(device(deviceId, expiredValidity()), authority);
    case 'not-yet-valid':
      return issueIdentity(device(deviceId, futureValidity()), authority);
    case 'untrusted-ca':
      return issueIdentity(device(deviceId, currentValidity()), untrustedAuthority(authority, rng));
    case 'wrong-eku':
      return issueIdentity({ ...device(deviceId, currentValidity()), extendedKeyUsage: ['serverAuth'] }, authority);
    case 'cn-mismatch':
      return issueIdentity(device(otherDeviceId(deviceId, rng), currentValidity()), authority);
    default:
      throw unknownKind('device', kind);
  }
}

/** A server identity from the PKI's CA, for the same hosts as the PKI's server certificate unless `wrong-host`. */
export function mintServerIdentity(pki: TestPki, kind: 'valid' | BadServerIdentity): Identity {
  const authority = authorityFromIdentity(pki.ca);
  const hosts = serverHostsOf(pki.server.certPem);
  switch (kind) {
    case 'valid':
      return issueIdentity(serverTemplate(hosts, currentValidity()), authority);
    case 'expired':
      return issueIdentity(serverTemplate(hosts, expiredValidity()), authority);
    case 'untrusted-ca':
      return issueIdentity(serverTemplate(hosts, currentValidity()), untrustedAuthority(authority, seeded(undefined, 'minted-server', kind)));
    case 'wrong-host':
      return issueIdentity(serverTemplate([WRONG_SERVER_HOST], currentValidity()), authority);
    default:
      throw unknownKind('server', kind);
  }
}

function serverTemplate(hosts: string[], validity: Validity): CertificateTemplate {
  return { commonName: hosts[0], validity, extendedKeyUsage: ['serverAuth'], subjectAltNames: hosts };
}

function deviceTemplate(deviceId: string, validity: Validity): CertificateTemplate {
  return { commonName: deviceId, validity, extendedKeyUsage: ['clientAuth'] };
}

/** A root nobody was told to trust, with a key of the same type, so only the chain differs. */
function untrustedAuthority(trusted: SigningAuthority, rng: Rng): SigningAuthority {
  return createAuthority(`mdm-conformance untrusted CA ${randomSuffix(rng)}`, authorityValidity(), trusted.keyType).authority;
}

function serverHostsOf(certPem: string): string[] {
  const hosts = certificateFacts(certPem).sans.map((san) => san.replace(/^(DNS|IP):/, ''));
  return hosts.length ? hosts : [...DEFAULT_SERVER_HOSTS];
}

// Validity periods start a day back so that small clock differences between peers never make a fresh
// certificate "not yet valid".
function authorityValidity(): Validity {
  const notAfter = new Date();
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + 10);
  return { notBefore: daysFromNow(-1), notAfter };
}

function currentValidity(): Validity {
  return { notBefore: daysFromNow(-1), notAfter: daysFromNow(5 * 365) };
}

function expiredValidity(): Validity {
  return { notBefore: daysFromNow(-30), notAfter: daysFromNow(-1) };
}

function futureValidity(): Validity {
  return { notBefore: daysFromNow(30), notAfter: daysFromNow(5 * 365) };
}

function daysFromNow(days: number): Date {
  return new Date(Date.now() + days * DAY_MS);
}

function newDeviceId(rng: Rng): string {
  return rng.uuid();
}

function otherDeviceId(deviceId: string, rng: Rng): string {
  let other = newDeviceId(rng);
  while (other === deviceId) other = newDeviceId(rng);
  return other;
}

function randomSuffix(rng: Rng): string {
  return rng.hex(4).toLowerCase();
}

function checkDeviceId(deviceId: string): void {
  // device-id.txt is read back trimmed, and a CN is one line.
  if (!deviceId || /\s/.test(deviceId)) throw new Error(`device id must be non-empty and contain no white space, got ${JSON.stringify(deviceId)}`);
}

function checkServerHosts(hosts: string[]): void {
  if (hosts.length === 0) throw new Error('serverHosts must name at least one host name or IP address');
  const bad = hosts.find((host) => !isIP(host) && !/^[A-Za-z0-9*]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(host));
  if (bad !== undefined) throw new Error(`serverHosts: ${JSON.stringify(bad)} is neither a host name nor an IP address`);
}

function unknownKind(role: string, kind: never): Error {
  return new Error(`unknown ${role} identity kind ${JSON.stringify(kind)}`);
}
