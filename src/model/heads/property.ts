/**
 * A property model: the ET encoder with a per-molecule property head instead of the energy head.
 *
 *   h_i = head(x_i, vec_i)                      per-atom scalar
 *   ŷ   = Σ_i h_i  (extensive, 'sum')   or  (1/N) Σ_i h_i  (intensive, 'mean')
 *   y   = mean + std · ŷ                        standardised by the training set's targets
 *
 * With reduce 'sum' this is TorchMD-Net's assembly with `standardize: true` (std scales every
 * atom's output, mean is added once per molecule), which is what Zaidi et al. fine-tune QM9 with.
 * The head is TorchMD-Net's EquivariantScalar (two gated equivariant blocks) or its plain MLP
 * `Scalar` on x. An optional noise head (TorchMD-Net's EquivariantVectorOutput, as Zaidi et al.'s
 * `output_model_noise`) predicts the per-atom position noise for the auxiliary denoising loss.
 *
 * Parameters: the encoder's `representation_model.*` (TorchMD-Net names) and the head's `head.*`.
 */
import { Tensor, DType, allocate, noGrad, reshape } from '../../engine/index.js';
import type { ETConfig } from '../config.js';
import { representation, representationShapes, Params } from '../et.js';
import { reduceAtoms } from '../create.js';
import { initLinearParameters } from '../init.js';
import { ParameterSet, type StructureBatch, type ModelMeta } from '../parameters.js';
import { OreoError } from '../../errors.js';
import { equivariantScalar, equivariantVectorOutput, scalar, type OutputModel } from './output.js';

export type PropertyHeadType = 'equivariant-scalar' | 'mlp';
export type PropertyReduce = 'sum' | 'mean';

export const PROPERTY_HEAD_TYPES: readonly PropertyHeadType[] = ['equivariant-scalar', 'mlp'];

/** Everything about the head that is not a tensor; stored in the model file's header. */
export interface PropertyHead {
  task: 'property';
  type: PropertyHeadType;
  /** The key of Conformation.props this model predicts (e.g. 'homo'). */
  target: string;
  /** Unit of the target after reading (eV for QM9 energies), or null if unknown. */
  unit: string | null;
  reduce: PropertyReduce;
  /** Standardisation: y = mean + std · ŷ. */
  mean: number;
  std: number;
}

export const HEAD_PREFIX = 'head';
export const NOISE_PREFIX = 'head.noise';

/** Shapes of the encoder's parameters: the representation alone (no energy head, prior or mean/std). */
export function encoderShapes(cfg: ETConfig): Map<string, number[]> {
  return representationShapes(cfg);
}

/** The output model a head type names: TorchMD-Net's EquivariantScalar, or its plain `Scalar` MLP on x. */
export function propertyOutput(type: PropertyHeadType): OutputModel {
  return type === 'equivariant-scalar' ? equivariantScalar(HEAD_PREFIX) : scalar(HEAD_PREFIX);
}

/** The denoising head (EquivariantVectorOutput), used only while training with denoising. */
export const noiseOutput: OutputModel = equivariantVectorOutput(NOISE_PREFIX);

/** Shapes of the property head's parameters. */
export function headShapes(type: PropertyHeadType, H: number): Map<string, number[]> {
  return propertyOutput(type).shapes(H);
}

export function checkHead(h: PropertyHead, where: string): void {
  if (h.task !== 'property') throw new OreoError(`${where}: head.task must be 'property', got ${JSON.stringify(h.task)}`);
  if (!PROPERTY_HEAD_TYPES.includes(h.type)) throw new OreoError(`${where}: unknown head type ${JSON.stringify(h.type)} (known: ${PROPERTY_HEAD_TYPES.join(', ')})`);
  if (typeof h.target !== 'string' || h.target === '') throw new OreoError(`${where}: head.target must be a property name`);
  if (h.reduce !== 'sum' && h.reduce !== 'mean') throw new OreoError(`${where}: head.reduce must be 'sum' or 'mean', got ${JSON.stringify(h.reduce)}`);
  if (!Number.isFinite(h.mean)) throw new OreoError(`${where}: head.mean must be a finite number, got ${h.mean}`);
  if (!(Number.isFinite(h.std) && h.std > 0)) throw new OreoError(`${where}: head.std must be a positive number, got ${h.std}`);
}

