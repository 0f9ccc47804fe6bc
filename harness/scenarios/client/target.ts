/**
 * The client under test as scenarios see it, and what they share: a reference server scripted for one
 * scenario, the trigger that makes the client run one session against it, and the passive checks every device
 * message gets.
 */
import type { CommandResult } from '../../iut/shell';
import { CLIENT_CHECKS, type ClientSessionView } from '../../checks/client-checks';
import { numberOf } from '../../checks/compare';
import { runChecks, type Finding } from '../../checks/finding';
import { sessionFromTranscript } from '../../checks/from-transcript';
import { label } from '../../checks/session';
import { mintServerIdentity, type BadServerIdentity, type Identity, type TestPki } from '../../pki';
import type { CredScheme } from '../../protocol/credentials';
import type { SyncMLEncoding } from '../../protocol/encoding';
import type { ReferenceServerBehaviour } from '../../server/faults';
import type { MalformedReply } from '../../server/malformed';
import { ReferenceServer, type SchemeCredentials, type SessionRecord } from '../../server/reference-server';
import { add, type Command } from '../../syncml';
import type { Exchange } from '../../transport';
import type { ScenarioLog, SeededTarget } from '../scenario';

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
export interface TriggerResult extends CommandResult {
  /**
   * The client runs on its own (`--wait`): its process is not the harness's to watch, so `exitCode` 0 only means
   * the server saw the session end, and nothing says whether the client crashed afterwards.
   */
  unobserved?: boolean;
}

export type Trigger = (opts: TriggerOptions) => Promise<TriggerResult>;

/**
 * The node map: the nodes of the device under test the scenarios address, by role. Every role maps to a node that
 * every Windows 10/11 device has (DevInfo, DevDetail and standard CSPs), none of them destructive to write or run (no
 * wipe, no reboot, no unenrollment); a vendor maps its own in the capability profile (`nodes`). A role mapped to
 * nothing (`null` in the profile) makes the rules that need it not applicable. Evidence names the role
 * (`nodes.readOnlyLeaf`), under the same name as in the profile.
 */
export interface ClientNodes {
  /** A readable chr leaf. */
  readableLeaf: string;
  /** Further readable leaves, read together in one multi-Item Get. */
  readableLeaves: string[];
  /** A readable int leaf: its Results state Format int (MDM-RES-003). */
  readableIntLeaf?: string;
  /** An interior node, and some of the child names a Get of it must list (MDM-CMD-GET-004). */
  interiorNode: string;
  interiorChildren: string[];
  /** A leaf the device refuses to write (405, MDM-STS-019). */
  readOnlyLeaf?: string;
  /** A node that cannot be deleted (405, MDM-CMD-DEL-002). */
  permanentNode?: string;
  /** An interior node below which the harness may Add nodes of its own (and Delete them again). */
  addableParent?: string;
  /** The name of a chr leaf the harness may Add below a node it added under addableParent. */
  addableLeafName?: string;
  /** A writable chr leaf that reads back what was written (Sequence order, chunked objects). */
  writableChrLeaf?: string;
  /** A writable int leaf that reads back what was written (Replace, Atomic rollback, 415 for a non-number). */
  writableIntLeaf?: string;
  /** A node of a feature the device does not support (406, MDM-STS-020). */
  unsupportedNode?: string;
  /**
   * A `./User` node to provision, mapped only while the device is Entra-joined and the signed-in user is not an
   * Entra user (or nobody is signed in): provisioning it must fail (MDM-SES-020). Unmapped by default, since that
   * depends on the state the device is in during the run.
   */
  userNodeWithoutEntraUser?: string;
  /** A node whose Exec completes at once, and the Data to send with it. */
  executableNode?: string;
  executableData?: string;
  /** A node whose Exec work runs on after the Status (200 or 202, MDM-CMD-EXE-002, MDM-STS-022). */
  asyncExecutableNode?: string;
  asyncExecutableData?: string;
  /** A chr leaf that takes a value of several kilobytes (large objects). */
  largeObjectNode?: string;
  /** Nodes the harness Adds before it uses the map, when they may not exist yet (an Add answered 418 is fine). */
  prepare?: string[];
  /** A writable leaf an access-control list keeps this server out of (425, MDM-STS-021); Windows documents none every device has. */
  deniedNode?: string;
  /** The node that reports large-object support (MDM-LO-017), read to judge a generic alert spread over messages. */
  largeObjectFlag?: string;
  /** The DMClient SyncApplicationVersion node of this server's enrollment; MaxSyncApplicationVersion is its sibling. */
  syncApplicationVersion?: string;
  /** A writable chr leaf in the user scope (`./User/…`), for the SyncType of AVD multi-user sessions (MDM-CMD-ALT-011). */
  userScopedLeaf?: string;
  /**
   * The secret of the credentials the client presents to this server: its DMAcc account's CLCRED entry,
   * `./SyncML/DMAcc/{AccountUID}/AppAuth/{ObjectName}/AAuthSecret` (MDM-AUTH-030). Unmapped by default: Windows names
   * the account after a hash of the w7 PROVIDER-ID, and the entry as provisioned.
   */
  clientCredentialSecret?: string;
}

