/**
 * The WASM kernels of the fused training gradient (assembly/et-train.ts, and the dual SiLU in
 * assembly/silu.ts), looked up by export name so that src/engine/ keeps no ET-specific interface.
 * Every array argument is a byte offset into the kernels' memory; a dual quantity comes as two
 * offsets, its value and its tangent. Each kernel has a TypeScript twin, the loop in
 * training-gradient.ts that runs where WASM does not (or the arrays are not all in its memory).
 */
import type { WasmKernels } from '../../engine/kernels/wasm.js';

/** Logits of both directions of pairs [p0, p1) of a block, per head, with tangents. */
export type PairLogitsDual = (p0: number, p1: number, H: number, heads: number, perLayer: number, keys: number,
  pa: number, pb: number, qkv: number, qkvT: number, filt: number, filtT: number, s: number, sT: number) => void;

/** Messages of both directions of pairs [p0, p1) of a block, added into dx and vecNext, with tangents. */
export type PairMessagesDual = (p0: number, p1: number, H: number, heads: number, perLayer: number, dvLocal: number,
  values: number, hasVec: number, pa: number, pb: number, u: number, uT: number, C: number, CT: number,
  qkv: number, qkvT: number, vec: number, vecT: number, s: number, sT: number, filt: number, filtT: number,
  dx: number, dxT: number, vecNext: number, vecNextT: number) => void;

/** vdot = Σ_xyz vec1·vec2 (written), with its tangent. */
export type VectorDotDual = (N: number, H: number, vp: number, vpT: number, vdot: number, vdotT: number) => void;

/** x += vdot·o2 + o3, vecNext += vec3·o1, with tangents. */
export type ResidualDual = (N: number, H: number, hasVec: number, o: number, oT: number, vdot: number, vdotT: number,
  vp: number, vpT: number, x: number, xT: number, vecNext: number, vecNextT: number) => void;

/** Adjoints at the residual updates, go and gvp (written whole), with tangents. */
export type ResidualBackwardDual = (N: number, H: number, hasVec: number, gx: number, gxT: number, gvec: number, gvecT: number,
  vp: number, vpT: number, vdot: number, vdotT: number, o: number, oT: number, go: number, goT: number, gvp: number, gvpT: number) => void;

/** y = silu(x), ẏ = silu′·ẋ, and (d ≠ 0) d = silu′, ḋ = silu″·ẋ; exactly n values, in place allowed. */
export type SiluDual = (x: number, xT: number, n: number, y: number, yT: number, d: number, dT: number) => void;

/** Self-loop logits of atoms [0, N) (s, sT: at the first self edge), with tangents. */
export type SelfLogitsDual = (N: number, H: number, heads: number, keys: number, qkv: number, qkvT: number, dk0: number, s: number, sT: number) => void;

/** Self-loop messages of atoms [0, N), added into dx and vecNext, with tangents. */
export type SelfMessagesDual = (N: number, H: number, heads: number, values: number, hasVec: number, qkv: number, qkvT: number,
  vec: number, vecT: number, s: number, sT: number, dv0: number, dx: number, dxT: number, vecNext: number, vecNextT: number) => void;

/** Self-loops in reverse: into gqkv, gvi and the summed tangent adjoints of the constant filters. */
export type SelfBackwardDual = (N: number, H: number, heads: number, keys: number, values: number, hasVec: number,
  qkv: number, qkvT: number, vec: number, vecT: number, gvec: number, gvecT: number, gdx: number, gdxT: number,
  s: number, sT: number, sd: number, sdT: number, dk0: number, dv0: number, fdk0: number, fdv0: number,
  gqkv: number, gqkvT: number, gvi: number, gviT: number, gAk: number, gAv: number) => void;

/** Neighbour embedding over all pairs into cat's second half (and its tangent). */
export type NeighborEmbedDual = (P: number, H: number, pa: number, pb: number, z: number, C: number, CT: number,
  pre: number, preT: number, emb: number, cat: number, catT: number) => void;

/** Neighbour embedding in reverse: the embedding table's tangent adjoint (added) and gpre (written). */
export type NeighborEmbedBackwardDual = (P: number, H: number, pa: number, pb: number, z: number, C: number, CT: number,
  pre: number, preT: number, emb: number, gcat: number, gcatT: number, pemb: number, gpre: number, gpreT: number) => void;

/**
 * The reverse pair loop: pairs [p0, p1) of one block, every array as a pair of byte offsets
 * (value, tangent).
 */
export type PairBackwardDual = (p0: number, p1: number, H: number, heads: number, perLayer: number, dvLocal: number,
  keys: number, values: number, hasVec: number, pa: number, pb: number, u: number, uT: number, C: number, CT: number,
  qkv: number, qkvT: number, vec: number, vecT: number, gvec: number, gvecT: number, gdx: number, gdxT: number,
  s: number, sT: number, sd: number, sdT: number, filt: number, filtT: number, fder: number, fderT: number,
  gqkv: number, gqkvT: number, gvi: number, gviT: number, gA: number, gAT: number) => void;

/** a += b over n values (whole vectors). */
export type AddInto = (a: number, b: number, n: number) => void;

export interface TrainKernels {
  pairLogits: PairLogitsDual;
  pairMessages: PairMessagesDual;
  pairBackward: PairBackwardDual;
  vectorDot: VectorDotDual;
  residual: ResidualDual;
  residualBackward: ResidualBackwardDual;
  siluDual: SiluDual;
  addInto: AddInto;
  selfLogits: SelfLogitsDual;
  selfMessages: SelfMessagesDual;
  selfBackward: SelfBackwardDual;
  neighborEmbed: NeighborEmbedDual;
  neighborEmbedBackward: NeighborEmbedBackwardDual;
}

/** The training kernels of one precision (elemSize 4: float32, 8: float64). */
export function trainKernels(k: WasmKernels, elemSize: 4 | 8): TrainKernels {
  const t = elemSize === 4 ? 'f32' : 'f64';
  return {
    pairLogits: k.exported(`et_pair_logits_dual_${t}`),
    pairMessages: k.exported(`et_pair_messages_dual_${t}`),
    pairBackward: k.exported(`et_pair_backward_dual_${t}`),
    vectorDot: k.exported(`et_vector_dot_dual_${t}`),
    residual: k.exported(`et_residual_dual_${t}`),
    residualBackward: k.exported(`et_residual_backward_dual_${t}`),
    siluDual: k.exported(`silu_dual_${t}`),
    addInto: k.exported(`et_add_into_${t}`),
    selfLogits: k.exported(`et_self_logits_dual_${t}`),
    selfMessages: k.exported(`et_self_messages_dual_${t}`),
    selfBackward: k.exported(`et_self_backward_dual_${t}`),
    neighborEmbed: k.exported(`et_neighbor_embed_dual_${t}`),
    neighborEmbedBackward: k.exported(`et_neighbor_embed_backward_dual_${t}`),
  };
}

/**
 * Which groups of WASM training kernels a call may use (all by default). Tests turn one group
 * off to compare it with its TypeScript twin, everything else equal.
 */
export const trainKernelUse = {
  /** Forward logits and messages of the pairs. */
  pairForward: true,
  /** The neighbour embedding's pair loops. */
  neighborEmbedding: true,
  /** Self-loops, forward and reverse. */
  selfLoops: true,
  /** Reverse pair loop. */
  pairBackward: true,
  /** Dual SiLU of the distance filters and of the head. */
  silu: true,
  /** Per-atom row loops (vdot, residual and its reverse). */
  rows: true,
  /** Filter weights packed once per call for the matrix kernel (rather than in every product). */
  packedFilters: true,
};
