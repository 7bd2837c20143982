// `oreo label --calculator ani2x` through the registry: batched on worker threads, the same
// numbers as the ensemble on the calling thread (and as TorchANI's, via the parity fixture),
// the spread and level of theory recorded per frame, charged/open-shell/unknown elements refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { fixturesDir } from '../paths.js';
import { createReferenceCalculator } from '../../src/qm/registry.js';
import { AniReferenceCalculator } from '../../src/qm/ani.js';
import { labelFile } from '../../src/qm/label.js';
import { readExtxyzFile } from '../../src/data/extxyz.js';
import { Hartree } from '../../src/units.js';
import { InputError } from '../../src/errors.js';

const xyz = join(fixturesDir, 'torchani', 'molecules.xyz');
const reference = JSON.parse(readFileSync(join(fixturesDir, 'torchani', 'ani2x-reference.json'), 'utf8')) as {
  molecules: { ensemble: { energy: number } }[];
};

test('ani2x labels on two threads in batches: TorchANI energies, spreads and level of theory per frame', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'oreo-ani-label-'));
  const calc = createReferenceCalculator('ani2x', { parallel: 2 }) as AniReferenceCalculator;
  try {
    assert.equal(calc.threads, 2);
    const d = calc.describe();
    assert.equal(d.method, 'ANI-2x (ωB97X/6-31G(d))');
    assert.equal(d.program, 'oreo');
    assert.equal(d.settings.ensemble_size, 8);
    const out = join(dir, 'labelled.extxyz');
    // batchSize 32 and a window of framesInFlight: all six molecules go out as batches at once.
    const r = await labelFile({ input: xyz, output: out, calculator: calc, workers: calc.framesInFlight });
    assert.equal(r.labelled, 6);
    const frames = readExtxyzFile(out);
    frames.forEach((f, i) => {
      assert.equal(f.info.input_index, i);
      assert.equal(f.info.level_of_theory, 'ANI-2x (ωB97X/6-31G(d))');
      // float32 arithmetic (the calculator's default) against TorchANI's float64.
      const ref = reference.molecules[i].ensemble.energy;
      assert.ok(Math.abs((f.info.energy as number) / Hartree - ref) <= 1e-7 * Math.abs(ref), `frame ${i} energy`);
      const spread = f.arrays.ani_force_spread as Float64Array;
      assert.equal(spread.length, f.z.length);
      assert.equal(f.info.ani_force_spread_max, Math.max(...spread));
      assert.ok((f.info.ani_energy_spread as number) > 0);
      // The threaded batch gives what the calling thread gives for the frame alone.
      const one = calc.compute(f.z, f.positions);
      const forces = f.arrays.forces as Float64Array;
      assert.ok(Math.abs(one.energy - (f.info.energy as number)) <= 1e-6);
      for (let k = 0; k < forces.length; k++) assert.ok(Math.abs(one.forces[k] - forces[k]) <= 1e-5, `frame ${i} F[${k}]`);
    });
  } finally {
    await calc.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ani2x refuses a charge, unpaired electrons, and elements it has no network for (naming file and frame)', async () => {
  assert.throws(() => createReferenceCalculator('ani2x', { charge: -1 }), /neutral molecules only; charge -1/);
  assert.throws(() => createReferenceCalculator('ani2x', { unpaired: 1 }), /closed-shell/);
  const dir = mkdtempSync(join(tmpdir(), 'oreo-ani-label-'));
  const calc = createReferenceCalculator('ani2x', { parallel: 1 });
  try {
    const input = join(dir, 'in.xyz');
    writeFileSync(input, '2\nwater-ish\nO 0 0 0\nH 0.96 0 0\n3\nNaCl and H\nNa 0 0 0\nCl 2.4 0 0\nH 0 2 0\n');
    await assert.rejects(
      labelFile({ input, output: join(dir, 'out.extxyz'), calculator: calc }),
      (e: Error) => e instanceof InputError && /in\.xyz, record 0: .*open-shell/.test(e.message),
    );
    writeFileSync(input, '3\nwater\nO 0 0 0\nH 0.96 0 0\nH -0.24 0.93 0\n3\nNaCl and H\nNa 0 0 0\nCl 2.4 0 0\nH 0 2 0\n');
    await assert.rejects(labelFile({ input, output: join(dir, 'out.extxyz'), calculator: calc }), /record 1: .*has Na/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
