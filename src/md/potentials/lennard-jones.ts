/**
 * Lennard-Jones pair potential over all atom pairs within the cutoff, with the same conventions as
 * ASE's `LennardJones` calculator (non-smooth variant): V(r) = 4ε[(σ/r)¹² − (σ/r)⁶] − V_LJ(r_c) for
 * r < r_c, so the energy is continuous at r_c while the force (the unshifted −dV/dr) steps to zero
 * there. Not periodic: positions are taken as they are.
 */
import { addPairForce } from './pair-force.js';
import type { Calculator, EnergyForces } from '../../calculator.js';
import { checkAllowedElements } from './elements-filter.js';

export interface LennardJonesParams {
  /** Well depth, eV. */
  epsilon: number;
  /** Zero-crossing distance, Å. */
  sigma: number;
  /** Cutoff, Å (ASE's default is 3σ). Infinity means all pairs and no shift. */
  rc: number;
  /** Elements this potential is meant for (atomic numbers); undefined = any. */
  elements?: number[];
}

export class LennardJones implements Calculator {
  readonly name: string;
  private readonly shift: number;

  constructor(readonly params: LennardJonesParams) {
    const { epsilon, sigma, rc } = params;
    if (!(epsilon > 0) || !(sigma > 0) || !(rc > 0)) throw new Error('Lennard-Jones: epsilon, sigma and rc must be > 0');
    const sr6 = (sigma / rc) ** 6;
    this.shift = Number.isFinite(rc) ? 4 * epsilon * (sr6 * sr6 - sr6) : 0;
    this.name = `lj:epsilon=${epsilon},sigma=${sigma},rc=${rc}`;
  }

  checkElements(z: Int32Array): void {
    checkAllowedElements('Lennard-Jones', this.params.elements, z);
  }

  compute(_z: Int32Array, positions: Float64Array): EnergyForces {
    const { epsilon, sigma, rc } = this.params;
    const n = positions.length / 3;
    const forces = new Float64Array(positions.length);
    const rc2 = rc * rc;
    const s2 = sigma * sigma;
    let energy = 0;
    for (let i = 0; i < n; i++) {
      const xi = positions[3 * i], yi = positions[3 * i + 1], zi = positions[3 * i + 2];
      for (let j = i + 1; j < n; j++) {
        const dx = positions[3 * j] - xi, dy = positions[3 * j + 1] - yi, dz = positions[3 * j + 2] - zi;
        const r2 = dx * dx + dy * dy + dz * dz;
        if (r2 >= rc2) continue;
        const c2 = s2 / r2;
        const c6 = c2 * c2 * c2;
        const c12 = c6 * c6;
        energy += 4 * epsilon * (c12 - c6) - this.shift;
        // −dV/dr · (1/r), applied along the pair vector: F_j = +g·d, F_i = −g·d.
        const g = (24 * epsilon * (2 * c12 - c6)) / r2;
        addPairForce(forces, i, j, g, dx, dy, dz);
      }
    }
    return { energy, forces };
  }
}
