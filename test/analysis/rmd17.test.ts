// The metrics on real data (rMD17, split 01, in the repo's data/): what a perfect simulation
// would score, i.e. the noise floor of each metric with 1000 reference frames.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { dataDir } from '../paths.js';
import { readReference } from '../../src/analysis/io.js';
import { hr, hrMae } from '../../src/analysis/hr.js';
import { findBonds } from '../../src/analysis/bonds.js';
import { mdsimBondStability } from '../../src/analysis/stability.js';

const molecules: [string, number][] = [
  ['aspirin', 21],
  ['ethanol', 8],
  ['naphthalene', 19],
  ['salicylic', 16],
];

for (const [name, bondCount] of molecules) {
  test(`${name}: test frames against train frames are stable and their h(r) MAE is small`, (t) => {
    const train = readReference(join(dataDir, 'rmd17', `rmd17_${name}_train_01.npz`));
    const testSet = readReference(join(dataDir, 'rmd17', `rmd17_${name}_test_01.npz`));
    // MDsim reports 21 bonds for aspirin; the first frame gives the bond list.
    assert.equal(findBonds(testSet.z, testSet.frames[0]).length, bondCount);
    const s = mdsimBondStability(testSet.z, testSet.frames, train.frames);
    assert.equal(s.firstUnstableFrame, null, 'a DFT frame counted as a broken molecule');
    assert.ok(Math.max(...s.maxDeviation) < 0.3);
    const mae = hrMae(hr(testSet.frames), hr(train.frames));
    t.diagnostic(`h(r) MAE rMD17 ${name} test vs train (1000 frames each): ${mae.toFixed(4)}`);
    assert.ok(mae > 0 && mae < 0.1, `h(r) MAE ${mae}`);
  });
}
