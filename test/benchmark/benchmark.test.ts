// The MD17 benchmark end to end on the bundled rMD17 ethanol files with analytic potentials
// (fast, deterministic): per-seed metrics against independent recomputation from the written
// trajectories, an interrupted benchmark resumed to the very same bytes, the collapse stop that
// leaves the metrics unchanged, and refused resumes.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataDir } from '../paths.js';
import { readMd17Npz } from '../../src/data/md17.js';
import { readExtxyzFile } from '../../src/data/extxyz.js';
import { createAnalyticCalculator } from '../../src/md/potentials/registry.js';
import { hr, hrMae } from '../../src/analysis/hr.js';
import { findBonds, bondLengths, meanBondLengths } from '../../src/analysis/bonds.js';
import { runBenchmark, type BenchmarkOptions } from '../../src/analysis/benchmark/runner.js';
import { startFrameIndex, evenlySpacedIndices } from '../../src/analysis/benchmark/protocol.js';
import type { BenchmarkResults } from '../../src/analysis/benchmark/results.js';

const tmp = mkdtempSync(join(tmpdir(), 'oreo-benchmark-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const testFile = join(dataDir, 'rmd17', 'rmd17_ethanol_test_01.npz');
const trainFile = join(dataDir, 'rmd17', 'rmd17_ethanol_train_01.npz');
const testFrames = readMd17Npz(testFile);
const referenceFrames = [...readMd17Npz(trainFile), ...testFrames].map((c) => c.positions);

const base = (outDir: string): BenchmarkOptions => ({
  outDir,
  molecule: 'ethanol',
  model: 'harmonic',
  steps: 200,
  seeds: 2,
  saveEvery: 20,
  fmaeFrames: 50,
  plots: false,
});

function readResults(dir: string): BenchmarkResults {
  return JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as BenchmarkResults;
}

function positionsOf(dir: string): Float64Array[] {
  return readExtxyzFile(join(dir, 'trajectory.extxyz')).map((f) => Float64Array.from(f.positions));
}

test('two seeds run the MDsim protocol from their test frames; metrics match an independent recomputation', async () => {
  const dir = join(tmp, 'plain');
  const outcome = await runBenchmark(base(dir));
  assert.equal(outcome.status, 'complete');
  const r = readResults(dir);
  assert.equal(r.complete, true);
  assert.deepEqual(r.seeds.map((s) => s.seed), [123, 124]);
  assert.equal(r.reference.frames, 2000);

  // Force MAE: the same calculator on the same evenly spread frames, summed by hand.
  const idx = evenlySpacedIndices(1000, 50);
  const calc = createAnalyticCalculator('harmonic', testFrames[0]);
  let abs = 0, n = 0;
  for (const i of idx) {
    const f = calc.compute(testFrames[i].z, testFrames[i].positions).forces;
    f.forEach((v, k) => {
      abs += Math.abs(v - testFrames[i].forces![k]);
      n++;
    });
  }
  assert.equal(r.forceMae!.frames, 50);
  assert.ok(Math.abs(r.forceMae!.force_mae_meV_per_A - (1000 * abs) / n) < 1e-9);

  const refHr = hr(referenceFrames);
  for (const s of r.seeds) {
    const sdir = join(dir, s.dir);
    assert.equal(s.startFrame, startFrameIndex(s.seed, 1000));
    assert.equal(s.status, 'completed');
    const frames = positionsOf(sdir);
    assert.equal(frames.length, 200 / 20 + 1);
    assert.deepEqual(Array.from(frames[0]), Array.from(testFrames[s.startFrame].positions), 'frame 0 is the chosen test frame');
    const state = JSON.parse(readFileSync(join(sdir, 'state.json'), 'utf8'));
    assert.equal(state.settings.thermostat, 'nose-hoover');
    assert.equal(state.settings.dt, 0.5);
    assert.equal(state.settings.temperature, 500);
    assert.equal(state.settings.ttime, 20);
    assert.equal(state.settings.zeroMomentum, false);
    assert.equal(state.settings.seed, s.seed);
    // Stability: no bond of the harmonic model leaves its reference mean by 0.5 Å here.
    const bonds = findBonds(testFrames[0].z, frames[0]);
    const means = meanBondLengths(referenceFrames, bonds);
    const worst = Math.max(...frames.flatMap((x) => Array.from(bondLengths(x, bonds), (l, b) => Math.abs(l - means[b]))));
    assert.ok(worst < 0.5, `harmonic run stays bonded (max deviation ${worst})`);
    assert.equal(s.collapsed, false);
    assert.equal(s.stability_ps, 0.1);
    assert.ok(Math.abs(s.hr_mae! - hrMae(hr(frames), refHr)) < 1e-12);
    const thermo = readFileSync(join(sdir, 'thermo.csv'), 'utf8').trim().split('\n');
    assert.ok(Math.abs(s.initial_temperature_K! - Number(thermo[1].split(',')[4])) < 1e-9);
  }
  const h = r.seeds.map((s) => s.hr_mae!);
  const mean = (h[0] + h[1]) / 2;
  assert.ok(Math.abs(r.summary.hr_mae.mean - mean) < 1e-15);
  assert.ok(Math.abs(r.summary.hr_mae.std - Math.abs(h[0] - h[1]) / 2) < 1e-15);
  assert.notEqual(r.seeds[0].startFrame, r.seeds[1].startFrame);

  const table = readFileSync(join(dir, 'table.md'), 'utf8');
  assert.match(table, /\| oreo: harmonic \(2 seeds\) \| [\d.]+ \| 0\.10 \(0\.00\) \| [\d.]+ \([\d.]+\) \|/);
  assert.match(table, /\| published: ET-OREO \| 1\.0 \| 300 \(0\) \| 0\.03 \(0\.00\) \|/);

  // A resume of a finished benchmark changes nothing and does not recompute the force MAE.
  const logs: string[] = [];
  await runBenchmark({ outDir: dir, resume: true, plots: false }, { log: (m) => logs.push(m) });
  const again = readResults(dir);
  assert.deepEqual(again.seeds, r.seeds);
  assert.ok(logs.some((m) => m.includes('from the earlier run')), logs.join('\n'));
});

test('an interrupted benchmark resumes to the same trajectories and results as an uninterrupted one', async () => {
  const whole = join(tmp, 'whole');
  await runBenchmark(base(whole));

  const split = join(tmp, 'split');
  const controller = new AbortController();
  const first = await runBenchmark(
    { ...base(split), signal: controller.signal },
    { onFrame: (seed, step) => (seed === 124 && step === 100 ? controller.abort() : undefined) },
  );
  assert.equal(first.status, 'interrupted');
  const partial = readResults(split);
  assert.equal(partial.complete, false);
  assert.equal(partial.seeds[0].status, 'completed');
  assert.equal(partial.seeds[1].status, 'interrupted');
  assert.ok(partial.seeds[1].steps >= 100 && partial.seeds[1].steps < 200);
  assert.equal(partial.summary.seeds_finished, 1);
  assert.match(readFileSync(join(split, 'table.md'), 'utf8'), /Partial/);

  const second = await runBenchmark({ outDir: split, resume: true, plots: false });
  assert.equal(second.status, 'complete');
  for (const s of ['seed-123', 'seed-124']) {
    for (const f of ['trajectory.extxyz', 'thermo.csv']) {
      assert.equal(readFileSync(join(split, s, f), 'utf8'), readFileSync(join(whole, s, f), 'utf8'), `${s}/${f}`);
    }
  }
  const a = readResults(whole), b = readResults(split);
  assert.deepEqual(
    b.seeds.map((s) => [s.stability_ps, s.hr_mae, s.initial_temperature_K]),
    a.seeds.map((s) => [s.stability_ps, s.hr_mae, s.initial_temperature_K]),
  );
  assert.deepEqual(b.summary.hr_mae, a.summary.hr_mae);

  // A resume may add seeds: the new one starts, the others are kept.
  await runBenchmark({ outDir: split, resume: true, seeds: 3, plots: false });
  const three = readResults(split);
  assert.equal(three.summary.seeds_finished, 3);
  assert.deepEqual(three.seeds.slice(0, 2), b.seeds);
});

test('stopping at the collapse gives the same stability and h(r) as running on', async () => {
  // Springs that pull every bond towards 2.2 Å: the molecule falls apart within a few frames.
  const breaking = (outDir: string, stopAtCollapse: boolean): BenchmarkOptions => ({
    ...base(outDir),
    model: 'harmonic:k=1,r0=2.2',
    seeds: 1,
    saveEvery: 10,
    stopAtCollapse,
  });
  const on = join(tmp, 'run-on');
  const stop = join(tmp, 'stop');
  await runBenchmark(breaking(on, false));
  await runBenchmark(breaking(stop, true));
  const a = readResults(on).seeds[0];
  const b = readResults(stop).seeds[0];
  assert.equal(a.status, 'completed');
  assert.equal(a.collapsed, true);
  assert.equal(b.status, 'stopped');
  assert.match(b.reason!, /off its reference mean/);
  assert.ok(b.steps < a.steps);
  assert.equal(b.first_unstable_frame, b.frames! - 1, 'the run stopped at the first unstable frame');
  assert.equal(b.stability_ps, a.stability_ps);
  assert.equal(b.hr_mae, a.hr_mae);
  assert.equal(b.broken_bond, a.broken_bond);
});

test('settings that would change what the seeds mean are refused on resume; an existing benchmark is not overwritten', async () => {
  const dir = join(tmp, 'refuse');
  await runBenchmark({ ...base(dir), seeds: 1 });
  await assert.rejects(runBenchmark({ ...base(dir), seeds: 1 }), /already holds a benchmark/);
  await assert.rejects(runBenchmark({ outDir: dir, resume: true, molecule: 'aspirin' }), /cannot resume with --molecule aspirin/);
  await assert.rejects(runBenchmark({ outDir: dir, resume: true, saveEvery: 100 }), /cannot resume with --save-every/);
  await assert.rejects(runBenchmark({ outDir: dir, resume: true, steps: 100 }), /raise the number of steps/);
  await assert.rejects(runBenchmark({ outDir: join(tmp, 'nothing-here'), resume: true }), /does not exist/);
  await assert.rejects(runBenchmark({ ...base(join(tmp, 'bad')), molecule: 'benzene' }), /unknown MD17 benchmark molecule 'benzene'.*aspirin, ethanol, naphthalene, salicylic/);
  assert.equal(existsSync(join(tmp, 'bad')), false);
});
