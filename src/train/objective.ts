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
import type { Conformation } from '../data/conformation.js';

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

/**
 * Whether any term of the objective reads this conformation. ET-ORE has no term for an
 * equilibrium structure (no reference forces, no zero-force or denoising term), so a mix built
 * for ET-OREO carries conformations it cannot learn from; the trainer leaves those out rather
 * than fail on a batch that happens to hold only them.
 */
export function objectiveApplies(c: Conformation, o: ObjectiveConfig): boolean {
  const eq = c.kind === 'equilibrium';
  if (o.forces > 0 && !eq && c.forces !== undefined) return true;
  if (eq && (o.zeroForce > 0 || o.denoise > 0)) return true;
  return o.energy > 0 && c.energy !== undefined;
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
 * The structures one batch puts through the model: every molecule at r, then the equilibrium
 * ones again at r − ε for the denoising term, as one larger batch (cheaper than two calls).
 * Both training paths (the autodiff tape and the fused gradient) draw ε through this, in the
 * same order, so they see the same noise.
 */
export interface ExtendedBatch {
  z: Int32Array;
  positions: Float64Array;
  mol: Int32Array;
  nMol: number;
  /** Atoms of the batch itself; the noisy copies follow them. */
  nAtoms: number;
  /** The noise ε of the copies [3·extraAtoms], Å. */
  eps: Float64Array;
  useDenoise: boolean;
}

export function extendBatch(batch: Batch, obj: ObjectiveConfig, rng: NormalSource): ExtendedBatch {
  const eq = (m: number) => batch.kind[m] === 'equilibrium';
  const useDenoise = obj.denoise > 0 && batch.kind.some((k) => k === 'equilibrium');
  const nAtoms = batch.z.length;
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
  return { z, positions, mol, nMol: batch.nMol + noisyMols.length, nAtoms, eps, useDenoise };
}

/** One mean-square term: which force components (or molecules) it reads, their targets, its weight. */
interface Term {
  name: keyof LossTerms['parts'];
  weight: number;
  idx: number[];
  target: Float64Array | null;
  on: 'forces' | 'energy';
}

function terms(batch: Batch, ext: ExtendedBatch, obj: ObjectiveConfig): Term[] {
  const eq = (m: number) => batch.kind[m] === 'equilibrium';
  const out: Term[] = [];
  if (obj.forces > 0 && batch.forces && batch.forcesMask) {
    const idx = componentIndex(batch, (m) => !eq(m) && batch.forcesMask![m] === 1);
    if (idx.length > 0) out.push({ name: 'forces', weight: obj.forces, idx, target: Float64Array.from(idx, (i) => batch.forces![i]), on: 'forces' });
  }
  if (obj.zeroForce > 0) {
    const idx = componentIndex(batch, eq);
    if (idx.length > 0) out.push({ name: 'zeroForce', weight: obj.zeroForce, idx, target: null, on: 'forces' });
  }
  if (ext.useDenoise) {
    const idx = Array.from({ length: ext.eps.length }, (_, i) => 3 * ext.nAtoms + i);
    const scale = obj.denoiseTarget === 'score' ? 1 / (obj.sigma * obj.sigma) : 1;
    out.push({ name: 'denoise', weight: obj.denoise, idx, target: ext.eps.map((e) => e * scale), on: 'forces' });
  }
  if (obj.energy > 0 && batch.energy && batch.energyMask) {
    const idx = [...Array(batch.nMol).keys()].filter((m) => batch.energyMask![m] === 1);
    if (idx.length > 0) out.push({ name: 'energy', weight: obj.energy, idx, target: Float64Array.from(idx, (m) => batch.energy![m]), on: 'energy' });
  }
  if (out.length === 0) throw new OreoError('batch has no conformation any objective term applies to (no forces, no equilibrium structures, no energies)');
  return out;
}

/** The loss as plain numbers, with its derivatives by every force component and energy. */
export interface LossWithAdjoints {
  total: number;
  parts: LossTerms['parts'];
  dForces: Float64Array;
  dEnergy: Float64Array;
}

/** The objective on energies E [nMol] and forces F [3·atoms] of an extended batch, and ∂L/∂F, ∂L/∂E. */
export function lossAdjoints(batch: Batch, ext: ExtendedBatch, obj: ObjectiveConfig, E: ArrayLike<number>, F: ArrayLike<number>): LossWithAdjoints {
  const dForces = new Float64Array(F.length);
  const dEnergy = new Float64Array(E.length);
  const parts = { forces: NaN, zeroForce: NaN, denoise: NaN, energy: NaN };
  let total = 0;
  for (const t of terms(batch, ext, obj)) {
    const values = t.on === 'forces' ? F : E;
    const grad = t.on === 'forces' ? dForces : dEnergy;
    let s = 0;
    t.idx.forEach((i, k) => {
      const d = values[i] - (t.target ? t.target[k] : 0);
      s += d * d;
      grad[i] += (2 * t.weight * d) / t.idx.length;
    });
    parts[t.name] = s / t.idx.length;
    total += t.weight * parts[t.name];
  }
  return { total, parts, dForces, dEnergy };
}

/** Loss of one batch on the autodiff tape (createGraph: the parameter gradient goes through it). */
export function batchLoss(pot: Potential, batch: Batch, obj: ObjectiveConfig, rng: NormalSource, createGraph = true): LossTerms {
  const ext = extendBatch(batch, obj, rng);
  const { z, positions, mol } = ext;
  const pred = pot.predict({ z, positions, mol, nMol: ext.nMol }, { createGraph });
  const dtype = pred.forces.dtype;
  const flatF = reshape(pred.forces, [pred.forces.size]);
  const parts = { forces: NaN, zeroForce: NaN, denoise: NaN, energy: NaN };
  let total: Tensor | null = null;
  for (const t of terms(batch, ext, obj)) {
    const sel = gather(t.on === 'forces' ? flatF : pred.energy, Int32Array.from(t.idx));
    const diff = t.target ? sub(sel, constant(t.target, [t.idx.length], dtype)) : sel;
    const ms = mulScalar(sumAll(square(diff)), 1 / t.idx.length);
    parts[t.name] = ms.data[0];
    const weighted = mulScalar(ms, t.weight);
    total = total ? add(total, weighted) : weighted;
  }
  return { total: total!, parts };
}
