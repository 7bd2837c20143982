import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkSameMolecule, parseThermoCsv, readReference, readSimulationOutput, trajectoryFromFrames } from '../../src/analysis/io.js';
import { formatExtxyzFrame, type ExtxyzFrame } from '../../src/data/extxyz.js';
import { InputError } from '../../src/errors.js';

const tmp = mkdtempSync(join(tmpdir(), 'oreo-analysis-io-'));

function frame(step: number, x: number, z = [8, 1, 1]): ExtxyzFrame {
  return {
    z: Int32Array.from(z),
    positions: Float64Array.of(0, 0, 0, x, 0, 0, 0, 0.96, 0).subarray(0, 3 * z.length),
    info: { energy: -step, step, time_fs: step * 0.5, T_K: 300 + step },
    arrays: { forces: new Float64Array(3 * z.length).fill(step) },
  };
}

test('thermo.csv: columns by name, a restart overlap is replaced, a torn last line is ignored', () => {
  const text = 'T_K,time_ps,Etot_eV,Epot_eV,Ekin_eV\n300,0,1,0.5,0.5\n310,0.05,1,0.4,0.6\n320,0.1,1,0.3,0.7\n' +
    // resumed from the checkpoint at 0.05 ps
    '311,0.05,1,0.41,0.59\n321,0.1,1,0.31,0.69\n330,0.15,1,0';
  const t = parseThermoCsv(text, 'thermo.csv');
  assert.deepEqual(Array.from(t.timePs), [0, 0.05, 0.1]);
  assert.deepEqual(Array.from(t.temperature), [300, 311, 321]);
  assert.deepEqual(Array.from(t.epot), [0.5, 0.41, 0.31]);
});

test('thermo.csv errors name the file, line and column', () => {
  assert.throws(() => parseThermoCsv('time_ps,Etot_eV,Epot_eV,T_K\n', 'a/thermo.csv'), (e: Error) => e instanceof InputError && /a\/thermo\.csv.*Ekin_eV/.test(e.message));
  assert.throws(
    () => parseThermoCsv('time_ps,Etot_eV,Epot_eV,Ekin_eV,T_K\n0,1,x,1,1\n0.05,1,1,1,1\n', 'b.csv'),
    (e: Error) => /b\.csv, record 0, field 'Epot_eV': line 2: 'x' is not a number/.test(e.message),
  );
});

test('trajectory frames: restart duplicates dropped by step, per-frame series read, atoms checked', () => {
  const t = trajectoryFromFrames([frame(0, 0.96), frame(100, 0.97), frame(200, 0.98), frame(100, 0.99), frame(200, 1.0), frame(300, 1.01)], 'traj.extxyz');
  assert.equal(t.frames.length, 4);
  assert.deepEqual(Array.from(t.timesPs!), [0, 0.05, 0.1, 0.15]);
  assert.deepEqual(Array.from(t.energies!), [-0, -100, -200, -300]);
  assert.deepEqual(Array.from(t.temperatures!), [300, 400, 500, 600]);
  assert.equal(t.frames[1][3], 0.99); // the later copy of step 100 wins
  assert.equal(t.forces![3][0], 300);
  assert.throws(() => trajectoryFromFrames([frame(0, 1), frame(1, 1, [8, 1])], 'x.extxyz'), /x\.extxyz, record 1.*different atoms/);
});

test('a simulation folder is read; missing pieces are reported clearly', () => {
  const dir = join(tmp, 'run');
  mkdirSync(dir);
  assert.throws(() => readSimulationOutput(dir), /no trajectory\.extxyz/);
  assert.throws(() => readSimulationOutput(join(tmp, 'nope')), /not a directory/);
  // Frames without time_fs take their times from thermo.csv when the counts agree.
  const frames = [frame(0, 0.96), frame(100, 0.97)].map((f) => ({ ...f, info: { energy: f.info.energy } }));
  writeFileSync(join(dir, 'trajectory.extxyz'), frames.map(formatExtxyzFrame).join(''));
  assert.throws(() => readSimulationOutput(dir), /cannot tell the time of each frame/);
  writeFileSync(join(dir, 'thermo.csv'), 'time_ps,Etot_eV,Epot_eV,Ekin_eV,T_K\n0,1,0,1,300\n0.05,1,0,1,310\n');
  const out = readSimulationOutput(dir);
  assert.deepEqual(Array.from(out.trajectory.timesPs!), [0, 0.05]);
  assert.equal(out.thermo!.temperature[1], 310);
});

test('a reference with another atom order is refused', () => {
  const path = join(tmp, 'ref.extxyz');
  writeFileSync(path, formatExtxyzFrame(frame(0, 0.96, [1, 8, 1])));
  const ref = readReference(path);
  const traj = trajectoryFromFrames([frame(0, 0.96)], 'traj.extxyz');
  assert.throws(() => checkSameMolecule(traj, ref), /atom 0 is Z=1 in the reference but Z=8/);
  assert.throws(() => readReference(join(tmp, 'ref.pdb')), /\.npz or an \.xyz/);
});
