/** `mdm-conformance test-client` (CLI contract, "Testing a client"). */
import { join, resolve } from 'node:path';
import { EMBEDDED_CLIENT_CREDENTIALS, EMBEDDED_CLIENT_FEATURES } from '../iut/embedded-client';
import { featuresOf } from '../iut/capability-profile';
import { execTrigger } from '../iut/trigger';
import type { RunConfig } from '../iut/run-config';
import { ReferenceServer } from '../server/reference-server';
import { hostPort, one, parseArgs, seedOf, UsageError } from './args';
import { readExpectations } from './expectations';
import { loadPki, throwawayPki } from './identity';
import { runSuites } from './run-suites';
import { credentialsOf } from './options';
import { COMMON_FLAGS, profileOf, shardOf, suitesOf } from './test-server';

/** How long the first, probing session may take before the client counts as one that never connects. */
const PROBE_TIMEOUT_MS = 30_000;

export async function testClientCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const args = parseArgs(argv, { values: { ...COMMON_FLAGS, trigger: false, listen: false }, switches: ['strict', 'wait'] });
  const reportsDir = resolve(one(args, 'reports') ?? 'reports');
  const expectFile = one(args, 'expect');
  const expectations = expectFile ? { file: expectFile, content: readExpectations(expectFile) } : undefined;
  const profile = profileOf(args);
  const trigger = one(args, 'trigger');
  const wait = args.switches.has('wait');
  if (trigger && wait) throw new UsageError('--trigger and --wait exclude each other: either the harness starts each session, or the client polls by itself');
  const listen = one(args, 'listen');
  if (listen) hostPort(listen, '--listen');
  const pkiDir = one(args, 'pki') ?? throwawayPki().dir;
  loadPki(pkiDir); // a bad --pki directory is a usage error before anything runs
  const config: RunConfig = {
    mode: 'client', reportsDir, startedAt: new Date().toISOString(), strict: args.switches.has('strict'), seed: seedOf(args), suites: suitesOf(args), shard: shardOf(args),
    features: [], profilePath: one(args, 'profile'),
  };
  if (!trigger && !wait) {
    config.client = { embedded: true, pkiDir, credentials: EMBEDDED_CLIENT_CREDENTIALS };
    config.features = [...(profile ? featuresOf(profile, 'md5') : EMBEDDED_CLIENT_FEATURES)];
    out('testing the embedded reference device (pass --trigger to test your client)');
    return runSuites(config, expectations, out);
  }
  const credentials = credentialsOf(args, 'client-credentials');
  config.client = { embedded: false, trigger, wait, listen, pkiDir, credentials, serverCredentials: credentialsOf(args, 'server-credentials', false) };
  config.features = [...featuresOf(profile, credentials ? (credentials.scheme === 'syncml:auth-md5' ? 'md5' : 'basic') : undefined)];
  if (trigger) {
    const problem = await probeClient(trigger, pkiDir);
    if (problem) {
      out(`error: ${problem}`);
      return 2;
    }
  }
  out(`PKI in ${pkiDir}: the client trusts ${join(pkiDir, 'ca.pem')} and presents ${join(pkiDir, 'device.pem')}`);
  return runSuites(config, expectations, out);
}

/** One session against a plain reference server: a client that never connects makes the run unjudgeable (exit 2). */
async function probeClient(trigger: string, pkiDir: string): Promise<string | undefined> {
  const pki = loadPki(pkiDir);
  const server = new ReferenceServer({ identity: pki.server, ca: pki.ca.certPem });
  const url = await server.start();
  const exec = execTrigger({ command: trigger, pki, timeoutMs: PROBE_TIMEOUT_MS });
  try {
    const result = await exec.trigger({ url, timeoutMs: PROBE_TIMEOUT_MS });
    if (server.transcript.exchanges.length > 0) return undefined;
    const why = result.timedOut ? `it was stopped after ${PROBE_TIMEOUT_MS} ms` : result.error ?? `the trigger exited ${result.exitCode}`;
    const tail = (result.stderr || result.stdout).trim().split('\n').slice(-5).join('\n');
    return `the client never connected to ${url} (${why}); check --trigger and its placeholders {url} {ca} {cert} {key} {deviceId}${tail ? `\ntrigger output:\n${tail}` : ''}`;
  } finally {
    exec.dispose();
    await server.stop();
  }
}
