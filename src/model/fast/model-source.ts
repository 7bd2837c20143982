/**
 * What the fused paths read of a model: its hyper-parameters, its parameters by TorchMD-Net
 * name and its precision. A `Potential` is one; naming the shape here rather than importing the
 * class keeps `potential.ts` (which builds a FastEnergyForces for MD) and this folder free of an
 * import cycle.
 */
import type { DType } from '../../engine/index.js';
import type { ETConfig } from '../config.js';
import type { Params } from '../et.js';

export interface FusedModel {
  readonly config: ETConfig;
  readonly params: Params;
  readonly dtype: DType;
}

/** A model that also says which of its parameters are trained (the training gradient needs it). */
export interface TrainableModel extends FusedModel {
  trainable(): readonly (readonly [string, unknown])[];
}
