import { expect, test } from '@playwright/test';
import type { TLSSocket } from 'node:tls';
import { deviceReply, unrelayable, upstreamRequest } from '../../harness/proxy';
import type { Exchange, HttpMessage, IncomingRequest } from '../../harness/transport';

const UPSTREAM = new URL('https://mdm.example.test:8443/ignored/path');

function incoming(rawHeaders: string[], httpVersion: '1.1' | '2' = '1.1'): IncomingRequest {
  return {
    method: 'POST', url: '/ManagementServer/MDM.svc?mode=Maintenance&Platform=WoA', headers: {}, rawHeaders,
    body: Buffer.from('<SyncML/>'), tls: { authorized: true }, peer: '127.0.0.1:1', startedAt: 0, httpVersion,
    socket: undefined as unknown as TLSSocket,
  };
}

function upstreamExchange(response: Partial<HttpMessage>, error?: Exchange['error']): Exchange {
  const exchange: Exchange = {
    index: 0, startedAt: 0, endedAt: 0, request: { headers: {}, body: Buffer.alloc(0) },
    response: { status: 200, headers: {}, rawHeaders: [], body: Buffer.from('reply'), ...response },
  };
  if (error) exchange.error = error;
  return exchange;
}

test.describe('what the proxy forwards (RFC 9110 7.6.1)', () => {
  test('a request keeps method, path and query, body and end-to-end fields; hop-by-hop fields, Expect and Content-Length go; Host names the upstream', () => {
    const req = incoming([
      'Host', 'proxy.local:9443', 'Connection', 'keep-alive, X-Hop', 'X-Hop', '1', 'Keep-Alive', 'timeout=5', 'TE', 'trailers',
      'Upgrade', 'h2c', 'Proxy-Connection', 'keep-alive', 'Expect', '100-continue', 'Content-Length', '9',
      'User-Agent', 'MSFT OMA DM Client/1.2.0.1', 'Content-Type', 'application/vnd.syncml.dm+xml', 'MS-CV', 'abc.1', 'x-dup', 'a', 'X-Dup', 'b',
    ]);

    const { url, request } = upstreamRequest(req, UPSTREAM);

    expect(url).toBe('https://mdm.example.test:8443/ManagementServer/MDM.svc?mode=Maintenance&Platform=WoA');
    expect(request.method).toBe('POST');
    expect(request.body).toBe(req.body);
    expect(request.headers).toEqual([
      'host', 'mdm.example.test:8443', 'User-Agent', 'MSFT OMA DM Client/1.2.0.1', 'Content-Type', 'application/vnd.syncml.dm+xml',
      'MS-CV', 'abc.1', 'x-dup', 'a', 'X-Dup', 'b',
    ]);
  });

  test('an h2 request loses its pseudo-header fields and has its split Cookie fields joined (RFC 9113 8.2.3)', () => {
    const req = incoming([':method', 'POST', ':path', '/x', ':authority', 'proxy', ':scheme', 'https', 'cookie', 'a=1', 'accept', '*/*', 'cookie', 'b=2'], '2');

    expect(upstreamRequest(req, UPSTREAM).request.headers).toEqual(['host', 'mdm.example.test:8443', 'cookie', 'a=1; b=2', 'accept', '*/*']);
  });

  test('a reply keeps status, body, declared length and end-to-end fields; bytes that trailed an HTTP/1.1 body follow it; a short body closes the device\'s HTTP/1.1 connection', () => {
    const raw = ['Content-Type', 'text/xml', 'Connection', 'close, X-Private', 'X-Private', 's', 'Content-Length', '3', 'Set-Cookie', 'a', 'Set-Cookie', 'b'];
    const long = upstreamExchange({ rawHeaders: raw, body: Buffer.from('abc'), trailing: Buffer.from('EXTRA'), declaredLength: 3 });
    const short = upstreamExchange({ rawHeaders: ['Content-Length', '10'], body: Buffer.from('abc'), lengthMismatch: { declared: 10, received: 3 } });

    expect(deviceReply(long, incoming([]))).toEqual({
      status: 200, rawHeaders: ['Content-Type', 'text/xml', 'Content-Length', '3', 'Set-Cookie', 'a', 'Set-Cookie', 'b'], body: Buffer.from('abcEXTRA'),
    });
    expect(deviceReply(short, incoming([])).rawHeaders).toEqual(['Content-Length', '10', 'Connection', 'close']);
    expect(deviceReply(short, incoming([], '2')).rawHeaders).toEqual(['Content-Length', '10']);
  });

  test('framing defects are relayed; failures before a usable reply are 502, timeouts 504', () => {
    const mismatch = upstreamExchange({ lengthMismatch: { declared: 10, received: 3 } }, { kind: 'protocol', message: 'body shorter' });
    const trailing = upstreamExchange({ trailing: Buffer.from('x') }, { kind: 'protocol', message: 'body longer' });
    const garbled = upstreamExchange({}, { kind: 'protocol', message: 'response is not valid HTTP/1.1' });
    const timedOut = upstreamExchange({}, { kind: 'timeout', message: 'no response within 300 ms' });
    const refused: Exchange = { index: 0, startedAt: 0, endedAt: 0, request: { headers: {}, body: Buffer.alloc(0) }, error: { kind: 'connect', message: 'connection refused by x:1' } };

    expect(unrelayable(mismatch)).toBeUndefined();
    expect(unrelayable(trailing)).toBeUndefined();
    expect(unrelayable(upstreamExchange({}))).toBeUndefined();
    expect(unrelayable(garbled)).toEqual({ status: 502, reason: 'protocol: response is not valid HTTP/1.1' });
    expect(unrelayable(timedOut)).toEqual({ status: 504, reason: 'timeout: no response within 300 ms' });
    expect(unrelayable(refused)).toEqual({ status: 502, reason: 'connect: connection refused by x:1' });
  });
});
