/**
 * The energy model assembled from its parts as TorchMD-Net's `create_model` assembles it from the
 * hyper-parameter dict (Thölke & De Fabritiis 2022; torchmdnet/models/model.py):
 *
 *   representation  the ET (src/model/et.ts): per-atom x [N, H], vec [N, 3, H]
 *   output model    EquivariantScalar under `output_model` (src/model/heads/output.ts): e_i [N, 1]
 *   standardize     e_i ← std · e_i                       (`std`, 1 when not standardizing)
 *   prior           e_i ← e_i + atomref(z_i)              (`prior_model.0`, src/model/prior.ts)
 *   reduce          E_m = Σ_{i∈m} e_i  (or the mean, reduce_op)
 *   standardize     E_m ← E_m + mean                      (`mean`, 0 when not standardizing)
 *
 * Parameter names are TorchMD-Net's state-dict names without the leading `model.`; the fused
 * paths (src/model/fast) and the checkpoint readers and writers rely on them.
 */
import { Tensor, add, constant, div, mul, reshape, scatterAdd } from '../engine/index.js';
import type { ETConfig } from './config.js';
import { representation, representationShapes, param, type GraphInput, type Params } from './et.js';
import { equivariantScalar, type OutputModel } from './heads/output.js';
import { priorOf, type Prior } from './prior.js';

/** Names of the standardization buffers. */
export const STD = 'std';
export const MEAN = 'mean';
/** Where the energy head's parameters sit. */
export const OUTPUT_PREFIX = 'output_model';

export interface EnergyModelParts {
  /** The ET's hyper-parameters (the representation model). */
  representation: ETConfig;
  output: OutputModel;
  prior: Prior | null;
  /** How per-atom outputs become one per molecule. */
  reduce: 'add' | 'mean';
}

/** The parts a configuration names. For the ET, TorchMD-Net's 'Scalar' output is EquivariantScalar. */
export function createModel(cfg: ETConfig): EnergyModelParts {
  return { representation: cfg, output: equivariantScalar(OUTPUT_PREFIX), prior: priorOf(cfg), reduce: cfg.reduce_op };
}

/** Shapes of every parameter and buffer, by TorchMD-Net state-dict name (without `model.`). */
export function parameterShapes(cfg: ETConfig): Map<string, number[]> {
  const parts = createModel(cfg);
  const s = new Map([...representationShapes(cfg), ...parts.output.shapes(cfg.embedding_dimension)]);
  if (parts.prior) for (const [k, v] of parts.prior.shapes(cfg)) s.set(k, v);
  s.set(MEAN, []);
  s.set(STD, []);
  return s;
}

/** Where the extra heads of a multi-head model keep their tensors (src/model/multi-head.ts). */
export const HEAD_PREFIX = 'heads.';

/** Is this a tensor of an extra head (`heads.<id>.…`)? */
export function isHeadParameter(name: string): boolean {
  return name.startsWith(HEAD_PREFIX);
}

/** The standard name of a tensor: an extra head's `heads.<id>.output_model.…` is `output_model.…`. */
export function standardName(name: string): string {
  if (!isHeadParameter(name)) return name;
  const rest = name.slice(HEAD_PREFIX.length);
  return rest.slice(rest.indexOf('.') + 1);
}

/** Names (standard) of the tensors that make up one head: all but the representation's. */
export function headShapes(cfg: ETConfig): Map<string, number[]> {
  const rep = representationShapes(cfg);
  return new Map([...parameterShapes(cfg)].filter(([k]) => !rep.has(k)));
}

/** Names of buffers: loaded and saved, but never trained. */
export function isBuffer(name: string, cfg: ETConfig): boolean {
  name = standardName(name);
  if (name === MEAN || name === STD) return true;
  if (name.startsWith('prior_model.')) return true;
  if (name.includes('distance_expansion.') && !cfg.trainable_rbf) return true;
  return false;
}

/** Per-molecule sum (or mean) of per-atom values [N, k] → [nMol, k]; `mol` is grouped. */
export function reduceAtoms(perAtom: Tensor, mol: Int32Array, nMol: number, op: 'add' | 'mean'): Tensor {
  const y = scatterAdd(perAtom, mol, nMol);
  if (op !== 'mean') return y;
  const counts = new Float64Array(nMol);
  for (const m of mol) counts[m]++;
  return div(y, constant(counts, [nMol, 1], perAtom.dtype));
}

/** Molecular energies [nMol], differentiable in positions and parameters. */
export function energies(parts: EnergyModelParts, params: Params, g: GraphInput): Tensor {
  const rep = representation(parts.representation, params, g);
  let e = mul(parts.output.preReduce(params, rep), param(params, STD));
  if (parts.prior) e = parts.prior.apply(params, g.z, e);
  const y = add(reduceAtoms(e, g.mol, g.nMol, parts.reduce), param(params, MEAN));
  return reshape(y, [g.nMol]);
}
