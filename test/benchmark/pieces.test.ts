// The small parts of the MD17 benchmark: molecule names, seeds and start frames, mean (std),
// and the table layout with and without published rows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { parseMolecule, bundledMd17Files, MD17_MOLECULES } from '../../src/analysis/benchmark/molecules.js';
import { evenlySpacedIndices, seedValues, startFrameIndex } from '../../src/analysis/benchmark/protocol.js';
import { meanStd, formatMeanStd } from '../../src/analysis/benchmark/stats.js';
import { renderTable } from '../../src/analysis/benchmark/table.js';
import type { BenchmarkResults } from '../../src/analysis/benchmark/results.js';

test('the four molecules resolve to bundled train and test files; other names are refused', () => {
  for (const m of MD17_MOLECULES) {
    const f = bundledMd17Files(m);
    assert.ok(existsSync(f.test), f.test);
    assert.equal(f.reference.length, 2);
    f.reference.forEach((r) => assert.ok(existsSync(r), r));
  }
  assert.equal(parseMolecule('Salicylic_Acid'), 'salicylic');
  assert.throws(() => parseMolecule('uracil'), /unknown MD17 benchmark molecule 'uracil'/);
});

test('seeds and start frames are deterministic, in range, and differ between seeds', () => {
  assert.deepEqual(seedValues(123, 3), [123, 124, 125]);
  assert.throws(() => seedValues(1, 0), /≥ 1/);
  const frames = seedValues(0, 200).map((s) => startFrameIndex(s, 1000));
  assert.ok(frames.every((f) => Number.isInteger(f) && f >= 0 && f < 1000));
  assert.deepEqual(frames, seedValues(0, 200).map((s) => startFrameIndex(s, 1000)));
  assert.ok(new Set(frames).size > 150, 'start frames spread over the file');
  assert.deepEqual(evenlySpacedIndices(10, 4), [0, 2, 5, 7]);
  assert.deepEqual(evenlySpacedIndices(3, 10), [0, 1, 2]);
});

test('mean (std) is numpy.std with ddof 0', () => {
  const m = meanStd([1, 2, 3, 4]);
  assert.equal(m.mean, 2.5);
  assert.ok(Math.abs(m.std - Math.sqrt(1.25)) < 1e-15);
  assert.equal(formatMeanStd(m, 2), '2.50 (1.12)');
  assert.equal(formatMeanStd(meanStd([]), 2), '–');
});

function results(): BenchmarkResults {
  return {
    format: 'oreo-benchmark-md17',
    version: 1,
    molecule: 'aspirin',
    model: '/models/aspirin.oreo',
    complete: true,
    steps: 40000,
    simulated_ps_target: 20,
    protocol: {
      thermostat: 'nose-hoover', dt_fs: 0.5, temperature_K: 500, ttime_dt: 20, init_temperature_K: 500, zero_momentum: false,
      min_temperature_K: 0.1, max_temperature_K: 1e5, bond_threshold_A: 0.5, save_every_steps: 100, frame_interval_fs: 50,
    },
    reference: { files: ['/d/train.npz', '/d/test.npz'], frames: 2000, note: '' },
    forceMae: null,
    seeds: [],
    summary: { seeds_finished: 2, seeds_total: 2, force_mae_meV_per_A: 12.345, stability_ps: meanStd([20, 10]), hr_mae: meanStd([0.1, 0.3]) },
    writtenAt: '',
  };
}

test('table.md puts oreo first, published rows beside it when there are any, and says so when there are none', () => {
  const plain = renderTable(results(), []);
  assert.match(plain, /\| oreo: aspirin\.oreo \(2 seeds\) \| 12\.35 \| 15\.00 \(5\.00\) \| 0\.200 \(0\.100\) \|/);
  assert.match(plain, /No published rows are shown/);
  assert.match(plain, /comparable only up to 20\.00 ps/);
  const withRows = renderTable(results(), [{ model: 'Other model', forceMae: 'a', stability: 'b', hrMae: 'c', source: 'some paper, Table 9' }]);
  const lines = withRows.split('\n');
  const oreoLine = lines.findIndex((l) => l.startsWith('| oreo:'));
  assert.equal(lines[oreoLine + 1], '| Other model | a | b | c |');
  assert.match(withRows, /Published rows: some paper, Table 9\./);
  assert.doesNotMatch(withRows, /No published rows are shown/);
  assert.match(withRows, /Scale — oreo's row: aspirin\.oreo, one CPU, 20\.00 ps per seed; published models: .*6\.87M parameters/);
  // By default the paper's Table 2 rows for the molecule, labelled published.
  const table2 = renderTable(results());
  assert.match(table2, /\| published: ET-OREO \| 1\.0 \| 300 \(0\) \| 0\.02 \(0\.00\) \|/);
  assert.match(table2, /\| published: TorchMDNet \| 7\.4 \| 102 \(45\) \| 0\.04 \(0\.00\) \|/);
  assert.equal(table2.split('\n').filter((l) => l.startsWith('| published: ')).length, 7);
});
