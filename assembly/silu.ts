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

// Constants live in a data segment and are broadcast from memory (one instruction each); V8
// would otherwise rebuild every vector constant inside the loop, three instructions apiece.
const K64 = memory.data<f64>([
  1.0, 708.0, 1.4426950408889634, 0.6931471803691238, 1.9082149292705877e-10, 6755399441055744.0, 2.0, 0.5,
  1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0, 1.0 / 362880.0, 1.0 / 40320.0, 1.0 / 5040.0,
  1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0,
]);
const K32 = memory.data<f32>([
  1.0, 87.0, 1.44269504, 0.693359375, -2.12194440e-4, 12582912.0, 2.0, 0.5,
  <f32>(1.0 / 5040.0), <f32>(1.0 / 720.0), <f32>(1.0 / 120.0), <f32>(1.0 / 24.0), <f32>(1.0 / 6.0),
]);
// Slots of the tables above.
const ONE = 0, MAX_A = 1, LOG2E = 2, LN2_HI = 3, LN2_LO = 4, ROUNDER = 5, TWO = 6, HALF = 7, TAYLOR = 8;

@inline function k64(slot: i32): v128 {
  return v128.load64_splat(K64 + <usize>(slot << 3));
}

@inline function k32(slot: i32): v128 {
  return v128.load32_splat(K32 + <usize>(slot << 2));
}

// SiLU on a dual number (value x, tangent ẋ), in one pass, for the fused training gradient:
//   y = silu(x), ẏ = silu′(x)·ẋ; with d (non-null) also d = silu′(x), ḋ = silu″(x)·ẋ.
// Each output may be the same array as an input (both are read before anything is written).
// Exactly n values are written (the last partial vector lane by lane, from registers: no static
// scratch, which two threads on a shared memory would race on), so the value and tangent halves
// of one buffer may sit back to back. Same formulas as silu_f32 / silu_f64.
@inline function storeFirst<T>(dst: usize, v: v128, count: i32): void {
  if (sizeof<T>() == 4) {
    store<f32>(dst, f32x4.extract_lane(v, 0));
    if (count > 1) store<f32>(dst, f32x4.extract_lane(v, 1), 4);
    if (count > 2) store<f32>(dst, f32x4.extract_lane(v, 2), 8);
  } else {
    store<f64>(dst, f64x2.extract_lane(v, 0));
  }
}

/** e^−|v| per lane, f64x2 (the polynomial above). */
@inline function expNegAbs64(v: v128): v128 {
  // pmin keeps a NaN input NaN, as the TypeScript `if (a > MAX) a = MAX` does.
  const a = f64x2.pmin(f64x2.abs(v), k64(MAX_A));
  // Adding 1.5·2^52 rounds to an integer (ties to even) and leaves k in the low mantissa bits.
  const t = f64x2.add(f64x2.mul(a, k64(LOG2E)), k64(ROUNDER));
  const k = f64x2.sub(t, k64(ROUNDER));
  const r = f64x2.add(f64x2.sub(f64x2.mul(k, k64(LN2_HI)), a), f64x2.mul(k, k64(LN2_LO)));
  let p = k64(TAYLOR);
  // Kept as a loop: measured faster in V8 than the unrolled chain (fewer constants live at once).
  for (let c = 1; c < 10; c++) p = f64x2.add(f64x2.mul(p, r), k64(TAYLOR + c));
  p = f64x2.add(f64x2.mul(p, r), k64(HALF));
  p = f64x2.add(f64x2.mul(p, r), k64(ONE));
  p = f64x2.add(f64x2.mul(p, r), k64(ONE));
  // 2^−k built in the exponent field: (1023 − k) << 52, with k = bits(t) − bits(1.5·2^52).
  const scale = i64x2.shl(i64x2.sub(i64x2.add(v128.load64_splat(K64 + (ROUNDER << 3)), i64x2.splat(1023)), t), 52);
  return f64x2.mul(p, scale);
}

export function silu_f64(x: usize, n: i32, y: usize, d1: usize, d2: usize): void {
  for (let i = 0; i < n; i += 2) {
    const o = <usize>i << 3;
    const v = v128.load(x + o);
    const e = expNegAbs64(v);
    const one = k64(ONE);
    const sp = f64x2.div(one, f64x2.add(one, e));
    const es = f64x2.mul(e, sp);
    const pos = f64x2.ge(v, f64x2.splat(0));
    const s = v128.bitselect(sp, es, pos);
    if (y) v128.store(y + o, f64x2.mul(v, s));
    if (d1 || d2) {
      const u = v128.bitselect(es, sp, pos);
      if (d1) v128.store(d1 + o, f64x2.mul(s, f64x2.add(one, f64x2.mul(v, u))));
      if (d2) v128.store(d2 + o, f64x2.mul(f64x2.mul(s, u), f64x2.add(k64(TWO), f64x2.mul(v, f64x2.sub(u, s)))));
    }
  }
}

