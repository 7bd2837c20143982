// oreo's ET against TorchMD-Net's own numbers (fixtures computed by TorchMD-Net v2.6.2).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadPotential } from '../../src/model/load.js';
import { torchmdnetFixture, FixtureCase, rotation, applyRotation } from './helpers.js';
import type { Potential } from '../../src/model/potential.js';

function relErrors(pot: Potential, cases: FixtureCase[]): { e: number; f: number }[] {
  // All cases as one batch.
  const n = cases.reduce((s, c) => s + c.z.length, 0);
  const z = new Int32Array(n);
  const positions = new Float64Array(3 * n);
  const mol = new Int32Array(n);
  let o = 0;
  cases.forEach((c, m) => {
    z.set(c.z, o);
    positions.set(c.pos.flat(), 3 * o);
    mol.fill(m, o, o + c.z.length);
    o += c.z.length;
  });
  const pred = pot.predict({ z, positions, mol, nMol: cases.length });
  o = 0;
  return cases.map((c, m) => {
    const ref = c.forces.flat();
    let df = 0;
    let fmax = 0;
    ref.forEach((v, k) => {
      df = Math.max(df, Math.abs(pred.forces.data[3 * o + k] - v));
      fmax = Math.max(fmax, Math.abs(v));
    });
    o += c.z.length;
    return { e: Math.abs(pred.energy.data[m] - c.energy) / Math.abs(c.energy), f: df / fmax };
  });
}

const fixtures: [string, number][] = [
  ['et-tiny', 1e-9],
  ['et-tiny-vcut', 1e-9],
  ['et-small-f32', 1e-9], // float32 weights, reference computed in float64 from them
];

for (const [name, tol64] of fixtures) {
  const { ckpt, data } = torchmdnetFixture(name);

  test(`${name}: float64 energies and forces match TorchMD-Net, batched`, () => {
    const pot = loadPotential(ckpt, { dtype: 'float64' });
    assert.equal(pot.parameterCount(), data.n_params);
    for (const r of relErrors(pot, data.cases)) {
      assert.ok(r.e < tol64, `energy rel. error ${r.e}`);
      assert.ok(r.f < tol64, `force rel. error ${r.f}`);
    }
  });

  test(`${name}: one structure at a time gives the same numbers`, () => {
    const pot = loadPotential(ckpt, { dtype: 'float64' });
    for (const c of data.cases) {
      const [r] = relErrors(pot, [c]);
      assert.ok(r.e < tol64 && r.f < tol64, `${c.source}#${c.frame}: ${JSON.stringify(r)}`);
    }
  });

  test(`${name}: float32 arithmetic stays within 1e-4`, () => {
    const pot = loadPotential(ckpt, { dtype: 'float32' });
    for (const r of relErrors(pot, data.cases)) {
      assert.ok(r.e < 1e-4, `energy rel. error ${r.e}`);
      assert.ok(r.f < 1e-4, `force rel. error ${r.f}`);
    }
  });
}

test('the checkpoint precision sets the default dtype', () => {
  assert.equal(loadPotential(torchmdnetFixture('et-tiny').ckpt).dtype, 'float64');
  assert.equal(loadPotential(torchmdnetFixture('et-small-f32').ckpt).dtype, 'float32');
});

test('rotating and translating the input rotates the forces and keeps the energy; forces sum to zero', () => {
  const { ckpt, data } = torchmdnetFixture('et-tiny-vcut');
  const pot = loadPotential(ckpt, { dtype: 'float64' });
  const c = data.cases[1]; // 42-atom peptide
  const z = Int32Array.from(c.z);
  const pos = Float64Array.from(c.pos.flat());
  const base = pot.predict({ z, positions: pos });
  const R = rotation(0.7, -1.3, 2.1);
  const moved = pot.predict({ z, positions: applyRotation(R, pos, [3.5, -20, 7.25]) });
  assert.ok(Math.abs(moved.energy.data[0] - base.energy.data[0]) < 1e-10 * Math.abs(base.energy.data[0]));
  const rotated = applyRotation(R, base.forces.data);
  let maxDiff = 0;
  rotated.forEach((v, k) => (maxDiff = Math.max(maxDiff, Math.abs(v - moved.forces.data[k]))));
  assert.ok(maxDiff < 1e-10, `force equivariance error ${maxDiff}`);
  const total = [0, 0, 0];
  base.forces.data.forEach((v, k) => (total[k % 3] += v));
  for (const t of total) assert.ok(Math.abs(t) < 1e-10, `net force ${total}`);
});

test('forces equal minus the finite-difference gradient of the energy', () => {
  const { ckpt, data } = torchmdnetFixture('et-tiny');
  const pot = loadPotential(ckpt, { dtype: 'float64' });
  const c = data.cases[2];
  const z = Int32Array.from(c.z);
  const pos = Float64Array.from(c.pos.flat());
  const f = pot.predict({ z, positions: pos }).forces.data;
  const h = 1e-5;
  for (const k of [0, 7, 20, 41, 62]) {
    const p = pos.slice();
    p[k] += h;
    const ep = pot.energy({ z, positions: p }).data[0];
    p[k] -= 2 * h;
    const em = pot.energy({ z, positions: p }).data[0];
    const fd = -(ep - em) / (2 * h);
    assert.ok(Math.abs(fd - f[k]) < 1e-7 * Math.max(1, Math.abs(fd)), `component ${k}: ${f[k]} vs ${fd}`);
  }
});
