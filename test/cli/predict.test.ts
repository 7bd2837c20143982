import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runOreo } from '../cli.js';
import { fixturesDir } from '../paths.js';
import { formatExtxyzFrame } from '../../src/data/extxyz.js';

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
