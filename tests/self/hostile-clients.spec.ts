/**
 * Hostile clients against the reference server: it keeps serving. Each case opens a connection that misbehaves
 * (never sends, never starts TLS, trickles its head or its body, sends 100 MB with or without a Content-Length)
 * while a well-behaved device runs a session, and asserts what the server answered, what it recorded, that it did
 * so within its timeouts, that memory stayed bounded (a body is never buffered past the 16 MiB request limit), and
 * that the device's sessions during and after the abuse completed. The same cases run over HTTP/2 where they apply.
 */
import { expect, test } from '@playwright/test';
import { connect as http2Connect, type ClientHttp2Stream } from 'node:http2';
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { ReferenceDevice } from '../../harness/device/reference-device';
import { createTestPki, type TestPki } from '../../harness/pki';
import { ReferenceServer } from '../../harness/server/reference-server';

const HEADERS_MS = 500;
const BODY_MS = 800;
const LIMIT = 16 * 1024 * 1024;
const HUNDRED_MB = 100 * 1024 * 1024;

let pki: TestPki;
let server: ReferenceServer;
let url: URL;

test.beforeAll(async () => {
  pki = createTestPki({ keyType: 'ec' });
  server = new ReferenceServer({ identity: pki.server, ca: pki.ca.certPem, headersMs: HEADERS_MS, bodyMs: BODY_MS, maxRequestBytes: LIMIT });
  url = new URL(await server.start());
});
test.afterAll(async () => server.stop());

interface Connection {
  socket: Socket;
  /** What the server sent, up to 4 KiB, once the connection closed. */
  closed: Promise<{ text: string; ms: number }>;
}

function open(kind: 'tls' | 'tcp'): Connection {
  const started = Date.now();
  const port = Number(url.port);
  const socket: Socket = kind === 'tls'
    ? tlsConnect({ host: '127.0.0.1', port, ca: pki.ca.certPem, cert: pki.device.certPem, key: pki.device.keyPem })
    : tcpConnect({ host: '127.0.0.1', port });
  let text = '';
  socket.on('data', (chunk: Buffer) => {
    if (text.length < 4096) text += chunk.toString('latin1');
  });
  socket.on('error', () => undefined);
  const closed = new Promise<{ text: string; ms: number }>((resolve) => socket.on('close', () => resolve({ text, ms: Date.now() - started })));
  return { socket, closed };
}

const handshake = (c: Connection) => new Promise<void>((r) => c.socket.once('secureConnect', () => r()));

function head(extra: string): string {
  return `POST ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/vnd.syncml.dm+xml\r\n${extra}\r\n`;
}

/** Writes `total` bytes (as chunks when `chunked`), respecting back-pressure, until written or the connection ends. */
async function pump(socket: Socket, total: number, chunked: boolean): Promise<number> {
  const block = Buffer.alloc(256 * 1024, 0x61);
  const framed = chunked ? Buffer.concat([Buffer.from(`${block.length.toString(16)}\r\n`), block, Buffer.from('\r\n')]) : block;
  let sent = 0;
  while (sent < total && !socket.destroyed) {
    if (!socket.write(framed)) {
      const go = await new Promise<boolean>((r) => {
        const drained = () => {
          socket.off('close', closed);
          r(true);
        };
        const closed = () => {
          socket.off('drain', drained);
          r(false);
        };
        socket.once('drain', drained);
        socket.once('close', closed);
      });
      if (!go) break;
    }
    sent += block.length;
  }
  return sent;
}

function trickle(socket: Socket, text: string, everyMs: number): void {
  let i = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || i >= text.length) return clearInterval(timer);
    socket.write(text[i++]);
  }, everyMs);
  socket.once('close', () => clearInterval(timer));
}

interface Case {
  name: string;
  kind: 'tls' | 'tcp';
  act: (c: Connection) => void | Promise<void>;
  /** What the client read back before the server closed the connection. */
  answer: RegExp;
  /** The exchange the server recorded for the connection. */
  record: { kind: string; message: RegExp };
  withinMs: number;
}

