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
 *
 * Below that scratch region sit long-lived blocks: matrices packed once for many gemm calls
 * (packB), placed first-fit and returned with free().
 */
import { wasmKernelsBase64, wasmKernelsRelaxedBase64 } from './wasm-binary.js';
import type { FloatArray } from './gemm-js.js';

interface KernelExports {
  readonly memory: WebAssembly.Memory;
  heap_base(): number;
  gemm_work_bytes(M: number, N: number, K: number, elemSize: number): number;
  gemm_f32(tA: number, tB: number, M: number, N: number, K: number, A: number, B: number, C: number, acc: number, work: number): void;
  gemm_f64(tA: number, tB: number, M: number, N: number, K: number, A: number, B: number, C: number, acc: number, work: number): void;
  packed_b_bytes(N: number, K: number, elemSize: number): number;
  pack_b_f32(tB: number, N: number, K: number, B: number, dst: number): void;
  pack_b_f64(tB: number, N: number, K: number, B: number, dst: number): void;
  gemm_packed_f32(tA: number, M: number, N: number, K: number, A: number, Bp: number, C: number, acc: number, work: number): void;
  gemm_packed_f64(tA: number, M: number, N: number, K: number, A: number, Bp: number, C: number, acc: number, work: number): void;
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
  private buffer: ArrayBuffer | null = null;
  private f32 = new Float32Array(0);
  private f64 = new Float64Array(0);

  // Long-lived blocks [offset, offset + size) from the heap base up; per-call scratch starts at
  // `scratch`, just above the last of them.
  private blocks: { offset: number; size: number; free: boolean }[] = [];
  private scratch: number;

  constructor(
    instance: WebAssembly.Instance,
    /** Which build this is. */
    readonly variant: WasmVariant,
  ) {
    this.x = instance.exports as unknown as KernelExports;
    this.scratch = this.x.heap_base();
  }

  /** A long-lived block of `size` bytes (64-byte aligned); its offset. */
  private allocate(size: number): number {
    size = align64(Math.max(size, 64));
    for (let i = 0; i < this.blocks.length; i++) {
      const b = this.blocks[i];
      if (!b.free || b.size < size) continue;
      if (b.size > size) this.blocks.splice(i + 1, 0, { offset: b.offset + size, size: b.size - size, free: true });
      b.size = size;
      b.free = false;
      return b.offset;
    }
    const offset = this.scratch;
    this.blocks.push({ offset, size, free: false });
    this.scratch = offset + size;
    this.reserve(this.scratch);
    return offset;
  }

  /** Return a block from allocate(); neighbouring free blocks merge, a free tail goes back to scratch. */
  free(offset: number): void {
    const i = this.blocks.findIndex((b) => b.offset === offset && !b.free);
    if (i < 0) throw new Error(`WASM kernels: no live block at ${offset}`);
    this.blocks[i].free = true;
    for (let j = this.blocks.length - 1; j > 0; j--) {
      const a = this.blocks[j - 1], b = this.blocks[j];
      if (a.free && b.free) {
        a.size += b.size;
        this.blocks.splice(j, 1);
      }
    }
    const last = this.blocks[this.blocks.length - 1];
    if (last && last.free) {
      this.blocks.pop();
      this.scratch = last.offset;
    }
  }

  /** Bytes held by live packed matrices. */
  get residentBytes(): number {
    let n = 0;
    for (const b of this.blocks) if (!b.free) n += b.size;
    return n;
  }

  /**
   * Copy op(B) (K×N; B stored N×K when transB) into WASM memory, packed as gemm consumes it, for
   * use with gemmPacked until free(offset). Returns the offset.
   */
  packB(transB: boolean, K: number, N: number, B: FloatArray): number {
    const sz = B.BYTES_PER_ELEMENT;
    const offset = this.allocate(this.x.packed_b_bytes(N, K, sz));
    const src = align64(this.scratch);
    this.reserve(src + K * N * sz);
    const view = sz === 4 ? this.f32 : this.f64;
    const s = sz === 4 ? 2 : 3;
    view.set(B.length === K * N ? B : B.subarray(0, K * N), src >> s);
    (sz === 4 ? this.x.pack_b_f32 : this.x.pack_b_f64)(transB ? 1 : 0, N, K, src, offset);
    return offset;
  }

  /** gemm with op(B) from packB (same element size as A and C). */
  gemmPacked(transA: boolean, M: number, N: number, K: number, A: FloatArray, packedB: number, C: FloatArray, accumulate: boolean): void {
    const sz = C.BYTES_PER_ELEMENT;
    const nA = M * K, nC = M * N;
    const pA = align64(this.scratch);
    const pC = align64(pA + nA * sz);
    const pW = align64(pC + nC * sz);
    this.reserve(pW + this.x.gemm_work_bytes(M, N, K, sz));
    const view = sz === 4 ? this.f32 : this.f64;
    const s = sz === 4 ? 2 : 3;
    view.set(A.length === nA ? A : A.subarray(0, nA), pA >> s);
    if (accumulate) view.set(C.length === nC ? C : C.subarray(0, nC), pC >> s);
    (sz === 4 ? this.x.gemm_packed_f32 : this.x.gemm_packed_f64)(transA ? 1 : 0, M, N, K, pA, packedB, pC, accumulate ? 1 : 0, pW);
    C.set(view.subarray(pC >> s, (pC >> s) + nC));
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
    this.pA = align64(this.scratch);
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
    const px = align64(this.scratch);
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
