// The fused training gradient (forward-over-reverse, src/model/fast/training-gradient.ts) must give
// the same parameter gradients as the autodiff path's reverse-over-reverse, for a loss on forces and
// energies, for every model option it accepts: float64 to 1e-8 relative, float32 to 1e-4.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configFromHyperParameters } from '../../src/model/config.js';
import { createPotential } from '../../src/model/init.js';
import { FusedTrainingGradient } from '../../src/model/fast/training-gradient.js';
import { FastEnergyForces } from '../../src/model/fast/energy-forces.js';
import { kernelBackend, setKernelBackend } from '../../src/engine/kernels/index.js';
import { grad, sub, square, sumAll, add, mulScalar, constant, type DType, type FloatArray } from '../../src/engine/index.js';
import { dimerAndCluster } from './helpers.js';

const { z, positions, mol, nMol } = dimerAndCluster;
const fRef = Float64Array.from({ length: 36 }, (_, i) => Math.sin(i));
const eRef = Float64Array.from([0.3, -0.7]);
const wE = 0.1;

function randomise(pot: ReturnType<typeof createPotential>): void {
  let s = 5;
  for (const [, t] of pot.params) {
    for (let i = 0; i < t.size; i++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      t.data[i] += 0.1 * ((s / 2 ** 32) * 2 - 1);
    }
  }
}

function compare(hyper: Record<string, unknown>, dtype: DType, tol: number): void {
  const cfg = configFromHyperParameters({
    embedding_dimension: 8, num_layers: 2, num_rbf: 4, num_heads: 2, cutoff_upper: 3.0, max_z: 10,
    precision: dtype === 'float64' ? 64 : 32, ...hyper,
  });
  const pot = createPotential(cfg, { seed: 3, dtype });
  randomise(pot);
  const trainable = pot.trainable();
  for (const [, t] of trainable) t.requiresGrad = true;
  const { forces, energy } = pot.predict({ z, positions, mol, nMol }, { createGraph: true });
  const loss = add(sumAll(square(sub(forces, constant(fRef, [12, 3], dtype)))),
    mulScalar(sumAll(square(sub(energy, constant(eRef, [2], dtype)))), wE));
  const want = grad(loss, trainable.map(([, t]) => t), { allowUnused: true });
  for (const [, t] of trainable) t.requiresGrad = false;
  const F = forces.data, E = energy.data;
  const dForces = Float64Array.from(F, (f, i) => 2 * (f - fRef[i]));
  const dEnergy = Float64Array.from(E, (e, m) => 2 * wE * (e - eRef[m]));
  const fused = new FusedTrainingGradient(pot);
  // The first call at a new size runs partly on JS arrays (and sizes the WASM work memory), later
  // ones in WASM memory with the pair kernel: both must agree with autodiff.
  for (const call of ['first call', 'second call']) check(call, fused.gradients(z, positions, mol, nMol, { dForces, dEnergy }));
  // With the inference pass that gave the loss its forces, its forward activations stand in for
  // the primal halves of the layers' products; one that ran on other arrays is not used.
  const fast = new FastEnergyForces(pot);
  const elsewhere = Float64Array.from(positions, (x, i) => x + 0.01 * Math.cos(i));
  fast.compute(z, elsewhere, mol, nMol);
  assert.equal(fast.forwardActivations(0, z, positions, mol), null);
  check('inference pass on other positions', fused.gradients(z, positions, mol, nMol, { dForces, dEnergy }, fast));
  fast.compute(z, positions, mol, nMol);
  assert.ok(fast.forwardActivations(1, z, positions, mol)?.vp, 'the inference pass keeps its activations');
  check('with the inference activations', fused.gradients(z, positions, mol, nMol, { dForces, dEnergy }, fast));
  fast.dispose();
  function check(call: string, got: Map<string, FloatArray>): void {
  let scale = 0;
  for (const g of want) if (g) for (const v of g.data) scale = Math.max(scale, Math.abs(v));
  trainable.forEach(([name, t], k) => {
    const g = got.get(name);
    assert.ok(g, `fused path gives no gradient for ${name}`);
    assert.equal(g.length, t.size, name);
    for (let i = 0; i < t.size; i++) {
      const a = want[k] ? want[k]!.data[i] : 0;
      const err = Math.abs(g[i] - a) / Math.max(scale * 1e-3, Math.abs(a));
      assert.ok(err <= tol, `${call}: ${name}[${i}]: fused ${g[i]}, autodiff ${a} (relative error ${err.toExponential(2)})`);
    }
  });
  }
}

for (const [label, hyper] of [
  ['defaults (neighbour embedding, distance influence both)', {}],
  ['no neighbour embedding', { neighbor_embedding: false }],
  ['distance influence keys', { distance_influence: 'keys' }],
  ['distance influence values', { distance_influence: 'values' }],
  ['distance influence none', { distance_influence: 'none' }],
  ['mean reduction, 3 layers, 4 heads', { reduce_op: 'mean', num_layers: 3, num_heads: 4 }],
] as const) {
  test(`fused training gradient equals autodiff, float64: ${label}`, () => compare(hyper, 'float64', 1e-8));
}
test('fused training gradient equals autodiff, float32 defaults', () => compare({}, 'float32', 1e-4));
test('fused training gradient equals autodiff on the TypeScript kernels (no WASM)', () => {
  const previous = kernelBackend();
  setKernelBackend('js');
  try {
    compare({}, 'float64', 1e-8);
  } finally {
    setKernelBackend(previous);
  }
});
