/**
 * The device side of one DM session, without I/O: `start()` gives package 1, `receive(serverMessage)` gives the
 * next message to POST, or undefined when the session has ended (catalogue 3.8, device state machine).
 *
 * It owns MsgID and CmdID numbering, the SyncHdr Status, package continuation (Alert 1222, Final only on the last
 * message of the device's package), large objects in both directions and the application-level auth retry.
 * What the commands do to the DM tree is the executor's business.
 */
import {
  alert, codeOf, item, itemMeta, meta, metaValue, status, type Alert, type Command, type Item, type Results, type Status,
  type SyncML,
} from '../syncml';
import { MessageAssembler } from './assembler';
import { credentialFor, type CredScheme } from './credentials';
import { byteLength, ChunkAssembly, prefixWithin } from './large-object';
import { DEVICE_VERSIONS, unsupportedVersion } from './version';

export type CommandExecutor = (commands: Command[], ctx: { msgRef: string }) => { statuses: Status[]; results: Results[] };

export interface DeviceCredentials {
  scheme: CredScheme;
  user: string;
  password: string;
  /** Base64 nonce received in an earlier session (md5), used for credentials sent before any challenge. */
  nonce?: string;
}

export interface DeviceSessionOptions {
  deviceId: string;
  serverUrl: string;
  sessionID: string;
  /** 1201 client-initiated (default) or 1200 answering a server notification (MDM-CMD-ALT-001). */
  sessionAlert?: '1201' | '1200';
  /** Windows' LoginStatus alert in package 1 (MDM-CMD-ALT-009); false leaves it out. */
  loginStatus?: 'user' | 'others' | 'none' | false;
  /** The DevInfo nodes reported in package 1 (MDM-SES-002, MDM-SES-003). */
  devInfo: { uri: string; value: string }[];
  /** Further client alerts for package 1, e.g. a generic alert 1226. */
  extraAlerts?: Alert[];
  /**
   * How package 1 numbers its commands: the first CmdID (Windows uses 2) and how many numbers are left out after
   * each command. Any numbering without 0 and without repeats is allowed (MDM-ID-004).
   */
  cmdIDs?: { first: number; gap: number };
  /** Client alerts to add to the device's first response package after package 1 (MDM-CMD-ALT-007, MDM-SES-011). */
  laterAlerts?: Alert[];
  executor: CommandExecutor;
  /** Advertised in the device's SyncHdr Meta (MDM-HDR-014): the largest message the device accepts. */
  maxMsgSize?: number;
  /** Advertised MaxObjSize (MDM-LO-018). */
  maxObjSize?: number;
  /** Largest message the device sends: bigger packages span messages, bigger items go as large objects. */
  maxSendSize?: number;
  credentials?: DeviceCredentials;
  /** Credentials sent before any challenge (basic always can; md5 needs a nonce from an earlier session). */
  preemptiveAuth?: boolean;
  behaviour?: Partial<DeviceSessionBehaviour>;
  /** Abort with Alert 1223 (and Final) in the reply to the first server message carrying commands (MDM-TERM-005). */
  abortWhenCommanded?: boolean;
  /** Declare a large-object Size off by this many bytes, to see the receiver answer 424 (MDM-LO-012). */
  uploadSizeError?: number;
}

/** The device's session behaviour; every default is the conforming one, a fault flips one knob. */
export interface DeviceSessionBehaviour {
  /** Send nothing when the reply would be the SyncHdr Status alone (MDM-TERM-001, MDM-STS-011). */
  silentWhenDone: boolean;
  /** Stop without a reply on Alert 1223 (MDM-TERM-007). */
  silentOnAbort: boolean;
  /** Keep the device's package open while the server's is (MDM-LO-002). */
  waitForServerPackage: boolean;
  /** Acknowledge chunks with 213 (MDM-LO-010). */
  ackChunks: boolean;
  /** Compare a reassembled object with its Size (MDM-LO-012). */
  checkChunkSize: boolean;
  /** Alert 1225 when a chunked object is interrupted (MDM-LO-014). */
  alertInterruptedObject: boolean;
  /** Re-send package 1 with credentials when challenged (MDM-AUTH-006). */
  answerChallenges: boolean;
  /** Hash the nonce's base64 text instead of its bytes (the mistake MDM-AUTH-016 warns about). */
  md5OverNonceText: boolean;
  /** Answer a server message in a version the device does not take with 505/513 instead of running it (MDM-ROB-002). */
  checkProtocolVersion: boolean;
  /**
   * Close each response package with Final on its last message (MDM-TERM-004, MDM-SES-010). False never does, and
   * so, asked for the rest of a package it thinks complete, finds nothing to send and stops.
   */
  finalOnReplies: boolean;
  /** Ignore Meta in the server's SyncHdr, as Windows does (MDM-HDR-013); false refuses such a message with 400. */
  ignoreServerHeaderMeta: boolean;
  /**
   * Carry on when package 2 has no Status for the session alert, as Windows does with Intune (MDM-ROB-011); false
   * takes it for a broken session and answers every command of that package 500.
   */
  tolerateMissingAlertStatus: boolean;
  /** Abort every session with Alert 1223 once the server sends commands (MDM-TERM-005), as the abortWhenCommanded option does. */
  abortOnCommands: boolean;
}

