/** The `--profile FILE` capability profile: which optional features the implementation under test declares. */
import Ajv from 'ajv';
import { readFileSync } from 'node:fs';
import type { Feature } from '../scenarios/scenario';
import schema from './capability-profile.schema.json';

const FEATURE_KEYS: Record<string, Feature> = {
  md5Auth: 'md5-auth',
  basicAuth: 'basic-auth',
  largeObjects: 'large-objects',
  atomic: 'atomic',
  wbxml: 'wbxml',
  messageSigning: 'message-signing',
};

export interface CapabilityProfile {
  name?: string;
  features?: Partial<Record<keyof typeof FEATURE_KEYS, boolean>>;
}

const validate = new Ajv({ allErrors: true }).compile<CapabilityProfile>(schema);

export class ProfileFileError extends Error {}

export function readCapabilityProfile(path: string): CapabilityProfile {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ProfileFileError(`profile ${path}: ${e instanceof SyntaxError ? `not valid JSON (${e.message})` : (e as Error).message}`);
  }
  if (!validate(json)) {
    const err = validate.errors![0];
    const where = err.instancePath || '/';
    const detail = err.keyword === 'additionalProperties' ? `unknown field "${(err.params as { additionalProperty: string }).additionalProperty}"` : err.message;
    throw new ProfileFileError(`profile ${path}: ${where}: ${detail}`);
  }
  return json;
}

/**
 * Declared features over the defaults: servers must support large objects (MDM-LO-008) and Atomic, so those are
 * on unless the profile says otherwise; authentication schemes follow --auth.
 */
export function featuresOf(profile: CapabilityProfile | undefined, auth: 'md5' | 'basic' | undefined): Set<Feature> {
  const declared: Record<string, boolean> = { largeObjects: true, atomic: true, md5Auth: auth === 'md5', basicAuth: auth === 'basic', ...profile?.features };
  return new Set(Object.entries(declared).filter(([, on]) => on).map(([k]) => FEATURE_KEYS[k]));
}