export function silu_dual_f64(x: usize, xT: usize, n: i32, y: usize, yT: usize, d: usize, dT: usize): void {
  const one = k64(ONE);
  for (let i = 0; i < n; i += 2) {
    const o = <usize>i << 3;
    const v = v128.load(x + o), vt = v128.load(xT + o);
    const e = expNegAbs64(v);
    const sp = f64x2.div(one, f64x2.add(one, e));
    const es = f64x2.mul(e, sp);
    const pos = f64x2.ge(v, f64x2.splat(0));
    const s = v128.bitselect(sp, es, pos);
    const u = v128.bitselect(es, sp, pos);
    const g1 = f64x2.mul(s, f64x2.add(one, f64x2.mul(v, u)));
    const yv = f64x2.mul(v, s), ytv = f64x2.mul(g1, vt);
    let dtv = yv;
    if (d) dtv = f64x2.mul(f64x2.mul(f64x2.mul(s, u), f64x2.add(k64(TWO), f64x2.mul(v, f64x2.sub(u, s)))), vt);
    if (i + 2 <= n) {
      v128.store(y + o, yv);
      v128.store(yT + o, ytv);
      if (d) {
        v128.store(d + o, g1);
        v128.store(dT + o, dtv);
      }
    } else {
      const m = n - i;
      storeFirst<f64>(y + o, yv, m);
      storeFirst<f64>(yT + o, ytv, m);
      if (d) {
        storeFirst<f64>(d + o, g1, m);
        storeFirst<f64>(dT + o, dtv, m);
      }
    }
  }
}

/** e^−|v| per lane, f32x4 (the polynomial above). */
@inline function expNegAbs32(v: v128): v128 {
  const a = f32x4.pmin(f32x4.abs(v), k32(MAX_A));
  const t = f32x4.add(f32x4.mul(a, k32(LOG2E)), k32(ROUNDER));
  const k = f32x4.sub(t, k32(ROUNDER));
  const r = f32x4.add(f32x4.sub(f32x4.mul(k, k32(LN2_HI)), a), f32x4.mul(k, k32(LN2_LO)));
  let p = k32(TAYLOR);
  for (let c = 1; c < 5; c++) p = f32x4.add(f32x4.mul(p, r), k32(TAYLOR + c));
  p = f32x4.add(f32x4.mul(p, r), k32(HALF));
  p = f32x4.add(f32x4.mul(p, r), k32(ONE));
  p = f32x4.add(f32x4.mul(p, r), k32(ONE));
  const scale = i32x4.shl(i32x4.sub(i32x4.add(v128.load32_splat(K32 + (ROUNDER << 2)), i32x4.splat(127)), t), 23);
  return f32x4.mul(p, scale);
}

export function silu_f32(x: usize, n: i32, y: usize, d1: usize, d2: usize): void {
  for (let i = 0; i < n; i += 4) {
    const o = <usize>i << 2;
    const v = v128.load(x + o);
    const e = expNegAbs32(v);
    const one = k32(ONE);
    const sp = f32x4.div(one, f32x4.add(one, e));
    const es = f32x4.mul(e, sp);
    const pos = f32x4.ge(v, f32x4.splat(0));
    const s = v128.bitselect(sp, es, pos);
    if (y) v128.store(y + o, f32x4.mul(v, s));
    if (d1 || d2) {
      const u = v128.bitselect(es, sp, pos);
      if (d1) v128.store(d1 + o, f32x4.mul(s, f32x4.add(one, f32x4.mul(v, u))));
      if (d2) v128.store(d2 + o, f32x4.mul(f32x4.mul(s, u), f32x4.add(k32(TWO), f32x4.mul(v, f32x4.sub(u, s)))));
    }
  }
}

export function silu_dual_f32(x: usize, xT: usize, n: i32, y: usize, yT: usize, d: usize, dT: usize): void {
  const one = k32(ONE);
  for (let i = 0; i < n; i += 4) {
    const o = <usize>i << 2;
    const v = v128.load(x + o), vt = v128.load(xT + o);
    const e = expNegAbs32(v);
    const sp = f32x4.div(one, f32x4.add(one, e));
    const es = f32x4.mul(e, sp);
    const pos = f32x4.ge(v, f32x4.splat(0));
    const s = v128.bitselect(sp, es, pos);
    const u = v128.bitselect(es, sp, pos);
    const g1 = f32x4.mul(s, f32x4.add(one, f32x4.mul(v, u)));
    const yv = f32x4.mul(v, s), ytv = f32x4.mul(g1, vt);
    let dtv = yv;
    if (d) dtv = f32x4.mul(f32x4.mul(f32x4.mul(s, u), f32x4.add(k32(TWO), f32x4.mul(v, f32x4.sub(u, s)))), vt);
    if (i + 4 <= n) {
      v128.store(y + o, yv);
      v128.store(yT + o, ytv);
      if (d) {
        v128.store(d + o, g1);
        v128.store(dT + o, dtv);
      }
    } else {
      const m = n - i;
      storeFirst<f32>(y + o, yv, m);
      storeFirst<f32>(yT + o, ytv, m);
      if (d) {
        storeFirst<f32>(d + o, g1, m);
        storeFirst<f32>(dT + o, dtv, m);
      }
    }
  }
}