const cases: Case[] = [
  {
    name: 'opens a TLS connection and never sends',
    kind: 'tls',
    act: () => undefined,
    answer: /^HTTP\/1\.1 408 /,
    record: { kind: 'timeout', message: /^no complete request head within 500 ms$/ },
    withinMs: HEADERS_MS + 1_000,
  },
  {
    name: 'connects and never starts the TLS handshake',
    kind: 'tcp',
    act: () => undefined,
    answer: /^$/,
    record: { kind: 'timeout', message: /^TLS handshake not completed within 500 ms$/ },
    withinMs: HEADERS_MS + 1_000,
  },
  {
    name: 'trickles its request head a byte at a time',
    kind: 'tls',
    act: (c) => trickle(c.socket, head('X-Slow: ' + 'x'.repeat(200) + '\r\n'), 50),
    answer: /^HTTP\/1\.1 408 /,
    record: { kind: 'timeout', message: /^no complete request head within 500 ms$/ },
    withinMs: HEADERS_MS + 1_000,
  },
  {
    name: 'sends its body slower than the body timeout',
    kind: 'tls',
    act: (c) => {
      c.socket.write(head('Content-Length: 1000\r\n'));
      trickle(c.socket, '<'.repeat(1000), 50);
    },
    answer: /^HTTP\/1\.1 408 [^]*request body incomplete after 800 ms/,
    record: { kind: 'timeout', message: /^request body incomplete after 800 ms: \d+ of 1000 bytes received; answered 408$/ },
    withinMs: BODY_MS + 1_000,
  },
  {
    name: 'sends 100 MB with its Content-Length',
    kind: 'tls',
    act: async (c) => {
      c.socket.write(head(`Content-Length: ${HUNDRED_MB}\r\n`));
      await pump(c.socket, HUNDRED_MB, false);
    },
    answer: /^HTTP\/1\.1 413 [^]*above the limit of 16777216 bytes/,
    record: { kind: 'too-large', message: /^request declares Content-Length 104857600, above the limit of 16777216 bytes; answered 413 without reading it$/ },
    withinMs: 2_000,
  },
  {
    name: 'sends 100 MB in chunks, with no Content-Length',
    kind: 'tls',
    act: async (c) => {
      c.socket.write(head('Transfer-Encoding: chunked\r\n'));
      await pump(c.socket, HUNDRED_MB, true);
    },
    // The server cuts a body of unknown length off at once: its 413 may be lost to the reset.
    answer: /^$|^HTTP\/1\.1 413 [^]*exceeds the limit of 16777216 bytes/,
    record: { kind: 'too-large', message: /^request body exceeds the limit of 16777216 bytes; answered 413 after \d+ bytes$/ },
    withinMs: 3_000,
  },
];

for (const c of cases) {
  test(`a client that ${c.name} is answered within the server's timeouts, with bounded memory, and other devices keep being served`, async () => {
    const before = server.transcript.exchanges.length;
    const rssBefore = process.memoryUsage().rss;
    const device = new ReferenceDevice({ deviceId: pki.deviceId, identity: pki.device, serverCa: pki.ca.certPem, timeoutMs: 3_000 });
    try {
      const conn = open(c.kind);
      if (c.kind === 'tls') await handshake(conn);
      const acting = Promise.resolve(c.act(conn));
      // A device session runs while the hostile connection is open.
      const during = await device.runSession(url.href);
      expect(during.end, 'a session during the abuse').toEqual({ reason: 'completed' });
      const { text, ms } = await conn.closed;
      await acting;
      expect(text, 'what the client read back').toMatch(c.answer);
      expect(ms, 'the server ended the connection within its timeout').toBeLessThan(c.withinMs);
      const records = server.transcript.exchanges.slice(before).filter((x) => x.error);
      expect(records.map((x) => x.error), 'what the server recorded').toEqual([expect.objectContaining({ kind: c.record.kind, message: expect.stringMatching(c.record.message) })]);
      // Both ends live in this process: the 100 MB never sit in memory, the server keeps at most its 16 MiB limit.
      expect(process.memoryUsage().rss - rssBefore).toBeLessThan(64 * 1024 * 1024);
      const after = await device.runSession(url.href);
      expect(after.end, 'a session after the abuse').toEqual({ reason: 'completed' });
    } finally {
      await device.close();
    }
  });
}

