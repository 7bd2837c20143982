/**
 * SiLU (x·σ(x)) and its first two derivatives, pure TypeScript: the twin of assembly/silu.ts,
 * doing the same float64 operations in the same order, so that for Float64Array the two agree
 * bit for bit (test/engine/kernels-elementwise.test.ts). Float32Array values are computed in
 * float64 and rounded once; the WASM f32 path agrees with them to f32 rounding.
 *
 *   y = x·σ,   y′ = σ·(1 + x·(1 − σ)),   y″ = σ·(1 − σ)·(2 + x·((1 − σ) − σ))
 *
 * The exponential is a polynomial rather than Math.exp, which V8 calls out of line (≈ 20 ns an
 * element, against ≈ 5 for this one inlined): e^−a = 2^−k·e^r with k = nearest(a/ln2), r in
 * [−ln2/2, ln2/2], e^r by Taylor series through r^12.
 */
import type { FloatArray } from './gemm-js.js';

const LOG2E = 1.4426950408889634;
const LN2_HI = 0.6931471803691238;
const LN2_LO = 1.9082149292705877e-10;
const MAX_A = 708;
// Adding then subtracting 1.5·2^52 rounds a non-negative double below 2^51 to the nearest
// integer, ties to even: the same rounding as WASM's f64x2.nearest.
const ROUNDER = 6755399441055744;

/** 2^−k for k = 0 … 1022, exact (repeated halving of 1). */
const POW2_NEG = new Float64Array(1023);
for (let k = 0, p = 1; k < 1023; k++, p *= 0.5) POW2_NEG[k] = p;

/** e^−a for a ≥ 0 (a above 708 is treated as 708). */
export function expNegative(a: number): number {
  if (a > MAX_A) a = MAX_A;
  const k = a * LOG2E + ROUNDER - ROUNDER;
  const r = k * LN2_HI - a + k * LN2_LO;
  let p = 1 / 479001600;
  p = p * r + 1 / 39916800;
  p = p * r + 1 / 3628800;
  p = p * r + 1 / 362880;
  p = p * r + 1 / 40320;
  p = p * r + 1 / 5040;
  p = p * r + 1 / 720;
  p = p * r + 1 / 120;
  p = p * r + 1 / 24;
  p = p * r + 1 / 6;
  p = p * r + 0.5;
  p = p * r + 1;
  p = p * r + 1;
  return p * POW2_NEG[k];
}

/**
 * For i < n: y[i] = silu(x[i]); d1[i] = silu′(x[i]) and d2[i] = silu″(x[i]) when those arrays
 * are given (null skips them). Any one output may be x itself: x[i] is read before index i of
 * any output is written.
 */
export function siluJs(x: FloatArray, y: FloatArray | null, d1: FloatArray | null, d2: FloatArray | null, n: number = x.length): void {
  for (let i = 0; i < n; i++) {
    const v = x[i];
    const e = expNegative(v < 0 ? -v : v);
    const sp = 1 / (1 + e);
    const es = e * sp;
    // σ(x) and 1 − σ(x) = σ(−x) are these two in some order; no cancellation in 1 − σ.
    const s = v >= 0 ? sp : es;
    if (y !== null) y[i] = v * s;
    if (d1 !== null || d2 !== null) {
      const t = v >= 0 ? es : sp;
      if (d1 !== null) d1[i] = s * (1 + v * t);
      if (d2 !== null) d2[i] = s * t * (2 + v * (t - s));
    }
  }
}
