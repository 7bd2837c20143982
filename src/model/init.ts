/**
 * Fresh ET parameters, initialised as TorchMD-Net initialises them: Xavier-uniform weights and
 * zero biases for every linear layer, N(0, 1) embeddings, unit/zero layer norms, and the
 * exponential-normal basis placed as in PhysNet. Seeded, so a training run can be replayed.
 */
import { Tensor, DType, allocate } from '../engine/index.js';
import type { ETConfig } from './config.js';
import { parameterShapes, STD, MEAN } from './create.js';
import { Potential, ModelMeta } from './potential.js';
import { Rng } from '../random.js';

/** Means and widths of the exponential-normal radial basis (PhysNet), cutoff_lower = 0. */
export function expNormalBasis(cfg: ETConfig): { means: Float64Array; betas: Float64Array } {
  const start = Math.exp(-(cfg.cutoff_upper - cfg.cutoff_lower));
  const R = cfg.num_rbf;
  const means = new Float64Array(R);
  for (let k = 0; k < R; k++) means[k] = R === 1 ? start : start + ((1 - start) * k) / (R - 1);
  const beta = Math.pow((2 / R) * (1 - start), -2);
  return { means, betas: new Float64Array(R).fill(beta) };
}

/** Xavier-uniform (Glorot) weights of a linear layer [out, in], as torch.nn.init.xavier_uniform_. */
function fillXavierUniform(data: Float32Array | Float64Array, shape: number[], rng: Rng): void {
  const a = Math.sqrt(6 / (shape[0] + shape[1]));
  for (let i = 0; i < data.length; i++) data[i] = (2 * rng.uniform() - 1) * a;
}

/**
 * Fresh parameters of linear layers only (a head added to an existing representation):
 * Xavier-uniform weights, zero biases, as TorchMD-Net's output models reset theirs.
 */
export function initLinearParameters(shapes: Map<string, number[]>, dtype: DType, seed: number): Map<string, Tensor> {
  const rng = new Rng(seed);
  const out = new Map<string, Tensor>();
  for (const [name, shape] of shapes) {
    const data = allocate(dtype, shape.reduce((a, b) => a * b, 1));
    if (name.endsWith('.weight') && shape.length === 2) fillXavierUniform(data, shape, rng);
    else if (!name.endsWith('.bias')) throw new Error(`internal: no initialiser for linear-layer parameter '${name}'`);
    out.set(name, new Tensor(data, shape));
  }
  return out;
}

export function initParameters(cfg: ETConfig, dtype: DType, seed: number): Map<string, Tensor> {
  const rng = new Rng(seed);
  const params = new Map<string, Tensor>();
  const basis = expNormalBasis(cfg);
  for (const [name, shape] of parameterShapes(cfg)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = allocate(dtype, n);
    if (name.endsWith('distance_expansion.means')) data.set(basis.means);
    else if (name.endsWith('distance_expansion.betas')) data.set(basis.betas);
    else if (name === STD) data[0] = 1;
    else if (name === MEAN || name.startsWith('prior_model.')) data.fill(0);
    else if (name.endsWith('embedding.weight')) for (let i = 0; i < n; i++) data[i] = rng.normal();
    else if (/(layernorm|out_norm)\.weight$/.test(name)) data.fill(1);
    else if (name.endsWith('.bias')) data.fill(0);
    else if (name.endsWith('.weight') && shape.length === 2) fillXavierUniform(data, shape, rng);
    else {
      throw new Error(`internal: no initialiser for parameter '${name}'`);
    }
    params.set(name, new Tensor(data, shape));
  }
  return params;
}

export function createPotential(cfg: ETConfig, options: { dtype?: DType; seed?: number; meta?: ModelMeta } = {}): Potential {
  const dtype = options.dtype ?? (cfg.precision === 64 ? 'float64' : 'float32');
  return new Potential(cfg, initParameters(cfg, dtype, options.seed ?? 0), dtype, options.meta ?? {});
}
