/**
 * Work buffers of the fast energy+forces path placed inside the WASM kernels' memory, so that
 * matrix products, SiLU and the edge kernels read and write them where they lie instead of
 * copying every operand in and every result out (at 21 atoms the copies cost as much as the
 * small kernels themselves).
 *
 * An arena is one long-lived block of that memory. Each energy+forces call starts a new epoch
 * and hands out arrays from the bottom of the block; arrays of an earlier epoch are not used
 * again. When a call needs more than the block holds, take() throws ArenaFull, the caller grows
 * the arena and repeats the call: after the first call at a new system size nothing is
 * allocated. Growing the WASM memory detaches every typed-array view of it, which is why views
 * are made afresh in each epoch and why `intact` lets the caller check that no view it used went
 * stale during a call.
 */
import { kernelBackend, setKernelBackend, type FloatArray } from '../../engine/kernels/index.js';
import { OreoError } from '../../errors.js';
import type { WasmKernels } from '../../engine/kernels/wasm.js';

/** Thrown by Arena.take when the block is too small; the call is repeated after grow(). */
export class ArenaFull extends Error {
  constructor(readonly bytesWanted: number) {
    super(`arena needs at least ${bytesWanted} bytes`);
  }
}

export function align64(x: number): number {
  // Arithmetic, not `& ~63`: bitwise operators wrap at 2^31, and a dense system needs more.
  return Math.ceil(x / 64) * 64;
}

export class Arena {
  private block = -1;
  private capacity = 0;
  private used = 0;
  private buffer: ArrayBuffer | null = null;
  /** Increases with every begin(); arrays handed out in an earlier epoch are stale. */
  epoch = 0;
  /** Between begin() and end(). */
  active = false;
  private readonly constants = new Map<FloatArray, number>();

  constructor(readonly kernels: WasmKernels) {}

  /**
   * Bytes a call in overflow mode asked for beyond the block (0 if it fitted). In that mode a full
   * block hands out ordinary JS arrays instead of throwing ArenaFull, so the call still completes
   * (more slowly: kernels copy such arrays) and the caller can grow the block once to this size.
   */
  overflow = 0;
  private allowOverflow = false;

  begin(allowOverflow = false): void {
    this.epoch++;
    this.used = 0;
    this.overflow = 0;
    this.allowOverflow = allowOverflow;
    this.active = true;
    this.buffer = this.kernels.memoryBuffer;
  }

  end(): void {
    this.active = false;
  }

  /** True while the module's memory has not grown since begin(): every view handed out is live. */
  get intact(): boolean {
    return this.kernels.memoryBuffer === this.buffer;
  }

  /** Make the block at least `bytes` long (with headroom); the current epoch's arrays are lost,
   * the constants stay. */
  grow(bytes: number): void {
    const size = align64(Math.ceil(Math.max(bytes, 2 * this.capacity, 1 << 16) * 1.25));
    if (this.block >= 0) this.kernels.free(this.block);
    this.block = -1; // stays so if the allocation below fails at the memory limit
    this.block = this.kernels.allocate(size);
    this.capacity = size;
  }

  /** Byte offset of n elements of elemSize bytes, padded to whole 64-byte lines (SIMD kernels
   * may touch up to one vector past the end). */
  private take(n: number, elemSize: number): number {
    const start = align64(this.used);
    const end = start + align64(Math.max(n, 1) * elemSize) + 64;
    if (this.block < 0 || end > this.capacity) throw new ArenaFull(end);
    this.used = end;
    return this.block + start;
  }

  floats(dtype: 'float32' | 'float64', n: number): FloatArray {
    return dtype === 'float32' ? this.f32(n) : this.f64(n);
  }

  /** In overflow mode, whether n elements no longer fit (then counted, and the caller gets a JS array). */
  private spills(n: number, elemSize: number): boolean {
    if (!this.allowOverflow) return false;
    const end = align64(this.used) + align64(Math.max(n, 1) * elemSize) + 64;
    if (this.block >= 0 && end <= this.capacity && this.overflow === 0) return false;
    this.overflow = Math.max(this.overflow, this.used) + align64(Math.max(n, 1) * elemSize) + 64;
    return true;
  }

  f32(n: number): Float32Array {
    if (this.spills(n, 4)) return new Float32Array(n);
    return new Float32Array(this.buffer!, this.take(n, 4), n);
  }

  f64(n: number): Float64Array {
    if (this.spills(n, 8)) return new Float64Array(n);
    return new Float64Array(this.buffer!, this.take(n, 8), n);
  }

  i32(n: number): Int32Array {
    if (this.spills(n, 4)) return new Int32Array(n);
    return new Int32Array(this.buffer!, this.take(n, 4), n);
  }

