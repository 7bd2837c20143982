/**
 * SiLU and its derivative over a buffer, through the engine's kernels: WASM SIMD where it loaded
 * (the exponential there costs a fraction of Math.exp's out-of-line call, which matters for the
 * ~10⁶ distance-filter activations of a large model), the TypeScript twin otherwise.
 */
import type { FloatArray } from '../../engine/kernels/index.js';
import { siluJs } from '../../engine/kernels/silu.js';
import { wasmKernels } from '../../engine/kernels/wasm.js';

/** Below this many elements the copies into WASM memory cost more than they save. */
const WASM_MIN = 64;

/** y[i] = silu(x[i]), d[i] = silu′(x[i]) for i < n; y may be x itself. */
export function siluWithDerivative(x: FloatArray, y: FloatArray, d: FloatArray, n: number): void {
  if (n <= 0) return;
  const w = n >= WASM_MIN && x.constructor === y.constructor && y.constructor === d.constructor ? wasmKernels() : null;
  if (w) w.silu(x, y, d, null, n);
  else siluJs(x, y, d, null, n);
}
