/**
 * The client under test as scenarios see it, and what they share: a reference server scripted for one
 * scenario, the trigger that makes the client run one session against it, and the passive checks every device
 * message gets.
 */
import type { CommandResult } from '../../iut/shell';
import { CLIENT_CHECKS, type ClientSessionView } from '../../checks/client-checks';
import { runChecks, type Finding } from '../../checks/finding';
import { sessionFromTranscript } from '../../checks/from-transcript';
import { mintServerIdentity, type BadServerIdentity, type Identity, type TestPki } from '../../pki';
import type { CredScheme } from '../../protocol/credentials';
import type { ReferenceServerBehaviour } from '../../server/faults';
import type { MalformedReply } from '../../server/malformed';
import { ReferenceServer, type SchemeCredentials, type SessionRecord } from '../../server/reference-server';
import type { Command } from '../../syncml';
import type { Exchange } from '../../transport';
import type { ScenarioLog } from '../scenario';

export interface TriggerOptions {
  /** The management URL the client must POST to in this session. */
  url: string;
  /** CA (PEM) the client is told to trust for the server certificate; default the PKI's CA. */
  ca?: string;
  /** Give up on the session (and stop the client) after this long. */
  timeoutMs?: number;
  /**
   * Settles when the reference server saw a session of this device end (closed, aborted or refused): the only
   * end a trigger that does not start the client itself (`--wait`) can observe.
   */
  serverSawEnd?: Promise<void>;
}

/** How a triggered session went, seen from outside the client: evidence, never a verdict by itself. */
/** What one triggered session left behind: exit code, timeout, output tails (the exec adapter's command result). */
export type TriggerResult = CommandResult;

export type Trigger = (opts: TriggerOptions) => Promise<TriggerResult>;

/**
 * Nodes the management scenarios address. The defaults are the reference device's (fixtures/profiles/
 * windows-device.json); a vendor's client has other CSPs, so each one can be replaced, and every finding that
 * depends on one names it.
 */
export interface ClientNodes {
  /** A readable chr leaf. */
  leaf: string;
  /** Further readable leaves, read together in one multi-Item Get. */
  leaves: string[];
  /** An interior node, and some of the child names a Get of it must list (MDM-CMD-GET-004). */
  interior: string;
  interiorChildren: string[];
  /** A URI no node has (MDM-STS-017). */
  missing: string;
  /** An interior node below which the harness may Add and Delete nodes of its own. */
  writableParent: string;
  /** A writable chr leaf (Sequence order, large objects). */
  text: string;
  /** A writable int leaf (Replace, Atomic rollback). */
  int: string;
  /** A leaf the device refuses to write (MDM-STS-019). */
  readOnly: string;
  /** A leaf of a feature the device does not support (MDM-STS-020: 406). */
  unsupported: string;
  /** A node that grants Delete but cannot be deleted (MDM-CMD-DEL-002: 405). */
  permanent: string;
  /** A node that exists, for the Add that must answer 418 (MDM-STS-018). */
  existing: string;
  /** An executable node that completes at once. */
  exec: string;
  /** An executable node whose work runs on after the Status (200 or 202, MDM-CMD-EXE-002). */
  execAsync: string;
}

const CSP = './Vendor/MSFT/HarnessCSP';

export const DEFAULT_CLIENT_NODES: Readonly<ClientNodes> = Object.freeze({
  leaf: './DevDetail/SwV',
  leaves: ['./DevInfo/Man', './DevInfo/Mod', './DevDetail/FwV'],
  interior: `${CSP}/Settings`,
  interiorChildren: ['Name', 'Count', 'Enabled', 'Notes'],
  missing: `${CSP}/Nothing/Here`,
  writableParent: `${CSP}/Items`,
  text: `${CSP}/Settings/Notes`,
  int: `${CSP}/Settings/Count`,
  readOnly: './DevInfo/Man',
  unsupported: `${CSP}/Legacy/Mode`,
  permanent: `${CSP}/Settings/Name`,
  existing: `${CSP}/Settings/Name`,
  exec: `${CSP}/Actions/Echo`,
  execAsync: `${CSP}/Actions/Deferred`,
});

export interface ClientUnderTest {
  /** The run's seed (`--seed`). */
  seed?: number;
  /** Harness-issued identities: the client trusts `pki.ca` for the server and presents `pki.device`. */
  pki: TestPki;
  /** The device id in the client certificate, which the client must use as its header Source. */
  deviceId: string;
  /** Makes the client run one session. */
  trigger: Trigger;
  /** Application-level credentials the client sends (`--auth`, `--client-credentials`); absent: mutual TLS only. */
  credentials?: { scheme: CredScheme; user: string; password: string };
  /**
   * Credentials the reference server presents to the client in every session (`--server-auth`, `--server-credentials`):
   * what a client configured to authenticate its server (w7 `CLIENT`, DMAcc `SRVCRED`) verifies.
   */
  serverCredentials?: SchemeCredentials;
  /** Replacements for the default node URIs. */
  nodes?: Partial<ClientNodes>;
  /** Per triggered session. Default 30 s. */
  sessionTimeoutMs?: number;
  /** Where the reference server listens (`--listen`); default a free loopback port per scenario. */
  listen?: { host?: string; port?: number; exposed?: boolean };
  /** Take a client that presents no certificate (`--client-auth none`): MDM-TRN-004 fails, the rest is judged. */
  acceptWithoutCertificate?: boolean;
}

