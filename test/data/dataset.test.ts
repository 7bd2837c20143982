import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { makeBatch } from '../../src/data/batch.js';
import { bundledData } from '../../src/data/bundled.js';
import { loadDataset, readDatasetConfig, weightedEpoch } from '../../src/data/dataset.js';
import { geometryKey } from '../../src/data/identity.js';
import { InputError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'oreo-dataset-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function config(name: string, body: unknown): string {
  const p = join(dir, name);
  writeFileSync(p, JSON.stringify(body));
  return p;
}

test('a dataset config loads sources with kinds and caps; batches are flat atoms + molecule index', async () => {
  const p = config('mix.json', {
    seed: 1,
    sources: [
      { name: 'aspirin', path: bundledData('rmd17', 'rmd17_aspirin_train_01.npz'), kind: 'off-equilibrium', cap: 10 },
      { name: 'qm9', path: bundledData('qm9', 'raw_xyz_first10'), kind: 'equilibrium', weight: 2 },
    ],
  });
  const [asp, qm9] = await loadDataset(readDatasetConfig(p));
  assert.equal(asp.conformations.length, 10);
  assert.equal(asp.fileCount, 1000);
  assert.equal(qm9.conformations.length, 10);
  const b = makeBatch([asp.conformations[0], qm9.conformations[6], asp.conformations[1]]);
  assert.equal(b.nMol, 3);
  assert.equal(b.z.length, 21 + 8 + 21);
  assert.deepEqual([...b.atomOffset], [0, 21, 29, 50]);
  assert.deepEqual([...b.mol.subarray(19, 31)], [0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2]);
  assert.deepEqual(b.kind, ['off-equilibrium', 'equilibrium', 'off-equilibrium']);
  assert.deepEqual([...b.energyMask!], [1, 0, 1]);
  assert.ok(Number.isNaN(b.energy![1]));
  assert.deepEqual([...b.forcesMask!], [1, 0, 1]);
  assert.deepEqual(b.positions.subarray(21 * 3, 29 * 3), qm9.conformations[6].positions);
  assert.equal(b.props!.homo[1], qm9.conformations[6].props!.homo);
  assert.ok(Number.isNaN(b.props!.homo[0]));
});

test('weights are expected uses per epoch: 0.5 keeps about half, 2 repeats twice', () => {
  const order = weightedEpoch([1000, 1000, 10], [0.5, 2, 1], 9);
  const per = [0, 0, 0];
  for (let k = 0; k < order.length; k += 2) per[order[k]]++;
  assert.ok(per[0] > 430 && per[0] < 570, `half: ${per[0]}`);
  assert.equal(per[1], 2000);
  assert.equal(per[2], 10);
  assert.deepEqual(weightedEpoch([1000, 1000, 10], [0.5, 2, 1], 9), order);
});

test('config mistakes are reported with the file, the source and the field', () => {
  const cases: [unknown, RegExp][] = [
    [{ sources: [{ name: 'a', path: 'x.npz', kind: 'equilibirum' }] }, /source 0, field 'kind'/],
    [{ sources: [{ name: 'a', path: 'x.npz', kind: 'equilibrium', weight: -1 }] }, /field 'weight'/],
    [{ sources: [{ name: 'a', path: 'x.npz', kind: 'equilibrium', cap: 1.5 }] }, /field 'cap'/],
    [{ sources: [{ name: 'a', path: 'x.npz', kind: 'equilibrium', weigth: 1 }] }, /unknown key 'weigth'/],
    [{ sources: [{ name: 'a', path: 'x', kind: 'equilibrium', options: { energyunit: 'Ha' } }] }, /unknown reader option 'energyunit'/],
    [{ sources: [] }, /non-empty/],
  ];
  cases.forEach(([body, re], i) => {
    const p = config(`bad${i}.json`, body);
    assert.throws(() => readDatasetConfig(p), (e: unknown) => e instanceof InputError && e.message.includes(p) && re.test(e.message));
  });
});

test('geometry keys match float32 copies and ignore −0, and differ for a 0.001 Å move', () => {
  const z = Int32Array.of(8, 1, 1);
  const pos = Float64Array.of(0.1234567, -0.0000001, 1.5, 0.75, 0.5, 0.25, -1.2, 3.3, 0.9);
  const f32 = Float64Array.from(Float32Array.from(pos));
  assert.equal(geometryKey({ z, positions: f32 }), geometryKey({ z, positions: pos }));
  const moved = pos.slice();
  moved[4] += 0.001;
  assert.notEqual(geometryKey({ z, positions: moved }), geometryKey({ z, positions: pos }));
  assert.notEqual(geometryKey({ z: Int32Array.of(8, 1, 9), positions: pos }), geometryKey({ z, positions: pos }));
});
