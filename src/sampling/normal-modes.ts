/**
 * Normal modes of a relaxed molecule and normal-mode sampling (NMS) in the manner of ANI-1
 * (Smith, Isayev & Roitberg, Chem. Sci. 2017) and ANI-1x:
 *
 * 1. The Cartesian Hessian H (eV/Å²) at the minimum is mass-weighted, H̃ = M^{-1/2} H M^{-1/2};
 *    rigid translations and rotations are projected out, and H̃ is diagonalised: eigenvalues
 *    λ_k = ω_k² (force constants of mass-weighted coordinates), eigenvectors e_k.
 * 2. A sample at temperature T: draw a total fraction s ~ U(0, 1) and split it over the N_f
 *    vibrational modes at random, c_k ≥ 0 with Σ c_k = s; displace each mode by
 *    q_k = ±√(3 c_k N_a k_B T / λ_k) (random sign), x = x₀ + M^{-1/2} Σ_k q_k e_k.
 *    The harmonic energy of the sample is then ½ Σ λ_k q_k² = (3/2) s N_a k_B T: up to the
 *    equipartition energy of N_a atoms at T, spread unevenly over the modes, as in ANI-1.
 *
 * Soft modes (torsions, λ → 0) would get huge displacements; their force constant is floored at
 * that of `minWavenumber` (default 100 cm⁻¹), as ANI-style samplers floor small force constants.
 * Imaginary modes (a saddle, or an incompletely relaxed structure) are floored the same way.
 */
import { massOf } from '../elements.js';
import { OreoError } from '../errors.js';
import type { Rng } from '../random.js';
import { accelerationFactor, kB } from '../units.js';
import { symmetricEigen } from '../linalg.js';

/** Speed of light, cm/fs. */
const C_CM_PER_FS = 2.99792458e-5;

export interface NormalModes {
  /** Vibrational eigenvalues λ_k of the projected mass-weighted Hessian, eV/(Å²·amu), ascending. */
  eigenvalues: Float64Array;
  /** Harmonic wavenumbers, cm⁻¹ (negative for imaginary modes, as quantum-chemistry programs print them). */
  wavenumbers: Float64Array;
  /** Mass-weighted unit eigenvectors, flat: mode k is modes[k*3N .. (k+1)*3N). */
  modes: Float64Array;
  /** Atomic masses used, amu. */
  masses: Float64Array;
}

/** λ (eV/(Å²·amu)) → wavenumber (cm⁻¹), signed. */
export function eigenvalueToWavenumber(lambda: number): number {
  const omega = Math.sqrt(Math.abs(lambda) * accelerationFactor); // 1/fs
  return (Math.sign(lambda) * omega) / (2 * Math.PI * C_CM_PER_FS);
}

/** Wavenumber (cm⁻¹) → λ (eV/(Å²·amu)). */
export function wavenumberToEigenvalue(wavenumber: number): number {
  const omega = 2 * Math.PI * C_CM_PER_FS * wavenumber;
  return (omega * omega) / accelerationFactor;
}

/** Orthonormal basis of rigid translations and rotations in mass-weighted coordinates (5 if linear). */
function rigidBodyBasis(positions: Float64Array, masses: Float64Array): Float64Array[] {
  const n = masses.length;
  let mt = 0;
  const com = [0, 0, 0];
  for (let a = 0; a < n; a++) {
    mt += masses[a];
    for (let k = 0; k < 3; k++) com[k] += masses[a] * positions[3 * a + k];
  }
  for (let k = 0; k < 3; k++) com[k] /= mt;
  const raw: Float64Array[] = [];
  for (let k = 0; k < 3; k++) {
    const t = new Float64Array(3 * n);
    for (let a = 0; a < n; a++) t[3 * a + k] = Math.sqrt(masses[a]);
    raw.push(t);
  }
  for (let axis = 0; axis < 3; axis++) {
    const rot = new Float64Array(3 * n);
    for (let a = 0; a < n; a++) {
      const r = [positions[3 * a] - com[0], positions[3 * a + 1] - com[1], positions[3 * a + 2] - com[2]];
      // (e_axis × r) · √m
      const e = [0, 0, 0];
      e[axis] = 1;
      const c = [e[1] * r[2] - e[2] * r[1], e[2] * r[0] - e[0] * r[2], e[0] * r[1] - e[1] * r[0]];
      for (let k = 0; k < 3; k++) rot[3 * a + k] = c[k] * Math.sqrt(masses[a]);
    }
    raw.push(rot);
  }
  const basis: Float64Array[] = [];
  for (const v of raw) {
    const w = Float64Array.from(v);
    for (const b of basis) {
      let d = 0;
      for (let i = 0; i < w.length; i++) d += w[i] * b[i];
      for (let i = 0; i < w.length; i++) w[i] -= d * b[i];
    }
    let norm = 0;
    for (const x of w) norm += x * x;
    norm = Math.sqrt(norm);
    let ref = 0;
    for (const x of v) ref += x * x;
    // A rotation about the axis of a linear molecule (or an atom) has no extent: drop it.
    if (norm > 1e-6 * Math.sqrt(ref) && norm > 1e-10) {
      for (let i = 0; i < w.length; i++) w[i] /= norm;
      basis.push(w);
    }
  }
  return basis;
}