export function nodesOf(t: ClientUnderTest): ClientNodes {
  return { ...DEFAULT_CLIENT_NODES, ...t.nodes };
}

/**
 * A node name (or value) that no earlier run is likely to have left behind on the device; drawn from the scenario's
 * seed, so a repeated run sends the same messages.
 */
export function freshTag(log: ScenarioLog): string {
  return `H${log.rng.hex(3)}`;
}

/** What a scenario wants the reference server to do in its session. */
export interface ServerSetup {
  /** Commands for the device, one server package per round. */
  rounds?: Command[][];
  behaviour?: Partial<ReferenceServerBehaviour>;
  /** Present a broken server certificate instead of the one issued for this host (auth scenarios). */
  identity?: BadServerIdentity;
  /** Require application-level credentials of the device. */
  clientAuth?: { scheme: CredScheme; user: string; password: string };
  /** Credentials the server presents instead of the run's (`null`: none at all). */
  serverCredentials?: SchemeCredentials | null;
  malformedReply?: MalformedReply;
  /** Where an `external-entities` reply points its entities. */
  entityUrl?: string;
}

/** A reference server started for one scenario, on the loopback interface. */
export class ScenarioServer {
  private readonly ends: { deviceId: string; resolve: () => void }[] = [];
  readonly reference: ReferenceServer;
  url = '';

  constructor(t: ClientUnderTest, setup: ServerSetup, log: ScenarioLog) {
    this.reference = new ReferenceServer({
      rng: log.nextRng('server'),
      identity: setup.identity ? badIdentity(t.pki, setup.identity) : t.pki.server,
      ca: t.pki.ca.certPem,
      host: t.listen?.host,
      port: t.listen?.port,
      exposed: t.listen?.exposed,
      behaviour: t.acceptWithoutCertificate ? { verifyClientCertificate: false, ...setup.behaviour } : setup.behaviour,
      malformedReply: setup.malformedReply,
      entityUrl: setup.entityUrl,
      clientAuth: setup.clientAuth,
      serverCredentials: setup.serverCredentials === null ? undefined : setup.serverCredentials ?? t.serverCredentials,
      onSessionEnd: (record) => this.ended(record),
    });
    if (setup.rounds?.length) this.reference.queueRounds(t.deviceId, ...setup.rounds);
  }

  async start(): Promise<this> {
    this.url = await this.reference.start();
    return this;
  }

  stop(): Promise<void> {
    return this.reference.stop();
  }

  /** Settles when a session of the device ends from here on (see TriggerOptions.serverSawEnd). */
  sessionEnd(deviceId: string): Promise<void> {
    return new Promise((resolve) => this.ends.push({ deviceId, resolve }));
  }

  private ended(record: SessionRecord): void {
    for (const e of this.ends.splice(0)) {
      if (e.deviceId === record.deviceId || record.state === 'refused') e.resolve();
      else this.ends.push(e);
    }
  }
}

/** Minting an RSA identity takes a few hundred milliseconds: each broken server identity is made once per PKI. */
const minted = new WeakMap<TestPki, Map<BadServerIdentity, Identity>>();
function badIdentity(pki: TestPki, kind: BadServerIdentity): Identity {
  let forPki = minted.get(pki);
  if (!forPki) minted.set(pki, (forPki = new Map()));
  let identity = forPki.get(kind);
  if (!identity) forPki.set(kind, (identity = mintServerIdentity(pki, kind)));
  return identity;
}

export function serverFor(t: ClientUnderTest, log: ScenarioLog, setup: ServerSetup = {}): Promise<ScenarioServer> {
  return new ScenarioServer(t, setup, log).start();
}

export interface ClientRun {
  view: ClientSessionView;
  trigger: TriggerResult;
  /** HTTP requests the server received during the session, with its replies. */
  exchanges: Exchange[];
  /** Connections that ended before an HTTP request (a TLS handshake refused by either side). */
  refused: Exchange[];
  /** Whether any HTTP request reached the server. */
  connected: boolean;
  /** SessionIDs the client used, in order of first use. */
  sessionIDs: string[];
  /** What the reference server made of the session(s): statuses and results it correlated, auth outcomes. */
  records: SessionRecord[];
}

