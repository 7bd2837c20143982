// Dense matrix multiply with 128-bit SIMD, for f32 (f32x4) and f64 (f64x2).
//
//   C[M×N] = (accumulate ? C : 0) + op(A) · op(B),   row-major, contiguous
//   op(A) = A (M×K) or Aᵀ with A stored K×M;  op(B) = B (K×N) or Bᵀ with B stored N×K.
//
// Both operands are first repacked into the layout the inner kernel streams (so transposes cost
// one pass over the inputs, not a slow inner loop): A into panels of MR rows stored k-major
// (MR consecutive values per k), B into panels of NR columns stored k-major (NR consecutive
// values per k). The inner kernel then keeps an MR×NR block of C in registers for a whole run
// of k. K is cut into chunks of KC so that a packed B panel (KC·NR values) stays in L1 and a
// block of MC packed A rows stays in L2.
//
// Pointers are byte offsets into this module's memory; the caller (src/engine/kernels/wasm.ts)
// lays out A, B, C and the scratch area and grows memory as needed. Nothing here allocates.

// MR rows × (2 vectors) columns of C live in 8 accumulators. x64 V8 has 15 usable vector
// registers; 8 accumulators + 2 B vectors + 1 broadcast A + 1 product fit without spills.
const MR: i32 = 4;
const KC: i32 = 256;
const MC: i32 = 128;

@inline function nr<T>(): i32 {
  return 32 / <i32>sizeof<T>();
}

// a·b + c. The relaxed-SIMD build (chosen at load time where the engine supports it) fuses it
// into one FMA instruction: ~1.4× the throughput, and one rounding instead of two.
@inline function madd<T>(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    if (sizeof<T>() == 4) return f32x4.relaxed_madd(a, b, c);
    return f64x2.relaxed_madd(a, b, c);
  }
  return v128.add<T>(c, v128.mul<T>(a, b));
}

@inline function roundUp(x: i32, m: i32): i32 {
  return ((x + m - 1) / m) * m;
}

/** Bytes of scratch gemm needs for these sizes (packed A, packed B, one spill tile). */
export function gemm_work_bytes(M: i32, N: i32, K: i32, elemSize: i32): i32 {
  const nrCols = 32 / elemSize;
  const kc = min(K, KC);
  return (roundUp(M, MR) + roundUp(N, nrCols)) * kc * elemSize + MR * nrCols * elemSize + 64;
}

/** First byte the caller may use for its own buffers. */
export function heap_base(): usize {
  return (__heap_base + 63) & ~(<usize>63);
}

// op(A)[i0.., k0..k0+kc) → dst, panels of MR rows, zero-padded below row M.
function packA<T>(transA: bool, M: i32, K: i32, A: usize, k0: i32, kc: i32, dst: usize): void {
  const sz = <usize>sizeof<T>();
  for (let i0 = 0; i0 < M; i0 += MR) {
    const rows = min(MR, M - i0);
    let d = dst + <usize>(i0 * kc) * sz;
    if (rows == MR) {
      if (!transA) {
        let a0 = A + (<usize>i0 * <usize>K + <usize>k0) * sz;
        const ld = <usize>K * sz;
        let k = 0;
        if (sz == 4) {
          // Four k at a time: one vector from each of the MR rows, transposed in registers
          // (4×4), four vector stores; the scalar loop below takes what is left of kc.
          for (; k + 4 <= kc; k += 4) {
            const r0 = v128.load(a0), r1 = v128.load(a0 + ld), r2 = v128.load(a0 + 2 * ld), r3 = v128.load(a0 + 3 * ld);
            const t0 = v128.shuffle<i32>(r0, r1, 0, 4, 1, 5), t1 = v128.shuffle<i32>(r2, r3, 0, 4, 1, 5);
            const t2 = v128.shuffle<i32>(r0, r1, 2, 6, 3, 7), t3 = v128.shuffle<i32>(r2, r3, 2, 6, 3, 7);
            v128.store(d, v128.shuffle<i64>(t0, t1, 0, 2));
            v128.store(d, v128.shuffle<i64>(t0, t1, 1, 3), 16);
            v128.store(d, v128.shuffle<i64>(t2, t3, 0, 2), 32);
            v128.store(d, v128.shuffle<i64>(t2, t3, 1, 3), 48);
            a0 += 16;
            d += 64;
          }
        }
        for (; k < kc; k++) {
          store<T>(d, load<T>(a0));
          store<T>(d, load<T>(a0 + ld), sz);
          store<T>(d, load<T>(a0 + 2 * ld), 2 * sz);
          store<T>(d, load<T>(a0 + 3 * ld), 3 * sz);
          a0 += sz;
          d += 4 * sz;
        }
      } else {
        // Aᵀ stored K×M: the MR values of one k are adjacent, one 16- or 32-byte copy.
        let a0 = A + (<usize>k0 * <usize>M + <usize>i0) * sz;
        const ld = <usize>M * sz;
        for (let k = 0; k < kc; k++) {
          v128.store(d, v128.load(a0));
          if (sz == 8) v128.store(d, v128.load(a0, 16), 16);
          a0 += ld;
          d += 4 * sz;
        }
      }
    } else {
      for (let k = 0; k < kc; k++) {
        for (let r = 0; r < MR; r++) {
          let v: T = <T>0;
          if (r < rows) {
            const i = <usize>(i0 + r);
            const kk = <usize>(k0 + k);
            v = transA ? load<T>(A + (kk * <usize>M + i) * sz) : load<T>(A + (i * <usize>K + kk) * sz);
          }
          store<T>(d, v);
          d += sz;
        }
      }
    }
  }
}

