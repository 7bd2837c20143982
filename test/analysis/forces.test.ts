import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateCalculator, forceMae, ForceErrorAccumulator, toMeVPerAngstrom } from '../../src/analysis/forces.js';
import type { Calculator } from '../../src/calculator.js';
import type { Conformation } from '../../src/data/conformation.js';

test('force MAE is the mean over all Cartesian components, reported in meV/Å', () => {
  // |Δ| per component: frame 0: 0.5, 0, 1; frame 1: 0.1, 0.2, 0.3, 0.4, 0, 0 → sum 2.5 over 9.
  const pred = [Float64Array.of(1, 2, 3), Float64Array.of(0.1, 0.2, 0.3, 0.4, 0, 0)];
  const ref = [Float64Array.of(1.5, 2, 2), Float64Array.of(0, 0, 0, 0, 0, 0)];
  const mae = forceMae(pred, ref);
  assert.ok(Math.abs(mae - 2.5 / 9) < 1e-15);
  assert.ok(Math.abs(toMeVPerAngstrom(mae) - 2500 / 9) < 1e-12);
  assert.throws(() => forceMae([Float64Array.of(1, 2, 3)], [Float64Array.of(1, 2)]), /3 predicted vs 2/);
  assert.throws(() => forceMae(pred, ref.slice(1)), /2 predicted vs 1 reference frames/);
});

test('the accumulator gives RMSE and energy errors too', () => {
  const acc = new ForceErrorAccumulator();
  acc.addForces([3, 0, 0], [0, 0, 0]);
  acc.addForces([0, 0, 0], [0, 4, 0]);
  acc.addEnergy(-1, -1.5);
  acc.addEnergy(2, 1);
  const r = acc.result();
  assert.ok(Math.abs(r.forceMae - 7 / 6) < 1e-15);
  assert.ok(Math.abs(r.forceRmse - Math.sqrt(25 / 6)) < 1e-15);
  assert.equal(r.components, 6);
  assert.equal(r.frames, 2);
  assert.ok(Math.abs(r.energyMae! - 0.75) < 1e-15);
});

test('evaluateCalculator compares a calculator with labelled frames', () => {
  // A harmonic pair potential E = ½k(d − d0)², evaluated analytically.
  const k = 2, d0 = 1;
  const calc: Calculator = {
    name: 'harmonic pair',
    compute(_z, x) {
      const dx = x[3] - x[0], dy = x[4] - x[1], dz = x[5] - x[2];
      const d = Math.hypot(dx, dy, dz);
      const f = -k * (d - d0); // force on atom 1 along the unit vector from 0 to 1
      const u = [dx / d, dy / d, dz / d];
      return { energy: 0.5 * k * (d - d0) ** 2, forces: Float64Array.of(-f * u[0], -f * u[1], -f * u[2], f * u[0], f * u[1], f * u[2]) };
    },
  };
  // Reference labels: zero forces and energies, so the error is the potential's own force.
  const frames: Conformation[] = [1.2, 0.9].map((d) => ({
    z: Int32Array.of(1, 1),
    positions: Float64Array.of(0, 0, 0, d, 0, 0),
    forces: new Float64Array(6),
    energy: 0,
  }));
  let calls = 0;
  const r = evaluateCalculator(calc, frames, () => calls++);
  // |F| = k|d − d0| on x of both atoms: 0.4 and 0.2 → sum of |components| = 2·0.4 + 2·0.2 over 12.
  assert.ok(Math.abs(r.forceMae - 1.2 / 12) < 1e-15);
  assert.ok(Math.abs(r.energyMae! - (0.04 + 0.01) / 2) < 1e-15);
  assert.equal(calls, 2);
});
