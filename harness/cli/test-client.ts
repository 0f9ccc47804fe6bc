/** `mdm-conformance test-client` (CLI contract, "Testing a client"). */
import { join, resolve } from 'node:path';
import { EMBEDDED_CLIENT_CREDENTIALS, EMBEDDED_CLIENT_FEATURES } from '../iut/embedded-settings';
import { featuresOf } from '../iut/capability-profile';
import { execTrigger } from '../iut/trigger';
import type { Credentials, RunConfig } from '../iut/run-config';
import { get } from '../syncml';
import { suitesOf as modeSuites } from '../scenarios/catalog';
import type { ReferenceServer, ReferenceServerOptions } from '../server/reference-server';
import { listenAddress, one, seedOf, UsageError } from './args';
import { parseCommand, refuseIgnored, type CommandSpec } from './command';
import { readExpectations } from './expectations';
import { loadPki, throwawayPki } from './identity';
import { runSuites } from './run-suites';
import { credentialsOf, encodingOf, SERVER_AUTH_FLAG, serverCredentialsOf } from './options';
import { durationOf } from './duration';
import { canaryListenOf, profileOf, RUN_FLAGS, runLine, shardOf, suitesOf, timeoutOf, withRunFeatures } from './test-server';

/** How long the first, probing session may take before the client counts as one that never connects. */
const PROBE_TIMEOUT_MS = 30_000;

export const TEST_CLIENT: CommandSpec = {
  name: 'test-client',
  summary: 'Tests an MS-MDM (OMA-DM) client: the harness plays the reference server, makes the client run a session per scenario, '
    + 'and judges every message it sends. Without --trigger or --wait it tests the embedded reference device. '
    + 'Exit 0 conforms, 1 a requirement failed, 2 the run could not be judged (the client never connected, bad usage).',
  flags: [
    { name: 'trigger', value: "'COMMAND'", help: 'runs once per session with {url} {ca} {cert} {key} {deviceId} substituted; starts one client-initiated session and exits when it ends' },
    { name: 'wait', help: 'instead of a trigger, wait for a client that polls by itself (a real device on its schedule)' },
    { name: 'wait-timeout', value: 'DURATION', default: '5m', help: 'with --wait: how long each session may take to come' },
    { name: 'listen', value: 'HOST:PORT', default: '127.0.0.1 on a free port per session', help: 'where the reference server listens, for every session; a non-loopback address (a device on another host) is allowed when named, with a warning' },
    { name: 'pki', value: 'DIR', default: 'a fresh test PKI', help: 'pki init folder: the client trusts DIR/ca.pem for the server and presents DIR/device.pem' },
    { name: 'client-auth', value: 'tls|none', default: 'tls', help: 'none: take a client that presents no certificate (MDM-TRN-004 then fails, everything else is judged)' },
    { name: 'encoding', value: 'xml|wbxml', default: 'xml', help: 'what the client was provisioned with (DMAcc Ext/Microsoft/DefaultEncoding): it must send that (MDM-TRN-006; with nothing provisioned, XML); wbxml declares the wbxml feature. The reference server answers in the encoding of each request. A client told to sign declares message-signing in --profile' },
    ...RUN_FLAGS,
    { name: 'server-credentials', value: 'USER:SECRET', help: 'what the reference server presents to the client in every session, and answers its challenges with: for a client that authenticates its server (w7 CLIENT, DMAcc SRVCRED)' },
    SERVER_AUTH_FLAG,
  ],
  examples: [
    'mdm-conformance test-client',
    "mdm-conformance test-client --trigger './my-client --server {url} --ca {ca} --cert {cert} --key {key} --id {deviceId}'",
    "mdm-conformance test-client --trigger './my-client --server {url}' --auth md5 --client-credentials dev:secret --server-credentials srv:secret",
    'mdm-conformance test-client --wait --listen 0.0.0.0:8443 --pki pki',
  ],
};

