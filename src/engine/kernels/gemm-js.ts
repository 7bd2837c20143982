/**
 * Dense matrix multiply, pure TypeScript: the reference path and the fallback wherever WASM is
 * not available. Row-major, contiguous.
 *
 *   C[M×N] = (accumulate ? C : 0) + op(A) · op(B)
 *   op(A) = A (M×K) or Aᵀ with A stored K×M;  op(B) = B (K×N) or Bᵀ with B stored N×K.
 */
export type FloatArray = Float32Array | Float64Array;

/** The contract every matrix multiply here keeps (this one, the blocked one, WASM's, the dispatcher). */
export type Gemm = (transA: boolean, transB: boolean, M: number, N: number, K: number, A: FloatArray, B: FloatArray, C: FloatArray, accumulate: boolean) => void;

export const gemmJs: Gemm = (transA, transB, M, N, K, A, B, C, accumulate) => {
  if (!accumulate) C.fill(0, 0, M * N);
  if (!transB) {
    // i-k-j order: the inner loop streams a row of B and a row of C.
    for (let i = 0; i < M; i++) {
      const cRow = i * N;
      for (let k = 0; k < K; k++) {
        const a = transA ? A[k * M + i] : A[i * K + k];
        if (a === 0) continue;
        const bRow = k * N;
        for (let j = 0; j < N; j++) C[cRow + j] += a * B[bRow + j];
      }
    }
  } else {
    // B stored N×K: dot products of rows.
    for (let i = 0; i < M; i++) {
      const cRow = i * N;
      for (let j = 0; j < N; j++) {
        const bRow = j * K;
        let s = 0;
        if (transA) for (let k = 0; k < K; k++) s += A[k * M + i] * B[bRow + k];
        else {
          const aRow = i * K;
          for (let k = 0; k < K; k++) s += A[aRow + k] * B[bRow + k];
        }
        C[cRow + j] += s;
      }
    }
  }
};
