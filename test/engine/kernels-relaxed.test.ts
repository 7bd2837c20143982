import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { setFlagsFromString } from 'node:v8';
import { instantiateWasmKernels } from '../../src/engine/kernels/wasm.js';
import { sweep } from './kernels-check.js';

// The relaxed-SIMD (fused multiply-add) build is the one oreo loads in Node (from Node 20, where
// the loader turns V8's flag on itself) and in current browsers. Setting the flag here as well
// (this file runs in its own process) makes this test independent of load order. Newer Node
// versions ignore the flag.
setFlagsFromString('--experimental-wasm-relaxed-simd');

test('the relaxed-SIMD (FMA) gemm matches the naive one for every transpose, size, dtype and accumulate', () => {
  const w = instantiateWasmKernels('relaxed-simd');
  assert.ok(w, 'relaxed-SIMD build did not load');
  assert.equal(w.variant, 'relaxed-simd');
  sweep((tA, tB, M, N, K, A, B, C, acc) => w.gemm(tA, tB, M, N, K, A, B, C, acc));
});

test('in Node the default kernels are the relaxed-SIMD build; OREO_RELAXED_SIMD=0 keeps plain SIMD', () => {
  const url = new URL('../../src/engine/kernels/wasm.js', import.meta.url).href;
  const script = `import(${JSON.stringify(url)}).then((m) => console.log(m.wasmKernels().variant))`;
  const run = (env: Record<string, string>) =>
    spawnSync(process.execPath, [...process.execArgv, '--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, ...env } });
  const fresh = run({});
  assert.equal(fresh.status, 0, fresh.stderr);
  assert.equal(fresh.stdout.trim(), 'relaxed-simd');
  const plain = run({ OREO_RELAXED_SIMD: '0' });
  assert.equal(plain.status, 0, plain.stderr);
  assert.equal(plain.stdout.trim(), 'simd');
});
