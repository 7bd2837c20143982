/**
 * Test metrics as MDsim and TorchMD-Net report them: energy MAE per molecule (meV) and force MAE
 * over every Cartesian component of every atom (meV/Å).
 */
import type { Potential } from '../model/potential.js';
import type { Conformation } from '../data/conformation.js';
import { makeBatch } from '../data/batch.js';
import { AniEnsemble } from '../model/ani/ensemble.js';
import { FastEnergyForces } from '../model/fast/energy-forces.js';

export interface EvalResult {
  conformations: number;
  energyMAE_meV: number | null;
  forceMAE_meV_per_A: number | null;
  forceRMSE_meV_per_A: number | null;
  forceComponents: number;
}

/**
 * Metrics of `pot` on `confs`. Predictions come from the fused inference path (the one MD and
 * `predict` use; several times faster than the autodiff tape, which validation during training
 * would otherwise spend a tenth of its clock on); `autodiff: true` uses the engine tape.
 */
export function evaluate(pot: Potential | AniEnsemble, confs: Conformation[], batchSize = 16, onProgress?: (done: number) => void, options: { autodiff?: boolean } = {}): EvalResult {
  // An ANI ensemble has one path, its analytic forces (predict).
  const fast = options.autodiff || pot instanceof AniEnsemble ? null : new FastEnergyForces(pot);
  try {
    return evaluateWith(pot, fast, confs, batchSize, onProgress);
  } finally {
    fast?.dispose();
  }
}

function evaluateWith(pot: Potential | AniEnsemble, fast: FastEnergyForces | null, confs: Conformation[], batchSize: number, onProgress?: (done: number) => void): EvalResult {
  let eAbs = 0;
  let eN = 0;
  let fAbs = 0;
  let fSq = 0;
  let fN = 0;
  for (let i = 0; i < confs.length; i += batchSize) {
    const chunk = confs.slice(i, i + batchSize);
    const b = makeBatch(chunk);
    let energy: ArrayLike<number>;
    let forces: ArrayLike<number>;
    if (fast) {
      ({ energy, forces } = fast.compute(b.z, b.positions, b.mol, b.nMol));
    } else {
      const p = pot.predict(b);
      energy = p.energy.data;
      forces = p.forces.data;
    }
    chunk.forEach((c, m) => {
      if (c.energy !== undefined) {
        eAbs += Math.abs(energy[m] - c.energy);
        eN++;
      }
      if (c.forces) {
        const a0 = b.atomOffset[m];
        for (let k = 0; k < c.forces.length; k++) {
          const d = forces[3 * a0 + k] - c.forces[k];
          fAbs += Math.abs(d);
          fSq += d * d;
          fN++;
        }
      }
    });
    onProgress?.(Math.min(confs.length, i + batchSize));
  }
  return {
    conformations: confs.length,
    energyMAE_meV: eN ? (1000 * eAbs) / eN : null,
    forceMAE_meV_per_A: fN ? (1000 * fAbs) / fN : null,
    forceRMSE_meV_per_A: fN ? 1000 * Math.sqrt(fSq / fN) : null,
    forceComponents: fN,
  };
}
