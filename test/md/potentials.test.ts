import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Calculator } from '../../src/calculator.js';
import { LennardJones } from '../../src/md/potentials/lennard-jones.js';
import { Morse } from '../../src/md/potentials/morse.js';
import { HarmonicBonds } from '../../src/md/potentials/harmonic-bonds.js';
import { createAnalyticCalculator, isAnalyticSpec, parseAnalyticSpec } from '../../src/md/potentials/registry.js';
import { OreoError } from '../../src/errors.js';
import { fccCluster } from './helpers.js';

/** Largest |F + dE/dx| over all coordinates, by central differences. */
function forceError(calc: Calculator, z: Int32Array, x: Float64Array, h = 1e-5): { err: number; scale: number } {
  const { forces } = calc.compute(z, x);
  let err = 0, scale = 0;
  for (let k = 0; k < x.length; k++) {
    const xp = Float64Array.from(x), xm = Float64Array.from(x);
    xp[k] += h;
    xm[k] -= h;
    const dE = (calc.compute(z, xp).energy - calc.compute(z, xm).energy) / (2 * h);
    err = Math.max(err, Math.abs(forces[k] + dE));
    scale = Math.max(scale, Math.abs(forces[k]));
  }
  return { err, scale };
}

function distorted(n: number, a: number, amp: number): Float64Array {
  const x = fccCluster(n, a);
  for (let i = 0; i < x.length; i++) x[i] += amp * Math.sin(3.7 * i + 1);
  return x;
}

test('Lennard-Jones: forces are −∇E; well depth ε at 2^(1/6)σ; energy shifted to zero at rc', () => {
  const lj = new LennardJones({ epsilon: 0.0104, sigma: 3.4, rc: 8.5 });
  const z = new Int32Array(13).fill(18);
  const { err, scale } = forceError(lj, z, distorted(13, 3.8, 0.3));
  assert.ok(err < 1e-8 * Math.max(1, scale) && scale > 1e-3, `err ${err}, scale ${scale}`);
  const pair = (r: number, calc: Calculator) => calc.compute(new Int32Array([18, 18]), Float64Array.from([0, 0, 0, r, 0, 0])).energy;
  const all = new LennardJones({ epsilon: 0.0104, sigma: 3.4, rc: Infinity });
  assert.ok(Math.abs(pair(2 ** (1 / 6) * 3.4, all) + 0.0104) < 1e-15);
  assert.ok(Math.abs(pair(3.4, all)) < 1e-15);
  // shifted: continuous at rc, zero beyond, and the shift is V_LJ(rc)
  assert.ok(Math.abs(pair(8.5 - 1e-9, lj)) < 1e-12);
  assert.equal(pair(8.6, lj), 0);
  assert.ok(Math.abs(pair(4, lj) - (pair(4, all) - pair(8.5, all))) < 1e-16);
});

test('Morse: forces are −∇E and the minimum −ε sits at r0', () => {
  const morse = new Morse({ epsilon: 0.5, rho0: 6, r0: 2.6 });
  const z = new Int32Array(13).fill(29);
  const { err, scale } = forceError(morse, z, distorted(13, 2.6, 0.2));
  assert.ok(err < 1e-7 * Math.max(1, scale) && scale > 1e-2, `err ${err}, scale ${scale}`);
  const pair = (r: number) => morse.compute(new Int32Array([29, 29]), Float64Array.from([0, 0, 0, 0, 0, r])).energy;
  assert.ok(Math.abs(pair(2.6) + 0.5) < 1e-15);
  assert.ok(pair(2.55) > -0.5 && pair(2.65) > -0.5);
});

test('harmonic bonds: found from covalent radii, zero energy at the reference, forces −∇E', () => {
  // water: two O–H bonds, no H–H bond
  const z = Int32Array.from([8, 1, 1]);
  const x = Float64Array.from([0, 0, 0, 0.9572, 0, 0, -0.2400, 0.9266, 0]);
  const calc = new HarmonicBonds({ k: 30, skin: 0.3 }, { z, positions: x });
  assert.deepEqual(calc.bonds.map((b) => [b.i, b.j]), [[0, 1], [0, 2]]);
  assert.equal(calc.compute(z, x).energy, 0);
  const moved = Float64Array.from(x);
  moved[3] += 0.1; // stretch the first bond by 0.1 Å
  assert.ok(Math.abs(calc.compute(z, moved).energy - 0.5 * 30 * 0.01) < 1e-12);
  for (let i = 0; i < x.length; i++) moved[i] += 0.05 * Math.cos(i);
  const { err } = forceError(calc, z, moved);
  assert.ok(err < 1e-7);
  assert.throws(() => calc.checkElements(Int32Array.from([8, 1])), /different molecule/);
});

test('registry: specs, defaults, element restrictions and errors', () => {
  assert.ok(isAnalyticSpec('lj') && isAnalyticSpec('morse:r0=2.5') && !isAnalyticSpec('model.ckpt'));
  const lj = createAnalyticCalculator('lj') as LennardJones;
  assert.deepEqual([lj.params.epsilon, lj.params.sigma, lj.params.rc], [0.0104, 3.4, 3 * 3.4]);
  const lj2 = createAnalyticCalculator('lj:epsilon=0.01,sigma=3,rc=inf') as LennardJones;
  assert.deepEqual([lj2.params.epsilon, lj2.params.sigma, lj2.params.rc], [0.01, 3, Infinity]);
  assert.deepEqual(parseAnalyticSpec('morse:elements=C,H,O,r0=1.2').params, { numbers: { r0: 1.2 }, elements: [6, 1, 8] });
  const restricted = createAnalyticCalculator('lj:elements=Ar');
  restricted.checkElements!(Int32Array.from([18, 18]));
  assert.throws(() => restricted.checkElements!(Int32Array.from([18, 6])), (e: Error) => e instanceof OreoError && /covers Ar.*C/.test(e.message));
  assert.throws(() => createAnalyticCalculator('lj:sigma=abc'), /not a number/);
  assert.throws(() => createAnalyticCalculator('lj:temperature=3'), /unknown parameter 'temperature'/);
  assert.throws(() => createAnalyticCalculator('lj:epsilon=-1'), /must be > 0/);
  assert.throws(() => createAnalyticCalculator('spring'), /unknown analytic potential/);
  assert.throws(() => createAnalyticCalculator('harmonic'), /starting structure/);
});
