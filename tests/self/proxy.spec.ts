/**
 * The judging proxy between the reference device and the reference server, on loopback: every byte of every body
 * crosses unchanged both ways, over HTTP/1.1 and h2; the server's defects reach the device as they are and show in
 * the proxy's records; an upstream that fails is answered 502/504 with the reason; a device that misbehaves is
 * recorded and does not stop the proxy.
 */
import { expect, test } from '@playwright/test';
import { createServer as createTcpServer } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { sessionFromTranscript } from '../../harness/checks/from-transcript';
import { runChecks } from '../../harness/checks/finding';
import { SERVER_CHECKS } from '../../harness/checks/server-checks';
import { ReferenceDevice } from '../../harness/device/reference-device';
import { createTestPki, mintDeviceIdentity, type Identity, type TestPki } from '../../harness/pki';
import { ReverseProxy, type ProxyExchange, type ProxyOptions } from '../../harness/proxy';
import { MANAGEMENT_PATH, ReferenceServer } from '../../harness/server/reference-server';
import { SERVER_FAULTS } from '../../harness/server/faults';
import { get } from '../../harness/syncml';
import { HttpsServer, type Exchange, type RequestHandler } from '../../harness/transport';

let pki: TestPki;
/** The identity the proxy presents upstream: not the device's, as in a real deployment. */
let proxyClient: Identity;
const cleanups: Array<() => Promise<unknown>> = [];

test.beforeAll(() => {
  pki = createTestPki({ keyType: 'ec' });
  proxyClient = mintDeviceIdentity(pki, 'valid', { deviceId: 'proxy-client' });
});
test.afterEach(async () => {
  for (const close of cleanups.splice(0).reverse()) await close();
});

async function startServer(faultName?: string): Promise<{ server: ReferenceServer; upstream: string }> {
  const server = new ReferenceServer({
    identity: pki.server, ca: pki.ca.certPem, faults: SERVER_FAULTS.filter((f) => f.name === faultName),
    // The proxy's identity is not the device's: the server judges the device by its messages here.
    behaviour: { matchCertificateToDevice: false },
  });
  const upstream = await server.start();
  cleanups.push(() => server.stop());
  return { server, upstream };
}

async function startProxy(upstream: string, opts: Partial<ProxyOptions> = {}): Promise<{ proxy: ReverseProxy; url: string }> {
  const proxy = new ReverseProxy({
    identity: pki.server, deviceCa: pki.ca.certPem, upstream, upstreamIdentity: proxyClient, upstreamCa: pki.ca.certPem, ...opts,
  });
  const { url } = await proxy.listen();
  cleanups.push(() => proxy.close());
  return { proxy, url: `${url}${MANAGEMENT_PATH}` };
}

function newDevice(http2: boolean): ReferenceDevice {
  const device = new ReferenceDevice({ deviceId: pki.deviceId, identity: pki.device, serverCa: pki.ca.certPem, http2, timeoutMs: 3_000 });
  cleanups.push(() => device.close());
  return device;
}

/** The body as it crossed the wire: an HTTP/1.1 body longer than declared is the body and the bytes after it. */
function wireBody(x: Exchange | undefined): string | undefined {
  const r = x?.response;
  return r && Buffer.concat([r.body, r.trailing ?? Buffer.alloc(0)]).toString('latin1');
}

async function freePort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const END_TO_END = ['content-type', 'accept', 'accept-charset', 'user-agent', 'x-request-tag'];

for (const http2 of [false, true]) {
  const version = http2 ? '2' : '1.1';
  test(`over HTTP/${version}: a session through the proxy completes, every body crosses byte for byte both ways, end-to-end headers kept, both legs recorded (MDM-TRN-001)`, async () => {
    const { server, upstream } = await startServer();
    const records: ProxyExchange[] = [];
    const { proxy, url } = await startProxy(upstream, { onExchange: (r) => records.push(r) });
    const device = newDevice(http2);
    server.queue(pki.deviceId, get('./DevDetail/SwV'), get('./DevInfo'));

    const run = await device.runSession(url);
    const extra = await device.post(url, 'not SyncML at all', { 'X-Request-Tag': 'abc.1' });

    expect(run.end).toEqual({ reason: 'completed' });
    const sent = [...run.exchanges, extra];
    const received = server.transcript.exchanges;
    expect(records).toEqual(proxy.records);
    expect(records).toHaveLength(sent.length);
    expect(received).toHaveLength(sent.length);
    sent.forEach((x, i) => {
      const { device: leg, upstream: up } = records[i]!;
      const at = received[i]!;
      expect(x.error, `exchange ${i}`).toBeUndefined();
      // Request bytes: device → proxy → server.
      expect(leg.request.body.equals(x.request.body)).toBe(true);
      expect(up!.request.body.equals(x.request.body)).toBe(true);
      expect(at.request.body.equals(x.request.body)).toBe(true);
      // Reply bytes: server → proxy → device.
      expect(up!.response!.body.equals(at.response!.body)).toBe(true);
      expect(leg.response!.body.equals(at.response!.body)).toBe(true);
      expect(x.response!.body.equals(at.response!.body)).toBe(true);
      expect(x.response!.status).toBe(at.response!.status);
      expect(at.request.method).toBe(x.request.method);
      expect(at.request.url).toBe(`${MANAGEMENT_PATH}?mode=Maintenance&Platform=WoA`);
      for (const name of END_TO_END) expect(at.request.headers[name], name).toBe(x.request.headers[name]);
      expect(x.response!.headers['content-type']).toBe(at.response!.headers['content-type']);
      expect(x.response!.declaredLength).toBe(at.response!.declaredLength);
      // The device leg carries the device's certificate; the upstream leg the server's, and the server saw the proxy's.
      expect(leg.tls?.peerCertificate?.subjectCN).toBe(pki.deviceId);
      expect(up!.tls).toMatchObject({ authorized: true, peerCertificate: { subjectCN: 'localhost' } });
      expect(at.tls?.peerCertificate?.subjectCN).toBe('proxy-client');
      expect([x.httpVersion, leg.httpVersion, up!.httpVersion, at.httpVersion]).toEqual([version, version, version, version]);
    });
    expect(received.at(-1)!.request.headers['x-request-tag']).toBe('abc.1');
    expect(received.at(-1)!.response?.status).toBe(400);
    expect(extra.response?.status).toBe(400);
  });
}

