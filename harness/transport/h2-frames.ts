/**
 * HTTP/2 frames as they cross a connection, read independently of the HTTP/2 implementation (RFC 9113 4.1).
 *
 * Node's HTTP/2 stack rejects a response whose DATA disagrees with its content-length (RFC 9113 8.1.1) and hands
 * over none of the offending bytes, so the client could not say how long the body really was. Reading the frames
 * off the wire keeps that evidence: how many DATA bytes each stream carried, what they were, whether END_STREAM
 * came, and which RST_STREAM or GOAWAY ended things. Header blocks are not decoded (HPACK state is not needed).
 */

/** The 24 octets every client connection starts with (RFC 9113 3.4). */
export const CLIENT_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export const FRAME = { DATA: 0x0, HEADERS: 0x1, RST_STREAM: 0x3, GOAWAY: 0x7, CONTINUATION: 0x9 } as const;
const FLAG_END_STREAM = 0x1;
const FLAG_PADDED = 0x8;
const HEADER_BYTES = 9;
/** Far above the largest SETTINGS_MAX_FRAME_SIZE a peer may choose (2^24 - 1): what follows cannot be frames. */
const MAX_FRAME_BYTES = 16 * 1024 * 1024;

/** Error codes of RFC 9113 7, by number. */
const ERROR_CODES = [
  'NO_ERROR', 'PROTOCOL_ERROR', 'INTERNAL_ERROR', 'FLOW_CONTROL_ERROR', 'SETTINGS_TIMEOUT', 'STREAM_CLOSED',
  'FRAME_SIZE_ERROR', 'REFUSED_STREAM', 'CANCEL', 'COMPRESSION_ERROR', 'CONNECT_ERROR', 'ENHANCE_YOUR_CALM',
  'INADEQUATE_SECURITY', 'HTTP_1_1_REQUIRED',
];

export function h2ErrorName(code: number): string {
  return ERROR_CODES[code] ?? `error code 0x${code.toString(16)}`;
}

export interface Frame {
  type: number;
  flags: number;
  streamId: number;
  payload: Buffer;
}

/** Splits one direction of a connection into frames; `preface` skips the client preface first. */
export class FrameReader {
  private pending: Buffer = Buffer.alloc(0);
  private prefaceLeft: number;
  /** Set when the bytes stopped making sense as frames; nothing more is reported. */
  lost = false;

  constructor(private readonly onFrame: (frame: Frame) => void, opts: { preface?: boolean } = {}) {
    this.prefaceLeft = opts.preface ? CLIENT_PREFACE.length : 0;
  }

  feed(chunk: Buffer): void {
    if (this.lost) return;
    let data = chunk;
    if (this.prefaceLeft > 0) {
      const skip = Math.min(this.prefaceLeft, data.length);
      this.prefaceLeft -= skip;
      data = data.subarray(skip);
    }
    this.pending = this.pending.length ? Buffer.concat([this.pending, data]) : data;
    while (this.pending.length >= HEADER_BYTES) {
      const length = this.pending.readUIntBE(0, 3);
      if (length > MAX_FRAME_BYTES) {
        this.lost = true;
        return;
      }
      if (this.pending.length < HEADER_BYTES + length) break;
      const frame: Frame = {
        type: this.pending[3]!,
        flags: this.pending[4]!,
        streamId: this.pending.readUInt32BE(5) & 0x7fffffff,
        payload: this.pending.subarray(HEADER_BYTES, HEADER_BYTES + length),
      };
      this.pending = this.pending.subarray(HEADER_BYTES + length);
      this.onFrame(frame);
    }
    // Keep the partial frame in a buffer of its own: the chunk it came in may be reused by the socket.
    if (this.pending.length) this.pending = Buffer.from(this.pending);
  }
}

/** What one stream carried in one direction. */
export interface StreamWire {
  /** DATA octets, padding excluded (RFC 9113 6.1): the length content-length must match. */
  dataBytes: number;
  /** The DATA octets themselves, up to the bound the ledger was given. */
  data: Buffer[];
  keptBytes: number;
  /** A DATA or HEADERS frame carried END_STREAM. */
  ended: boolean;
  /** The error code of a RST_STREAM for this stream. */
  reset?: number;
}

/** The DATA payload of a frame without its padding, or undefined when the padding is impossible. */
export function dataPayload(frame: Frame): Buffer | undefined {
  if (!(frame.flags & FLAG_PADDED)) return frame.payload;
  const pad = frame.payload[0];
  if (pad === undefined || pad >= frame.payload.length) return undefined;
  return frame.payload.subarray(1, frame.payload.length - pad);
}

export function endsStream(frame: Frame): boolean {
  return (frame.type === FRAME.DATA || frame.type === FRAME.HEADERS) && (frame.flags & FLAG_END_STREAM) !== 0;
}

/** Per-stream account of one direction, keeping DATA bytes up to `maxBytes` per stream. */
export class StreamLedger {
  private readonly streams = new Map<number, StreamWire>();
  /** A GOAWAY seen in this direction: its last stream id and error code. */
  goaway?: { lastStreamId: number; code: number };

  constructor(private readonly maxBytes: number) {}

  get(id: number): StreamWire | undefined {
    return this.streams.get(id);
  }

  /** Forgets a stream once its exchange is recorded, so that a long connection does not accumulate them. */
  forget(id: number): void {
    this.streams.delete(id);
  }

  note(frame: Frame): void {
    if (frame.type === FRAME.GOAWAY && frame.payload.length >= 8) {
      this.goaway = { lastStreamId: frame.payload.readUInt32BE(0) & 0x7fffffff, code: frame.payload.readUInt32BE(4) };
      return;
    }
    if (frame.streamId === 0) return;
    const wire = this.open(frame.streamId);
    if (frame.type === FRAME.DATA) {
      const payload = dataPayload(frame) ?? Buffer.alloc(0);
      const room = this.maxBytes - wire.keptBytes;
      if (room > 0 && payload.length) {
        const kept = Buffer.from(payload.subarray(0, room));
        wire.data.push(kept);
        wire.keptBytes += kept.length;
      }
      wire.dataBytes += payload.length;
    } else if (frame.type === FRAME.RST_STREAM && frame.payload.length >= 4) {
      wire.reset = frame.payload.readUInt32BE(0);
    }
    if (endsStream(frame)) wire.ended = true;
  }

  private open(id: number): StreamWire {
    let wire = this.streams.get(id);
    if (!wire) this.streams.set(id, (wire = { dataBytes: 0, data: [], keptBytes: 0, ended: false }));
    return wire;
  }
}
