/**
 * The WASM SIMD kernels (assembly/*.ts, compiled by scripts/build-wasm.mjs and embedded as
 * base64 in wasm-binary.ts), wrapped so that callers pass ordinary typed arrays.
 *
 * Two builds are embedded: 'relaxed-simd' (fused multiply-add in gemm, ~1.4× faster; Node 22+,
 * Chrome 114+) and 'simd' (everywhere WASM SIMD runs, Node 20 included). The first one this JS
 * engine validates is used. Their gemm results differ by float rounding only.
 *
 * Inputs are copied into the module's linear memory, the kernel runs there, and the result is
 * copied back out. One region is reused for every call and grown when a call needs more, so a
 * steady stream of same-sized calls allocates no buffers (only the subarray views of the copies).
 */
import { wasmKernelsBase64, wasmKernelsRelaxedBase64 } from './wasm-binary.js';
import type { FloatArray } from './gemm-js.js';

interface KernelExports {
  readonly memory: WebAssembly.Memory;
  heap_base(): number;
  gemm_work_bytes(M: number, N: number, K: number, elemSize: number): number;
  gemm_f32(tA: number, tB: number, M: number, N: number, K: number, A: number, B: number, C: number, acc: number, work: number): void;
  gemm_f64(tA: number, tB: number, M: number, N: number, K: number, A: number, B: number, C: number, acc: number, work: number): void;
  silu_f32(x: number, n: number, y: number, d1: number, d2: number): void;
  silu_f64(x: number, n: number, y: number, d1: number, d2: number): void;
}

const PAGE = 65536;

function align64(x: number): number {
  return (x + 63) & ~63;
}

