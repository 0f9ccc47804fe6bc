/** Small timing helpers for benchmarks: warm up, then run for a fixed wall time and report operations per second. */
export interface Rate {
  opsPerSec: number;
  /** Megabytes per second when a size per operation is known. */
  mbPerSec?: number;
}

export function measure(fn: () => void, opts: { seconds?: number; bytesPerOp?: number } = {}): Rate {
  const seconds = opts.seconds ?? 1;
  for (let i = 0; i < 3; i++) fn(); // warm-up: let the JIT settle
  let ops = 0;
  const start = process.hrtime.bigint();
  const budget = BigInt(Math.round(seconds * 1e9));
  let elapsed = 0n;
  while (elapsed < budget) {
    fn();
    ops++;
    elapsed = process.hrtime.bigint() - start;
  }
  const opsPerSec = ops / (Number(elapsed) / 1e9);
  return { opsPerSec, mbPerSec: opts.bytesPerOp ? (opsPerSec * opts.bytesPerOp) / 1e6 : undefined };
}

export async function measureAsync(fn: () => Promise<void>, opts: { seconds?: number } = {}): Promise<Rate> {
  const seconds = opts.seconds ?? 1;
  for (let i = 0; i < 3; i++) await fn();
  let ops = 0;
  const start = process.hrtime.bigint();
  const budget = BigInt(Math.round(seconds * 1e9));
  let elapsed = 0n;
  while (elapsed < budget) {
    await fn();
    ops++;
    elapsed = process.hrtime.bigint() - start;
  }
  return { opsPerSec: ops / (Number(elapsed) / 1e9) };
}

export function fmt(n: number, digits = 1): string {
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(digits);
}
