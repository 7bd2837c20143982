// The force-centric objective and the training loop: gradients of each term against finite
// differences, resume equivalence, and configs refused before training starts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configFromHyperParameters } from '../../src/model/config.js';
import { createPotential } from '../../src/model/init.js';
import { readMd17Npz } from '../../src/data/md17.js';
import { makeBatch } from '../../src/data/batch.js';
import type { Conformation } from '../../src/data/conformation.js';
import { batchLoss, ObjectiveConfig, ET_OREO, objectiveApplies } from '../../src/train/objective.js';
import { train, paperDefaults } from '../../src/train/trainer.js';
import { parsePretrainConfig } from '../../src/train/run-config.js';
import { calibrateElementEnergies } from '../../src/train/calibrate.js';
import { Rng } from '../../src/random.js';
import { parameterGradientPairs } from '../model/helpers.js';
import { dataDir } from '../paths.js';

const tiny = (precision: 32 | 64) =>
  configFromHyperParameters({ embedding_dimension: 8, num_layers: 1, num_rbf: 4, num_heads: 2, cutoff_upper: 4, prior_model: 'Atomref', precision });

const ethanol = readMd17Npz(join(dataDir, 'rmd17', 'rmd17_ethanol_train_01.npz'), { limit: 24 } as never).slice(0, 24);
const offEq: Conformation[] = ethanol.slice(0, 20).map((c) => ({ ...c, kind: 'off-equilibrium' }));
// Equilibrium-labelled copies (no forces), as a QM9/PCQM4Mv2 structure would be.
const eq: Conformation[] = ethanol.slice(20, 24).map((c) => ({ z: c.z, positions: c.positions, kind: 'equilibrium' }));

const terms: [string, Partial<ObjectiveConfig>][] = [
  ['forces', { forces: 1, zeroForce: 0, denoise: 0, energy: 0 }],
  ['zeroForce', { forces: 0, zeroForce: 1, denoise: 0, energy: 0 }],
  ['denoise', { forces: 0, zeroForce: 0, denoise: 1, energy: 0 }],
  ['denoise (score target)', { forces: 0, zeroForce: 0, denoise: 1, energy: 0, denoiseTarget: 'score' }],
  ['energy', { forces: 0, zeroForce: 0, denoise: 0, energy: 1 }],
];

for (const [name, w] of terms) {
  test(`objective term '${name}': parameter gradient matches finite differences`, () => {
    const pot = createPotential(tiny(64), { seed: 2 });
    // Calibrated energies keep the energy term O(1), so finite differences stay accurate.
    calibrateElementEnergies(pot, offEq);
    const obj: ObjectiveConfig = { ...ET_OREO, ...w };
    const batch = makeBatch([offEq[0], eq[0], offEq[1], eq[1]]);
    const loss = () => batchLoss(pot, batch, obj, new Rng(9), false).total.data[0];
    const pairs = parameterGradientPairs(pot.trainable(), () => batchLoss(pot, batch, obj, new Rng(9)).total, loss, (t) => [0, Math.floor(t.size / 2), t.size - 1]);
    for (const { name: pname, i, analytic: an, fd } of pairs) {
      assert.ok(Math.abs(fd - an) < 1e-6 * Math.max(1, Math.abs(fd)), `${pname}[${i}]: ${an} vs ${fd}`);
    }
  });
}

test('denoising target points from the perturbed geometry back to the equilibrium one', () => {
  // With σ tiny, F(r − ε) ≈ F(r) − H·(−ε); the term's target is +ε: check sign via the noise draw.
  const pot = createPotential(tiny(64), { seed: 3 });
  const obj: ObjectiveConfig = { ...ET_OREO, forces: 0, zeroForce: 0, denoise: 1 };
  const batch = makeBatch([eq[0]]);
  const rng = new Rng(4);
  const a = batchLoss(pot, batch, obj, rng, false).parts.denoise;
  assert.ok(Number.isFinite(a) && a > 0);
});

