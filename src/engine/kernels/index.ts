/**
 * The engine's compute kernels, behind one entry point per operation that picks the fastest
 * implementation available here: WASM SIMD when the JS engine can load it and the problem is
 * big enough to repay copying into WASM memory, TypeScript otherwise. Both give the same
 * results to float rounding (float64 SiLU: bit for bit), checked by test/engine/kernels*.test.ts.
 *
 *   gemm, gemmPacked + PackedMatrix   matrix multiply (PackedMatrix: a B reused across calls)
 *   silu                              SiLU with its first and second derivatives
 *   gatherRows, scatterAddRows        per-edge row gather / per-atom scatter-add (TypeScript only)
 *   setKernelBackend, kernelBackend   force 'js' or 'wasm' (tests, benchmarks), default 'auto'
 */
import { gemmBlocked } from './gemm-blocked.js';
import type { FloatArray, Gemm } from './gemm-js.js';
import { siluJs } from './silu.js';
import { wasmKernels, type WasmKernels } from './wasm.js';

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

/** Below this many elements the fixed cost of a WASM call (≈ 0.4 µs) outweighs the vectorised
 * exp: measured crossover 16–32 elements. */
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
export const gemm: Gemm = (transA, transB, M, N, K, A, B, C, accumulate) => {
  if (backend !== 'js' && (backend === 'wasm' || M * N * K >= WASM_MIN_MULADDS) && sameKind(A, B, C)) {
    const w = wasmKernels();
    if (w) {
      w.gemm(transA, transB, M, N, K, A, B, C, accumulate);
      return;
    }
  }
  gemmBlocked(transA, transB, M, N, K, A, B, C, accumulate);
};

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

// Packed blocks of matrices nobody disposed of are returned when the matrix is collected.
const unreachable = new FinalizationRegistry<{ w: WasmKernels; offset: number }>(({ w, offset }) => w.free(offset));

/**
 * op(B) of a K×N product, prepared once for many gemmPacked calls (a weight matrix during MD):
 * packed in WASM memory where available, so each call skips copying and repacking B. Holds a
 * snapshot of B's values at creation; pack again after changing B.
 */
export class PackedMatrix {
  /** op(B) as a K×N row-major copy: the JS path, and the source for the WASM block. */
  private readonly values: FloatArray;
  private wasm: { w: WasmKernels; offset: number } | null = null;

  constructor(transB: boolean, readonly K: number, readonly N: number, B: FloatArray) {
    if (B.length < K * N) throw new Error(`PackedMatrix: ${B.length} values for a ${K}×${N} matrix`);
    const v = B instanceof Float32Array ? new Float32Array(K * N) : new Float64Array(K * N);
    if (transB) for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) v[k * N + j] = B[j * K + k];
    else v.set(B.subarray(0, K * N));
    this.values = v;
  }

  get dtype(): 'float32' | 'float64' {
    return this.values instanceof Float32Array ? 'float32' : 'float64';
  }

  /** The WASM block, packed on first use. */
  wasmOffset(w: WasmKernels): number {
    if (this.wasm && this.wasm.w !== w) this.dispose(); // the kernels moved to another instance
    if (!this.wasm) {
      this.wasm = { w, offset: w.packB(false, this.K, this.N, this.values) };
      unreachable.register(this, this.wasm, this);
    }
    return this.wasm.offset;
  }

  /** Release the WASM memory now rather than when this object is collected. */
  dispose(): void {
    if (this.wasm) {
      unreachable.unregister(this);
      this.wasm.w.free(this.wasm.offset);
      this.wasm = null;
    }
  }

  /** The JS-side operand (op(B), K×N, not transposed). */
  get plain(): FloatArray {
    return this.values;
  }
}

/**
 * C[M×N] = (accumulate ? C : 0) + op(A)·B for a PackedMatrix B (K×N); same rules as gemm. On
 * WASM, cheaper than gemm by the copy and packing of B: ~20–40 % for a 21-row A.
 */
export function gemmPacked(transA: boolean, M: number, N: number, K: number, A: FloatArray, B: PackedMatrix, C: FloatArray, accumulate: boolean): void {
  if (B.K !== K || B.N !== N) throw new Error(`gemmPacked: matrix is ${B.K}×${B.N}, call needs ${K}×${N}`);
  const f32 = C instanceof Float32Array;
  if (backend !== 'js' && A instanceof Float32Array === f32 && (B.dtype === 'float32') === f32) {
    const w = wasmKernels();
    if (w) {
      w.gemmPacked(transA, M, N, K, A, B.wasmOffset(w), C, accumulate);
      return;
    }
  }
  gemmBlocked(transA, false, M, N, K, A, B.plain, C, accumulate);
}
