/**
 * Harmonic springs on the covalent bonds of a reference structure: V = Σ ½·k·(r − r₀)².
 * Bonds are the pairs closer than the sum of covalent radii plus a skin (ASE's `natural_cutoffs`
 * with `NeighborList`'s default 0.3 Å skin); r₀ is each bond's length in the reference, unless one
 * r₀ is given for all. Angles and torsions are free, so this is a validation potential, not a
 * force field.
 */
import { addPairForce } from './pair-force.js';
import type { Calculator, EnergyForces } from '../../calculator.js';
import { covalentRadius } from '../../elements.js';
import { OreoError } from '../../errors.js';

export interface HarmonicBondsParams {
  /** Spring constant, eV/Å². */
  k: number;
  /** Added to the sum of covalent radii when detecting bonds, Å. */
  skin: number;
  /** One rest length for every bond, Å; default: each bond's reference length. */
  r0?: number;
}

export interface Bond {
  i: number;
  j: number;
  r0: number;
}

export function detectBonds(z: ArrayLike<number>, positions: ArrayLike<number>, skin: number): [number, number, number][] {
  const out: [number, number, number][] = [];
  for (let i = 0; i < z.length; i++) {
    for (let j = i + 1; j < z.length; j++) {
      const dx = positions[3 * j] - positions[3 * i], dy = positions[3 * j + 1] - positions[3 * i + 1], dz = positions[3 * j + 2] - positions[3 * i + 2];
      const d = Math.sqrt(dx * dx + dy * dy + dz * dz);
      if (d < covalentRadius(z[i]) + covalentRadius(z[j]) + skin) out.push([i, j, d]);
    }
  }
  return out;
}

export class HarmonicBonds implements Calculator {
  readonly name: string;
  readonly bonds: Bond[];
  private readonly z: Int32Array;

  constructor(readonly params: HarmonicBondsParams, reference: { z: ArrayLike<number>; positions: ArrayLike<number> }) {
    if (!(params.k > 0) || !(params.skin >= 0)) throw new Error('harmonic: k must be > 0 and skin ≥ 0');
    if (params.r0 !== undefined && !(params.r0 > 0)) throw new Error('harmonic: r0 must be > 0');
    this.z = Int32Array.from(reference.z);
    this.bonds = detectBonds(reference.z, reference.positions, params.skin).map(([i, j, d]) => ({ i, j, r0: params.r0 ?? d }));
    if (this.bonds.length === 0) throw new OreoError('harmonic: the reference structure has no bonded pairs (covalent radii + skin)');
    this.name = `harmonic:k=${params.k},skin=${params.skin}${params.r0 !== undefined ? `,r0=${params.r0}` : ''}`;
  }

  checkElements(z: Int32Array): void {
    if (z.length !== this.z.length || z.some((zi, i) => zi !== this.z[i])) {
      throw new OreoError('harmonic: the bonds were built for a different molecule (atom count or elements differ)');
    }
  }

  compute(_z: Int32Array, positions: Float64Array): EnergyForces {
    const forces = new Float64Array(positions.length);
    const k = this.params.k;
    let energy = 0;
    for (const { i, j, r0 } of this.bonds) {
      const dx = positions[3 * j] - positions[3 * i], dy = positions[3 * j + 1] - positions[3 * i + 1], dz = positions[3 * j + 2] - positions[3 * i + 2];
      const r = Math.sqrt(dx * dx + dy * dy + dz * dz);
      const stretch = r - r0;
      energy += 0.5 * k * stretch * stretch;
      const g = (-k * stretch) / r; // force on j along (r_j − r_i)/r, scaled by 1/r
      addPairForce(forces, i, j, g, dx, dy, dz);
    }
    return { energy, forces };
  }
}
