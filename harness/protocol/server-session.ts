/**
 * The server side of one DM session, without I/O: `receive(deviceMessage)` always returns the reply
 * (MDM-STS-012, MDM-TERM-003). Catalogue 3.8, server state machine.
 *
 * It owns MsgID/CmdID numbering, the SyncHdr Status, a Status for every device command that needs one, the
 * package rules of OMA-DMP 6 (Next Message replies, Final on every message but large-object chunks and Next
 * Message replies, MDM-LO-004/005/007), the device's MaxMsgSize and MaxObjSize, large objects in both directions
 * and the application-level challenge. Which commands go to the device comes from the queue.
 */
import {
  alert, chal, codeOf, get, item, meta, metaValue, status, type Alert, type Command, type Item, type Results, type Status, type SyncHdr, type SyncML,
} from '../syncml';
import { MessageAssembler } from './assembler';
import { AuthScheme, decodeNonce, newNonce, NONCE_BYTES, verifyCredential, type CredScheme } from './auth';
import { byteLength, ChunkAssembly, prefixWithin } from './large-object';
import type { Rng } from './random';
import { SERVER_VERSIONS, unsupportedVersion } from './version';

export interface CommandQueue {
  peek(): Command | undefined;
  shift(): Command | undefined;
  /**
   * Called when the server starts a new package (the device's package is complete). A queue that holds commands
   * for later rounds releases the next round here; until then `peek` stops at the end of the current one.
   */
  startPackage?(): void;
}

export interface ServerCredentialCheck {
  scheme: CredScheme;
  user: string;
  password: string;
  /** Nonce (base64) the device was given for this session; a fresh one is made when absent. */
  nonce?: string;
  /** Told the nonce the device must use in its next session (MDM-AUTH-010, MDM-AUTH-019). */
  onNextNonce?: (nonce: string) => void;
}

/** The server's behaviour; every knob's default is the conforming one, a fault flips one. */
export interface ServerBehaviour {
  statusForAlerts: boolean;
  statusForResults200: boolean;
  honourMaxMsgSize: boolean;
  chunkLargeObjects: boolean;
  nextMessageReplies: boolean;
  endsSession: boolean;
  stopAfter214: boolean;
  acceptAnyCredential: boolean;
  ackResultsChunks: boolean;
  honourMaxObjSize: boolean;
  sizeOnFirstChunkOnly: boolean;
  challengeWithChal: boolean;
  commandsInNextMessageReply: boolean;
  statusesOnlyOnAuthFailure: boolean;
  statusesOnlyAfterAbort: boolean;
  pullWithAlert1222: boolean;
  checkResultsSize: boolean;
  commandsBetweenChunks: boolean;
  /** Answer a message in a SyncML or DM version other than 1.2 with 505/513 instead of processing it (MDM-ROB-002). */
  checkProtocolVersion: boolean;
  /** Hand out a new MD5 nonce with every 212, for the next session (MDM-AUTH-019); false repeats the current one. */
  renewNonce: boolean;
  /** Octets of each nonce the server makes (MDM-AUTH-021: at least 16). */
  nonceBytes: number;
  /** Answer a malformed command (not a DM command, no CmdID, an Alert without its code) with 400/412 (MDM-ROB-006). */
  answerMalformedCommands: boolean;
  /** Every 401/407 carries a nonce never issued before (MDM-AUTH-022); false re-issues the current one. */
  freshNonceOnChallenge: boolean;
  /**
   * A conforming alternative to 212: accept credentials with 200 and a fresh nonce, so that every message of the
   * session carries them again (MDM-AUTH-009). Off by default, as Windows' servers answer 212.
   */
  authenticatePerMessage: boolean;
  /** Answer an alert code MS-MDM does not use with 406 (MDM-ROB-001); false answers it 200 as if it were understood. */
  refuseUnknownAlerts: boolean;
  /** Answer a generic alert whose Format is no OMA DM format with 415 (MDM-ROB-008); false answers it 200. */
  refuseUnsupportedGenericAlerts: boolean;
  /** Answer client alerts (1224, 1226) that come after package 1 (MDM-STS-005, MDM-SES-011); false answers only package 1's. */
  statusForLaterAlerts: boolean;
  /**
   * Hold user-scoped commands (`./User/…`, `./user/…`) back, with everything queued after them, until a session whose
   * package 1 reported LoginStatus `user` (MDM-SES-019); false sends them whoever is signed in.
   */
  holdUserScopeWithoutUser: boolean;
  /** Open package 2 with an Alert 1201 of the server's own, as a SyncML DS server answers a sync alert (never right: MDM-SES-007). */
  echoSessionAlert: boolean;
  /** Answer a session opened with Alert 1200 like one opened with 1201 (MDM-SES-008); false answers 1200 with 406. */
  acceptAlert1200: boolean;
  /** Take Windows' `<Cmd>` in Results (A-05, MDM-ROB-005); false refuses such a Results with 400, as a strict DTD reading does. */
  acceptCmdInResults: boolean;
  /*
   * Tools of the client-under-test scenarios. Each default is the conforming behaviour; the non-default values
   * are what a scenario needs a server to do to see the client react (some are deliberately wrong).
   */
  /** Abort the session with Alert 1223 (and Final) in the server message with this MsgID; 0 never (MDM-TERM-005). */
  abortInMessage: number;
  /** Send an Item whose Data is longer than this many bytes as a large object, in chunks of at most this size, even
   *  when the device advertised no MaxMsgSize; 0 leaves it to the device's MaxMsgSize (MDM-LO-009). */
  chunkBytes: number;
  /** Declare the Size of a chunked object off by this many bytes: the device must answer 424 (MDM-LO-012). */
  chunkSizeError: number;
  /** After the first chunk, send the next queued command instead of the rest of the object (MDM-LO-014). */
  interruptChunkedObject: boolean;
  /** MaxMsgSize advertised in the server's own SyncHdr Meta, as Intune does; 0 none (MDM-HDR-013). */
  advertiseMaxMsgSize: number;
}

