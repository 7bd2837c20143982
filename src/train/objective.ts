/**
 * The force-centric objective of ET-OREO (paper eq. 2), one weighted term per line:
 *
 *   off-equilibrium conformations:  forces    ‖F(r) − F_ref(r)‖²
 *   equilibrium conformations:      zeroForce ‖F(r)‖²
 *                                   denoise   ‖F(r − ε) − t(ε)‖²,  ε ~ N(0, σ²),
 *                                             t(ε) = ε (default) or ε/σ² (the score scale)
 *   any conformation with a label:  energy    (E − E_ref)²   (plain supervised training)
 *
 * Setting weights gives ET-OREO (all force terms), ET-ORE (forces only) or TorchMD-Net-style
 * energy+force training, with no code fork. Each term is a mean over force components (or
 * molecules for energy) of the conformations it applies to, so terms keep their scale whatever
 * the batch mix.
 */
import { Tensor, add, constant, gather, mulScalar, reshape, square, sub, sumAll } from '../engine/index.js';
import type { Batch } from '../data/batch.js';
import type { Potential } from '../model/potential.js';
import { OreoError } from '../errors.js';

export interface ObjectiveConfig {
  forces: number;
  zeroForce: number;
  denoise: number;
  energy: number;
  /** Noise standard deviation σ in Å (σ² = 0.04 Å² in the paper, so σ = 0.2). */
  sigma: number;
  /** Target of the denoising term: 'epsilon' (F → ε) or 'score' (F → ε/σ²). */
  denoiseTarget: 'epsilon' | 'score';
}

export const ET_OREO: ObjectiveConfig = { forces: 1, zeroForce: 1, denoise: 1, energy: 0, sigma: 0.2, denoiseTarget: 'epsilon' };

export const PRESETS: Record<string, ObjectiveConfig> = {
  'et-oreo': ET_OREO,
  'et-ore': { ...ET_OREO, zeroForce: 0, denoise: 0 },
  supervised: { ...ET_OREO, zeroForce: 0, denoise: 0, energy: 0.2, forces: 0.8 },
};

export function checkObjective(o: ObjectiveConfig, where: string): void {
  for (const k of ['forces', 'zeroForce', 'denoise', 'energy'] as const) {
    if (!(Number.isFinite(o[k]) && o[k] >= 0)) throw new OreoError(`${where}: objective.${k} must be a number ≥ 0, got ${o[k]}`);
  }
  if (!(o.sigma > 0)) throw new OreoError(`${where}: objective.sigma must be > 0, got ${o.sigma}`);
  if (o.denoiseTarget !== 'epsilon' && o.denoiseTarget !== 'score') {
    throw new OreoError(`${where}: objective.denoiseTarget must be 'epsilon' or 'score'`);
  }
  if (o.forces + o.zeroForce + o.denoise + o.energy === 0) throw new OreoError(`${where}: every objective weight is 0`);
}

export interface LossTerms {
  total: Tensor;
  /** Values of each term (unweighted), for logs. NaN where the batch had no such conformation. */
  parts: { forces: number; zeroForce: number; denoise: number; energy: number };
}

/** Indices of the force components (3 per atom) of the molecules selected by `pick`. */
function componentIndex(batch: Batch, pick: (m: number) => boolean, atomShift = 0): number[] {
  const out: number[] = [];
  for (let m = 0; m < batch.nMol; m++) {
    if (!pick(m)) continue;
    for (let a = batch.atomOffset[m]; a < batch.atomOffset[m + 1]; a++) out.push(3 * (a + atomShift), 3 * (a + atomShift) + 1, 3 * (a + atomShift) + 2);
  }
  return out;
}

/** A normal deviate source (the trainer's seeded RNG). */
export interface NormalSource {
  normal(): number;
}

/**
 * Loss of one batch. Equilibrium molecules are evaluated twice, at r and at r − ε: both copies
 * go through the model in one call (a larger batch), which is cheaper than two calls.
 */
