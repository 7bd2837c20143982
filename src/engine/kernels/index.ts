/**
 * The engine's compute kernels, behind one entry point per operation that picks the fastest
 * implementation available here: WASM SIMD when the JS engine can load it and the problem is
 * big enough to repay copying into WASM memory, register-blocked TypeScript otherwise. Both
 * give the same results to float rounding (checked by test/engine/kernels.test.ts).
 */
import { gemmBlocked } from './gemm-blocked.js';
import type { FloatArray } from './gemm-js.js';
import { siluJs } from './silu.js';
import { wasmKernels } from './wasm.js';

export type { FloatArray } from './gemm-js.js';
export { gemmJs } from './gemm-js.js';
export { gemmBlocked } from './gemm-blocked.js';
export { siluJs } from './silu.js';
export { gatherRows, scatterAddRows, type IndexArray } from './rows.js';
export { loadWasmKernels } from './wasm.js';

/** 'auto': WASM where available and worth it; 'wasm': WASM for every call it can take; 'js': never WASM. */
export type KernelBackend = 'js' | 'wasm' | 'auto';

let backend: KernelBackend = 'auto';

/**
 * Below this many multiply-adds (M·N·K) the fixed cost of a WASM call (≈ 0.3 µs: copies in and
 * out, packing, the call) outweighs SIMD. Measured on x64 Node 20: 4×4×4 is 2× faster in JS,
 * 8×8×8 already 1.5× faster in WASM.
 */
const WASM_MIN_MULADDS = 256;

/** Whether the WASM SIMD kernels loaded in this JS engine. */
export function wasmAvailable(): boolean {
  return wasmKernels() !== null;
}

/** Choose the implementation for all later calls. 'wasm' throws if WASM SIMD is unavailable. */
export function setKernelBackend(b: KernelBackend): void {
  if (b !== 'js' && b !== 'wasm' && b !== 'auto') throw new Error(`unknown kernel backend '${String(b)}'`);
  if (b === 'wasm' && !wasmAvailable()) throw new Error('WASM SIMD kernels are not available in this JS engine');
  backend = b;
}

export function kernelBackend(): KernelBackend {
  return backend;
}

/** Below this many elements the fixed cost of a WASM call outweighs the vectorised exp. */
const WASM_MIN_SILU = 32;

function sameKind(A: FloatArray, B: FloatArray, C: FloatArray): boolean {
  return C instanceof Float32Array
    ? A instanceof Float32Array && B instanceof Float32Array
    : A instanceof Float64Array && B instanceof Float64Array;
}

/**
 * C[M×N] = (accumulate ? C : 0) + op(A)·op(B), row-major, contiguous; op(A) = A (M×K) or, with
 * transA, Aᵀ for A stored K×M; op(B) = B (K×N) or, with transB, Bᵀ for B stored N×K.
 * C must not overlap A or B. Arrays may be longer than needed; only the leading part is used.
 */
export function gemm(
  transA: boolean,
  transB: boolean,
  M: number,
  N: number,
  K: number,
  A: FloatArray,
  B: FloatArray,
  C: FloatArray,
  accumulate: boolean,
): void {
  if (backend !== 'js' && (backend === 'wasm' || M * N * K >= WASM_MIN_MULADDS) && sameKind(A, B, C)) {
    const w = wasmKernels();
    if (w) {
      w.gemm(transA, transB, M, N, K, A, B, C, accumulate);
      return;
    }
  }
  gemmBlocked(transA, transB, M, N, K, A, B, C, accumulate);
}

/**
 * For i < n: y[i] = x[i]·σ(x[i]), and where given (null skips) d1[i] = its first derivative,
 * d2[i] = its second, all from one exponential. Any one output may be x itself.
 */
export function silu(x: FloatArray, y: FloatArray | null, d1: FloatArray | null = null, d2: FloatArray | null = null, n: number = x.length): void {
  if (backend !== 'js' && (backend === 'wasm' || n >= WASM_MIN_SILU)) {
    const kind = x instanceof Float32Array;
    if ((!y || y instanceof Float32Array === kind) && (!d1 || d1 instanceof Float32Array === kind) && (!d2 || d2 instanceof Float32Array === kind)) {
      const w = wasmKernels();
      if (w) {
        w.silu(x, y, d1, d2, n);
        return;
      }
    }
  }
  siluJs(x, y, d1, d2, n);
}
