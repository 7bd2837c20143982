/**
 * Priors, as TorchMD-Net's `priors` module: a physical term added to every atom's output before
 * the sum. oreo implements Atomref, a learned-or-fitted constant per element (the per-element
 * energies `calibrateElementEnergies` fits); its one parameter keeps TorchMD-Net's name.
 */
import { Tensor, DType, add, gather, allocate } from '../engine/index.js';
import type { ETConfig } from './config.js';
import { param, type Params } from './et.js';

/** The Atomref table [max_z, 1], by its TorchMD-Net state-dict name (without `model.`). */
export const ATOMREF_WEIGHT = 'prior_model.0.atomref.weight';

export interface Prior {
  readonly name: 'Atomref';
  shapes(cfg: ETConfig): Map<string, number[]>;
  /** The per-atom outputs [N, 1] with the prior's term added. */
  apply(params: Params, z: Int32Array, perAtom: Tensor): Tensor;
}

export const atomref: Prior = {
  name: 'Atomref',
  shapes: (cfg) => new Map([[ATOMREF_WEIGHT, [cfg.max_z, 1]]]),
  apply: (params, z, perAtom) => add(perAtom, gather(param(params, ATOMREF_WEIGHT), z)),
};

/** The prior a configuration names, or null (create_model's `prior_model` argument). */
export function priorOf(cfg: ETConfig): Prior | null {
  return cfg.prior_model === 'Atomref' ? atomref : null;
}

/**
 * Give a model without a prior an all-zero Atomref, so that per-element energies
 * (calibrateElementEnergies) have a place to go: the table, and `prior_model: 'Atomref'` in its
 * configuration so that it is assembled, saved and exported as TorchMD-Net would build it.
 */
export function addAtomref(m: { config: ETConfig; params: Params; dtype: DType }): void {
  if (m.params.has(ATOMREF_WEIGHT)) return;
  const [shape] = atomref.shapes(m.config).values();
  m.params.set(ATOMREF_WEIGHT, new Tensor(allocate(m.dtype, m.config.max_z), shape));
  (m.config as { prior_model: ETConfig['prior_model'] }).prior_model = 'Atomref';
}
