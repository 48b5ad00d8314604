/**
 * A small deterministic PRNG for the fuzzers: sfc32 (Chris Doty-Humphrey's "small fast chaotic" generator, 128 bits
 * of state, passes PractRand to multiple TB), seeded through splitmix32 so any 32-bit seed gives a well-mixed state.
 *
 * Every fuzz case gets its own generator from {@link caseSeed}(runSeed, family, caseIndex), so a failing case can be
 * replayed alone from the three numbers the report prints (stateful targets such as SRTP replay windows may need
 * the cases before it too: replay the whole family with the same seed then).
 */

/** splitmix32 step: a well-distributed 32-bit hash of `x`. */
export function mix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** The seed of case `index` of family number `family` in a run seeded with `seed`. */
export function caseSeed(seed: number, family: number, index: number): number {
  return mix32(mix32(seed ^ Math.imul(family + 1, 0x27d4eb2f)) ^ index);
}

/** A seed from the environment variable `name` (decimal or 0x hex), else `fallback`. */
export function seedFromEnv(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback >>> 0;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new TypeError(`${name} must be a number, got ${v}`);
  return n >>> 0;
}

/** sfc32 with helpers. Not cryptographic; deterministic for a given seed. */
export class Prng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;
  #seed: number;

  constructor(seed: number) {
    this.#seed = 0;
    this.#a = 0;
    this.#b = 0;
    this.#c = 0;
    this.#d = 0;
    this.reseed(seed);
  }

  /** The seed this generator was (re)seeded with (for reports). */
  get seed(): number {
    return this.#seed;
  }

  /** Re-seeds in place (saves an allocation per case). */
  reseed(seed: number): this {
    this.#seed = seed >>> 0;
    this.#a = mix32(seed);
    this.#b = mix32(this.#a ^ 0x6a09e667);
    this.#c = mix32(this.#b ^ 0xbb67ae85);
    this.#d = 1;
    for (let i = 0; i < 12; i++) this.u32();
    return this;
  }

  /** Uniform uint32. */
  u32(): number {
    const a = this.#a;
    const b = this.#b;
    const c = this.#c;
    const d = this.#d;
    const t = (((a + b) | 0) + d) | 0;
    this.#d = (d + 1) | 0;
    this.#a = b ^ (b >>> 9);
    this.#b = (c + (c << 3)) | 0;
    const r = (c << 21) | (c >>> 11);
    this.#c = (r + t) | 0;
    return t >>> 0;
  }

  /** Uniform integer in [0, n) for 0 < n ≤ 2^32 (0 when n ≤ 1). */
  int(n: number): number {
    if (n <= 1) return 0;
    return Math.floor((this.u32() / 0x1_0000_0000) * n);
  }

  /** Uniform integer in [lo, hi] (inclusive). */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.u32() < p * 0x1_0000_0000;
  }

  /** Uniform byte. */
  byte(): number {
    return this.u32() & 0xff;
  }

  /** A uniformly chosen element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick() from an empty array');
    return items[this.int(items.length)] as T;
  }

  /** Index chosen with the given non-negative weights. */
  weighted(weights: readonly number[]): number {
    let total = 0;
    for (const w of weights) total += w;
    let x = this.u32() / 0x1_0000_0000 * total;
    for (let i = 0; i < weights.length; i++) {
      x -= weights[i] as number;
      if (x < 0) return i;
    }
    return weights.length - 1;
  }

  /** Fills `buf[start, end)` with random bytes. */
  fill(buf: Uint8Array, start = 0, end = buf.length): void {
    let i = start;
    while (i + 4 <= end) {
      const v = this.u32();
      buf[i] = v & 0xff;
      buf[i + 1] = (v >>> 8) & 0xff;
      buf[i + 2] = (v >>> 16) & 0xff;
      buf[i + 3] = v >>> 24;
      i += 4;
    }
    while (i < end) buf[i++] = this.byte();
  }

  /** A new Buffer of `n` random bytes. */
  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    this.fill(b);
    return b;
  }

  /**
   * A length in [0, max] biased the way parsers break: mostly small, often near powers of two and 4-byte
   * boundaries, sometimes anything up to `max`.
   */
  length(max: number): number {
    const k = this.int(8);
    if (k < 3) return this.int(Math.min(max, 32) + 1);
    if (k < 5) return Math.min(max, this.int(Math.min(max, 300) + 1));
    if (k === 5) return Math.min(max, Math.max(0, (1 << this.int(12)) + this.range(-2, 2)));
    if (k === 6) return Math.min(max, 4 * this.int(Math.floor(Math.min(max, 400) / 4) + 1));
    return this.int(max + 1);
  }
}
