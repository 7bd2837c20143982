/**
 * The ET's parameters repacked for the fast path: in the model's dtype, with the matrices that
 * act on the same input stacked so that one matrix product replaces several (q, k and v; the
 * distance filters of every layer; the two vector projections of the first output block), and
 * the filters of the self-loops (r = 0, a constant) evaluated once.
 */
import { DType, FloatArray, allocate } from '../../engine/index.js';
import { ETConfig } from '../config.js';
import type { Params } from '../et.js';
import { OreoError } from '../../errors.js';

export interface LayerWeights {
  lnWeight: FloatArray;
  lnBias: FloatArray;
  /** [5H, H]: q_proj, k_proj, v_proj stacked by rows. */
  qkv: FloatArray;
  qkvBias: FloatArray;
  /** [3H, H] */
  vecProj: FloatArray;
  /** [3H, H] */
  oProj: FloatArray;
  oBias: FloatArray;
  /** silu(dk_proj(f(0))) [H] and silu(dv_proj(f(0))) [3H]: the self-loop filters. */
  dkSelf: FloatArray | null;
  dvSelf: FloatArray | null;
}

export interface HeadBlockWeights {
  /** [hin (+ hout), hin]: vec1_proj (then vec2_proj when the block's vectors are used). */
  vecProj: FloatArray;
  /** update_net.layers.0: [hin, 2 hin] and bias [hin]. */
  u0: FloatArray;
  u0Bias: FloatArray;
  /** update_net.layers.2: [2 hout, hin] and bias [2 hout]. */
  u2: FloatArray;
  u2Bias: FloatArray;
}

export interface FastWeights {
  dtype: DType;
  embedding: FloatArray;
  means: Float64Array;
  betas: Float64Array;
  neighbor: null | {
    embedding: FloatArray;
    /** distance_proj [H, R], bias [H] */
    distProj: FloatArray;
    distBias: FloatArray;
    /** combine [H, 2H], bias [H], and its right half [H, H] (the part acting on the neighbour sum). */
    combine: FloatArray;
    combineBias: FloatArray;
    combineRight: FloatArray;
  };
  layers: LayerWeights[];
  /** Filters of all layers stacked: per layer dk_proj [H, R] then dv_proj [3H, R], where present. */
  filters: FloatArray;
  filterBias: FloatArray;
  /** Columns of one layer's filters in `filters` rows (H for keys, 3H for values). */
  filterColumnsPerLayer: number;
  outNormWeight: FloatArray;
  outNormBias: FloatArray;
  head: [HeadBlockWeights, HeadBlockWeights];
  std: number;
  mean: number;
  atomref: FloatArray | null;
}

function get(params: Params, name: string): FloatArray {
  const t = params.get(name);
  if (!t) throw new OreoError(`model is missing parameter '${name}'`);
  return t.data;
}

