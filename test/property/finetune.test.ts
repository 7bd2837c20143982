// Property fine-tuning end to end on the bundled QM9 molecules: the CLI run completes and writes a
// model whose `oreo eval` MAE (meV) agrees with `oreo predict`'s values; a target the data does
// not have is refused before training, naming the keys there are; training fits; an interrupted
// run resumes to the same weights; the cosine schedule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configFromHyperParameters } from '../../src/model/config.js';
import { createPotential, initParameters } from '../../src/model/init.js';
import { saveModel } from '../../src/model/io/native.js';
import { attachPropertyHead, PropertyModel } from '../../src/model/heads/property.js';
import { readConformations } from '../../src/data/read.js';
import { finetuneProperty, propertyTrainingDefaults } from '../../src/train/property/finetune.js';
import { propertyLoss, PropertyObjective } from '../../src/train/property/loss.js';
import { evaluateProperty } from '../../src/train/property/evaluate.js';
import { targetValues } from '../../src/train/property/targets.js';
import { standardization } from '../../src/train/property/standardize.js';
import { train, TrainTask } from '../../src/train/trainer.js';
import { LrSchedule } from '../../src/train/schedule.js';
import { ET_OREO } from '../../src/train/objective.js';
import { runOreo } from '../cli.js';
import { dataDir } from '../paths.js';

const qm9File = join(dataDir, 'qm9', 'metatrain_qm9_reduced_100.xyz');
const tinyConfig = configFromHyperParameters({ embedding_dimension: 8, num_layers: 1, num_rbf: 4, num_heads: 2, cutoff_upper: 4, prior_model: 'Atomref' });
const workDir = mkdtempSync(join(tmpdir(), 'oreo-prop-ft-'));
// Stands in for a pre-trained energy model: what matters here is the pipeline, not the weights.
const pretrained = join(workDir, 'pretrained.oreo');
saveModel(createPotential(tinyConfig, { seed: 2 }), pretrained);

test('oreo finetune --task property on bundled QM9 completes; eval reports the MAE in meV that predict implies', () => {
  const out = join(workDir, 'run-homo');
  const ft = runOreo(['finetune', '--task', 'property', '--target', 'homo', '--from', pretrained, '--data', qm9File, '--train', '40', '--val', '10', '--steps', '20', '--warmup', '5', '--val-every', '10', '--batch', '10', '--out', out]);
  assert.equal(ft.status, 0, ft.stderr);
  assert.match(ft.stdout, /test MAE \(homo, 50 molecules\): [\d.]+ meV/);
  for (const f of ['model.oreo', 'best.oreo', 'log.jsonl', 'loss.svg', 'test-metrics.json', 'test-predictions.json']) assert.ok(existsSync(join(out, f)), f);
  const metrics = JSON.parse(readFileSync(join(out, 'test-metrics.json'), 'utf8'));
  assert.equal(metrics.unit, 'eV');
  assert.equal(metrics.molecules, 50);
  assert.ok(Math.abs(metrics.mae_meV - 1000 * metrics.mae) < 1e-9);
  const log = readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(log.length, 20);
  assert.ok(log.filter((r) => r.val_mae_meV !== undefined).length === 2, 'validation MAE logged every 10 steps');

  const ev = runOreo(['eval', '--model', join(out, 'model.oreo'), '--data', qm9File, '--limit', '30']);
  assert.equal(ev.status, 0, ev.stderr);
  const r = JSON.parse(ev.stdout);
  assert.equal(r.target, 'homo');
  assert.equal(r.molecules, 30);
  assert.ok(r.mae_meV > 0 && Number.isFinite(r.mae_meV));

  const pr = runOreo(['predict', '--model', join(out, 'model.oreo'), '--input', qm9File, '--frames', '0-29']);
  assert.equal(pr.status, 0, pr.stderr);
  const frames = JSON.parse(pr.stdout).frames as { frame: number; homo: number }[];
  assert.equal(frames.length, 30);
  const labels = readFileSync(qm9File, 'utf8').match(/epsHOMO=(-?[\d.]+)/g)!.slice(0, 30).map((s) => Number(s.split('=')[1]) * 27.211386024367243);
  const mae = frames.reduce((a, f) => a + Math.abs(f.homo - labels[f.frame]), 0) / 30;
  assert.ok(Math.abs(1000 * mae - r.mae_meV) < 1e-6, `predict-implied MAE ${1000 * mae} vs eval ${r.mae_meV}`);
});

