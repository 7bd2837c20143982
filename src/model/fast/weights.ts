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

/**
 * v_proj and dv_proj rows come per head as [s | m1 | m2] (hd each); the fused paths reorder them
 * to three blocks of H (all heads' s, then m1, then m2) so that the edge loops index channels
 * directly. Row `block` of the reordered matrix is row valueBlockSource(block) of the original.
 */
export function valueBlockSource(block: number, H: number, heads: number): number {
  const hd = H / heads;
  const part = Math.floor(block / H), c = block % H, hh = Math.floor(c / hd), t = c % hd;
  return hh * 3 * hd + part * hd + t;
}

/**
 * Rows of `w` (rowLength values each) in value-block order, with the bias as an extra column
 * when given, written into `out` from element `offset`.
 */
function valueBlocksInto(out: FloatArray, offset: number, w: FloatArray, H: number, heads: number, rowLength: number, bias: FloatArray | null): void {
  const stride = rowLength + (bias ? 1 : 0);
  for (let r = 0; r < 3 * H; r++) {
    const from = valueBlockSource(r, H, heads);
    out.set(w.subarray(from * rowLength, (from + 1) * rowLength), offset + r * stride);
    if (bias) out[offset + r * stride + rowLength] = bias[from];
  }
}

/** [rows, K] weights and [rows] bias as [rows, K + 1] from element `offset` of out: the bias rides on a column of ones. */
function withBiasColumnInto(out: FloatArray, offset: number, w: FloatArray, b: FloatArray): void {
  const rows = b.length, K = w.length / rows;
  for (let r = 0; r < rows; r++) {
    out.set(w.subarray(r * K, (r + 1) * K), offset + r * (K + 1));
    out[offset + r * (K + 1) + K] = b[r];
  }
}

/**
 * The ET's parameters in the fused paths' layouts, as plain arrays: the one place that knows
 * them. The inference path (packWeights) wraps them as pre-packed matrices once per model; the
 * training gradient (training-gradient.ts) takes them afresh every step, as the parameters move.
 */
export interface FusedLayout {
  embedding: FloatArray;
  means: Float64Array;
  betas: Float64Array;
  neighbor: null | {
    embedding: FloatArray;
    /** distance_proj [H, R + 1], bias as the last column. */
    distProj: FloatArray;
    /** combine [H, 2H] and its bias [H]. */
    combine: FloatArray;
    combineBias: FloatArray;
  };
  layers: {
    lnWeight: FloatArray;
    lnBias: FloatArray;
    /** [5H, H]: q_proj, k_proj, v_proj stacked by rows, v_proj's rows as value blocks; bias [5H] likewise. */
    qkv: FloatArray;
    qkvBias: FloatArray;
    /** vec_proj [3H, H], o_proj [3H, H] and its bias. */
    vecProj: FloatArray;
    oProj: FloatArray;
    oBias: FloatArray;
  }[];
  /**
   * Filters of all layers stacked, bias as an extra column: per layer dk_proj [H, R + 1] then
   * dv_proj [3H, R + 1] (value blocks), where present.
   */
  filters: FloatArray;
  filterColumns: number;
  filterColumnsPerLayer: number;
  outNormWeight: FloatArray;
  outNormBias: FloatArray;
  /**
   * The EquivariantScalar head's two gated blocks: vecProj is vec1_proj, stacked over vec2_proj
   * for block 0 ([H + H/2, H]); block 1's vectors are never used, so it has vec1_proj alone.
   */
  head: [FusedHeadBlock, FusedHeadBlock];
  std: number;
  mean: number;
  atomref: FloatArray | null;
}

export interface FusedHeadBlock {
  vecProj: FloatArray;
  /** update_net.layers.0 [hin, 2 hin] and its bias; update_net.layers.2 [2 hout, hin] and its bias. */
  u0: FloatArray;
  u0Bias: FloatArray;
  u2: FloatArray;
  u2Bias: FloatArray;
}

/**
 * The layouts of `FusedLayout` from TorchMD-Net-named parameters. Arrays that need reordering
 * or stacking come from `alloc` (the training gradient hands out reused work memory); the others
 * are copies in `dtype`, or with `share` the parameters' own arrays (which must be in `dtype`).
 */