export const CONFORMING_SERVER: ServerBehaviour = {
  statusForAlerts: true,
  statusForResults200: false,
  honourMaxMsgSize: true,
  chunkLargeObjects: true,
  nextMessageReplies: true,
  endsSession: true,
  stopAfter214: true,
  acceptAnyCredential: false,
  ackResultsChunks: true,
  honourMaxObjSize: true,
  sizeOnFirstChunkOnly: true,
  challengeWithChal: true,
  commandsInNextMessageReply: false,
  statusesOnlyOnAuthFailure: true,
  statusesOnlyAfterAbort: true,
  pullWithAlert1222: true,
  checkResultsSize: true,
  commandsBetweenChunks: false,
  checkProtocolVersion: true,
  renewNonce: true,
  nonceBytes: NONCE_BYTES,
  freshNonceOnChallenge: true,
  answerMalformedCommands: true,
  authenticatePerMessage: false,
  refuseUnknownAlerts: true,
  refuseUnsupportedGenericAlerts: true,
  statusForLaterAlerts: true,
  acceptCmdInResults: true,
  acceptAlert1200: true,
  echoSessionAlert: false,
  holdUserScopeWithoutUser: true,
  abortInMessage: 0,
  chunkBytes: 0,
  chunkSizeError: 0,
  interruptChunkedObject: false,
  advertiseMaxMsgSize: 0,
};

export interface ServerSessionOptions {
  serverUrl: string;
  deviceId: string;
  sessionID: string;
  queue: CommandQueue;
  clientAuth?: ServerCredentialCheck;
  behaviour?: Partial<ServerBehaviour>;
  /** Where nonces come from: the run's seeded generator, so a run repeats exactly. */
  rng?: Rng;
}

export interface SentCommand {
  msgID: string;
  command: Command;
}

export type ServerEvent =
  | { type: 'status'; msgRef: string; cmdRef: string; cmd?: string; code: string; answers?: SentCommand; status: Status }
  | { type: 'results'; msgRef: string; cmdRef: string; items: Item[]; answers?: SentCommand }
  | { type: 'alert'; code: string; items: Item[] }
  | { type: 'undeliverable'; command: Command; reason: string }
  | { type: 'auth'; outcome: 'challenged' | 'refused' | 'accepted'; code: string }
  | { type: 'version-refused'; code: string; declared: string };

