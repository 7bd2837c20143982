/**
 * The dynamical system: atoms with positions, velocities and masses, like ASE's `Atoms` minus the
 * calculator (which MD keeps separately, see calculator.ts).
 *
 * Units: positions Å, velocities Å/fs, masses amu, energies eV, temperatures K.
 * Temperature is 2·E_kin/(3N·k_B), with no correction for removed momentum, as ASE's
 * `get_temperature` and MDsim compute it, so numbers compare one to one with theirs.
 */
import { massOf } from '../elements.js';
import { accelerationFactor, kB, kineticFactor } from '../units.js';
import type { Rng } from '../random.js';

export interface AtomsInit {
  z: ArrayLike<number>;
  positions: ArrayLike<number>;
  /** Å/fs; zero when omitted. */
  velocities?: ArrayLike<number>;
  /** amu; standard atomic masses from the element table when omitted. */
  masses?: ArrayLike<number>;
  /** Cell as 3 row vectors (Å), flat 9; carried to the output, not used for interactions. */
  cell?: ArrayLike<number>;
  pbc?: [boolean, boolean, boolean];
}

export class Atoms {
  readonly z: Int32Array;
  readonly positions: Float64Array;
  readonly velocities: Float64Array;
  readonly masses: Float64Array;
  readonly cell?: Float64Array;
  readonly pbc: [boolean, boolean, boolean];

  constructor(init: AtomsInit) {
    const n = init.z.length;
    if (n === 0) throw new Error('Atoms: no atoms');
    this.z = Int32Array.from(init.z);
    if (init.positions.length !== 3 * n) throw new Error(`Atoms: ${n} atoms need ${3 * n} position values, got ${init.positions.length}`);
    this.positions = Float64Array.from(init.positions);
    if (init.velocities && init.velocities.length !== 3 * n) {
      throw new Error(`Atoms: ${n} atoms need ${3 * n} velocity values, got ${init.velocities.length}`);
    }
    this.velocities = init.velocities ? Float64Array.from(init.velocities) : new Float64Array(3 * n);
    if (init.masses && init.masses.length !== n) throw new Error(`Atoms: ${n} atoms need ${n} masses, got ${init.masses.length}`);
    this.masses = init.masses ? Float64Array.from(init.masses) : Float64Array.from(this.z, (zi) => massOf(zi));
    for (let i = 0; i < n; i++) {
      if (!(this.masses[i] > 0) || !Number.isFinite(this.masses[i])) throw new Error(`Atoms: atom ${i} has mass ${this.masses[i]}`);
    }
    if (init.cell) {
      if (init.cell.length !== 9) throw new Error('Atoms: cell must have 9 numbers (3 row vectors)');
      this.cell = Float64Array.from(init.cell);
    }
    this.pbc = init.pbc ? [...init.pbc] : [false, false, false];
  }

  get count(): number {
    return this.z.length;
  }

  /** Kinetic energy, eV. */
  kineticEnergy(): number {
    return kineticEnergy(this.masses, this.velocities);
  }

  /** Instantaneous temperature, K. */
  temperature(): number {
    return temperatureFromKinetic(this.kineticEnergy(), this.count);
  }

  clone(): Atoms {
    return new Atoms(this);
  }
}

/** Σ ½ m v², eV, for masses in amu and velocities in Å/fs. */
export function kineticEnergy(masses: Float64Array, velocities: Float64Array): number {
  let s = 0;
  for (let i = 0, n = masses.length; i < n; i++) {
    const vx = velocities[3 * i], vy = velocities[3 * i + 1], vz = velocities[3 * i + 2];
    s += masses[i] * (vx * vx + vy * vy + vz * vz);
  }
  return 0.5 * s * kineticFactor;
}

/** T = 2 E_kin / (3 N k_B), K. */
export function temperatureFromKinetic(ekin: number, atomCount: number): number {
  return (2 * ekin) / (3 * atomCount * kB);
}

