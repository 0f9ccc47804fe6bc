/**
 * Where an HTTP/1.1 response ends on the wire, computed independently of the HTTP client.
 *
 * undici stops reading a response at its declared length and treats whatever follows as the start of the next
 * response (or ignores it when the connection is closing), so the response it delivers looks complete even when the
 * server sent more body than it declared. Feeding the raw bytes of the connection through this scanner tells how
 * many bytes followed the end of the response, which is what MDM conformance evidence needs.
 */

const MAX_HEAD_BYTES = 64 * 1024;
/** How many of the bytes after the end of a response are kept (all are counted). */
const MAX_TRAILING_KEPT = 64 * 1024;
const MAX_LINE_BYTES = 8 * 1024;

type State = 'head' | 'length' | 'chunk-size' | 'chunk-data' | 'chunk-end' | 'trailers' | 'until-close' | 'done' | 'lost';

export class ResponseFramer {
  private state: State = 'head';
  private head = Buffer.alloc(0);
  private line = '';
  private remaining = 0;
  /** Bytes that arrived after the response ended. */
  trailing = 0;
  /** The first of those bytes, up to 64 KiB: what a proxy must pass on for the defect to reach its client. */
  readonly trailingBytes: Buffer[] = [];

  get complete(): boolean {
    return this.state === 'done';
  }

  feed(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      switch (this.state) {
        case 'head': at = this.readHead(chunk, at); break;
        case 'length': at = this.skipBody(chunk, at); break;
        case 'chunk-size': at = this.readLine(chunk, at, (l) => this.onChunkSize(l)); break;
        case 'chunk-data': at = this.skipBody(chunk, at); break;
        case 'chunk-end': at = this.readLine(chunk, at, () => { this.state = 'chunk-size'; }); break;
        case 'trailers': at = this.readLine(chunk, at, (l) => { if (l === '') this.state = 'done'; }); break;
        case 'done': this.keepTrailing(chunk.subarray(at)); return;
        case 'until-close':
        case 'lost': return;
      }
    }
  }

  private keepTrailing(bytes: Buffer): void {
    const room = MAX_TRAILING_KEPT - this.trailing;
    if (room > 0) this.trailingBytes.push(Buffer.from(bytes.subarray(0, room)));
    this.trailing += bytes.length;
  }

  private readHead(chunk: Buffer, at: number): number {
    const searchFrom = Math.max(0, this.head.length - 3);
    this.head = Buffer.concat([this.head, chunk.subarray(at)]);
    const end = this.head.indexOf('\r\n\r\n', searchFrom, 'latin1');
    if (end < 0) {
      if (this.head.length > MAX_HEAD_BYTES) this.state = 'lost';
      return chunk.length;
    }
    const headLength = end + 4;
    const consumed = chunk.length - (this.head.length - headLength);
    this.onHead(this.head.subarray(0, end).toString('latin1'));
    this.head = Buffer.alloc(0);
    return consumed;
  }

  private onHead(text: string): void {
    const [statusLine = '', ...fields] = text.split('\r\n');
    const status = Number(/^HTTP\/\d\.\d (\d{3})/.exec(statusLine)?.[1] ?? NaN);
    if (Number.isNaN(status)) { this.state = 'lost'; return; }
    if (status >= 100 && status < 200 && status !== 101) { this.state = 'head'; return; }
    if (status === 204 || status === 304) { this.state = 'done'; return; }
    let contentLength: string | undefined;
    let chunked = false;
    for (const field of fields) {
      const colon = field.indexOf(':');
      const name = field.slice(0, colon).trim().toLowerCase();
      const value = field.slice(colon + 1).trim();
      if (name === 'transfer-encoding') chunked = /(^|,)\s*chunked\s*$/i.test(value);
      else if (name === 'content-length') contentLength = value.split(',')[0]?.trim();
    }
    if (chunked) this.state = 'chunk-size';
    else if (contentLength !== undefined && /^\d+$/.test(contentLength)) {
      this.remaining = Number(contentLength);
      this.state = this.remaining === 0 ? 'done' : 'length';
    } else this.state = 'until-close';
  }

  private skipBody(chunk: Buffer, at: number): number {
    const take = Math.min(this.remaining, chunk.length - at);
    this.remaining -= take;
    if (this.remaining === 0) this.state = this.state === 'length' ? 'done' : 'chunk-end';
    return at + take;
  }

  private readLine(chunk: Buffer, at: number, onLine: (line: string) => void): number {
    const nl = chunk.indexOf(0x0a, at);
    const end = nl < 0 ? chunk.length : nl;
    this.line += chunk.subarray(at, end).toString('latin1');
    if (this.line.length > MAX_LINE_BYTES) { this.state = 'lost'; return chunk.length; }
    if (nl < 0) return chunk.length;
    const line = this.line.replace(/\r$/, '');
    this.line = '';
    onLine(line);
    return nl + 1;
  }

  private onChunkSize(line: string): void {
    const size = parseInt(line.split(';')[0]!.trim(), 16);
    if (Number.isNaN(size)) this.state = 'lost';
    else if (size === 0) this.state = 'trailers';
    else {
      this.remaining = size;
      this.state = 'chunk-data';
    }
  }
}
