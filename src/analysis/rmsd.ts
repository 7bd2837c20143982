/**
 * RMSD after optimal superposition (the Kabsch problem).
 *
 * The best rotation is found with Horn's quaternion formulation: the unit quaternion that
 * maximises Σ w_i y_i·(R x_i) is the eigenvector of the largest eigenvalue of a symmetric 4×4
 * matrix built from the 3×3 cross-covariance. Compared with a 3×3 SVD this never returns a
 * reflection (a quaternion is always a proper rotation, so no determinant fix-up is needed) and
 * stays well defined for planar and linear molecules, where the top eigenvalue is degenerate and
 * any vector of its eigenspace gives the same RMSD. The eigenproblem is solved by cyclic Jacobi
 * rotations, which converge for every symmetric matrix. The RMSD is then computed from the
 * rotated coordinates rather than from the eigenvalue, which would lose all precision near 0.
 */
import { symmetricEigen as flatSymmetricEigen } from '../linalg.js';

export interface Superposition {
  /** Root-mean-square deviation after superposition, Å. */
  rmsd: number;
  /** Row-major 3×3 proper rotation R (det +1). */
  rotation: Float64Array;
  /** t such that R·x + t is `mobile` superposed on `target`. */
  translation: Float64Array;
}

/**
 * Superpose `mobile` onto `target` (flat positions, same atom order). Optional per-atom
 * weights (e.g. masses); default all 1.
 */
export function kabsch(mobile: ArrayLike<number>, target: ArrayLike<number>, weights?: ArrayLike<number>): Superposition {
  const n = mobile.length / 3;
  if (!Number.isInteger(n) || mobile.length !== target.length) {
    throw new RangeError(`kabsch: coordinate arrays of length ${mobile.length} and ${target.length}`);
  }
  if (n === 0) throw new RangeError('kabsch: no atoms');
  if (weights && weights.length !== n) throw new RangeError(`kabsch: ${weights.length} weights for ${n} atoms`);
  const w = (i: number) => (weights ? weights[i] : 1);

  let wSum = 0;
  const cx = [0, 0, 0];
  const cy = [0, 0, 0];
  for (let i = 0; i < n; i++) {
    const wi = w(i);
    if (!(wi >= 0)) throw new RangeError(`kabsch: weight ${wi} of atom ${i} is not ≥ 0`);
    wSum += wi;
    for (let k = 0; k < 3; k++) {
      cx[k] += wi * mobile[3 * i + k];
      cy[k] += wi * target[3 * i + k];
    }
  }
  if (!(wSum > 0)) throw new RangeError('kabsch: weights sum to zero');
  for (let k = 0; k < 3; k++) {
    cx[k] /= wSum;
    cy[k] /= wSum;
  }

  // S[a][b] = Σ w x_a y_b over centred coordinates.
  const S = [
    [0, 0, 0],
    [0, 0, 0],
    [0, 0, 0],
  ];
  for (let i = 0; i < n; i++) {
    const wi = w(i);
    for (let a = 0; a < 3; a++) {
      const xa = mobile[3 * i + a] - cx[a];
      for (let b = 0; b < 3; b++) S[a][b] += wi * xa * (target[3 * i + b] - cy[b]);
    }
  }
  const [[xx, xy, xz], [yx, yy, yz], [zx, zy, zz]] = S;
  const N = [
    [xx + yy + zz, yz - zy, zx - xz, xy - yx],
    [yz - zy, xx - yy - zz, xy + yx, zx + xz],
    [zx - xz, xy + yx, -xx + yy - zz, yz + zy],
    [xy - yx, zx + xz, yz + zy, -xx - yy + zz],
  ];
  const { values, vectors } = symmetricEigen(N);
  let best = 0;
  for (let k = 1; k < 4; k++) if (values[k] > values[best]) best = k;
  let q0 = vectors[0][best], q1 = vectors[1][best], q2 = vectors[2][best], q3 = vectors[3][best];
  const norm = Math.hypot(q0, q1, q2, q3);
  q0 /= norm; q1 /= norm; q2 /= norm; q3 /= norm;

  const R = Float64Array.of(
    q0 * q0 + q1 * q1 - q2 * q2 - q3 * q3, 2 * (q1 * q2 - q0 * q3), 2 * (q1 * q3 + q0 * q2),
    2 * (q1 * q2 + q0 * q3), q0 * q0 - q1 * q1 + q2 * q2 - q3 * q3, 2 * (q2 * q3 - q0 * q1),
    2 * (q1 * q3 - q0 * q2), 2 * (q2 * q3 + q0 * q1), q0 * q0 - q1 * q1 - q2 * q2 + q3 * q3,
  );
  const t = new Float64Array(3);
  for (let a = 0; a < 3; a++) t[a] = cy[a] - (R[3 * a] * cx[0] + R[3 * a + 1] * cx[1] + R[3 * a + 2] * cx[2]);

  let sq = 0;
  for (let i = 0; i < n; i++) {
    const x = mobile[3 * i], y = mobile[3 * i + 1], z = mobile[3 * i + 2];
    let d2 = 0;
    for (let a = 0; a < 3; a++) {
      const d = R[3 * a] * x + R[3 * a + 1] * y + R[3 * a + 2] * z + t[a] - target[3 * i + a];
      d2 += d * d;
    }
    sq += w(i) * d2;
  }
  return { rmsd: Math.sqrt(sq / wSum), rotation: R, translation: t };
}

/** RMSD of `mobile` to `target` after optimal rotation and translation, Å. */
export function superposedRmsd(mobile: ArrayLike<number>, target: ArrayLike<number>, weights?: ArrayLike<number>): number {
  return kabsch(mobile, target, weights).rmsd;
}

/** RMSD of every frame to `reference` (default: the first frame), after superposition, Å. */
export function rmsdSeries(frames: readonly ArrayLike<number>[], reference?: ArrayLike<number>, weights?: ArrayLike<number>): Float64Array {
  if (frames.length === 0) return new Float64Array(0);
  const ref = reference ?? frames[0];
  return Float64Array.from(frames, (f) => superposedRmsd(f, ref, weights));
}

/**
 * Eigen-decomposition of a small symmetric matrix given as rows (src/linalg.ts's Jacobi solver).
 * Returns the eigenvalues, ascending, and the eigenvectors as the columns of `vectors`.
 */
export function symmetricEigen(matrix: readonly (readonly number[])[]): { values: number[]; vectors: number[][] } {
  const n = matrix.length;
  const flat = new Float64Array(n * n);
  matrix.forEach((row, i) => {
    if (row.length !== n) throw new RangeError('symmetricEigen: matrix is not square');
    flat.set(row, i * n);
  });
  const { values, vectors } = flatSymmetricEigen(flat, n);
  // Flat result: vector k is row k; here it is column k.
  return { values: Array.from(values), vectors: Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, k) => vectors[k * n + i])) };
}
