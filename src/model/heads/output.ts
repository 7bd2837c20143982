/**
 * Output models, as TorchMD-Net's `output_modules` define them: what turns the representation's
 * per-atom features (x [N, H], vec [N, 3, H]) into one per-atom output before the sum over each
 * molecule. TorchMD-Net's `create_model` picks one by name (for the ET, 'Scalar' becomes
 * 'EquivariantScalar'); `src/model/create.ts` does the same for the energy head, and a property
 * model names its own (src/model/heads/property.ts).
 *
 * Each output model knows its parameters' shapes under its prefix, so the same class serves the
 * energy head (`output_model`), a property head (`head`) and the denoising head (`head.noise`).
 */
import { Tensor, linear, reshape, silu } from '../../engine/index.js';
import { param, type Params, type Representation } from '../et.js';
import { twoBlocks, twoBlockShapes } from './gated.js';

export type OutputModelName = 'EquivariantScalar' | 'Scalar' | 'EquivariantVectorOutput';

export interface OutputModel {
  /** TorchMD-Net's class name. */
  readonly name: OutputModelName;
  /** Where its parameters sit among the model's (TorchMD-Net's `output_model` for the energy head). */
  readonly prefix: string;
  /** Parameter shapes by full name, for embedding dimension H. */
  shapes(H: number): Map<string, number[]>;
  /** Per-atom output: [N, 1] for the scalar heads, [N, 3] for the vector head. */
  preReduce(params: Params, rep: Representation): Tensor;
}

/** Two gated equivariant blocks H → H/2 → 1; the scalar channel per atom. */
export function equivariantScalar(prefix: string): OutputModel {
  return {
    name: 'EquivariantScalar',
    prefix,
    shapes: (H) => twoBlockShapes(prefix, H),
    preReduce: (params, rep) => twoBlocks(params, prefix, rep).x,
  };
}

/** The same two blocks, the vector channel per atom [N, 3] (TorchMD-Net's dipole/noise head). */
export function equivariantVectorOutput(prefix: string): OutputModel {
  return {
    name: 'EquivariantVectorOutput',
    prefix,
    shapes: (H) => twoBlockShapes(prefix, H),
    preReduce: (params, rep) => reshape(twoBlocks(params, prefix, rep).vec, [rep.x.shape[0], 3]),
  };
}

/** TorchMD-Net's plain `Scalar` on x alone: Linear(H → H/2) – SiLU – Linear(H/2 → 1). */
export function scalar(prefix: string): OutputModel {
  const p = (k: string) => `${prefix}.output_network.${k}`;
  return {
    name: 'Scalar',
    prefix,
    shapes: (H) =>
      new Map([
        [p('0.weight'), [H / 2, H]],
        [p('0.bias'), [H / 2]],
        [p('2.weight'), [1, H / 2]],
        [p('2.bias'), [1]],
      ]),
    preReduce: (params, rep) => linear(silu(linear(rep.x, param(params, p('0.weight')), param(params, p('0.bias')))), param(params, p('2.weight')), param(params, p('2.bias'))),
  };
}