// op(B)[k0..k0+kc, all columns) → dst, panels of NR columns, zero-padded right of column N.
function packB<T>(transB: bool, N: i32, K: i32, B: usize, k0: i32, kc: i32, dst: usize): void {
  const sz = <usize>sizeof<T>();
  const NR = nr<T>();
  for (let j0 = 0; j0 < N; j0 += NR) {
    const cols = min(NR, N - j0);
    let d = dst + <usize>(j0 * kc) * sz;
    if (!transB) {
      let b0 = B + (<usize>k0 * <usize>N + <usize>j0) * sz;
      const ld = <usize>N * sz;
      if (cols == NR) {
        for (let k = 0; k < kc; k++) {
          v128.store(d, v128.load(b0));
          v128.store(d, v128.load(b0, 16), 16);
          b0 += ld;
          d += 32;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          for (let c = 0; c < NR; c++) store<T>(d + <usize>c * sz, c < cols ? load<T>(b0 + <usize>c * sz) : <T>0);
          b0 += ld;
          d += 32;
        }
      }
    } else {
      // Bᵀ stored N×K: walk each source row contiguously, write with stride NR.
      for (let c = 0; c < NR; c++) {
        let dc = d + <usize>c * sz;
        if (c < cols) {
          let b0 = B + (<usize>(j0 + c) * <usize>K + <usize>k0) * sz;
          for (let k = 0; k < kc; k++) {
            store<T>(dc, load<T>(b0));
            b0 += sz;
            dc += 32;
          }
        } else {
          for (let k = 0; k < kc; k++) {
            store<T>(dc, <T>0);
            dc += 32;
          }
        }
      }
    }
  }
}

// The rows × cols corner of a block spilled to `tile` (rows of NR values) into (or onto) C.
@inline
function fromTile<T>(tile: usize, c: usize, ldc: usize, accumulate: bool, rows: i32, cols: i32): void {
  const sz = <usize>sizeof<T>();
  for (let r = 0; r < rows; r++) {
    const src = tile + <usize>r * 32;
    const dst = c + <usize>r * ldc;
    for (let j = 0; j < cols; j++) {
      const o = <usize>j * sz;
      const v = load<T>(src + o);
      store<T>(dst + o, accumulate ? load<T>(dst + o) + v : v);
    }
  }
}

