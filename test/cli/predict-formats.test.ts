// `oreo predict` reads every format through src/data/read.ts (here: npz, SDF, PDB) and writes
// extxyz with the predictions as MACE's eval_configs does (prefixed keys), the file's labels kept
// as REF_energy/REF_forces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readMd17Npz } from '../../src/data/md17.js';
import { formatSdfRecord } from '../../src/data/sdf.js';
import { readExtxyzFile } from '../../src/data/extxyz.js';
import { readConformations } from '../../src/data/read.js';
import { symbolOf } from '../../src/elements.js';
import { runOreo } from '../cli.js';
import { repoRoot } from '../paths.js';

const tmp = mkdtempSync(join(tmpdir(), 'oreo-predict-formats-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const model = join(repoRoot, 'models', 'oreo-ethanol-et4x64.oreo');
const npz = join(repoRoot, 'data', 'rmd17', 'rmd17_ethanol_test_01.npz');

/** A PDB of the frames, fixed columns as wwPDB v3.3 lays them out (HETATM, element in 77–78). */
function pdbOf(frames: { z: Int32Array; positions: Float64Array }[]): string {
  const out: string[] = ['REMARK   written by the oreo test'];
  frames.forEach((f, m) => {
    out.push(`MODEL     ${String(m + 1).padStart(4)}`);
    for (let a = 0; a < f.z.length; a++) {
      const el = symbolOf(f.z[a]);
      const [x, y, z] = [0, 1, 2].map((k) => f.positions[3 * a + k].toFixed(3).padStart(8));
      out.push(`HETATM${String(a + 1).padStart(5)} ${(el + (a + 1)).padEnd(4)} ETH A   1    ${x}${y}${z}  1.00  0.00          ${el.padStart(2)}`);
    }
    out.push('ENDMDL');
  });
  out.push('END');
  return out.join('\n') + '\n';
}

function predict(input: string, extra: string[] = []): { frame: number; energy: number; forces: number[][] }[] {
  const r = runOreo(['predict', '--model', model, '--input', input, ...extra]);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout).frames;
}

test('the same frames as npz, SDF and PDB give the same predictions (to the files\' decimals)', async () => {
  const frames = readMd17Npz(npz).slice(0, 2);
  const sdf = join(tmp, 'eth.sdf');
  writeFileSync(sdf, frames.map((f) => formatSdfRecord(f)).join(''));
  const pdb = join(tmp, 'eth.pdb');
  writeFileSync(pdb, pdbOf(frames));
  const read = await readConformations(pdb);
  assert.equal(read.length, 2);
  assert.deepEqual(Array.from(read[1].z), Array.from(frames[1].z));
  const ref = predict(npz, ['--frames', '0-1']);
  for (const [file, tol] of [[sdf, 0.02], [pdb, 0.05]] as const) {
    const got = predict(file);
    assert.equal(got.length, 2, file);
    // 4 (SDF) or 3 (PDB) decimals of Å move the energy by a few meV at most.
    for (let m = 0; m < 2; m++) assert.ok(Math.abs(got[m].energy - ref[m].energy) < tol, `${file} frame ${m}: ${got[m].energy} vs ${ref[m].energy}`);
  }
  // A PDB with a bad coordinate is refused naming file and line.
  const bad = join(tmp, 'bad.pdb');
  const lines = pdbOf(frames.slice(0, 1)).split('\n');
  lines[4] = lines[4].slice(0, 30) + '   x.xxx' + lines[4].slice(38);
  writeFileSync(bad, lines.join('\n'));
  const r = runOreo(['predict', '--model', model, '--input', bad]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /bad\.pdb.*line 5: x 'x\.xxx' is not a number/);
});

test('--out x.extxyz: predictions as oreo_energy/oreo_forces, labels as REF_energy/REF_forces', () => {
  const out = join(tmp, 'pred.extxyz');
  const json = predict(npz, ['--frames', '3,5']);
  const r = runOreo(['predict', '--model', model, '--input', npz, '--frames', '3,5', '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  const frames = readExtxyzFile(out);
  const labels = readMd17Npz(npz);
  assert.equal(frames.length, 2);
  frames.forEach((f, m) => {
    assert.equal(f.info.frame, json[m].frame);
    assert.equal(f.info.oreo_energy, json[m].energy);
    assert.deepEqual(Array.from(f.arrays.oreo_forces), json[m].forces.flat());
    assert.equal(f.info.REF_energy, labels[json[m].frame].energy);
    assert.deepEqual(Array.from(f.arrays.REF_forces), Array.from(labels[json[m].frame].forces!));
  });
});
