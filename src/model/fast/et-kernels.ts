/**
 * The ET's WASM kernels of the fused inference path (assembly/et.ts): the edge loops (attention,
 * messages and their reverse) and the per-atom row loops (layer norm both ways, bias rows, the
 * residual updates). They are looked up by export name on the engine's generic kernel module,
 * so that src/engine/ keeps no interface of the ET. Every array argument is a byte offset into
 * the kernels' memory; row widths must be whole SIMD vectors.
 */
import type { WasmKernels } from '../../engine/kernels/wasm.js';

/** The ET's per-atom row kernels. */
export interface EtRowKernels {
  layerNorm(x: number, w: number, b: number, N: number, H: number, eps: number, xhat: number, rstd: number, out: number): void;
  layerNormBackward(gy: number, w: number, xhat: number, rstd: number, N: number, H: number, gx: number): void;
  addRowBias(y: number, bias: number, rows: number, cols: number): void;
  vectorDot(N: number, H: number, vp: number, vdot: number): void;
  residual(N: number, H: number, hasVec: number, o: number, vdot: number, vp: number, x: number, vecNext: number): void;
  residualBackward(N: number, H: number, hasVec: number, gx: number, gvo: number, vp: number, vdot: number, o: number, go: number, gvp: number): void;
  addInto(a: number, b: number, n: number): void;
}

/** Attention logits of every edge through silu (pairs both ways, then self-loops). */
export type EtAttention = (P: number, N: number, H: number, heads: number, cols: number, kOff: number,
  pa: number, pb: number, qkv: number, filt: number, dkSelf: number, attn: number) => void;
/** Messages of every edge, summed into dx and the next layer's vectors. */
export type EtMessages = (P: number, N: number, H: number, heads: number, cols: number, vOff: number, vc: number, hasVec: number,
  pa: number, pb: number, qkv: number, filt: number, dvSelf: number, attn: number, cut: number, u: number,
  vec: number, vecNext: number, dx: number) => void;
/** The edges in reverse: adjoints of q, k, v, the input vectors, the filters and the geometry. */
export type EtEdgesBackward = (P: number, N: number, H: number, heads: number, cols: number, kOff: number, vOff: number,
  keys: number, values: number, vc: number, hasVec: number,
  pa: number, pb: number, qkv: number, filt: number, fder: number, dkSelf: number, dvSelf: number,
  attn: number, attnDer: number, cut: number, u: number, vec: number,
  gdx: number, gvo: number, gvi: number, gqkv: number, G: number, gCut: number, gU: number) => void;

/** The ET edge and row kernels of one precision. */
export interface EtKernels extends EtRowKernels {
  attention: EtAttention;
  messages: EtMessages;
  edgesBackward: EtEdgesBackward;
}

/** The ET kernels for float32 (elemSize 4) or float64 (8). */
export function etKernels(k: WasmKernels, elemSize: 4 | 8): EtKernels {
  const t = elemSize === 4 ? 'f32' : 'f64';
  return {
    attention: k.exported(`et_attention_${t}`),
    messages: k.exported(`et_messages_${t}`),
    edgesBackward: k.exported(`et_edges_backward_${t}`),
    layerNorm: k.exported(`et_layer_norm_${t}`),
    layerNormBackward: k.exported(`et_layer_norm_backward_${t}`),
    addRowBias: k.exported(`et_add_row_bias_${t}`),
    vectorDot: k.exported(`et_vector_dot_${t}`),
    residual: k.exported(`et_residual_${t}`),
    residualBackward: k.exported(`et_residual_backward_${t}`),
    addInto: k.exported(`et_add_into_${t}`),
  };
}