export function fusedLayout(cfg: ETConfig, params: Params, dtype: DType, options: { share?: boolean; alloc?: (n: number) => FloatArray } = {}): FusedLayout {
  const H = cfg.embedding_dimension, R = cfg.num_rbf, R1 = R + 1, heads = cfg.num_heads;
  const rep = 'representation_model';
  const alloc = options.alloc ?? ((n: number) => allocate(dtype, n));
  const own = (name: string): FloatArray => {
    const v = get(params, name);
    if (options.share) return v;
    const out = allocate(dtype, v.length);
    out.set(v);
    return out;
  };
  const keys = cfg.distance_influence === 'keys' || cfg.distance_influence === 'both';
  const values = cfg.distance_influence === 'values' || cfg.distance_influence === 'both';
  const perLayer = (keys ? H : 0) + (values ? 3 * H : 0);

  let neighbor: FusedLayout['neighbor'] = null;
  if (cfg.neighbor_embedding) {
    const p = `${rep}.neighbor_embedding`;
    const distProj = alloc(H * R1);
    withBiasColumnInto(distProj, 0, get(params, `${p}.distance_proj.weight`), get(params, `${p}.distance_proj.bias`));
    neighbor = { embedding: own(`${p}.embedding.weight`), distProj, combine: own(`${p}.combine.weight`), combineBias: own(`${p}.combine.bias`) };
  }
  const filters = alloc(cfg.num_layers * perLayer * R1);
  const layers: FusedLayout['layers'] = [];
  for (let l = 0; l < cfg.num_layers; l++) {
    const p = `${rep}.attention_layers.${l}`;
    let off = l * perLayer * R1;
    if (keys) {
      withBiasColumnInto(filters, off, get(params, `${p}.dk_proj.weight`), get(params, `${p}.dk_proj.bias`));
      off += H * R1;
    }
    if (values) valueBlocksInto(filters, off, get(params, `${p}.dv_proj.weight`), H, heads, R, get(params, `${p}.dv_proj.bias`));
    const qkv = alloc(5 * H * H), qkvBias = alloc(5 * H);
    qkv.set(get(params, `${p}.q_proj.weight`), 0);
    qkv.set(get(params, `${p}.k_proj.weight`), H * H);
    valueBlocksInto(qkv, 2 * H * H, get(params, `${p}.v_proj.weight`), H, heads, H, null);
    qkvBias.set(get(params, `${p}.q_proj.bias`), 0);
    qkvBias.set(get(params, `${p}.k_proj.bias`), H);
    valueBlocksInto(qkvBias, 2 * H, get(params, `${p}.v_proj.bias`), H, heads, 1, null);
    layers.push({
      lnWeight: own(`${p}.layernorm.weight`), lnBias: own(`${p}.layernorm.bias`), qkv, qkvBias,
      vecProj: own(`${p}.vec_proj.weight`), oProj: own(`${p}.o_proj.weight`), oBias: own(`${p}.o_proj.bias`),
    });
  }
  const block = (b: number, hin: number, hout: number): FusedHeadBlock => {
    const p = `output_model.output_network.${b}`;
    let vecProj: FloatArray;
    if (b === 0) {
      vecProj = alloc((hin + hout) * hin);
      vecProj.set(get(params, `${p}.vec1_proj.weight`), 0);
      vecProj.set(get(params, `${p}.vec2_proj.weight`), hin * hin);
    } else {
      vecProj = own(`${p}.vec1_proj.weight`);
    }
    return {
      vecProj,
      u0: own(`${p}.update_net.layers.0.weight`), u0Bias: own(`${p}.update_net.layers.0.bias`),
      u2: own(`${p}.update_net.layers.2.weight`), u2Bias: own(`${p}.update_net.layers.2.bias`),
    };
  };
  const atomref = params.get('prior_model.0.atomref.weight');
  return {
    embedding: own(`${rep}.embedding.weight`),
    means: Float64Array.from(get(params, `${rep}.distance_expansion.means`)),
    betas: Float64Array.from(get(params, `${rep}.distance_expansion.betas`)),
    neighbor,
    layers,
    filters,
    filterColumns: cfg.num_layers * perLayer,
    filterColumnsPerLayer: perLayer,
    outNormWeight: own(`${rep}.out_norm.weight`),
    outNormBias: own(`${rep}.out_norm.bias`),
    head: [block(0, H, H / 2), block(1, H / 2, 1)],
    std: get(params, 'std')[0],
    mean: get(params, 'mean')[0],
    atomref: atomref ? own('prior_model.0.atomref.weight') : null,
  };
}

