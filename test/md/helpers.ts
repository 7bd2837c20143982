// Shared test systems for the MD tests: a 20-atom argon cluster (the MDsim Nose–Hoover fixture's
// starting geometry), small fcc fragments, and free particles.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixturesDir } from '../paths.js';
import type { Calculator, EnergyForces } from '../../src/calculator.js';

export interface NoseHooverFixture {
  symbols: string[];
  masses_amu: number[];
  lennard_jones: { epsilon_eV: number; sigma_A: number; rc_A: number };
  dt_fs: number;
  temperature_K: number;
  ttime: number;
  initial: { positions: number[][]; velocities: number[][] };
  frames: { step: number; positions: number[][]; velocities: number[][]; epot: number; ekin: number; zeta: number }[];
}

export function loadNoseHooverFixture(): NoseHooverFixture {
  return JSON.parse(readFileSync(join(fixturesDir, 'nose_hoover_mdsim_lj20.json'), 'utf8')) as NoseHooverFixture;
}

/** The 20 argon positions (Å) the MDsim fixture starts from: a compact, bound cluster. */
export function argon20Positions(): Float64Array {
  return Float64Array.from(loadNoseHooverFixture().initial.positions.flat());
}

/** The n sites of an fcc lattice (nearest-neighbour distance a) closest to the origin. */
export function fccCluster(n: number, a: number): Float64Array {
  const pts: number[][] = [];
  const s = a / Math.SQRT2;
  for (let i = -3; i <= 3; i++) for (let j = -3; j <= 3; j++) for (let k = -3; k <= 3; k++) {
    if ((((i + j + k) % 2) + 2) % 2 === 0) pts.push([i * s, j * s, k * s]);
  }
  pts.sort((p, q) => p[0] ** 2 + p[1] ** 2 + p[2] ** 2 - (q[0] ** 2 + q[1] ** 2 + q[2] ** 2) || p[0] - q[0] || p[1] - q[1] || p[2] - q[2]);
  return Float64Array.from(pts.slice(0, n).flat());
}

/** Free particles: a real (trivial) potential, for tests of the thermostat noise on its own. */
export class NoInteraction implements Calculator {
  readonly name = 'no interaction';
  compute(_z: Int32Array, positions: Float64Array): EnergyForces {
    return { energy: 0, forces: new Float64Array(positions.length) };
  }
}

export function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return s / xs.length;
}
