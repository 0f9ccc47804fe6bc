/**
 * The certificate enrollment policy exchange: MS-XCEP GetPolicies as MS-MDE2 3.3 profiles it. The client asks with
 * an empty client and request filter; of the answer it uses what MS-MDE2 uses, the minimal key length and the hash
 * algorithm (an OID reference into the response's oIDs). Without a policy service, or without those fields, the
 * Windows defaults apply: 2048-bit keys and SHA-1 (Windows "Federated authentication device enrollment").
 */
import { escapeText } from '../syncml/xml';
import { child, children, isNil, trimmedText } from './dom';
import { ACTION, NS } from './names';
import { soapEnvelope, type ParsedEnvelope } from './soap';

export type HashName = 'sha1' | 'sha256' | 'sha384' | 'sha512';

export interface EnrollmentPolicy {
  minimalKeyLength: number;
  hashAlgorithm: HashName;
  /** The OID the policy named for the hash, when it named one. */
  hashAlgorithmOid?: string;
}

export const DEFAULT_POLICY: EnrollmentPolicy = { minimalKeyLength: 2048, hashAlgorithm: 'sha1' };

/** Hash and signature OIDs a policy may name, by the hash they imply. */
const HASH_OIDS: Record<string, HashName> = {
  '1.3.14.3.2.26': 'sha1',
  '1.3.14.3.2.29': 'sha1',
  '1.2.840.113549.1.1.5': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '1.2.840.113549.1.1.11': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '1.2.840.113549.1.1.12': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
  '1.2.840.113549.1.1.13': 'sha512',
};

const OID_NAMES: Record<string, string> = {
  '2.16.840.1.101.3.4.2.1': 'szOID_NIST_sha256',
  '1.3.14.3.2.29': 'szOID_OIWSEC_sha1RSASign',
};

export function getPoliciesBody(): string {
  return `<GetPolicies xmlns="${NS.policy}"><client><lastUpdate xsi:nil="true" xmlns:xsi="${NS.xsi}"/>` +
    `<preferredLanguage xsi:nil="true" xmlns:xsi="${NS.xsi}"/></client><requestFilter xsi:nil="true" xmlns:xsi="${NS.xsi}"/></GetPolicies>`;
}

export function isGetPolicies(env: ParsedEnvelope): boolean {
  return env.payload?.ns === NS.policy && env.payload.name.endsWith('GetPolicies');
}

/** A GetPoliciesResponse with one policy naming the key length and the hash algorithm by OID reference 0. */
export function getPoliciesResponse(policy: { minimalKeyLength: number; hashAlgorithmOid: string }, relatesTo: string | undefined): string {
  const nil = (name: string) => `<${name} xsi:nil="true"/>`;
  const body = `<GetPoliciesResponse xmlns="${NS.policy}" xmlns:xsi="${NS.xsi}"><response>` +
    `${nil('policyID')}${nil('policyFriendlyName')}${nil('nextUpdateHours')}${nil('policiesNotChanged')}` +
    `<policies><policy><policyOIDReference>0</policyOIDReference>${nil('cAs')}<attributes>` +
    `<commonName>mdm-conformance device</commonName><policySchema>3</policySchema>` +
    `<privateKeyAttributes><minimalKeyLength>${policy.minimalKeyLength}</minimalKeyLength>${nil('keySpec')}${nil('keyUsageProperty')}` +
    `${nil('permissions')}${nil('algorithmOIDReference')}${nil('cryptoProviders')}</privateKeyAttributes>` +
    `${nil('supersededPolicies')}${nil('privateKeyFlags')}${nil('subjectNameFlags')}${nil('enrollmentFlags')}${nil('generalFlags')}` +
    `<hashAlgorithmOIDReference>0</hashAlgorithmOIDReference>${nil('rARequirements')}${nil('keyArchivalAttributes')}${nil('extensions')}` +
    `</attributes></policy></policies></response>${nil('cAs')}<oIDs><oID><value>${escapeText(policy.hashAlgorithmOid)}</value>` +
    `<group>1</group><oIDReferenceID>0</oIDReferenceID><defaultName>${OID_NAMES[policy.hashAlgorithmOid] ?? policy.hashAlgorithmOid}</defaultName>` +
    `</oID></oIDs></GetPoliciesResponse>`;
  return soapEnvelope({ action: ACTION.getPoliciesResponse, relatesTo }, body);
}

/** The key parameters of the first policy of a response; a field missing or unknown keeps its default. */
export function readGetPoliciesResponse(env: ParsedEnvelope): { policy: EnrollmentPolicy } | { error: string } {
  const response = env.payload;
  if (!response || response.ns !== NS.policy || !response.name.endsWith('GetPoliciesResponse')) {
    return { error: `the answer is not a GetPoliciesResponse (Body holds <${response?.name ?? 'nothing'}>)` };
  }
  const policy = child(child(child(response, NS.policy, 'response'), NS.policy, 'policies'), NS.policy, 'policy');
  const attributes = child(policy, NS.policy, 'attributes');
  const out: EnrollmentPolicy = { ...DEFAULT_POLICY };
  const keyLength = child(child(attributes, NS.policy, 'privateKeyAttributes'), NS.policy, 'minimalKeyLength');
  if (keyLength && !isNil(keyLength)) {
    const bits = Number(trimmedText(keyLength));
    if (!Number.isInteger(bits) || bits <= 0 || bits > 16384) return { error: `minimalKeyLength "${trimmedText(keyLength)}" is not a key length` };
    out.minimalKeyLength = bits;
  }
  const hashRef = child(attributes, NS.policy, 'hashAlgorithmOIDReference');
  if (hashRef && !isNil(hashRef)) {
    const ref = trimmedText(hashRef);
    const oid = children(child(response, NS.policy, 'oIDs'), NS.policy, 'oID').find((o) => trimmedText(child(o, NS.policy, 'oIDReferenceID')) === ref);
    const value = trimmedText(child(oid, NS.policy, 'value'));
    if (!value) return { error: `hashAlgorithmOIDReference ${ref} names no oID of the response` };
    const hash = HASH_OIDS[value];
    if (!hash) return { error: `hash algorithm OID ${value} is not one the client knows (SHA-1 or SHA-2)` };
    out.hashAlgorithm = hash;
    out.hashAlgorithmOid = value;
  }
  return { policy: out };
}
