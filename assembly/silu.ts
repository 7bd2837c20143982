// SiLU and its first two derivatives from one exponential per element, vectorised:
//
//   σ = 1 / (1 + e^−x),   y = x·σ,   y′ = σ·(1 + x·(1 − σ)),   y″ = σ·(1 − σ)·(2 + x·((1 − σ) − σ))
//
// e^−|x| is computed with a polynomial (WASM has no exp instruction, and calling out to JS's
// Math.exp costs ~20 ns an element): e^−a = 2^−k · e^r with k = nearest(a / ln 2) and
// r = k·ln 2 − a in [−ln2/2, ln2/2], ln 2 split in two parts so that k·ln2_hi is exact; e^r by
// its Taylor series (through r^12 for f64, r^7 for f32: truncation below half an ulp). Using
// e = e^−|x| ≤ 1 keeps σ free of overflow: σ = 1/(1+e) for x ≥ 0, e/(1+e) for x < 0; and
// 1 − σ is the other of the two, never a subtraction (which costs y′ ten f32 ulps at x ≈ 9).
//
// src/engine/kernels/silu.ts is the TypeScript twin: the same f64 operations in the same order,
// so the f64 results agree bit for bit. The f32 path works in f32 and agrees to f32 rounding.
//
// n is rounded up to whole vectors; the caller pads the arrays. A null (0) output is skipped.

const LOG2E: f64 = 1.4426950408889634;
const LN2_HI: f64 = 0.6931471803691238;
const LN2_LO: f64 = 1.9082149292705877e-10;
// Beyond this e^−a would leave the normal range; σ is then 0 or 1 to working precision anyway.
const MAX_A64: f64 = 708;

const LOG2E_F: f32 = 1.44269504;
const LN2_HI_F: f32 = 0.693359375;
const LN2_LO_F: f32 = -2.12194440e-4;
const MAX_A32: f32 = 87;

@inline function c64(x: f64): v128 {
  return f64x2.splat(x);
}

@inline function c32(x: f32): v128 {
  return f32x4.splat(x);
}

export function silu_f64(x: usize, n: i32, y: usize, d1: usize, d2: usize): void {
  const one = c64(1);
  for (let i = 0; i < n; i += 2) {
    const o = <usize>i << 3;
    const v = v128.load(x + o);
    const a = f64x2.min(f64x2.abs(v), c64(MAX_A64));
    const k = f64x2.nearest(f64x2.mul(a, c64(LOG2E)));
    const r = f64x2.add(f64x2.sub(f64x2.mul(k, c64(LN2_HI)), a), f64x2.mul(k, c64(LN2_LO)));
    let p = c64(1.0 / 479001600.0);
    p = f64x2.add(f64x2.mul(p, r), c64(1.0 / 39916800.0));
    p = f64x2.add(f64x2.mul(p, r), c64(1.0 / 3628800.0));
    p = f64x2.add(f64x2.mul(p, r), c64(1.0 / 362880.0));
    p = f64x2.add(f64x2.mul(p, r), c64(1.0 / 40320.0));
    p = f64x2.add(f64x2.mul(p, r), c64(1.0 / 5040.0));
    p = f64x2.add(f64x2.mul(p, r), c64(1.0 / 720.0));
    p = f64x2.add(f64x2.mul(p, r), c64(1.0 / 120.0));
    p = f64x2.add(f64x2.mul(p, r), c64(1.0 / 24.0));
    p = f64x2.add(f64x2.mul(p, r), c64(1.0 / 6.0));
    p = f64x2.add(f64x2.mul(p, r), c64(0.5));
    p = f64x2.add(f64x2.mul(p, r), one);
    p = f64x2.add(f64x2.mul(p, r), one);
    // 2^−k assembled in the exponent field.
    const ki = i64x2.extend_low_i32x4_s(i32x4.trunc_sat_f64x2_s_zero(k));
    const scale = i64x2.shl(i64x2.sub(i64x2.splat(1023), ki), 52);
    const e = f64x2.mul(p, scale);
    const sp = f64x2.div(one, f64x2.add(one, e));
    const es = f64x2.mul(e, sp);
    const pos = f64x2.ge(v, c64(0));
    const s = v128.bitselect(sp, es, pos);
    if (y) v128.store(y + o, f64x2.mul(v, s));
    if (d1 || d2) {
      const t = v128.bitselect(es, sp, pos);
      if (d1) v128.store(d1 + o, f64x2.mul(s, f64x2.add(one, f64x2.mul(v, t))));
      if (d2) v128.store(d2 + o, f64x2.mul(f64x2.mul(s, t), f64x2.add(c64(2), f64x2.mul(v, f64x2.sub(t, s)))));
    }
  }
}

export function silu_f32(x: usize, n: i32, y: usize, d1: usize, d2: usize): void {
  const one = c32(1);
  for (let i = 0; i < n; i += 4) {
    const o = <usize>i << 2;
    const v = v128.load(x + o);
    const a = f32x4.min(f32x4.abs(v), c32(MAX_A32));
    const k = f32x4.nearest(f32x4.mul(a, c32(LOG2E_F)));
    const r = f32x4.add(f32x4.sub(f32x4.mul(k, c32(LN2_HI_F)), a), f32x4.mul(k, c32(LN2_LO_F)));
    let p = c32(<f32>(1.0 / 5040.0));
    p = f32x4.add(f32x4.mul(p, r), c32(<f32>(1.0 / 720.0)));
    p = f32x4.add(f32x4.mul(p, r), c32(<f32>(1.0 / 120.0)));
    p = f32x4.add(f32x4.mul(p, r), c32(<f32>(1.0 / 24.0)));
    p = f32x4.add(f32x4.mul(p, r), c32(<f32>(1.0 / 6.0)));
    p = f32x4.add(f32x4.mul(p, r), c32(0.5));
    p = f32x4.add(f32x4.mul(p, r), one);
    p = f32x4.add(f32x4.mul(p, r), one);
    const scale = i32x4.shl(i32x4.sub(i32x4.splat(127), i32x4.trunc_sat_f32x4_s(k)), 23);
    const e = f32x4.mul(p, scale);
    const sp = f32x4.div(one, f32x4.add(one, e));
    const es = f32x4.mul(e, sp);
    const pos = f32x4.ge(v, c32(0));
    const s = v128.bitselect(sp, es, pos);
    if (y) v128.store(y + o, f32x4.mul(v, s));
    if (d1 || d2) {
      const t = v128.bitselect(es, sp, pos);
      if (d1) v128.store(d1 + o, f32x4.mul(s, f32x4.add(one, f32x4.mul(v, t))));
      if (d2) v128.store(d2 + o, f32x4.mul(f32x4.mul(s, t), f32x4.add(c32(2), f32x4.mul(v, f32x4.sub(t, s)))));
    }
  }
}
