/**
 * The folder an enrollment leaves: the file set of a test PKI's device side, so that `--pki DIR` of test-server and
 * device takes it as it is (device.pem with any intermediates after it, device-key.pem, device-id.txt, and ca.pem
 * with the roots the provisioning document delivered, which the DM server's certificate must chain to), plus
 * enrollment.json (DM server URL, provider id, device id, DMClient settings, authentication policy, advisories),
 * provisioning.xml and exchanges/ with the SOAP exchanges, passwords and tokens redacted.
 *
 * (The provisioning document's layout is that of MS-MDE2 3.4.4.1.1.2 and the Windows enrollment pages.)
 *
 * The folder is written under a temporary sibling name and renamed at the end, so a failed or interrupted
 * enrollment never leaves a folder that looks usable.
 */
import { X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ENROLLMENT_RECORD_FILE, PKI_FILES, readDevicePki, type DevicePki } from '../pki/files';
import { redact } from '../report/redact';
import type { EnrollmentResult } from './client';
import type { EnrollmentAdvisory } from './errors';
import type { RecordedExchange } from './http';

export interface EnrollmentRecord {
  format: 'mdm-conformance enrollment 1';
  enrolledAt: string;
  discoveryUrl: string;
  authPolicy: string;
  deviceId: string;
  dmUrl: string;
  providerId: string | null;
  certificate: { subject: string; issuer: string; fingerprint256: string; notBefore: string; notAfter: string };
  discovery: EnrollmentResult['discovery'];
  policy: EnrollmentResult['policy'];
  /** The APPLICATION w7 parameters; APPAUTH secrets are left out. */
  application: { parms: Record<string, string>; appAuth: Record<string, string>[] } | null;
  dmClient: { providerId: string; settings: Record<string, string>; poll: Record<string, string> | null; groups: Record<string, Record<string, string>> } | null;
  renewal: Record<string, string> | null;
  advisories: EnrollmentAdvisory[];
}

const SECRET_PARMS = new Set(['AAUTHSECRET', 'AAUTHDATA']);

export function enrollmentRecord(result: EnrollmentResult, enrolledAt: Date): EnrollmentRecord {
  const cert = new X509Certificate(result.identity.certPem);
  const app = result.provisioning.application;
  const dm = result.provisioning.dmClient;
  return {
    format: 'mdm-conformance enrollment 1',
    enrolledAt: enrolledAt.toISOString(),
    discoveryUrl: result.discoveryUrl,
    authPolicy: result.authPolicy,
    deviceId: result.deviceId,
    dmUrl: result.dmUrl,
    providerId: result.providerId ?? null,
    certificate: {
      subject: cert.subject.replace(/\n/g, ', '), issuer: cert.issuer.replace(/\n/g, ', '), fingerprint256: cert.fingerprint256,
      notBefore: new Date(cert.validFrom).toISOString(), notAfter: new Date(cert.validTo).toISOString(),
    },
    discovery: result.discovery,
    policy: result.policy,
    application: app ? { parms: app.parms, appAuth: app.appAuth.map(withoutSecrets) } : null,
    dmClient: dm ? { providerId: dm.providerId, settings: dm.settings, poll: dm.poll ?? null, groups: dm.groups } : null,
    renewal: result.provisioning.renewal ?? null,
    advisories: result.advisories,
  };
}

/** Writes the enrollment folder; refuses a `dir` that already holds files. */
export function writeEnrollment(dir: string, result: EnrollmentResult, enrolledAt = new Date()): void {
  if (existsSync(dir) && readdirSync(dir).length) throw new Error(`${dir} already exists and is not empty; choose another --out folder or remove it`);
  const parent = dirname(dir);
  mkdirSync(parent, { recursive: true });
  const partial = join(parent, `.${basename(dir)}.partial-${process.pid}-${Date.now()}`);
  try {
    mkdirSync(partial);
    const file = (name: string, text: string, mode = 0o644) => {
      writeFileSync(join(partial, name), text, { mode });
      chmodSync(join(partial, name), mode);
    };
    file(PKI_FILES.deviceCert, [result.identity.certPem, ...result.intermediates].map(endWithNewline).join(''));
    file(PKI_FILES.deviceKey, result.identity.keyPem, 0o600);
    file(PKI_FILES.deviceId, `${result.deviceId}\n`);
    file(PKI_FILES.caCert, result.roots.map(endWithNewline).join(''));
    file(ENROLLMENT_RECORD_FILE, `${JSON.stringify(enrollmentRecord(result, enrolledAt), null, 2)}\n`);
    file('provisioning.xml', redactProvisioning(result.provisioningXml));
    mkdirSync(join(partial, 'exchanges'));
    // APPAUTH secrets travel base64 inside the response: the recorded answer gets the redacted document instead.
    const encoded = Buffer.from(result.provisioningXml, 'utf8').toString('base64');
    const redactedEncoded = Buffer.from(redactProvisioning(result.provisioningXml), 'utf8').toString('base64');
    result.exchanges.forEach((x, i) => {
      const shown = x.responseBody?.includes(encoded) ? { ...x, responseBody: x.responseBody.split(encoded).join(redactedEncoded) } : x;
      writeFileSync(join(partial, 'exchanges', `${String(i + 1).padStart(2, '0')}-${x.step}.txt`), exchangeText(shown));
    });
    if (existsSync(dir)) rmSync(dir, { recursive: true });
    renameSync(partial, dir);
  } catch (e) {
    rmSync(partial, { recursive: true, force: true });
    throw e;
  }
}

/** The device side of an enrollment folder and its record. */
export function readEnrollment(dir: string): { pki: DevicePki; record: EnrollmentRecord } {
  const path = join(dir, ENROLLMENT_RECORD_FILE);
  if (!existsSync(path)) throw new Error(`${dir} holds no ${ENROLLMENT_RECORD_FILE}: it is not a folder written by enroll`);
  let record: EnrollmentRecord;
  try {
    record = JSON.parse(readFileSync(path, 'utf8')) as EnrollmentRecord;
  } catch (e) {
    throw new Error(`bad ${path}: ${(e as Error).message}`);
  }
  if (record.format !== 'mdm-conformance enrollment 1') throw new Error(`bad ${path}: unknown format ${JSON.stringify(record.format)}`);
  return { pki: readDevicePki(dir), record };
}

/** One exchange as text: request line, headers, body; then the answer, or why none came. */
export function exchangeText(x: RecordedExchange): string {
  const headers = (h: Record<string, string>) => Object.entries(redact.headers(h)).map(([k, v]) => `${k}: ${v}`).join('\n');
  const lines = [`# ${x.step}, ${x.startedAt}, ${x.durationMs} ms`, `${x.method} ${x.url}`, headers(x.requestHeaders), '', x.requestBody, ''];
  if (x.status !== undefined) lines.push(`HTTP ${x.status}`, headers(x.responseHeaders ?? {}), '', x.responseBody ?? '');
  else lines.push(`(no answer: ${x.error ?? 'unknown'})`);
  return `${lines.join('\n')}\n`;
}

function withoutSecrets(parms: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(parms).map(([k, v]) => [k, SECRET_PARMS.has(k) ? '[redacted]' : v]));
}

function redactProvisioning(xml: string): string {
  return xml.replace(/(<parm\s+name="(?:AAUTHSECRET|AAUTHDATA)"\s+value=")[^"]*(")/g, '$1[redacted]$2');
}

function endWithNewline(pem: string): string {
  return pem.endsWith('\n') ? pem : `${pem}\n`;
}
