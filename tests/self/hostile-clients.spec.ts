/**
 * Hostile clients against the reference server: it keeps serving. Each case opens a connection that misbehaves
 * (never sends, never starts TLS, trickles its head or its body, sends 100 MB with or without a Content-Length)
 * while a well-behaved device runs a session, and asserts what the server answered, what it recorded, that it did
 * so within its timeouts, that memory stayed bounded (a body is never buffered past the 16 MiB request limit), and
 * that the device's sessions during and after the abuse completed.
 */
import { expect, test } from '@playwright/test';
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
