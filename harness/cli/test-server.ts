/** `mdm-conformance test-server` (CLI contract, "Testing a server"). */
import { join, resolve } from 'node:path';
import { certificateFacts } from '../pki';
import { featuresOf, ProfileFileError, readCapabilityProfile } from '../iut/capability-profile';
import { EMBEDDED_CREDENTIALS, EMBEDDED_FEATURES } from '../iut/embedded-server';
import { reachServer } from '../iut/preflight';
import type { RunConfig } from '../iut/run-config';
import { many, one, parseArgs, seedOf, UsageError, type ParsedArgs } from './args';
import { credentialsOf } from './options';
import { readExpectations } from './expectations';
import { loadDevicePki, loadPki, readPem, throwawayPki } from './identity';
import { runSuites, SUITE_NAMES } from './run-suites';

export const COMMON_FLAGS = {
  suite: true, shard: false, reports: false, auth: false, 'client-credentials': false, 'server-credentials': false, profile: false, expect: false, pki: false, seed: false,
} as const;

export function shardOf(args: ParsedArgs): string | undefined {
  const shard = one(args, 'shard');
  if (shard === undefined) return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(shard);
  if (!m || Number(m[1]) < 1 || Number(m[1]) > Number(m[2])) throw new UsageError('--shard takes I/N, e.g. 1/2 (this machine runs part I of N)');
  return shard;
}

export function suitesOf(args: ParsedArgs): string[] {
  const suites = many(args, 'suite');
  for (const s of suites) if (!SUITE_NAMES.includes(s)) throw new UsageError(`unknown suite "${s}"; suites: ${SUITE_NAMES.join(', ')}`);
  return suites;
}

export function profileOf(args: ParsedArgs) {
  const path = one(args, 'profile');
  if (!path) return undefined;
  try {
    return readCapabilityProfile(path);
  } catch (e) {
    if (e instanceof ProfileFileError) throw new UsageError(e.message);
    throw e;
  }
}

export async function testServerCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const args = parseArgs(argv, {
    values: { ...COMMON_FLAGS, url: false, 'server-ca': false, 'client-cert': false, 'client-key': false, 'device-id': false, control: false },
    switches: ['strict'],
  });
  const reportsDir = resolve(one(args, 'reports') ?? 'reports');
  const expectFile = one(args, 'expect');
  const expectations = expectFile ? { file: expectFile, content: readExpectations(expectFile) } : undefined;
  const profile = profileOf(args);
  const url = one(args, 'url');
  const config: RunConfig = {
    mode: 'server', reportsDir, startedAt: new Date().toISOString(), strict: args.switches.has('strict'), seed: seedOf(args), suites: suitesOf(args), shard: shardOf(args),
    features: [], profilePath: one(args, 'profile'),
  };
  if (!url) {
    const dir = one(args, 'pki') ?? throwawayPki().dir;
    const pki = loadPki(dir);
    config.server = {
      embedded: true, pkiDir: dir, serverCa: join(dir, 'ca.pem'), clientCert: join(dir, 'device.pem'), clientKey: join(dir, 'device-key.pem'),
      deviceId: pki.deviceId, credentials: EMBEDDED_CREDENTIALS,
    };
    config.features = [...(profile ? featuresOf(profile, 'md5') : EMBEDDED_FEATURES)];
    out('testing the embedded reference server (pass --url to test yours)');
  } else {
    const pkiDir = one(args, 'pki');
    const pki = pkiDir ? loadDevicePki(pkiDir) : undefined;
    const certFile = one(args, 'client-cert') ?? (pkiDir && join(pkiDir, 'device.pem'));
    const keyFile = one(args, 'client-key') ?? (pkiDir && join(pkiDir, 'device-key.pem'));
    const caFile = one(args, 'server-ca') ?? (pkiDir && join(pkiDir, 'ca.pem'));
    if (!certFile || !keyFile) throw new UsageError('the device needs an identity the server trusts: pass --pki DIR (from pki init) or --client-cert FILE --client-key FILE');
    if (!caFile) throw new UsageError('the harness must verify the server certificate: pass --server-ca FILE or --pki DIR');
    const certPem = readPem(certFile, '--client-cert');
    const deviceId = one(args, 'device-id') ?? pki?.deviceId ?? certificateFacts(certPem).subjectCN;
    if (!deviceId) throw new UsageError('cannot tell the device id: pass --device-id ID');
    const credentials = credentialsOf(args, 'client-credentials');
    const problem = await reachServer(url, { ca: readPem(caFile, '--server-ca'), certPem, keyPem: readPem(keyFile, '--client-key') });
    if (problem) {
      out(`error: ${problem}`);
      return 2;
    }
    config.server = {
      embedded: false, url, pkiDir: pki && 'keyPem' in pki.ca && !one(args, 'client-cert') ? pkiDir : undefined, serverCa: caFile, clientCert: certFile, clientKey: keyFile,
      deviceId, control: one(args, 'control'), credentials,
    };
    config.features = [...featuresOf(profile, credentials ? (credentials.scheme === 'syncml:auth-md5' ? 'md5' : 'basic') : undefined)];
    if (!config.server.control) out('note: no --control given: scenarios that need queued commands will be inconclusive');
  }
  return runSuites(config, expectations, out);
}
