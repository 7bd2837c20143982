// `oreo demo --molecule M`: each of the four MD17 molecules runs with its bundled model, from its
// own rMD17 test file, and the analysis uses that molecule's reference (a wrong file would fail
// on the atom count or the elements).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runOreo } from '../cli.js';
import { DEMO_MODELS } from '../../src/cli/demo.js';
import { repoRoot } from '../paths.js';

const atoms = { aspirin: 21, ethanol: 9, naphthalene: 18, salicylic: 16 } as const;

for (const molecule of Object.keys(atoms) as (keyof typeof atoms)[]) {
  test(`oreo demo --molecule ${molecule} runs MD with the bundled ${molecule} model and analyses it`, () => {
    assert.ok(existsSync(join(repoRoot, DEMO_MODELS[molecule])), `${DEMO_MODELS[molecule]} is bundled`);
    const out = join(mkdtempSync(join(tmpdir(), 'oreo-demo-')), 'run');
    const r = runOreo(['demo', '--molecule', molecule, '--steps', '60', '--out', out], { timeout: 180_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`of ${molecule === 'salicylic' ? 'salicylic acid' : molecule} at 500 K with .*${DEMO_MODELS[molecule].split('/')[1]}`));
    const metrics = JSON.parse(readFileSync(join(out, 'analysis', 'metrics.json'), 'utf8'));
    assert.ok(JSON.stringify(metrics).length > 10);
    const xyz = readFileSync(join(out, 'md', 'trajectory.extxyz'), 'utf8');
    assert.equal(Number(xyz.split('\n')[0]), atoms[molecule]);
  });
}

test('oreo demo refuses a molecule it has no model for, naming the four it has', () => {
  const r = runOreo(['demo', '--molecule', 'benzene', '--steps', '10']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /unknown MD17 benchmark molecule 'benzene' \(choose one of: aspirin, ethanol, naphthalene, salicylic\)/);
});

test('each bundled MD17 model stays below 46.5 meV/Å force MAE on its own rMD17 test frames', () => {
  for (const molecule of Object.keys(atoms) as (keyof typeof atoms)[]) {
    const out = join(mkdtempSync(join(tmpdir(), 'oreo-eval-')), 'metrics.json');
    const r = runOreo(['eval', '--model', DEMO_MODELS[molecule], '--data', `data/rmd17/rmd17_${molecule}_test_01.npz`, '--limit', '200', '--out', out]);
    assert.equal(r.status, 0, r.stderr);
    const m = JSON.parse(readFileSync(out, 'utf8'));
    assert.equal(m.conformations, 200);
    assert.ok(m.forceMAE_meV_per_A < 46.5, `${molecule}: ${m.forceMAE_meV_per_A} meV/Å`);
  }
});
