// `oreo benchmark md17` as a user runs it: a tiny random Equivariant Transformer saved in oreo's
// model format, two short seeds on rMD17 ethanol, then a resume; and the refusals.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runOreo } from '../cli.js';
import { configFromHyperParameters } from '../../src/model/config.js';
import { createPotential } from '../../src/model/init.js';
import { saveModel } from '../../src/model/io/native.js';
import type { BenchmarkResults } from '../../src/analysis/benchmark/results.js';

const tmp = mkdtempSync(join(tmpdir(), 'oreo-benchmark-cli-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const modelFile = join(tmp, 'tiny.oreo');
saveModel(
  createPotential(configFromHyperParameters({ embedding_dimension: 8, num_layers: 1, num_rbf: 4, num_heads: 2, precision: 64 }), { seed: 5 }),
  modelFile,
);

test('oreo benchmark md17 runs a learned model end to end and resumes', () => {
  const out = join(tmp, 'bench');
  const args = ['benchmark', 'md17', '--model', modelFile, '--molecule', 'ethanol', '--steps', '200', '--seeds', '2', '--fmae-frames', '10', '--out', out];
  const r = runOreo(args);
  assert.equal(r.status, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /2\/2 seeds finished/);
  assert.match(r.stdout, /force MAE\s+[\d.]+ meV\/Å/);
  assert.match(r.stderr, /seed 123 \(1\/2\): step \d+\/200 .* T [\d.]+ K .* steps\/s/);

  const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as BenchmarkResults;
  assert.equal(results.molecule, 'ethanol');
  assert.equal(results.forceMae!.frames, 10);
  assert.equal(results.forceMae!.components, 10 * 9 * 3);
  assert.ok(results.forceMae!.force_mae_meV_per_A > 0);
  for (const s of results.seeds) {
    // A random model may blow the molecule apart; either way the seed is finished and measured.
    assert.ok(s.status === 'completed' || s.status === 'stopped', s.status);
    assert.ok(Number.isFinite(s.stability_ps) && Number.isFinite(s.hr_mae));
    for (const f of ['trajectory.extxyz', 'thermo.csv', 'state.json', 'analysis/report.html', 'analysis/hr.png']) {
      assert.ok(existsSync(join(out, s.dir, f)), `${s.dir}/${f}`);
    }
  }
  const table = readFileSync(join(out, 'table.md'), 'utf8');
  assert.match(table, /\| oreo: tiny\.oreo \(2 seeds\) \|/);
  assert.match(table, /# MD17 simulation benchmark: Ethanol/);

  const again = runOreo(['benchmark', 'md17', '--resume', '--out', out, '--quiet']);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, /from the earlier run/);
  const resumed = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as BenchmarkResults;
  assert.deepEqual(resumed.seeds, results.seeds);

  const twice = runOreo(args);
  assert.equal(twice.status, 1);
  assert.match(twice.stderr, /already holds a benchmark; continue it with --resume/);
});

test('oreo benchmark md17 refuses an unknown molecule before writing anything', () => {
  const out = join(tmp, 'benzene');
  const r = runOreo(['benchmark', 'md17', '--model', modelFile, '--molecule', 'benzene', '--out', out]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /unknown MD17 benchmark molecule 'benzene' \(choose one of: aspirin, ethanol, naphthalene, salicylic\)/);
  assert.equal(existsSync(out), false);

  const other = runOreo(['benchmark', 'md22', '--model', modelFile]);
  assert.equal(other.status, 1);
  assert.match(other.stderr, /unknown benchmark 'md22' \(available: md17\)/);
});
