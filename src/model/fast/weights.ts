/**
 * The ET's parameters repacked for the fast path: in the model's dtype, with the matrices that
 * act on the same input stacked so that one matrix product replaces several (q, k and v; the
 * distance filters of every layer; the two vector projections of the first output block), and
 * the filters of the self-loops (r = 0, a constant) evaluated once. Every matrix is handed to
 * the kernels pre-packed (PackedMatrix), once for the forward product x·Wᵀ and once for the
 * backward product g·W, so no call copies or repacks weights.
 */
import { DType, FloatArray, allocate } from '../../engine/index.js';
import { PackedMatrix } from '../../engine/kernels/index.js';
import { ETConfig } from '../config.js';
import type { Params } from '../et.js';
import { OreoError } from '../../errors.js';

/** A weight matrix W [out, in] ready for y = x·Wᵀ (forward) and g_x = g_y·W (backward). */
export interface Linear {
  out: number;
  in: number;
  forward: PackedMatrix;
  backward: PackedMatrix;
}

function linearOf(W: FloatArray, out: number, inF: number): Linear {
  return { out, in: inF, forward: new PackedMatrix(true, inF, out, W), backward: new PackedMatrix(false, out, inF, W) };
}

export interface LayerWeights {
  lnWeight: FloatArray;
  lnBias: FloatArray;
  /** [5H, H]: q_proj, k_proj, v_proj stacked by rows, v_proj's rows as value blocks. */
  qkv: Linear;
  qkvBias: FloatArray;
  /** [3H, H] */
  vecProj: Linear;
  /** [3H, H] */
  oProj: Linear;
  oBias: FloatArray;
  /** silu(dk_proj(f(0))) [H] and silu(dv_proj(f(0))) [3H, value blocks]: the self-loop filters. */
  dkSelf: FloatArray | null;
  dvSelf: FloatArray | null;
}

export interface HeadBlockWeights {
  /** [hin (+ hout), hin]: vec1_proj (then vec2_proj when the block's vectors are used). */
  vecProj: Linear;
  /** update_net.layers.0: [hin, 2 hin] and bias [hin]. */
  u0: Linear;
  u0Bias: FloatArray;
  /** update_net.layers.2: [2 hout, hin] and bias [2 hout]; the raw matrix for the last block. */
  u2: Linear;
  u2Raw: FloatArray;
  u2Bias: FloatArray;
}