test('a target key absent from the data is refused before training, naming the keys there are', () => {
  const out = join(workDir, 'run-missing');
  const r = runOreo(['finetune', '--task', 'property', '--target', 'HOMO', '--from', pretrained, '--data', qm9File, '--out', out]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /no property 'HOMO' \(did you mean 'homo'\?\)/);
  assert.match(r.stderr, /keys in the data: .*gap.*homo.*lumo/);
  assert.ok(!existsSync(join(out, 'log.jsonl')), 'nothing was trained');

  const csv = join(dataDir, 'pcqm4mv2', 'graphium_pcqm4mv2-2k.csv');
  return assert.rejects(
    finetuneProperty({ data: csv, target: 'homo', from: pretrained, head: 'mlp', reduce: 'sum', objective: { loss: 'mse', denoise: 0, sigma: 0.005 }, training: propertyTrainingDefaults, out: join(workDir, 'never'), quiet: true }),
    /no property 'homo'; keys in the data: gap$/,
  );
});

test('the raw QM9 distribution (a directory of dsgdb9nsd_*.xyz files) fine-tunes too, gap in meV', async () => {
  const out = join(workDir, 'run-raw');
  const r = await finetuneProperty({
    data: join(dataDir, 'qm9', 'raw_xyz_first10'),
    target: 'gap',
    from: pretrained,
    nTrain: 6,
    nVal: 2,
    head: 'mlp',
    reduce: 'mean',
    objective: { loss: 'l1', denoise: 0.1, sigma: 0.005 },
    training: { ...propertyTrainingDefaults, warmupSteps: 1, maxSteps: 3, valEvery: 3, batchSize: 3 },
    out,
    quiet: true,
  });
  assert.equal(r.train, 6);
  assert.equal(r.test?.molecules, 2);
  assert.equal(r.test?.unit, 'eV');
  assert.ok(Number.isFinite(r.test?.mae_meV));
  const predictions = JSON.parse(readFileSync(join(out, 'test-predictions.json'), 'utf8'));
  assert.equal(predictions.molecules.length, 2);
  // Predictions name each molecule by its record index (gdb id − 1 for raw QM9) with its label.
  const raw = await readConformations(join(dataDir, 'qm9', 'raw_xyz_first10'));
  for (const row of predictions.molecules) {
    const c = raw.find((x) => x.index === row.index)!;
    assert.equal(row.gap, c.props!.gap);
  }
});

const qm9 = await readConformations(qm9File, { limit: 24 });

function tinyModel(target: string, seed: number): PropertyModel {
  const y = targetValues(qm9, target, qm9File);
  return attachPropertyHead(tinyConfig, initParameters(tinyConfig, 'float64', seed), 'float64', { task: 'property', type: 'equivariant-scalar', target, unit: 'eV', reduce: 'sum', ...standardization(y) }, { seed });
}

function task(m: PropertyModel, obj: PropertyObjective): TrainTask {
  return { loss: (b, rng, training) => propertyLoss(m, b, obj, rng, training), describe: () => ({ kind: 'property' }) };
}

test('training on a property fits the training molecules', () => {
  const m = tinyModel('gap', 3);
  const set = qm9.slice(0, 16);
  const before = evaluateProperty(m, set, qm9File).mae;
  const config = { ...propertyTrainingDefaults, lr: 5e-3, warmupSteps: 5, maxSteps: 80, valEvery: 40, batchSize: 8, seed: 2 };
  train({ pot: m, train: set, val: qm9.slice(16, 20), task: task(m, { loss: 'mse', denoise: 0, sigma: 0.005 }), config, outDir: mkdtempSync(join(tmpdir(), 'oreo-prop-fit-')), quiet: true });
  const after = evaluateProperty(m, set, qm9File);
  assert.ok(after.mae < 0.5 * before, `training-set MAE ${before} → ${after.mae} eV`);
  assert.ok(after.mae < after.baselineMAE, `model ${after.mae} eV vs predicting the mean ${after.baselineMAE} eV`);
});

