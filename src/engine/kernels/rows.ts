/**
 * Row gather and scatter-add over an index list: how per-atom features reach the edges
 * (x[j] for every edge i←j) and how edge messages are summed back onto atoms.
 *
 * Plain TypeScript only. These move memory and do almost no arithmetic, so a WASM version would
 * spend much of its time copying operands into WASM memory and back. V8 runs a simple nested
 * copy loop at only ~2.4 ns an element here, so wide rows are copied with TypedArray.set (a
 * memcpy, ~0.5 ns an element including the subarray view) and the adds are unrolled by four
 * (~1.4 ns an element).
 */
import type { FloatArray } from './gemm-js.js';

export type IndexArray = Int32Array | Uint32Array;

// From this row width on, creating a subarray view per row costs less than the element loop.
const SET_MIN_COLS = 24;

function badIndex(what: string, e: number, r: number, rows: number): never {
  throw new RangeError(`${what}: index ${e} is ${r}, outside 0 … ${rows - 1}`);
}

/**
 * out[e, :] = x[idx[e], :] for e < count; x has `rows` rows of `cols` values, out has ≥ count.
 * An index outside 0 … rows−1 throws (typed arrays would otherwise read NaN silently).
 */
export function gatherRows(x: FloatArray, cols: number, idx: IndexArray, out: FloatArray, count: number = idx.length): void {
  const rows = Math.floor(x.length / cols);
  const sameType = out instanceof Float32Array === x instanceof Float32Array;
  for (let e = 0; e < count; e++) {
    const r = idx[e];
    if (!(r >= 0 && r < rows)) badIndex('gatherRows', e, r, rows);
    const s = r * cols;
    const d = e * cols;
    if (cols >= SET_MIN_COLS && sameType) {
      out.set(x.subarray(s, s + cols), d);
    } else {
      for (let c = 0; c < cols; c++) out[d + c] = x[s + c];
    }
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
    let c = 0;
    for (; c + 3 < cols; c += 4) {
      out[d + c] += x[s + c];
      out[d + c + 1] += x[s + c + 1];
      out[d + c + 2] += x[s + c + 2];
      out[d + c + 3] += x[s + c + 3];
    }
    for (; c < cols; c++) out[d + c] += x[s + c];
  }
}
