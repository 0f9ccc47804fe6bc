/**
 * The test PKI: a root CA with server and device identities for mutual TLS, the broken identities the
 * authentication tests offer, and the `pki init` file set.
 *
 *   createTestPki(opts)                        -> { deviceId, ca, server, device }
 *   mintDeviceIdentity(pki, kind, { deviceId }) / mintServerIdentity(pki, kind)
 *   writePki(dir, pki, { force }) / readPki(dir)
 *   readDevicePki(dir)                         -> a device's side of a pki init or enroll folder
 *   certificateFacts(certPem)                  -> subject, issuer, validity, EKU, SANs, fingerprint
 */
export type { Identity, KeyType } from './certificates';
export {
  createTestPki, mintDeviceIdentity, mintServerIdentity, DEFAULT_SERVER_HOSTS, WRONG_SERVER_HOST,
  type BadDeviceIdentity, type BadServerIdentity, type PkiOptions, type TestPki,
} from './identities';
export { readPki, writePki, PKI_FILES, readDevicePki, ENROLLMENT_RECORD_FILE, type DevicePki } from './files';
export { certificateFacts, type CertificateFacts } from './facts';
