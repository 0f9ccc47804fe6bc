/** Where a CLI command gets its TLS material: a `pki init` directory, explicit files, or a fresh throwaway PKI. */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestPki, ENROLLMENT_RECORD_FILE, PKI_FILES, readDevicePki, readPki, writePki, type DevicePki, type TestPki } from '../pki';
import { removeAtExit } from '../iut/cleanup';
import { seeded } from '../protocol/random';
import { UsageError } from './args';

export function loadPki(dir: string): TestPki {
  if (existsSync(join(dir, ENROLLMENT_RECORD_FILE)) && !existsSync(join(dir, PKI_FILES.caKey))) {
    throw new UsageError(`${dir} holds an enrolled device identity (written by enroll), not a test PKI with a CA key; this needs a folder from: npx mdm-conformance pki init --out DIR`);
  }
  try {
    return readPki(dir);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** The device side of a `pki init` folder or of an `enroll` folder: what a device presents and trusts. */
export function loadDevicePki(dir: string): DevicePki {
  try {
    return readDevicePki(dir);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

export function readPem(path: string, flag: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`${flag} ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
}

/** A fresh PKI written to a temporary directory, for runs that were given none; its names follow the run's seed. */
export function throwawayPki(seed: number, deviceId?: string): { pki: TestPki; dir: string } {
  const pki = createTestPki({ keyType: 'ec', deviceId, rng: seeded(seed, 'throwaway-pki') });
  // Holds the CA and device keys: gone when the command exits, Ctrl-C included.
  const dir = removeAtExit(mkdtempSync(join(tmpdir(), 'mdm-conformance-pki-')));
  writePki(dir, pki, { force: true });
  return { pki, dir };
}
