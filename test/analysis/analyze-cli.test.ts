// `oreo analyze` end to end: a synthetic trajectory folder made from real ethanol geometries
// (rMD17, in the repo's data/) in which the O–H bond is pulled apart at a known frame.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runOreo } from '../cli.js';
import { dataDir, fixturesDir } from '../paths.js';
import { formatExtxyzFrame } from '../../src/data/extxyz.js';
import { readMd17Npz } from '../../src/data/md17.js';
import { findBonds } from '../../src/analysis/bonds.js';
import { hr, hrMae } from '../../src/analysis/hr.js';
import { pngSize } from '../../src/analysis/plot/png.js';

const tmp = mkdtempSync(join(tmpdir(), 'oreo-analyze-'));
const refPath = join(dataDir, 'rmd17', 'rmd17_ethanol_test_01.npz');
const reference = readMd17Npz(refPath);
const z = reference[0].z;
const N_FRAMES = 40;
const BREAK_AT = 30;

// O (atom 2) and the hydrogen bonded to it.
const oh = findBonds(z, reference[0].positions).find(([i, j]) => (z[i] === 8 && z[j] === 1) || (z[j] === 8 && z[i] === 1))!;
const hIndex = z[oh[0]] === 1 ? oh[0] : oh[1];
const oIndex = z[oh[0]] === 8 ? oh[0] : oh[1];

const frames = reference.slice(0, N_FRAMES).map((c, t) => {
  const x = Float64Array.from(c.positions);
  if (t >= BREAK_AT) {
    // Move the hydrogen 0.8 Å further out along the O–H direction.
    const d = [0, 1, 2].map((k) => x[3 * hIndex + k] - x[3 * oIndex + k]);
    const len = Math.hypot(...d);
    for (let k = 0; k < 3; k++) x[3 * hIndex + k] += (0.8 * d[k]) / len;
  }
  return x;
});

const runDir = join(tmp, 'run');
mkdirSync(runDir);
writeFileSync(
  join(runDir, 'trajectory.extxyz'),
  frames
    .map((x, t) =>
      formatExtxyzFrame({
        z,
        positions: x,
        info: { energy: -4.2 + 0.01 * t, step: 100 * t, time_fs: 50 * t, T_K: 500 + t },
        arrays: { forces: new Float64Array(x.length) },
        pbc: [false, false, false],
      }),
    )
    .join(''),
);
writeFileSync(
  join(runDir, 'thermo.csv'),
  'time_ps,Etot_eV,Epot_eV,Ekin_eV,T_K\n' + frames.map((_, t) => `${0.05 * t},-3,${-4.2 + 0.01 * t},1.2,${500 + t}`).join('\n') + '\n',
);

test('oreo analyze writes metrics.json, SVG + PNG plots and report.html with the known collapse', () => {
  const out = join(tmp, 'analysis');
  const r = runOreo(['analyze', '--traj', runDir, '--reference', refPath, '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines[lines.length - 1], `output folder: ${out}`);

  const m = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
  assert.equal(m.frames, N_FRAMES);
  assert.equal(m.stability.bonds, 8); // ethanol: 8 bonds, as ASE's NeighborList finds them
  assert.equal(m.stability.first_unstable_frame, BREAK_AT);
  assert.deepEqual([...m.stability.broken_bond.atoms].sort(), [oIndex, hIndex].sort());
  assert.ok(Math.abs(m.mdsim.stability_ps - 0.05 * BREAK_AT) < 1e-12);
  assert.equal(m.mdsim.force_mae_meV_per_A, null);
  // h(r) over frames [0, BREAK_AT] (the first unstable frame included), against all 1000 reference frames.
  const expected = hrMae(hr(frames.slice(0, BREAK_AT + 1)), hr(reference.map((c) => c.positions)));
  assert.ok(Math.abs(m.mdsim.hr_mae - expected) < 1e-12);
  assert.equal(m.temperature_K.initial, 500);

  for (const stem of ['hr', 'energy', 'temperature', 'rmsd', 'bond-deviation', 'hr-window']) {
    assert.ok(existsSync(join(out, `${stem}.svg`)), `${stem}.svg`);
    assert.deepEqual(pngSize(readFileSync(join(out, `${stem}.png`))), { width: 1440, height: 880 });
  }
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  assert.match(html, /<img src="hr\.svg"/);
  assert.match(html, /href="metrics\.json"/);
  assert.match(html, /1\.5 ps/);
});

test('a tighter --threshold and a different --out are honoured; bad input is one clear line', () => {
  const out = join(tmp, 'strict');
  const r = runOreo(['analyze', '--traj', runDir, '--reference', refPath, '--out', out, '--threshold', '0.05', '--png-scale', '1']);
  assert.equal(r.status, 0, r.stderr);
  const m = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
  assert.ok(m.stability.first_unstable_frame < BREAK_AT);
  assert.equal(m.stability.threshold_A, 0.05);
  assert.deepEqual(pngSize(readFileSync(join(out, 'rmsd.png'))), { width: 720, height: 440 });

  const wrong = runOreo(['analyze', '--traj', runDir, '--reference', join(dataDir, 'rmd17', 'rmd17_aspirin_test_01.npz'), '--out', join(tmp, 'x')]);
  assert.equal(wrong.status, 1);
  assert.match(wrong.stderr, /reference has 21 atoms, the trajectory .* has 9/);
  assert.doesNotMatch(wrong.stderr, /\n\s+at /);
  const noTraj = runOreo(['analyze', '--reference', refPath]);
  assert.match(noTraj.stderr, /--traj is required/);
});

test('--model adds the force MAE on a labelled test set', () => {
  // Two ethanol frames with TorchMD-Net's own forces for the tiny ET fixture: MAE ≈ 0;
  // the same frames with every force component shifted by 0.02: MAE = 20 meV/Å.
  const dir = join(fixturesDir, 'torchmdnet', 'et-tiny');
  const cases = (JSON.parse(readFileSync(join(dir, 'cases.json'), 'utf8')).cases as { z: number[]; pos: number[][]; forces: number[][] }[]).slice(0, 2);
  const write = (name: string, shift: number) => {
    const path = join(tmp, name);
    writeFileSync(path, cases.map((c) => formatExtxyzFrame({
      z: Int32Array.from(c.z),
      positions: Float64Array.from(c.pos.flat()),
      info: {},
      arrays: { forces: Float64Array.from(c.forces.flat(), (f) => f + shift) },
    })).join(''));
    return path;
  };
  for (const [name, shift] of [['exact.extxyz', 0], ['shifted.extxyz', 0.02]] as const) {
    const out = join(tmp, `fm-${shift}`);
    const r = runOreo(['analyze', '--traj', runDir, '--reference', refPath, '--out', out, '--model', join(dir, 'model.ckpt'), '--test', write(name, shift)]);
    assert.equal(r.status, 0, r.stderr);
    const m = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    assert.equal(m.force_errors.components, 2 * 9 * 3);
    assert.ok(Math.abs(m.mdsim.force_mae_meV_per_A - 1000 * shift) < 1e-4, `force MAE ${m.mdsim.force_mae_meV_per_A}`);
    assert.match(r.stdout, /force MAE/);
  }
});
