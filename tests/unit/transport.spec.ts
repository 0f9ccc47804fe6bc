import { expect, test } from '@playwright/test';
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import {
  connect as http2Connect, constants as h2constants, createSecureServer,
  type ClientHttp2Session, type ClientHttp2Stream, type Http2Session, type ServerHttp2Stream,
} from 'node:http2';
import { connect as netConnect, createServer as createTcpServer, type Socket } from 'node:net';
import * as tls from 'node:tls';
import { createTestPki, mintDeviceIdentity, mintServerIdentity, type Identity, type TestPki } from '../../harness/pki';
import { alert, message, serializeSyncML } from '../../harness/syncml';
import {
  HttpsClient, HttpsServer, Transcript, WINDOWS_DEVICE_HEADERS,
  type HandlerResponse, type HttpsClientOptions, type HttpsServerOptions, type RequestHandler,
} from '../../harness/transport';

const MANAGEMENT_PATH = '/ManagementServer/MDM.svc';
const SYNCML_XML = 'application/vnd.syncml.dm+xml';

let pki: TestPki;
const cleanups: Array<() => Promise<unknown>> = [];

test.beforeAll(() => {
  pki = createTestPki({ keyType: 'ec' });
});

test.afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((close) => close()));
});

function package1(sessionID = '1'): string {
  return serializeSyncML(message({
    sessionID, msgID: 1, target: `https://127.0.0.1${MANAGEMENT_PATH}`, source: pki.deviceId,
    commands: [alert('1201', [], 2)], final: true,
  }));
}

function reply(): string {
  return serializeSyncML(message({
    sessionID: '1', msgID: 1, target: pki.deviceId, source: `https://127.0.0.1${MANAGEMENT_PATH}`, commands: [], final: true,
  }));
}

const syncmlReply: RequestHandler = () => ({ status: 200, headers: { 'Content-Type': SYNCML_XML }, body: reply() });

async function startServer(opts: Partial<HttpsServerOptions> = {}): Promise<{ server: HttpsServer; url: string }> {
  const server = new HttpsServer({ identity: pki.server, ca: pki.ca.certPem, handler: syncmlReply, ...opts });
  cleanups.push(() => server.close());
  const { url } = await server.listen();
  return { server, url };
}

function newClient(opts: HttpsClientOptions = {}): HttpsClient {
  const client = new HttpsClient({ ca: pki.ca.certPem, identity: pki.device, ...opts });
  cleanups.push(() => client.close());
  return client;
}