export interface FastWeights {
  dtype: DType;
  embedding: FloatArray;
  means: Float64Array;
  betas: Float64Array;
  neighbor: null | {
    embedding: FloatArray;
    /** distance_proj [H, R + 1], bias as the last column. */
    distProj: Linear;
    /** combine [H, 2H], bias [H], and its right half [H, H] (the part acting on the neighbour sum). */
    combine: Linear;
    combineBias: FloatArray;
    combineRight: Linear;
  };
  layers: LayerWeights[];
  /**
   * Filters of all layers stacked, bias as an extra column: per layer dk_proj [H, R + 1] then
   * dv_proj [3H, R + 1] (value blocks), where present.
   */
  filters: Linear;
  /** Rows of `filters`: all layers' filter outputs. */
  filterColumns: number;
  /** Filter outputs of one layer (H for keys, 3H for values, both, or none). */
  filterColumnsPerLayer: number;
  outNormWeight: FloatArray;
  outNormBias: FloatArray;
  head: [HeadBlockWeights, HeadBlockWeights];
  std: number;
  mean: number;
  atomref: FloatArray | null;
  /** Every packed matrix, to release their kernel memory. */
  packed: PackedMatrix[];
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

/**
 * v_proj and dv_proj rows come per head as [s | m1 | m2] (hd each); reorder them to three
 * blocks of H (all heads' s, then m1, then m2) so the edge loops index channels directly.
 */
function valueBlocks(dtype: DType, w: FloatArray, H: number, heads: number, rowLength: number): FloatArray {
  const hd = H / heads;
  const out = allocate(dtype, w.length);
  for (let hh = 0; hh < heads; hh++) {
    for (let part = 0; part < 3; part++) {
      for (let t = 0; t < hd; t++) {
        const from = hh * 3 * hd + part * hd + t;
        const to = part * H + hh * hd + t;
        out.set(w.subarray(from * rowLength, (from + 1) * rowLength), to * rowLength);
      }
    }
  }
  return out;
}

/** [rows, K] weights and [rows] bias as [rows, K + 1]: the bias rides on a column of ones. */
function withBiasColumn(dtype: DType, w: FloatArray, b: FloatArray): FloatArray {
  const rows = b.length, K = w.length / rows;
  const out = allocate(dtype, rows * (K + 1));
  for (let r = 0; r < rows; r++) {
    out.set(w.subarray(r * K, (r + 1) * K), r * (K + 1));
    out[r * (K + 1) + K] = b[r];
  }
  return out;
}

function silu(v: number): number {
  return v / (1 + Math.exp(-v));
}

export function packWeights(cfg: ETConfig, params: Params, dtype: DType): FastWeights {
  const H = cfg.embedding_dimension;
  const R = cfg.num_rbf;
  const heads = cfg.num_heads;
  const rep = 'representation_model';
  const copy = (name: string) => stack(dtype, [get(params, name)]);
  const keys = cfg.distance_influence === 'keys' || cfg.distance_influence === 'both';
  const values = cfg.distance_influence === 'values' || cfg.distance_influence === 'both';

  const means = Float64Array.from(get(params, `${rep}.distance_expansion.means`));
  const betas = Float64Array.from(get(params, `${rep}.distance_expansion.betas`));
  // The basis at r = 0 (self-loops): t = exp(0) = 1, cutoff factor 1.
  const fSelf = new Float64Array(R);
  const tiny = smallestNormal(dtype);
  for (let k = 0; k < R; k++) fSelf[k] = flushSubnormal(Math.exp(-betas[k] * (1 - means[k]) ** 2), tiny);
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
      distProj: linearOf(withBiasColumn(dtype, get(params, `${p}.distance_proj.weight`), get(params, `${p}.distance_proj.bias`)), H, R + 1),
      combine: linearOf(combine, H, 2 * H),
      combineBias: copy(`${p}.combine.bias`),
      combineRight: linearOf(combineRight, H, H),
    };
  }

  const layers: LayerWeights[] = [];
  const filterParts: FloatArray[] = [];
  for (let l = 0; l < cfg.num_layers; l++) {
    const p = `${rep}.attention_layers.${l}`;
    let dkSelf: FloatArray | null = null;
    let dvSelf: FloatArray | null = null;
    if (keys) {
      const w = get(params, `${p}.dk_proj.weight`), b = get(params, `${p}.dk_proj.bias`);
      filterParts.push(withBiasColumn(dtype, w, b));
      dkSelf = selfFilter(w, b);
    }
    if (values) {
      const w = valueBlocks(dtype, get(params, `${p}.dv_proj.weight`), H, heads, R);
      const b = valueBlocks(dtype, get(params, `${p}.dv_proj.bias`), H, heads, 1);
      filterParts.push(withBiasColumn(dtype, w, b));
      dvSelf = selfFilter(w, b);
    }
    const vW = valueBlocks(dtype, get(params, `${p}.v_proj.weight`), H, heads, H);
    const vB = valueBlocks(dtype, get(params, `${p}.v_proj.bias`), H, heads, 1);
    layers.push({
      lnWeight: copy(`${p}.layernorm.weight`),
      lnBias: copy(`${p}.layernorm.bias`),
      qkv: linearOf(stack(dtype, [get(params, `${p}.q_proj.weight`), get(params, `${p}.k_proj.weight`), vW]), 5 * H, H),
      qkvBias: stack(dtype, [get(params, `${p}.q_proj.bias`), get(params, `${p}.k_proj.bias`), vB]),
      vecProj: linearOf(copy(`${p}.vec_proj.weight`), 3 * H, H),
      oProj: linearOf(copy(`${p}.o_proj.weight`), 3 * H, H),
      oBias: copy(`${p}.o_proj.bias`),
      dkSelf,
      dvSelf,
    });
  }

  const block = (b: number, hin: number, hout: number, withVec2: boolean): HeadBlockWeights => {
    const p = `output_model.output_network.${b}`;
    const u2Raw = copy(`${p}.update_net.layers.2.weight`);
    return {
      vecProj: withVec2
        ? linearOf(stack(dtype, [get(params, `${p}.vec1_proj.weight`), get(params, `${p}.vec2_proj.weight`)]), hin + hout, hin)
        : linearOf(copy(`${p}.vec1_proj.weight`), hin, hin),
      u0: linearOf(copy(`${p}.update_net.layers.0.weight`), hin, 2 * hin),
      u0Bias: copy(`${p}.update_net.layers.0.bias`),
      u2: linearOf(u2Raw, 2 * hout, hin),
      u2Raw,
      u2Bias: copy(`${p}.update_net.layers.2.bias`),
    };
  };

  const atomrefT = params.get('prior_model.0.atomref.weight');
  const filterColumns = cfg.num_layers * ((keys ? H : 0) + (values ? 3 * H : 0));
  const head: [HeadBlockWeights, HeadBlockWeights] = [block(0, H, H / 2, true), block(1, H / 2, 1, false)];
  const linears: Linear[] = [...layers.flatMap((l) => [l.qkv, l.vecProj, l.oProj]), ...head.flatMap((b) => [b.vecProj, b.u0, b.u2])];
  const filters = linearOf(stack(dtype, filterParts), filterColumns, R + 1);
  linears.push(filters);
  if (neighbor) linears.push(neighbor.distProj, neighbor.combine, neighbor.combineRight);
  return {
    dtype,
    embedding: copy(`${rep}.embedding.weight`),
    means,
    betas,
    neighbor,
    layers,
    filters,
    filterColumns,
    filterColumnsPerLayer: (keys ? H : 0) + (values ? 3 * H : 0),
    outNormWeight: copy(`${rep}.out_norm.weight`),
    outNormBias: copy(`${rep}.out_norm.bias`),
    // The last block's vectors are never used (its scalar is the output), so no vec2_proj there.
    head,
    std: get(params, 'std')[0],
    mean: get(params, 'mean')[0],
    atomref: atomrefT ? stack(dtype, [atomrefT.data]) : null,
    packed: linears.flatMap((l) => [l.forward, l.backward]),
  };
}

/**
 * The smallest normal number of the dtype. The radial basis exp(−β(e^{−αr} − μ)²) falls below it
 * for many (pair, basis function) combinations (5 % of those of the float32 TorchMD-Net fixture's
 * molecules, test/model/subnormal.test.ts), and on Intel CPUs every multiply that touches a
 * subnormal takes a slow path: the matrix products over the basis ran 5–20× slower than on normal
 * numbers. Below this size a basis value can change no sum it enters (each is added to terms of
 * normal size), so it is stored as zero instead.
 */
export function smallestNormal(dtype: DType): number {
  return dtype === 'float32' ? 1.1754943508222875e-38 : 2.2250738585072014e-308;
}

/** v, or 0 where |v| is below `tiny` (smallestNormal): see there why. */
export function flushSubnormal(v: number, tiny: number): number {
  return v < tiny && v > -tiny ? 0 : v;
}
