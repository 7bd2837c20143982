/**
 * The WASM SIMD kernels (assembly/*.ts, compiled by scripts/build-wasm.mjs and embedded as
 * base64 in wasm-binary.ts), wrapped so that callers pass ordinary typed arrays.
 *
 * Two builds are embedded for one thread: 'relaxed-simd' (fused multiply-add in gemm, ~1.4×
 * faster; Node 22+, Chrome 114+, and Node 20 after enableRelaxedSimd turns on V8's flag) and
 * 'simd' (everywhere WASM SIMD runs). The first one this JS engine validates is used. Their gemm
 * results differ by float rounding only. Two more are the same over a shared memory, for the
 * two-thread kernels (threads.ts): 'relaxed-simd-shared' and 'simd-shared'.
 *
 * Arrays that are views of the module's own memory (a caller's arena) are used in place.
 * Other inputs are copied into the module's linear memory, the kernel runs there, and the result is
 * copied back out. One region is reused for every call and grown when a call needs more, so a
 * steady stream of same-sized calls allocates no buffers (only the subarray views of the copies).
 *
 * Below that scratch region sit long-lived blocks: matrices packed once for many gemm calls
 * (packB), placed first-fit and returned with free().
 */
import { wasmKernelsBase64, wasmKernelsRelaxedBase64, wasmKernelsSharedBase64, wasmKernelsSharedRelaxedBase64 } from './wasm-binary.js';
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
  gemm_packed_cols_f32(tA: number, M: number, N: number, K: number, A: number, Bp: number, C: number, acc: number, work: number, j0: number, j1: number): void;
  gemm_packed_cols_f64(tA: number, M: number, N: number, K: number, A: number, Bp: number, C: number, acc: number, work: number, j0: number, j1: number): void;
}

const PAGE = 65536;

/**
 * Below these sizes a product or a SiLU stays on one thread: handing half to the helper and
 * waiting for it costs ≈ 1–2 µs while it spins, ≈ 20–50 µs when it has gone to sleep.
 */
const TEAM_MIN_MULADDS = 1 << 19;
const TEAM_MIN_SILU = 1 << 14;

function align64(x: number): number {
  // Arithmetic, not `& ~63`: bitwise operators wrap at 2^31, and a dense system needs more.
  return Math.ceil(x / 64) * 64;
}