const KNOWN_ALERTS = new Set(['1200', '1201', '1222', '1223', '1224', '1225', '1226']);
const SESSION_ALERTS = new Set(['1200', '1201']);
const CLIENT_EVENTS = new Set(['1224', '1226']);
/** The data formats of the OMA DM tree (catalogue 3.3): a generic alert in any other cannot be read (MDM-ROB-008). */
const OMA_FORMATS = new Set(['b64', 'bin', 'bool', 'chr', 'int', 'node', 'null', 'xml', 'date', 'time', 'float']);
const REQUEST_PENDING = 'Reversed-Domain-Name:com.microsoft.mdm.requestpending';
const LOGIN_STATUS = 'com.microsoft/MDM/LoginStatus';
const USER_SCOPE = /^\.\/[Uu]ser(\/|$)/;

/** A command (or a member of it) addressing the user scope (WOMA: `./user/…`; CSP docs: `./User/…`). */
function userScoped(c: Command): boolean {
  if (c.kind === 'Atomic' || c.kind === 'Sequence') return c.commands.some(userScoped);
  return 'items' in c && c.kind !== 'Status' && c.kind !== 'Results' && c.items.some((i) => USER_SCOPE.test(i.target?.locURI?.trim() ?? ''));
}
const DEVICE_ORIGINATED = new Set(['Alert', 'Replace', 'Results', 'Status']);

export class ServerSession {
  private msgID = 0;
  private readonly behaviour: ServerBehaviour;
  private readonly sent = new Map<string, SentCommand>();
  private deviceMaxMsgSize: number | undefined;
  private deviceMaxObjSize: number | undefined;
  private upload: { assembly: ChunkAssembly; results: Results; msgRef: string } | undefined;
  private download: { command: Command & { items: Item[] }; rest: string; first: boolean } | undefined;
  private authenticated = false;
  private nonce: string | undefined;
  private stopped = false;
  /** What package 1's LoginStatus alert reported (MDM-CMD-ALT-009): `user`, `others`, `none`, or nothing. */
  private loginStatus: string | undefined;
  /** 'closing' once a Status-only package with Final went out; 'aborted' after Alert 1223. */
  state: 'open' | 'closing' | 'aborted' = 'open';
  readonly events: ServerEvent[] = [];

  constructor(private readonly opts: ServerSessionOptions) {
    this.behaviour = { ...CONFORMING_SERVER, ...opts.behaviour };
    this.nonce = opts.clientAuth?.nonce;
  }

  receive(device: SyncML): SyncML {
    const deviceMsgID = device.hdr.msgID?.trim() ?? '';
    const version = this.behaviour.checkProtocolVersion ? unsupportedVersion(device, SERVER_VERSIONS) : undefined;
    if (version) return this.refuseVersion(device, deviceMsgID, version);
    this.readLimits(device.hdr);
    const auth = this.authenticate(device.hdr);
    const assembler = this.assembler();
    const chalToSend = this.behaviour.challengeWithChal || auth.ok ? auth.chal : undefined;
    const hdrStatus = status({ msgRef: deviceMsgID, cmdRef: '0', cmd: 'SyncHdr', code: auth.code, chal: chalToSend });
    assembler.add(hdrStatus, { force: true });

    const answers = this.answer(device.body.commands, deviceMsgID, auth.ok ? undefined : { code: auth.code });
    for (const s of answers.statuses) assembler.add(s, { force: true });

    if (!auth.ok) {
      if (!this.behaviour.statusesOnlyOnAuthFailure) assembler.add(get('./DevInfo/DmV'), { force: true });
      return assembler.build(true); // MDM-AUTH-007: statuses only
    }
    if (answers.abort) {
      this.state = 'aborted'; // MDM-TERM-006: statuses only
      if (!this.behaviour.statusesOnlyAfterAbort) assembler.add(get('./DevInfo/DmV'), { force: true });
      return assembler.build(true);
    }
    if (this.msgID === this.behaviour.abortInMessage) {
      assembler.add(alert('1223'), { force: true }); // MDM-TERM-005: the aborting message carries Final
      this.state = 'aborted';
      return assembler.build(true);
    }
    if (answers.requestPending) return assembler.build(false); // MDM-CMD-ALT-016: keep waiting, no commands

    if (!device.body.final && this.behaviour.nextMessageReplies) {
      if (this.download) return this.sendPackage(assembler);
      if (this.behaviour.pullWithAlert1222) assembler.add(alert('1222'), { force: true }); // MDM-LO-004, MDM-LO-007: "Next Message"
      if (this.behaviour.commandsInNextMessageReply) assembler.add(get('./DevInfo/Lang'), { force: true });
      return assembler.build(false);
    }
    this.opts.queue.startPackage?.();
    if (this.behaviour.echoSessionAlert && device.body.commands.some((c) => c.kind === 'Alert' && SESSION_ALERTS.has(codeOf(c) ?? ''))) {
      assembler.add(alert('1201'), { force: true });
    }
    return this.sendPackage(assembler);
  }

