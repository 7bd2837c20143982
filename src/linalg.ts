/**
 * Small dense linear algebra that chemistry code needs and the tensor engine does not: the
 * eigen-decomposition of a real symmetric matrix by cyclic Jacobi rotations. Its matrices are
 * small (Kabsch's 4×4 quaternion matrix; Hessians of 3N rows for N ≤ ~100 atoms), where Jacobi
 * converges in a handful of sweeps, needs no pivoting decisions and gives orthonormal vectors to
 * round-off.
 */
import { OreoError } from './errors.js';

export interface SymmetricEigen {
  /** Eigenvalues, ascending. */
  values: Float64Array;
  /** Eigenvectors as rows, flat n×n: vector k is vectors[k*n .. k*n+n), matching values[k]. */
  vectors: Float64Array;
}

/** Eigen-decomposition of the symmetric n×n matrix `a` (flat, row-major; not modified). */
export function symmetricEigen(a: Float64Array, n: number): SymmetricEigen {
  if (a.length !== n * n) throw new OreoError(`eigen: matrix has ${a.length} entries, expected ${n}×${n}`);
  const m = Float64Array.from(a);
  // v holds the accumulated rotation; its columns become the eigenvectors.
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  let scale = 0;
  for (let i = 0; i < n * n; i++) scale = Math.max(scale, Math.abs(m[i]));
  const tol = Math.max(scale, 1e-300) * 1e-15;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off = Math.max(off, Math.abs(m[p * n + q]));
    if (off <= tol) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q];
        if (Math.abs(apq) <= tol * 1e-3) continue;
        const app = m[p * n + p];
        const aqq = m[q * n + q];
        // Rotation angle that zeroes (p, q), in the numerically stable tangent form.
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const mkp = m[k * n + p];
          const mkq = m[k * n + q];
          m[k * n + p] = c * mkp - s * mkq;
          m[k * n + q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < n; k++) {
          const mpk = m[p * n + k];
          const mqk = m[q * n + k];
          m[p * n + k] = c * mpk - s * mqk;
          m[q * n + k] = s * mpk + c * mqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p];
          const vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => m[i * n + i] - m[j * n + j]);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((col, k) => {
    values[k] = m[col * n + col];
    // A fixed sign convention (largest component positive) makes the output reproducible.
    let big = 0;
    for (let r = 0; r < n; r++) if (Math.abs(v[r * n + col]) > Math.abs(big)) big = v[r * n + col];
    const sgn = big < 0 ? -1 : 1;
    for (let r = 0; r < n; r++) vectors[k * n + r] = sgn * v[r * n + col];
  });
  return { values, vectors };
}