function decodeBase64(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(new ArrayBuffer(bin.length));
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export type WasmVariant = 'relaxed-simd' | 'simd' | 'relaxed-simd-shared' | 'simd-shared';

export class WasmKernels {
  private readonly x: KernelExports;
  private buffer: ArrayBuffer | null = null;
  private f32 = new Float32Array(0);
  private f64 = new Float64Array(0);

  // Long-lived blocks [offset, offset + size) from the heap base up; per-call scratch starts at
  // `scratch`, just above the last of them.
  private blocks: { offset: number; size: number; free: boolean }[] = [];
  private scratch: number;

  /** A second thread working on the same (shared) memory, when one was started. */
  private team: KernelTeam | null = null;

  constructor(
    instance: WebAssembly.Instance,
    /** Which build this is. */
    readonly variant: WasmVariant,
    /** The memory, where the build imports it rather than exporting its own. */
    memory?: WebAssembly.Memory,
  ) {
    const ex = instance.exports as unknown as KernelExports;
    this.x = memory ? { ...ex, memory } : ex;
    this.scratch = this.x.heap_base();
  }

  /** Let `team` run half of each large matrix product and SiLU (shared-memory builds only). */
  attachTeam(team: KernelTeam | null): void {
    if (team && !this.variant.endsWith('-shared')) throw new Error('WASM kernels: a helper thread needs the shared-memory build');
    this.team = team;
  }

  /** Threads working on each large kernel call: 1, or 2 with a helper thread. */
  get threads(): number {
    return this.team ? 2 : 1;
  }

  /** The module's memory now (growing it replaces the buffer and detaches views of the old one). */
  get memoryBuffer(): ArrayBuffer {
    return this.x.memory.buffer;
  }

  /**
   * A kernel of the module by its export name, for callers that keep their own kernels'
   * interfaces (the ET's, in src/model/fast/et-kernels.ts and train-kernels.ts): the engine
   * wraps only its generic kernels (matrix products, SiLU); array arguments are byte offsets.
   */
  exported<F extends (...args: number[]) => unknown>(name: string): F {
    const f = (this.x as unknown as Record<string, unknown>)[name];
    if (typeof f !== 'function') throw new Error(`WASM kernels: no kernel '${name}' in this build`);
    return f as F;
  }

  /**
   * Make sure the per-call scratch above the long-lived blocks can hold a gemm of up to these
   * sizes without growing the memory (growth detaches every view of it, the arenas' too).
   */
  reserveGemmScratch(M: number, N: number, K: number, elemSize: number): void {
    this.reserve(align64(this.scratch) + this.x.gemm_work_bytes(M, N, K, elemSize));
  }

  /** Whether `a` is a view of this module's memory (then kernels can use it in place). */
  private resident(a: FloatArray): boolean {
    return a.buffer === this.x.memory.buffer;
  }

  /**
   * A long-lived block of `size` bytes (64-byte aligned) for the caller's own arrays; its offset.
   * Return it with free().
   */
  allocate(size: number): number {
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
    // Operands already in WASM memory (a caller's arena buffers) are used where they lie; the
    // others are copied to the scratch area, which the work area follows.
    const inA = this.resident(A), inC = this.resident(C);
    let top = align64(this.scratch);
    const pA = inA ? A.byteOffset : top;
    if (!inA) top = align64(top + nA * sz);
    const pC = inC ? C.byteOffset : top;
    if (!inC) top = align64(top + nC * sz);
    const pW = top;
    this.reserve(pW + this.x.gemm_work_bytes(M, N, K, sz));
    const view = sz === 4 ? this.f32 : this.f64;
    const s = sz === 4 ? 2 : 3;
    if (!inA) view.set(A.length === nA ? A : A.subarray(0, nA), pA >> s);
    if (accumulate && !inC) view.set(C.length === nC ? C : C.subarray(0, nC), pC >> s);
    const team = this.team;
    const panel = 32 / sz;
    if (team && M * N * K >= TEAM_MIN_MULADDS && N >= 2 * panel) {
      // Columns split at a panel boundary; the helper gets its own work area above ours.
      const mid = Math.ceil(N / 2 / panel) * panel;
      const work = this.x.gemm_work_bytes(M, N, K, sz);
      const pW2 = align64(pW + work);
      this.reserve(pW2 + work);
      const run = sz === 4 ? this.x.gemm_packed_cols_f32 : this.x.gemm_packed_cols_f64;
      team.start(sz === 4 ? OP_GEMM_F32 : OP_GEMM_F64, transA ? 1 : 0, M, N, K, pA, packedB, pC, accumulate ? 1 : 0, pW2, mid, N);
      run(transA ? 1 : 0, M, N, K, pA, packedB, pC, accumulate ? 1 : 0, pW, 0, mid);
      team.join();
    } else {
      (sz === 4 ? this.x.gemm_packed_f32 : this.x.gemm_packed_f64)(transA ? 1 : 0, M, N, K, pA, packedB, pC, accumulate ? 1 : 0, pW);
    }
    if (!inC) C.set(view.subarray(pC >> s, (pC >> s) + nC));
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
    if (this.resident(x) && (!y || this.resident(y)) && (!d1 || this.resident(d1)) && (!d2 || this.resident(d2))) {
      // In place; such arrays come from an arena that pads every array to whole vectors.
      this.siluAt(sz, x.byteOffset, n, y ? y.byteOffset : 0, d1 ? d1.byteOffset : 0, d2 ? d2.byteOffset : 0);
      return;
    }
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
    this.siluAt(sz, px, n, py, p1, p2);
    if (y) y.set(view.subarray(py >> s, (py >> s) + n));
    if (d1) d1.set(view.subarray(p1 >> s, (p1 >> s) + n));
    if (d2) d2.set(view.subarray(p2 >> s, (p2 >> s) + n));
  }

  /** The SiLU kernel on byte offsets, split with the helper thread when there is one. */
  private siluAt(sz: number, px: number, n: number, py: number, p1: number, p2: number): void {
    const run = sz === 4 ? this.x.silu_f32 : this.x.silu_f64;
    const team = this.team;
    if (team && n >= TEAM_MIN_SILU) {
      // Halves at a 64-byte boundary, so the first half's last vector stays inside it.
      const h = Math.ceil(n / 2 / 16) * 16, o = h * sz;
      team.start(sz === 4 ? OP_SILU_F32 : OP_SILU_F64, px + o, n - h, py ? py + o : 0, p1 ? p1 + o : 0, p2 ? p2 + o : 0);
      run(px, h, py, p1, p2);
      team.join();
    } else {
      run(px, n, py, p1, p2);
    }
  }

  /**
   * Same contract as gemmJs; A, B and C must all be Float32Array or all Float64Array. Operands
   * already in WASM memory (arena buffers) are used where they lie, the others copied to scratch.
   */
  gemm(transA: boolean, transB: boolean, M: number, N: number, K: number, A: FloatArray, B: FloatArray, C: FloatArray, accumulate: boolean): void {
    const sz = C.BYTES_PER_ELEMENT;
    const nA = M * K, nB = K * N, nC = M * N;
    const inA = this.resident(A), inB = this.resident(B), inC = this.resident(C);
    let top = align64(this.scratch);
    const pA = inA ? A.byteOffset : top;
    if (!inA) top = align64(top + nA * sz);
    const pB = inB ? B.byteOffset : top;
    if (!inB) top = align64(top + nB * sz);
    const pC = inC ? C.byteOffset : top;
    if (!inC) top = align64(top + nC * sz);
    const pW = top;
    this.reserve(pW + this.x.gemm_work_bytes(M, N, K, sz));
    const view = sz === 4 ? this.f32 : this.f64;
    const s = sz === 4 ? 2 : 3;
    if (!inA) view.set(A.length === nA ? A : A.subarray(0, nA), pA >> s);
    if (!inB) view.set(B.length === nB ? B : B.subarray(0, nB), pB >> s);
    if (accumulate && !inC) view.set(C.length === nC ? C : C.subarray(0, nC), pC >> s);
    const run = sz === 4 ? this.x.gemm_f32 : this.x.gemm_f64;
    run(transA ? 1 : 0, transB ? 1 : 0, M, N, K, pA, pB, pC, accumulate ? 1 : 0, pW);
    if (!inC) C.set(view.subarray(pC >> s, (pC >> s) + nC));
  }
}

let cached: WasmKernels | null | undefined;


function bytesOf(variant: WasmVariant): Uint8Array<ArrayBuffer> {
  const b64 = { 'relaxed-simd': wasmKernelsRelaxedBase64, simd: wasmKernelsBase64, 'relaxed-simd-shared': wasmKernelsSharedRelaxedBase64, 'simd-shared': wasmKernelsSharedBase64 }[variant];
  return decodeBase64(b64);
}

let relaxedTried = false;

/**
 * Node 20's V8 implements relaxed SIMD behind a flag (on by default from Node 22): turn it on, once,
 * before the first module is validated, unless OREO_RELAXED_SIMD=0. Browsers are left alone.
 */
function enableRelaxedSimd(bytes: Uint8Array<ArrayBuffer>): void {
  if (relaxedTried) return;
  relaxedTried = true;
  type NodeProcess = { versions?: { node?: string }; env?: Record<string, string | undefined>; getBuiltinModule?: (id: string) => unknown };
  const proc = (globalThis as { process?: NodeProcess }).process;
  if (!proc?.versions?.node || typeof proc.getBuiltinModule !== 'function' || proc.env?.OREO_RELAXED_SIMD === '0') return;
  if (WebAssembly.validate(bytes)) return;
  const v8 = proc.getBuiltinModule('node:v8') as { setFlagsFromString?: (flags: string) => void } | undefined;
  v8?.setFlagsFromString?.('--experimental-wasm-relaxed-simd');
}

/** The builds to try, best first; OREO_RELAXED_SIMD=0 keeps to plain SIMD. */
function variants(shared: boolean): WasmVariant[] {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const relaxed = env?.OREO_RELAXED_SIMD !== '0';
  const list: WasmVariant[] = shared ? ['relaxed-simd-shared', 'simd-shared'] : ['relaxed-simd', 'simd'];
  if (relaxed && typeof WebAssembly === 'object') enableRelaxedSimd(bytesOf(list[0]));
  return relaxed ? list : list.slice(1);
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
    for (const v of variants(false)) if ((cached = instantiateWasmKernels(v))) break;
  }
  return cached;
}

