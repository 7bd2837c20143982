// The WASM kernels of the fused training gradient (src/model/fast/train-kernels.ts) against their
// TypeScript twins in training-gradient.ts: the same gradient with one group of kernels switched
// off at a time, everything else equal, float64 and float32; and the dual SiLU against siluJs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configFromHyperParameters } from '../../src/model/config.js';
import { createPotential } from '../../src/model/init.js';
import { FusedTrainingGradient } from '../../src/model/fast/training-gradient.js';
import { trainKernels, trainKernelUse } from '../../src/model/fast/train-kernels.js';
import { siluJs } from '../../src/engine/kernels/index.js';
import { wasmKernels } from '../../src/engine/kernels/wasm.js';
import type { DType, FloatArray } from '../../src/engine/index.js';
import { dimerAndCluster } from './helpers.js';

const { z, positions, mol } = dimerAndCluster;
const dForces = Float64Array.from({ length: 36 }, (_, i) => Math.cos(1.3 * i));
const dEnergy = Float64Array.from([0.4, -0.9]);

type Group = keyof typeof trainKernelUse;

function gradientsWith(hyper: Record<string, unknown>, dtype: DType, off: Group | null): Map<string, FloatArray> {
  const cfg = configFromHyperParameters({
    embedding_dimension: 16, num_layers: 2, num_rbf: 5, num_heads: 2, cutoff_upper: 3.0, max_z: 10,
    precision: dtype === 'float64' ? 64 : 32, ...hyper,
  });
  // The weights are drawn in float64 and rounded once, so both precisions see the same model.
  const ref = createPotential(cfg, { seed: 7, dtype: 'float64' });
  let s = 11;
  for (const [, t] of ref.params) {
    for (let i = 0; i < t.size; i++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      t.data[i] += 0.1 * ((s / 2 ** 32) * 2 - 1);
    }
  }
  const pot = dtype === 'float64' ? ref : createPotential(cfg, { seed: 7, dtype });
  if (pot !== ref) for (const [name, t] of pot.params) t.data.set(ref.params.get(name)!.data);
  const fused = new FusedTrainingGradient(pot);
  const saved = { ...trainKernelUse };
  try {
    if (off) trainKernelUse[off] = false;
    fused.gradients(z, positions, mol, 2, { dForces, dEnergy }); // sizes the WASM work memory
    return fused.gradients(z, positions, mol, 2, { dForces, dEnergy });
  } finally {
    Object.assign(trainKernelUse, saved);
    fused.dispose();
  }
}

function assertClose(got: Map<string, FloatArray>, want: Map<string, FloatArray>, tol: number, what: string): void {
  let scale = 0;
  for (const g of want.values()) for (const v of g) scale = Math.max(scale, Math.abs(v));
  assert.ok(scale > 0, `${what}: all gradients are zero`);
  for (const [name, w] of want) {
    const g = got.get(name);
    assert.ok(g, `${what}: no gradient for ${name}`);
    for (let i = 0; i < w.length; i++) {
      const err = Math.abs(g[i] - w[i]) / Math.max(scale * 1e-3, Math.abs(w[i]));
      assert.ok(err <= tol, `${what}: ${name}[${i}]: kernels ${g[i]}, TypeScript ${w[i]} (relative error ${err.toExponential(2)})`);
    }
  }
}

