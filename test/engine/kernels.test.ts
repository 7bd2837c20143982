import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  PackedMatrix,
  gemm,
  gemmBlocked,
  gemmJs,
  gemmPacked,
  kernelBackend,
  setKernelBackend,
  wasmAvailable,
} from '../../src/engine/kernels/index.js';
import { instantiateWasmKernels, wasmKernels } from '../../src/engine/kernels/wasm.js';
import { agree, filled, sweep, type Gemm } from './kernels-check.js';

test('blocked TypeScript gemm matches the naive one for every transpose, size, dtype and accumulate', () => {
  sweep(gemmBlocked);
});

test('the WASM SIMD kernels load in Node 20 without flags', () => {
  assert.equal(wasmAvailable(), true);
  assert.ok(instantiateWasmKernels('simd'));
});

test('WASM gemm (plain SIMD build) matches the naive one for every transpose, size, dtype and accumulate', () => {
  const w = instantiateWasmKernels('simd');
  assert.ok(w);
  sweep((tA, tB, M, N, K, A, B, C, acc) => w.gemm(tA, tB, M, N, K, A, B, C, acc));
});

test('gemm with K = 0 gives zeros, or leaves C alone when accumulating', () => {
  for (const impl of [gemmBlocked, gemm] as Gemm[]) {
    for (const Kind of [Float32Array, Float64Array]) {
      const C = filled(Kind, 6, 9);
      const before = C.slice();
      impl(false, false, 2, 3, 0, new Kind(0), new Kind(0), C, true);
      assert.deepEqual(C, before);
      impl(false, false, 2, 3, 0, new Kind(0), new Kind(0), C, false);
      assert.deepEqual(C, new Kind(6));
    }
  }
});

test('only the leading M·N values of C are written when the arrays are longer', () => {
  setKernelBackend('wasm');
  try {
    for (const impl of [gemmBlocked, gemm] as Gemm[]) {
      const A = filled(Float64Array, 5 * 7 + 11, 3);
      const B = filled(Float64Array, 7 * 6 + 4, 4);
      const C = new Float64Array(5 * 6 + 8).fill(42);
      impl(false, false, 5, 6, 7, A, B, C, false);
      const want = new Float64Array(5 * 6);
      gemmJs(false, false, 5, 6, 7, A, B, want, false);
      for (let i = 0; i < 30; i++) assert.ok(Math.abs(C[i] - want[i]) < 1e-12);
      for (let i = 30; i < C.length; i++) assert.equal(C[i], 42);
    }
  } finally {
    setKernelBackend('auto');
  }
});

test('WASM memory grows for a large call and the kernels stay correct for small ones after it', () => {
  const w = wasmKernels();
  assert.ok(w);
  const before = w.memoryBytes;
  agree((tA, tB, M, N, K, A, B, C, acc) => w.gemm(tA, tB, M, N, K, A, B, C, acc), Float64Array, false, true, 300, 200, 260, false);
  assert.ok(w.memoryBytes > before || before > 300 * 200 * 8 * 3);
  agree((tA, tB, M, N, K, A, B, C, acc) => w.gemm(tA, tB, M, N, K, A, B, C, acc), Float32Array, true, false, 5, 3, 17, true);
});

test('the dispatcher gives the same numbers with every backend, and mixed dtypes fall back to JS', () => {
  assert.equal(kernelBackend(), 'auto');
  for (const b of ['js', 'wasm', 'auto'] as const) {
    setKernelBackend(b);
    assert.equal(kernelBackend(), b);
    for (const Kind of [Float32Array, Float64Array]) {
      for (const [M, N, K] of [[2, 2, 2], [21, 128, 32], [33, 5, 130]] as const) agree(gemm, Kind, true, false, M, N, K, true);
    }
  }
  setKernelBackend('wasm');
  const A = filled(Float64Array, 12, 1);
  const B = filled(Float32Array, 20, 2);
  const C = new Float64Array(15);
  gemm(false, false, 3, 5, 4, A, B, C, false);
  const want = new Float64Array(15);
  gemmJs(false, false, 3, 5, 4, A, B, want, false);
  for (let i = 0; i < 15; i++) assert.ok(Math.abs(C[i] - want[i]) < 1e-12, `C[${i}]`);
  setKernelBackend('auto');
  assert.throws(() => setKernelBackend('gpu' as 'js'), /unknown kernel backend/);
});

test('gemmPacked with a prepacked B matches the naive gemm on both backends', () => {
  try {
    for (const b of ['wasm', 'js'] as const) {
      setKernelBackend(b);
      for (const tA of [false, true]) {
        for (const tB of [false, true]) {
          for (const [M, N, K] of [[1, 1, 1], [21, 128, 33], [5, 17, 3], [63, 9, 300]] as const) {
            const viaPacked: Gemm = (a, _b, m, n, k, A, B, C, acc) => {
              const P = new PackedMatrix(tB, k, n, B);
              gemmPacked(a, m, n, k, A, P, C, acc);
              P.dispose();
            };
            for (const Kind of [Float32Array, Float64Array]) for (const acc of [false, true]) agree(viaPacked, Kind, tA, tB, M, N, K, acc);
          }
        }
      }
    }
  } finally {
    setKernelBackend('auto');
  }
});

test('a PackedMatrix is a snapshot, checks its shape, and gives its WASM memory back on dispose', () => {
  const w = wasmKernels();
  assert.ok(w);
  const before = w.residentBytes;
  const B = filled(Float32Array, 128 * 64, 5);
  const A = filled(Float32Array, 21 * 128, 6);
  const P = new PackedMatrix(true, 128, 64, B);
  const first = new Float32Array(21 * 64);
  gemmPacked(false, 21, 64, 128, A, P, first, false);
  assert.ok(w.residentBytes > before);
  B.fill(0);
  const again = new Float32Array(21 * 64);
  gemmPacked(false, 21, 64, 128, A, P, again, false);
  assert.deepEqual(again, first);
  assert.throws(() => gemmPacked(false, 21, 64, 127, A, P, again, false), /matrix is 128×64, call needs 127×64/);
  P.dispose();
  assert.equal(w.residentBytes, before);
  // A freed block is reused: packing and freeing repeatedly does not grow the memory.
  const size = w.memoryBytes;
  for (let i = 0; i < 20; i++) {
    const Q = new PackedMatrix(false, 128, 64, B);
    gemmPacked(false, 21, 64, 128, A, Q, again, false);
    Q.dispose();
  }
  assert.equal(w.memoryBytes, size);
});