  // -------------------------------------------------------------------------------------------------------------

  /**
   * MDM-ROB-002: a message in a version the server does not speak is not processed. The SyncHdr Status carries
   * 505 or 513 and lists the supported version; every command gets the same code (nothing was executed, and the
   * device is owed a Status for each, MDM-STS-005); the session ends with this reply.
   */
  private refuseVersion(device: SyncML, msgRef: string, version: { code: string; supported: string; declared: string }): SyncML {
    const assembler = this.assembler();
    assembler.add(status({ msgRef, cmdRef: '0', cmd: 'SyncHdr', code: version.code, items: [item({ data: version.supported })] }), { force: true });
    for (const c of device.body.commands) {
      if (c.kind === 'Status') continue;
      assembler.add(status({ msgRef, cmdRef: c.cmdID ?? '', cmd: c.kind === 'Unknown' ? c.name : c.kind, code: version.code }), { force: true });
    }
    this.events.push({ type: 'version-refused', code: version.code, declared: version.declared });
    this.state = 'closing';
    return assembler.build(true);
  }

  private readLimits(hdr: SyncHdr): void {
    const maxMsg = Number(metaValue(hdr.meta, 'MaxMsgSize'));
    const maxObj = Number(metaValue(hdr.meta, 'MaxObjSize'));
    if (maxMsg > 0) this.deviceMaxMsgSize = maxMsg;
    if (maxObj > 0) this.deviceMaxObjSize = maxObj; // MDM-LO-018: binding for the rest of the session
  }

  private authenticate(hdr: SyncHdr): { ok: boolean; code: string; chal?: ReturnType<typeof chal> } {
    const check = this.opts.clientAuth;
    if (!check || this.authenticated) return { ok: true, code: '200' };
    const challenge = () => {
      // MDM-AUTH-022: each challenge carries a fresh nonce
      if (this.behaviour.freshNonceOnChallenge || this.nonce === undefined) this.nonce = newNonce(this.behaviour.nonceBytes, this.opts.rng);
      return chal(check.scheme, check.scheme === AuthScheme.Md5 ? this.nonce : undefined);
    };
    if (!hdr.cred) {
      this.events.push({ type: 'auth', outcome: 'challenged', code: '407' });
      return { ok: false, code: '407', chal: challenge() }; // MDM-AUTH-004, MDM-AUTH-005
    }
    const scheme = metaValue(hdr.cred.meta, 'Type')?.trim();
    const user = check.scheme === AuthScheme.Md5 ? hdr.source?.locName ?? '' : check.user; // MDM-AUTH-017
    const ok = this.behaviour.acceptAnyCredential || (
      scheme === check.scheme && user === check.user &&
      verifyCredential({ scheme: check.scheme, data: hdr.cred.data?.text.trim() ?? '', user: check.user, password: check.password, nonce: this.nonceBytes() }));
    if (!ok) {
      this.events.push({ type: 'auth', outcome: 'refused', code: '401' });
      return { ok: false, code: '401', chal: challenge() };
    }
    // MDM-AUTH-019: renewed in every session for the next one
    const next = this.behaviour.renewNonce || this.nonce === undefined ? newNonce(this.behaviour.nonceBytes, this.opts.rng) : this.nonce;
    check.onNextNonce?.(next);
    if (this.behaviour.authenticatePerMessage) {
      // MDM-AUTH-009: 200, so the next message carries credentials again, made with the nonce of this Chal.
      this.nonce = next;
      this.events.push({ type: 'auth', outcome: 'accepted', code: '200' });
      return { ok: true, code: '200', chal: check.scheme === AuthScheme.Md5 ? chal(check.scheme, next) : undefined };
    }
    this.authenticated = true;
    this.events.push({ type: 'auth', outcome: 'accepted', code: '212' });
    return { ok: true, code: '212', chal: check.scheme === AuthScheme.Md5 ? chal(check.scheme, next) : undefined };
  }

