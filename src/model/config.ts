/**
 * The ET's hyper-parameters, named as TorchMD-Net names them in a checkpoint's
 * `hyper_parameters`, and the check that refuses options oreo does not implement (naming them)
 * rather than running a model that would silently differ.
 */
import { InputError, OreoError } from '../errors.js';

export interface ETConfig {
  embedding_dimension: number;
  num_layers: number;
  num_rbf: number;
  rbf_type: 'expnorm';
  trainable_rbf: boolean;
  activation: 'silu';
  attn_activation: 'silu';
  neighbor_embedding: boolean;
  num_heads: number;
  distance_influence: 'keys' | 'values' | 'both' | 'none';
  cutoff_lower: number;
  cutoff_upper: number;
  max_z: number;
  max_num_neighbors: number;
  vector_cutoff: boolean;
  /** Head: 'Scalar' builds TorchMD-Net's EquivariantScalar for the ET (as TorchMD-Net does). */
  output_model: 'Scalar' | 'EquivariantScalar';
  reduce_op: 'add' | 'mean';
  prior_model: null | 'Atomref';
  precision: 32 | 64;
}

export const defaultConfig: ETConfig = {
  embedding_dimension: 128,
  num_layers: 6,
  num_rbf: 32,
  rbf_type: 'expnorm',
  trainable_rbf: false,
  activation: 'silu',
  attn_activation: 'silu',
  neighbor_embedding: true,
  num_heads: 8,
  distance_influence: 'both',
  cutoff_lower: 0,
  cutoff_upper: 5,
  max_z: 100,
  max_num_neighbors: 32,
  vector_cutoff: false,
  output_model: 'Scalar',
  reduce_op: 'add',
  prior_model: null,
  precision: 32,
};

type Raw = Record<string, unknown>;

function pick<T>(raw: Raw, key: keyof ETConfig, fallback: T): T {
  return (raw[key] ?? fallback) as T;
}

/**
 * Build an ETConfig from TorchMD-Net hyper-parameters. Throws, naming every option oreo does not
 * support, instead of building a model that would compute something else.
 */
/**
 * Sane bounds on the sizes an ET may have, checked before anything is allocated: the largest
 * TorchMD-Net models use 256 channels, 8–12 layers, 64 RBFs; `num_layers: 1e9` would otherwise
 * allocate until the heap gives out, and `embedding_dimension: -16` fail deep in a kernel.
 */
export const CONFIG_RANGES: Record<string, { min: number; max: number; integer: boolean }> = {
  embedding_dimension: { min: 2, max: 2048, integer: true },
  num_layers: { min: 1, max: 64, integer: true },
  num_rbf: { min: 1, max: 1024, integer: true },
  num_heads: { min: 1, max: 256, integer: true },
  cutoff_upper: { min: 0.1, max: 50, integer: false },
  max_z: { min: 1, max: 256, integer: true },
  max_num_neighbors: { min: 1, max: 65536, integer: true },
};

