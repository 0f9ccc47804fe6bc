/**
 * What the judging proxy adds to a round trip: p50 and p95 of one DM round trip of the reference device to the
 * reference server, directly and through the proxy (which groups and judges every session, as the command does), over HTTP/1.1 and h2, on loopback, in the same run. Each
 * device keeps its connection (as Windows does within and across sessions), so the figures are the steady-state
 * forwarding cost, handshakes excluded; direct and proxied round trips alternate in small blocks so that a noisy
 * neighbour weighs on both alike. Target: at most 2 ms added at p50.
 */
import { ReferenceDevice } from '../harness/device/reference-device';
import { percentiles } from '../harness/load/fleet';
import { createTestPki } from '../harness/pki';
import { ProxySessions, ReverseProxy } from '../harness/proxy';
import { MANAGEMENT_PATH, ReferenceServer } from '../harness/server/reference-server';
import { get } from '../harness/syncml';
import { fmt } from './measure';

const BLOCK_SESSIONS = 10;

export async function benchProxy(seconds: number): Promise<string[]> {
  const pki = createTestPki({ keyType: 'ec' });
  const server = new ReferenceServer({ identity: pki.server, ca: pki.ca.certPem });
  const direct = await server.start();
  // As the proxy command runs it: every exchange grouped into its DM session, each session judged as it ends.
  const sessions = new ProxySessions({ role: 'both' });
  const proxy = new ReverseProxy({
    identity: pki.server, deviceCa: pki.ca.certPem, upstream: direct, upstreamIdentity: pki.device, upstreamCa: pki.ca.certPem,
    onExchange: (record) => sessions.add(record),
  });
  const proxied = `${(await proxy.listen()).url}${MANAGEMENT_PATH}`;
  const lines = ['judging proxy, one DM round trip of the reference device to the reference server (connection kept):'];
  try {
    for (const http2 of [false, true]) {
      const version = http2 ? 'HTTP/2  ' : 'HTTP/1.1';
      const devices = [direct, proxied].map((url) => ({
        url,
        device: new ReferenceDevice({ deviceId: pki.deviceId, identity: pki.device, serverCa: pki.ca.certPem, http2 }),
        times: [] as number[],
      }));
      try {
        // Warm-up: connections, handshakes, JIT.
        for (const d of devices) for (let i = 0; i < 5; i++) await roundTrips(server, d.device, d.url, []);
        const deadline = Date.now() + seconds * 1_000;
        while (Date.now() < deadline) {
          for (const d of devices) for (let i = 0; i < BLOCK_SESSIONS; i++) await roundTrips(server, d.device, d.url, d.times);
        }
      } finally {
        for (const d of devices) await d.device.close();
      }
      const [base, through] = devices.map((d) => percentiles(d.times));
      const added = through!.p50 - base!.p50;
      lines.push(
        `  ${version} direct          p50 ${fmt(base!.p50, 2)} ms  p95 ${fmt(base!.p95, 2)} ms  (${devices[0]!.times.length} round trips, baseline)`,
        `  ${version} through proxy   p50 ${fmt(through!.p50, 2)} ms  p95 ${fmt(through!.p95, 2)} ms  added p50 ${fmt(added, 2)} ms`
          + `  ratio ${(through!.p50 / base!.p50).toFixed(2)}  (target: added p50 ≤ 2 ms${added <= 2 ? ', met' : ', NOT MET'})`,
      );
    }
  } finally {
    await proxy.close();
    sessions.close();
    await server.stop();
  }
  lines.push(`  (through the proxy: forwarding, and judging of ${sessions.judged.length} sessions as each ended)`);
  return lines;
}

/** One session with a Get round, each round trip timed on its own. */
async function roundTrips(server: ReferenceServer, device: ReferenceDevice, url: string, times: number[]): Promise<void> {
  server.queue(device.id, get('./DevDetail/SwV'));
  const session = device.openSession(url);
  while (session.next) {
    const started = process.hrtime.bigint();
    const exchange = await session.step();
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
    if (exchange?.error) throw new Error(`benchmark round trip failed: ${exchange.error.kind}: ${exchange.error.message}`);
  }
}
