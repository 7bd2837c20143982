import { test } from 'node:test';
import assert from 'node:assert/strict';
import { binEdges, DistanceHistogram, hr, hrMae, MDSIM_HR_BINS } from '../../src/analysis/hr.js';

// Two fixed frames of a three-atom molecule.
//   frame A: (0,0,0) (1,0,0) (0,2,0)        → distances 1, 2, √5 = 2.2360680
//   frame B: (0,0,0) (0,0,1.5) (0,0,3)      → distances 1.5, 1.5, 3
// MDsim's bins: edges 1e-6 + k·Δ with Δ = (10 − 1e-6)/500 = 0.019999998 Å.
// By hand, bin k = floor((d − 1e-6)/Δ):
//   d = 1   → 0.999999/0.019999998 = 49.99996  → 49
//   d = 1.5 → 1.499999/0.019999998 = 74.99996  → 74 (twice)
//   d = 2   → 1.999999/0.019999998 = 99.99996  → 99
//   d = √5  → 2.236067/0.019999998 = 111.8034  → 111
//   d = 3   → 2.999999/0.019999998 = 149.99996 → 149
// Six distances in range, so h = count / (6 · 0.019999998).
const frameA = [0, 0, 0, 1, 0, 0, 0, 2, 0];
const frameB = [0, 0, 0, 0, 0, 1.5, 0, 0, 3];
const width = (10 - 1e-6) / 500;

test('h(r) of two fixed frames matches the hand computation', () => {
  const h = hr([frameA, frameB]);
  assert.equal(h.length, 500);
  const expected = new Map([[49, 1], [74, 2], [99, 1], [111, 1], [149, 1]]);
  for (let k = 0; k < 500; k++) {
    const want = (expected.get(k) ?? 0) / (6 * width);
    assert.ok(Math.abs(h[k] - want) < 1e-9 * Math.max(1, want), `bin ${k}: ${h[k]} vs ${want}`);
  }
});

test('h(r) is a density: Σ h Δr = 1, and self-distances and far pairs are dropped', () => {
  const far = [0, 0, 0, 0, 0, 10.5, 0, 0, 1]; // 10.5 Å is past the last edge
  const hist = new DistanceHistogram();
  hist.addFrames([frameA, far]);
  assert.equal(hist.total, 3 + 2); // 1, 2, √5; 9.5 and 1 from the second frame; 10.5 dropped
  const e = binEdges();
  let integral = 0;
  hist.density().forEach((v, k) => (integral += v * (e[k + 1] - e[k])));
  assert.ok(Math.abs(integral - 1) < 1e-12);
});

test('bin edges are numpy.linspace(1e-6, 10, 501) and edges belong to the bin above them', () => {
  const e = binEdges(MDSIM_HR_BINS);
  assert.equal(e.length, 501);
  assert.equal(e[0], 1e-6);
  assert.equal(e[500], 10);
  assert.ok(Math.abs(e[250] - 5.0000005) < 1e-12);
  const hist = new DistanceHistogram();
  hist.addDistance(e[137]);
  hist.addDistance(10); // the last bin is closed, as in numpy
  hist.addDistance(0.5e-6); // below the first edge
  assert.equal(hist.counts[137], 1);
  assert.equal(hist.counts[136], 0);
  assert.equal(hist.counts[499], 1);
  assert.equal(hist.total, 2);
});

test('h(r) MAE is ∫|Δh|dr: 0 for equal, 2 for disjoint histograms', () => {
  const a = hr([[0, 0, 0, 1, 0, 0]]);
  const b = hr([[0, 0, 0, 3, 0, 0]]);
  assert.equal(hrMae(a, a), 0);
  // Disjoint single bins: mean|Δh|·10 = (2/(Δ·500))·10 = 2·10/(500Δ) = 2 (1 + 1e-7).
  assert.ok(Math.abs(hrMae(a, b) - 2 * (10 / (500 * width))) < 1e-12);
  // Half of the mass moved: ∫|Δh| = 1.
  const c = hr([[0, 0, 0, 1, 0, 0], [0, 0, 0, 3, 0, 0]]);
  assert.ok(Math.abs(hrMae(a, c) - 10 / (500 * width)) < 1e-12);
  assert.throws(() => hrMae(a, a.subarray(1)), /500/);
});
