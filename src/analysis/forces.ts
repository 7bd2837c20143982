/**
 * Force (and energy) errors on a test set, as MDsim reports them: the force MAE is the mean of
 * |F_pred − F_ref| over every Cartesian component of every atom of every frame (not a per-atom
 * norm), in eV/Å inside oreo and ×1000 = meV/Å in reports.
 */
import type { Calculator } from '../calculator.js';
import type { Conformation } from '../data/conformation.js';

/** Running sums, so that a test set can be evaluated frame by frame. */
export class ForceErrorAccumulator {
  private absSum = 0;
  private sqSum = 0;
  private n = 0;
  private eAbsSum = 0;
  private eSqSum = 0;
  private nE = 0;

  /** Add one frame's forces (flat, eV/Å). */
  addForces(predicted: ArrayLike<number>, reference: ArrayLike<number>, frame?: number): void {
    if (predicted.length !== reference.length) {
      throw new RangeError(`force error${frame !== undefined ? ` (frame ${frame})` : ''}: ${predicted.length} predicted vs ${reference.length} reference components`);
    }
    for (let k = 0; k < predicted.length; k++) {
      const d = predicted[k] - reference[k];
      this.absSum += Math.abs(d);
      this.sqSum += d * d;
    }
    this.n += predicted.length;
  }

  /** Add one frame's energies (eV). */
  addEnergy(predicted: number, reference: number): void {
    const d = predicted - reference;
    this.eAbsSum += Math.abs(d);
    this.eSqSum += d * d;
    this.nE++;
  }

  result(): ForceErrors {
    return {
      forceMae: this.n ? this.absSum / this.n : NaN,
      forceRmse: this.n ? Math.sqrt(this.sqSum / this.n) : NaN,
      components: this.n,
      energyMae: this.nE ? this.eAbsSum / this.nE : undefined,
      energyRmse: this.nE ? Math.sqrt(this.eSqSum / this.nE) : undefined,
      frames: this.nE,
    };
  }
}

export interface ForceErrors {
  /** eV/Å, over all components. Multiply by 1000 for MDsim's meV/Å. */
  forceMae: number;
  /** eV/Å, root mean square over all components. */
  forceRmse: number;
  /** Number of force components compared (frames × atoms × 3). */
  components: number;
  /** eV per molecule, when energies were compared. */
  energyMae?: number;
  energyRmse?: number;
  /** Frames whose energies were compared. */
  frames: number;
}

/** Force MAE, eV/Å, over all components of paired frames (flat force arrays). */
export function forceMae(predicted: readonly ArrayLike<number>[], reference: readonly ArrayLike<number>[]): number {
  if (predicted.length !== reference.length) throw new RangeError(`force MAE: ${predicted.length} predicted vs ${reference.length} reference frames`);
  const acc = new ForceErrorAccumulator();
  for (let i = 0; i < predicted.length; i++) acc.addForces(predicted[i], reference[i], i);
  if (acc.result().components === 0) throw new RangeError('force MAE: no force components to compare');
  return acc.result().forceMae;
}

/** eV/Å → meV/Å, the unit MDsim and ET-OREO report. */
export function toMeVPerAngstrom(evPerAngstrom: number): number {
  return evPerAngstrom * 1000;
}

/**
 * Evaluate a calculator on labelled conformations (each needs forces; energies are compared
 * when present). `onProgress(done, total)` is called after each frame.
 */
export function evaluateCalculator(
  calc: Calculator,
  test: readonly Conformation[],
  onProgress?: (done: number, total: number) => void,
): ForceErrors {
  const acc = new ForceErrorAccumulator();
  test.forEach((c, i) => {
    if (!c.forces) throw new RangeError(`test frame ${i}${c.source ? ` of ${c.source}` : ''} has no reference forces`);
    const out = calc.compute(c.z, c.positions);
    acc.addForces(out.forces, c.forces, i);
    if (c.energy !== undefined) acc.addEnergy(out.energy, c.energy);
    onProgress?.(i + 1, test.length);
  });
  return acc.result();
}
