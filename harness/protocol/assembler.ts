/**
 * Builds one outgoing message: numbers CmdIDs (unique in the message, nested commands included, never 0 —
 * MDM-ID-001..003) and keeps the serialized size within the peer's MaxMsgSize.
 */
import {
  encodeCommand, message, serializeSyncML, type Command, type Cred, type Meta, type SyncML,
} from '../syncml';

export interface HeaderInit {
  sessionID: string;
  msgID: number;
  target: string;
  source: string;
  sourceName?: string;
  cred?: Cred;
  meta?: Meta;
}

export class MessageAssembler {
  private readonly commands: Command[] = [];
  private nextCmdID: number;
  private bytes: number;

  /**
   * @param maxBytes the peer's MaxMsgSize (undefined: no limit)
   * @param firstCmdID Windows numbers package 1 from 2; other messages start at 1
   */
  constructor(
    private readonly header: HeaderInit,
    readonly maxBytes?: number,
    firstCmdID = 1,
  ) {
    this.nextCmdID = firstCmdID;
    this.bytes = Buffer.byteLength(serializeSyncML(this.shell(true)));
  }

  get size(): number {
    return this.bytes;
  }

  get count(): number {
    return this.commands.length;
  }

  /** The numbered commands added so far. */
  get added(): readonly Command[] {
    return this.commands;
  }

  /** Room left for commands, in bytes (Infinity without a limit). */
  get room(): number {
    return this.maxBytes === undefined ? Infinity : this.maxBytes - this.bytes;
  }

  /** Size the command would take once numbered, without adding it. */
  sizeOf(command: Command): number {
    const copy = structuredClone(command);
    this.number(copy, { next: this.nextCmdID });
    return Buffer.byteLength(encodeCommand(copy));
  }

  /** Adds the command when it fits (or unconditionally with force); numbers it and returns the numbered copy. */
  add(command: Command, opts: { force?: boolean } = {}): Command | undefined {
    const copy = structuredClone(command);
    const counter = { next: this.nextCmdID };
    this.number(copy, counter);
    const size = Buffer.byteLength(encodeCommand(copy));
    if (!opts.force && this.bytes + size > (this.maxBytes ?? Infinity)) return undefined;
    this.nextCmdID = counter.next;
    this.bytes += size;
    this.commands.push(copy);
    return copy;
  }

  /** Leaves `n` CmdIDs unused before the next command: numbering need not be contiguous (MDM-ID-004). */
  skip(n: number): void {
    this.nextCmdID += Math.max(0, n);
  }

  build(final: boolean): SyncML {
    const msg = this.shell(final);
    msg.body.commands = this.commands;
    return msg;
  }

  private number(command: Command, counter: { next: number }): void {
    if (command.kind === 'Unknown') return;
    command.cmdID = String(counter.next++);
    if (command.kind === 'Atomic' || command.kind === 'Sequence') {
      for (const member of command.commands) this.number(member, counter);
    }
  }

  private shell(final: boolean): SyncML {
    const { sessionID, msgID, target, source, sourceName, cred, meta } = this.header;
    return message({ sessionID, msgID, target, source, sourceName, cred, meta, commands: [], final });
  }
}