function stack(dtype: DType, parts: FloatArray[]): FloatArray {
  const out = allocate(dtype, parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function silu(v: number): number {
  return v / (1 + Math.exp(-v));
}

export function packWeights(cfg: ETConfig, params: Params, dtype: DType): FastWeights {
  const H = cfg.embedding_dimension;
  const R = cfg.num_rbf;
  const rep = 'representation_model';
  const copy = (name: string) => stack(dtype, [get(params, name)]);
  const keys = cfg.distance_influence === 'keys' || cfg.distance_influence === 'both';
  const values = cfg.distance_influence === 'values' || cfg.distance_influence === 'both';

  const means = Float64Array.from(get(params, `${rep}.distance_expansion.means`));
  const betas = Float64Array.from(get(params, `${rep}.distance_expansion.betas`));
  // The basis at r = 0 (self-loops): t = exp(0) = 1, cutoff factor 1.
  const fSelf = new Float64Array(R);
  for (let k = 0; k < R; k++) fSelf[k] = Math.exp(-betas[k] * (1 - means[k]) ** 2);
  // Rounded to the model's dtype first, as the autodiff path holds it.
  const fSelfD = allocate(dtype, R);
  fSelfD.set(fSelf);
  const selfFilter = (w: FloatArray, b: FloatArray): FloatArray => {
    const rows = b.length;
    const out = allocate(dtype, rows);
    for (let c = 0; c < rows; c++) {
      let s = 0;
      for (let k = 0; k < R; k++) s += fSelfD[k] * w[c * R + k];
      out[c] = silu(s + b[c]);
    }
    return out;
  };

  let neighbor: FastWeights['neighbor'] = null;
  if (cfg.neighbor_embedding) {
    const p = `${rep}.neighbor_embedding`;
    const combine = copy(`${p}.combine.weight`);
    const combineRight = allocate(dtype, H * H);
    for (let r = 0; r < H; r++) combineRight.set(combine.subarray(r * 2 * H + H, (r + 1) * 2 * H), r * H);
    neighbor = {
      embedding: copy(`${p}.embedding.weight`),
      distProj: copy(`${p}.distance_proj.weight`),
      distBias: copy(`${p}.distance_proj.bias`),
      combine,
      combineBias: copy(`${p}.combine.bias`),
      combineRight,
    };
  }

  const layers: LayerWeights[] = [];
  const filterParts: FloatArray[] = [];
  const filterBiasParts: FloatArray[] = [];
  for (let l = 0; l < cfg.num_layers; l++) {
    const p = `${rep}.attention_layers.${l}`;
    let dkSelf: FloatArray | null = null;
    let dvSelf: FloatArray | null = null;
    if (keys) {
      const w = get(params, `${p}.dk_proj.weight`), b = get(params, `${p}.dk_proj.bias`);
      filterParts.push(w);
      filterBiasParts.push(b);
      dkSelf = selfFilter(w, b);
    }
    if (values) {
      const w = get(params, `${p}.dv_proj.weight`), b = get(params, `${p}.dv_proj.bias`);
      filterParts.push(w);
      filterBiasParts.push(b);
      dvSelf = selfFilter(w, b);
    }
    layers.push({
      lnWeight: copy(`${p}.layernorm.weight`),
      lnBias: copy(`${p}.layernorm.bias`),
      qkv: stack(dtype, [get(params, `${p}.q_proj.weight`), get(params, `${p}.k_proj.weight`), get(params, `${p}.v_proj.weight`)]),
      qkvBias: stack(dtype, [get(params, `${p}.q_proj.bias`), get(params, `${p}.k_proj.bias`), get(params, `${p}.v_proj.bias`)]),
      vecProj: copy(`${p}.vec_proj.weight`),
      oProj: copy(`${p}.o_proj.weight`),
      oBias: copy(`${p}.o_proj.bias`),
      dkSelf,
      dvSelf,
    });
  }

  const block = (b: number, withVec2: boolean): HeadBlockWeights => {
    const p = `output_model.output_network.${b}`;
    return {
      vecProj: withVec2
        ? stack(dtype, [get(params, `${p}.vec1_proj.weight`), get(params, `${p}.vec2_proj.weight`)])
        : copy(`${p}.vec1_proj.weight`),
      u0: copy(`${p}.update_net.layers.0.weight`),
      u0Bias: copy(`${p}.update_net.layers.0.bias`),
      u2: copy(`${p}.update_net.layers.2.weight`),
      u2Bias: copy(`${p}.update_net.layers.2.bias`),
    };
  };

  const atomrefT = params.get('prior_model.0.atomref.weight');
  return {
    dtype,
    embedding: copy(`${rep}.embedding.weight`),
    means,
    betas,
    neighbor,
    layers,
    filters: stack(dtype, filterParts),
    filterBias: stack(dtype, filterBiasParts),
    filterColumnsPerLayer: (keys ? H : 0) + (values ? 3 * H : 0),
    outNormWeight: copy(`${rep}.out_norm.weight`),
    outNormBias: copy(`${rep}.out_norm.bias`),
    // The last block's vectors are never used (its scalar is the output), so no vec2_proj there.
    head: [block(0, true), block(1, false)],
    std: get(params, 'std')[0],
    mean: get(params, 'mean')[0],
    atomref: atomrefT ? stack(dtype, [atomrefT.data]) : null,
  };
}