test('an interrupted and resumed run ends with the same weights as an uninterrupted one', () => {
  const cfg = { ...paperDefaults, lr: 1e-3, warmupSteps: 2, valEvery: 3, batchSize: 4, maxSteps: 6, seed: 5 };
  const data = [...offEq.slice(0, 12), ...eq];
  const a = createPotential(tiny(32), { seed: 1 });
  const dirA = mkdtempSync(join(tmpdir(), 'oreo-train-a-'));
  train({ pot: a, train: data, val: offEq.slice(12, 16), objective: ET_OREO, config: cfg, outDir: dirA, quiet: true });
  const b = createPotential(tiny(32), { seed: 1 });
  const dirB = mkdtempSync(join(tmpdir(), 'oreo-train-b-'));
  train({ pot: b, train: data, val: offEq.slice(12, 16), objective: ET_OREO, config: cfg, outDir: dirB, quiet: true, stopAfter: 3 });
  const b2 = createPotential(tiny(32), { seed: 77 }); // different init: the checkpoint must overwrite it
  train({ pot: b2, train: data, val: offEq.slice(12, 16), objective: ET_OREO, config: cfg, outDir: dirB, quiet: true, resume: true });
  for (const [name, t] of a.params) assert.deepEqual([...b2.params.get(name)!.data], [...t.data], name);
});

test('training lowers the force loss on a small set', () => {
  const pot = createPotential(tiny(32), { seed: 1 });
  const dir = mkdtempSync(join(tmpdir(), 'oreo-train-c-'));
  const cfg = { ...paperDefaults, lr: 3e-3, warmupSteps: 1, valEvery: 20, batchSize: 10, maxSteps: 40, seed: 1 };
  const before = batchLoss(pot, makeBatch(offEq.slice(0, 10)), ET_OREO, new Rng(1), false).parts.forces;
  train({ pot, train: offEq.slice(0, 10), val: offEq.slice(10, 14), objective: { ...ET_OREO, zeroForce: 0, denoise: 0 }, config: cfg, outDir: dir, quiet: true });
  const after = batchLoss(pot, makeBatch(offEq.slice(0, 10)), ET_OREO, new Rng(1), false).parts.forces;
  assert.ok(after < 0.85 * before, `force loss ${before} → ${after}`);
});

test('per-element energy calibration brings energies to the labels', () => {
  const pot = createPotential(tiny(64), { seed: 1 });
  const { mae, refs } = calibrateElementEnergies(pot, offEq);
  // Ethanol energies spread by < 1 eV over these frames; an uncalibrated model is ~4 keV off.
  assert.ok(mae < 0.5, `MAE after calibration ${mae} eV`);
  assert.deepEqual(Object.keys(refs).map(Number).sort((x, y) => x - y), [1, 6, 8]);
  const e = pot.energy(makeBatch([offEq[0]])).data[0];
  assert.ok(Math.abs(e - offEq[0].energy!) < 1, `${e} vs ${offEq[0].energy}`);
});

test('bad configs fail before training, naming the key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'oreo-cfg-'));
  const file = join(dir, 'c.json');
  writeFileSync(file, '{}');
  const src = { name: 'a', path: join(dataDir, 'rmd17', 'rmd17_ethanol_train_01.npz'), kind: 'off-equilibrium' };
  const cases: [unknown, RegExp][] = [
    [{ data: { sources: [src] }, bogus: 1 }, /unknown key 'bogus'/],
    [{ data: { sources: [src] }, training: { lr: -1 } }, /lr must be a positive number/],
    [{ data: { sources: [{ ...src, path: '/nope.npz' }] } }, /does not exist/],
    [{ data: { sources: [{ ...src, kind: 'transition-state' }] } }, /kind must be 'equilibrium' or 'off-equilibrium'/],
    [{ data: { sources: [src] }, training: { warmup: 3 } }, /unknown key 'training.warmup'/],
    [{ data: { sources: [src] }, objective: 'et-oreo-x' }, /unknown objective/],
  ];
  for (const [raw, re] of cases) assert.throws(() => parsePretrainConfig(raw, file), re);
});

test('et-ore leaves out the equilibrium structures it has no term for, instead of failing on a batch of them', () => {
  const obj: ObjectiveConfig = { ...ET_OREO, zeroForce: 0, denoise: 0 };
  assert.equal(objectiveApplies(eq[0], obj), false);
  assert.equal(objectiveApplies(offEq[0], obj), true);
  assert.equal(objectiveApplies(eq[0], ET_OREO), true);
  const pot = createPotential(tiny(32), { seed: 5 });
  const out = mkdtempSync(join(tmpdir(), 'oreo-etore-'));
  // The validation set holds only equilibrium structures besides one off-equilibrium frame; a
  // batch of them alone used to stop the run.
  const r = train({
    pot, train: [...eq, ...offEq.slice(0, 4)], val: [...eq, offEq[5]], objective: obj, outDir: out, quiet: true,
    config: { ...paperDefaults, lr: 1e-4, lrStart: 1e-5, warmupSteps: 1, valEvery: 2, batchSize: 4, maxSteps: 4, seed: 1 },
  });
  assert.equal(r.steps, 4);
  assert.ok(Number.isFinite(r.bestVal));
});
