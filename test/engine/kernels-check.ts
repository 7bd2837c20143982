// Shared by the kernel tests: deterministic operands and a comparison of any gemm against the
// naive reference, with a tolerance scaled to K and to the size of the terms summed.
import assert from 'node:assert/strict';
import { gemmJs, type FloatArray } from '../../src/engine/kernels/index.js';

type Ctor = Float32ArrayConstructor | Float64ArrayConstructor;
export type Gemm = typeof gemmJs;

// Deterministic pseudo-random values in [-1, 1) so a failure reproduces.
export function filled(Kind: Ctor, n: number, seed: number): FloatArray {
  const a = new Kind(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    a[i] = ((s >>> 0) / 4294967296) * 2 - 1;
  }
  return a;
}

/**
 * Checks `impl` against the naive reference. The allowed difference per element scales with
 * K and with the size of the terms summed (the two sum in different orders and precisions).
 */
export function agree(impl: Gemm, Kind: Ctor, tA: boolean, tB: boolean, M: number, N: number, K: number, acc: boolean): void {
  const seed = M * 1000003 + N * 1009 + K * 17 + (tA ? 1 : 0) + (tB ? 2 : 0) + (acc ? 4 : 0);
  const A = filled(Kind, M * K, seed);
  const B = filled(Kind, K * N, seed + 1);
  const C0 = filled(Kind, M * N, seed + 2);
  const want = C0.slice();
  const got = C0.slice();
  gemmJs(tA, tB, M, N, K, A, B, want, acc);
  impl(tA, tB, M, N, K, A, B, got, acc);
  const eps = Kind === Float32Array ? 1.2e-7 : 2.3e-16;
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let scale = acc ? Math.abs(C0[i * N + j]) : 0;
      for (let k = 0; k < K; k++) {
        const a = tA ? A[k * M + i] : A[i * K + k];
        const b = tB ? B[j * K + k] : B[k * N + j];
        scale += Math.abs(a * b);
      }
      const tol = 2 * (K + 2) * eps * scale;
      const d = Math.abs(got[i * N + j] - want[i * N + j]);
      if (!(d <= tol)) {
        assert.fail(
          `${Kind.name} tA=${tA} tB=${tB} acc=${acc} M=${M} N=${N} K=${K}: C[${i},${j}] = ${got[i * N + j]}, reference ${want[i * N + j]} (tolerance ${tol})`,
        );
      }
    }
  }
}

const small = [1, 3, 5, 17];
// K = 300 crosses the 256-deep chunking of K in both fast paths; 130 and 33 give ragged edges.
const larger: [number, number, number][] = [
  [33, 130, 7],
  [130, 33, 17],
  [21, 128, 128],
  [17, 5, 300],
  [63, 33, 300],
];

export function sweep(impl: Gemm): void {
  for (const Kind of [Float32Array, Float64Array]) {
    for (const tA of [false, true]) {
      for (const tB of [false, true]) {
        for (const acc of [false, true]) {
          for (const M of small) for (const N of small) for (const K of small) agree(impl, Kind, tA, tB, M, N, K, acc);
          for (const [M, N, K] of larger) agree(impl, Kind, tA, tB, M, N, K, acc);
        }
      }
    }
  }
}