test('the trainer takes a property model as it is, and refuses to train it on forces', () => {
  const m = tinyModel('gap', 5);
  // Trainable: the representation and the head; the fixed radial basis is not.
  const names = m.trainable().map(([n]) => n);
  assert.ok(names.some((n) => n.startsWith('head.')) && names.some((n) => n.startsWith('representation_model.')));
  assert.ok(!names.some((n) => n.includes('distance_expansion')));
  const config = { ...propertyTrainingDefaults, maxSteps: 1, batchSize: 4, seed: 1 };
  assert.throws(
    () => train({ pot: m, train: qm9.slice(0, 4), val: [], objective: ET_OREO, config, outDir: mkdtempSync(join(tmpdir(), 'oreo-prop-obj-')), quiet: true }),
    /force-centric objective trains an energy model/,
  );
});

test('an interrupted property run with denoising resumes to the same weights as an uninterrupted one', () => {
  const obj: PropertyObjective = { loss: 'mse', denoise: 0.1, sigma: 0.01 };
  const config = { ...propertyTrainingDefaults, lr: 1e-3, warmupSteps: 2, maxSteps: 8, valEvery: 3, batchSize: 6, seed: 4 };
  const fresh = () => {
    const m = tinyModel('lumo', 6);
    m.addNoiseHead(7);
    return m;
  };
  const a = fresh();
  train({ pot: a, train: qm9.slice(0, 18), val: qm9.slice(18, 24), task: task(a, obj), config, outDir: mkdtempSync(join(tmpdir(), 'oreo-prop-a-')), quiet: true });
  const dirB = mkdtempSync(join(tmpdir(), 'oreo-prop-b-'));
  const b = fresh();
  train({ pot: b, train: qm9.slice(0, 18), val: qm9.slice(18, 24), task: task(b, obj), config, outDir: dirB, quiet: true, stopAfter: 4 });
  const b2 = tinyModel('lumo', 99); // other weights: the checkpoint must overwrite them all
  b2.addNoiseHead(98);
  train({ pot: b2, train: qm9.slice(0, 18), val: qm9.slice(18, 24), task: task(b2, obj), config, outDir: dirB, quiet: true, resume: true });
  for (const [name, t] of a.params) assert.deepEqual([...b2.params.get(name)!.data], [...t.data], name);
});

test('cosine schedule: linear warm-up, then half a cosine to 0 at the last step; validation does not change it', () => {
  const s = new LrSchedule({ peak: 4e-4, start: 1e-7, warmupSteps: 10, factor: 0.8, patience: 0, minLr: 1e-7, cosineSteps: 100 });
  assert.ok(Math.abs(s.lr(0) - (1e-7 + (4e-4 - 1e-7) / 10)) < 1e-15);
  assert.ok(s.lr(4) < s.lr(5) && s.lr(5) < s.lr(9));
  const cos = (k: number) => 0.5 * 4e-4 * (1 + Math.cos((Math.PI * k) / 100));
  assert.ok(Math.abs(s.lr(50) - cos(50)) < 1e-15);
  assert.ok(Math.abs(s.lr(50) - 2e-4) < 1e-12);
  for (let i = 0; i < 5; i++) s.validation(1); // would cut a plateau schedule with patience 0
  assert.ok(Math.abs(s.lr(75) - cos(75)) < 1e-15);
  assert.equal(s.lr(100), 0);
  const plateau = new LrSchedule({ peak: 4e-4, start: 1e-7, warmupSteps: 10, factor: 0.5, patience: 0, minLr: 1e-7 });
  plateau.validation(1);
  plateau.validation(2);
  assert.equal(plateau.lr(50), 2e-4);
});