export function batchLoss(pot: Potential, batch: Batch, obj: ObjectiveConfig, rng: NormalSource, createGraph = true): LossTerms {
  const eq = (m: number) => batch.kind[m] === 'equilibrium';
  const useDenoise = obj.denoise > 0 && batch.kind.some((k) => k === 'equilibrium');
  const nAtoms = batch.z.length;
  // Molecules: [all at r] + [equilibrium ones at r − ε].
  const noisyMols = useDenoise ? [...Array(batch.nMol).keys()].filter(eq) : [];
  let extraAtoms = 0;
  for (const m of noisyMols) extraAtoms += batch.atomOffset[m + 1] - batch.atomOffset[m];
  const z = new Int32Array(nAtoms + extraAtoms);
  const positions = new Float64Array(3 * (nAtoms + extraAtoms));
  const mol = new Int32Array(nAtoms + extraAtoms);
  z.set(batch.z);
  positions.set(batch.positions);
  mol.set(batch.mol);
  const eps = new Float64Array(3 * extraAtoms);
  let o = nAtoms;
  noisyMols.forEach((m, k) => {
    for (let a = batch.atomOffset[m]; a < batch.atomOffset[m + 1]; a++, o++) {
      z[o] = batch.z[a];
      mol[o] = batch.nMol + k;
      for (let c = 0; c < 3; c++) {
        const e = rng.normal() * obj.sigma;
        eps[3 * (o - nAtoms) + c] = e;
        positions[3 * o + c] = batch.positions[3 * a + c] - e;
      }
    }
  });
  const pred = pot.predict({ z, positions, mol, nMol: batch.nMol + noisyMols.length }, { createGraph });
  const dtype = pred.forces.dtype;
  const flatF = reshape(pred.forces, [pred.forces.size]);
  const terms: Tensor[] = [];
  const parts = { forces: NaN, zeroForce: NaN, denoise: NaN, energy: NaN };

  const meanSquare = (idx: number[], target: Float64Array | null): Tensor => {
    const sel = gather(flatF, Int32Array.from(idx));
    const diff = target ? sub(sel, constant(target, [idx.length], dtype)) : sel;
    return mulScalar(sumAll(square(diff)), 1 / idx.length);
  };

  if (obj.forces > 0 && batch.forces && batch.forcesMask) {
    const idx = componentIndex(batch, (m) => !eq(m) && batch.forcesMask![m] === 1);
    if (idx.length > 0) {
      const t = meanSquare(idx, Float64Array.from(idx, (i) => batch.forces![i]));
      parts.forces = t.data[0];
      terms.push(mulScalar(t, obj.forces));
    }
  }
  if (obj.zeroForce > 0) {
    const idx = componentIndex(batch, eq);
    if (idx.length > 0) {
      const t = meanSquare(idx, null);
      parts.zeroForce = t.data[0];
      terms.push(mulScalar(t, obj.zeroForce));
    }
  }
  if (useDenoise) {
    const idx = Array.from({ length: 3 * extraAtoms }, (_, i) => 3 * nAtoms + i);
    const scale = obj.denoiseTarget === 'score' ? 1 / (obj.sigma * obj.sigma) : 1;
    const t = meanSquare(idx, eps.map((e) => e * scale));
    parts.denoise = t.data[0];
    terms.push(mulScalar(t, obj.denoise));
  }
  if (obj.energy > 0 && batch.energy && batch.energyMask) {
    const ms = [...Array(batch.nMol).keys()].filter((m) => batch.energyMask![m] === 1);
    if (ms.length > 0) {
      const e = gather(pred.energy, Int32Array.from(ms));
      const t = mulScalar(sumAll(square(sub(e, constant(Float64Array.from(ms, (m) => batch.energy![m]), [ms.length], dtype)))), 1 / ms.length);
      parts.energy = t.data[0];
      terms.push(mulScalar(t, obj.energy));
    }
  }
  if (terms.length === 0) throw new OreoError('batch has no conformation any objective term applies to (no forces, no equilibrium structures, no energies)');
  let total = terms[0];
  for (const t of terms.slice(1)) total = add(total, t);
  return { total, parts };
}