for (const [label, hyper] of [
  ['defaults', {}],
  ['distance influence keys, 4 heads', { distance_influence: 'keys', num_heads: 4 }],
  ['distance influence values, no neighbour embedding', { distance_influence: 'values', neighbor_embedding: false }],
  ['distance influence none, 3 layers', { distance_influence: 'none', num_layers: 3 }],
] as const) {
  test(`training kernels equal their TypeScript twins, float64: ${label}`, () => {
    assert.ok(wasmKernels(), 'WASM kernels load in Node');
    const all = gradientsWith(hyper, 'float64', null);
    for (const group of Object.keys(trainKernelUse) as Group[]) {
      assertClose(all, gradientsWith(hyper, 'float64', group), 1e-10, `${label}, ${group} off`);
    }
  });
  // float32: the kernels round every product to float32 where the TypeScript loops keep float64
  // until the store, so both are held to the float64 gradient of the same weights, at the
  // accuracy the TypeScript loops themselves reach on these small random models (≈ 3e-3).
  test(`training kernels in float32 are as close to the float64 gradient as their TypeScript twins: ${label}`, () => {
    const want = gradientsWith(hyper, 'float64', null);
    assertClose(gradientsWith(hyper, 'float32', null), want, 1e-2, `${label}, float32, all kernels`);
    for (const group of Object.keys(trainKernelUse) as Group[]) {
      assertClose(gradientsWith(hyper, 'float32', group), want, 1e-2, `${label}, float32, ${group} off`);
    }
  });
}

test('dual SiLU kernel: value, tangent, silu′ and silu″·ẋ as siluJs gives them, exactly n written, in place', () => {
  const k = wasmKernels();
  assert.ok(k);
  for (const sz of [8, 4] as const) {
    const kern = trainKernels(k, sz).siluDual;
    for (const n of [1, 2, 3, 5, 7, 64, 67]) {
      const x = Float64Array.from({ length: n }, (_, i) => 12 * Math.sin(0.7 * i + n) - (i % 3));
      const xT = Float64Array.from({ length: n }, (_, i) => Math.cos(1.1 * i) + 0.5);
      // One block: [x | xT | guard], and [d | dT | guard]; results in place over x and xT.
      const bytes = (2 * n + 8) * sz;
      const pX = k.allocate(bytes), pD = k.allocate(bytes);
      try {
        const view = (p: number): FloatArray => (sz === 4 ? new Float32Array(k.memoryBuffer, p, 2 * n + 8) : new Float64Array(k.memoryBuffer, p, 2 * n + 8));
        const X = view(pX), D = view(pD);
        X.set(x, 0); X.set(xT, n); X.fill(-7, 2 * n); D.fill(-7);
        const xs = Float64Array.from(X.subarray(0, n)), xTs = Float64Array.from(X.subarray(n, 2 * n)); // as stored
        kern(pX, pX + n * sz, n, pX, pX + n * sz, pD, pD + n * sz);
        const y = new Float64Array(n), d1 = new Float64Array(n), d2 = new Float64Array(n);
        siluJs(xs, y, d1, d2, n);
        const tol = sz === 8 ? 1e-15 : 2e-6;
        const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${sz * 8}-bit n=${n} ${what}: ${a} vs ${b}`);
        const Xr = view(pX), Dr = view(pD);
        for (let i = 0; i < n; i++) {
          close(Xr[i], y[i], `y[${i}]`);
          close(Xr[n + i], d1[i] * xTs[i], `ẏ[${i}]`);
          close(Dr[i], d1[i], `silu′[${i}]`);
          close(Dr[n + i], d2[i] * xTs[i], `silu″·ẋ[${i}]`);
        }
        for (let i = 2 * n; i < 2 * n + 8; i++) {
          assert.equal(Xr[i], -7, `${sz * 8}-bit n=${n}: wrote past the tangent half (${i})`);
          assert.equal(Dr[i], -7, `${sz * 8}-bit n=${n}: wrote past silu″·ẋ (${i})`);
        }
        // Without d: the value and tangent only.
        X.set(x, 0); X.set(xT, n);
        D.fill(-7);
        kern(pX, pX + n * sz, n, pX, pX + n * sz, 0, 0);
        const Xs = view(pX), Ds = view(pD);
        for (let i = 0; i < n; i++) close(Xs[n + i], d1[i] * xTs[i], `ẏ without d [${i}]`);
        assert.ok(Ds.every((v: number) => v === -7), 'no d requested, none written');
      } finally {
        k.free(pX);
        k.free(pD);
      }
    }
  }
});