/** Asynchronous loading, for environments that forbid synchronous compilation. */
export async function loadWasmKernels(): Promise<WasmKernels | null> {
  if (cached) return cached;
  if (typeof WebAssembly === 'object') {
    for (const v of variants(false)) {
      const bytes = bytesOf(v);
      if (!WebAssembly.validate(bytes)) continue;
      const { instance } = await WebAssembly.instantiate(bytes, {});
      return (cached = new WasmKernels(instance, v));
    }
  }
  return (cached = null);
}

// ---------------------------------------------------------------------------------------------
// Two threads. The helper is a worker with its own instance of the shared-memory build over the
// same memory; the two talk through a small shared Int32Array:
//   [0] number of the last job posted   [1] number of the last job done   [2] op   [3..14] args
//   [15] set when a job threw            [16] 1 once the helper is ready, −1 if it failed to start

export const OP_QUIT = 0, OP_GEMM_F32 = 1, OP_GEMM_F64 = 2, OP_SILU_F32 = 3, OP_SILU_F64 = 4;
export const TEAM_CONTROL_INTS = 32;

/**
 * The helper's program (plain JS, so that it needs no file of its own: Node runs it as an eval'd
 * worker script, a browser from a Blob URL or as a script the page's server sends). It spins on the job counter for a while after each
 * job, since an energy+forces call posts one every few hundred µs, and sleeps in Atomics.wait
 * when work stops coming. The two entry points below differ only in how the helper receives the
 * module, the memory and the control block.
 */
