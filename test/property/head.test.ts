// Property heads on the ET encoder: invariance of the predicted property to rotation, translation
// and atom order; equivariance of the noise head; parity of the gated head with the ET's own
// energy head; and loss gradients against finite differences.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { configFromHyperParameters } from '../../src/model/config.js';
import { initParameters } from '../../src/model/init.js';
import { representation } from '../../src/model/et.js';
import { createModel } from '../../src/model/create.js';
import { neighborPairs } from '../../src/model/neighbors.js';
import { attachPropertyHead, PropertyHeadType, PropertyReduce, PropertyModel } from '../../src/model/heads/property.js';
import { readConformations } from '../../src/data/read.js';
import { makeBatch } from '../../src/data/batch.js';
import type { Conformation } from '../../src/data/conformation.js';
import { propertyLoss } from '../../src/train/property/loss.js';
import { Rng } from '../../src/random.js';
import { Tensor, grad, noGrad } from '../../src/engine/index.js';
import { rotation, applyRotation, parameterGradientPairs } from '../model/helpers.js';
import { dataDir } from '../paths.js';

const cfg = configFromHyperParameters({ embedding_dimension: 16, num_layers: 2, num_rbf: 8, num_heads: 4, cutoff_upper: 4, precision: 64 });
const qm9 = await readConformations(join(dataDir, 'qm9', 'metatrain_qm9_reduced_100.xyz'), { limit: 60 });
const molecules = qm9.filter((c) => c.z.length >= 8).slice(0, 3);
assert.equal(molecules.length, 3);

function model(type: PropertyHeadType, reduce: PropertyReduce, seed = 1): PropertyModel {
  const m = attachPropertyHead(cfg, initParameters(cfg, 'float64', seed), 'float64', { task: 'property', type, target: 'homo', unit: 'eV', reduce, mean: -6.5, std: 0.6 }, { seed: seed + 1 });
  m.addNoiseHead(seed + 2);
  return m;
}

function predictOne(m: PropertyModel, c: { z: Int32Array; positions: Float64Array }): number {
  return m.predict({ z: c.z, positions: c.positions })[0];
}

function permuted(c: Conformation, seed: number): Conformation {
  const n = c.z.length;
  const rng = new Rng(seed);
  const idx = [...Array(n).keys()];
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  const z = Int32Array.from(idx, (i) => c.z[i]);
  const positions = new Float64Array(3 * n);
  idx.forEach((i, k) => positions.set(c.positions.subarray(3 * i, 3 * i + 3), 3 * k));
  return { ...c, z, positions };
}

for (const type of ['equivariant-scalar', 'mlp'] as const) {
  for (const reduce of ['sum', 'mean'] as const) {
    test(`${type} head (${reduce}): property invariant to rotation, translation and atom order`, () => {
      const m = model(type, reduce);
      for (const c of molecules) {
        const y = predictOne(m, c);
        const R = rotation(0.3, -1.1, 2.4);
        const yRot = predictOne(m, { z: c.z, positions: applyRotation(R, c.positions, [1.5, -3, 0.25]) });
        const yPerm = predictOne(m, permuted(c, 7));
        assert.ok(Math.abs(yRot - y) < 1e-10, `rotation: ${y} vs ${yRot}`);
        assert.ok(Math.abs(yPerm - y) < 1e-10, `atom order: ${y} vs ${yPerm}`);
      }
      // Not invariant to what matters: a distorted geometry changes the prediction.
      const c = molecules[0];
      const bent = Float64Array.from(c.positions, (x, i) => (i < 3 ? x + 0.3 : x));
      assert.ok(Math.abs(predictOne(m, { z: c.z, positions: bent }) - predictOne(m, c)) > 1e-6);
    });
  }
}

test('a batch of molecules gives the same properties as the molecules one by one', () => {
  const m = model('equivariant-scalar', 'mean');
  const b = makeBatch(molecules);
  const batched = m.predict({ z: b.z, positions: b.positions, mol: b.mol, nMol: b.nMol });
  molecules.forEach((c, i) => assert.ok(Math.abs(batched[i] - predictOne(m, c)) < 1e-10));
});

test('mean reduction divides the summed per-atom outputs by the atom count', () => {
  const sum = model('mlp', 'sum', 4);
  const mean = model('mlp', 'mean', 4);
  for (const c of molecules) {
    const s = (predictOne(sum, c) - sum.head.mean) / sum.head.std;
    const a = (predictOne(mean, c) - mean.head.mean) / mean.head.std;
    assert.ok(Math.abs(s / c.z.length - a) < 1e-12, `${s}/${c.z.length} vs ${a}`);
  }
});

test('noise head is rotation-equivariant: rotating the molecule rotates the predicted noise', () => {
  const m = model('equivariant-scalar', 'sum');
  const c = molecules[1];
  const R = rotation(1.2, 0.4, -0.7);
  const noise = (pos: Float64Array) => noGrad(() => m.forward({ z: c.z, positions: pos }, { noise: true }).noise!.data);
  const expected = applyRotation(R, noise(c.positions));
  const got = noise(applyRotation(R, c.positions));
  for (let i = 0; i < got.length; i++) assert.ok(Math.abs(got[i] - expected[i]) < 1e-10, `component ${i}: ${got[i]} vs ${expected[i]}`);
  assert.ok(Math.max(...got.map(Math.abs)) > 1e-6, 'the noise head must not be identically zero');
});

test('the equivariant-scalar head computes what the ET energy head computes with the same weights', () => {
  const m = model('equivariant-scalar', 'sum', 9);
  const params = initParameters(cfg, 'float64', 9);
  // Copy the property head's weights into the energy head's names.
  for (const [k, t] of m.params) if (k.startsWith('head.output_network.')) params.set(k.replace('head.', 'output_model.'), t);
  const c = molecules[0];
  const mol = new Int32Array(c.z.length);
  const g = { z: c.z, pos: new Tensor(Float64Array.from(c.positions), [c.z.length, 3]), mol, nMol: 1, pairs: neighborPairs(c.positions, mol, cfg.cutoff_upper) };
  const perAtom = noGrad(() => createModel(cfg).output.preReduce(params, representation(cfg, params, g)));
  const expected = Array.from(perAtom.data).reduce((a, b) => a + b, 0);
  const got = (predictOne(m, c) - m.head.mean) / m.head.std;
  assert.ok(Math.abs(got - expected) < 1e-10, `${got} vs ${expected}`);
});

for (const [name, obj] of [
  ['mse', { loss: 'mse', denoise: 0, sigma: 0.005 }],
  ['l1 + denoising', { loss: 'l1', denoise: 0.1, sigma: 0.05 }],
] as const) {
  test(`property loss (${name}): parameter gradients match finite differences`, () => {
    const m = model('equivariant-scalar', 'sum', 11);
    const batch = makeBatch(molecules.slice(0, 2));
    const loss = () => propertyLoss(m, batch, obj, new Rng(5), true).total.data[0];
    let l!: ReturnType<typeof propertyLoss>;
    const pairs = parameterGradientPairs(m.trainable(), () => (l = propertyLoss(m, batch, obj, new Rng(5), true)).total, loss, (t, k) => [(7 * k) % t.size]);
    if (obj.denoise > 0) assert.ok(Number.isFinite(l.parts.denoise) && l.parts.denoise > 0);
    for (const { name: pname, i, analytic: an, fd } of pairs) {
      assert.ok(Math.abs(fd - an) < 1e-6 * Math.max(1, Math.abs(fd)), `${pname}[${i}]: ${an} vs ${fd}`);
    }
    assert.ok(pairs.length > 20);
  });
}
