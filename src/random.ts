/**
 * oreo's random numbers, in one place for every layer.
 *
 * `Rng` is the generator: small, seedable, its whole state a few JSON numbers, so that a
 * checkpointed run (MD, training) continues with exactly the numbers it would have drawn. New
 * code draws from it. Two older streams stay as they are, bit for bit, because recorded splits
 * and committed results were drawn from them (see `SplitStream` and `finetuneOrder` below).
 *
 *
 * Generator: xoshiro128** (Blackman & Vigna), 32-bit words, which JavaScript handles natively
 * without BigInt. Seeding expands the user's seed with the SplitMix32 mixing function, so nearby
 * seeds (0, 1, 2, …) give unrelated streams. Normal deviates use the Box–Muller transform; the
 * second deviate of each pair is kept as part of the state.
 */

/** Everything needed to resume a generator: JSON-safe. */
export interface RngState {
  /** The four 32-bit words of xoshiro128**, as unsigned integers. */
  words: [number, number, number, number];
  /** The unused second Box–Muller deviate, or null. */
  spareNormal: number | null;
}

const TWO_POW_32 = 4294967296;

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** SplitMix32-style finaliser: a bijective scramble of a 32-bit word. */
function mix32(x: number): number {
  x = (x + 0x9e3779b9) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x21f0aaad) >>> 0;
  x = Math.imul(x ^ (x >>> 15), 0x735a2d97) >>> 0;
  return (x ^ (x >>> 15)) >>> 0;
}

export class Rng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  private spare: number | null = null;

  /**
   * @param seed a non-negative integer below 2^53 (any JS safe integer); equal seeds give equal
   * streams on every platform.
   */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new Error(`random seed must be a non-negative integer below 2^53, got ${seed}`);
    }
    const lo = seed >>> 0;
    const hi = Math.floor(seed / TWO_POW_32) >>> 0;
    // Chain the mixer so each word depends on both halves of the seed.
    let x = mix32(lo ^ 0x6a09e667);
    x = mix32(x ^ hi);
    this.s0 = x;
    x = mix32(x ^ 0xbb67ae85);
    this.s1 = x;
    x = mix32(x ^ 0x3c6ef372);
    this.s2 = x;
    x = mix32(x ^ 0xa54ff53a);
    this.s3 = x;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s3 = 1; // the all-zero state is a fixed point
  }

  /** A generator continuing exactly where `state` was taken. */
  static fromState(state: RngState): Rng {
    const w = state?.words;
    if (!Array.isArray(w) || w.length !== 4 || !w.every((v) => Number.isInteger(v) && v >= 0 && v < TWO_POW_32)) {
      throw new Error('random generator state must hold four unsigned 32-bit words');
    }
    if (w.every((v) => v === 0)) throw new Error('random generator state cannot be all zeros');
    if (state.spareNormal !== null && typeof state.spareNormal !== 'number') {
      throw new Error('random generator state: spareNormal must be a number or null');
    }
    const r = new Rng(0);
    [r.s0, r.s1, r.s2, r.s3] = w;
    r.spare = state.spareNormal;
    return r;
  }

  getState(): RngState {
    return { words: [this.s0, this.s1, this.s2, this.s3], spareNormal: this.spare };
  }

  /** Next raw 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  uniform(): number {
    const a = this.nextUint32() >>> 5; // 27 bits
    const b = this.nextUint32() >>> 6; // 26 bits
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** Uniform integer in [0, n) without modulo bias. */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > TWO_POW_32) throw new Error(`Rng.int: n must be an integer in [1, 2^32], got ${n}`);
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** Standard normal deviate (mean 0, variance 1). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    // 1 − u lies in (0, 1], so the logarithm is finite.
    const r = Math.sqrt(-2 * Math.log(1 - this.uniform()));
    const theta = 2 * Math.PI * this.uniform();
    this.spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /** Shuffle an array in place (Fisher–Yates) and return it. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = items[i];
      items[i] = items[j];
      items[j] = t;
    }
    return items;
  }
}

/** A seed for runs where the user gave none: recorded with the run, so it can be replayed. */
export function freshSeed(): number {
  return Math.floor(Math.random() * 2 ** 31) + (Date.now() % 2 ** 20) * 2 ** 31;
}

/**
 * The order of dataset splits, subsets and shard shuffles: a SplitMix32-style hash of a 32-bit
 * counter. Not `Rng`, because the splits recorded with runs (splits.json and its content hashes,
 * data/splits/, the runs behind docs/results*.md) were drawn from this stream and must come out
 * the same; the same seed gives the same order on every machine and Node version.
 */
export class SplitStream {
  private state: number;

  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new Error(`seed must be a finite number, got ${seed}`);
    this.state = (Math.trunc(seed) ^ 0x9e3779b9) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0;
    let x = this.state;
    x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) >>> 0;
    x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35) >>> 0;
    x = (x ^ (x >>> 16)) >>> 0;
    return x / 4294967296;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** The stream's whole state (a 32-bit counter), for a checkpoint. */
  getState(): number {
    return this.state;
  }

  /** A stream that continues exactly where the one whose `getState()` gave `state` stood. */
  static fromState(state: number): SplitStream {
    if (!Number.isInteger(state) || state < 0 || state > 0xffffffff) throw new Error(`SplitStream state must be a 32-bit unsigned integer, got ${state}`);
    const r = new SplitStream(0);
    r.state = state;
    return r;
  }

  /** Fisher–Yates shuffle in place. */
  shuffle<T extends { length: number; [i: number]: unknown }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }
}

/** 0..n−1 in a seeded random order (the split stream). */
export function permutation(n: number, seed: number): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  return new SplitStream(seed).shuffle(p);
}

/** A seed derived from a base seed and a text (e.g. a source name), so sources shuffle independently. */
export function deriveSeed(seed: number, text: string): number {
  let h = (seed ^ 0x811c9dc5) >>> 0;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/**
 * 0..n−1 in the order `oreo finetune --train N --val M` slices into training and validation sets
 * (TorchMD-Net's convention: shuffle, then slice). A 32-bit linear congruential stream, kept
 * because the committed fine-tuning results (docs/results.md, docs/results-polymers.md) were
 * split by it.
 */
export function finetuneOrder(n: number, seed: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  let s = (seed ^ 0x5bd1e995) >>> 0;
  for (let i = order.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = Math.floor((s / 2 ** 32) * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}