const NODE_CACHE = './Device/Vendor/MSFT/NodeCache/MDMConformance';

export const DEFAULT_CLIENT_NODES: Readonly<ClientNodes> = Object.freeze({
  readableLeaf: './DevDetail/SwV',
  readableLeaves: ['./DevInfo/Man', './DevInfo/Mod', './DevDetail/FwV'],
  readableIntLeaf: './DevDetail/Ext/Microsoft/ProcessorArchitecture',
  interiorNode: './DevInfo',
  interiorChildren: ['DevId', 'Man', 'Mod', 'DmV', 'Lang'],
  readOnlyLeaf: './DevInfo/Man',
  permanentNode: './DevDetail/HwV',
  addableParent: `${NODE_CACHE}/Nodes`,
  addableLeafName: 'ExpectedValue',
  writableChrLeaf: `${NODE_CACHE}/CacheVersion`,
  writableIntLeaf: './Device/Vendor/MSFT/Policy/Config/Update/ActiveHoursStart',
  executableNode: './Device/Vendor/MSFT/Defender/UpdateSignature',
  asyncExecutableNode: './Device/Vendor/MSFT/Defender/Scan',
  asyncExecutableData: '1',
  largeObjectNode: `${NODE_CACHE}/CacheVersion`,
  prepare: [NODE_CACHE],
  largeObjectFlag: './DevDetail/LrgObj',
  syncApplicationVersion: './Vendor/MSFT/DMClient/Provider/MDMConformance/SyncApplicationVersion',
});

export type NodeRole = keyof ClientNodes;

export interface ClientUnderTest extends SeededTarget {
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
  /** The capability profile's node map: roles replaced, or unmapped with null. */
  nodes?: { [R in NodeRole]?: ClientNodes[R] | null };
  /** Per triggered session. Default 30 s. */
  sessionTimeoutMs?: number;
  /** Where the reference server listens (`--listen`); default a free loopback port per scenario. */
  listen?: { host?: string; port?: number; exposed?: boolean };
  /** Take a client that presents no certificate (`--client-auth none`): MDM-TRN-004 fails, the rest is judged. */
  acceptWithoutCertificate?: boolean;
  /**
   * The encoding the client was provisioned with (`--encoding`; DMAcc Ext/Microsoft/DefaultEncoding): what it must
   * send (MDM-TRN-006). Default XML, as with nothing provisioned. The reference server answers in either.
   */
  encoding?: SyncMLEncoding;
  /**
   * The client was told to sign (RequireMessageSigning; the `message-signing` feature): every message must carry
   * an MS-Signature by its device certificate, `pki.device` (MDM-TRN-014).
   */
  signing?: boolean;
}

/** The map in force: the defaults, overridden role by role by the profile (null unmaps a role). */
export function nodesOf(t: ClientUnderTest): ClientNodes {
  const map: Record<string, unknown> = { ...DEFAULT_CLIENT_NODES };
  for (const [role, node] of Object.entries(t.nodes ?? {})) {
    if (node === null) delete map[role];
    else map[role] = node;
  }
  return map as unknown as ClientNodes;
}

/**
 * The rounds of a scenario that writes with the map, preceded by the Adds of `prepare` in its first round: nodes such
 * as a NodeCache group may not exist on a device yet. Their outcome (200, or 418 when present) is not judged.
 */
export function prepared(n: ClientNodes, rounds: Command[][]): Command[][] {
  if (!n.prepare?.length || !rounds.length) return rounds;
  return [[...n.prepare.map((uri) => add(uri)), ...rounds[0]], ...rounds.slice(1)];
}

/** Roles of the map that are not mapped, for the reason of the rules that need them. */
export function unmapped(n: ClientNodes, ...roles: NodeRole[]): string | undefined {
  const missing = roles.filter((r) => n[r] === undefined);
  return missing.length ? `the node map has no ${missing.map((r) => `nodes.${r}`).join(' or ')} (capability profile "nodes"), so this cannot be judged` : undefined;
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
  /** Require application-level credentials of the device (`syncml:auth-MAC`: HMAC integrity, OMA-DMS 5.4). */
  clientAuth?: { scheme: CredScheme | 'syncml:auth-MAC'; user: string; password: string };
  /** Credentials the server presents instead of the run's (`null`: none at all). */
  serverCredentials?: SchemeCredentials | null;
  malformedReply?: MalformedReply;
  /** Where an `external-entities` reply points its entities. */
  entityUrl?: string;
  /** Refuse every message without a valid MS-Signature by the device's certificate (a server that set RequireMessageSigning). */
  requireSignatures?: boolean;
}

