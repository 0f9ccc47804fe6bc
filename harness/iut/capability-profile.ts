/** The `--profile FILE` capability profile: which optional features the implementation under test declares. */
import type { ValidateFunction } from 'ajv';
import { newAjv } from '../json-schema';
import { readFileSync } from 'node:fs';
import type { ClientUnderTest } from '../scenarios/client/target';
import type { Feature } from '../scenarios/scenario';
import schema from './capability-profile.schema.json';

/** The optional features, under the one name they have everywhere: the profile, the report, `list features`. */
export const FEATURES: readonly { name: Feature; help: string }[] = [
  { name: 'md5-auth', help: 'SyncML MD5 digest authentication (syncml:auth-md5); on with --auth md5' },
  { name: 'basic-auth', help: 'SyncML basic authentication (syncml:auth-basic); on with --auth basic' },
  { name: 'large-objects', help: 'large objects and multi-message packages (OMA-DMP 6, 7); on by default, servers must support them (MDM-LO-008)' },
  { name: 'atomic', help: 'Atomic command groups; on by default' },
  { name: 'wbxml', help: 'WBXML encoding (application/vnd.syncml.dm+wbxml, MDM-TRN-007); on with --encoding wbxml' },
  { name: 'message-signing', help: 'MS-Signature message signing (MDM-TRN-014, MDM-TRN-015); on with test-server --sign' },
  { name: 'hmac', help: 'HMAC integrity (syncml:auth-MAC in the x-syncml-hmac header, MDM-AUTH-027..029); uses the --client-credentials secret' },
];

export interface CapabilityProfile {
  name?: string;
  features?: Partial<Record<Feature, boolean>>;
  /** The node map of a client under test (see ClientNodes): a role replaced, or unmapped with null. */
  nodes?: ClientUnderTest['nodes'];
}

/** Compiled on first use, by the commands that read a profile. */
let validate: ValidateFunction<CapabilityProfile> | undefined;

export class ProfileFileError extends Error {}

export function readCapabilityProfile(path: string): CapabilityProfile {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ProfileFileError(`profile ${path}: ${e instanceof SyntaxError ? `not valid JSON (${e.message})` : (e as Error).message}`);
  }
  validate ??= newAjv().compile<CapabilityProfile>(schema);
  if (!validate(json)) {
    const err = validate.errors![0];
    const where = err.instancePath || '/';
    const unknown = err.keyword === 'additionalProperties' ? (err.params as { additionalProperty: string }).additionalProperty : undefined;
    const valid = where === '/features' ? `; features: ${FEATURES.map((f) => f.name).join(', ')}` : '';
    const detail = unknown !== undefined ? `unknown field "${unknown}"${valid}` : err.message;
    throw new ProfileFileError(`profile ${path}: ${where}: ${detail}`);
  }
  return json;
}

/**
 * Declared features over the defaults: servers must support large objects (MDM-LO-008) and Atomic, so those are
 * on unless the profile says otherwise; authentication schemes follow --auth.
 */
export function featuresOf(profile: CapabilityProfile | undefined, auth: 'md5' | 'basic' | undefined): Set<Feature> {
  const declared: Partial<Record<Feature, boolean>> = { 'large-objects': true, atomic: true, 'md5-auth': auth === 'md5', 'basic-auth': auth === 'basic', ...profile?.features };
  return new Set(Object.entries(declared).filter(([, on]) => on).map(([k]) => k as Feature));
}