export async function testClientCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const args = parseCommand(argv, TEST_CLIENT);
  const trigger = one(args, 'trigger');
  const wait = args.switches.has('wait');
  if (trigger && wait) throw new UsageError('--trigger and --wait exclude each other: either the harness starts each session, or the client polls by itself');
  refuseIgnored(args, [
    { flag: 'client-credentials', when: !one(args, 'auth'), why: 'credentials are checked only with --auth md5|basic' },
    { flag: 'listen', when: !trigger && !wait, why: 'the embedded reference device talks to a server on loopback; --listen is for --trigger or --wait' },
    { flag: 'wait-timeout', when: !wait, why: 'it bounds the wait of --wait' },
    { flag: 'server-credentials', when: !trigger && !wait, why: 'the embedded reference device expects credentials of its own from the server; --server-credentials is for --trigger or --wait' },
    { flag: 'server-auth', when: !trigger && !wait, why: 'the embedded reference device expects credentials of its own from the server; --server-auth is for --trigger or --wait' },
  ]);
  const reportsDir = resolve(one(args, 'reports') ?? 'reports');
  const expectFile = one(args, 'expect');
  const expectations = expectFile ? { file: expectFile, content: readExpectations(expectFile) } : undefined;
  const profile = profileOf(args);
  const listenText = one(args, 'listen');
  const listen = listenText ? listenAddress(listenText, '--listen') : undefined;
  if (listen?.exposed) out(`warning: the reference server will listen on ${listen.host}, reachable from other hosts; use it only on a network you trust`);
  const clientAuth = one(args, 'client-auth') ?? 'tls';
  if (clientAuth !== 'tls' && clientAuth !== 'none') throw new UsageError('--client-auth takes tls or none');
  const seed = seedOf(args);
  const pkiDir = one(args, 'pki') ?? throwawayPki(seed).dir;
  const pki = loadPki(pkiDir); // a bad --pki directory is a usage error before anything runs
  const encoding = encodingOf(args);
  const config: RunConfig = {
    canaryListen: canaryListenOf(args, out),
    mode: 'client', reportsDir, startedAt: new Date().toISOString(), strict: args.switches.has('strict'), seed,
    suites: suitesOf(args, 'client', modeSuites('client')), shard: shardOf(args), features: [], profilePath: one(args, 'profile'),
  };
  if (!trigger && !wait) {
    config.features = withRunFeatures(profile ? featuresOf(profile, 'md5') : EMBEDDED_CLIENT_FEATURES, encoding, false);
    config.client = {
      embedded: true, pkiDir, credentials: EMBEDDED_CLIENT_CREDENTIALS, timeoutMs: timeoutOf(args), encoding, signing: config.features.includes('message-signing'),
    };
    out(`testing the embedded reference device (pass --trigger to test your client)${runLine(config.client)}; seed ${seed}`);
    return runSuites(config, expectations, out);
  }
  const credentials = credentialsOf(args, 'client-credentials');
  const serverCredentials = serverCredentialsOf(args);
  const waitMs = wait ? durationOf(one(args, 'wait-timeout'), '--wait-timeout') ?? 300_000 : undefined;
  config.features = withRunFeatures(featuresOf(profile, credentials ? (credentials.scheme === 'syncml:auth-md5' ? 'md5' : 'basic') : undefined), encoding, false);
  config.client = {
    embedded: false, trigger, wait, listen: listenText, pkiDir, credentials, serverCredentials, clientAuth, waitTimeoutMs: waitMs, timeoutMs: timeoutOf(args),
    encoding, signing: config.features.includes('message-signing'),
  };
  // One early error for a port in use, rather than one per scenario.
  const problem = listen ? await portProblem(listen, pki) : undefined;
  if (problem) {
    out(`error: ${problem}`);
    return 2;
  }
  if (trigger) {
    const never = await probeClient(trigger, pkiDir, listen, serverCredentials);
    if (never) {
      out(`error: ${never}`);
      return 2;
    }
  } else {
    const host = listen?.host ?? '127.0.0.1';
    out(`waiting for your client: point it at https://${host.includes(':') ? `[${host}]` : host}:${listen?.port ?? '<a port chosen per session; pass --listen HOST:PORT>'}/ManagementServer/MDM.svc`);
    out(`  the client trusts ${join(pkiDir, 'ca.pem')} for the server certificate and presents ${join(pkiDir, 'device.pem')} (key ${join(pkiDir, 'device-key.pem')}), device id ${pki.deviceId}`);
    out(`  each session may take up to ${Math.round(waitMs! / 1000)} s to come (--wait-timeout)`);
    const silent = await awaitFirstSession(pkiDir, listen, waitMs!, out);
    if (silent) {
      out(`error: ${silent}`);
      return 2;
    }
  }
  out(`PKI in ${pkiDir}${one(args, 'pki') ? '' : ' (temporary: removed when the run ends; pki init and --pki keep one)'}: the client trusts ${join(pkiDir, 'ca.pem')} and presents ${join(pkiDir, 'device.pem')}; seed ${seed}`);
  return runSuites(config, expectations, out);
}

/** Whether the reference server can listen where asked; a port in use is one error before anything runs. */
async function portProblem(listen: { host: string; port: number; exposed: boolean }, pki: ReturnType<typeof loadPki>): Promise<string | undefined> {
  const server = probeServer({ identity: pki.server, ca: pki.ca.certPem, host: listen.host, port: listen.port, exposed: listen.exposed });
  try {
    await server.start();
    return undefined;
  } catch (e) {
    return `cannot listen on ${listen.host}:${listen.port}: ${(e as Error).message.replace(/^cannot listen on [^:]+:\d+: /, '')}; pick a free port with --listen`;
  } finally {
    await server.stop().catch(() => undefined);
  }
}