/** A reference server started for one scenario, on the loopback interface. */
export class ScenarioServer {
  private readonly ends: { deviceId: string; resolve: () => void }[] = [];
  readonly reference: ReferenceServer;
  url = '';
  /**
   * The server conducts its sessions by the book: no broken identity, reply or behaviour, and the run's own
   * credentials both ways. Only in such a session is a client that quits with an error a client that crashed; one
   * a scenario provokes (wrong credentials, an unreadable reply) may end it as it sees fit.
   */
  readonly byTheBook: boolean;

  constructor(t: ClientUnderTest, setup: ServerSetup, log: ScenarioLog) {
    const sameCredentials = !setup.clientAuth || (setup.clientAuth.user === t.credentials?.user && setup.clientAuth.password === t.credentials?.password);
    this.byTheBook = !setup.identity && !setup.malformedReply && setup.serverCredentials === undefined && sameCredentials
      && Object.keys(setup.behaviour ?? {}).length === 0;
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
      requireSignatures: setup.requireSignatures,
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
  const exchanges = all.filter((x) => x.request.method !== undefined);
  const refused = all.filter((x) => x.request.method === undefined);
  const view: ClientSessionView = {
    ...sessionFromTranscript(exchanges, outcomeOf(trigger)), serverUrl: server.url, deviceId: t.deviceId, encoding: t.encoding ?? 'xml',
    ...(t.signing ? { signer: t.pki.device.certPem } : {}),
  };
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
    for (const one of sessionsOf(view)) log.add(runChecks(CLIENT_CHECKS, one));
    const crash = crashedMidSession(run, opts.check, server.byTheBook);
    if (crash) {
      log.add([crash]);
      log.blame(crash.id);
    }
  } else if (trigger.error) {
    // The command line could not even start: a configuration problem (exit 2), not something the client did.
    throw new Error(`the trigger could not run: ${trigger.error}; check --trigger`);
  } else if (!opts.mayStayAway) {
    log.add([neverConnected(run, timeoutMs, opts.check)]);
  }
  return run;
}

/**
 * The DM sessions in what the server saw during one trigger run. A client may give up on a session (an unreadable
 * reply, MDM-TERM-008) and start a fresh one before it exits: a message with MsgID 1 under a new SessionID opens a
 * new session, judged on its own. Anything else (a SessionID changed mid-session, MsgIDs that never increase) stays
 * in one session, where the checks of MDM-HDR-005 and MDM-HDR-008 see it. Messages keep their numbers in the run.
 */
export function sessionsOf(view: ClientSessionView): ClientSessionView[] {
  const out: ClientSessionView[] = [];
  let current: ClientSessionView | undefined;
  let sessionID: string | undefined;
  for (const x of view.exchanges) {
    const hdr = x.request.syncml?.hdr;
    const id = hdr?.sessionID?.trim();
    const fresh = !current || (id !== undefined && id !== sessionID && numberOf(hdr?.msgID) === 1);
    if (fresh) {
      if (current) current.outcome = `the client started a new session (SessionID "${id}")`;
      out.push((current = { ...view, exchanges: [] }));
    }
    if (id !== undefined && (fresh || sessionID === undefined)) sessionID = id;
    current!.exchanges.push(x);
  }
  return out;
}

/**
 * A client that quit in the middle of a session: the server's last reply was SyncML carrying commands the client
 * must answer, and instead of answering, the client process was killed by a signal, or ended with an error in a
 * session the server conducted by the book. The server keeps the
 * session going as long as it sends such commands (MDM-SES-012); every "no Status" that follows is a consequence.
 */
function crashedMidSession(run: ClientRun, check: string, byTheBook: boolean): Finding | undefined {
  const { trigger } = run;
  if (trigger.timedOut || trigger.unobserved || (trigger.exitCode === 0 && !trigger.signal)) return undefined;
  // A signal is a crash whatever provoked it; an error exit only where the server gave no reason to quit.
  if (!trigger.signal && !byTheBook) return undefined;
  const last = run.exchanges.at(-1);
  const reply = last?.response?.parsed?.message;
  if (!reply) return undefined;
  const pending = reply.body.commands.filter((c) => c.kind !== 'Status');
  if (!pending.length) return undefined;
  const how = trigger.exitCode !== null ? `exited ${trigger.exitCode}` : `was killed by ${trigger.signal ?? 'a signal'}`;
  const what = [...new Set(pending.map((c) => (c.kind === 'Unknown' ? c.name : c.kind)))].join(', ');
  const tail = describeTrigger(trigger);
  return {
    id: 'MDM-SES-012', verdict: 'fail', check,
    evidence: `the client ${how} in round trip ${run.exchanges.length}, without answering the server's MsgID ${reply.hdr.msgID?.trim()} (${what}): ${tail}; the session lasts as long as the server sends commands`,
  };
}