export const CONFORMING_DEVICE_SESSION: DeviceSessionBehaviour = {
  silentWhenDone: true,
  silentOnAbort: true,
  waitForServerPackage: true,
  ackChunks: true,
  checkChunkSize: true,
  alertInterruptedObject: true,
  answerChallenges: true,
  md5OverNonceText: false,
  checkProtocolVersion: true,
  finalOnReplies: true,
  ignoreServerHeaderMeta: true,
  tolerateMissingAlertStatus: true,
  abortOnCommands: false,
};

export type SessionEnd =
  | { reason: 'completed' }
  | { reason: 'aborted-by-server' }
  | { reason: 'aborted-by-device' }
  | { reason: 'auth-failed'; detail: string };

const AUTH_ATTEMPTS = 2;
const HDR = { cmdRef: '0', cmd: 'SyncHdr' };

export class DeviceSession {
  private msgID = 0;
  private ended: SessionEnd | undefined;
  /** Commands owed in the device's current package that did not fit in earlier messages. */
  private pending: Command[] = [];
  /** A Results item being uploaded in chunks. */
  private upload: { results: Results; item: Item; rest: string; first: boolean } | undefined;
  /** An object being received in chunks from the server. */
  private download: { assembly: ChunkAssembly; command: Command } | undefined;
  private authAttempts = 0;
  private laterAlertsSent = false;
  /** The session alert of the last package 1 sent, until the reply to it came (MDM-ROB-011). */
  private sessionAlertRef: { msgID: string; cmdID: string } | undefined;
  private sendCred = false;
  private nonce: string | undefined;
  private scheme: CredScheme | undefined;
  /** RespURI of the last server message: where the next message goes (MDM-HDR-016). */
  respURI: string | undefined;
  /** Nonce the server handed over with 212 for the next session (MDM-AUTH-010). */
  nextSessionNonce: string | undefined;
  private readonly behaviour: DeviceSessionBehaviour;

  constructor(private readonly opts: DeviceSessionOptions) {
    this.behaviour = { ...CONFORMING_DEVICE_SESSION, ...opts.behaviour };
    this.nonce = opts.credentials?.nonce;
    this.scheme = opts.credentials?.scheme;
    this.sendCred = !!opts.credentials && !!opts.preemptiveAuth && (opts.credentials.scheme !== 'syncml:auth-md5' || !!this.nonce);
  }

  get end(): SessionEnd | undefined {
    return this.ended;
  }

  /** Package 1 (OMA-DMP 8.3; Windows shape, catalogue 3.11): session alert, LoginStatus, DevInfo Replace, Final. */
  start(): SyncML {
    return this.package1([]);
  }