const TEAM_HELPER_LOOP = `
function runKernelHelper(module, memory, control) {
  const c = new Int32Array(control);
  // Read before saying ready: the caller may post its first job the moment it hears.
  let seen = Atomics.load(c, 0);
  let x;
  try {
    x = new WebAssembly.Instance(module, { env: { memory } }).exports;
    Atomics.store(c, 16, 1);
  } catch (e) {
    Atomics.store(c, 16, -1);
    Atomics.notify(c, 16);
    throw e;
  }
  Atomics.notify(c, 16);
  for (;;) {
    let spins = 0;
    while (Atomics.load(c, 0) === seen) {
      if (++spins > 2000000) {
        Atomics.wait(c, 0, seen, 1000);
        spins = 0;
      }
    }
    seen = Atomics.load(c, 0);
    const op = c[2];
    if (op === ${OP_QUIT}) break;
    try {
      if (op === ${OP_GEMM_F32}) x.gemm_packed_cols_f32(c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11], c[12], c[13]);
      else if (op === ${OP_GEMM_F64}) x.gemm_packed_cols_f64(c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11], c[12], c[13]);
      else if (op === ${OP_SILU_F32}) x.silu_f32(c[3], c[4], c[5], c[6], c[7]);
      else if (op === ${OP_SILU_F64}) x.silu_f64(c[3], c[4], c[5], c[6], c[7]);
      else Atomics.store(c, 15, 1);
    } catch (e) {
      Atomics.store(c, 15, 1);
    }
    Atomics.store(c, 1, seen);
  }
}
`;