/** Total momentum, amu·Å/fs. */
export function totalMomentum(masses: Float64Array, velocities: Float64Array): [number, number, number] {
  const p: [number, number, number] = [0, 0, 0];
  for (let i = 0; i < masses.length; i++) for (let k = 0; k < 3; k++) p[k] += masses[i] * velocities[3 * i + k];
  return p;
}

export function centerOfMass(masses: Float64Array, positions: Float64Array): [number, number, number] {
  const c: [number, number, number] = [0, 0, 0];
  let m = 0;
  for (let i = 0; i < masses.length; i++) {
    m += masses[i];
    for (let k = 0; k < 3; k++) c[k] += masses[i] * positions[3 * i + k];
  }
  return [c[0] / m, c[1] / m, c[2] / m];
}

/** Total angular momentum about the centre of mass, amu·Å²/fs. */
export function angularMomentum(masses: Float64Array, positions: Float64Array, velocities: Float64Array): [number, number, number] {
  const c = centerOfMass(masses, positions);
  const L: [number, number, number] = [0, 0, 0];
  for (let i = 0; i < masses.length; i++) {
    const rx = positions[3 * i] - c[0], ry = positions[3 * i + 1] - c[1], rz = positions[3 * i + 2] - c[2];
    const m = masses[i], vx = velocities[3 * i], vy = velocities[3 * i + 1], vz = velocities[3 * i + 2];
    L[0] += m * (ry * vz - rz * vy);
    L[1] += m * (rz * vx - rx * vz);
    L[2] += m * (rx * vy - ry * vx);
  }
  return L;
}

/** Subtract the centre-of-mass velocity so the total momentum is zero. */
export function removeTotalMomentum(masses: Float64Array, velocities: Float64Array): void {
  const p = totalMomentum(masses, velocities);
  let m = 0;
  for (let i = 0; i < masses.length; i++) m += masses[i];
  for (let i = 0; i < masses.length; i++) for (let k = 0; k < 3; k++) velocities[3 * i + k] -= p[k] / m;
}

/**
 * Subtract the rigid rotation ω × (r − r_cm), with I ω = L, so the angular momentum about the
 * centre of mass is zero. For a linear molecule the inertia tensor is singular; the rotation about
 * the molecular axis carries no angular momentum, so the pseudo-inverse (dropping that axis) is used.
 */
export function removeAngularMomentum(masses: Float64Array, positions: Float64Array, velocities: Float64Array): void {
  const n = masses.length;
  if (n < 2) return;
  const c = centerOfMass(masses, positions);
  const L = angularMomentum(masses, positions, velocities);
  const I = [0, 0, 0, 0, 0, 0, 0, 0, 0];
  for (let i = 0; i < n; i++) {
    const r = [positions[3 * i] - c[0], positions[3 * i + 1] - c[1], positions[3 * i + 2] - c[2]];
    const r2 = r[0] * r[0] + r[1] * r[1] + r[2] * r[2];
    for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) I[3 * a + b] += masses[i] * ((a === b ? r2 : 0) - r[a] * r[b]);
  }
  const omega = solveSymmetric3(I, L);
  for (let i = 0; i < n; i++) {
    const rx = positions[3 * i] - c[0], ry = positions[3 * i + 1] - c[1], rz = positions[3 * i + 2] - c[2];
    velocities[3 * i] -= omega[1] * rz - omega[2] * ry;
    velocities[3 * i + 1] -= omega[2] * rx - omega[0] * rz;
    velocities[3 * i + 2] -= omega[0] * ry - omega[1] * rx;
  }
}