  private nonceBytes(): Uint8Array | undefined {
    try {
      return this.nonce === undefined ? undefined : decodeNonce(this.nonce);
    } catch {
      return undefined;
    }
  }

  /** Statuses owed for the device's commands, and what the message asks of the session. */
  private answer(commands: Command[], msgRef: string, authFailure: { code: string } | undefined) {
    const statuses: Status[] = [];
    let abort = false;
    let requestPending = false;
    const reply = (c: Command, cmd: string, code: string | number) => statuses.push(status({ msgRef, cmdRef: c.cmdID ?? '', cmd, code }));
    for (const c of commands) {
      if (c.kind === 'Status') {
        this.record(c);
        continue;
      }
      if (authFailure) {
        reply(c, c.kind === 'Unknown' ? c.name : c.kind, authFailure.code); // the Chal rides on the SyncHdr Status (3.7 E)
        continue;
      }
      if (c.kind === 'Unknown' || c.cmdID === undefined) {
        reply(c, c.kind === 'Unknown' ? c.name : c.kind, this.behaviour.answerMalformedCommands ? 400 : 200); // MDM-ROB-006
        continue;
      }
      if (c.kind === 'Results' && c.cmd !== undefined && !this.behaviour.acceptCmdInResults) {
        reply(c, 'Results', 400);
        continue;
      }
      if (c.kind === 'Results') {
        const code = this.takeResults(c, msgRef);
        if (code !== undefined) reply(c, 'Results', code);
        continue;
      }
      if (c.kind === 'Alert') {
        const code = codeOf(c) ?? '';
        if (!/^\d{4}$/.test(code)) {
          reply(c, 'Alert', this.behaviour.answerMalformedCommands ? 412 : 200); // MDM-ROB-006: an Alert lacking its code is incomplete
          continue;
        }
        this.events.push({ type: 'alert', code, items: c.items });
        const login = code === '1224' ? c.items.find((i) => metaValue(i.meta, 'Type') === LOGIN_STATUS) : undefined;
        if (login) this.loginStatus = login.data?.text.trim();
        if (code === '1223') abort = true;
        if (code === '1224' && c.items.some((i) => metaValue(i.meta, 'Type') === REQUEST_PENDING)) requestPending = true;
        if (!this.behaviour.statusForAlerts) continue;
        if (!this.behaviour.statusForLaterAlerts && CLIENT_EVENTS.has(code) && !commands.some((a) => a.kind === 'Alert' && SESSION_ALERTS.has(codeOf(a) ?? ''))) continue;
        reply(c, 'Alert', this.alertCode(c, code)); // MDM-STS-005
        continue;
      }
      reply(c, c.kind, DEVICE_ORIGINATED.has(c.kind) ? 200 : 405); // MDM-STS-006; MDM-SES-005 forbids the rest
    }
    return { statuses, abort, requestPending };
  }

  /** 200 for an alert the server takes; 406 for a code it does not know (MDM-ROB-001); 415 for a generic alert in a format it cannot read (MDM-ROB-008). */
  private alertCode(c: Alert, code: string): number {
    if (!KNOWN_ALERTS.has(code)) return this.behaviour.refuseUnknownAlerts ? 406 : 200;
    if (code === '1200' && !this.behaviour.acceptAlert1200) return 406;
    if (code !== '1226' || !this.behaviour.refuseUnsupportedGenericAlerts) return 200;
    const unreadable = c.items.some((i) => {
      const format = metaValue(i.meta, 'Format');
      return format !== undefined && !OMA_FORMATS.has(format.trim());
    });
    return unreadable ? 415 : 200;
  }

