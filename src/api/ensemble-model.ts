/**
 * An ANI ensemble (the bundled ANI-2x) in the library API: the calls of `Model` (energies and
 * forces, one structure or a batch, an MD calculator), each result also carrying the ensemble's
 * spread, the uncertainty an active-learning loop or an MD watchdog acts on.
 *
 *   const ani = loadModel('ani2x') as EnsembleModel;
 *   const r = ani.energyAndForces({ z, positions });   // r.spread.maxForce, eV/Å
 */
import type { Calculator } from '../calculator.js';
import { OreoError } from '../errors.js';
import { packStructures } from '../data/batch.js';
import { atomicNumber } from '../elements.js';
import { AniEnsemble, type SpreadSummary, type AniCalculator } from '../model/ani/ensemble.js';
import { flatPositions, type Structure, type EnergyAndForces } from './structure.js';

export interface EnergyForcesSpread extends EnergyAndForces {
  /** Ensemble spread: energy (eV), largest and mean per-atom force spread (eV/Å). */
  spread: SpreadSummary;
  /** Per-atom force spread, eV/Å: sqrt(Σ_m |F_m − F̄|² / (M − 1)). */
  forceSpread: Float64Array;
  /** Each member's energy, eV. */
  memberEnergies: number[];
}

export class EnsembleModel {
  constructor(readonly ensemble: AniEnsemble) {}

  get name(): string {
    return this.ensemble.name;
  }

  /** Level of theory of the data it was trained on, e.g. "ANI-2x (ωB97X/6-31G(d))". */
  get levelOfTheory(): string {
    return this.ensemble.levelOfTheory;
  }

  /** Number of members. */
  get size(): number {
    return this.ensemble.size;
  }

  get elements(): number[] {
    return this.ensemble.elements.map(atomicNumber);
  }

  /** Neighbour cutoff, Å. */
  get cutoff(): number {
    return this.ensemble.cutoff;
  }

  checkElements(z: ArrayLike<number>): void {
    this.ensemble.checkElements(Int32Array.from(z));
  }

  energyAndForces(s: Structure): EnergyForcesSpread {
    return this.energyAndForcesBatch([s])[0];
  }

  energyAndForcesBatch(structures: Structure[]): EnergyForcesSpread[] {
    const { z, positions, mol, nMol, atomOffset } = packStructures(structures.map((s, m) => ({ z: s.z, positions: flatPositions(s, `structure ${m}`) })));
    structures.forEach((s, m) => {
      try {
        this.ensemble.checkElements(Int32Array.from(s.z));
      } catch (e) {
        throw new OreoError(`structure ${m}: ${(e as Error).message}`);
      }
    });
    const r = this.ensemble.compute(z, positions, mol, nMol, { spread: true });
    return structures.map((_, m) => {
      const a = atomOffset[m], b = atomOffset[m + 1];
      return {
        energy: r.energy[m],
        forces: r.forces.slice(3 * a, 3 * b),
        forceSpread: r.forceSpread!.slice(a, b),
        spread: AniEnsemble.summary(r, m, [a, b]),
        memberEnergies: r.memberEnergies!.map((e) => e[m]),
      };
    });
  }

  energies(structures: Structure[]): number[] {
    return this.energyAndForcesBatch(structures).map((r) => r.energy);
  }

  /**
   * The ensemble as an MD calculator (mean energy and forces). With `spread: true` each step
   * also computes the members' forces and keeps the spread in the calculator's `lastSpread`.
   */
  calculator(options: { spread?: boolean; onSpread?: (s: SpreadSummary) => void } = {}): Calculator & AniCalculator {
    return this.ensemble.asCalculator(this.name, options);
  }
}