function silu(v: number): number {
  return v / (1 + Math.exp(-v));
}

export function packWeights(cfg: ETConfig, params: Params, dtype: DType): FastWeights {
  const H = cfg.embedding_dimension;
  const R = cfg.num_rbf;
  const L = fusedLayout(cfg, params, dtype);
  const { means, betas } = L;
  // The basis at r = 0 (self-loops): t = exp(0) = 1, cutoff factor 1.
  const fSelf = new Float64Array(R);
  const tiny = smallestNormal(dtype);
  for (let k = 0; k < R; k++) fSelf[k] = flushSubnormal(Math.exp(-betas[k] * (1 - means[k]) ** 2), tiny);
  // Rounded to the model's dtype first, as the autodiff path holds it.
  const fSelfD = allocate(dtype, R);
  fSelfD.set(fSelf);
  // silu(W·f(0) + b) for `rows` filter rows of the stacked [·, R + 1] layout from row `row0`.
  const selfFilter = (row0: number, rows: number): FloatArray => {
    const out = allocate(dtype, rows);
    for (let c = 0; c < rows; c++) {
      const o = (row0 + c) * (R + 1);
      let s = 0;
      for (let k = 0; k < R; k++) s += fSelfD[k] * L.filters[o + k];
      out[c] = silu(s + L.filters[o + R]);
    }
    return out;
  };

  let neighbor: FastWeights['neighbor'] = null;
  if (L.neighbor) {
    const combineRight = allocate(dtype, H * H);
    for (let r = 0; r < H; r++) combineRight.set(L.neighbor.combine.subarray(r * 2 * H + H, (r + 1) * 2 * H), r * H);
    neighbor = {
      embedding: L.neighbor.embedding,
      distProj: linearOf(L.neighbor.distProj, H, R + 1),
      combine: linearOf(L.neighbor.combine, H, 2 * H),
      combineBias: L.neighbor.combineBias,
      combineRight: linearOf(combineRight, H, H),
    };
  }

  const keys = cfg.distance_influence === 'keys' || cfg.distance_influence === 'both';
  const values = cfg.distance_influence === 'values' || cfg.distance_influence === 'both';
  const layers: LayerWeights[] = L.layers.map((lw, l) => {
    const row0 = l * L.filterColumnsPerLayer;
    return {
      lnWeight: lw.lnWeight,
      lnBias: lw.lnBias,
      qkv: linearOf(lw.qkv, 5 * H, H),
      qkvBias: lw.qkvBias,
      vecProj: linearOf(lw.vecProj, 3 * H, H),
      oProj: linearOf(lw.oProj, 3 * H, H),
      oBias: lw.oBias,
      dkSelf: keys ? selfFilter(row0, H) : null,
      dvSelf: values ? selfFilter(row0 + (keys ? H : 0), 3 * H) : null,
    };
  });

  const block = (b: number, hin: number, hout: number): HeadBlockWeights => {
    const hb = L.head[b];
    return {
      vecProj: linearOf(hb.vecProj, hb.vecProj.length / hin, hin),
      u0: linearOf(hb.u0, hin, 2 * hin),
      u0Bias: hb.u0Bias,
      u2: linearOf(hb.u2, 2 * hout, hin),
      u2Raw: hb.u2,
      u2Bias: hb.u2Bias,
    };
  };

  const head: [HeadBlockWeights, HeadBlockWeights] = [block(0, H, H / 2), block(1, H / 2, 1)];
  const linears: Linear[] = [...layers.flatMap((l) => [l.qkv, l.vecProj, l.oProj]), ...head.flatMap((b) => [b.vecProj, b.u0, b.u2])];
  const filters = linearOf(L.filters, L.filterColumns, R + 1);
  linears.push(filters);
  if (neighbor) linears.push(neighbor.distProj, neighbor.combine, neighbor.combineRight);
  return {
    dtype,
    embedding: L.embedding,
    means,
    betas,
    neighbor,
    layers,
    filters,
    filterColumns: L.filterColumns,
    filterColumnsPerLayer: L.filterColumnsPerLayer,
    outNormWeight: L.outNormWeight,
    outNormBias: L.outNormBias,
    // The last block's vectors are never used (its scalar is the output), so no vec2_proj there.
    head,
    std: L.std,
    mean: L.mean,
    atomref: L.atomref,
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
