import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kabsch, rmsdSeries, superposedRmsd, symmetricEigen } from '../../src/analysis/rmsd.js';
import { Rng } from '../../src/random.js';

function randomRotation(rng: Rng): number[] {
  // Uniform random unit quaternion → rotation matrix (row-major).
  let q: number[];
  do q = [rng.normal(), rng.normal(), rng.normal(), rng.normal()];
  while (Math.hypot(...q) < 1e-6);
  const n = Math.hypot(...q);
  const [a, b, c, d] = q.map((x) => x / n);
  return [
    a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c),
    2 * (b * c + a * d), a * a - b * b + c * c - d * d, 2 * (c * d - a * b),
    2 * (b * d - a * c), 2 * (c * d + a * b), a * a - b * b - c * c + d * d,
  ];
}

function transform(x: ArrayLike<number>, R: number[], t: number[]): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i += 3) {
    for (let a = 0; a < 3; a++) out[i + a] = R[3 * a] * x[i] + R[3 * a + 1] * x[i + 1] + R[3 * a + 2] * x[i + 2] + t[a];
  }
  return out;
}

function plainRmsd(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += (a[k] - b[k]) ** 2;
  return Math.sqrt(s / (a.length / 3));
}

function det3(R: ArrayLike<number>): number {
  return R[0] * (R[4] * R[8] - R[5] * R[7]) - R[1] * (R[3] * R[8] - R[5] * R[6]) + R[2] * (R[3] * R[7] - R[4] * R[6]);
}

test('a rotated and translated copy has RMSD 0 (general, planar and linear molecules)', () => {
  const rng = new Rng(7);
  const general = Float64Array.from({ length: 21 * 3 }, () => 3 * rng.normal());
  const planar = Float64Array.from({ length: 8 * 3 }, (_, k) => (k % 3 === 2 ? 0 : 2 * rng.normal()));
  const linear = Float64Array.from({ length: 4 * 3 }, (_, k) => (k % 3 === 0 ? 1.2 * (k / 3) : 0));
  for (const mol of [general, planar, linear]) {
    for (let trial = 0; trial < 20; trial++) {
      const R = randomRotation(rng);
      const moved = transform(mol, R, [10 * rng.normal(), -5, 3 * rng.uniform()]);
      assert.ok(plainRmsd(moved, mol) > 0.1);
      const s = kabsch(moved, mol);
      assert.ok(s.rmsd < 1e-12, `rmsd ${s.rmsd}`);
      assert.ok(Math.abs(det3(s.rotation) - 1) < 1e-12);
      // The returned transform really maps mobile onto target.
      assert.ok(plainRmsd(transform(moved, Array.from(s.rotation), Array.from(s.translation)), mol) < 1e-12);
    }
  }
});

test('a known perturbation: a square scaled by (1+ε) has RMSD ε√2, however it is placed', () => {
  const square = [1, 1, 0, -1, 1, 0, -1, -1, 0, 1, -1, 0];
  const eps = 0.05;
  const bigger = square.map((v) => v * (1 + eps));
  assert.ok(Math.abs(superposedRmsd(bigger, square) - eps * Math.SQRT2) < 1e-14);
  const rng = new Rng(3);
  const moved = transform(bigger, randomRotation(rng), [1, 2, 3]);
  assert.ok(Math.abs(superposedRmsd(moved, square) - eps * Math.SQRT2) < 1e-12);
  // Weighted: only atom 0 counts → a single point always superposes exactly.
  assert.ok(superposedRmsd(moved, square, [1, 0, 0, 0]) < 1e-12);
});

test('a mirror image is not superposed by a reflection, and the rotation found is optimal', () => {
  // A chiral tetrahedral centre: four different arm lengths.
  const chiral = [0, 0, 0, 1.0, 1.0, 1.0, -1.2, -1.2, 1.2, -1.4, 1.4, -1.4, 1.6, -1.6, -1.6];
  const mirror = chiral.map((v, k) => (k % 3 === 0 ? -v : v));
  const s = kabsch(mirror, chiral);
  assert.ok(Math.abs(det3(s.rotation) - 1) < 1e-12);
  assert.ok(s.rmsd > 0.3, `a mirror image must not superpose, got ${s.rmsd}`);
  // No random rotation (with the optimal translation: matching centroids) does better.
  const rng = new Rng(11);
  const centre = (x: number[]) => {
    const c = [0, 0, 0];
    for (let i = 0; i < x.length; i += 3) for (let a = 0; a < 3; a++) c[a] += x[i + a] / (x.length / 3);
    return x.map((v, k) => v - c[k % 3]);
  };
  const cm = centre(mirror), cc = centre(chiral);
  for (let trial = 0; trial < 5000; trial++) {
    const r = plainRmsd(transform(cm, randomRotation(rng), [0, 0, 0]), cc);
    assert.ok(r >= s.rmsd - 1e-12, `random rotation beat Kabsch: ${r} < ${s.rmsd}`);
  }
});

test('RMSD series is measured against the first frame', () => {
  const f0 = [0, 0, 0, 1, 0, 0, 0, 1, 0];
  const f1 = [5, 5, 5, 5, 6, 5, 4, 5, 5]; // f0 rotated by 90° about z and moved
  const f2 = [0, 0, 0, 1.1, 0, 0, 0, 1, 0];
  const series = rmsdSeries([f0, f1, f2]);
  assert.equal(series[0], 0);
  assert.ok(series[1] < 1e-12);
  assert.ok(series[2] > 0.01 && series[2] < 0.1);
});

test('the Jacobi eigen-solver diagonalises a symmetric matrix', () => {
  const A = [[4, 1, -2, 2], [1, 2, 0, 1], [-2, 0, 3, -2], [2, 1, -2, -1]];
  const { values, vectors } = symmetricEigen(A);
  for (let k = 0; k < 4; k++) {
    for (let i = 0; i < 4; i++) {
      let av = 0;
      for (let j = 0; j < 4; j++) av += A[i][j] * vectors[j][k];
      assert.ok(Math.abs(av - values[k] * vectors[i][k]) < 1e-12);
    }
  }
  // Trace is preserved.
  assert.ok(Math.abs(values.reduce((a, b) => a + b) - 8) < 1e-12);
});