/** Vibrational normal modes from a Cartesian Hessian (flat 3N×3N, eV/Å²) at `positions` (Å). */
export function normalModes(z: Int32Array, positions: Float64Array, hessian: Float64Array): NormalModes {
  const n = z.length;
  const dim = 3 * n;
  if (hessian.length !== dim * dim) throw new OreoError(`normal modes: Hessian has ${hessian.length} entries, ${n} atoms need ${dim}×${dim}`);
  if (n < 2) throw new OreoError('normal modes: a single atom has no vibrations');
  const masses = Float64Array.from(z, (zi) => massOf(zi));
  const inv = new Float64Array(dim);
  for (let a = 0; a < n; a++) for (let k = 0; k < 3; k++) inv[3 * a + k] = 1 / Math.sqrt(masses[a]);
  const hm = new Float64Array(dim * dim);
  for (let i = 0; i < dim; i++) for (let j = 0; j < dim; j++) hm[i * dim + j] = hessian[i * dim + j] * inv[i] * inv[j];
  // P H̃ P with P = 1 − Σ b bᵀ: rigid motions get eigenvalue 0 exactly instead of numerical noise.
  const basis = rigidBodyBasis(positions, masses);
  const proj = new Float64Array(dim * dim);
  for (let i = 0; i < dim; i++) proj[i * dim + i] = 1;
  for (const b of basis) for (let i = 0; i < dim; i++) for (let j = 0; j < dim; j++) proj[i * dim + j] -= b[i] * b[j];
  const tmp = new Float64Array(dim * dim);
  for (let i = 0; i < dim; i++) {
    for (let k = 0; k < dim; k++) {
      const p = proj[i * dim + k];
      if (p === 0) continue;
      for (let j = 0; j < dim; j++) tmp[i * dim + j] += p * hm[k * dim + j];
    }
  }
  const hp = new Float64Array(dim * dim);
  for (let i = 0; i < dim; i++) {
    for (let k = 0; k < dim; k++) {
      const t = tmp[i * dim + k];
      if (t === 0) continue;
      for (let j = 0; j < dim; j++) hp[i * dim + j] += t * proj[k * dim + j];
    }
  }
  const { values, vectors } = symmetricEigen(hp, dim);
  // Vibrations are the eigenvectors outside the rigid-body space (overlap < ½).
  const keep: number[] = [];
  for (let k = 0; k < dim; k++) {
    let overlap = 0;
    for (const b of basis) {
      let d = 0;
      for (let i = 0; i < dim; i++) d += vectors[k * dim + i] * b[i];
      overlap += d * d;
    }
    if (overlap < 0.5) keep.push(k);
  }
  const expected = dim - basis.length;
  if (keep.length !== expected) {
    throw new OreoError(`normal modes: found ${keep.length} vibrations, expected ${expected} (3N − ${basis.length}); is the Hessian for these positions?`);
  }
  const eigenvalues = Float64Array.from(keep, (k) => values[k]);
  const modes = new Float64Array(keep.length * dim);
  keep.forEach((k, m) => modes.set(vectors.subarray(k * dim, (k + 1) * dim), m * dim));
  return { eigenvalues, wavenumbers: eigenvalues.map(eigenvalueToWavenumber), modes, masses };
}

export interface NormalModeSampleOptions {
  /** Temperature, K. */
  temperature: number;
  /** Force constants below that of this wavenumber (cm⁻¹) are raised to it (default 100). */
  minWavenumber?: number;
}

/**
 * One normal-mode sample (see the module comment): new positions, Å. `harmonicEnergy` is the
 * energy the harmonic model assigns to the displacement, eV, with floored force constants.
 */
export function sampleNormalModes(
  positions: Float64Array,
  nm: NormalModes,
  rng: Rng,
  options: NormalModeSampleOptions,
): { positions: Float64Array; harmonicEnergy: number } {
  const { temperature } = options;
  if (!(temperature > 0)) throw new OreoError(`normal-mode sampling: temperature must be > 0 K, got ${temperature}`);
  const floor = wavenumberToEigenvalue(options.minWavenumber ?? 100);
  const nf = nm.eigenvalues.length;
  const na = nm.masses.length;
  const dim = 3 * na;
  const total = rng.uniform();
  const parts = new Float64Array(nf);
  let sum = 0;
  for (let k = 0; k < nf; k++) sum += parts[k] = rng.uniform();
  const out = Float64Array.from(positions);
  let energy = 0;
  const kT = kB * temperature;
  for (let k = 0; k < nf; k++) {
    const c = sum > 0 ? (total * parts[k]) / sum : 0;
    const lambda = Math.max(nm.eigenvalues[k], floor);
    const sign = rng.uniform() < 0.5 ? -1 : 1;
    const q = sign * Math.sqrt((3 * c * na * kT) / lambda);
    energy += 0.5 * lambda * q * q;
    for (let a = 0; a < na; a++) {
      const s = q / Math.sqrt(nm.masses[a]);
      for (let d = 0; d < 3; d++) out[3 * a + d] += s * nm.modes[k * dim + 3 * a + d];
    }
  }
  return { positions: out, harmonicEnergy: energy };
}
