/**
 * A seeded generator for everything random that goes into an enrollment message (WS-Addressing MessageIDs, the
 * default DeviceID, hardware ids, the GUIDs a service puts in certificate names), so that the same seed writes the
 * same messages. Keys are not drawn from it: they come from node:crypto.
 */

export interface SeededRandom {
  /** 32 random bits. */
  next(): number;
  /** `n` random bytes. */
  bytes(n: number): Buffer;
  /** An RFC 4122 version-4 UUID in lower case. */
  uuid(): string;
}

/** mulberry32: small, fast and well spread; not for secrets. */
export function seededRandom(seed: number): SeededRandom {
  if (!Number.isInteger(seed)) throw new Error(`seed must be an integer, got ${seed}`);
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  const bytes = (n: number): Buffer => {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i += 4) {
      const word = next();
      for (let j = 0; j < 4 && i + j < n; j++) out[i + j] = (word >>> (8 * j)) & 0xff;
    }
    return out;
  };
  const uuid = (): string => {
    const b = bytes(16);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const hex = b.toString('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  };
  return { next, bytes, uuid };
}
