// Fine-tuning starts from a TorchMD-Net checkpoint as well as from an oreo model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finetune } from '../../src/train/stages.js';
import { paperDefaults } from '../../src/train/trainer.js';
import { PRESETS } from '../../src/train/objective.js';
import { loadPotential } from '../../src/model/load.js';
import { dataDir, fixturesDir } from '../paths.js';

test('finetune --from a TorchMD-Net .ckpt trains, calibrates energies and writes an oreo model', async () => {
  const out = mkdtempSync(join(tmpdir(), 'oreo-ft-tmd-'));
  const from = join(fixturesDir, 'torchmdnet', 'et-tiny', 'model.ckpt');
  const before = loadPotential(from);
  const r = await finetune({
    from,
    data: join(dataDir, 'rmd17', 'rmd17_ethanol_train_01.npz'),
    nTrain: 12,
    nVal: 4,
    objective: PRESETS['et-ore'],
    training: { ...paperDefaults, warmupSteps: 1, maxSteps: 3, valEvery: 3, batchSize: 4, lr: 1e-3 },
    out,
    quiet: true,
  });
  assert.equal(r.steps, 3);
  assert.ok(existsSync(join(out, 'model.oreo')));
  const after = loadPotential(join(out, 'model.oreo'));
  assert.equal(after.config.embedding_dimension, before.config.embedding_dimension);
  const w = 'representation_model.attention_layers.0.q_proj.weight';
  assert.notDeepEqual([...after.params.get(w)!.data], [...before.params.get(w)!.data], 'weights changed');
  assert.ok(r.calibrationMAE_meV !== null && r.calibrationMAE_meV < 5000, `calibration MAE ${r.calibrationMAE_meV}`);
});
