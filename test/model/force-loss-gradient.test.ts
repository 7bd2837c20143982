// Training on forces differentiates a gradient: ∂/∂θ of a loss on F = −∂E/∂r must match central
// finite differences for every parameter (tiny random model, float64).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configFromHyperParameters } from '../../src/model/config.js';
import { createPotential } from '../../src/model/init.js';
import { grad, sub, square, sumAll, add, mulScalar, Tensor } from '../../src/engine/index.js';

const cfg = configFromHyperParameters({
  embedding_dimension: 8, num_layers: 2, num_rbf: 4, num_heads: 2, cutoff_upper: 3.0, precision: 64,
  max_z: 10, vector_cutoff: false,
});

// A bent, slightly asymmetric water dimer: two molecules in one batch, pairs near and far.
const z = Int32Array.from([8, 1, 1, 8, 1, 1]);
const positions = Float64Array.from([
  0, 0, 0, 0.96, 0.05, 0, -0.25, 0.93, 0.1,
  2.9, 0.1, 0.2, 3.3, 0.9, -0.1, 3.5, -0.6, 0.3,
]);
const mol = Int32Array.from([0, 0, 0, 0, 0, 0]);
const fRef = new Tensor(Float64Array.from({ length: 18 }, (_, i) => Math.sin(i)), [6, 3]);

function loss(pot: ReturnType<typeof createPotential>, createGraph: boolean): Tensor {
  const { forces, energy } = pot.predict({ z, positions, mol, nMol: 1 }, { createGraph });
  // Force term plus a small energy term, as in supervised energy+force training.
  return add(sumAll(square(sub(forces, fRef))), mulScalar(sumAll(square(energy)), 0.1));
}

test('force-loss gradient matches finite differences for every parameter', () => {
  const pot = createPotential(cfg, { seed: 3, dtype: 'float64' });
  // Random biases and norms so that no parameter sits at a special value.
  let s = 5;
  for (const [, t] of pot.params) {
    for (let i = 0; i < t.size; i++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      t.data[i] += 0.1 * ((s / 2 ** 32) * 2 - 1);
    }
  }
  const trainable = pot.trainable();
  for (const [, t] of trainable) t.requiresGrad = true;
  const l = loss(pot, true);
  const grads = grad(l, trainable.map(([, t]) => t), { allowUnused: true });
  for (const [, t] of trainable) t.requiresGrad = false;
  const h = 1e-6;
  let worst = 0;
  let where = '';
  let checked = 0;
  trainable.forEach(([name, t], k) => {
    for (let i = 0; i < t.size; i++) {
      const orig = t.data[i];
      t.data[i] = orig + h;
      const lp = loss(pot, false).data[0];
      t.data[i] = orig - h;
      const lm = loss(pot, false).data[0];
      t.data[i] = orig;
      const fd = (lp - lm) / (2 * h);
      const an = grads[k] ? grads[k]!.data[i] : 0;
      const err = Math.abs(fd - an) / Math.max(1, Math.abs(fd));
      if (err > worst) {
        worst = err;
        where = `${name}[${i}]: analytic ${an}, numeric ${fd}`;
      }
      checked++;
    }
  });
  assert.ok(checked > 1000, `checked ${checked} parameters`);
  assert.ok(worst < 1e-6, `worst ${worst} at ${where}`);
});