export function configFromHyperParameters(raw: Raw, file = 'checkpoint'): ETConfig {
  if (!raw || typeof raw !== 'object') throw new InputError(file, 'the model configuration is not an object', undefined, 'model');
  for (const [key, r] of Object.entries(CONFIG_RANGES)) {
    const v = raw[key];
    if (v === undefined || v === null) continue;
    const x = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
    if (!Number.isFinite(x) || (r.integer && !Number.isInteger(x)) || x < r.min || x > r.max) {
      throw new InputError(file, `${key} = ${JSON.stringify(v)}: expected ${r.integer ? 'an integer' : 'a number'} from ${r.min} to ${r.max}`, undefined, key);
    }
  }
  const problems: string[] = [];
  const model = raw.model ?? 'equivariant-transformer';
  if (model !== 'equivariant-transformer') problems.push(`model=${JSON.stringify(model)} (only 'equivariant-transformer')`);
  const cfg: ETConfig = {
    embedding_dimension: Number(pick(raw, 'embedding_dimension', defaultConfig.embedding_dimension)),
    num_layers: Number(pick(raw, 'num_layers', defaultConfig.num_layers)),
    num_rbf: Number(pick(raw, 'num_rbf', defaultConfig.num_rbf)),
    rbf_type: pick(raw, 'rbf_type', 'expnorm'),
    trainable_rbf: Boolean(pick(raw, 'trainable_rbf', false)),
    activation: pick(raw, 'activation', 'silu'),
    attn_activation: pick(raw, 'attn_activation', 'silu'),
    neighbor_embedding: Boolean(pick(raw, 'neighbor_embedding', true)),
    num_heads: Number(pick(raw, 'num_heads', 8)),
    distance_influence: pick(raw, 'distance_influence', 'both'),
    cutoff_lower: Number(pick(raw, 'cutoff_lower', 0)),
    cutoff_upper: Number(pick(raw, 'cutoff_upper', 5)),
    max_z: Number(pick(raw, 'max_z', 100)),
    max_num_neighbors: Number(pick(raw, 'max_num_neighbors', 32)),
    vector_cutoff: Boolean(pick(raw, 'vector_cutoff', false)),
    output_model: pick(raw, 'output_model', 'Scalar'),
    reduce_op: pick(raw, 'reduce_op', 'add'),
    prior_model: (pick(raw, 'prior_model', null) as ETConfig['prior_model']) ?? null,
    precision: Number(pick(raw, 'precision', 32)) === 64 ? 64 : 32,
  };
  if (cfg.rbf_type !== 'expnorm') problems.push(`rbf_type=${JSON.stringify(cfg.rbf_type)} (only 'expnorm')`);
  if (cfg.activation !== 'silu') problems.push(`activation=${JSON.stringify(cfg.activation)} (only 'silu')`);
  if (cfg.attn_activation !== 'silu') problems.push(`attn_activation=${JSON.stringify(cfg.attn_activation)} (only 'silu')`);
  if (!['keys', 'values', 'both', 'none'].includes(cfg.distance_influence)) {
    problems.push(`distance_influence=${JSON.stringify(cfg.distance_influence)}`);
  }
  if (cfg.cutoff_lower !== 0) problems.push(`cutoff_lower=${cfg.cutoff_lower} (only 0)`);
  if (!(cfg.cutoff_upper > 0)) problems.push(`cutoff_upper=${cfg.cutoff_upper}`);
  if (!['Scalar', 'EquivariantScalar'].includes(cfg.output_model)) {
    problems.push(`output_model=${JSON.stringify(cfg.output_model)} (only 'Scalar'/'EquivariantScalar')`);
  }
  if (!['add', 'mean', 'sum'].includes(cfg.reduce_op)) problems.push(`reduce_op=${JSON.stringify(cfg.reduce_op)}`);
  if ((cfg.reduce_op as string) === 'sum') cfg.reduce_op = 'add';
  if (cfg.prior_model !== null && cfg.prior_model !== 'Atomref') {
    const name = typeof cfg.prior_model === 'string' ? cfg.prior_model : JSON.stringify(cfg.prior_model);
    if (name !== 'Atomref') problems.push(`prior_model=${name} (only none or Atomref)`);
  }
  if (raw.atom_filter !== undefined && raw.atom_filter !== null && Number(raw.atom_filter) !== -1) {
    problems.push(`atom_filter=${raw.atom_filter} (only -1)`);
  }
  if (raw.box_vecs !== undefined && raw.box_vecs !== null) problems.push('box_vecs (periodic boxes)');
  if (raw.layernorm_on_vec !== undefined && raw.layernorm_on_vec !== null) {
    problems.push(`layernorm_on_vec=${JSON.stringify(raw.layernorm_on_vec)}`);
  }
  if (!Number.isInteger(cfg.embedding_dimension) || cfg.embedding_dimension % cfg.num_heads !== 0) {
    problems.push(`embedding_dimension=${cfg.embedding_dimension} not divisible by num_heads=${cfg.num_heads}`);
  }
  if (cfg.embedding_dimension % 2 !== 0) problems.push(`embedding_dimension=${cfg.embedding_dimension} (must be even for the head)`);
  if (problems.length > 0) {
    throw new OreoError(`${file}: unsupported TorchMD-Net options: ${problems.join('; ')}`);
  }
  return cfg;
}
