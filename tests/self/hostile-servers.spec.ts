/**
 * Hostile servers under test: the harness keeps judging. Each case runs the minimal-session scenario against a
 * deliberately nasty peer and asserts the verdict, its message, that it finished within its timeout, and that
 * memory stayed bounded (a response body is never buffered past the client's 16 MiB limit).
 */
import { expect, test } from '@playwright/test';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { createTestPki, type TestPki } from '../../harness/pki';
import { runScenario } from '../../harness/scenarios/scenario';
import { minimalSession } from '../../harness/scenarios/server/sessions';
import type { ServerUnderTest } from '../../harness/scenarios/server';

const TIMEOUT_MS = 1_000;
let pki: TestPki;
test.beforeAll(() => {
  pki = createTestPki({ keyType: 'ec' });
});

type Behaviour = (socket: Socket | TLSSocket, request: string) => void;

/** A TLS (or plain TCP) server on loopback that reads one request head and then misbehaves. */
async function hostile(behaviour: Behaviour, plain = false): Promise<{ url: string; close: () => Promise<void> }> {
  const onSocket = (socket: Socket | TLSSocket) => {
    socket.on('error', () => undefined);
    let head = '';
    socket.on('data', function read(chunk: Buffer) {
      head += chunk.toString('latin1');
      if (head.includes('\r\n\r\n') || plain) {
        socket.off('data', read);
        behaviour(socket, head);
      }
    });
  };
  const server: TcpServer = plain
    ? createTcpServer(onSocket)
    : createTlsServer({ key: pki.server.keyPem, cert: pki.server.certPem, ca: pki.ca.certPem, requestCert: true, rejectUnauthorized: false }, onSocket);
  const sockets = new Set<Socket>();
  server.on(plain ? 'connection' : 'secureConnection', (s: Socket) => sockets.add(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    url: `https://127.0.0.1:${port}/ManagementServer/MDM.svc`,
    close: () => new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    }),
  };
}

const target = (url: string): ServerUnderTest => ({ url, serverCa: pki.ca.certPem, deviceId: pki.deviceId, identity: pki.device, timeoutMs: TIMEOUT_MS });

function httpHead(length: number): string {
  return `HTTP/1.1 200 OK\r\nContent-Type: application/vnd.syncml.dm+xml\r\nContent-Length: ${length}\r\n\r\n`;
}

const cases: { name: string; behaviour: Behaviour; plain?: boolean; id: string; message: RegExp }[] = [
  { name: 'never answers', behaviour: () => undefined, id: 'MDM-TERM-003', message: /no reply to this message: timeout: no response within 1000 ms/ },
  {
    name: 'answers a 100 MB body',
    behaviour: (s) => {
      s.write(httpHead(100 * 1024 * 1024));
      const chunk = Buffer.alloc(256 * 1024, 0x61);
      const pump = () => {
        while (!s.destroyed && s.write(chunk));
        if (!s.destroyed) s.once('drain', pump);
      };
      pump();
    },
    id: 'MDM-TERM-003',
    message: /too-large/,
  },
  {
    name: 'trickles its answer a byte at a time',
    behaviour: (s) => {
      s.write(httpHead(1000));
      const timer = setInterval(() => (s.destroyed ? clearInterval(timer) : s.write('<')), 100);
    },
    id: 'MDM-TERM-003',
    message: /timeout/,
  },
  { name: 'resets the connection', behaviour: (s) => s.destroy(), id: 'MDM-TERM-003', message: /reset|closed/ },
  {
    name: 'answers with elements nested ten thousand deep',
    behaviour: (s) => {
      const body = `<SyncML xmlns="SYNCML:SYNCML1.2">${'<a>'.repeat(10_000)}${'</a>'.repeat(10_000)}</SyncML>`;
      s.end(httpHead(Buffer.byteLength(body)) + body);
    },
    id: 'MDM-TERM-003',
    message: /not SyncML \(elements nested deeper than 48 levels are refused\)/,
  },
  {
    name: 'answers with an entity-expansion payload',
    behaviour: (s) => {
      const body = '<!DOCTYPE SyncML [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><SyncML xmlns="SYNCML:SYNCML1.2">&b;</SyncML>';
      s.end(httpHead(Buffer.byteLength(body)) + body);
    },
    id: 'MDM-TERM-003',
    message: /DOCTYPE declarations are refused/,
  },
];

// No TLS at all is a setup problem, not a verdict: the scenario stops with the reason, and the run exits 2.
test('a server that speaks no TLS at all stops the scenario as a setup problem, with a clear message, within its timeout', async () => {
  const server = await hostile((s) => s.end('HTTP/1.1 200 OK\r\n\r\nhello'), true);
  const started = Date.now();
  try {
    await expect(runScenario(minimalSession, target(server.url), new Set())).rejects.toThrow(/cannot reach the server: .*TLS/i);
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS * 3);
  } finally {
    await server.close();
  }
});

for (const c of cases) {
  test(`a server that ${c.name} fails ${c.id} with a clear message, within its timeout`, async () => {
    const server = await hostile(c.behaviour, c.plain);
    const rssBefore = process.memoryUsage().rss;
    const started = Date.now();
    try {
      const { findings } = await runScenario(minimalSession, target(server.url), new Set());
      const failures = findings.filter((f) => f.id === c.id && f.verdict === 'fail').map((f) => f.evidence);
      expect(failures.some((e) => c.message.test(e)), JSON.stringify(failures)).toBe(true);
      // One exchange, bounded by the request timeout (plus connection set-up and the judging).
      expect(Date.now() - started).toBeLessThan(TIMEOUT_MS * 3);
      // The client aborts a body past 16 MiB: memory grows by far less than the 100 MB offered.
      expect(process.memoryUsage().rss - rssBefore).toBeLessThan(64 * 1024 * 1024);
    } finally {
      await server.close();
    }
  });
}
