/**
 * Seeded randomness. Every random choice that can change a message or a verdict (SessionIDs, nonces, device ids,
 * certificate serials, node names, fuzz cases) flows from the run's seed, so the same implementation and the same
 * seed give the same verdicts (`--seed`, printed in the console and recorded in the report).
 *
 * Consumers take their own stream with `fork(label)`: adding a scenario, or one more draw somewhere, never shifts the
 * choices another part of the run makes. Key material is the one exception: keys stay truly random.
 */

/** The seed of a run that names none. */
export const DEFAULT_SEED = 20261207;

/** cyrb128: a fast, well-mixed 128-bit hash of a string, used only to spread a seed and labels into a generator state. */
function hash128(text: string): [number, number, number, number] {
  let h1 = 1779033703;
  let h2 = 3144134277;
  let h3 = 1013904242;
  let h4 = 2773480762;
  for (let i = 0; i < text.length; i++) {
    const k = text.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
}

/** A deterministic generator (sfc32) with a name: the seed and labels it was made from. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(readonly name: string) {
    [this.a, this.b, this.c, this.d] = hash128(name);
    for (let i = 0; i < 12; i++) this.uint32(); // sfc32 wants a few rounds before its output is well mixed
  }

  /** An independent stream for one consumer, named by `label` under this one. */
  fork(label: string): Rng {
    return new Rng(`${this.name}/${label}`);
  }

  uint32(): number {
    this.a >>>= 0;
    this.b >>>= 0;
    this.c >>>= 0;
    this.d >>>= 0;
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** An integer in [min, max). */
  int(min: number, max: number): number {
    if (!(max > min)) throw new RangeError(`empty range [${min}, ${max})`);
    return min + Math.floor((this.uint32() / 0x1_0000_0000) * (max - min));
  }

  bytes(n: number): Buffer {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i += 4) {
      const v = this.uint32();
      for (let j = 0; j < 4 && i + j < n; j++) out[i + j] = (v >>> (8 * j)) & 0xff;
    }
    return out;
  }

  /** `n` bytes as upper-case hex. */
  hex(n: number): string {
    return this.bytes(n).toString('hex').toUpperCase();
  }

  /** A version-4-shaped UUID, upper case, as Windows writes device ids. */
  uuid(): string {
    const b = this.bytes(16);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = b.toString('hex').toUpperCase();
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length)];
  }
}

/** The generator of a run (or of a part of it, named by labels). */
export function seeded(seed: number = DEFAULT_SEED, ...labels: string[]): Rng {
  return new Rng([String(seed), ...labels].join('/'));
}

/** A `--seed` value: a non-negative integer below 2^32. */
export function parseSeed(text: string): number | undefined {
  if (!/^\d{1,10}$/.test(text)) return undefined;
  const n = Number(text);
  return n <= 0xffffffff ? n : undefined;
}
