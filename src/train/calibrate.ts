/**
 * Per-element reference energies. Training on forces fixes the energy only up to a constant per
 * element (∂/∂r of Σ_i c_{Z_i} is zero); fitting those constants by least squares on the
 * training set, E_ref(m) − E_model(m) ≈ Σ_e n_{m,e} c_e, makes the model's energies usable
 * (ET-OREO's appendix). The constants go into the Atomref prior, so `predict` includes them.
 */
import type { Potential } from '../model/potential.js';
import { ATOMREF_WEIGHT } from '../model/prior.js';
import type { Conformation } from '../data/conformation.js';
import { makeBatch } from '../data/batch.js';
import { OreoError } from '../errors.js';

/** Solve (AᵀA + λI) c = Aᵀb by Gaussian elimination; A is rows × k. */
function ridge(A: number[][], b: number[], lambda: number): number[] {
  const k = A[0].length;
  const M = Array.from({ length: k }, () => new Array(k + 1).fill(0));
  A.forEach((row, r) => {
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) M[i][j] += row[i] * row[j];
      M[i][k] += row[i] * b[r];
    }
  });
  for (let i = 0; i < k; i++) M[i][i] += lambda;
  for (let c = 0; c < k; c++) {
    let p = c;
    for (let r = c + 1; r < k; r++) if (Math.abs(M[r][c]) > Math.abs(M[p][c])) p = r;
    [M[c], M[p]] = [M[p], M[c]];
    for (let r = 0; r < k; r++) {
      if (r === c) continue;
      const f = M[r][c] / M[c][c];
      for (let j = c; j <= k; j++) M[r][j] -= f * M[c][j];
    }
  }
  return M.map((row, i) => row[k] / row[i]);
}

/**
 * Fit and store per-element energies so that the model's energies match the labelled ones in
 * `confs` on average. Returns the fitted constants (eV) by atomic number and the energy MAE after.
 */
export function calibrateElementEnergies(pot: Potential, confs: Conformation[], batchSize = 32): { refs: Record<number, number>; mae: number } {
  const atomref = pot.params.get(ATOMREF_WEIGHT);
  if (!atomref) throw new OreoError('this model has no Atomref prior to hold per-element energies');
  const labelled = confs.filter((c) => c.energy !== undefined && Number.isFinite(c.energy));
  if (labelled.length === 0) throw new OreoError('no conformation with an energy label to calibrate on');
  const saved = Float64Array.from(atomref.data);
  atomref.data.fill(0);
  const raw: number[] = [];
  for (let i = 0; i < labelled.length; i += batchSize) {
    const b = makeBatch(labelled.slice(i, i + batchSize));
    raw.push(...pot.energy(b).data);
  }
  const { elements, A, coef } = fitElementConstants(labelled, raw);
  if (coef.some((x) => !Number.isFinite(x))) {
    atomref.data.set(saved);
    throw new OreoError('per-element energy fit failed (non-finite solution)');
  }
  atomref.data.fill(0);
  const refs: Record<number, number> = {};
  elements.forEach((e, i) => {
    atomref.data[e] = coef[i];
    refs[e] = coef[i];
  });
  let mae = 0;
  labelled.forEach((c, m) => {
    const fitted = raw[m] + A[m].reduce((s, n, i) => s + n * coef[i], 0);
    mae += Math.abs(fitted - c.energy!);
  });
  return { refs, mae: mae / labelled.length };
}

/**
 * Least-squares constants per element, E_ref(m) − base(m) ≈ Σ_e n_{m,e} c_e, with `base` the
 * model's own energies (or zeros for the constants alone).
 */
export function fitElementConstants(labelled: Conformation[], base: ArrayLike<number>): { elements: number[]; A: number[][]; coef: number[] } {
  const elements = [...new Set(labelled.flatMap((c) => [...c.z]))].sort((a, b) => a - b);
  const A = labelled.map((c) => elements.map((e) => c.z.filter((x) => x === e).length));
  const target = labelled.map((c, m) => c.energy! - base[m]);
  // A tiny ridge keeps the fit defined when compositions do not separate the elements (one molecule).
  const coef = ridge(A, target, 1e-8 * labelled.length);
  return { elements, A, coef };
}
