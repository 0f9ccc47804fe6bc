/**
 * The provisioning document an enrollment delivers (MS-MDE2 3.4.4.1.1.2: a wap-provisioningdoc, base64 in the
 * response's BinarySecurityToken), as the Windows enrollment pages lay it out:
 *   CertificateStore/Root/System/<thumbprint>  EncodedCertificate: the root the device is to trust
 *   CertificateStore/CA/System/<thumbprint>    EncodedCertificate: intermediates
 *   CertificateStore/My/User|Device/<thumbprint> EncodedCertificate: the issued device certificate
 *   APPLICATION (APPID w7)                     PROVIDER-ID, NAME, ADDR (the DM server), DEFAULTENCODING, back-off
 *                                              settings, APPAUTH credentials
 *   DMClient/Provider/<PROVIDER-ID>            DMClient CSP settings, the Poll schedule among them
 * Building one (for the reference service) and reading one (for the client) are both here.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { childElements, escapeAttr, localName, type XmlElement } from '../syncml/xml';
import { parseEnrollmentXml } from './dom';

export interface ProvisioningSpec {
  deviceCertPem: string;
  /** `User` (the Windows examples) or `Device`. */
  store?: 'User' | 'Device';
  roots: string[];
  intermediates?: string[];
  /** The DM server address; left out only to make a broken document. */
  dmUrl?: string;
  providerId: string;
  name?: string;
  defaultEncoding?: string;
  /** DMClient/Provider/<id> parms, besides the Poll schedule. */
  dmClientSettings?: Record<string, string>;
  poll?: Record<string, number | boolean>;
}

export interface Characteristic {
  type: string;
  parms: { name: string; value?: string; datatype?: string }[];
  children: Characteristic[];
}

export interface ProvisioningDocument {
  roots: string[];
  intermediates: string[];
  /** Certificates of CertificateStore/My, with the store (User or Device) they go to. */
  myCertificates: { store: string; thumbprint: string; certPem: string }[];
  /** The APPLICATION characteristic with APPID w7. */
  application?: { parms: Record<string, string>; appAuth: Record<string, string>[] };
  /** DMClient/Provider/<id>. */
  dmClient?: { providerId: string; settings: Record<string, string>; poll?: Record<string, string>; groups: Record<string, Record<string, string>> };
  /** CertificateStore/My/WSTEP/Renew, when the server offers renewal. */
  renewal?: Record<string, string>;
  /** Certificates that did not decode, each as "where: why". */
  badCertificates: string[];
}

const DEFAULT_POLL: Record<string, number | boolean> = {
  NumberOfFirstRetries: 8,
  IntervalForFirstSetOfRetries: 15,
  NumberOfSecondRetries: 5,
  IntervalForSecondSetOfRetries: 3,
  NumberOfRemainingScheduledRetries: 0,
  IntervalForRemainingScheduledRetries: 1560,
  PollOnLogin: true,
};

export function buildProvisioningDocument(spec: ProvisioningSpec): string {
  const parm = (name: string, value?: string, datatype?: string) =>
    `<parm name="${escapeAttr(name)}"${value === undefined ? '' : ` value="${escapeAttr(value)}"`}${datatype ? ` datatype="${datatype}"` : ''}/>`;
  const certificate = (pem: string) => `<characteristic type="${thumbprint(pem)}">${parm('EncodedCertificate', derBase64(pem))}</characteristic>`;
  const store = (path: string[], inner: string) => path.reduceRight((acc, type) => `<characteristic type="${type}">${acc}</characteristic>`, inner);
  const parts: string[] = [];
  parts.push(store(['CertificateStore', 'Root', 'System'], spec.roots.map(certificate).join('')));
  if (spec.intermediates?.length) parts.push(store(['CertificateStore', 'CA', 'System'], spec.intermediates.map(certificate).join('')));
  parts.push(store(['CertificateStore', 'My', spec.store ?? 'User'], `${certificate(spec.deviceCertPem)}<characteristic type="PrivateKeyContainer"/>`));
  const subject = new X509Certificate(spec.deviceCertPem).subject.split('\n').find((l) => l.startsWith('CN='))?.slice(3) ?? '';
  parts.push(
    `<characteristic type="APPLICATION">${parm('APPID', 'w7')}${parm('PROVIDER-ID', spec.providerId)}${parm('NAME', spec.name ?? spec.providerId)}` +
      (spec.dmUrl === undefined ? '' : parm('ADDR', spec.dmUrl)) +
      `${parm('CONNRETRYFREQ', '6')}${parm('INITIALBACKOFFTIME', '30000')}${parm('MAXBACKOFFTIME', '120000')}${parm('BACKCOMPATRETRYDISABLED')}` +
      `${parm('DEFAULTENCODING', spec.defaultEncoding ?? 'application/vnd.syncml.dm+xml')}` +
      `${parm('SSLCLIENTCERTSEARCHCRITERIA', `Subject=CN%3d${encodeURIComponent(subject)}&Stores=My%5C${spec.store ?? 'User'}`)}</characteristic>`,
  );
  const settings = Object.entries(spec.dmClientSettings ?? {}).map(([k, v]) => parm(k, v, 'string')).join('');
  const poll = Object.entries({ ...DEFAULT_POLL, ...spec.poll })
    .map(([k, v]) => parm(k, String(v), typeof v === 'boolean' ? 'boolean' : 'integer'))
    .join('');
  parts.push(store(['DMClient', 'Provider', spec.providerId], `${settings}<characteristic type="Poll">${poll}</characteristic>`));
  return `<wap-provisioningdoc version="1.1">${parts.join('')}</wap-provisioningdoc>`;
}

