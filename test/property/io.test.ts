// Property models on disk: standardisation and predictions survive a save/load round trip, the
// noise head (a training aid) is not stored, and property and energy models refuse to load as
// each other.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configFromHyperParameters } from '../../src/model/config.js';
import { createPotential, initParameters } from '../../src/model/init.js';
import { saveModel, loadModelFile } from '../../src/model/io/native.js';
import { loadPotential } from '../../src/model/load.js';
import { attachPropertyHead } from '../../src/model/heads/property.js';
import { savePropertyModel, loadPropertyModel, readPropertyHead } from '../../src/model/heads/io.js';
import { standardization, standardize, destandardize } from '../../src/train/property/standardize.js';
import { readConformations } from '../../src/data/read.js';
import { makeBatch } from '../../src/data/batch.js';
import { targetValues } from '../../src/train/property/targets.js';
import { dataDir } from '../paths.js';

const cfg = configFromHyperParameters({ embedding_dimension: 8, num_layers: 1, num_rbf: 4, num_heads: 2, cutoff_upper: 4 });
const qm9File = join(dataDir, 'qm9', 'metatrain_qm9_reduced_100.xyz');
const qm9 = await readConformations(qm9File, { limit: 30 });

test('standardisation: training targets have mean 0 and std 1 afterwards, and map back exactly', () => {
  const y = targetValues(qm9, 'gap', qm9File);
  const s = standardization(y);
  const u = Array.from(y, (v) => standardize(v, s));
  const mean = u.reduce((a, b) => a + b, 0) / u.length;
  const std = Math.sqrt(u.reduce((a, b) => a + (b - mean) ** 2, 0) / (u.length - 1));
  assert.ok(Math.abs(mean) < 1e-12, `mean ${mean}`);
  assert.ok(Math.abs(std - 1) < 1e-12, `std ${std}`);
  u.forEach((v, i) => assert.ok(Math.abs(destandardize(v, s) - y[i]) < 1e-12));
  // A constant target has no spread to scale by; std stays 1 rather than dividing by zero.
  assert.deepEqual(standardization([2.5, 2.5, 2.5]), { mean: 2.5, std: 1 });
});

test('a property model round-trips: head, standardisation and predictions are identical after loading', () => {
  const dir = mkdtempSync(join(tmpdir(), 'oreo-prop-io-'));
  const y = targetValues(qm9, 'lumo', qm9File);
  const s = standardization(y);
  for (const type of ['equivariant-scalar', 'mlp'] as const) {
    const m = attachPropertyHead(cfg, initParameters(cfg, 'float64', 3), 'float64', { task: 'property', type, target: 'lumo', unit: 'eV', reduce: 'mean', ...s }, { seed: 4, meta: { note: 'x' } });
    m.addNoiseHead(5);
    const path = join(dir, `${type}.oreo`);
    savePropertyModel(m, path);
    const back = loadPropertyModel(path);
    assert.deepEqual(back.head, m.head);
    assert.equal(back.head.mean, s.mean);
    assert.equal(back.head.std, s.std);
    assert.equal(back.dtype, 'float64');
    assert.equal(back.meta.note, 'x');
    assert.equal(back.hasNoiseHead(), false, 'the noise head is not part of the model file');
    assert.deepEqual(readPropertyHead(path), m.head);
    const b = makeBatch(qm9.slice(0, 6));
    const input = { z: b.z, positions: b.positions, mol: b.mol, nMol: b.nMol };
    assert.deepEqual([...back.predict(input)], [...m.predict(input)]);
  }
});

test('a property model is refused where an energy model is expected, and vice versa', () => {
  const dir = mkdtempSync(join(tmpdir(), 'oreo-prop-io-'));
  const propPath = join(dir, 'homo.oreo');
  const m = attachPropertyHead(cfg, initParameters(cfg, 'float32', 1), 'float32', { task: 'property', type: 'equivariant-scalar', target: 'homo', unit: 'eV', reduce: 'sum', mean: -6, std: 0.5 });
  savePropertyModel(m, propPath);
  assert.throws(() => loadPotential(propPath), /property model \(it predicts 'homo'\), not an energy\/force model/);
  assert.throws(() => loadModelFile(propPath), /property model/);

  const energyPath = join(dir, 'energy.oreo');
  saveModel(createPotential(cfg, { seed: 1 }), energyPath);
  assert.equal(readPropertyHead(energyPath), null);
  assert.throws(() => loadPropertyModel(energyPath), /energy\/force model, not a property model/);
  // The energy model still loads as before.
  assert.equal(loadPotential(energyPath).config.embedding_dimension, 8);
});