/**
 * The same abuse over HTTP/2 where it applies (a connection that never starts TLS is the same at any HTTP version):
 * the client negotiates h2 by ALPN and misbehaves in frames; devices speaking h2 keep being served.
 */
interface Http2Outcome {
  /** What the client saw: frame types for a raw connection, `status body` for a request. */
  answer: string;
  ms: number;
}

const FRAME_NAMES: Record<number, string> = { 0x0: 'DATA', 0x1: 'HEADERS', 0x3: 'RST_STREAM', 0x4: 'SETTINGS', 0x6: 'PING', 0x7: 'GOAWAY', 0x8: 'WINDOW_UPDATE' };

/** A TLS connection that picked h2 and writes what `act` gives it; resolves with the frame types it got back. */
async function rawHttp2(act: (socket: Socket) => void): Promise<Http2Outcome> {
  const started = Date.now();
  const socket = tlsConnect({
    host: '127.0.0.1', port: Number(url.port), ca: pki.ca.certPem, servername: 'localhost', ALPNProtocols: ['h2'],
    cert: pki.device.certPem, key: pki.device.keyPem,
  });
  socket.on('error', () => undefined);
  let received = Buffer.alloc(0);
  socket.on('data', (d: Buffer) => { received = Buffer.concat([received, d]); });
  await new Promise((r) => socket.once('secureConnect', r));
  expect(socket.alpnProtocol).toBe('h2');
  act(socket);
  await new Promise((r) => socket.once('close', r));
  const types: string[] = [];
  for (let at = 0; at + 9 <= received.length; at += 9 + received.readUIntBE(at, 3)) types.push(FRAME_NAMES[received[at + 3]!] ?? '?');
  return { answer: types.join(' '), ms: Date.now() - started };
}

/** One request over a real HTTP/2 client; `write` sends the body. Resolves when the stream closes. */
async function http2Request(headers: Record<string, string>, write: (stream: ClientHttp2Stream) => void | Promise<void>): Promise<Http2Outcome> {
  const started = Date.now();
  const session = http2Connect(url.origin, { ca: pki.ca.certPem, servername: 'localhost', cert: pki.device.certPem, key: pki.device.keyPem });
  session.on('error', () => undefined);
  try {
    const stream = session.request({ ':method': 'POST', ':path': url.pathname, 'content-type': 'application/vnd.syncml.dm+xml', ...headers });
    stream.on('error', () => undefined);
    let status = '';
    let body = '';
    stream.on('response', (h) => { status = String(h[':status']); });
    stream.on('data', (d: Buffer) => { body += d.toString(); });
    const closed = new Promise((r) => stream.once('close', r));
    await write(stream);
    await closed;
    return { answer: `${status} ${body} (RST_STREAM ${stream.rstCode})`, ms: Date.now() - started };
  } finally {
    session.destroy();
  }
}

/** Writes `total` bytes on an HTTP/2 stream, respecting flow control, until written or the stream closes. */
async function pumpStream(stream: ClientHttp2Stream, total: number): Promise<void> {
  const block = Buffer.alloc(256 * 1024, 0x61);
  let sent = 0;
  while (sent < total && !stream.closed && !stream.destroyed) {
    sent += block.length;
    if (!stream.write(block)) {
      await new Promise<void>((r) => {
        const go = () => {
          stream.off('drain', go);
          stream.off('close', go);
          r();
        };
        stream.once('drain', go);
        stream.once('close', go);
      });
    }
  }
  if (!stream.closed) stream.end();
}

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
const EMPTY_SETTINGS = Buffer.from([0, 0, 0, 0x4, 0, 0, 0, 0, 0]);

interface Http2Case {
  name: string;
  act: () => Promise<Http2Outcome>;
  answer: RegExp;
  record: { kind: string; message: RegExp };
  withinMs: number;
}

