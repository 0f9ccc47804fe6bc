/**
 * Small timing helpers for benchmarks: warm up until the rate settles, then run for a fixed time and report operations
 * per second (the median of a few windows).
 */
export interface Rate {
  opsPerSec: number;
  /** Megabytes per second when a size per operation is known. */
  mbPerSec?: number;
}

export interface MeasureOptions {
  seconds?: number;
  bytesPerOp?: number;
  /**
   * `wall` (default): elapsed time. `cpu`: this process's CPU time (user + system), for targets stated per core: on a
   * shared machine wall time also counts the waits for a core.
   */
  clock?: 'wall' | 'cpu';
}

/** Microseconds on the chosen clock. */
function clockOf(kind: 'wall' | 'cpu'): () => number {
  if (kind === 'wall') return () => performance.now() * 1000;
  return () => {
    const u = process.cpuUsage();
    return u.user + u.system;
  };
}

/** Runs `fn` in batches of 8 for `budget` microseconds of `clock`; the clock is read per batch (it is a system call). */
function run(fn: () => void, clock: () => number, budget: number): { ops: number; used: number } {
  const start = clock();
  let ops = 0;
  let used = 0;
  while (used < budget) {
    for (let i = 0; i < 8; i++) fn();
    ops += 8;
    used = clock() - start;
  }
  return { ops, used };
}

/**
 * Runs `fn` until its rate settles: the optimising compiler takes a few seconds to reach code as hot as a checker's
 * (and its threads' CPU time counts on the `cpu` clock), so a few calls of warm-up measured the compiler rather than
 * the code. Settled: two windows of 0.2 s in a row within 5 % of each other, after at least one second; at most six.
 */
function warmUp(fn: () => void, clock: () => number): void {
  let previous = 0;
  let elapsed = 0;
  for (;;) {
    const { ops, used } = run(fn, clock, 200_000);
    const rate = ops / used;
    elapsed += used;
    if (elapsed >= 6e6 || (elapsed >= 1e6 && Math.abs(rate - previous) <= 0.05 * previous)) return;
    previous = rate;
  }
}

/** Windows a measurement is split into: their median rate is reported, so that one disturbed window moves nothing. */
const WINDOWS = 5;

export function measure(fn: () => void, opts: MeasureOptions = {}): Rate {
  const clock = clockOf(opts.clock ?? 'wall');
  warmUp(fn, clock);
  const rates: number[] = [];
  for (let w = 0; w < WINDOWS; w++) {
    const { ops, used } = run(fn, clock, ((opts.seconds ?? 1) * 1e6) / WINDOWS);
    rates.push(ops / (used / 1e6));
  }
  const opsPerSec = rates.sort((a, b) => a - b)[Math.floor(WINDOWS / 2)];
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
