// Fine-tuning on a split someone else chose (TorchMD-Net's splits.npz), from an architecture
// file with fresh weights, with TorchMD-Net's energy standardization: the set-up of the
// same-budget comparison with the TorchMD-Net reference run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { encodeNpy } from '../../src/data/npy.js';
import { readSplitIndices } from '../../src/data/split-indices.js';
import { readMd17Npz } from '../../src/data/md17.js';
import { finetune } from '../../src/train/stages.js';
import { paperDefaults } from '../../src/train/trainer.js';
import { PRESETS } from '../../src/train/objective.js';
import { loadPotential as loadModel } from '../../src/model/load.js';
import { configFromHyperParameters } from '../../src/model/config.js';
import { createPotential } from '../../src/model/init.js';
import { evaluate } from '../../src/train/evaluate.js';
import { dataDir } from '../paths.js';
import { runOreo } from '../cli.js';

const ethanol = join(dataDir, 'rmd17', 'rmd17_ethanol_train_01.npz');
const tinyArch = { embedding_dimension: 8, num_layers: 1, num_rbf: 4, num_heads: 2, cutoff_upper: 4, precision: 64 };

function writeSplits(arrays: Record<string, number[]>): string {
  const file = join(mkdtempSync(join(tmpdir(), 'oreo-splits-')), 'splits.npz');
  const members: Record<string, Uint8Array> = {};
  for (const [k, v] of Object.entries(arrays)) members[`${k}.npy`] = encodeNpy('<i8', [v.length], v);
  writeFileSync(file, zipSync(members));
  return file;
}

function archFile(): string {
  const f = join(mkdtempSync(join(tmpdir(), 'oreo-arch-')), 'et.json');
  writeFileSync(f, JSON.stringify(tinyArch));
  return f;
}

test('the data/splits file is the reference split: default_rng(1).permutation(1000), 950 train then 50 val', () => {
  const s = readSplitIndices(join(dataDir, 'splits', 'rmd17_aspirin_train_01_rng1_950_50.npz'), 1000);
  assert.equal(s.train.length, 950);
  assert.equal(s.val.length, 50);
  // First and last values as numpy 1.24 prints them for that permutation.
  assert.deepEqual([...s.train.slice(0, 5)], [705, 649, 543, 927, 577]);
  assert.deepEqual([...s.val.slice(0, 5)], [356, 628, 256, 956, 455]);
  assert.equal(new Set([...s.train, ...s.val]).size, 1000);
});

test('a bad splits file is refused with the file and the field named', () => {
  const cases: [Record<string, number[]>, RegExp][] = [
    [{ idx_train: [0, 1] }, /field 'idx_val'.*has no array 'idx_val'/],
    [{ idx_train: [0, 1], idx_val: [1000] }, /field 'idx_val'.*index 1000 .*outside the data file's 1000 frames/],
    [{ idx_train: [0, 1, 1], idx_val: [2] }, /field 'idx_train'.*frame 1 appears twice/],
    [{ idx_train: [0, 1], idx_val: [2, 1] }, /field 'idx_val'.*frame 1 is also in idx_train/],
    [{ idx_train: [], idx_val: [2] }, /field 'idx_train'.*is empty/],
  ];
  for (const [arrays, re] of cases) {
    const f = writeSplits(arrays);
    assert.throws(() => readSplitIndices(f, 1000), (e: Error) => e.message.startsWith(f) && re.test(e.message), JSON.stringify(arrays));
  }
});

test('finetune trains on exactly the frames the splits file names, from an architecture file, standardized', async () => {
  const split = writeSplits({ idx_train: [7, 3, 11, 5, 0, 9], idx_val: [2, 8] });
  const out = mkdtempSync(join(tmpdir(), 'oreo-ft-'));
  const r = await finetune({
    from: archFile(), data: ethanol, nTrain: 0, nVal: 0, splitIndices: split, standardize: true,
    objective: PRESETS.supervised, training: { ...paperDefaults, lr: 1e-4, warmupSteps: 1, maxSteps: 2, valEvery: 1, batchSize: 3, seed: 4 },
    out, quiet: true,
  });
  assert.deepEqual(r.frames, { train: [7, 3, 11, 5, 0, 9], val: [2, 8] });
  // std = sample std of the six training energies (one composition: the constants take the mean).
  const all = readMd17Npz(ethanol);
  const e = [7, 3, 11, 5, 0, 9].map((i) => all[i].energy!);
  const m = e.reduce((a, b) => a + b, 0) / e.length;
  const std = Math.sqrt(e.reduce((a, b) => a + (b - m) ** 2, 0) / (e.length - 1));
  const model = loadModel(r.model);
  assert.ok(Math.abs(model.params.get('std')!.data[0] - std) < 1e-12 * std, `std ${model.params.get('std')!.data[0]} vs ${std}`);
  assert.equal(model.meta.nTrain, 6);
  assert.equal(model.meta.splitIndices, split);
  assert.match(String(model.meta.from), /fresh weights/);
  // The card says what the model is for: ethanol, six conformations.
  assert.deepEqual(model.meta.composition, { conformations: 6, molecules: 1, formulas: { C2H6O: 6 }, truncated: false, specific: true });
});

test('--standardize refuses a pre-trained model, and --split-indices refuses --train', async () => {
  const out = mkdtempSync(join(tmpdir(), 'oreo-ft-'));
  await assert.rejects(
    finetune({ from: join(dataDir, '..', 'models', 'oreo-aspirin-et4x64.oreo'), data: ethanol, nTrain: 4, nVal: 2, standardize: true, objective: PRESETS.supervised, training: { ...paperDefaults, maxSteps: 1 }, out, quiet: true }),
    /--standardize rescales every atomic output.*--scratch/,
  );
  const r = runOreo(['finetune', '--from', archFile(), '--data', ethanol, '--split-indices', writeSplits({ idx_train: [0], idx_val: [1] }), '--train', '5']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /--split-indices names the training and validation frames; leave out --train and --val/);
  const bad = runOreo(['finetune', '--from', archFile(), '--data', ethanol, '--schedule', 'linear']);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /--schedule linear: expected plateau or cosine/);
});

test('evaluation on the fused inference path equals the autodiff path', () => {
  const pot = createPotential(configFromHyperParameters(tinyArch), { seed: 3 });
  const confs = readMd17Npz(ethanol).slice(0, 10);
  const fast = evaluate(pot, confs, 4);
  const tape = evaluate(pot, confs, 4, undefined, { autodiff: true });
  assert.equal(fast.forceComponents, tape.forceComponents);
  assert.ok(Math.abs(fast.forceMAE_meV_per_A! - tape.forceMAE_meV_per_A!) < 1e-8 * tape.forceMAE_meV_per_A!);
  assert.ok(Math.abs(fast.energyMAE_meV! - tape.energyMAE_meV!) < 1e-6 * tape.energyMAE_meV!);
});
