import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { instantiateWasmKernels } from '../../src/engine/kernels/wasm.js';
import { sweep } from './kernels-check.js';

// The relaxed-SIMD (fused multiply-add) build is the one Node 22+ and current browsers load,
// but Node 20 accepts it only behind a flag. Turning the flag on here (this file runs in its own
// process) lets CI on Node 20 check the build that users on newer engines get. Newer Node
// versions ignore the flag.
setFlagsFromString('--experimental-wasm-relaxed-simd');

test('the relaxed-SIMD (FMA) gemm matches the naive one for every transpose, size, dtype and accumulate', () => {
  const w = instantiateWasmKernels('relaxed-simd');
  assert.ok(w, 'relaxed-SIMD build did not load');
  assert.equal(w.variant, 'relaxed-simd');
  sweep((tA, tB, M, N, K, A, B, C, acc) => w.gemm(tA, tB, M, N, K, A, B, C, acc));
});