// One MR×NR block of C from packed panels a (kc·MR values) and b (kc·NR values).
// rows/cols < MR/NR at the bottom/right edge: the block goes through `tile` and only the part
// inside C is written.
@inline
function block<T>(kc: i32, a: usize, b: usize, c: usize, ldc: usize, accumulate: bool, rows: i32, cols: i32, tile: usize): void {
  const sz = <usize>sizeof<T>();
  let c00 = v128.splat<T>(<T>0);
  let c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    let s = v128.load_splat<T>(a);
    c00 = madd<T>(s, b0, c00);
    c01 = madd<T>(s, b1, c01);
    s = v128.load_splat<T>(a, sz);
    c10 = madd<T>(s, b0, c10);
    c11 = madd<T>(s, b1, c11);
    s = v128.load_splat<T>(a, 2 * sz);
    c20 = madd<T>(s, b0, c20);
    c21 = madd<T>(s, b1, c21);
    s = v128.load_splat<T>(a, 3 * sz);
    c30 = madd<T>(s, b0, c30);
    c31 = madd<T>(s, b1, c31);
    a += 4 * sz;
    b += 32;
  }
  if (rows == MR && cols == nr<T>()) {
    if (accumulate) {
      c00 = v128.add<T>(c00, v128.load(c));
      c01 = v128.add<T>(c01, v128.load(c, 16));
      c10 = v128.add<T>(c10, v128.load(c + ldc));
      c11 = v128.add<T>(c11, v128.load(c + ldc, 16));
      c20 = v128.add<T>(c20, v128.load(c + 2 * ldc));
      c21 = v128.add<T>(c21, v128.load(c + 2 * ldc, 16));
      c30 = v128.add<T>(c30, v128.load(c + 3 * ldc));
      c31 = v128.add<T>(c31, v128.load(c + 3 * ldc, 16));
    }
    v128.store(c, c00);
    v128.store(c, c01, 16);
    v128.store(c + ldc, c10);
    v128.store(c + ldc, c11, 16);
    v128.store(c + 2 * ldc, c20);
    v128.store(c + 2 * ldc, c21, 16);
    v128.store(c + 3 * ldc, c30);
    v128.store(c + 3 * ldc, c31, 16);
  } else {
    v128.store(tile, c00);
    v128.store(tile, c01, 16);
    v128.store(tile, c10, 32);
    v128.store(tile, c11, 48);
    v128.store(tile, c20, 64);
    v128.store(tile, c21, 80);
    v128.store(tile, c30, 96);
    v128.store(tile, c31, 112);
    fromTile<T>(tile, c, ldc, accumulate, rows, cols);
  }
}

// The bottom block of a product whose row count leaves one or two rows over (21 atoms: 5 blocks
// of 4, then 1): the same packed panels, but only two rows of accumulators, half the work of a
// full block. Goes through `tile` like any edge block.
@inline
function blockTwoRows<T>(kc: i32, a: usize, b: usize, c: usize, ldc: usize, accumulate: bool, rows: i32, cols: i32, tile: usize): void {
  const sz = <usize>sizeof<T>();
  let c00 = v128.splat<T>(<T>0);
  let c01 = c00, c10 = c00, c11 = c00;
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    let s = v128.load_splat<T>(a);
    c00 = madd<T>(s, b0, c00);
    c01 = madd<T>(s, b1, c01);
    s = v128.load_splat<T>(a, sz);
    c10 = madd<T>(s, b0, c10);
    c11 = madd<T>(s, b1, c11);
    a += <usize>MR * sz;
    b += 32;
  }
  v128.store(tile, c00);
  v128.store(tile, c01, 16);
  v128.store(tile, c10, 32);
  v128.store(tile, c11, 48);
  fromTile<T>(tile, c, ldc, accumulate, rows, cols);
}

