/**
 * Memory of the device fleet simulator: resident memory per simulated device with 1,000 and 10,000 devices (each
 * with its own minted identity), and the peak while the 10,000-device fleet checks in.
 */
import { startEmbeddedServer } from '../harness/iut/embedded-server';
import { mintFleet, runFleet } from '../harness/load/fleet';
import { createTestPki } from '../harness/pki';
import { fmt } from './measure';

const mb = (bytes: number) => bytes / (1024 * 1024);

export async function benchFleet(sessions: number): Promise<string[]> {
  const pki = createTestPki({ keyType: 'ec' });
  global.gc?.();
  const base = process.memoryUsage().rss;
  const small = mintFleet(pki, 1_000);
  const afterSmall = process.memoryUsage().rss;
  const large = [...small, ...mintFleet(pki, 9_000)];
  const afterLarge = process.memoryUsage().rss;
  const server = await startEmbeddedServer({ pki, mutualTlsOnly: true });
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
  const result = await runFleet({ url: server.target.url, pki, devices: large.length, concurrency: 32, sessions }, large);
  clearInterval(sampler);
  await server.stop();
  return [
    'device fleet memory (resident set):',
    `  process before the fleet                 ${fmt(mb(base))} MB  (baseline)`,
    `  1,000 devices                            +${fmt(mb(afterSmall - base))} MB  = ${fmt((afterSmall - base) / 1_000 / 1024, 2)} KB per device`,
    `  10,000 devices                           +${fmt(mb(afterLarge - base))} MB  = ${fmt((afterLarge - base) / 10_000 / 1024, 2)} KB per device`,
    `  peak while ${result.sessions} sessions ran (concurrency 32)   ${fmt(mb(peak))} MB  (${fmt(result.sessionsPerSecond)} sessions/s)`,
  ];
}
