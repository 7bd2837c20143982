/**
 * TorchMD-Net's Equivariant Transformer (Thölke & De Fabritiis 2022), the representation model of
 * src/model/create.ts (heads, prior and standardization are assembled there), written with the engine's
 * ops so that forces (−∂E/∂r) and force-loss gradients (∂/∂θ of a function of forces) come from
 * autodiff. Math and parameter names follow TorchMD-Net exactly (see docs/architecture.md and
 * the notes it cites): a TorchMD-Net checkpoint gives the same numbers here.
 *
 * Layouts: scalar features x are [N, H]; vector features vec are [N, 3, H]; edges run from source
 * j to target i, messages are summed at i, and d_ij = (r_j − r_i)/|r_j − r_i|.
 */
import {
  Tensor, DType, add, concat, constant, cos, exp, gather, layerNorm, linear, mul, mulScalar, addScalar,
  neg, reshape, scatterAdd, silu, split, sqrtSafe, square, sub, sum, div, sqrt,
} from '../engine/index.js';
import { ETConfig } from './config.js';
import { Pairs } from './neighbors.js';
import { OreoError } from '../errors.js';

export type Params = Map<string, Tensor>;

export interface GraphInput {
  z: Int32Array;
  /** [N, 3] positions in Å, in the model's dtype; make it require grad to get forces. */
  pos: Tensor;
  /** Molecule index of each atom (grouped, non-decreasing). */
  mol: Int32Array;
  nMol: number;
  pairs: Pairs;
}

export interface Representation {
  x: Tensor;
  vec: Tensor;
}

/** A parameter by name, or an error naming it (a model file that lacks it is damaged or another architecture). */
export function param(params: Params, name: string): Tensor {
  const t = params.get(name);
  if (!t) throw new OreoError(`model is missing parameter '${name}'`);
  return t;
}

function optional(params: Params, name: string): Tensor | null {
  return params.get(name) ?? null;
}

/** Cosine cutoff ½(cos(πr/r_c) + 1); callers pass only r < r_c. */
function cosineCutoff(r: Tensor, cutoff: number): Tensor {
  return mulScalar(addScalar(cos(mulScalar(r, Math.PI / cutoff)), 1), 0.5);
}

/** PhysNet's exponential-normal radial basis, times the cosine cutoff. r is [E, 1]. */
function expNormal(r: Tensor, cfg: ETConfig, params: Params): Tensor {
  const alpha = 5 / (cfg.cutoff_upper - cfg.cutoff_lower);
  const means = param(params, 'representation_model.distance_expansion.means');
  const betas = param(params, 'representation_model.distance_expansion.betas');
  const t = exp(mulScalar(addScalar(neg(r), cfg.cutoff_lower), alpha));
  const g = exp(neg(mul(square(sub(t, means)), betas)));
  return mul(g, cosineCutoff(r, cfg.cutoff_upper));
}

export function checkAtomicNumbers(z: Int32Array, cfg: ETConfig): void {
  for (let i = 0; i < z.length; i++) {
    if (!(z[i] >= 1 && z[i] < cfg.max_z)) {
      throw new OreoError(`atom ${i} has atomic number ${z[i]}, outside what this model embeds (1..${cfg.max_z - 1})`);
    }
  }
}

/** The representation's parameter prefix in a TorchMD-Net state dict (without `model.`). */
export const REPRESENTATION_PREFIX = 'representation_model';

/** Shapes of the representation's parameters and buffers, by TorchMD-Net state-dict name. */
export function representationShapes(cfg: ETConfig): Map<string, number[]> {
  const H = cfg.embedding_dimension;
  const R = cfg.num_rbf;
  const s = new Map<string, number[]>();
  const rep = REPRESENTATION_PREFIX;
  s.set(`${rep}.embedding.weight`, [cfg.max_z, H]);
  s.set(`${rep}.distance_expansion.means`, [R]);
  s.set(`${rep}.distance_expansion.betas`, [R]);
  if (cfg.neighbor_embedding) {
    s.set(`${rep}.neighbor_embedding.embedding.weight`, [cfg.max_z, H]);
    s.set(`${rep}.neighbor_embedding.distance_proj.weight`, [H, R]);
    s.set(`${rep}.neighbor_embedding.distance_proj.bias`, [H]);
    s.set(`${rep}.neighbor_embedding.combine.weight`, [H, 2 * H]);
    s.set(`${rep}.neighbor_embedding.combine.bias`, [H]);
  }
  for (let l = 0; l < cfg.num_layers; l++) {
    const p = `${rep}.attention_layers.${l}`;
    s.set(`${p}.layernorm.weight`, [H]);
    s.set(`${p}.layernorm.bias`, [H]);
    s.set(`${p}.q_proj.weight`, [H, H]);
    s.set(`${p}.q_proj.bias`, [H]);
    s.set(`${p}.k_proj.weight`, [H, H]);
    s.set(`${p}.k_proj.bias`, [H]);
    s.set(`${p}.v_proj.weight`, [3 * H, H]);
    s.set(`${p}.v_proj.bias`, [3 * H]);
    s.set(`${p}.o_proj.weight`, [3 * H, H]);
    s.set(`${p}.o_proj.bias`, [3 * H]);
    s.set(`${p}.vec_proj.weight`, [3 * H, H]);
    if (cfg.distance_influence === 'keys' || cfg.distance_influence === 'both') {
      s.set(`${p}.dk_proj.weight`, [H, R]);
      s.set(`${p}.dk_proj.bias`, [H]);
    }
    if (cfg.distance_influence === 'values' || cfg.distance_influence === 'both') {
      s.set(`${p}.dv_proj.weight`, [3 * H, R]);
      s.set(`${p}.dv_proj.bias`, [3 * H]);
    }
  }
  s.set(`${rep}.out_norm.weight`, [H]);
  s.set(`${rep}.out_norm.bias`, [H]);
  return s;
}