  receive(server: SyncML): SyncML | undefined {
    if (this.ended) return undefined;
    this.respURI = server.hdr.respURI;
    const serverMsgID = server.hdr.msgID?.trim() ?? '';
    const hdrStatus = status({ msgRef: serverMsgID, ...HDR, code: 200 });
    const commands = server.body.commands;

    const version = this.behaviour.checkProtocolVersion ? unsupportedVersion(server, DEVICE_VERSIONS) : undefined;
    const refusesMeta = !this.behaviour.ignoreServerHeaderMeta && !!server.hdr.meta?.fields.length && commands.some((c) => c.kind !== 'Status');
    const headerMeta = refusesMeta ? { code: '400', supported: 'no Meta in a SyncHdr' } : undefined;
    const refused = version ?? headerMeta;
    if (refused) {
      // MDM-ROB-002: nothing of the message is run; the header Status names the version taken, and every command
      // is answered with the same code (MDM-STS-004). A device that will not read Meta in a server's header does the
      // same with 400 (the mistake MDM-HDR-013 rules out).
      const refusal = status({ msgRef: serverMsgID, ...HDR, code: refused.code, items: [item({ data: refused.supported })] });
      const owed = commands
        .filter((c) => c.kind !== 'Status' && c.kind !== 'Results')
        .map((c) => status({ msgRef: serverMsgID, cmdRef: c.cmdID ?? '', cmd: c.kind === 'Unknown' ? c.name : c.kind, code: refused.code }));
      this.pending = [...owed, ...this.pending];
      return this.compose(refusal, true);
    }

    if (commands.some((c) => c.kind === 'Alert' && codeOf(c) === '1223')) {
      this.ended = { reason: 'aborted-by-server' }; // MDM-TERM-007: no reply
      if (!this.behaviour.silentOnAbort) return this.compose(hdrStatus, true);
      return undefined;
    }

    const challenge = this.readHeaderStatus(commands);
    if (challenge) return challenge === 'give-up' ? undefined : this.package1([hdrStatus]);

    const opening = this.sessionAlertRef;
    this.sessionAlertRef = undefined;
    const alertUnanswered = opening && !commands.some((c) => c.kind === 'Status' && c.msgRef?.trim() === opening.msgID && c.cmdRef?.trim() === opening.cmdID);
    if (alertUnanswered && !this.behaviour.tolerateMissingAlertStatus) {
      this.pending = commands
        .filter((c) => c.kind !== 'Status' && c.kind !== 'Results')
        .map((c) => status({ msgRef: serverMsgID, cmdRef: c.cmdID ?? '', cmd: c.kind === 'Unknown' ? c.name : c.kind, code: 500 }));
      return this.compose(hdrStatus, true);
    }

    const owed: Command[] = [];
    let nextMessageRequested = false;
    for (const command of commands) {
      if (command.kind === 'Status' || command.kind === 'Results') continue;
      if (command.kind === 'Alert' && codeOf(command) === '1222') {
        nextMessageRequested = true;
        owed.push(status({ msgRef: serverMsgID, cmdRef: command.cmdID ?? '', cmd: 'Alert', code: 200 })); // MDM-LO-006
        continue;
      }
      owed.push(...this.handle(command, serverMsgID));
    }

    const continuingOwnPackage = this.pending.length > 0 || this.upload !== undefined;
    const serverCommands = commands.filter((c) => c.kind !== 'Status' && c.kind !== 'Results');
    const onlyNextMessage = serverCommands.length > 0 && serverCommands.every((c) => c.kind === 'Alert' && codeOf(c) === '1222');
    if (!this.behaviour.finalOnReplies && onlyNextMessage && !continuingOwnPackage) {
      this.ended = { reason: 'completed' }; // its package was complete in its own eyes, Final or not
      return undefined;
    }
    if (server.body.final && serverCommands.length === 0 && !continuingOwnPackage) {
      // MDM-TERM-001 / MDM-STS-011: the reply would hold only the SyncHdr Status, so nothing is sent.
      this.ended = { reason: 'completed' };
      if (!this.behaviour.silentWhenDone) return this.compose(hdrStatus, true);
      return undefined;
    }

    // Statuses first, then Results, as Windows lays them out (MDM-RES-007).
    // Answers to this message go ahead of anything still owed from earlier messages.
    const statuses = owed.filter((c) => c.kind !== 'Results');
    const results = owed.filter((c) => c.kind === 'Results');
    this.pending = [...statuses, ...this.pending, ...results];
    if (this.opts.laterAlerts?.length && !this.laterAlertsSent && serverCommands.length) {
      this.pending.push(...this.opts.laterAlerts); // new client alerts close package 3 (OMA-DMP 8.5)
      this.laterAlertsSent = true;
    }
    if ((this.opts.abortWhenCommanded || this.behaviour.abortOnCommands) && serverCommands.length) {
      this.pending.push(alert('1223')); // MDM-TERM-005: the aborting message carries Final
      this.ended = { reason: 'aborted-by-device' };
      return this.compose(hdrStatus, true);
    }
    // The server's package is closed when its message carries Final, or when it only asked for our next message.
    const serverPackageClosed = !!server.body.final || (continuingOwnPackage && nextMessageRequested) || !this.behaviour.waitForServerPackage;
    return this.compose(hdrStatus, serverPackageClosed);
  }