export interface PropertyForward {
  /** Standardised prediction ŷ per molecule [nMol]; y = mean + std · ŷ. */
  standardized: Tensor;
  /** Predicted position noise per atom [N, 3] (in units of σ), when asked for. */
  noise?: Tensor;
}

export class PropertyModel extends ParameterSet {
  constructor(
    config: ETConfig,
    /** Encoder (`representation_model.*`) and head (`head.*`) parameters. */
    params: Params,
    dtype: DType,
    readonly head: PropertyHead,
    meta: ModelMeta = {},
  ) {
    super(config, params, dtype, meta);
    checkHead(head, 'property model');
  }

  hasNoiseHead(): boolean {
    return this.params.has(`${NOISE_PREFIX}.output_network.0.vec1_proj.weight`);
  }

  /** Add a freshly initialised noise head (for the auxiliary denoising loss); no-op if present. */
  addNoiseHead(seed: number): void {
    if (this.hasNoiseHead()) return;
    for (const [k, t] of initLinearParameters(noiseOutput.shapes(this.config.embedding_dimension), this.dtype, seed)) this.params.set(k, t);
  }

  /** Drop the noise head (it is only a training aid; model files do not carry it). */
  removeNoiseHead(): void {
    for (const k of [...this.params.keys()]) if (k.startsWith(NOISE_PREFIX + '.')) this.params.delete(k);
  }

  /**
   * Standardised predictions, differentiable in the parameters while gradients are recorded.
   * With `noise`, the noise head's per-atom vector [N, 3] too (it must exist).
   */
  forward(b: StructureBatch, options: { noise?: boolean } = {}): PropertyForward {
    const g = this.graph(b, false);
    const { mol, nMol } = g;
    const rep = representation(this.config, this.params, g);
    const y = reduceAtoms(propertyOutput(this.head.type).preReduce(this.params, rep), mol, nMol, this.head.reduce === 'mean' ? 'mean' : 'add');
    const out: PropertyForward = { standardized: reshape(y, [nMol]) };
    if (options.noise) {
      if (!this.hasNoiseHead()) throw new OreoError('this model has no noise head (train with a denoising weight > 0 to add one)');
      out.noise = noiseOutput.preReduce(this.params, rep);
    }
    return out;
  }

  /** Predicted property per molecule, in the target's unit. */
  predict(b: StructureBatch): Float64Array {
    const s = noGrad(() => this.forward(b).standardized);
    return Float64Array.from(s.data, (v) => this.head.mean + this.head.std * v);
  }
}

/** A property model with fresh head parameters on the given encoder parameters. */
export function attachPropertyHead(cfg: ETConfig, encoder: Params, dtype: DType, head: PropertyHead, options: { seed?: number; meta?: ModelMeta } = {}): PropertyModel {
  const params: Params = new Map();
  for (const [name, shape] of encoderShapes(cfg)) {
    const t = encoder.get(name);
    if (!t) throw new OreoError(`the encoder is missing parameter '${name}'`);
    if (t.shape.join(',') !== shape.join(',')) throw new OreoError(`encoder parameter '${name}' has shape [${t.shape}], expected [${shape}]`);
    const data = allocate(dtype, t.size);
    data.set(t.data);
    params.set(name, new Tensor(data, shape));
  }
  for (const [k, t] of initLinearParameters(headShapes(head.type, cfg.embedding_dimension), dtype, options.seed ?? 0)) params.set(k, t);
  return new PropertyModel(cfg, params, dtype, head, options.meta ?? {});
}