export interface SessionOptions {
  /** The scenario id, for findings. */
  check: string;
  /** The client is expected not to connect (auth cases): do not report a missing connection as a failure. */
  mayStayAway?: boolean;
  timeoutMs?: number;
}

/** One triggered session against `server`, with the passive client checks run on what the client sent. */
export async function session(t: ClientUnderTest, log: ScenarioLog, server: ScenarioServer, opts: SessionOptions): Promise<ClientRun> {
  const before = server.reference.transcript.exchanges.length;
  const recordsBefore = server.reference.sessions.length;
  const timeoutMs = opts.timeoutMs ?? t.sessionTimeoutMs ?? 30_000;
  const trigger = await t.trigger({ url: server.url, ca: t.pki.ca.certPem, timeoutMs, serverSawEnd: server.sessionEnd(t.deviceId) });
  await settle(server.reference);
  const all = server.reference.transcript.exchanges.slice(before);
  // Everything the server saw while the client ran is the session: a client that changes its SessionID or header
  // Source mid-session is judged on all of it, not split into sessions the harness would invent.
  const exchanges = all.filter((x) => x.request.method !== undefined);
  const refused = all.filter((x) => x.request.method === undefined);
  const view: ClientSessionView = { ...sessionFromTranscript(exchanges, outcomeOf(trigger)), serverUrl: server.url, deviceId: t.deviceId };
  const sessionIDs = [...new Set(exchanges.map((x) => x.request.parsed?.message.hdr.sessionID?.trim()).filter((s): s is string => !!s))];
  const run: ClientRun = {
    view, trigger, exchanges, refused, connected: exchanges.length > 0, sessionIDs, records: server.reference.sessions.slice(recordsBefore),
  };
  log.transcripts.push(exchanges);
  log.note(`session ${sessionIDs.join(', ') || '(none)'} against ${server.url}: ${exchanges.length} exchange(s); ${describeTrigger(trigger)}`);
  const refusedServer = run.records.flatMap((r) => r.events).find((e) => e.type === 'server-auth' && e.outcome === 'challenged');
  if (refusedServer && !t.serverCredentials) {
    log.note(`the client refused the reference server's SyncHdr (${refusedServer.type === 'server-auth' ? refusedServer.code : ''}): it requires server credentials; pass --server-auth md5 --server-credentials USER:SECRET with the credentials it expects`);
  }
  if (run.connected) {
    log.add(runChecks(CLIENT_CHECKS, view));
  } else if (!opts.mayStayAway) {
    log.add([neverConnected(run, timeoutMs, opts.check)]);
  }
  return run;
}

/** Starts a server for the setup, runs one session against it and stops the server. */
export async function oneSession(t: ClientUnderTest, log: ScenarioLog, setup: ServerSetup, opts: SessionOptions): Promise<ClientRun> {
  const server = await serverFor(t, log, setup);
  try {
    return await session(t, log, server, opts);
  } finally {
    await server.stop();
  }
}

/** A client that never reached the server fails MDM-TRN-001 (every device message is an HTTP POST to the URL). */
export function neverConnected(run: ClientRun, timeoutMs: number, check: string): Finding {
  const why = run.trigger.timedOut
    ? `the client never connected within ${Math.round(timeoutMs / 1000)} s`
    : `the client never connected (${describeTrigger(run.trigger)})`;
  const tls = run.refused.map((x) => x.error?.message).filter(Boolean);
  return { id: 'MDM-TRN-001', verdict: 'fail', check, evidence: tls.length ? `${why}; TLS: ${tls.join('; ')}` : why };
}

export function describeTrigger(r: TriggerResult): string {
  const took = `${r.ms} ms`;
  if (r.error) return `the trigger could not run: ${r.error}`;
  if (r.timedOut) return `the trigger overran its time and was stopped after ${took}`;
  const how = r.exitCode !== null ? `exit ${r.exitCode}` : `signal ${r.signal ?? '?'}`;
  const tail = r.exitCode === 0 ? '' : lastLine(r.stderr) || lastLine(r.stdout);
  return `trigger ${how} after ${took}${tail ? ` (${tail})` : ''}`;
}

function lastLine(text: string): string {
  return text.trim().split('\n').at(-1)?.slice(0, 300) ?? '';
}

function outcomeOf(r: TriggerResult): string {
  if (r.timedOut) return 'timed out';
  if (r.error) return `trigger failed: ${r.error}`;
  return r.exitCode === 0 ? 'completed' : `client ended with ${r.exitCode !== null ? `exit ${r.exitCode}` : `signal ${r.signal}`}`;
}

/** Waits until the server has recorded every request in flight: a client may exit before its last exchange is logged. */
async function settle(server: ReferenceServer): Promise<void> {
  let last = -1;
  for (let i = 0; i < 20; i++) {
    const n = server.transcript.exchanges.length;
    if (n === last) return;
    last = n;
    await new Promise((r) => setTimeout(r, 10));
  }
}
