/**
 * Where the project's files are, whether this code runs from the TypeScript sources or from their compiled copy
 * in `dist/` (which has the same layout one level down): the folder that holds package.json.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

function projectRoot(from: string): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`mdm-conformance: no package.json above ${from}`);
    dir = up;
  }
  return dir;
}

export const PROJECT_ROOT = projectRoot(__dirname);

/** The harness's version, from package.json. */
export function harnessVersion(): string {
  return (require(join(PROJECT_ROOT, 'package.json')) as { version: string }).version;
}