  // -------------------------------------------------------------------------------------------------------------

  private package1(leading: Command[]): SyncML {
    const { sessionAlert = '1201', loginStatus = 'none', devInfo, extraAlerts = [], cmdIDs = { first: 2, gap: 0 } } = this.opts;
    const assembler = this.assembler(leading.length ? 1 : cmdIDs.first);
    const add = (c: Command) => {
      const numbered = assembler.add(c, { force: true });
      assembler.skip(cmdIDs.gap);
      return numbered;
    };
    leading.forEach(add);
    const opening = add(alert(sessionAlert));
    this.sessionAlertRef = { msgID: String(this.msgID), cmdID: opening?.cmdID ?? '' };
    if (loginStatus) add(alert('1224', [item({ type: 'com.microsoft/MDM/LoginStatus', data: loginStatus })]));
    extraAlerts.forEach(add);
    add({ kind: 'Replace', items: devInfo.map((n) => item({ source: n.uri, data: n.value })) });
    return assembler.build(true);
  }

  /** Returns 'resend' to re-send package 1 with credentials, 'give-up' after repeated failure, else undefined. */
  private readHeaderStatus(commands: Command[]): 'resend' | 'give-up' | undefined {
    const hdr = commands.find((c): c is Status => c.kind === 'Status' && c.cmdRef?.trim() === '0');
    if (!hdr) return undefined;
    const code = codeOf(hdr);
    const chalMeta = hdr.chal?.meta;
    const offeredNonce = metaValue(chalMeta, 'NextNonce');
    if (code === '212') {
      this.sendCred = false; // MDM-AUTH-008: authenticated for the rest of the session
      if (offeredNonce) this.nextSessionNonce = offeredNonce; // MDM-AUTH-010
      return undefined;
    }
    if (code === '200') {
      // MDM-AUTH-009: credentials accepted for this message only; the next one carries them again.
      if (offeredNonce) this.nonce = offeredNonce;
      return undefined;
    }
    if ((code === '401' || code === '407') && chalMeta && this.opts.credentials && this.behaviour.answerChallenges) {
      if (this.authAttempts >= AUTH_ATTEMPTS) {
        this.ended = { reason: 'auth-failed', detail: `server refused credentials ${this.authAttempts} times (status ${code})` };
        return 'give-up';
      }
      this.authAttempts++;
      this.scheme = (metaValue(chalMeta, 'Type') as CredScheme | undefined) ?? this.scheme; // MDM-AUTH-025
      if (offeredNonce) this.nonce = offeredNonce;
      this.sendCred = true;
      return 'resend';
    }
    if (code === '401' || code === '407') {
      this.ended = { reason: 'auth-failed', detail: `server answered ${code} and the device has no credentials` };
      return 'give-up';
    }
    return undefined;
  }

  /** One server command: a chunk of a large object, or a command for the executor. */
  private handle(command: Command, msgRef: string): Command[] {
    const out: Command[] = [];
    const chunk = this.chunkOf(command);
    if (this.download && !(chunk && chunk.uri === this.download.assembly.uri)) {
      // MDM-LO-014: something else arrived before the last chunk; the object is abandoned, not applied.
      if (this.behaviour.alertInterruptedObject) out.push(alert('1225', [item({ target: this.download.assembly.uri })]));
      this.download = undefined;
    }
    if (chunk) {
      const ref = { msgRef, cmdRef: command.cmdID ?? '', cmd: command.kind };
      this.download ??= { assembly: new ChunkAssembly(chunk.uri, chunk.size), command };
      this.download.assembly.append(chunk.data);
      if (chunk.more) return [...out, status({ ...ref, code: this.behaviour.ackChunks ? 213 : 200 })]; // MDM-LO-010
      const { assembly, command: first } = this.download;
      this.download = undefined;
      if (!assembly.sizeMatches && this.behaviour.checkChunkSize) return [...out, status({ ...ref, code: 424 })]; // MDM-LO-012
      // MDM-LO-015: only now is the whole object applied.
      const whole = structuredClone(first) as Command & { items: Item[] };
      whole.cmdID = command.cmdID;
      whole.items[0].data = { text: assembly.text };
      delete whole.items[0].moreData;
      return [...out, ...this.execute(whole, msgRef)];
    }
    return [...out, ...this.execute(command, msgRef)];
  }

