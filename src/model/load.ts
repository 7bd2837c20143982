/**
 * Turn a model file into a Calculator for MD and analysis. (Filled in by the model/checkpoint
 * work: TorchMD-Net .ckpt/.pt and oreo's native format.)
 */
import type { Calculator } from '../md/calculator.js';
import { OreoError } from '../errors.js';

export interface LoadOptions {
  dtype?: 'float32' | 'float64';
}

export async function loadCalculator(file: string, _options: LoadOptions = {}): Promise<Calculator> {
  throw new OreoError(`cannot load model ${file}: model loading is not wired up yet`);
}