// prepacked: B already holds op(B) in packed form (packB_all), chunk by chunk along K.
// Only columns [jBegin, jEnd) of C are computed (jBegin a multiple of NR): two threads split a
// product by columns, each with its own work area, reading the same packed B.
function gemm<T>(transA: bool, transB: bool, M: i32, N: i32, K: i32, A: usize, B: usize, C: usize, accumulate: bool, work: usize, prepacked: bool, jBegin: i32 = 0, jEnd: i32 = N): void {
  if (M <= 0 || N <= 0) return;
  const sz = <usize>sizeof<T>();
  if (K <= 0) {
    if (!accumulate) {
      for (let i = 0; i < M; i++) memory.fill(C + (<usize>i * <usize>N + <usize>jBegin) * sz, 0, <usize>(jEnd - jBegin) * sz);
    }
    return;
  }
  const NR = nr<T>();
  const Np = roundUp(N, NR);
  const kcMax = min(K, KC);
  const packedA = work;
  const scratchB = packedA + <usize>(roundUp(M, MR) * kcMax) * sz;
  const tile = scratchB + <usize>(Np * kcMax) * sz;
  const ldc = <usize>N * sz;
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = min(KC, K - k0);
    packA<T>(transA, M, K, A, k0, kc, packedA);
    let packedB = scratchB;
    if (prepacked) packedB = B + <usize>(Np * k0) * sz;
    else packB<T>(transB, N, K, B, k0, kc, packedB);
    // Later K chunks add onto what the earlier ones wrote.
    const acc = accumulate || k0 > 0;
    for (let ic = 0; ic < M; ic += MC) {
      const iEnd = min(ic + MC, M);
      for (let j0 = jBegin; j0 < jEnd; j0 += NR) {
        const bp = packedB + <usize>(j0 * kc) * sz;
        const cols = min(NR, jEnd - j0);
        for (let i0 = ic; i0 < iEnd; i0 += MR) {
          const rows = min(MR, M - i0);
          const pa = packedA + <usize>(i0 * kc) * sz, pc = C + <usize>i0 * ldc + <usize>j0 * sz;
          if (rows <= 2) blockTwoRows<T>(kc, pa, bp, pc, ldc, acc, rows, cols, tile);
          else block<T>(kc, pa, bp, pc, ldc, acc, rows, cols, tile);
        }
      }
    }
  }
}

/** Bytes packB_* writes for a K×N op(B). */
export function packed_b_bytes(N: i32, K: i32, elemSize: i32): i32 {
  return roundUp(N, 32 / elemSize) * K * elemSize;
}

// All of op(B), chunk after chunk along K, each chunk laid out as gemm packs it: a matrix used
// many times (a weight during MD) is packed once instead of on every call.
function packBAll<T>(transB: bool, N: i32, K: i32, B: usize, dst: usize): void {
  const Np = roundUp(N, nr<T>());
  for (let k0 = 0; k0 < K; k0 += KC) {
    packB<T>(transB, N, K, B, k0, min(KC, K - k0), dst + <usize>(Np * k0) * <usize>sizeof<T>());
  }
}

export function pack_b_f32(transB: bool, N: i32, K: i32, B: usize, dst: usize): void {
  packBAll<f32>(transB, N, K, B, dst);
}

export function pack_b_f64(transB: bool, N: i32, K: i32, B: usize, dst: usize): void {
  packBAll<f64>(transB, N, K, B, dst);
}

export function gemm_f32(transA: bool, transB: bool, M: i32, N: i32, K: i32, A: usize, B: usize, C: usize, accumulate: bool, work: usize): void {
  gemm<f32>(transA, transB, M, N, K, A, B, C, accumulate, work, false);
}

export function gemm_f64(transA: bool, transB: bool, M: i32, N: i32, K: i32, A: usize, B: usize, C: usize, accumulate: bool, work: usize): void {
  gemm<f64>(transA, transB, M, N, K, A, B, C, accumulate, work, false);
}

/** gemm with B from pack_b_f32. */
export function gemm_packed_f32(transA: bool, M: i32, N: i32, K: i32, A: usize, Bp: usize, C: usize, accumulate: bool, work: usize): void {
  gemm<f32>(transA, false, M, N, K, A, Bp, C, accumulate, work, true);
}

export function gemm_packed_f64(transA: bool, M: i32, N: i32, K: i32, A: usize, Bp: usize, C: usize, accumulate: bool, work: usize): void {
  gemm<f64>(transA, false, M, N, K, A, Bp, C, accumulate, work, true);
}

/** gemm_packed for columns [j0, j1) of C only (j0 a multiple of 32 / elemSize). */
export function gemm_packed_cols_f32(tA: bool, M: i32, N: i32, K: i32, A: usize, Bp: usize, C: usize, acc: bool, work: usize, j0: i32, j1: i32): void {
  gemm<f32>(tA, false, M, N, K, A, Bp, C, acc, work, true, j0, j1);
}

export function gemm_packed_cols_f64(tA: bool, M: i32, N: i32, K: i32, A: usize, Bp: usize, C: usize, acc: bool, work: usize, j0: i32, j1: i32): void {
  gemm<f64>(tA, false, M, N, K, A, Bp, C, acc, work, true, j0, j1);
}