for (const [fault, http2, id] of [
  ['wrong-content-type', false, 'MDM-TRN-005'],
  ['wrong-content-type', true, 'MDM-TRN-005'],
  ['content-length-too-large', false, 'MDM-XML-001'],
  ['content-length-too-large', true, 'MDM-XML-001'],
  ['content-length-too-small', false, 'MDM-XML-001'],
  ['content-length-too-small', true, 'MDM-XML-001'],
] as const) {
  test(`a server fault ${fault} behind the proxy reaches the device unchanged over HTTP/${http2 ? '2' : '1.1'} and shows in the proxy's records (${id})`, async () => {
    const { server, upstream } = await startServer(fault);
    const { proxy, url } = await startProxy(upstream);
    const device = newDevice(http2);

    const run = await device.runSession(url);

    const first = run.exchanges[0]!;
    const { device: leg, upstream: up, failure } = proxy.records[0]!;
    const origin = server.transcript.exchanges[0]!;
    expect(failure).toBeUndefined();
    // What the device got is what the server sent: declared length, content type, and every byte on the wire.
    expect(first.response?.declaredLength).toBe(origin.response?.declaredLength);
    expect(first.response?.headers['content-type']).toBe(origin.response?.headers['content-type']);
    expect(wireBody(first)).toBe(origin.response!.body.toString('latin1'));
    expect(first.response?.lengthMismatch).toEqual(up!.response?.lengthMismatch);
    expect(wireBody(up)).toBe(origin.response!.body.toString('latin1'));
    expect(leg.response?.declaredLength).toBe(origin.response?.declaredLength);
    // Judged from the device's side and from the proxy's upstream records alike.
    const judged = (exchanges: Exchange[]) => runChecks(SERVER_CHECKS, sessionFromTranscript(exchanges)).filter((f) => f.verdict === 'fail').map((f) => f.id);
    expect(judged(run.exchanges)).toContain(id);
    expect(judged(proxy.records.map((r) => r.upstream!))).toContain(id);
  });
}

test('an upstream that is down, refuses TLS, times out or answers too much is answered 502 or 504 at once, with the reason recorded', async () => {
  const down = await freePort();
  const other = createTestPki({ keyType: 'ec' });
  const slow = new HttpsServer({ identity: pki.server, handler: () => ({ status: 200, delayMs: 1_000, body: 'late' }) });
  const big: RequestHandler = () => ({ status: 200, body: Buffer.alloc(5_000) });
  const large = new HttpsServer({ identity: pki.server, handler: big });
  const slowUrl = (await slow.listen()).url;
  const largeUrl = (await large.listen()).url;
  cleanups.push(() => slow.close(), () => large.close());
  const cases = [
    { upstream: `https://127.0.0.1:${down}${MANAGEMENT_PATH}`, opts: {}, status: 502, reason: `connect: connection refused by 127.0.0.1:${down}` },
    { upstream: slowUrl, opts: { upstreamCa: other.ca.certPem }, status: 502, reason: /^tls: server certificate not trusted/ },
    { upstream: slowUrl, opts: { responseMs: 300 }, status: 504, reason: 'timeout: no response within 300 ms' },
    { upstream: largeUrl, opts: { maxBodyBytes: 1_000 }, status: 502, reason: 'too-large: response declares Content-Length 5000, above the limit of 1000 bytes; not read' },
  ];
  for (const c of cases) {
    const { proxy, url } = await startProxy(c.upstream, c.opts);
    const device = newDevice(false);
    const started = Date.now();

    const exchange = await device.post(url, 'x');

    expect(Date.now() - started).toBeLessThan(c.status === 504 ? 1_000 : 500);
    expect(exchange.response?.status).toBe(c.status);
    expect(exchange.response?.headers['content-type']).toBe('text/plain; charset=utf-8');
    const { failure, device: leg } = proxy.records[0]!;
    expect(failure?.status).toBe(c.status);
    expect(failure?.reason).toMatch(c.reason);
    expect(exchange.response?.body.toString()).toContain(failure!.reason);
    expect(leg.response?.status).toBe(c.status);
  }
});