  private record(s: Status): void {
    const msgRef = s.msgRef?.trim() ?? '';
    const cmdRef = s.cmdRef?.trim() ?? '';
    const code = codeOf(s) ?? '';
    if (cmdRef === '0') return;
    if (code === '214') this.stopped = this.behaviour.stopAfter214; // MDM-STS-024
    this.events.push({ type: 'status', msgRef, cmdRef, cmd: s.cmd, code, answers: this.sent.get(`${msgRef}:${cmdRef}`), status: s });
  }

  /** A Results (or one chunk of it): 213 per chunk, 424 on a size mismatch, no Status for 200 (MDM-STS-014, MDM-LO-021). */
  private takeResults(r: Results, msgRef: string): string | undefined {
    const it = r.items[0];
    const chunked = r.items.length === 1 && (it.moreData || this.upload !== undefined);
    if (!chunked) {
      this.events.push({ type: 'results', msgRef: r.msgRef ?? '1', cmdRef: r.cmdRef ?? '1', items: r.items, answers: this.correlate(r) });
      return this.behaviour.statusForResults200 ? '200' : undefined;
    }
    const uri = it.source?.locURI ?? '';
    if (!this.upload) {
      const size = metaValue(it.meta, 'Size') ?? metaValue(r.meta, 'Size');
      this.upload = { assembly: new ChunkAssembly(uri, size === undefined ? undefined : Number(size)), results: r, msgRef };
    }
    this.upload.assembly.append(it.data?.text ?? '');
    if (it.moreData) return this.behaviour.ackResultsChunks ? '213' : undefined;
    const { assembly, results } = this.upload;
    this.upload = undefined;
    if (!assembly.sizeMatches && this.behaviour.checkResultsSize) return '424'; // MDM-LO-012
    const whole = { ...structuredClone(it), data: { text: assembly.text } };
    this.events.push({ type: 'results', msgRef: results.msgRef ?? '1', cmdRef: results.cmdRef ?? '1', items: [whole], answers: this.correlate(results) });
    return this.behaviour.statusForResults200 ? '200' : undefined;
  }

  /** MDM-ID-007/008: a Results without MsgRef refers to message 1, without CmdRef to CmdID 1. */
  private correlate(r: Results): SentCommand | undefined {
    return this.sent.get(`${r.msgRef?.trim() ?? '1'}:${r.cmdRef?.trim() ?? '1'}`);
  }

  /** A package: queued commands that fit (the rest wait, MDM-LO-005), large objects in chunks, else a close. */
  private sendPackage(assembler: MessageAssembler): SyncML {
    if (this.download && this.behaviour.interruptChunkedObject && !this.download.first) {
      this.events.push({ type: 'undeliverable', command: this.download.command, reason: 'the chunked object was interrupted on purpose (MDM-LO-014)' });
      this.download = undefined;
    }
    if (this.download) {
      this.continueDownload(assembler);
      if (this.download) {
        if (this.behaviour.commandsBetweenChunks) assembler.add(get('./DevInfo/DmV'), { force: true });
        return this.finish(assembler, false); // no Final while chunks remain
      }
    }
    if (!this.stopped) this.addQueued(assembler);
    if (this.download) return this.finish(assembler, false);
    const hasCommands = assembler.added.some((c) => c.kind !== 'Status');
    if (!hasCommands) {
      if (!this.behaviour.endsSession) {
        assembler.add(get('./DevInfo/DmV'), { force: true });
        return this.finish(assembler, true);
      }
      this.state = 'closing'; // MDM-TERM-002: Status-only package with Final
    }
    return this.finish(assembler, true);
  }

  private addQueued(assembler: MessageAssembler): void {
    const { queue } = this.opts;
    for (let next = queue.peek(); next; next = queue.peek()) {
      // MDM-SES-019: user configuration waits for a session in which the enrolled user is signed in.
      if (this.behaviour.holdUserScopeWithoutUser && this.loginStatus !== 'user' && userScoped(next)) return;
      const tooBigObject = this.objectTooLarge(next);
      if (tooBigObject) {
        queue.shift();
        this.events.push({ type: 'undeliverable', command: next, reason: tooBigObject });
        continue;
      }
      if (!this.chunkedOnPurpose(next) && assembler.add(next, { force: !this.behaviour.honourMaxMsgSize })) {
        queue.shift();
        continue;
      }
      const firstCommand = !assembler.added.some((c) => c.kind !== 'Status');
      if (!firstCommand) return; // does not fit: waits for the next package (MDM-LO-005)
      queue.shift();
      if (this.behaviour.chunkLargeObjects && this.startDownload(next, assembler)) return;
      this.events.push({ type: 'undeliverable', command: next, reason: `a ${next.kind} of ${assembler.sizeOf(next)} bytes cannot fit the device's MaxMsgSize ${this.deviceMaxMsgSize}` });
    }
  }

