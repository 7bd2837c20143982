/**
 * Dense matrix multiply in plain TypeScript, register-blocked: the fallback wherever the WASM
 * kernels cannot load, and the path for matrices too small to be worth the copy into WASM
 * memory. Same contract as gemmJs:
 *
 *   C[M×N] = (accumulate ? C : 0) + op(A) · op(B),   row-major, contiguous
 *   op(A) = A (M×K) or Aᵀ with A stored K×M;  op(B) = B (K×N) or Bᵀ with B stored N×K.
 *
 * op(A) and op(B) are first copied into panels laid out in the order the inner loop reads them
 * (4 rows of A, then 4 columns of B, per k), so all four transpose combinations run the same
 * inner loop. That loop keeps a 4×4 block of C in local variables for the whole run of k: 16
 * multiply-adds per 8 loads instead of the naive loop's 1 per 2 loads and a store. Sums are
 * carried in float64 even for Float32Array inputs, rounded once on the store.
 */
import { gemmJs, type FloatArray, type Gemm } from './gemm-js.js';

const MR = 4;
const NR = MR; // packPanels packs both operands, so the block is square
// K is processed in chunks so a packed B panel (KC·NR values) stays in L1.
const KC = 256;

// Packing buffers, reused across calls and grown on demand: no allocation per call.
let packedA = new Float64Array(0);
let packedB = new Float64Array(0);
const edgeTile = new Float64Array(MR * NR);

/**
 * Rows of op(X)[·, k0..k0+kc) → dst as panels of 4 rows, k-major, zero rows below `rows`, where
 * op(X) is X (rows × K, row-major) or, with `trans`, Xᵀ for X stored K × rows. One packer serves
 * both operands because MR = NR: op(A)'s rows are A's panels, and op(B)'s columns are the rows of
 * op(B)ᵀ, i.e. of B with the transpose flag flipped.
 */
function packPanels(trans: boolean, rows: number, K: number, X: FloatArray, k0: number, kc: number, dst: Float64Array): void {
  for (let i0 = 0; i0 < rows; i0 += MR) {
    const n = Math.min(MR, rows - i0);
    let d = i0 * kc;
    if (n === MR && !trans) {
      let x = i0 * K + k0;
      for (let k = 0; k < kc; k++, x++, d += MR) {
        dst[d] = X[x];
        dst[d + 1] = X[x + K];
        dst[d + 2] = X[x + 2 * K];
        dst[d + 3] = X[x + 3 * K];
      }
    } else if (n === MR) {
      let x = k0 * rows + i0;
      for (let k = 0; k < kc; k++, x += rows, d += MR) {
        dst[d] = X[x];
        dst[d + 1] = X[x + 1];
        dst[d + 2] = X[x + 2];
        dst[d + 3] = X[x + 3];
      }
    } else {
      for (let k = k0; k < k0 + kc; k++) {
        for (let r = 0; r < MR; r++) dst[d++] = r < n ? (trans ? X[k * rows + i0 + r] : X[(i0 + r) * K + k]) : 0;
      }
    }
  }
}

/** One MR×NR block of C at offset c0 from packed panels starting at pa[a] and pb[b]. */
function block(kc: number, pa: Float64Array, a: number, pb: Float64Array, b: number, C: FloatArray, c0: number, N: number, accumulate: boolean, rows: number, cols: number): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
  let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
  let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
  const aEnd = a + kc * MR;
  for (; a < aEnd; a += MR, b += NR) {
    const b0 = pb[b], b1 = pb[b + 1], b2 = pb[b + 2], b3 = pb[b + 3];
    const a0 = pa[a], a1 = pa[a + 1], a2 = pa[a + 2], a3 = pa[a + 3];
    c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
    c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
    c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
    c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
  }
  if (rows === MR && cols === NR) {
    const o0 = c0, o1 = c0 + N, o2 = c0 + 2 * N, o3 = c0 + 3 * N;
    if (accumulate) {
      C[o0] += c00; C[o0 + 1] += c01; C[o0 + 2] += c02; C[o0 + 3] += c03;
      C[o1] += c10; C[o1 + 1] += c11; C[o1 + 2] += c12; C[o1 + 3] += c13;
      C[o2] += c20; C[o2 + 1] += c21; C[o2 + 2] += c22; C[o2 + 3] += c23;
      C[o3] += c30; C[o3 + 1] += c31; C[o3 + 2] += c32; C[o3 + 3] += c33;
    } else {
      C[o0] = c00; C[o0 + 1] = c01; C[o0 + 2] = c02; C[o0 + 3] = c03;
      C[o1] = c10; C[o1 + 1] = c11; C[o1 + 2] = c12; C[o1 + 3] = c13;
      C[o2] = c20; C[o2 + 1] = c21; C[o2 + 2] = c22; C[o2 + 3] = c23;
      C[o3] = c30; C[o3 + 1] = c31; C[o3 + 2] = c32; C[o3 + 3] = c33;
    }
    return;
  }
  const t = edgeTile;
  t[0] = c00; t[1] = c01; t[2] = c02; t[3] = c03;
  t[4] = c10; t[5] = c11; t[6] = c12; t[7] = c13;
  t[8] = c20; t[9] = c21; t[10] = c22; t[11] = c23;
  t[12] = c30; t[13] = c31; t[14] = c32; t[15] = c33;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const o = c0 + r * N + c;
      C[o] = accumulate ? C[o] + t[r * NR + c] : t[r * NR + c];
    }
  }
}

export const gemmBlocked: Gemm = (transA, transB, M, N, K, A, B, C, accumulate) => {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    if (!accumulate) C.fill(0, 0, M * N);
    return;
  }
  // A single row or column (matrix-vector) would waste most of each 4×4 block; the simple loop
  // streams it better.
  if (M < MR || N < NR) {
    gemmJs(transA, transB, M, N, K, A, B, C, accumulate);
    return;
  }
  const kcMax = Math.min(K, KC);
  const needA = Math.ceil(M / MR) * MR * kcMax;
  const needB = Math.ceil(N / NR) * NR * kcMax;
  if (packedA.length < needA) packedA = new Float64Array(needA);
  if (packedB.length < needB) packedB = new Float64Array(needB);
  const pa = packedA, pb = packedB;
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = Math.min(KC, K - k0);
    packPanels(transA, M, K, A, k0, kc, pa);
    packPanels(!transB, N, K, B, k0, kc, pb);
    // Later K chunks add onto what the earlier ones wrote.
    const acc = accumulate || k0 > 0;
    for (let j0 = 0; j0 < N; j0 += NR) {
      const cols = Math.min(NR, N - j0);
      for (let i0 = 0; i0 < M; i0 += MR) {
        block(kc, pa, i0 * kc, pb, j0 * kc, C, i0 * N + j0, N, acc, Math.min(MR, M - i0), cols);
      }
    }
  }
};
