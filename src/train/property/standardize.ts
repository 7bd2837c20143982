/**
 * Standardisation of a property target by the training set (TorchMD-Net's `standardize: true`):
 * the network learns ŷ = (y − mean)/std, and the model file stores mean and std so predictions
 * come back in the target's unit.
 */
import { OreoError } from '../../errors.js';

export interface Standardization {
  mean: number;
  std: number;
}

/** Mean and standard deviation (n − 1, as torch.std in TorchMD-Net) of the training targets; std 1 if they are all equal. */
export function standardization(values: ArrayLike<number>): Standardization {
  const n = values.length;
  if (n === 0) throw new OreoError('cannot standardise an empty training set');
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i];
  mean /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (values[i] - mean) ** 2;
  const std = n > 1 ? Math.sqrt(ss / (n - 1)) : 0;
  // A constant target (or a single molecule) has nothing to scale; keep the unit as it is.
  return { mean, std: std > 0 && Number.isFinite(std) ? std : 1 };
}

export function standardize(y: number, s: Standardization): number {
  return (y - s.mean) / s.std;
}

export function destandardize(u: number, s: Standardization): number {
  return s.mean + s.std * u;
}