  /** The first n values of `src` copied into the arena, valid for this epoch (a call's pair lists). */
  indices(src: Int32Array, n: number): Int32Array {
    const out = this.i32(n);
    out.set(src.subarray(0, n));
    return out;
  }

  /**
   * Byte offset of a copy of `src` (a weight vector the kernels read by offset) that lasts as long
   * as the arena: made on first use, in a block of its own, so later calls copy nothing. A first
   * use during a call may grow the memory; the caller's `intact` check then repeats the call.
   */
  constant(src: FloatArray): number {
    let offset = this.constants.get(src);
    if (offset === undefined) {
      // Padded by one vector: the SIMD kernels may read that far past the end.
      offset = this.kernels.allocate(src.byteLength + 16);
      const view = src instanceof Float32Array
        ? new Float32Array(this.kernels.memoryBuffer, offset, src.length)
        : new Float64Array(this.kernels.memoryBuffer, offset, src.length);
      view.set(src);
      this.constants.set(src, offset);
    }
    return offset;
  }

  /** Free the constants' copies (the weights they held changed), keeping the work block. */
  clearConstants(): void {
    for (const offset of this.constants.values()) this.kernels.free(offset);
    this.constants.clear();
  }

  /** Give the blocks back to the kernels' memory. */
  dispose(): void {
    if (this.block >= 0) this.kernels.free(this.block);
    this.block = -1;
    this.capacity = 0;
    for (const offset of this.constants.values()) this.kernels.free(offset);
    this.constants.clear();
  }
}

/** How one fused call runs in an arena: what `runInArena` needs of its caller. */
export interface ArenaCall<T> {
  /** Before each try: reserve kernel scratch, so that nothing grows the memory mid-call. */
  prepare(): void;
  /** The computation, taking its work arrays from the arena. */
  run(): T;
  /**
   * The whole call without WASM (TypeScript kernels, JS arrays), for work that exceeds what
   * WASM can address.
   */
  withoutWasm(): T;
  /**
   * Overflow mode (see Arena.overflow): a full block hands out JS arrays and the call is redone
   * once the block has grown, so that a result never depends on the arena's history. Otherwise
   * a full block throws ArenaFull and the call starts over.
   */
  overflow: boolean;
  /** Bytes to grow a full block to at least (beside what the failed array asked for). */
  estimate?(): number;
  /** Tries before giving up on memory that keeps moving. */
  attempts: number;
  /** Names the caller in the error that gives up. */
  what: string;
}

/**
 * Run a fused call in `arena`, growing it and starting over when it was too small or the WASM
 * memory moved under the call (stale views: the numbers are not trusted), and falling back to
 * `withoutWasm` when the memory cannot grow any more. The one retry driver of the fused
 * inference and training paths.
 */
export function runInArena<T>(arena: Arena, call: ArenaCall<T>): T {
  for (let attempt = 0; ; attempt++) {
    let outOfMemory = false;
    try {
      call.prepare();
      arena.begin(call.overflow);
      const out = call.run();
      const intact = arena.intact, overflow = arena.overflow;
      arena.end();
      // Too small a block in overflow mode: the call ran partly on JS arrays. Its numbers are
      // right but rounded differently from the all-WASM kernels, so grow and redo it.
      if (overflow > 0) {
        arena.grow(overflow);
        if (attempt < 3) continue;
      }
      if (intact) return out;
      // Something grew the memory mid-call (a first use of some kernel scratch): views went
      // stale; the growth does not repeat.
    } catch (e) {
      if (isMemoryLimit(e)) {
        outOfMemory = true;
      } else {
        if (attempt > call.attempts) throw e;
        if (e instanceof ArenaFull) {
          arena.end();
          try {
            arena.grow(Math.max(e.bytesWanted, call.estimate ? call.estimate() : 0));
          } catch (g) {
            if (!isMemoryLimit(g)) throw g;
            outOfMemory = true;
          }
        } else if (arena.intact) {
          throw e;
        } // else: a stale view threw; start over
      }
    } finally {
      arena.end();
    }
    if (outOfMemory) return call.withoutWasm();
    if (attempt > call.attempts) throw new OreoError(`${call.what}: work memory kept moving; giving up`);
  }
}

/**
 * `run` on the TypeScript kernels (no WASM anywhere), as a call falls back to when its work
 * does not fit WASM memory; the backend is restored afterwards.
 */
export function withTypeScriptKernels<T>(run: () => T): T {
  const previous = kernelBackend();
  setKernelBackend('js');
  try {
    return run();
  } finally {
    setKernelBackend(previous);
  }
}

/** WebAssembly.Memory.grow past the engine's or the module's maximum throws a RangeError. */
export function isMemoryLimit(e: unknown): boolean {
  return e instanceof RangeError && /memory/i.test(e.message);
}
