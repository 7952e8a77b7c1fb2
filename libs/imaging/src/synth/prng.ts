/**
 * Deterministic pseudo-random numbers for the phantom generator.
 *
 * Every sample draws from its own streams, derived by hashing (seed, index, stream id), so that
 * sample i is the same whether it is generated alone, in a different order or in parallel.
 */

const TWO_32 = 4294967296;

/** murmur3's 32-bit finaliser: a good avalanche mix of one 32-bit word. */
export function fmix32(h: number): number {
  let x = h >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/**
 * Hashes an integer seed (any safe integer, negative included) and a list of 32-bit keys into one
 * 32-bit stream seed.
 */
export function deriveSeed(seed: number, ...keys: number[]): number {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer, got ${seed}`);
  const lo = ((seed % TWO_32) + TWO_32) % TWO_32;
  const hi = Math.floor(seed / TWO_32) | 0;
  let h = fmix32(lo ^ 0x9e3779b9);
  h = fmix32(h ^ Math.imul(hi ^ 0x7f4a7c15, 0x85ebca6b));
  for (const key of keys) {
    h = fmix32((h + 0x9e3779b9) ^ fmix32(key >>> 0));
  }
  return h;
}

/** A small, fast generator (mulberry32) with the helpers the phantom needs. */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform 32-bit unsigned integer. */
  uint32(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.uint32() / TWO_32;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Integer uniform in [lo, hi] (both ends included). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** Standard normal deviate (Box-Muller; one of the pair is discarded for simplicity). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }
}

/** The generator of stream `stream` of sample `index` for `seed`. */
export function sampleRandom(seed: number, index: number, stream: number): Random {
  return new Random(deriveSeed(seed, index, stream));
}
