import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runOreo } from '../cli.js';
import { formatExtxyzFrame } from '../../src/data/extxyz.js';
import { dataDir, fixturesDir, repoRoot } from '../paths.js';

const tmp = mkdtempSync(join(tmpdir(), 'oreo-predict-'));
const dir = join(fixturesDir, 'torchmdnet', 'et-tiny-vcut');
const cases = JSON.parse(readFileSync(join(dir, 'cases.json'), 'utf8')).cases as { z: number[]; pos: number[][]; energy: number; forces: number[][] }[];
const xyz = join(tmp, 'frames.extxyz');
writeFileSync(
  xyz,
  cases.map((c) => formatExtxyzFrame({ z: Int32Array.from(c.z), positions: Float64Array.from(c.pos.flat()), info: {}, arrays: {} })).join(''),
);

test('oreo predict reproduces TorchMD-Net on a multi-frame extxyz, and --frames selects', () => {
  const r = runOreo(['predict', '--model', join(dir, 'model.ckpt'), '--input', xyz]);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.frames.length, 2);
  out.frames.forEach((f: { energy: number; forces: number[][] }, i: number) => {
    assert.ok(Math.abs(f.energy - cases[i].energy) < 1e-9 * Math.abs(cases[i].energy));
    assert.equal(f.forces.length, cases[i].z.length);
  });
  const one = runOreo(['predict', '--model', join(dir, 'model.ckpt'), '--input', xyz, '--frames', '1', '--out', join(tmp, 'p.json')]);
  assert.equal(one.status, 0, one.stderr);
  const saved = JSON.parse(readFileSync(join(tmp, 'p.json'), 'utf8'));
  assert.equal(saved.frames.length, 1);
  assert.equal(saved.frames[0].frame, 1);
});

test('bad input gives one clear line and a non-zero exit code, no stack trace', () => {
  const bad = join(tmp, 'bad.xyz');
  writeFileSync(bad, '2\ncomment\nC 0 0 0\nH 0 0\n');
  const cases: [string[], RegExp][] = [
    [['predict', '--model', join(tmp, 'missing.ckpt'), '--input', xyz], /missing\.ckpt: model file not found/],
    [['predict', '--model', join(dir, 'model.ckpt'), '--input', bad], /bad\.xyz/],
    [['predict', '--model', join(dir, 'model.ckpt'), '--input', xyz, '--frames', '7'], /frame 7 does not exist/],
    [['predict', '--model', join(dir, 'model.ckpt')], /--input is required/],
    [['predict', '--model', join(dir, 'model.ckpt'), '--input', xyz, '--bogus'], /unknown option --bogus/],
  ];
  for (const [args, re] of cases) {
    const r = runOreo(args);
    assert.notEqual(r.status, 0, args.join(' '));
    assert.match(r.stderr, re);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});

test('oreo --help lists the commands', () => {
  const r = runOreo(['--help']);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /predict/);
});

const oreoModel = join(repoRoot, 'models', 'oreo-aspirin-et4x64.oreo');
const rmd17 = join(dataDir, 'rmd17', 'rmd17_aspirin_test_01.npz');

test('oreo predict on an .oreo model names the file and its units (eV, eV/Å) and the path it ran', () => {
  const r = runOreo(['predict', '--model', oreoModel, '--input', rmd17, '--frames', '0']);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.model, oreoModel);
  assert.deepEqual(out.units, { energy: 'eV', forces: 'eV/Å' });
  assert.equal(out.path, 'fast');
  // A TorchMD-Net checkpoint does not record its training data's units: they stay "model".
  const t = JSON.parse(runOreo(['predict', '--model', join(dir, 'model.ckpt'), '--input', xyz]).stdout);
  assert.equal(t.model, join(dir, 'model.ckpt'));
  assert.deepEqual(t.units, { energy: 'model', forces: 'model/Å' });
});

test('oreo predict: the fast and autodiff paths agree to 1e-10 in float64 on rMD17 aspirin', () => {
  const run = (path: string) => {
    const r = runOreo(['predict', '--model', oreoModel, '--input', rmd17, '--frames', '0,7', '--dtype', 'float64', '--path', path]);
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as { path: string; frames: { energy: number; forces: number[][] }[] };
  };
  const fast = run('fast');
  const slow = run('autodiff');
  assert.equal(fast.path, 'fast');
  assert.equal(slow.path, 'autodiff');
  assert.equal(fast.frames.length, 2);
  fast.frames.forEach((f, i) => {
    const g = slow.frames[i];
    assert.ok(Math.abs(f.energy - g.energy) <= 1e-10 * Math.max(1, Math.abs(g.energy)), `frame ${i}: energy ${f.energy} vs ${g.energy}`);
    const scale = Math.max(1, ...g.forces.flat().map(Math.abs));
    f.forces.flat().forEach((x, k) => assert.ok(Math.abs(x - g.forces.flat()[k]) <= 1e-10 * scale, `frame ${i} component ${k}: ${x} vs ${g.forces.flat()[k]}`));
  });
  const bad = runOreo(['predict', '--model', oreoModel, '--input', rmd17, '--frames', '0', '--path', 'quick']);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /^oreo predict: error: --path quick: expected fast or autodiff/);
});

