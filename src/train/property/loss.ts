/**
 * The property fine-tuning loss, per batch:
 *
 *   property  mean over molecules of (ŷ − (y − mean)/std)²   ('mse', TorchMD-Net's training loss)
 *             or of |ŷ − (y − mean)/std|                    ('l1')
 *   denoise   mean over coordinates of (n̂ − ε/σ)²            (Zaidi et al.'s auxiliary term)
 *
 * The property term is in standardised units, so its scale is the same for HOMO in eV and
 * polarisability in a0³, and the denoising weight means the same thing for every target.
 *
 * Denoising as in Zaidi et al.'s fine-tuning: training positions are perturbed by ε ~ N(0, σ²)
 * per coordinate, the property is predicted from the perturbed structure (so the noise also acts
 * as augmentation), and a separate vector head (EquivariantVectorOutput) predicts ε from the same
 * encoding. The target is ε/σ, which has unit variance: Zaidi et al. normalise it with running
 * statistics; with a known σ the exact statistics are used instead. Validation and test use the
 * clean positions and the property term only.
 */
import { Tensor, add, constant, mulScalar, sqrtSafe, square, sub, sumAll } from '../../engine/index.js';
import type { Batch } from '../../data/batch.js';
import type { PropertyModel } from '../../model/heads/property.js';
import type { NormalSource } from '../objective.js';
import { OreoError } from '../../errors.js';

export interface PropertyObjective {
  loss: 'mse' | 'l1';
  /** Weight of the auxiliary denoising term (0: off; Zaidi et al. use 0.1). */
  denoise: number;
  /** Standard deviation of the position noise, Å (Zaidi et al.: 0.005). */
  sigma: number;
}

export const ZAIDI_DENOISING = { denoise: 0.1, sigma: 0.005 } as const;

export function checkPropertyObjective(o: PropertyObjective, where: string): void {
  if (o.loss !== 'mse' && o.loss !== 'l1') throw new OreoError(`${where}: loss must be 'mse' or 'l1', got ${JSON.stringify(o.loss)}`);
  if (!(Number.isFinite(o.denoise) && o.denoise >= 0)) throw new OreoError(`${where}: denoising weight must be a number ≥ 0, got ${o.denoise}`);
  if (!(Number.isFinite(o.sigma) && o.sigma > 0)) throw new OreoError(`${where}: noise σ must be > 0 Å, got ${o.sigma}`);
}

export interface PropertyLossTerms {
  total: Tensor;
  parts: { property: number; denoise: number };
}

/** Standardised targets of a batch; every molecule must have the target. */
function batchTargets(model: PropertyModel, batch: Batch): Float64Array {
  const { target, mean, std } = model.head;
  const y = batch.props?.[target];
  if (!y) throw new OreoError(`batch has no property '${target}'`);
  return Float64Array.from(y, (v, m) => {
    if (!Number.isFinite(v)) throw new OreoError(`molecule ${batch.index[m]} of ${batch.source[m] ?? 'the batch'} has no '${target}'`);
    return (v - mean) / std;
  });
}

export function propertyLoss(model: PropertyModel, batch: Batch, obj: PropertyObjective, rng: NormalSource, training: boolean): PropertyLossTerms {
  const t = batchTargets(model, batch);
  const useNoise = training && obj.denoise > 0;
  let positions = batch.positions;
  let eps: Float64Array | null = null;
  if (useNoise) {
    eps = new Float64Array(positions.length);
    positions = Float64Array.from(positions, (x, i) => {
      eps![i] = rng.normal();
      return x + obj.sigma * eps![i];
    });
  }
  const out = model.forward({ z: batch.z, positions, mol: batch.mol, nMol: batch.nMol }, { noise: useNoise });
  const dtype = out.standardized.dtype;
  const diff = sub(out.standardized, constant(t, [t.length], dtype));
  const perMolecule = obj.loss === 'mse' ? square(diff) : sqrtSafe(square(diff));
  const propertyTerm = mulScalar(sumAll(perMolecule), 1 / batch.nMol);
  const parts = { property: propertyTerm.data[0], denoise: NaN };
  let total = propertyTerm;
  if (useNoise && eps && out.noise) {
    const d = sub(out.noise, constant(eps, out.noise.shape, dtype));
    const denoiseTerm = mulScalar(sumAll(square(d)), 1 / eps.length);
    parts.denoise = denoiseTerm.data[0];
    total = add(total, mulScalar(denoiseTerm, obj.denoise));
  }
  return { total, parts };
}
