/**
 * Test metrics of a property model as TorchMD-Net and Zaidi et al. report them: the L1 error
 * (MAE) over molecules, in the target's unit and, for targets in eV, in meV.
 */
import type { Conformation } from '../../data/conformation.js';
import { makeBatch } from '../../data/batch.js';
import type { PropertyModel } from '../../model/heads/property.js';
import { targetValues } from './targets.js';

export interface PropertyEvalResult {
  target: string;
  unit: string | null;
  molecules: number;
  mae: number;
  rmse: number;
  /** MAE and RMSE in meV, when the target is in eV. */
  mae_meV: number | null;
  rmse_meV: number | null;
  /** MAE of always predicting the training mean (the model's `mean`): what the model must beat. */
  baselineMAE: number;
}

/** Predictions of the model, in the target's unit, in the order of `confs`. */
export function predictProperty(model: PropertyModel, confs: Conformation[], batchSize = 32, onProgress?: (done: number) => void): Float64Array {
  const out = new Float64Array(confs.length);
  for (let i = 0; i < confs.length; i += batchSize) {
    const chunk = confs.slice(i, i + batchSize);
    const b = makeBatch(chunk);
    out.set(model.predict({ z: b.z, positions: b.positions, mol: b.mol, nMol: b.nMol }), i);
    onProgress?.(Math.min(confs.length, i + batchSize));
  }
  return out;
}

/** Metrics from predictions and labels (kept apart from the model so callers can reuse predictions). */
export function propertyMetrics(pred: ArrayLike<number>, y: ArrayLike<number>, target: string, unit: string | null, mean: number): PropertyEvalResult {
  let abs = 0;
  let sq = 0;
  let base = 0;
  for (let i = 0; i < y.length; i++) {
    const d = pred[i] - y[i];
    abs += Math.abs(d);
    sq += d * d;
    base += Math.abs(mean - y[i]);
  }
  const n = y.length;
  const mae = abs / n;
  const rmse = Math.sqrt(sq / n);
  const eV = unit === 'eV';
  return { target, unit, molecules: n, mae, rmse, mae_meV: eV ? 1000 * mae : null, rmse_meV: eV ? 1000 * rmse : null, baselineMAE: base / n };
}

export function evaluateProperty(model: PropertyModel, confs: Conformation[], file: string, batchSize = 32, onProgress?: (done: number) => void): PropertyEvalResult {
  const y = targetValues(confs, model.head.target, file);
  const pred = predictProperty(model, confs, batchSize, onProgress);
  return propertyMetrics(pred, y, model.head.target, model.head.unit, model.head.mean);
}