const http2Cases: Http2Case[] = [
  {
    name: 'negotiates h2 and never sends a frame',
    act: () => rawHttp2(() => undefined),
    answer: /^SETTINGS GOAWAY$/,
    record: { kind: 'timeout', message: /^no complete request head within 500 ms$/ },
    withinMs: HEADERS_MS + 1_000,
  },
  {
    name: 'sends the preface and trickles a HEADERS frame a byte at a time',
    act: () => rawHttp2((socket) => {
      socket.write(Buffer.concat([PREFACE, EMPTY_SETTINGS]));
      // A HEADERS frame announcing 200 bytes of header block, which comes one byte every 50 ms.
      const frame = Buffer.concat([Buffer.from([0, 0, 200, 0x1, 0x4, 0, 0, 0, 1]), Buffer.alloc(200, 0x40)]);
      trickle(socket, frame.toString('latin1'), 50);
    }),
    answer: /^SETTINGS SETTINGS GOAWAY$/,
    record: { kind: 'timeout', message: /^no complete request head within 500 ms$/ },
    withinMs: HEADERS_MS + 1_000,
  },
  {
    name: 'sends its body slower than the body timeout',
    act: () => http2Request({ 'content-length': '1000' }, (stream) => {
      const timer = setInterval(() => (stream.closed ? clearInterval(timer) : stream.write('<')), 50);
    }),
    answer: /^408 request body incomplete after 800 ms: \d+ of 1000 bytes received; answered 408\n \(RST_STREAM 0\)$/,
    record: { kind: 'timeout', message: /^request body incomplete after 800 ms: \d+ of 1000 bytes received; answered 408$/ },
    withinMs: BODY_MS + 1_000,
  },
  {
    name: 'sends 100 MB with its content-length',
    act: () => http2Request({ 'content-length': String(HUNDRED_MB) }, (stream) => pumpStream(stream, HUNDRED_MB)),
    answer: /^413 request declares Content-Length 104857600, above the limit of 16777216 bytes; answered 413 without reading it\n \(RST_STREAM 0\)$/,
    record: { kind: 'too-large', message: /^request declares Content-Length 104857600, above the limit of 16777216 bytes; answered 413 without reading it$/ },
    withinMs: 2_000,
  },
  {
    name: 'sends 100 MB with no content-length',
    act: () => http2Request({}, (stream) => pumpStream(stream, HUNDRED_MB)),
    answer: /^413 request body exceeds the limit of 16777216 bytes; answered 413 after \d+ bytes\n \(RST_STREAM 0\)$/,
    record: { kind: 'too-large', message: /^request body exceeds the limit of 16777216 bytes; answered 413 after \d+ bytes$/ },
    withinMs: 3_000,
  },
];

for (const c of http2Cases) {
  test(`over h2, a client that ${c.name} is answered within the server's timeouts, with bounded memory, and h2 devices keep being served`, async () => {
    const before = server.transcript.exchanges.length;
    const rssBefore = process.memoryUsage().rss;
    const device = new ReferenceDevice({ deviceId: pki.deviceId, identity: pki.device, serverCa: pki.ca.certPem, timeoutMs: 3_000, http2: true });
    try {
      const acting = c.act();
      const during = await device.runSession(url.href);
      expect(during.end, 'a session during the abuse').toEqual({ reason: 'completed' });
      expect(during.exchanges.map((x) => x.httpVersion)).toEqual(during.exchanges.map(() => '2'));
      const { answer, ms } = await acting;
      expect(answer, 'what the client read back').toMatch(c.answer);
      expect(ms, 'the server ended the connection or stream within its timeout').toBeLessThan(c.withinMs);
      const records = server.transcript.exchanges.slice(before).filter((x) => x.error);
      expect(records.map((x) => x.error), 'what the server recorded').toEqual([expect.objectContaining({ kind: c.record.kind, message: expect.stringMatching(c.record.message) })]);
      expect(records[0]!.httpVersion).toBe('2');
      expect(process.memoryUsage().rss - rssBefore).toBeLessThan(64 * 1024 * 1024);
      const after = await device.runSession(url.href);
      expect(after.end, 'a session after the abuse').toEqual({ reason: 'completed' });
    } finally {
      await device.close();
    }
  });
}