  private execute(command: Command, msgRef: string): Command[] {
    const { statuses, results } = this.opts.executor([command], { msgRef });
    return [...statuses, ...results];
  }

  private chunkOf(command: Command): { uri: string; data: string; more: boolean; size?: number } | undefined {
    if (command.kind !== 'Add' && command.kind !== 'Replace') return undefined;
    if (command.items.length !== 1) return undefined;
    const it = command.items[0];
    const uri = it.target?.locURI ?? '';
    const continuing = this.download?.assembly.uri === uri;
    if (!it.moreData && !continuing) return undefined;
    const size = itemMeta(it, command, 'Size');
    return { uri, data: it.data?.text ?? '', more: !!it.moreData, size: size === undefined ? undefined : Number(size) };
  }

  /** Next message of the device's package: as much of what is owed as fits; Final only on the last one. */
  private compose(hdrStatus: Status, serverPackageClosed: boolean): SyncML {
    const assembler = this.assembler(1);
    assembler.add(hdrStatus, { force: true });
    while (this.pending[0]?.kind === 'Status' && assembler.add(this.pending[0])) this.pending.shift();
    this.continueUpload(assembler);
    while (this.pending.length && !this.upload) {
      const next = this.pending[0];
      if (assembler.add(next)) {
        this.pending.shift();
        continue;
      }
      if (next.kind === 'Results' && this.startUpload(next, assembler)) {
        this.pending.shift();
        continue;
      }
      if (assembler.count === 1) assembler.add(this.pending.shift()!, { force: true }); // never stall on one big command
      break;
    }
    if (!serverPackageClosed && assembler.added.every((c) => c.kind === 'Status')) {
      // MDM-LO-003, MDM-LO-010: with nothing but statuses to say, pull the server's next message.
      assembler.add(alert('1222'), { force: true });
    }
    const packageDone = this.pending.length === 0 && !this.upload;
    return assembler.build(packageDone && serverPackageClosed && this.behaviour.finalOnReplies); // MDM-LO-001, MDM-LO-002
  }

  /** First chunk of a Results item too large for one message (MDM-LO-009, MDM-LO-011, MDM-LO-020). */
  private startUpload(results: Results, assembler: MessageAssembler): boolean {
    if (results.items.length !== 1 || !results.items[0].data) return false;
    const whole = results.items[0];
    this.upload = { results, item: whole, rest: whole.data!.text, first: true };
    if (!this.continueUpload(assembler)) {
      this.upload = undefined;
      return false;
    }
    return true;
  }

  private continueUpload(assembler: MessageAssembler): boolean {
    const up = this.upload;
    if (!up) return false;
    const chunkItem = (data: string, more: boolean): Item => {
      const it: Item = structuredClone(up.item);
      if (up.first) {
        const size = byteLength(up.item.data!.text) + (this.opts.uploadSizeError ?? 0);
        it.meta = { fields: [...(it.meta?.fields ?? []), ...meta({ size })!.fields] };
      }
      it.data = { text: data };
      if (more) it.moreData = true;
      return it;
    };
    const shell: Results = { ...up.results, items: [chunkItem('', true)] };
    const budget = assembler.room - assembler.sizeOf(shell);
    if (budget <= 0) return false;
    const data = prefixWithin(up.rest, budget);
    if (!data) return false;
    const more = data.length < up.rest.length;
    assembler.add({ ...up.results, items: [chunkItem(data, more)] }, { force: true });
    up.rest = up.rest.slice(data.length);
    up.first = false;
    if (!more) this.upload = undefined;
    return true;
  }

  private assembler(firstCmdID: number): MessageAssembler {
    this.msgID++;
    const { sessionID, serverUrl, deviceId, maxMsgSize, maxObjSize, maxSendSize, credentials } = this.opts;
    const cred = this.sendCred && credentials && this.scheme
      ? credentialFor({ ...credentials, scheme: this.scheme, nonce: this.nonce }, { nonceAsText: this.behaviour.md5OverNonceText })
      : undefined;
    return new MessageAssembler(
      {
        sessionID,
        msgID: this.msgID,
        target: serverUrl,
        source: deviceId,
        sourceName: cred ? credentials!.user : undefined, // MDM-AUTH-017
        cred,
        meta: meta({ maxMsgSize, maxObjSize }),
      },
      maxSendSize,
      firstCmdID,
    );
  }
}
