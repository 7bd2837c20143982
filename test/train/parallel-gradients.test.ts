// Data-parallel training on two threads (src/train/parallel-gradients.ts): the batch's molecules
// are cut in two, a helper thread takes one share, and the two parameter gradients are added.
// The loss is taken on the whole batch, so it must equal one thread's; the gradient may differ
// only by the order of float sums.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { configFromHyperParameters } from '../../src/model/config.js';
import { createPotential } from '../../src/model/init.js';
import { Rng } from '../../src/random.js';
import { readMd17Npz } from '../../src/data/md17.js';
import { makeBatch } from '../../src/data/batch.js';
import { ObjectiveGradients } from '../../src/train/gradient-path.js';
import { ET_OREO, type ObjectiveConfig } from '../../src/train/objective.js';
import { setTrainingThreads, splitMolecules } from '../../src/train/parallel-gradients.js';
import { dataDir } from '../paths.js';

function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-300));
}

test('splitMolecules cuts a batch into two shares of about equal work, in molecule order', () => {
  const sizes = [21, 9, 21, 18, 16, 9, 21];
  const mol = new Int32Array(sizes.flatMap((n, m) => Array(n).fill(m)));
  const [a, b] = splitMolecules(mol, sizes.length)!;
  assert.deepEqual([a.m0, a.m1, b.m0, b.m1], [0, 3, 3, 7]);
  assert.equal(a.a1, 51);
  assert.equal(b.a0, 51);
  assert.equal(b.a1, mol.length);
  assert.equal(splitMolecules(new Int32Array(5), 1), null);
});

test('a fused step on two training threads gives one thread\'s loss and its gradients to float rounding', () => {
  const cfg = configFromHyperParameters({ embedding_dimension: 32, num_layers: 2, num_rbf: 16, num_heads: 4, cutoff_upper: 5, prior_model: 'Atomref' });
  const frames = readMd17Npz(join(dataDir, 'rmd17', 'rmd17_aspirin_test_01.npz')).slice(0, 7);
  const batch = makeBatch(frames.map((c, i) => ({ ...c, kind: i % 3 === 1 ? 'equilibrium' : 'off-equilibrium' })));
  // Every term of ET-OREO, plus an energy term (supervised fine-tuning's).
  const objective: ObjectiveConfig = { ...ET_OREO, energy: 0.2 };
  for (const [dtype, tol] of [['float64', 1e-10], ['float32', 1e-4]] as const) {
    const step = (threads: 1 | 2) => {
      setTrainingThreads(threads);
      const pot = createPotential(cfg, { dtype, seed: 7 });
      const path = new ObjectiveGradients(pot, objective, 'fused');
      try {
        const rng = new Rng(11);
        path.step(batch, rng);
        const r = path.step(batch, rng); // the second step: the helper gets fresh parameters
        assert.equal(path.threads, threads);
        return r;
      } finally {
        path.dispose();
        setTrainingThreads(1);
      }
    };
    const one = step(1);
    const two = step(2);
    assert.ok(Math.abs(two.value - one.value) <= 1e-12 * Math.abs(one.value), `${dtype} loss ${two.value} vs ${one.value}`);
    for (const k of Object.keys(one.parts) as (keyof typeof one.parts)[]) {
      if (Number.isNaN(one.parts[k])) assert.ok(Number.isNaN(two.parts[k]));
      else assert.ok(Math.abs(two.parts[k] - one.parts[k]) <= 1e-12 * Math.abs(one.parts[k]), `${dtype} ${k}`);
    }
    assert.equal(two.grads.length, one.grads.length);
    one.grads.forEach((g, i) => {
      const d = relDiff(two.grads[i]!.data, g!.data);
      assert.ok(d <= tol, `${dtype} gradient ${i}: relative difference ${d}`);
    });
  }
});
