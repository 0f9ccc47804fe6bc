/**
 * Device profiles: the reference device's management tree as shipped, declared in JSON (schema in
 * `profile.schema.json`) so a vendor can describe another device without code. A profile holds only facts that do
 * not depend on the device's identity; the device id (`./DevInfo/DevId`) is supplied when the profile is loaded.
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import { newAjv } from '../json-schema';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import schema from './profile.schema.json';
import { PROJECT_ROOT } from '../paths';
import { DmTree, fitsFormat, formatNodeUri, type AccessType, type NodeFormat } from './tree';

export interface ProfileNode {
  description?: string;
  format: NodeFormat;
  access: AccessType[];
  type?: string;
  value?: string;
  permanent?: boolean;
  async?: boolean;
  unsupported?: boolean;
  denied?: boolean;
  children?: Record<string, ProfileNode>;
}

export interface DeviceProfile {
  name: string;
  description?: string;
  tree: Record<string, ProfileNode>;
}

export interface LoadOptions {
  /** The device's identity: becomes `./DevInfo/DevId` (and the SyncHdr Source of its messages). */
  deviceId: string;
}

/** A profile that cannot be used; `pointer` locates the offending field, with node names for the tree part. */
export class ProfileError extends Error {
  constructor(
    readonly pointer: string,
    readonly reason: string,
  ) {
    super(pointer ? `profile ${pointer}: ${reason}` : `profile: ${reason}`);
    this.name = 'ProfileError';
  }
}

export const defaultProfilePath = join(PROJECT_ROOT, 'fixtures/profiles/windows-device.json');

/** Compiled on first use, by the commands that read a device profile. */
let validate: ValidateFunction<DeviceProfile> | undefined;

/** Check a parsed profile against the schema and the rules a schema cannot state; throws ProfileError. */
export function validateProfile(json: unknown): DeviceProfile {
  validate ??= newAjv({ allErrors: false, strictSchema: true, strictTypes: true, strictTuples: true }).compile<DeviceProfile>(schema);
  if (!validate(json)) {
    const error = validate.errors?.[0];
    throw error ? profileError(error) : new ProfileError('', 'invalid');
  }
  const problem = semanticProblem(json);
  if (problem) throw problem;
  return json;
}

export function loadProfile(json: unknown, options: LoadOptions): DmTree {
  const profile = validateProfile(json);
  if (!options.deviceId) throw new ProfileError('', 'a device id is needed to load a profile');
  const tree = new DmTree();
  defineChildren(tree, [], profile.tree, (uri) => {
    // First child, as in the DevInfo Items of the package 1 Windows sends (DevId, Man, Mod, DmV, Lang).
    if (uri === DEVINFO) tree.define(`${DEVINFO}/DevId`, { format: 'chr', access: ['Get'], value: options.deviceId, permanent: true });
  });
  return tree;
}

export function readProfileFile(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8'));
}

/** The default profile is read and validated once per process: fleets and benchmarks build many trees from it. */
let defaultProfile: DeviceProfile | undefined;

export function loadDefaultTree(deviceId: string): DmTree {
  defaultProfile ??= validateProfile(readProfileFile(defaultProfilePath));
  return loadProfile(defaultProfile, { deviceId });
}

const DEVINFO = './DevInfo';

function defineChildren(tree: DmTree, parent: string[], children: Record<string, ProfileNode>, defined: (uri: string) => void): void {
  for (const [name, node] of Object.entries(children)) {
    const segments = [...parent, name];
    const uri = formatNodeUri(segments);
    const { children: grandChildren, description: _description, ...definition } = node;
    tree.define(uri, definition);
    defined(uri);
    if (grandChildren) defineChildren(tree, segments, grandChildren, defined);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Rules beyond the schema

function semanticProblem(profile: DeviceProfile): ProfileError | undefined {
  for (const scope of ['Device', 'device']) {
    if (scope in profile.tree) {
      return new ProfileError(`/tree/${scope}`, `'${scope}' is the device scope prefix (./${scope}/… = ./…), not a node`);
    }
  }
  if (profile.tree.DevInfo.children && 'DevId' in profile.tree.DevInfo.children) {
    return new ProfileError('/tree/DevInfo/DevId', 'DevId is the device id given at load time, not part of a profile');
  }
  return nodeProblem(profile.tree, '/tree');
}

function nodeProblem(children: Record<string, ProfileNode>, pointer: string): ProfileError | undefined {
  for (const [name, node] of Object.entries(children)) {
    const here = `${pointer}/${escapePointer(name)}`;
    if (node.value !== undefined && !fitsFormat(node.format, node.value)) {
      return new ProfileError(`${here}/value`, `'${node.value}' is not a valid ${node.format} value`);
    }
    if (node.async && !node.access.includes('Exec') && !node.access.includes('Replace')) {
      return new ProfileError(`${here}/async`, 'an async node needs Exec or Replace access');
    }
    const inner = node.children && nodeProblem(node.children, here);
    if (inner) return inner;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Error wording

/** Messages for the schema's structural rules, whose own ajv wording ("must NOT be valid") says nothing. */
const RULES: [suffix: string, reason: string][] = [
  ['/allOf/0/then/not', 'an interior node (format node) has no value'],
  ['/allOf/0/else/not', 'only an interior node (format node) has children'],
];

const BAD_NAME = "not a valid node name (empty, '*', '.', '..' or containing '/')";

function profileError(error: ErrorObject): ProfileError {
  if (error.propertyName !== undefined) {
    const parent = displayPointer(error.instancePath.replace(/\/children$/, ''));
    return new ProfileError(`${parent}/${escapePointer(error.propertyName)}`, BAD_NAME);
  }
  return new ProfileError(displayPointer(error.instancePath), reasonOf(error));
}

function reasonOf(error: ErrorObject): string {
  const rule = RULES.find(([suffix]) => error.schemaPath.endsWith(suffix));
  if (rule) return rule[1];
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties':
      return `must NOT have additional property '${String(params.additionalProperty)}'`;
    case 'enum':
      return `${error.message} (${(params.allowedValues as unknown[]).join(', ')})`;
    case 'const':
      return `must be '${String(params.allowedValue)}'`;
    default:
      return String(error.message);
  }
}

/**
 * A JSON pointer into the profile, with the structural `children` steps left out so that the tree part reads as
 * node names: `/tree/DevInfo/children/Man` becomes `/tree/DevInfo/Man`.
 */
export function displayPointer(instancePath: string): string {
  const segments = instancePath.split('/').slice(1);
  if (segments[0] !== 'tree') return instancePath;
  const out = ['tree'];
  let i = 1;
  while (i < segments.length) {
    out.push(segments[i++]);
    if (segments[i] !== 'children' || i + 1 >= segments.length) break;
    i++;
  }
  out.push(...segments.slice(i));
  return `/${out.join('/')}`;
}

function escapePointer(name: string): string {
  return name.replace(/~/g, '~0').replace(/\//g, '~1');
}