/** The helper as a Node worker_threads script: module, memory and control come as workerData. */
export const TEAM_WORKER_SOURCE = `${TEAM_HELPER_LOOP}
const { workerData } = require('node:worker_threads');
runKernelHelper(workerData.module, workerData.memory, workerData.control);
`;

/** The helper as a browser Web Worker script: module, memory and control come in its first message. */
export const TEAM_WORKER_SOURCE_BROWSER = `${TEAM_HELPER_LOOP}
self.onmessage = (e) => {
  self.onmessage = null;
  runKernelHelper(e.data.module, e.data.memory, e.data.control);
  self.close();
};
`;

/** The calling side of the helper thread: post one job, do our half, wait for its half. */
export class KernelTeam {
  private readonly c: Int32Array;
  private seq = 0;

  constructor(control: SharedArrayBuffer) {
    this.c = new Int32Array(control);
    this.seq = Atomics.load(this.c, 0);
  }

  /** Block (up to timeoutMs) until the helper has instantiated the kernels; false if it failed. */
  awaitReady(timeoutMs: number): boolean {
    Atomics.wait(this.c, 16, 0, timeoutMs);
    return Atomics.load(this.c, 16) === 1;
  }

  /** Without blocking: 1 once the helper is ready, −1 if it failed to start, 0 while it starts. */
  readiness(): number {
    return Atomics.load(this.c, 16);
  }

  start(op: number, ...args: number[]): void {
    const c = this.c;
    c[2] = op;
    for (let i = 0; i < args.length; i++) c[3 + i] = args[i];
    this.seq = (this.seq + 1) | 0;
    Atomics.store(c, 0, this.seq);
    Atomics.notify(c, 0);
  }

  join(): void {
    const c = this.c;
    let spins = 0;
    let since = 0;
    while (Atomics.load(c, 1) !== this.seq) {
      if (++spins === 1 << 16) {
        spins = 0;
        const now = performance.now();
        if (since === 0) since = now;
        else if (now - since > 60_000) throw new Error('WASM kernels: the helper thread stopped answering');
      }
    }
    if (Atomics.load(c, 15)) {
      Atomics.store(c, 15, 0);
      throw new Error('WASM kernels: a kernel call failed in the helper thread');
    }
  }

  /** Tell the helper to finish. */
  quit(): void {
    this.start(OP_QUIT);
  }
}

/**
 * The shared-memory build, instantiated over a fresh shared memory, with what a helper thread
 * needs to run its own instance; null where shared WASM memory is unavailable (a browser page
 * that is not cross-origin isolated, an engine without WASM threads).
 */
export function instantiateSharedKernels(): { kernels: WasmKernels; module: WebAssembly.Module; memory: WebAssembly.Memory } | null {
  if (typeof WebAssembly !== 'object' || typeof SharedArrayBuffer !== 'function') return null;
  for (const variant of variants(true)) {
    const bytes = bytesOf(variant);
    try {
      if (!WebAssembly.validate(bytes)) continue;
      const module = new WebAssembly.Module(bytes);
      const memory = new WebAssembly.Memory({ initial: 16, maximum: 32768, shared: true });
      const instance = new WebAssembly.Instance(module, { env: { memory } });
      return { kernels: new WasmKernels(instance, variant, memory), module, memory };
    } catch {
      // e.g. shared memory refused (a page that is not cross-origin isolated)
    }
  }
  return null;
}

/** Make `k` the kernels every later call uses (the two-thread set-up swaps in its shared build);
 * undefined goes back to the default build, loaded on next use. */
export function setWasmKernels(k: WasmKernels | null | undefined): void {
  cached = k;
}