test('a device that sends garbage is answered 400 and recorded, nothing goes upstream, and the proxy keeps serving (MDM-TRN-001)', async () => {
  const { server, upstream } = await startServer();
  const { proxy, url } = await startProxy(upstream);
  const { port } = new URL(url);

  const socket = tlsConnect({ host: '127.0.0.1', port: Number(port), ca: pki.ca.certPem, servername: 'localhost', cert: pki.device.certPem, key: pki.device.keyPem });
  socket.on('error', () => undefined);
  let answer = '';
  socket.on('data', (d: Buffer) => { answer += d.toString('latin1'); });
  await new Promise((r) => socket.once('secureConnect', r));
  socket.write('HELLO THERE\r\n\r\n');
  await new Promise((r) => socket.once('close', r));

  expect(answer).toMatch(/^HTTP\/1\.1 400 /);
  expect(proxy.records).toHaveLength(1);
  expect(proxy.records[0]!.upstream).toBeUndefined();
  expect(proxy.records[0]!.device.error?.message).toMatch(/^request is not valid HTTP\/1\.1/);
  expect(proxy.records[0]!.device.tls?.peerCertificate?.subjectCN).toBe(pki.deviceId);
  expect(server.transcript.length).toBe(0);
  const run = await newDevice(true).runSession(url);
  expect(run.end).toEqual({ reason: 'completed' });
});

test('hop-by-hop fields stay on their hop, the rest goes on in order and spelling; Host names the upstream (RFC 9110 7.6.1)', async () => {
  const { server, upstream } = await startServer();
  const { url } = await startProxy(upstream);
  const { port, host } = new URL(url);
  const body = 'x';
  const head = [
    `POST ${MANAGEMENT_PATH}?a=1 HTTP/1.1`, `Host: ${host}`, 'Connection: keep-alive, X-Hop', 'X-Hop: dropped', 'Keep-Alive: timeout=5',
    'TE: trailers', 'X-First: 1', 'Content-Type: application/vnd.syncml.dm+xml', 'x-first: 2', `Content-Length: ${body.length}`,
  ];
  const socket = tlsConnect({ host: '127.0.0.1', port: Number(port), ca: pki.ca.certPem, servername: 'localhost', cert: pki.device.certPem, key: pki.device.keyPem });
  socket.on('error', () => undefined);
  let answer = '';
  socket.on('data', (d: Buffer) => { answer += d.toString('latin1'); });
  await new Promise((r) => socket.once('secureConnect', r));
  socket.write(`${head.join('\r\n')}\r\n\r\n${body}`);
  await expect.poll(() => answer).toMatch(/^HTTP\/1\.1 400 /);
  socket.destroy();

  const { request } = server.transcript.exchanges[0]!;
  expect(request.url).toBe(`${MANAGEMENT_PATH}?a=1`);
  expect(request.headers.host).toBe(new URL(upstream).host);
  for (const name of ['x-hop', 'keep-alive', 'te']) expect(request.headers, name).not.toHaveProperty(name);
  const raw = request.rawHeaders!;
  const fields = raw.flatMap((name, i) => (i % 2 === 0 ? [`${name}: ${raw[i + 1]}`] : []));
  expect(fields.filter((f) => /^(x-first|content-type):/i.test(f))).toEqual(['X-First: 1', 'Content-Type: application/vnd.syncml.dm+xml', 'x-first: 2']);
});

for (const http2 of [false, true]) {
  test(`reply fields the upstream meant for its own hop stay there; the rest reach the device in order, repeated ones too, over HTTP/${http2 ? '2' : '1.1'} (RFC 9110 7.6.1)`, async () => {
    const upstreamServer = new HttpsServer({
      identity: pki.server,
      handler: () => ({
        status: 200,
        rawHeaders: [
          'Content-Type', 'application/vnd.syncml.dm+xml', 'Connection', 'X-Private', 'X-Private', 'secret', 'Set-Cookie', 'a=1',
          'X-Kept', 'yes', 'Set-Cookie', 'b=2',
        ],
        body: 'reply',
      }),
    });
    const { url: upstream } = await upstreamServer.listen();
    cleanups.push(() => upstreamServer.close());
    const { url } = await startProxy(upstream);

    const exchange = await newDevice(http2).post(url, 'x');

    const { headers } = exchange.response!;
    expect(exchange.response?.body.toString()).toBe('reply');
    expect(headers).not.toHaveProperty('x-private');
    expect(headers['x-kept']).toBe('yes');
    expect(headers['set-cookie']).toBe('a=1, b=2');
    expect(headers['content-type']).toBe('application/vnd.syncml.dm+xml');
  });
}
