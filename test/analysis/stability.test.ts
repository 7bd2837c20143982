import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findBonds, meanBondLengths, bondLengths, distance } from '../../src/analysis/bonds.js';
import { bondStability, mdsimBondStability, stabilityTime, hrStability } from '../../src/analysis/stability.js';
import { hr } from '../../src/analysis/hr.js';

// A bent water-like molecule O(0) H(1) H(2); O–H 0.96 Å, H–O–H about 104.5°.
const theta = (104.5 * Math.PI) / 180;
function water(r1: number, r2: number, shift = 0): Float64Array {
  return Float64Array.of(shift, 0, 0, shift + r1, 0, 0, shift + r2 * Math.cos(theta), r2 * Math.sin(theta), 0);
}

test('bonds follow ASE natural_cutoffs plus the NeighborList skin', () => {
  // O–H: 0.66 + 0.31 + 2·0.3 = 1.57 Å; H···H in water is 1.52 Å < 0.31 + 0.31 + 0.6 = 1.22? no: not bonded.
  assert.deepEqual(findBonds([8, 1, 1], water(0.96, 0.96)), [[0, 1], [0, 2]]);
  // Two hydrogens: bonded below 1.22 Å, not at 1.23 Å; without the skin, below 0.62 Å only.
  assert.deepEqual(findBonds([1, 1], [0, 0, 0, 1.21, 0, 0]), [[0, 1]]);
  assert.deepEqual(findBonds([1, 1], [0, 0, 0, 1.23, 0, 0]), []);
  assert.deepEqual(findBonds([1, 1], [0, 0, 0, 0.61, 0, 0], { skin: 0 }), [[0, 1]]);
  assert.deepEqual(findBonds([1, 1], [0, 0, 0, 0.63, 0, 0], { skin: 0 }), []);
  // A 1.09 Å C–H bond needs the skin: 0.76 + 0.31 = 1.07 Å.
  assert.deepEqual(findBonds([6, 1], [0, 0, 0, 0, 1.09, 0]), [[0, 1]]);
  assert.deepEqual(findBonds([6, 1], [0, 0, 0, 0, 1.09, 0], { skin: 0 }), []);
  assert.deepEqual(findBonds([6, 1], [0, 0, 0, 0, 1.2, 0], { skin: 0, mult: 1.15 }), [[0, 1]]);
});

test('minimum-image bond length in a cubic box, as MDsim measures it', () => {
  const x = [0.5, 0, 0, 29.5, 0, 0];
  assert.equal(distance(x, 0, 1), 29);
  assert.ok(Math.abs(distance(x, 0, 1, 30) - 1) < 1e-12);
  assert.deepEqual(Array.from(bondLengths(x, [[0, 1]], 30)).map((v) => +v.toFixed(12)), [1]);
});

test('stability: a bond that breaks at a known frame', () => {
  // Reference: O–H lengths 0.94 and 0.98 alternating → means exactly 0.96 for both bonds.
  const reference = [water(0.94, 0.98), water(0.98, 0.94), water(0.94, 0.98), water(0.98, 0.94)];
  const bonds = findBonds([8, 1, 1], reference[0]);
  const means = meanBondLengths(reference, bonds);
  assert.ok(Math.abs(means[0] - 0.96) < 1e-12 && Math.abs(means[1] - 0.96) < 1e-12);

  // Trajectory: bond 0–2 stretches by 0.1 Å per frame from 0.96; it passes 0.96 + 0.5 at
  // frame 6 (1.56 Å, deviation 0.6), while frame 5 deviates by 0.5 exactly (not > 0.5).
  const frames = Array.from({ length: 10 }, (_, t) => water(0.96, 0.96 + 0.1 * t, 0.01 * t));
  const times = Float64Array.from({ length: 10 }, (_, t) => 0.05 * t); // 50 fs per frame, in ps
  const s = bondStability(frames, bonds, means, { threshold: 0.5 });
  assert.equal(s.firstUnstableFrame, 6);
  assert.deepEqual(s.brokenBond, [0, 2]);
  assert.equal(s.collapseIndex, 7); // MDsim's collapse_pt = t* + 1
  assert.ok(Math.abs(stabilityTime(s.collapseIndex, times) - 0.3) < 1e-12); // (collapse_pt − 1)/20 ps
  assert.ok(Math.abs(s.maxDeviation[3] - 0.3) < 1e-9);

  // Whole criterion from the first frame, and a threshold the trajectory never passes.
  const whole = mdsimBondStability([8, 1, 1], frames, reference, { threshold: 1.0 });
  assert.equal(whole.firstUnstableFrame, null);
  assert.equal(whole.collapseIndex, 10);
  assert.ok(Math.abs(stabilityTime(whole.collapseIndex, times) - 0.45) < 1e-12);
});

test('stability: non-finite positions count as a collapse', () => {
  const reference = [water(0.96, 0.96)];
  const frames = [water(0.96, 0.96), water(0.97, 0.96), water(NaN, 0.96)];
  const s = mdsimBondStability([8, 1, 1], frames, reference);
  assert.equal(s.firstUnstableFrame, 2);
  assert.equal(s.maxDeviation[2], Infinity);
});

test('h(r) window criterion flags the first window that drifts away from the reference', () => {
  // Reference: water at its equilibrium geometry. The simulated molecule stays there for 30
  // frames, then both O–H bonds are stretched to 1.2 Å: within the 0.5 Å bond rule, but every
  // distance lands in a different h(r) bin.
  const reference = [water(0.96, 0.96)];
  const href = hr(reference);
  const frames = Array.from({ length: 60 }, (_, t) => (t < 30 ? water(0.96, 0.96) : water(1.2, 1.2)));
  const s = hrStability(frames, href, { windowFrames: 10, threshold: 1.1 });
  // Windows [i, i+10): the error of a window with m distorted frames is 2m/10 (disjoint bins),
  // so it first exceeds 1.1 when m = 6, i.e. i + 10 − 30 = 6 → i = 26.
  assert.equal(s.firstUnstableWindow, 26);
  assert.equal(s.collapseIndex, 26);
  assert.ok(Math.abs(s.windowMae[20]) < 1e-12);
  assert.ok(Math.abs(s.windowMae[25] - 1.0) < 1e-6);
  assert.ok(Number.isNaN(s.windowMae[0])); // MDsim starts at frame 1
  assert.ok(!Number.isNaN(s.windowMae[49])); // and stops at n − w − 1 (range(1, n − w))
  assert.ok(Number.isNaN(s.windowMae[50]));
});
