/**
 * NumPy-style broadcasting for elementwise binary ops, and the reduction that undoes it (the
 * gradient of a broadcast input is the output gradient summed over the broadcast axes).
 */
import { FloatArray } from './tensor.js';

export function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(`shapes [${a.join(',')}] and [${b.join(',')}] cannot be broadcast together`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Element strides of `shape` aligned to `outShape`, with 0 on broadcast axes. */
function alignedStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const n = outShape.length;
  const strides = new Array(n).fill(0);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const axis = n - shape.length + i;
    strides[axis] = shape[i] === 1 ? 0 : s;
    s *= shape[i];
  }
  return strides;
}

export type Binary = (x: number, y: number) => number;

/** out[i] = f(a[ia], b[ib]) over the broadcast index space. */
export function broadcastBinary(
  a: FloatArray,
  aShape: readonly number[],
  b: FloatArray,
  bShape: readonly number[],
  out: FloatArray,
  outShape: readonly number[],
  f: Binary,
): void {
  const n = out.length;
  if (a.length === n && b.length === n) {
    for (let i = 0; i < n; i++) out[i] = f(a[i], b[i]);
    return;
  }
  if (b.length === 1) {
    const y = b[0];
    if (a.length === n) {
      for (let i = 0; i < n; i++) out[i] = f(a[i], y);
      return;
    }
  }
  if (a.length === 1 && b.length === n) {
    const x = a[0];
    for (let i = 0; i < n; i++) out[i] = f(x, b[i]);
    return;
  }
  const rank = outShape.length;
  if (rank === 0) {
    out[0] = f(a[0], b[0]);
    return;
  }
  const sa = alignedStrides(aShape, outShape);
  const sb = alignedStrides(bShape, outShape);
  const inner = outShape[rank - 1];
  const ia = sa[rank - 1];
  const ib = sb[rank - 1];
  const outer = n / inner;
  const idx = new Array(rank - 1).fill(0);
  let offA = 0;
  let offB = 0;
  let o = 0;
  for (let r = 0; r < outer; r++) {
    let pa = offA;
    let pb = offB;
    for (let j = 0; j < inner; j++) {
      out[o++] = f(a[pa], b[pb]);
      pa += ia;
      pb += ib;
    }
    // Advance the odometer over the outer axes.
    for (let ax = rank - 2; ax >= 0; ax--) {
      idx[ax]++;
      offA += sa[ax];
      offB += sb[ax];
      if (idx[ax] < outShape[ax]) break;
      offA -= sa[ax] * outShape[ax];
      offB -= sb[ax] * outShape[ax];
      idx[ax] = 0;
    }
  }
}

/** Sum `src` (of shape srcShape) down to `shape`, which srcShape is a broadcast of. */
export function reduceTo(
  src: FloatArray,
  srcShape: readonly number[],
  out: FloatArray,
  shape: readonly number[],
): void {
  out.fill(0);
  const n = src.length;
  if (out.length === 1) {
    let s = 0;
    for (let i = 0; i < n; i++) s += src[i];
    out[0] = s;
    return;
  }
  const rank = srcShape.length;
  const so = alignedStrides(shape, srcShape);
  const inner = srcShape[rank - 1];
  const io = so[rank - 1];
  const outer = n / inner;
  const idx = new Array(rank - 1).fill(0);
  let off = 0;
  let p = 0;
  for (let r = 0; r < outer; r++) {
    let q = off;
    if (io === 0) {
      let s = 0;
      for (let j = 0; j < inner; j++) s += src[p++];
      out[q] += s;
    } else {
      for (let j = 0; j < inner; j++) {
        out[q] += src[p++];
        q += io;
      }
    }
    for (let ax = rank - 2; ax >= 0; ax--) {
      idx[ax]++;
      off += so[ax];
      if (idx[ax] < srcShape[ax]) break;
      off -= so[ax] * srcShape[ax];
      idx[ax] = 0;
    }
  }
}
