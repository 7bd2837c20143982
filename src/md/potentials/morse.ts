/**
 * Morse pair potential over all atom pairs, parametrised as ASE's `MorsePotential`:
 * V(r) = ε·[e^{2ρ₀(1 − r/r₀)} − 2·e^{ρ₀(1 − r/r₀)}], minimum −ε at r₀, stiffness ρ₀ = α·r₀.
 * No cutoff: the energy is smooth everywhere, which is what energy-conservation tests need.
 */
import { addPairForce } from './pair-force.js';
import type { Calculator, EnergyForces } from '../../calculator.js';
import { checkAllowedElements } from './elements-filter.js';

export interface MorseParams {
  /** Well depth, eV. */
  epsilon: number;
  /** Dimensionless stiffness ρ₀ = α·r₀. */
  rho0: number;
  /** Equilibrium distance, Å. */
  r0: number;
  elements?: number[];
}

export class Morse implements Calculator {
  readonly name: string;

  constructor(readonly params: MorseParams) {
    const { epsilon, rho0, r0 } = params;
    if (!(epsilon > 0) || !(rho0 > 0) || !(r0 > 0)) throw new Error('Morse: epsilon, rho0 and r0 must be > 0');
    this.name = `morse:epsilon=${epsilon},rho0=${rho0},r0=${r0}`;
  }

  checkElements(z: Int32Array): void {
    checkAllowedElements('Morse', this.params.elements, z);
  }

  compute(_z: Int32Array, positions: Float64Array): EnergyForces {
    const { epsilon, rho0, r0 } = this.params;
    const n = positions.length / 3;
    const forces = new Float64Array(positions.length);
    let energy = 0;
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const dx = positions[3 * j] - positions[3 * i];
        const dy = positions[3 * j + 1] - positions[3 * i + 1];
        const dz = positions[3 * j + 2] - positions[3 * i + 2];
        const r = Math.sqrt(dx * dx + dy * dy + dz * dz);
        const e = Math.exp(rho0 * (1 - r / r0));
        energy += epsilon * e * (e - 2);
        // −dV/dr = (2ερ₀/r₀)(e² − e); divide by r to scale the pair vector.
        const g = ((2 * epsilon * rho0) / r0) * (e * e - e) / r;
        addPairForce(forces, i, j, g, dx, dy, dz);
      }
    }
    return { energy, forces };
  }
}