function decodeBase64(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(new ArrayBuffer(bin.length));
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export type WasmVariant = 'relaxed-simd' | 'simd';

export class WasmKernels {
  private readonly x: KernelExports;
  private readonly base: number;
  private buffer: ArrayBuffer | null = null;
  private f32 = new Float32Array(0);
  private f64 = new Float64Array(0);

  constructor(
    instance: WebAssembly.Instance,
    /** Which build this is. */
    readonly variant: WasmVariant,
  ) {
    this.x = instance.exports as unknown as KernelExports;
    this.base = this.x.heap_base();
  }

  /** Bytes of linear memory in use (grows to the largest call seen so far). */
  get memoryBytes(): number {
    return this.x.memory.buffer.byteLength;
  }

  /** Make the memory at least `end` bytes long and refresh the views (growing detaches them). */
  private reserve(end: number): void {
    const mem = this.x.memory;
    const have = mem.buffer.byteLength;
    if (end > have) mem.grow(Math.ceil((end - have) / PAGE));
    if (this.buffer !== mem.buffer) {
      this.buffer = mem.buffer;
      this.f32 = new Float32Array(this.buffer);
      this.f64 = new Float64Array(this.buffer);
    }
  }

  // Byte offsets of A, B, C and the scratch area for the current call (fields rather than a
  // returned tuple: one allocation fewer per call).
  private pA = 0;
  private pB = 0;
  private pC = 0;
  private pW = 0;

  private layout(M: number, N: number, K: number, sz: number): void {
    this.pA = this.base;
    this.pB = align64(this.pA + M * K * sz);
    this.pC = align64(this.pB + K * N * sz);
    this.pW = align64(this.pC + M * N * sz);
    this.reserve(this.pW + this.x.gemm_work_bytes(M, N, K, sz));
  }

  /**
   * For benchmarks: a function that runs only the kernel on whatever the operands' places in
   * WASM memory hold, with no copies; against `gemm` it measures the copy overhead.
   */
  kernelOnly(transA: boolean, transB: boolean, M: number, N: number, K: number, elemSize: 4 | 8): () => void {
    this.layout(M, N, K, elemSize);
    const { pA, pB, pC, pW } = this;
    const run = elemSize === 4 ? this.x.gemm_f32 : this.x.gemm_f64;
    const tA = transA ? 1 : 0, tB = transB ? 1 : 0;
    return () => run(tA, tB, M, N, K, pA, pB, pC, 0, pW);
  }

  /** Same contract as siluJs; x and every output given must share one element type. */
  silu(x: FloatArray, y: FloatArray | null, d1: FloatArray | null, d2: FloatArray | null, n: number): void {
    const sz = x.BYTES_PER_ELEMENT;
    // Whole vectors: the kernel reads and writes up to 16 bytes past n (padding, never copied back).
    const bytes = align64(n * sz);
    const px = this.base;
    const py = y ? px + bytes : 0;
    const p1 = d1 ? px + 2 * bytes : 0;
    const p2 = d2 ? px + 3 * bytes : 0;
    this.reserve(px + 4 * bytes);
    const view = sz === 4 ? this.f32 : this.f64;
    const s = sz === 4 ? 2 : 3;
    view.set(x.length === n ? x : x.subarray(0, n), px >> s);
    (sz === 4 ? this.x.silu_f32 : this.x.silu_f64)(px, n, py, p1, p2);
    if (y) y.set(view.subarray(py >> s, (py >> s) + n));
    if (d1) d1.set(view.subarray(p1 >> s, (p1 >> s) + n));
    if (d2) d2.set(view.subarray(p2 >> s, (p2 >> s) + n));
  }

  /** Same contract as gemmJs; A, B and C must all be Float32Array or all Float64Array. */
  gemm(transA: boolean, transB: boolean, M: number, N: number, K: number, A: FloatArray, B: FloatArray, C: FloatArray, accumulate: boolean): void {
    const sz = C.BYTES_PER_ELEMENT;
    const nA = M * K, nB = K * N, nC = M * N;
    this.layout(M, N, K, sz);
    const { pA, pB, pC, pW } = this;
    const view = sz === 4 ? this.f32 : this.f64;
    const s = sz === 4 ? 2 : 3;
    view.set(A.length === nA ? A : A.subarray(0, nA), pA >> s);
    view.set(B.length === nB ? B : B.subarray(0, nB), pB >> s);
    if (accumulate) view.set(C.length === nC ? C : C.subarray(0, nC), pC >> s);
    const run = sz === 4 ? this.x.gemm_f32 : this.x.gemm_f64;
    run(transA ? 1 : 0, transB ? 1 : 0, M, N, K, pA, pB, pC, accumulate ? 1 : 0, pW);
    C.set(view.subarray(pC >> s, (pC >> s) + nC));
  }
}

let cached: WasmKernels | null | undefined;

const VARIANTS: readonly WasmVariant[] = ['relaxed-simd', 'simd'];

function bytesOf(variant: WasmVariant): Uint8Array<ArrayBuffer> {
  return decodeBase64(variant === 'relaxed-simd' ? wasmKernelsRelaxedBase64 : wasmKernelsBase64);
}

/**
 * A fresh instance of one build, compiled synchronously; null if this JS engine rejects it
 * (no WASM, no SIMD, or no relaxed SIMD) or forbids synchronous compilation.
 */
export function instantiateWasmKernels(variant: WasmVariant): WasmKernels | null {
  if (typeof WebAssembly !== 'object') return null;
  const bytes = bytesOf(variant);
  if (!WebAssembly.validate(bytes)) return null;
  try {
    return new WasmKernels(new WebAssembly.Instance(new WebAssembly.Module(bytes), {}), variant);
  } catch {
    // e.g. a browser main thread that refuses synchronous compilation: loadWasmKernels() works there.
    return null;
  }
}

/**
 * The kernels, compiled on first use from the best build this engine accepts; null where WASM
 * SIMD is unavailable. Synchronous, which Node and workers allow; on a browser main thread call
 * `await loadWasmKernels()` once first.
 */
export function wasmKernels(): WasmKernels | null {
  if (cached === undefined) {
    cached = null;
    for (const v of VARIANTS) if ((cached = instantiateWasmKernels(v))) break;
  }
  return cached;
}

/** Asynchronous loading, for environments that forbid synchronous compilation. */
export async function loadWasmKernels(): Promise<WasmKernels | null> {
  if (cached) return cached;
  if (typeof WebAssembly === 'object') {
    for (const v of VARIANTS) {
      const bytes = bytesOf(v);
      if (!WebAssembly.validate(bytes)) continue;
      const { instance } = await WebAssembly.instantiate(bytes, {});
      return (cached = new WasmKernels(instance, v));
    }
  }
  return (cached = null);
}