export function readProvisioningDocument(xml: string): ProvisioningDocument | { error: string } {
  const parsed = parseEnrollmentXml(xml);
  if ('error' in parsed) return { error: `the provisioning document is not XML: ${parsed.error}` };
  if (localName(parsed.root.name) !== 'wap-provisioningdoc') return { error: `the provisioning document's root is <${parsed.root.name}>, not <wap-provisioningdoc>` };
  const top = childElements(parsed.root).filter((c) => localName(c.name) === 'characteristic').map(readCharacteristic);
  const doc: ProvisioningDocument = { roots: [], intermediates: [], myCertificates: [], badCertificates: [] };
  for (const certStore of top.filter((c) => c.type === 'CertificateStore')) {
    for (const area of certStore.children) {
      for (const sub of area.children) {
        if (area.type === 'My' && sub.type === 'WSTEP') {
          doc.renewal = parmsOf(sub.children.find((c) => c.type === 'Renew'));
          continue;
        }
        for (const entry of sub.children) {
          const encoded = entry.parms.find((p) => p.name === 'EncodedCertificate')?.value;
          if (encoded === undefined) continue;
          const where = `CertificateStore/${area.type}/${sub.type}/${entry.type}`;
          const pem = pemOf(encoded);
          if (typeof pem !== 'string') {
            doc.badCertificates.push(`${where}: ${pem.error}`);
            continue;
          }
          if (area.type === 'Root') doc.roots.push(pem);
          else if (area.type === 'CA') doc.intermediates.push(pem);
          else if (area.type === 'My') doc.myCertificates.push({ store: sub.type, thumbprint: entry.type, certPem: pem });
        }
      }
    }
  }
  const app = top.find((c) => c.type === 'APPLICATION' && c.parms.some((p) => p.name === 'APPID' && p.value === 'w7'));
  if (app) doc.application = { parms: parmsOf(app), appAuth: app.children.filter((c) => c.type === 'APPAUTH').map(parmsOf) };
  const provider = top.find((c) => c.type === 'DMClient')?.children.find((c) => c.type === 'Provider')?.children[0];
  if (provider) {
    const groups: Record<string, Record<string, string>> = {};
    for (const c of provider.children) groups[c.type] = parmsOf(c);
    doc.dmClient = { providerId: provider.type, settings: parmsOf(provider), poll: groups.Poll, groups };
  }
  return doc;
}

function readCharacteristic(el: XmlElement): Characteristic {
  const out: Characteristic = { type: el.attrs.type ?? '', parms: [], children: [] };
  for (const c of childElements(el)) {
    const name = localName(c.name);
    if (name === 'parm') out.parms.push({ name: c.attrs.name ?? '', value: c.attrs.value, datatype: c.attrs.datatype });
    else if (name === 'characteristic') out.children.push(readCharacteristic(c));
  }
  return out;
}

function parmsOf(c: Characteristic | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of c?.parms ?? []) out[p.name] = p.value ?? '';
  return out;
}

function pemOf(base64: string): string | { error: string } {
  try {
    return new X509Certificate(Buffer.from(base64.replace(/\s+/g, ''), 'base64')).toString();
  } catch (e) {
    return { error: `EncodedCertificate is not a base64 DER certificate (${(e as Error).message})` };
  }
}

function derBase64(pem: string): string {
  return new X509Certificate(pem).raw.toString('base64');
}

/** The SHA-1 thumbprint in upper-case hex, as the characteristic types of the Windows examples are named. */
export function thumbprint(pem: string): string {
  return createHash('sha1').update(new X509Certificate(pem).raw).digest('hex').toUpperCase();
}