/**
 * MDM-SES-012 in a client: the session lasts as long as the server keeps sending commands. It passes when the client
 * answered every server package and the session ended with the server's closing package (Statuses and Final, after
 * which the client rightly says nothing, MDM-TERM-001); it fails when the client went quiet while the server's last
 * message still carried commands. A client that crashed was reported as it happened (crashedMidSession); a challenge
 * the client could not answer, or an abort, is another rule's business.
 */
export function ranToServerClose(run: ClientRun, check: string): Finding | undefined {
  const id = 'MDM-SES-012';
  const last = run.view.exchanges.at(-1);
  if (!run.connected || !last) return undefined;
  const reply = last.response?.syncml;
  const rounds = run.view.exchanges.length;
  if (run.trigger.timedOut) return { id, verdict: 'fail', check, evidence: `the session never reached the server's close: the client was still in it after ${rounds} round trip(s) when its time ran out (${describeTrigger(run.trigger)})` };
  if (!reply) return undefined; // the server gave no SyncML reply: nothing of the client's to judge
  const header = reply.body.commands.find((c) => c.kind === 'Status' && c.cmdRef?.trim() === '0');
  if (header?.kind === 'Status' && ['401', '407'].includes(header.data?.text.trim() ?? '')) return undefined;
  const pending = reply.body.commands.filter((c) => c.kind !== 'Status');
  if (reply.body.final && !pending.length) {
    return { id, verdict: 'pass', check, evidence: `the client answered every server package over ${rounds} round trip(s), and the session ended with the server's closing package (${label(last.response!)})` };
  }
  const aborted = pending.some((c) => c.kind === 'Alert' && c.data?.text.trim() === '1223');
  const crashed = !run.trigger.unobserved && (run.trigger.exitCode !== 0 || !!run.trigger.signal);
  if (!pending.length || aborted || crashed) return undefined;
  const what = [...new Set(pending.map((c) => (c.kind === 'Unknown' ? c.name : c.kind)))].join(', ');
  const nextOnly = pending.every((c) => c.kind === 'Alert' && c.data?.text.trim() === '1222');
  if (nextOnly && !last.request.syncml?.body.final) {
    return { id, verdict: 'fail', check, evidence: `the session ended with the server asking for the rest of the client's package (${label(last.response!)})`, consequenceOf: 'MDM-TERM-004' };
  }
  return { id, verdict: 'fail', check, evidence: `${label(last.response!)}: the client went quiet after the server's message carrying ${what}; the session lasts as long as the server sends commands` };
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
  if (r.unobserved) return `the server saw the session end after ${took}`;
  const how = r.exitCode !== null ? `exit ${r.exitCode}` : `signal ${r.signal ?? '?'}`;
  const tail = r.exitCode === 0 ? '' : lastLine(r.stderr) || lastLine(r.stdout);
  return `trigger ${how} after ${took}${tail ? ` (${tail})` : ''}`;
}

function lastLine(text: string): string {
  return text.trim().split('\n').at(-1)?.slice(0, 300) ?? '';
}

function outcomeOf(r: TriggerResult): string {
  if (r.timedOut) return 'timed out';
  if (r.unobserved) return 'the server saw the session end';
  if (r.error) return `trigger failed: ${r.error}`;
  return r.exitCode === 0 ? 'completed' : `client ended with ${r.exitCode !== null ? `exit ${r.exitCode}` : `signal ${r.signal}`}`;
}

/**
 * Waits until the server has recorded every request in flight: a client may exit before its last exchange is
 * logged. Done as soon as the server is idle (every connection closed, every request recorded: nothing more can
 * come); a client that leaves a connection open is given until the exchanges stay unchanged for 10 ms.
 */
async function settle(server: ReferenceServer): Promise<void> {
  let last = -1;
  for (let i = 0; i < 20; i++) {
    const n = server.transcript.exchanges.length;
    if (n === last) return;
    last = n;
    for (const quietUntil = Date.now() + 10; Date.now() < quietUntil;) {
      await new Promise((r) => setTimeout(r, 1));
      if (server.idle) return;
    }
  }
}