/** A TLS peer that writes crafted bytes once the request has fully arrived: undici's behaviour under test. */
async function rawServer(respond: (socket: tls.TLSSocket) => void, identity: Identity = pki.server) {
  const sockets = new Set<tls.TLSSocket>();
  let bytesReceived = 0;
  const server = tls.createServer({ cert: identity.certPem, key: identity.keyPem }, (socket) => {
    sockets.add(socket);
    // As HTTP servers do: with Nagle, a second small write waits for the client's delayed ACK (the late-bytes case).
    socket.setNoDelay(true);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    let buffered = Buffer.alloc(0);
    let answered = false;
    socket.on('data', (chunk: Buffer) => {
      bytesReceived += chunk.length;
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (answered || end < 0) return;
      const length = Number(/content-length:\s*(\d+)/i.exec(buffered.subarray(0, end).toString('latin1'))?.[1] ?? 0);
      if (buffered.length >= end + 4 + length) {
        answered = true;
        respond(socket);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const close = () => new Promise<void>((resolve) => {
    for (const s of sockets) s.destroy();
    server.close(() => resolve());
  });
  cleanups.push(close);
  return { url: `https://127.0.0.1:${port}${MANAGEMENT_PATH}`, bytesReceived: () => bytesReceived };
}

/** A TLS client that writes crafted bytes to the HttpsServer and collects what comes back. */
async function rawClient(url: string, bytes: string, opts: { end?: boolean } = {}): Promise<string> {
  const { port } = new URL(url);
  const socket = tls.connect({
    host: '127.0.0.1', port: Number(port), ca: pki.ca.certPem, cert: pki.device.certPem, key: pki.device.keyPem,
  });
  cleanups.push(async () => socket.destroy());
  await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
  let answer = '';
  socket.on('data', (d: Buffer) => { answer += d.toString('latin1'); });
  socket.on('error', () => undefined);
  socket.write(bytes);
  if (opts.end) socket.end();
  await new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return answer;
}

async function freePort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

test.describe('HttpsClient and HttpsServer over mutual TLS', () => {
  test('a round trip is recorded on both sides: method, URL, headers, status, raw body, parsed SyncML, timestamps, TLS facts (MDM-TRN-001, MDM-TRN-004, MDM-TRN-005, MDM-TRN-008, MDM-TRN-011)', async () => {
    const { server, url } = await startServer();
    const transcript = new Transcript();
    const client = newClient({ transcript });
    const body = package1();
    const target = `${url}${MANAGEMENT_PATH}?mode=Maintenance&Platform=WoA`;

    const before = Date.now();
    const exchange = await client.post(target, body);

    expect(exchange.error).toBeUndefined();
    expect(transcript.exchanges).toEqual([exchange]);
    expect(client.transcript).toBe(transcript);
    expect(exchange.index).toBe(0);
    expect(exchange.startedAt).toBeGreaterThanOrEqual(before);
    expect(exchange.endedAt).toBeGreaterThanOrEqual(exchange.startedAt);
    expect(exchange.request).toMatchObject({ method: 'POST', url: target });
    expect(exchange.request.headers).toMatchObject({
      ...WINDOWS_DEVICE_HEADERS,
      host: new URL(url).host,
      'content-length': String(Buffer.byteLength(body)),
    });
    expect(exchange.request.body.toString('utf8')).toBe(body);
    expect(exchange.request.parsed?.message.hdr.source?.locURI).toBe(pki.deviceId);
    expect(exchange.response?.status).toBe(200);
    expect(exchange.response?.headers['content-type']).toBe(SYNCML_XML);
    expect(exchange.response?.body.toString('utf8')).toBe(reply());
    expect(exchange.response?.declaredLength).toBe(Buffer.byteLength(reply()));
    expect(exchange.response?.parsed?.message.hdr.target?.locURI).toBe(pki.deviceId);
    expect(exchange.response?.parseError).toBeUndefined();
    expect(exchange.tls).toMatchObject({ authorized: true, protocol: expect.stringMatching(/^TLSv1\.[23]$/) });
    expect(exchange.tls?.peerCertificate).toMatchObject({ subjectCN: 'localhost', pem: pki.server.certPem });
    expect(exchange.wire?.bytesSent).toBeGreaterThan(Buffer.byteLength(body));

    const [seen] = server.transcript.exchanges;
    expect(server.transcript.length).toBe(1);
    expect(seen!.error).toBeUndefined();
    expect(seen!.request).toMatchObject({ method: 'POST', url: `${MANAGEMENT_PATH}?mode=Maintenance&Platform=WoA` });
    expect(seen!.request.headers).toMatchObject(WINDOWS_DEVICE_HEADERS);
    expect(seen!.request.body.toString('utf8')).toBe(body);
    expect(seen!.request.parsed?.message.body.commands[0]).toMatchObject({ kind: 'Alert' });
    expect(seen!.response?.status).toBe(200);
    expect(seen!.response?.headers['content-type']).toBe(SYNCML_XML);
    expect(seen!.response?.body.toString('utf8')).toBe(reply());
    expect(seen!.endedAt).toBeGreaterThanOrEqual(seen!.startedAt);
    expect(seen!.tls).toMatchObject({ authorized: true });
    expect(seen!.tls?.authorizationError).toBeUndefined();
    expect(seen!.tls?.peerCertificate).toMatchObject({ subjectCN: pki.deviceId, pem: pki.device.certPem });
    expect(Date.parse(seen!.tls!.peerCertificate!.validTo)).toBeGreaterThan(Date.now());
  });

  for (const [kind, reason] of [['untrusted-ca', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'], ['expired', 'CERT_HAS_EXPIRED']] as const) {
    test(`a device certificate that is ${kind} reaches the handler recorded as not authorized, with the reason (MDM-TRN-004)`, async () => {
      const seenByHandler: boolean[] = [];
      const { server, url } = await startServer({
        handler: (req) => {
          seenByHandler.push(req.tls.authorized);
          return { status: 200, headers: { 'Content-Type': SYNCML_XML }, body: reply() };
        },
      });
      const client = newClient({ identity: mintDeviceIdentity(pki, kind) });

      const exchange = await client.post(`${url}${MANAGEMENT_PATH}`, package1());

      expect(exchange.error).toBeUndefined();
      expect(seenByHandler).toEqual([false]);
      const tlsFacts = server.transcript.exchanges[0]!.tls;
      expect(tlsFacts).toMatchObject({ authorized: false, authorizationError: reason });
      expect(tlsFacts?.peerCertificate?.subjectCN).toBe(pki.deviceId);
    });
  }

  test('a client that presents no certificate is recorded as such (MDM-TRN-004)', async () => {
    const { server, url } = await startServer();
    const client = new HttpsClient({ ca: pki.ca.certPem });
    cleanups.push(() => client.close());

    await client.post(`${url}${MANAGEMENT_PATH}`, package1());

    const tlsFacts = server.transcript.exchanges[0]!.tls;
    expect(tlsFacts).toMatchObject({ authorized: false, authorizationError: 'NO_PEER_CERTIFICATE' });
    expect(tlsFacts?.peerCertificate).toBeUndefined();
  });

  for (const [kind, text] of [
    ['untrusted-ca', /^server certificate not trusted: CN=localhost issued by CN=.*untrusted.* does not chain to the configured CA/],
    ['wrong-host', /^server certificate is not for 127\.0\.0\.1: it names DNS:mdm\.invalid\.example/],
    ['expired', /^server certificate expired on \d{4}-\d\d-\d\dT/],
  ] as const) {
    test(`the client refuses a server certificate that is ${kind} and sends nothing (MDM-TRN-003)`, async () => {
      const handled: string[] = [];
      const identity = mintServerIdentity(pki, kind);
      const { server, url } = await startServer({
        identity,
        handler: (req) => { handled.push(req.url); return { status: 200 }; },
      });
      const client = newClient();

      const exchange = await client.post(`${url}${MANAGEMENT_PATH}`, package1());

      expect(exchange.error?.kind).toBe('tls');
      expect(exchange.error?.message).toMatch(text);
      expect(exchange.response).toBeUndefined();
      expect(exchange.wire).toEqual({ bytesSent: 0, bytesReceived: 0 });
      expect(exchange.tls?.authorized).toBe(false);
      expect(exchange.tls?.peerCertificate?.pem).toBe(identity.certPem);
      expect(handled).toEqual([]);
      expect(server.transcript.exchanges.filter((e) => e.request.method !== undefined)).toEqual([]);
    });
  }

  test('a server that demands a client certificate and gets none ends the exchange with a TLS error (MDM-TRN-004)', async () => {
    const server = tls.createServer({
      cert: pki.server.certPem, key: pki.server.keyPem, ca: pki.ca.certPem, requestCert: true, rejectUnauthorized: true,
    });
    server.on('tlsClientError', () => undefined);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    const { port } = server.address() as { port: number };
    const client = new HttpsClient({ ca: pki.ca.certPem, responseMs: 1_000 });
    cleanups.push(() => client.close());

    const exchange = await client.post(`https://127.0.0.1:${port}${MANAGEMENT_PATH}`, package1());

    expect(exchange.error).toEqual({
      kind: 'tls',
      message: expect.stringMatching(/^the server requires a client certificate: tlsv13 alert certificate required \(ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED\)$/),
    });
  });

  test('a server that never answers gives a timeout within the configured time (MDM-TERM-003)', async () => {
    const { url } = await rawServer(() => undefined);
    const client = newClient({ responseMs: 300 });

    const started = Date.now();
    const exchange = await client.post(url, package1());
    const elapsed = Date.now() - started;

    expect(exchange.error).toEqual({ kind: 'timeout', message: 'no response within 300 ms' });
    expect(exchange.response).toBeUndefined();
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(2_000);

    const faster = await client.post(url, package1(), { timeoutMs: 150 });
    expect(faster.error).toEqual({ kind: 'timeout', message: 'no response within 150 ms' });
  });

  test('a body that stalls before Content-Length is reached times out with the count received (MDM-TERM-003)', async () => {
    const { url } = await rawServer((s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'));
    const client = newClient({ responseMs: 300 });

    const exchange = await client.post(url, package1());

    expect(exchange.error).toEqual({ kind: 'timeout', message: 'response body incomplete after 300 ms: 3 of 10 bytes received' });
    expect(exchange.response?.body.toString()).toBe('abc');
  });

  test('connection refused is recorded with the address, without TLS facts (MDM-TRN-023)', async () => {
    const port = await freePort();
    const client = newClient();

    const exchange = await client.post(`https://127.0.0.1:${port}${MANAGEMENT_PATH}`, package1());

    expect(exchange.error).toEqual({ kind: 'connect', message: `connection refused by 127.0.0.1:${port}` });
    expect(exchange.tls).toBeUndefined();
    expect(exchange.response).toBeUndefined();
  });

  test('a peer that accepts TCP but never completes the TLS handshake gives a connect timeout (MDM-TRN-023)', async () => {
    const accepted: Socket[] = [];
    // Reads and ignores the ClientHello, so that it notices when the client gives up.
    const silent = createTcpServer((socket) => { accepted.push(socket.on('error', () => undefined).resume()); });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => {
      for (const socket of accepted) socket.destroy();
      silent.close(resolve);
    }));
    const { port } = silent.address() as { port: number };
    const client = newClient({ connectMs: 200 });

    const started = Date.now();
    const exchange = await client.post(`https://127.0.0.1:${port}${MANAGEMENT_PATH}`, package1());

    expect(exchange.error).toEqual({ kind: 'timeout', message: `no TLS connection to 127.0.0.1:${port} within 200 ms` });
    expect(Date.now() - started).toBeLessThan(1_000);
    await expect.poll(() => accepted.length > 0 && accepted.every((socket) => socket.destroyed), { timeout: 1_000 }).toBe(true);
  });

  for (const [name, bytes] of [
    ['then closes a keep-alive connection', 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'],
    ['then closes a Connection: close response', 'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 10\r\n\r\nabc'],
  ] as const) {
    test(`a response body shorter than Content-Length ${name} is detected (MDM-TRN-001, MDM-TERM-003)`, async () => {
      const { url } = await rawServer((s) => s.end(bytes));
      const client = newClient();

      const exchange = await client.post(url, package1());

      expect(exchange.error).toEqual({
        kind: 'protocol',
        message: 'body shorter than Content-Length 10: 3 bytes arrived before the connection ended',
      });
      expect(exchange.response?.lengthMismatch).toEqual({ declared: 10, received: 3 });
      expect(exchange.response?.body.toString()).toBe('abc');
    });
  }

  for (const [name, write] of [
    ['in the same write, connection kept alive', (s: tls.TLSSocket) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcEXTRA')],
    ['in the same write, Connection: close', (s: tls.TLSSocket) => s.end('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\nabcEXTRA')],
    ['in a second write', (s: tls.TLSSocket) => { s.write('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc'); s.write('EXTRA'); }],
    ['looking like a second response', (s: tls.TLSSocket) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')],
  ] as const) {
    test(`a response body longer than Content-Length (${name}) is detected, not silently accepted (MDM-TRN-001)`, async () => {
      const { url } = await rawServer(write);
      const client = newClient();

      const exchange = await client.post(url, package1());

      const extra = name === 'looking like a second response' ? 38 : 5;
      expect(exchange.response?.body.toString()).toBe('abc');
      expect(exchange.response?.lengthMismatch).toEqual({ declared: 3, received: 3 + extra });
      expect(exchange.error).toEqual({ kind: 'protocol', message: `body longer than Content-Length 3: ${extra} more bytes followed on the connection` });

      // undici drops the garbled connection; the next exchange starts clean on a new one.
      const next = await client.post(url, package1());
      expect(next.index).toBe(1);
      expect(next.response?.lengthMismatch).toEqual({ declared: 3, received: 3 + extra });
      expect(exchange.response?.lengthMismatch).toEqual({ declared: 3, received: 3 + extra });
    });
  }

  test('bytes trailing a response that arrive after it was returned are added to its record (MDM-TRN-001)', async () => {
    const { url } = await rawServer((s) => {
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc');
      setTimeout(() => s.write('LATE'), 50);
    });
    const client = newClient();

    const exchange = await client.post(url, package1());

    await expect.poll(() => exchange.response?.lengthMismatch, { timeout: 1_000 }).toEqual({ declared: 3, received: 7 });
    expect(exchange.error?.message).toBe('body longer than Content-Length 3: 4 more bytes followed on the connection');
    expect(client.transcript.exchanges[0]).toBe(exchange);
  });

  test('bytes after the last chunk of a chunked response are detected (MDM-TRN-001)', async () => {
    const { url } = await rawServer((s) => s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nJUNK'));
    const client = newClient();

    const exchange = await client.post(url, package1());

    expect(exchange.response?.body.toString()).toBe('abc');
    expect(exchange.error).toEqual({ kind: 'protocol', message: '4 bytes followed the end of the chunked response body' });
  });

  test('a well-framed keep-alive response is not mistaken for a mismatch, and the connection is reused (MDM-TRN-001)', async () => {
    const { url } = await rawServer((s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc'));
    const client = newClient();

    const exchange = await client.post(url, package1());

    expect(exchange.error).toBeUndefined();
    expect(exchange.response?.lengthMismatch).toBeUndefined();
    expect(exchange.wire?.bytesReceived).toBe('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc'.length);
  });

  test('an oversized response is aborted as too-large, never buffered whole (MDM-TRN-001)', async () => {
    const declared = await rawServer((s) => s.write(`HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n${'x'.repeat(5000)}`));
    const streamed = await rawServer((s) => {
      s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n');
      for (let i = 0; i < 10; i++) s.write(`1f4\r\n${'y'.repeat(500)}\r\n`);
      s.write('0\r\n\r\n');
    });
    const client = newClient({ maxResponseBytes: 1_000 });

    const byHeader = await client.post(declared.url, package1());
    const byBody = await client.post(streamed.url, package1());

    expect(byHeader.error).toEqual({
      kind: 'too-large',
      message: 'response declares Content-Length 5000, above the limit of 1000 bytes; not read',
    });
    expect(byHeader.response?.body.length).toBe(0);
    expect(byBody.error).toEqual({
      kind: 'too-large',
      message: 'response body exceeds the limit of 1000 bytes; aborted after 1000 bytes',
    });
    expect(byBody.response?.body.length).toBe(1_000);
    expect(byBody.response?.parseError).toBeUndefined();
  });

  test('malformed bodies are recorded with parseError, never an exception (MDM-XML-001, MDM-XML-002)', async () => {
    const bodies = ['this is not XML <<<', '<html><body>Service Unavailable</body></html>'];
    let next = 0;
    const { server, url } = await startServer({
      handler: () => ({ status: 200, headers: { 'Content-Type': SYNCML_XML }, body: bodies[next++ % bodies.length] }),
    });
    const client = newClient();

    const notXml = await client.post(`${url}${MANAGEMENT_PATH}`, 'garbage <<< request');
    const notSyncml = await client.post(`${url}${MANAGEMENT_PATH}`, package1());

    expect(notXml.error).toBeUndefined();
    expect(notXml.response?.parsed).toBeUndefined();
    expect(notXml.response?.parseError).toEqual({ code: 'not-well-formed', message: expect.any(String) });
    expect(notXml.request.parseError?.code).toBe('not-well-formed');
    expect(server.transcript.exchanges[0]!.request.parseError?.code).toBe('not-well-formed');
    expect(notSyncml.response?.parseError).toEqual({ code: 'not-syncml', message: expect.stringContaining('<html>') });
  });

  test('an empty 200 reply is recorded as an empty body, neither parsed nor a parse error (MDM-TERM-003, MDM-ROB-009)', async () => {
    const { url } = await startServer({ handler: () => ({ status: 200 }) });
    const client = newClient();

    const exchange = await client.post(`${url}${MANAGEMENT_PATH}`, package1());

    expect(exchange.error).toBeUndefined();
    expect(exchange.response).toMatchObject({ status: 200, declaredLength: 0 });
    expect(exchange.response?.body.length).toBe(0);
    expect(exchange.response?.parsed).toBeUndefined();
    expect(exchange.response?.parseError).toBeUndefined();
  });

  test('caller headers override the Windows defaults and null drops one (MDM-TRN-005, MDM-TRN-006, MDM-TRN-011)', async () => {
    const { server, url } = await startServer();
    const client = newClient({ headers: { 'User-Agent': 'Enrollment' } });

    await client.post(`${url}${MANAGEMENT_PATH}`, package1(), {
      headers: { 'Content-Type': 'application/vnd.syncml.dm+wbxml', 'Accept-Charset': null, 'MS-CV': 'abc.1' },
    });

    const { headers } = server.transcript.exchanges[0]!.request;
    expect(headers['content-type']).toBe('application/vnd.syncml.dm+wbxml');
    expect(headers['user-agent']).toBe('Enrollment');
    expect(headers['ms-cv']).toBe('abc.1');
    expect(headers).not.toHaveProperty('accept-charset');
    expect(headers.accept).toBe(WINDOWS_DEVICE_HEADERS.accept);
  });

  test('the transcript serialises bodies as UTF-8 text when valid and base64 otherwise', async () => {
    const { url } = await startServer({ handler: () => ({ status: 200, body: Buffer.from([0x03, 0x01, 0xff, 0xfe]) }) });
    const client = newClient();
    await client.post(`${url}${MANAGEMENT_PATH}`, package1());

    const json = JSON.parse(JSON.stringify(client.transcript));

    expect(json.exchanges[0].request.body).toEqual({ encoding: 'utf8', text: package1() });
    expect(json.exchanges[0].response.body).toEqual({ encoding: 'base64', data: 'AwH//g==' });
    expect(json.exchanges[0].request.parsed.message.hdr.msgID).toBe('1');
    expect(json.exchanges[0].request.parsed.root).toBeUndefined();
  });
});

test.describe('HttpsServer faults and limits', () => {
  test('a handler answer Node cannot write (a header with a line break) becomes a recorded 500 (MDM-TERM-003)', async () => {
    const { server, url } = await startServer({ handler: () => ({ status: 200, headers: { 'X-Bad': 'a\r\nb' }, body: 'x' }) });
    const client = newClient();

    const exchange = await client.post(`${url}${MANAGEMENT_PATH}`, package1());

    expect(exchange.response?.status).toBe(500);
    expect(server.transcript.exchanges[0]!.error?.kind).toBe('handler');
    expect(server.transcript.exchanges[0]!.response?.headers).not.toHaveProperty('x-bad');
  });

  test('a handler that throws is answered 500 and recorded as a handler error; the server keeps serving (MDM-TERM-003)', async () => {
    let calls = 0;
    const { server, url } = await startServer({
      handler: () => {
        if (calls++ === 0) throw new Error('queue lookup failed');
        return syncmlReply({} as never);
      },
    });
    const client = newClient();

    const failed = await client.post(`${url}${MANAGEMENT_PATH}`, package1());
    const next = await client.post(`${url}${MANAGEMENT_PATH}`, package1());

    expect(failed.response?.status).toBe(500);
    expect(failed.response?.body.toString()).toBe('request handler failed: queue lookup failed');
    expect(server.transcript.exchanges[0]!.error).toEqual({ kind: 'handler', message: 'request handler failed: queue lookup failed' });
    expect(server.transcript.exchanges[0]!.response?.status).toBe(500);
    expect(next.response?.status).toBe(200);
  });

  test('the handler can drop the connection or answer late, to inject resets and slow answers (MDM-TERM-008, MDM-TRN-023)', async () => {
    const { server, url } = await startServer({
      handler: (req) => (req.url.endsWith('reset') ? { status: 200, destroy: true } : { status: 200, delayMs: 600, body: 'late' }),
    });
    const client = newClient({ responseMs: 200 });

    const reset = await client.post(`${url}/reset`, package1());
    const slow = await client.post(`${url}/slow`, package1());

    expect(reset.error?.kind).toBe('reset');
    expect(reset.error?.message).toMatch(/closed the connection without answering|reset/);
    expect(server.transcript.exchanges[0]!.error).toEqual({ kind: 'reset', message: 'connection dropped without an answer (fault injected by the handler)' });
    expect(slow.error).toEqual({ kind: 'timeout', message: 'no response within 200 ms' });
    await expect.poll(() => server.transcript.length, { timeout: 1_500 }).toBe(2);
    expect(server.transcript.exchanges[1]!.error?.kind).toBe('reset');
  });

  test('a request above maxRequestBytes is answered 413 without being read (MDM-ROB-010)', async () => {
    const { server, url } = await startServer({ maxRequestBytes: 1_000 });
    const client = newClient();

    const exchange = await client.post(`${url}${MANAGEMENT_PATH}`, 'x'.repeat(2_000));

    expect(exchange.response?.status).toBe(413);
    const recorded = server.transcript.exchanges[0]!;
    expect(recorded.error).toEqual({
      kind: 'too-large',
      message: 'request declares Content-Length 2000, above the limit of 1000 bytes; answered 413 without reading it',
    });
    expect(recorded.request.body.length).toBe(0);
    expect(recorded.response?.status).toBe(413);
  });

  test('a chunked request that grows past maxRequestBytes is cut off with 413 (MDM-ROB-010)', async () => {
    const { server, url } = await startServer({ maxRequestBytes: 1_000 });
    const chunk = `1f4\r\n${'z'.repeat(500)}\r\n`;

    const answer = await rawClient(url, `POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${chunk}${chunk}${chunk}0\r\n\r\n`);

    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    const recorded = server.transcript.exchanges[0]!;
    expect(recorded.error?.kind).toBe('too-large');
    expect(recorded.request.body.length).toBeLessThanOrEqual(1_000);
  });

  test('a request body shorter than Content-Length is recorded as such (MDM-TRN-001)', async () => {
    const { server, url } = await startServer();

    await rawClient(url, `POST ${MANAGEMENT_PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n<SyncML>`, { end: true });

    await expect.poll(() => server.transcript.length).toBe(1);
    const recorded = server.transcript.exchanges[0]!;
    expect(recorded.request.lengthMismatch).toEqual({ declared: 100, received: 8 });
    expect(recorded.request.body.toString()).toBe('<SyncML>');
    expect(recorded.error).toEqual({
      kind: 'protocol',
      message: 'request body shorter than Content-Length 100: 8 bytes arrived before the client closed the connection',
    });
    expect(recorded.response).toBeUndefined();
  });

  test('a request body that stalls is answered 408 after bodyMs (MDM-TRN-001)', async () => {
    const { server, url } = await startServer({ bodyMs: 200 });

    const answer = await rawClient(url, `POST ${MANAGEMENT_PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n<SyncML>`);

    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(server.transcript.exchanges[0]!.error).toEqual({
      kind: 'timeout',
      message: 'request body incomplete after 200 ms: 8 of 100 bytes received; answered 408',
    });
  });

  test('bytes that are not HTTP are answered 400 and recorded (MDM-TRN-001)', async () => {
    const { server, url } = await startServer();

    const answer = await rawClient(url, 'HELLO THERE\r\n\r\n');

    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    const recorded = server.transcript.exchanges[0]!;
    expect(recorded.error?.kind).toBe('protocol');
    expect(recorded.error?.message).toMatch(/^request is not valid HTTP\/1\.1: .*\(HPE_/);
    expect(recorded.tls?.peerCertificate?.subjectCN).toBe(pki.deviceId);
  });

  test('a client that rejects the server certificate is recorded as a TLS failure (MDM-TRN-003)', async () => {
    const { server, url } = await startServer();
    const { port } = new URL(url);
    const other = createTestPki({ keyType: 'ec' });

    const socket = tls.connect({ host: '127.0.0.1', port: Number(port), ca: other.ca.certPem });
    socket.on('error', () => undefined);
    await new Promise((resolve) => socket.once('close', resolve));

    await expect.poll(() => server.transcript.length).toBe(1);
    expect(server.transcript.exchanges[0]!.error?.kind).toBe('tls');
    expect(server.transcript.exchanges[0]!.request.method).toBeUndefined();
  });

  test('idle: not while a handshake or a request is under way, and again once each is recorded; a kept-alive loopback connection does not hold it (MDM-TRN-001)', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const { server, url } = await startServer({ handler: async () => { await held; return { status: 200, headers: { 'Content-Type': SYNCML_XML }, body: reply() }; } });
    expect(server.idle).toBe(true);

    // A request being answered: not idle until it is recorded.
    const client = newClient();
    const pending = client.post(`${url}${MANAGEMENT_PATH}`, package1());
    await expect.poll(() => server.idle === false && server.transcript.length === 0).toBe(true);
    release();
    const exchange = await pending;
    expect(exchange.response?.status).toBe(200);
    await expect.poll(() => server.transcript.length).toBe(1);
    // The client keeps its connection alive; from loopback it holds nothing unseen.
    expect(server.idle).toBe(true);

    // A connection that has not finished its handshake: not idle until it ends.
    const { port } = new URL(url);
    const silent = netConnect({ host: '127.0.0.1', port: Number(port) });
    silent.on('error', () => undefined);
    await expect.poll(() => server.idle).toBe(false);
    silent.destroy();
    await expect.poll(() => server.idle).toBe(true);

    // A handshake the client refuses is recorded, and the server is idle again.
    const refusing = tls.connect({ host: '127.0.0.1', port: Number(port), ca: createTestPki({ keyType: 'ec' }).ca.certPem });
    refusing.on('error', () => undefined);
    await new Promise((resolve) => refusing.once('close', resolve));
    await expect.poll(() => server.transcript.length).toBe(2);
    expect(server.transcript.exchanges[1]!.error?.kind).toBe('tls');
    await expect.poll(() => server.idle).toBe(true);
  });

  test('the server listens only on loopback addresses (MDM-TRN-002)', () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.10', 'example.com']) {
      expect(() => new HttpsServer({ identity: pki.server, host, handler: syncmlReply })).toThrow(/refusing to listen on .*loopback/);
    }
    for (const host of ['127.0.0.1', '127.0.0.2', '::1', 'localhost']) {
      expect(() => new HttpsServer({ identity: pki.server, host, handler: syncmlReply })).not.toThrow();
    }
  });

  test('close() does not wait for idle keep-alive connections (MDM-TERM-008)', async () => {
    const server = new HttpsServer({ identity: pki.server, ca: pki.ca.certPem, handler: syncmlReply, keepAliveMs: 60_000 });
    const { url } = await server.listen();
    const client = newClient();
    const exchange = await client.post(`${url}${MANAGEMENT_PATH}`, package1());
    expect(exchange.response?.status).toBe(200);

    const started = Date.now();
    await server.close();

    expect(Date.now() - started).toBeLessThan(500);
  });
});

/** A node:http2 server on loopback whose streams are answered by `respond`, for client behaviour under test. */
async function rawHttp2Server(respond: (stream: ServerHttp2Stream) => void) {
  const server = createSecureServer({ key: pki.server.keyPem, cert: pki.server.certPem });
  const sessions = new Set<Http2Session>();
  server.on('session', (s: Http2Session) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  server.on('stream', (stream: ServerHttp2Stream) => {
    stream.on('error', () => undefined);
    stream.resume();
    stream.once('end', () => respond(stream));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  cleanups.push(() => new Promise<void>((resolve) => {
    for (const s of sessions) s.destroy();
    server.close(() => resolve());
  }));
  return `https://127.0.0.1:${port}${MANAGEMENT_PATH}`;
}

/** An HTTP/2 client session to the HttpsServer, for server behaviour under test. */
function http2Session(url: string): ClientHttp2Session {
  const session = http2Connect(url, { ca: pki.ca.certPem, servername: 'localhost', cert: pki.device.certPem, key: pki.device.keyPem });
  session.on('error', () => undefined);
  cleanups.push(async () => session.destroy());
  return session;
}

/** Sends one request on `session` and collects the answer; `write` sends the body (and may never end it). */
async function http2Request(session: ClientHttp2Session, headers: Record<string, string>, write: (stream: ClientHttp2Stream) => void) {
  const stream = session.request({ ':method': 'POST', ':path': MANAGEMENT_PATH, ...headers });
  stream.on('error', () => undefined);
  let status = 0;
  let body = '';
  stream.on('response', (h) => { status = Number(h[':status']); });
  stream.on('data', (d: Buffer) => { body += d.toString(); });
  write(stream);
  await new Promise((resolve) => stream.once('close', resolve));
  return { status, body, rstCode: stream.rstCode };
}

/** Writes HTTP/2 frames by hand (literal header fields, no HPACK indexing): what a broken client would send. */
async function rawHttp2Client(url: string) {
  const { port } = new URL(url);
  const socket = tls.connect({
    host: '127.0.0.1', port: Number(port), ca: pki.ca.certPem, servername: 'localhost', ALPNProtocols: ['h2'],
    cert: pki.device.certPem, key: pki.device.keyPem,
  });
  socket.on('error', () => undefined);
  socket.resume();
  cleanups.push(async () => socket.destroy());
  await new Promise((resolve) => socket.once('secureConnect', resolve));
  const frame = (type: number, flags: number, id: number, payload: Buffer) => {
    const head = Buffer.alloc(9);
    head.writeUIntBE(payload.length, 0, 3);
    head[3] = type;
    head[4] = flags;
    head.writeUInt32BE(id, 5);
    return Buffer.concat([head, payload]);
  };
  const literal = (name: string, value: string) => Buffer.concat([Buffer.from([0x00, name.length]), Buffer.from(name), Buffer.from([value.length]), Buffer.from(value)]);
  socket.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), frame(0x4, 0, 0, Buffer.alloc(0))]));
  return {
    socket,
    /** HEADERS (END_HEADERS) then one DATA frame, END_STREAM on it when `end`. */
    request(id: number, fields: string[], body: string, end: boolean) {
      const block = Buffer.concat(fields.flatMap((_, i) => (i % 2 ? [] : [literal(fields[i]!, fields[i + 1]!)])));
      socket.write(Buffer.concat([frame(0x1, 0x4, id, block), frame(0x0, end ? 0x1 : 0, id, Buffer.from(body))]));
    },
    reset(id: number, code: number) {
      const payload = Buffer.alloc(4);
      payload.writeUInt32BE(code);
      socket.write(frame(0x3, 0, id, payload));
    },
  };
}

test.describe('HTTP/2 (MDM-TRN-001)', () => {
  test('with http2 the client offers h2 and both sides record it: pseudo-headers, the Windows headers, bodies, TLS facts, the connection reused', async () => {
    const { server, url } = await startServer();
    const client = newClient({ http2: true });
    const target = `${url}${MANAGEMENT_PATH}?mode=Maintenance&Platform=WoA`;

    const first = await client.post(target, package1());
    const second = await client.post(target, package1('2'));

    expect(first.error).toBeUndefined();
    expect(first.httpVersion).toBe('2');
    expect(first.tls).toMatchObject({ authorized: true, alpnProtocol: 'h2' });
    expect(first.request.headers).toMatchObject({
      ...WINDOWS_DEVICE_HEADERS,
      ':method': 'POST',
      ':path': `${MANAGEMENT_PATH}?mode=Maintenance&Platform=WoA`,
      ':scheme': 'https',
      ':authority': new URL(url).host,
      'content-length': String(Buffer.byteLength(package1())),
    });
    expect(first.response?.status).toBe(200);
    expect(first.response?.body.toString()).toBe(reply());
    expect(first.response?.declaredLength).toBe(Buffer.byteLength(reply()));
    expect(first.response?.parsed?.message.hdr.target?.locURI).toBe(pki.deviceId);
    // Plaintext HTTP/2 bytes: the preface, SETTINGS, HEADERS and DATA of the request; HEADERS and DATA of the answer.
    expect(first.wire!.bytesSent).toBeGreaterThan(Buffer.byteLength(package1()) + 24);
    expect(first.wire!.bytesReceived).toBeGreaterThan(Buffer.byteLength(reply()));
    expect(second.error).toBeUndefined();
    expect(second.peer).toBe(first.peer);

    const seen = server.transcript.exchanges;
    expect(seen.map((x) => x.httpVersion)).toEqual(['2', '2']);
    expect(seen[0]!.error).toBeUndefined();
    expect(seen[0]!.request).toMatchObject({ method: 'POST', url: `${MANAGEMENT_PATH}?mode=Maintenance&Platform=WoA` });
    expect(seen[0]!.request.headers).toMatchObject({ ...WINDOWS_DEVICE_HEADERS, ':method': 'POST' });
    expect(seen[0]!.request.body.toString()).toBe(package1());
    expect(seen[0]!.tls).toMatchObject({ authorized: true, alpnProtocol: 'h2' });
    expect(seen[0]!.tls?.peerCertificate?.subjectCN).toBe(pki.deviceId);
    expect(seen[1]!.request.parsed?.message.hdr.sessionID).toBe('2');
  });

  test('without http2 the client offers only http/1.1, even to a server that speaks h2; with it, an HTTP/1.1-only server is spoken to in HTTP/1.1', async () => {
    const { url: both } = await startServer();
    const { url: http1Only } = await startServer({ http2: false });

    const plain = await newClient().post(`${both}${MANAGEMENT_PATH}`, package1());
    const fallback = await newClient({ http2: true }).post(`${http1Only}${MANAGEMENT_PATH}`, package1());

    expect(plain).toMatchObject({ httpVersion: '1.1', tls: { alpnProtocol: 'http/1.1' } });
    expect(plain.request.headers.host).toBe(new URL(both).host);
    expect(fallback.error).toBeUndefined();
    expect(fallback).toMatchObject({ httpVersion: '1.1', tls: { alpnProtocol: 'http/1.1' } });
  });

  for (const [name, declared, expected] of [
    ['larger', 116, { message: 'body shorter than Content-Length 116: HTTP/2 stream 1 ended after 100 bytes of DATA, a malformed response (RFC 9113 8.1.1)' }],
    ['smaller', 84, { message: 'body longer than Content-Length 84: 100 bytes of DATA on HTTP/2 stream 1, a malformed response (RFC 9113 8.1.1)' }],
  ] as const) {
    test(`a content-length ${name} than the DATA of an h2 response is recorded as a framing defect with the true body (RFC 9113 8.1.1)`, async () => {
      const url = await rawHttp2Server((stream) => {
        stream.respond({ ':status': 200, 'content-type': SYNCML_XML, 'content-length': String(declared) });
        stream.end('x'.repeat(100));
      });
      const client = newClient({ http2: true });

      const exchange = await client.post(url, package1());

      expect(exchange.httpVersion).toBe('2');
      expect(exchange.error).toEqual({ kind: 'protocol', ...expected });
      expect(exchange.response?.lengthMismatch).toEqual({ declared, received: 100 });
      expect(exchange.response?.body.toString()).toBe('x'.repeat(100));
    });
  }

  test('a well-framed h2 response is not mistaken for a mismatch', async () => {
    const url = await rawHttp2Server((stream) => {
      stream.respond({ ':status': 200, 'content-length': '100' });
      stream.write('x'.repeat(40));
      stream.end('x'.repeat(60));
    });

    const exchange = await newClient({ http2: true }).post(url, package1());

    expect(exchange.error).toBeUndefined();
    expect(exchange.response?.lengthMismatch).toBeUndefined();
    expect(exchange.response?.body.length).toBe(100);
  });

  test('an h2 server that resets the stream, or never answers, is recorded as a reset or a timeout (MDM-TERM-003)', async () => {
    const reset = await rawHttp2Server((stream) => stream.close(h2constants.NGHTTP2_INTERNAL_ERROR));
    const silent = await rawHttp2Server(() => undefined);
    const client = newClient({ http2: true, responseMs: 300 });

    const wasReset = await client.post(reset, package1());
    const timedOut = await client.post(silent, package1());

    expect(wasReset.error).toEqual({ kind: 'reset', message: 'the server reset HTTP/2 stream 1 before answering (RST_STREAM INTERNAL_ERROR)' });
    expect(timedOut.error).toEqual({ kind: 'timeout', message: 'no response within 300 ms' });
  });

  test('an h2 response above maxResponseBytes is aborted as too-large', async () => {
    const url = await rawHttp2Server((stream) => {
      stream.respond({ ':status': 200 });
      stream.end('y'.repeat(5_000));
    });

    const exchange = await newClient({ http2: true, maxResponseBytes: 1_000 }).post(url, package1());

    expect(exchange.error).toEqual({ kind: 'too-large', message: 'response body exceeds the limit of 1000 bytes; aborted after 1000 bytes' });
    expect(exchange.response?.body.length).toBe(1_000);
  });

  test('the HttpsServer sends a handler\'s wrong content-length over h2 as it is, leaves connection-specific fields out, and answers 500 for a header it cannot send', async () => {
    let answer: HandlerResponse = { status: 200 };
    const { server, url } = await startServer({ handler: () => answer });
    const client = newClient({ http2: true });
    const body = 'z'.repeat(50);

    answer = { status: 200, headers: { 'Content-Type': SYNCML_XML, 'Content-Length': '66', Connection: 'close' }, body };
    const tooLarge = await client.post(`${url}${MANAGEMENT_PATH}`, package1());
    answer = { status: 200, headers: { 'X-Bad': 'a\r\nb' }, body };
    const unsendable = await client.post(`${url}${MANAGEMENT_PATH}`, package1());

    expect(tooLarge.response?.lengthMismatch).toEqual({ declared: 66, received: 50 });
    expect(tooLarge.response?.headers).not.toHaveProperty('connection');
    const sent = server.transcript.exchanges[0]!;
    expect(sent.response?.headers).toEqual({ 'content-type': SYNCML_XML, 'content-length': '66' });
    expect(sent.response?.body.toString()).toBe(body);
    expect(unsendable.response?.status).toBe(500);
    expect(server.transcript.exchanges[1]!.error?.kind).toBe('handler');
  });

  test('an h2 request above maxRequestBytes is answered 413 in full and the upload stopped with RST_STREAM NO_ERROR (MDM-ROB-010)', async () => {
    const { server, url } = await startServer({ maxRequestBytes: 1_000 });
    const session = http2Session(url);

    const declared = await http2Request(session, { 'content-length': '5000' }, (s) => s.write('x'.repeat(500)));
    const streamed = await http2Request(session, {}, (s) => {
      s.write('x'.repeat(800));
      s.write('x'.repeat(800));
    });

    expect(declared).toMatchObject({ status: 413, rstCode: h2constants.NGHTTP2_NO_ERROR });
    expect(declared.body).toBe('request declares Content-Length 5000, above the limit of 1000 bytes; answered 413 without reading it\n');
    expect(streamed).toMatchObject({ status: 413, rstCode: h2constants.NGHTTP2_NO_ERROR });
    expect(server.transcript.exchanges.map((x) => [x.httpVersion, x.error?.kind, x.response?.status])).toEqual([['2', 'too-large', 413], ['2', 'too-large', 413]]);
  });

  test('an h2 request body that stalls is answered 408; one the client resets, or cuts short of its content-length, is recorded (MDM-TRN-001)', async () => {
    const { server, url } = await startServer({ bodyMs: 200 });
    const stalled = await http2Request(http2Session(url), { 'content-length': '100' }, (s) => s.write('<SyncML>'));
    const client = await rawHttp2Client(url);

    client.request(1, [':method', 'POST', ':path', MANAGEMENT_PATH, ':scheme', 'https', ':authority', 'x'], '<SyncML>', false);
    client.reset(1, h2constants.NGHTTP2_CANCEL);
    client.request(3, [':method', 'POST', ':path', MANAGEMENT_PATH, ':scheme', 'https', ':authority', 'x', 'content-length', '100'], '<SyncML>', true);

    expect(stalled.status).toBe(408);
    await expect.poll(() => server.transcript.length, { timeout: 15_000 }).toBe(3);
    const [timedOut, reset, short] = server.transcript.exchanges;
    expect(timedOut!.error).toEqual({ kind: 'timeout', message: 'request body incomplete after 200 ms: 8 of 100 bytes received; answered 408' });
    expect(reset!.error).toEqual({ kind: 'reset', message: 'client reset the stream (RST_STREAM CANCEL) before the request body ended (8 bytes received)' });
    expect(short!.request.lengthMismatch).toEqual({ declared: 100, received: 8 });
    expect(short!.error).toEqual({
      kind: 'protocol',
      message: expect.stringMatching(/^request body shorter than Content-Length 100: 8 bytes arrived before the stream was reset as malformed \(PROTOCOL_ERROR/),
    });
    expect(short!.response).toBeUndefined();
  });

  test('a client that picks h2 and then sends no HTTP/2 is recorded and dropped with GOAWAY (MDM-TRN-001)', async () => {
    const { server, url } = await startServer();
    const { port } = new URL(url);
    const socket = tls.connect({ host: '127.0.0.1', port: Number(port), ca: pki.ca.certPem, servername: 'localhost', ALPNProtocols: ['h2'] });
    socket.on('error', () => undefined);
    let received = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => { received = Buffer.concat([received, d]); });
    await new Promise((resolve) => socket.once('secureConnect', resolve));

    socket.write('POST / HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((resolve) => socket.once('close', resolve));

    // SETTINGS, then GOAWAY (frame type 7).
    expect(received[3]).toBe(0x4);
    expect(received.subarray(9 + received.readUIntBE(0, 3))[3]).toBe(0x7);
    expect(server.transcript.exchanges[0]!).toMatchObject({
      httpVersion: '2',
      error: { kind: 'protocol', message: expect.stringMatching(/^the client broke the HTTP\/2 protocol: .*client magic/) },
    });
  });
});

test.describe('plain HTTP behind a TLS-terminating proxy, and forwarding', () => {
  test('an http:// URL is spoken over TCP in HTTP/1.1, recorded as cleartext, with the device certificate in the named header as nginx escapes it', async () => {
    const seen: IncomingMessage[] = [];
    const plain = createHttpServer((req, res) => {
      seen.push(req);
      req.resume();
      req.on('end', () => res.writeHead(200, { 'Content-Type': SYNCML_XML }).end(reply()));
    });
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => plain.close(resolve)));
    const { port } = plain.address() as { port: number };
    const client = newClient({ http2: true, clientCertHeader: 'X-SSL-Client-Cert' });

    const exchange = await client.post(`http://127.0.0.1:${port}${MANAGEMENT_PATH}`, package1());

    expect(exchange.error).toBeUndefined();
    expect(exchange).toMatchObject({ cleartext: true, httpVersion: '1.1' });
    expect(exchange.tls).toBeUndefined();
    const header = seen[0]!.headers['x-ssl-client-cert'] as string;
    expect(header).toMatch(/^-----BEGIN%20CERTIFICATE-----%0A[A-Za-z0-9%]+-----END%20CERTIFICATE-----%0A$/);
    expect(header).not.toMatch(/[+/=\n ]/);
    expect(decodeURIComponent(header)).toBe(pki.device.certPem);

    const refused = await client.post(`http://127.0.0.1:${await freePort()}${MANAGEMENT_PATH}`, package1());
    expect(refused).toMatchObject({ cleartext: true, error: { kind: 'connect' } });
  });

  test('send() forwards a request as given: method, order and spelling of headers, no Windows defaults, Content-Length from the body', async () => {
    const { server, url } = await startServer({ handler: () => ({ status: 204 }) });
    const client = newClient();

    const exchange = await client.send(`${url}/x?y=1`, {
      method: 'PUT',
      headers: ['X-First', 'a', 'Content-Type', 'text/plain', 'x-first', 'b', 'Content-Length', '999'],
      body: Buffer.from('hello'),
    });

    expect(exchange.error).toBeUndefined();
    const { request } = server.transcript.exchanges[0]!;
    expect(request.method).toBe('PUT');
    expect(request.url).toBe('/x?y=1');
    // undici puts Host first and its own Connection field beside; what was given keeps its order and spelling.
    expect(request.rawHeaders?.filter((_, i, raw) => !['host', 'connection'].includes(raw[i - (i % 2)]!))).toEqual(
      ['X-First', 'a', 'Content-Type', 'text/plain', 'x-first', 'b', 'content-length', '5'],
    );
    expect(request.headers.host).toBe(new URL(url).host);
    expect(request.headers).not.toHaveProperty('user-agent');
  });

  test('exposed lets the server take an address that is not loopback; without it the address is refused (MDM-TRN-002)', () => {
    expect(() => new HttpsServer({ identity: pki.server, host: '0.0.0.0', handler: syncmlReply })).toThrow(/refusing to listen on 0\.0\.0\.0/);
    expect(() => new HttpsServer({ identity: pki.server, host: '0.0.0.0', exposed: true, handler: syncmlReply })).not.toThrow();
  });
});
