/**
 * Reference peers: full mutual-TLS DM sessions per second (fresh connection and handshake each, package 1, one Get
 * round, close), beside a bare node:https server answering the same requests with canned bodies over the same
 * handshakes: the floor this stack allows. The same session in WBXML, and signed with MS-Signature against a server
 * that verifies every signature, beside it: what each costs, and the bytes each puts on the wire.
 */
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Client } from 'undici';
import { ReferenceDevice, type ReferenceDeviceOptions } from '../harness/device/reference-device';
import { createTestPki } from '../harness/pki';
import { ReferenceServer } from '../harness/server/reference-server';
import { get } from '../harness/syncml';
import { fmt, measureAsync } from './measure';

export async function benchSessions(seconds: number): Promise<string[]> {
  const pki = createTestPki({ keyType: 'ec' });
  const server = new ReferenceServer({ identity: pki.server, ca: pki.ca.certPem });
  const url = await server.start();

  // Canned bodies: what the pair actually exchanges in one session, recorded once.
  const probe = new ReferenceDevice({ deviceId: pki.deviceId, identity: pki.device, serverCa: pki.ca.certPem });
  server.queue(pki.deviceId, get('./DevDetail/SwV'));
  const recorded = await probe.runSession(url);
  await probe.close();
  const bodies = recorded.exchanges.map((x) => ({ request: x.request.body, response: x.response!.body }));

  /** One session of a fresh device against `target` (with one Get queued), as in the recorded bodies. */
  const oneSession = async (target: ReferenceServer, opts: Partial<ReferenceDeviceOptions> = {}) => {
    target.queue(pki.deviceId, get('./DevDetail/SwV'));
    const device = new ReferenceDevice({ deviceId: pki.deviceId, identity: pki.device, serverCa: pki.ca.certPem, ...opts });
    const run = await device.runSession(target.url);
    await device.close();
    if (run.end.reason !== 'completed') throw new Error(`benchmark session ended ${run.view.outcome}`);
    return run;
  };
  const signingServer = new ReferenceServer({ identity: pki.server, ca: pki.ca.certPem, requireSignatures: true });
  await signingServer.start();
  const pair = await measureAsync(async () => void (await oneSession(server)), { seconds });
  const wbxml = await measureAsync(async () => void (await oneSession(server, { encoding: 'wbxml' })), { seconds });
  const signed = await measureAsync(async () => void (await oneSession(signingServer, { signing: {} })), { seconds });
  const wireBytes = async (encoding: 'xml' | 'wbxml') => {
    const run = await oneSession(server, { encoding });
    return run.exchanges.reduce((n, x) => n + x.request.body.byteLength + (x.response?.body.byteLength ?? 0), 0);
  };
  const [xmlBytes, wbxmlBytes] = [await wireBytes('xml'), await wireBytes('wbxml')];
  await signingServer.stop();

  let turn = 0;
  const bare = createServer({ key: pki.server.keyPem, cert: pki.server.certPem, ca: pki.ca.certPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/vnd.syncml.dm+xml' });
      res.end(bodies[turn++ % bodies.length].response);
    });
  });
  await new Promise<void>((r) => bare.listen(0, '127.0.0.1', r));
  const bareUrl = `https://127.0.0.1:${(bare.address() as AddressInfo).port}`;
  const baseline = await measureAsync(async () => {
    turn = 0;
    const client = new Client(bareUrl, { connect: { ca: pki.ca.certPem, cert: pki.device.certPem, key: pki.device.keyPem } });
    for (const b of bodies) {
      const res = await client.request({ method: 'POST', path: '/ManagementServer/MDM.svc', body: b.request, headers: { 'content-type': 'application/vnd.syncml.dm+xml' } });
      await res.body.arrayBuffer();
    }
    await client.close();
  }, { seconds });
  bare.close();
  await server.stop();
  return [
    `reference pair, full mutual-TLS sessions (${bodies.length} round trips each, new connection per session):`,
    `  bare node:https + undici, canned bodies   ${fmt(baseline.opsPerSec)} sessions/s  (baseline)`,
    `  reference device + reference server       ${fmt(pair.opsPerSec)} sessions/s  ratio ${(pair.opsPerSec / baseline.opsPerSec).toFixed(2)}  (${fmt(1000 / pair.opsPerSec, 2)} ms per session)`,
    `  the same in WBXML                         ${fmt(wbxml.opsPerSec)} sessions/s  ratio ${(wbxml.opsPerSec / pair.opsPerSec).toFixed(2)} of XML  (${fmt(1000 / wbxml.opsPerSec, 2)} ms per session)`,
    `  XML, every message signed and verified    ${fmt(signed.opsPerSec)} sessions/s  ratio ${(signed.opsPerSec / pair.opsPerSec).toFixed(2)} of XML  (${fmt(1000 / signed.opsPerSec, 2)} ms per session; EC P-256 device key)`,
    `  bytes on the wire per session: XML ${xmlBytes}, WBXML ${wbxmlBytes} (${((100 * wbxmlBytes) / xmlBytes).toFixed(0)}%)`,
  ];
}