/**
 * `--wait`: the first session the client makes on its own, against a plain reference server where it will meet the
 * suites' (--listen). A client that does not come within --wait-timeout makes the run unjudgeable (exit 2).
 */
async function awaitFirstSession(pkiDir: string, listen: { host: string; port: number; exposed: boolean } | undefined, waitMs: number, out: (line: string) => void): Promise<string | undefined> {
  const pki = loadPki(pkiDir);
  let came: () => void = () => undefined;
  const ended = new Promise<void>((resolve) => (came = resolve));
  const server = probeServer({ identity: pki.server, ca: pki.ca.certPem, host: listen?.host, port: listen?.port, exposed: listen?.exposed, onSessionEnd: () => came() });
  const url = await server.start();
  out(`waiting up to ${Math.round(waitMs / 1000)} s for a first session at ${url}`);
  let timer: NodeJS.Timeout | undefined;
  try {
    const timedOut = await Promise.race([ended.then(() => false), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), waitMs)))]);
    if (!timedOut) return undefined;
    const tried = server.transcript.exchanges.length;
    return tried
      ? `the client reached ${url} but did not complete a session within ${Math.round(waitMs / 1000)} s (--wait-timeout)`
      : `no client connected to ${url} within ${Math.round(waitMs / 1000)} s (--wait-timeout): check the URL, CA and identity the client is configured with`;
  } finally {
    clearTimeout(timer);
    await server.stop();
  }
}

/**
 * One session against a plain reference server, where the client will meet it (--listen): a client that never
 * connects makes the run unjudgeable (exit 2), and so does a trigger that could not even run, or a client that
 * refuses the server's credentials (it wants --server-credentials, or others than those given).
 */
async function probeClient(
  trigger: string, pkiDir: string, listen: { host: string; port: number; exposed: boolean } | undefined, serverCredentials: Credentials | undefined,
): Promise<string | undefined> {
  const pki = loadPki(pkiDir);
  const server = probeServer({ identity: pki.server, ca: pki.ca.certPem, host: listen?.host, port: listen?.port, exposed: listen?.exposed, serverCredentials });
  const url = await server.start();
  // A command gives a client that authenticates its server something to refuse (it may not challenge an empty message).
  server.queue(pki.deviceId, get('./DevInfo/DmV'));
  const exec = execTrigger({ command: trigger, pki, timeoutMs: PROBE_TIMEOUT_MS });
  try {
    const result = await exec.trigger({ url, timeoutMs: PROBE_TIMEOUT_MS });
    if (server.transcript.exchanges.length > 0) return refusedServer(server, serverCredentials);
    const why = result.error ? `the trigger could not run: ${result.error}` : result.timedOut ? `it was stopped after ${PROBE_TIMEOUT_MS} ms` : `the trigger exited ${result.exitCode}`;
    const tail = (result.stderr || result.stdout).trim().split('\n').slice(-5).join('\n');
    return `the client never connected to ${url} (${why}); check --trigger and its placeholders {url} {ca} {cert} {key} {deviceId}${tail ? `\ntrigger output:\n${tail}` : ''}`;
  } finally {
    exec.dispose();
    await server.stop();
  }
}

/** The client authenticates the server and the probe could not satisfy it: a setup problem, with the way out. */
function refusedServer(server: ReferenceServer, serverCredentials: Credentials | undefined): string | undefined {
  const events = server.sessions.flatMap((s) => s.events);
  const challenged = events.filter((e) => e.type === 'server-auth' && e.outcome === 'challenged').at(-1);
  if (!challenged || challenged.type !== 'server-auth' || events.some((e) => e.type === 'server-auth' && e.outcome === 'accepted')) return undefined;
  const scheme = challenged.scheme ?? 'application-level';
  if (!serverCredentials) {
    return `the client refused the reference server's SyncHdr (Status ${challenged.code}, ${scheme}): it authenticates its server; pass --server-auth ${scheme === 'syncml:auth-basic' ? 'basic' : 'md5'} --server-credentials USER:SECRET with the credentials it expects`;
  }
  return `the client refused the server credentials of --server-credentials (Status ${challenged.code}, ${scheme}); check USER:SECRET and --server-auth`;
}

/** The reference server of a probe session, loaded only by the runs that probe a client (--trigger, --wait). */
function probeServer(opts: ReferenceServerOptions): ReferenceServer {
  const { ReferenceServer: Server } = require('../server/reference-server') as typeof import('../server/reference-server');
  return new Server(opts);
}