  private objectTooLarge(c: Command): string | undefined {
    if (!this.behaviour.honourMaxObjSize || this.deviceMaxObjSize === undefined || (c.kind !== 'Add' && c.kind !== 'Replace')) return undefined;
    const size = Math.max(0, ...c.items.map((i) => byteLength(i.data?.text ?? '')));
    return size > this.deviceMaxObjSize ? `an object of ${size} bytes exceeds the device's MaxObjSize ${this.deviceMaxObjSize} (MDM-LO-018)` : undefined;
  }

  private chunkedOnPurpose(c: Command): boolean {
    const limit = this.behaviour.chunkBytes;
    if (!limit || (c.kind !== 'Add' && c.kind !== 'Replace') || c.items.length !== 1) return false;
    return byteLength(c.items[0].data?.text ?? '') > limit;
  }

  private startDownload(c: Command, assembler: MessageAssembler): boolean {
    if ((c.kind !== 'Add' && c.kind !== 'Replace') || c.items.length !== 1 || !c.items[0].data) return false;
    this.download = { command: c, rest: c.items[0].data.text, first: true };
    if (this.continueDownload(assembler)) return true;
    this.download = undefined;
    return false;
  }

  /** Next chunk: MoreData on all but the last, Size only on the first, Meta and addressing repeated (MDM-LO-009..016). */
  private continueDownload(assembler: MessageAssembler): boolean {
    const d = this.download!;
    const total = byteLength(d.command.items[0].data!.text) + this.behaviour.chunkSizeError;
    const chunk = (text: string, more: boolean): Command => {
      const copy = structuredClone(d.command);
      const it = copy.items[0];
      if (d.first || !this.behaviour.sizeOnFirstChunkOnly) it.meta = { fields: [...(it.meta?.fields ?? []), { name: 'Size', value: String(total), attrs: { xmlns: 'syncml:metinf' } }] };
      it.data = { text };
      if (more) it.moreData = true;
      return copy;
    };
    const budget = Math.min(assembler.room - assembler.sizeOf(chunk('', true)), this.behaviour.chunkBytes || Infinity);
    const text = budget > 0 ? prefixWithin(d.rest, budget) : '';
    if (!text) return false;
    const more = text.length < d.rest.length;
    const sent = assembler.add(chunk(text, more), { force: true })!;
    this.remember(sent);
    d.rest = d.rest.slice(text.length);
    d.first = false;
    if (!more) this.download = undefined;
    return true;
  }

  private finish(assembler: MessageAssembler, final: boolean): SyncML {
    for (const c of assembler.added) if (c.kind !== 'Status') this.remember(c);
    return assembler.build(final);
  }

  private remember(c: Command): void {
    if (c.kind === 'Unknown' || c.cmdID === undefined) return;
    this.sent.set(`${this.msgID}:${c.cmdID}`, { msgID: String(this.msgID), command: c });
    if (c.kind === 'Atomic' || c.kind === 'Sequence') for (const m of c.commands) this.remember(m);
  }

  private assembler(): MessageAssembler {
    this.msgID++;
    const max = this.behaviour.honourMaxMsgSize ? this.deviceMaxMsgSize : undefined;
    const header = { sessionID: this.opts.sessionID, msgID: this.msgID, target: this.opts.deviceId, source: this.opts.serverUrl };
    const advertised = this.behaviour.advertiseMaxMsgSize ? meta({ maxMsgSize: this.behaviour.advertiseMaxMsgSize }) : undefined;
    return new MessageAssembler(advertised ? { ...header, meta: advertised } : header, max);
  }
}
