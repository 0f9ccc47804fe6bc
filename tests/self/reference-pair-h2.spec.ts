/**
 * The reference pair over HTTP/2, as real Windows speaks to its MDM server: the device offers h2 by ALPN, the
 * reference server picks it, and the sessions and their judging are those of HTTP/1.1. A framing defect of the
 * server reaches the device as a malformed h2 response (RFC 9113 8.1.1) and is judged MDM-XML-001.
 */
import { expect, test } from '@playwright/test';
import { runChecks } from '../../harness/checks/finding';
import { SERVER_CHECKS } from '../../harness/checks/server-checks';
import { ReferenceDevice } from '../../harness/device/reference-device';
import { createTestPki, type TestPki } from '../../harness/pki';
import { ReferenceServer } from '../../harness/server/reference-server';
import { SERVER_FAULTS } from '../../harness/server/faults';
import { get } from '../../harness/syncml';

let pki: TestPki;
test.beforeAll(() => {
  pki = createTestPki({ keyType: 'ec' });
});

async function pairOverHttp2(faultName: string | undefined, queue: boolean) {
  const faults = SERVER_FAULTS.filter((f) => f.name === faultName);
  const server = new ReferenceServer({ identity: pki.server, ca: pki.ca.certPem, faults });
  const url = await server.start();
  const device = new ReferenceDevice({ deviceId: pki.deviceId, identity: pki.device, serverCa: pki.ca.certPem, http2: true });
  try {
    if (queue) server.queue(pki.deviceId, get('./DevDetail/SwV'));
    const run = await device.runSession(url);
    const failures = runChecks(SERVER_CHECKS, run.view).filter((f) => f.verdict === 'fail');
    return { run, server: server.transcript.exchanges, failures };
  } finally {
    await device.close();
    await server.stop();
  }
}

test('the basic session over h2: both sides record h2, the server\'s Get is answered, no requirement fails (S1, S2; MDM-TRN-001)', async () => {
  const { run, server, failures } = await pairOverHttp2(undefined, true);

  expect(run.end).toEqual({ reason: 'completed' });
  expect(run.exchanges).toHaveLength(2);
  for (const x of [...run.exchanges, ...server]) {
    expect(x.httpVersion).toBe('2');
    expect(x.tls?.alpnProtocol).toBe('h2');
    expect(x.error).toBeUndefined();
  }
  expect(server).toHaveLength(2);
  expect(server[0]!.request.headers[':path']).toBe('/ManagementServer/MDM.svc?mode=Maintenance&Platform=WoA');
  expect(server[0]!.request.headers['user-agent']).toBe('MSFT OMA DM Client/1.2.0.1');
  expect(run.exchanges[1]!.request.parsed?.message.body.commands.map((c) => c.kind)).toContain('Results');
  expect(server.map((x) => x.request.body.toString())).toEqual(run.exchanges.map((x) => x.request.body.toString()));
  expect(server.map((x) => x.response?.body.toString())).toEqual(run.exchanges.map((x) => x.response?.body.toString()));
  expect(run.view.exchanges[0]!.response?.http?.httpVersion).toBe('2');
  expect(failures.map((f) => f.id)).toEqual([]);
});

for (const [fault, how] of [['content-length-too-large', 'shorter'], ['content-length-too-small', 'longer']] as const) {
  test(`a server fault ${fault} over h2 is a malformed response to the device, judged MDM-XML-001`, async () => {
    const { run, failures } = await pairOverHttp2(fault, false);

    const exchange = run.exchanges[0]!;
    expect(exchange.httpVersion).toBe('2');
    expect(exchange.error?.kind).toBe('protocol');
    expect(exchange.error?.message).toMatch(new RegExp(`^body ${how} than Content-Length \\d+: .*HTTP/2 stream 1.*RFC 9113 8\\.1\\.1`));
    const { declared, received } = exchange.response!.lengthMismatch!;
    expect(received).toBe(exchange.response!.body.length);
    expect(Math.abs(declared - received)).toBe(16);
    expect(failures.map((f) => f.id)).toContain('MDM-XML-001');
    expect(failures.find((f) => f.id === 'MDM-XML-001')?.evidence).toMatch(new RegExp(`${how} than its Content-Length ${declared} \\(a malformed HTTP/2 message, RFC 9113 8\\.1\\.1\\)`));
  });
}
