/**
 * Row gather and scatter-add over an index list: how per-atom features reach the edges
 * (x[j] for every edge i←j) and how edge messages are summed back onto atoms.
 *
 * Plain TypeScript only. These move memory and do almost no arithmetic, so a WASM version would
 * spend more time copying its operands into WASM memory and back than the loop takes here
 * (bench/kernels.ts measures both sides).
 */
import type { FloatArray } from './gemm-js.js';

export type IndexArray = Int32Array | Uint32Array;

function badIndex(what: string, e: number, r: number, rows: number): never {
  throw new RangeError(`${what}: index ${e} is ${r}, outside 0 … ${rows - 1}`);
}

/**
 * out[e, :] = x[idx[e], :] for e < count; x has `rows` rows of `cols` values, out has ≥ count.
 * An index outside 0 … rows−1 throws (typed arrays would otherwise read NaN silently).
 */
export function gatherRows(x: FloatArray, cols: number, idx: IndexArray, out: FloatArray, count: number = idx.length): void {
  const rows = Math.floor(x.length / cols);
  for (let e = 0; e < count; e++) {
    const r = idx[e];
    if (!(r >= 0 && r < rows)) badIndex('gatherRows', e, r, rows);
    const s = r * cols;
    const d = e * cols;
    for (let c = 0; c < cols; c++) out[d + c] = x[s + c];
  }
}

/**
 * out[idx[e], :] += x[e, :] for e < count (several e may share a target row; their rows are
 * added in order of e). An index outside out's rows throws.
 */
export function scatterAddRows(x: FloatArray, cols: number, idx: IndexArray, out: FloatArray, count: number = idx.length): void {
  const rows = Math.floor(out.length / cols);
  for (let e = 0; e < count; e++) {
    const r = idx[e];
    if (!(r >= 0 && r < rows)) badIndex('scatterAddRows', e, r, rows);
    const d = r * cols;
    const s = e * cols;
    for (let c = 0; c < cols; c++) out[d + c] += x[s + c];
  }
}
