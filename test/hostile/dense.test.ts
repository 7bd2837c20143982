// Dense systems on the default fast path: work memory grows with the pair count, sizes past
// 2^31 bytes are aligned without wrapping, and the numbers match the autodiff path on a dense
// grid small enough for autodiff. The 2000-atom case itself (1.35 GB of arena) is measured in
// docs/reliability.md; here one 1.6 Å grid big enough to take the arena's growth path runs
// through the CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { align64 } from '../../src/model/fast/arena.js';
import { FastEnergyForces } from '../../src/model/fast/energy-forces.js';
import { loadPotential } from '../../src/model/load.js';
import { runMeasured, tempDir } from './files.js';
import { repoRoot } from '../paths.js';

const model = join(repoRoot, 'models', 'oreo-aspirin-et4x64.oreo');

/**
 * n atoms on a cubic grid, each moved by up to 0.01 Å: on the exact grid the vector features of
 * symmetric atoms are zero, where the ET's vector norm has no derivative, and the force there is
 * whatever rounding makes it on either path (finite differences give 0).
 */
function grid(n: number, spacing = 1.6): { z: Int32Array; positions: Float64Array } {
  const side = Math.ceil(Math.cbrt(n));
  const z = new Int32Array(n);
  const positions = new Float64Array(3 * n);
  for (let i = 0; i < n; i++) {
    z[i] = [6, 1, 8, 1][i % 4];
    positions[3 * i] = spacing * (i % side);
    positions[3 * i + 1] = spacing * (Math.floor(i / side) % side);
    positions[3 * i + 2] = spacing * Math.floor(i / side / side);
  }
  for (let k = 0; k < positions.length; k++) positions[k] += 0.01 * Math.sin(7 * k);
  return { z, positions };
}

test('64-byte alignment past 2^31 bytes does not wrap (the cause of ArenaFull on 1600–2000 atoms)', () => {
  for (const x of [2 ** 31 - 1, 2 ** 31 + 1, 3e9 + 5, 2 ** 33 + 63]) {
    const a = align64(x);
    assert.ok(a >= x && a - x < 64 && a % 64 === 0, `${x} → ${a}`);
  }
});

test('a dense 1.6 Å grid: the fast path equals autodiff (float64)', () => {
  const { z, positions } = grid(110);
  const pot = loadPotential(model, { dtype: 'float64' });
  const mol = new Int32Array(z.length);
  const fast = new FastEnergyForces(pot);
  const f = fast.compute(z, positions, mol, 1);
  const ad = pot.predict({ z, positions, mol, nMol: 1 });
  assert.ok(Math.abs(f.energy[0] - ad.energy.data[0]) <= 1e-9 * Math.abs(ad.energy.data[0]), `${f.energy[0]} vs ${ad.energy.data[0]}`);
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < f.forces.length; i++) {
    worst = Math.max(worst, Math.abs(f.forces[i] - ad.forces.data[i]));
    scale = Math.max(scale, Math.abs(ad.forces.data[i]));
  }
  assert.ok(worst <= 1e-9 * scale, `max force difference ${worst} (max |F| ${scale})`);
  fast.dispose();
});

test('oreo predict on 2000 atoms on a 1.6 Å grid: the default (fast) path answers within 3 GB', () => {
  const dir = tempDir('dense');
  const { z, positions } = grid(2000);
  const sym: Record<number, string> = { 1: 'H', 6: 'C', 8: 'O' };
  let text = `${z.length}\ndense grid\n`;
  for (let i = 0; i < z.length; i++) text += `${sym[z[i]]} ${positions[3 * i]} ${positions[3 * i + 1]} ${positions[3 * i + 2]}\n`;
  const f = join(dir, 'grid.xyz');
  writeFileSync(f, text);
  const r = runMeasured(['predict', '--model', model, '--input', f]);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { path: string; frames: { energy: number; forces: number[][] }[] };
  assert.equal(out.path, 'fast');
  assert.ok(Number.isFinite(out.frames[0].energy));
  assert.equal(out.frames[0].forces.length, 2000);
  assert.ok(r.maxRssMB < 3072, `peak ${r.maxRssMB.toFixed(0)} MB`);
});
