/**
 * A plaintext window on an HTTP/2 client connection.
 *
 * Node's HTTP/2 session reads and writes a TLS socket natively, below JavaScript, so patching the socket's `read`
 * and `write` (as the HTTP/1.1 tap does) would see nothing. Handed this stream instead, the session goes through
 * JavaScript for every byte, and the client sees each one on its way: exact byte counts and the frames themselves.
 */
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';

export interface TapHooks {
  /** Bytes from the server, before the HTTP/2 session reads them. */
  received(chunk: Buffer): void;
  /** Bytes to the server, as the HTTP/2 session writes them. */
  sent(chunk: Buffer): void;
}

export class TappedConnection extends Duplex {
  /** undici and Node read these to pick and set up the HTTP/2 session. */
  readonly alpnProtocol = 'h2';
  readonly encrypted = true;

  constructor(readonly socket: Socket, private readonly hooks: TapHooks) {
    super({ allowHalfOpen: false });
    socket.on('data', (chunk: Buffer) => {
      hooks.received(chunk);
      if (!this.push(chunk)) socket.pause();
    });
    socket.on('end', () => this.push(null));
    socket.on('error', (err: Error) => this.destroy(err));
    socket.on('close', () => this.destroy());
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    this.hooks.sent(chunk);
    if (this.socket.write(chunk)) done();
    else this.socket.once('drain', () => done());
  }

  override _final(done: (err?: Error | null) => void): void {
    this.socket.end();
    done();
  }

  override _destroy(err: Error | null, done: (err: Error | null) => void): void {
    this.socket.destroy(err ?? undefined);
    done(err);
  }

  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }
  get remotePort(): number | undefined {
    return this.socket.remotePort;
  }
  get remoteFamily(): string | undefined {
    return this.socket.remoteFamily;
  }
  get localAddress(): string | undefined {
    return this.socket.localAddress;
  }
  get localPort(): number | undefined {
    return this.socket.localPort;
  }
  get bytesRead(): number {
    return this.socket.bytesRead;
  }
  get bytesWritten(): number {
    return this.socket.bytesWritten;
  }
  get timeout(): number | undefined {
    return this.socket.timeout;
  }
  setNoDelay(noDelay?: boolean): this {
    this.socket.setNoDelay(noDelay);
    return this;
  }
  setKeepAlive(enable?: boolean, initialDelay?: number): this {
    this.socket.setKeepAlive(enable, initialDelay);
    return this;
  }
  setTimeout(ms: number, callback?: () => void): this {
    this.socket.setTimeout(ms, callback);
    return this;
  }
  ref(): this {
    this.socket.ref();
    return this;
  }
  unref(): this {
    this.socket.unref();
    return this;
  }
}
