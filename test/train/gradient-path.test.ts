// The fused training path against the autodiff reference: the same loss and parameter gradients
// for every term of the objectives (ET-OREO, ET-ORE, supervised energy+forces), and the same loss
// curve over a short training run; options it does not cover fall back with a warning.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configFromHyperParameters } from '../../src/model/config.js';
import { createPotential } from '../../src/model/init.js';
import { readMd17Npz } from '../../src/data/md17.js';
import { makeBatch } from '../../src/data/batch.js';
import type { Conformation } from '../../src/data/conformation.js';
import { ObjectiveConfig, ET_OREO, PRESETS } from '../../src/train/objective.js';
import { ObjectiveGradients } from '../../src/train/gradient-path.js';
import { train, paperDefaults } from '../../src/train/trainer.js';
import { calibrateElementEnergies } from '../../src/train/calibrate.js';
import { Rng } from '../../src/random.js';
import type { DType } from '../../src/engine/index.js';
import { dataDir } from '../paths.js';

const hyper = (precision: 32 | 64, extra: Record<string, unknown> = {}) =>
  configFromHyperParameters({ embedding_dimension: 16, num_layers: 2, num_rbf: 8, num_heads: 4, cutoff_upper: 4, prior_model: 'Atomref', precision, ...extra });

const ethanol = readMd17Npz(join(dataDir, 'rmd17', 'rmd17_ethanol_train_01.npz'), { limit: 24 } as never).slice(0, 24);
const offEq: Conformation[] = ethanol.slice(0, 20).map((c) => ({ ...c, kind: 'off-equilibrium' }));
const eq: Conformation[] = ethanol.slice(20, 24).map((c) => ({ z: c.z, positions: c.positions, kind: 'equilibrium' }));

const objectives: [string, ObjectiveConfig][] = [
  ['ET-OREO (forces + zero-force + denoising)', ET_OREO],
  ['ET-ORE (forces only)', PRESETS['et-ore']],
  ['supervised (0.2 energy + 0.8 forces)', PRESETS.supervised],
  ['denoising, score target', { ...ET_OREO, forces: 0, zeroForce: 0, denoiseTarget: 'score' }],
];

function compareStep(obj: ObjectiveConfig, dtype: DType, tol: number): void {
  const pot = createPotential(hyper(dtype === 'float64' ? 64 : 32), { seed: 4, dtype });
  calibrateElementEnergies(pot, offEq);
  const batch = makeBatch([offEq[0], eq[0], offEq[1], eq[1], offEq[2]]);
  const ref = new ObjectiveGradients(pot, obj, 'autodiff').step(batch, new Rng(11));
  const fused = new ObjectiveGradients(pot, obj, 'fused');
  assert.equal(fused.path, 'fused');
  const got = fused.step(batch, new Rng(11));
  assert.ok(Math.abs(got.value - ref.value) <= tol * Math.abs(ref.value), `loss ${got.value} vs ${ref.value}`);
  let scale = 0;
  for (const g of ref.grads) if (g) for (const v of g.data) scale = Math.max(scale, Math.abs(v));
  assert.ok(scale > 0);
  const names = pot.trainable().map(([n]) => n);
  ref.grads.forEach((g, k) => {
    const f = got.grads[k]!;
    if (dtype === 'float32') {
      // Single precision: element-wise rounding of small components reaches 1e-4 on both paths
      // (each is ~1e-6 from float64 per tensor), so compare each tensor as a whole.
      let d = 0, n = 0;
      for (let i = 0; i < f.size; i++) {
        const a = g ? g.data[i] : 0;
        d += (f.data[i] - a) ** 2;
        n += a * a;
      }
      const err = Math.sqrt(d) / Math.max(Math.sqrt(n), scale * 1e-3);
      assert.ok(err <= tol, `${names[k]}: fused and autodiff differ by ${err.toExponential(2)} relative`);
      return;
    }
    for (let i = 0; i < f.size; i++) {
      const a = g ? g.data[i] : 0;
      const err = Math.abs(f.data[i] - a) / Math.max(scale * 1e-3, Math.abs(a));
      assert.ok(err <= tol, `${names[k]}[${i}]: fused ${f.data[i]}, autodiff ${a} (relative ${err.toExponential(2)})`);
    }
  });
}

for (const [label, obj] of objectives) {
  test(`fused step equals autodiff, float64: ${label}`, () => compareStep(obj, 'float64', 1e-8));
}
test('fused step equals autodiff, float32: ET-OREO', () => compareStep(ET_OREO, 'float32', 1e-4));

test('a short training run gives the same loss curve on both paths', () => {
  const curve = (path: 'fused' | 'autodiff') => {
    const pot = createPotential(hyper(64), { seed: 5, dtype: 'float64' });
    calibrateElementEnergies(pot, offEq);
    const out = mkdtempSync(join(tmpdir(), `oreo-path-${path}-`));
    train({
      pot, train: [...offEq.slice(0, 16), ...eq.slice(0, 2)], val: [offEq[17], eq[3]], objective: ET_OREO, outDir: out, quiet: true,
      config: { ...paperDefaults, lr: 1e-3, lrStart: 1e-4, warmupSteps: 2, batchSize: 4, maxSteps: 6, valEvery: 3, seed: 3, trainingPath: path },
    });
    return readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { loss: number; val_loss?: number });
  };
  const a = curve('autodiff'), f = curve('fused');
  assert.equal(f.length, a.length);
  a.forEach((e, i) => {
    assert.ok(Math.abs(f[i].loss - e.loss) <= 1e-8 * Math.abs(e.loss), `step ${i + 1}: loss ${f[i].loss} vs ${e.loss}`);
    if (e.val_loss !== undefined) assert.ok(Math.abs(f[i].val_loss! - e.val_loss) <= 1e-8 * Math.abs(e.val_loss), `step ${i + 1}: val ${f[i].val_loss} vs ${e.val_loss}`);
  });
});

test('a model option the fused path does not cover falls back to autodiff, saying which', () => {
  const pot = createPotential(hyper(64, { vector_cutoff: true }), { seed: 1, dtype: 'float64' });
  const said: string[] = [];
  const g = new ObjectiveGradients(pot, ET_OREO, 'auto', (m) => said.push(m));
  assert.equal(g.path, 'autodiff');
  assert.equal(said.length, 1);
  assert.match(said[0], /vector_cutoff=true/);
  assert.throws(() => new ObjectiveGradients(pot, ET_OREO, 'fused'), /vector_cutoff=true/);
});