/** x = A⁺ b for a symmetric positive semi-definite 3×3 A, via Jacobi eigen-decomposition. */
function solveSymmetric3(A: number[], b: [number, number, number]): [number, number, number] {
  const a = A.slice();
  const V = [1, 0, 0, 0, 1, 0, 0, 0, 1];
  for (let sweep = 0; sweep < 50; sweep++) {
    const off = a[1] * a[1] + a[2] * a[2] + a[5] * a[5];
    if (off < 1e-30 * (a[0] * a[0] + a[4] * a[4] + a[8] * a[8]) || off === 0) break;
    for (const [p, q] of [[0, 1], [0, 2], [1, 2]] as const) {
      const apq = a[3 * p + q];
      if (apq === 0) continue;
      const theta = (a[3 * q + q] - a[3 * p + p]) / (2 * apq);
      const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
      const cs = 1 / Math.sqrt(t * t + 1), sn = t * cs;
      for (let k = 0; k < 3; k++) {
        const akp = a[3 * k + p], akq = a[3 * k + q];
        a[3 * k + p] = cs * akp - sn * akq;
        a[3 * k + q] = sn * akp + cs * akq;
      }
      for (let k = 0; k < 3; k++) {
        const apk = a[3 * p + k], aqk = a[3 * q + k];
        a[3 * p + k] = cs * apk - sn * aqk;
        a[3 * q + k] = sn * apk + cs * aqk;
      }
      for (let k = 0; k < 3; k++) {
        const vkp = V[3 * k + p], vkq = V[3 * k + q];
        V[3 * k + p] = cs * vkp - sn * vkq;
        V[3 * k + q] = sn * vkp + cs * vkq;
      }
    }
  }
  const eig = [a[0], a[4], a[8]];
  const maxEig = Math.max(...eig.map(Math.abs));
  const x: [number, number, number] = [0, 0, 0];
  for (let e = 0; e < 3; e++) {
    if (Math.abs(eig[e]) <= 1e-10 * maxEig) continue;
    const proj = (V[e] * b[0] + V[3 + e] * b[1] + V[6 + e] * b[2]) / eig[e];
    for (let k = 0; k < 3; k++) x[k] += proj * V[3 * k + e];
  }
  return x;
}

export interface MaxwellBoltzmannOptions {
  /** Remove the centre-of-mass velocity afterwards (ASE's `Stationary`). */
  zeroMomentum?: boolean;
  /** Remove the overall rotation afterwards (ASE's `ZeroRotation`). */
  zeroAngularMomentum?: boolean;
  /** Rescale so the instantaneous temperature is exactly the target (ASE's `force_temp`). */
  exactTemperature?: boolean;
}

/**
 * Draw velocities from the Maxwell–Boltzmann distribution at `temperature` K: each Cartesian
 * component is normal with variance k_B T / m. Like ASE's `MaxwellBoltzmannDistribution` (and
 * MDsim, which removes nothing), the instantaneous temperature is a random draw around the target
 * unless `exactTemperature` is set.
 */
export function maxwellBoltzmannVelocities(atoms: Atoms, temperature: number, rng: Rng, options: MaxwellBoltzmannOptions = {}): void {
  if (!(temperature >= 0) || !Number.isFinite(temperature)) throw new Error(`temperature must be ≥ 0 K, got ${temperature}`);
  const v = atoms.velocities;
  for (let i = 0; i < atoms.count; i++) {
    // variance in (Å/fs)²: (eV / amu) · accelerationFactor
    const sigma = Math.sqrt(((kB * temperature) / atoms.masses[i]) * accelerationFactor);
    for (let k = 0; k < 3; k++) v[3 * i + k] = sigma * rng.normal();
  }
  if (options.zeroMomentum) removeTotalMomentum(atoms.masses, v);
  if (options.zeroAngularMomentum) removeAngularMomentum(atoms.masses, atoms.positions, v);
  if (options.exactTemperature && temperature > 0) {
    const t = atoms.temperature();
    if (t > 0) {
      const s = Math.sqrt(temperature / t);
      for (let j = 0; j < v.length; j++) v[j] *= s;
    }
  }
}