export function representation(cfg: ETConfig, params: Params, g: GraphInput): Representation {
  const { z, pos, pairs } = g;
  const N = z.length;
  const H = cfg.embedding_dimension;
  const heads = cfg.num_heads;
  const hd = H / heads;
  const dtype: DType = pos.dtype;
  checkAtomicNumbers(z, cfg);
  const rep = REPRESENTATION_PREFIX;
  const E = pairs.src.length;

  // Geometry of the neighbour pairs (differentiable in pos).
  const vecPairs = sub(gather(pos, pairs.src), gather(pos, pairs.tgt)); // r_j − r_i, [E, 3]
  const rPairs = sqrt(sum(square(vecPairs), 1, true)); // [E, 1], > 0 by construction
  const fPairs = expNormal(rPairs, cfg, params);
  const cPairs = cosineCutoff(rPairs, cfg.cutoff_upper);

  let x = gather(param(params, `${rep}.embedding.weight`), z);

  if (cfg.neighbor_embedding) {
    // Neighbour embedding excludes self-loops.
    const p = `${rep}.neighbor_embedding`;
    const W = mul(linear(fPairs, param(params, `${p}.distance_proj.weight`), param(params, `${p}.distance_proj.bias`)), cPairs);
    const xj = gather(gather(param(params, `${p}.embedding.weight`), z), pairs.src);
    const xNeighbors = scatterAdd(mul(xj, W), pairs.tgt, N);
    x = linear(concat([x, xNeighbors], 1), param(params, `${p}.combine.weight`), param(params, `${p}.combine.bias`));
  }

  // Attention edges: the pairs plus one self-loop per atom (r = 0, d = 0, C = 1).
  const zeroR = constant(new Float64Array(N), [N, 1], dtype);
  const fSelf = expNormal(zeroR, cfg, params);
  const f = concat([fPairs, fSelf], 0);
  const C = concat([cPairs, constant(new Float64Array(N).fill(1), [N, 1], dtype)], 0);
  const d = concat([div(vecPairs, rPairs), constant(new Float64Array(3 * N), [N, 3], dtype)], 0);
  const loops = Int32Array.from({ length: N }, (_, i) => i);
  const src = new Int32Array(E + N);
  src.set(pairs.src);
  src.set(loops, E);
  const tgt = new Int32Array(E + N);
  tgt.set(pairs.tgt);
  tgt.set(loops, E);
  const EA = E + N;

  let vec = constant(new Float64Array(N * 3 * H), [N, 3, H], dtype);
  for (let l = 0; l < cfg.num_layers; l++) {
    const p = `${rep}.attention_layers.${l}`;
    const xn = layerNorm(x, param(params, `${p}.layernorm.weight`), param(params, `${p}.layernorm.bias`));
    const q = linear(xn, param(params, `${p}.q_proj.weight`), param(params, `${p}.q_proj.bias`));
    const k = linear(xn, param(params, `${p}.k_proj.weight`), param(params, `${p}.k_proj.bias`));
    const v = linear(xn, param(params, `${p}.v_proj.weight`), param(params, `${p}.v_proj.bias`));
    const [vec1, vec2, vec3] = split(linear(vec, param(params, `${p}.vec_proj.weight`)), H, -1);
    const vecDot = sum(mul(vec1, vec2), 1);

    const dkW = optional(params, `${p}.dk_proj.weight`);
    const dvW = optional(params, `${p}.dv_proj.weight`);
    let attn = mul(gather(q, tgt), gather(k, src)); // [EA, H]
    if (dkW) attn = mul(attn, silu(linear(f, dkW, param(params, `${p}.dk_proj.bias`))));
    attn = silu(sum(reshape(attn, [EA, heads, hd]), -1)); // [EA, heads]

    let vj = gather(v, src); // [EA, 3H], per head [s | m1 | m2]
    if (cfg.vector_cutoff) vj = mul(vj, C);
    else attn = mul(attn, C);
    if (dvW) vj = mul(vj, silu(linear(f, dvW, param(params, `${p}.dv_proj.bias`))));
    const [s, m1, m2] = split(reshape(vj, [EA, heads, 3 * hd]), hd, -1); // each [EA, heads, hd]

    const xMsg = reshape(mul(s, reshape(attn, [EA, heads, 1])), [EA, H]);
    const vecJ = reshape(gather(vec, src), [EA, 3, heads, hd]);
    const vecMsg = add(
      mul(vecJ, reshape(m1, [EA, 1, heads, hd])),
      mul(reshape(m2, [EA, 1, heads, hd]), reshape(d, [EA, 3, 1, 1])),
    );
    const dxAgg = scatterAdd(xMsg, tgt, N); // [N, H]
    const dvecAgg = scatterAdd(reshape(vecMsg, [EA, 3, H]), tgt, N); // [N, 3, H]

    const [o1, o2, o3] = split(linear(dxAgg, param(params, `${p}.o_proj.weight`), param(params, `${p}.o_proj.bias`)), H, -1);
    x = add(x, add(mul(vecDot, o2), o3));
    vec = add(vec, add(mul(vec3, reshape(o1, [N, 1, H])), dvecAgg));
  }
  x = layerNorm(x, param(params, `${rep}.out_norm.weight`), param(params, `${rep}.out_norm.bias`));
  return { x, vec };
}
