/**
 * NumPy-style broadcasting for elementwise binary ops, and the reduction that undoes it (the
 * gradient of a broadcast input is the output gradient summed over the broadcast axes).
 *
 * Speed matters here (these loops run dozens of times per force call), so: adjacent axes that
 * broadcast the same way are merged into one, leaving the longest possible inner loop, and
 * each op has its own inner loop (no per-element callback).
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

/** Merge adjacent axes whose strides chain in every operand; drop size-1 axes. */
function coalesce(shape: readonly number[], strides: number[][]): { shape: number[]; strides: number[][] } {
  const dims: number[] = [];
  const st: number[][] = strides.map(() => []);
  for (let ax = 0; ax < shape.length; ax++) {
    if (shape[ax] === 1) continue;
    const last = dims.length - 1;
    if (last >= 0 && strides.every((s, k) => st[k][last] === s[ax] * shape[ax])) {
      dims[last] *= shape[ax];
      strides.forEach((s, k) => (st[k][last] = s[ax]));
    } else {
      dims.push(shape[ax]);
      strides.forEach((s, k) => st[k].push(s[ax]));
    }
  }
  if (dims.length === 0) {
    dims.push(1);
    st.forEach((s) => s.push(0));
  }
  return { shape: dims, strides: st };
}

export enum BinaryOp {
  Add,
  Sub,
  Mul,
  Div,
  Copy,
}

function inner(op: BinaryOp, a: FloatArray, pa: number, ia: number, b: FloatArray, pb: number, ib: number, out: FloatArray, o: number, n: number): void {
  switch (op) {
    case BinaryOp.Add:
      for (let j = 0; j < n; j++, pa += ia, pb += ib) out[o + j] = a[pa] + b[pb];
      return;
    case BinaryOp.Sub:
      for (let j = 0; j < n; j++, pa += ia, pb += ib) out[o + j] = a[pa] - b[pb];
      return;
    case BinaryOp.Mul:
      for (let j = 0; j < n; j++, pa += ia, pb += ib) out[o + j] = a[pa] * b[pb];
      return;
    case BinaryOp.Div:
      for (let j = 0; j < n; j++, pa += ia, pb += ib) out[o + j] = a[pa] / b[pb];
      return;
    case BinaryOp.Copy:
      for (let j = 0; j < n; j++, pa += ia) out[o + j] = a[pa];
      return;
  }
}

/** out = a ⊙ b over the broadcast index space (out is contiguous with shape outShape). */
export function broadcastBinary(
  op: BinaryOp,
  a: FloatArray,
  aShape: readonly number[],
  b: FloatArray,
  bShape: readonly number[],
  out: FloatArray,
  outShape: readonly number[],
): void {
  const n = out.length;
  if (n === 0) return;
  if (a.length === n && b.length === n) {
    inner(op, a, 0, 1, b, 0, 1, out, 0, n);
    return;
  }
  const c = coalesce(outShape, [alignedStrides(aShape, outShape), alignedStrides(bShape, outShape)]);
  const rank = c.shape.length;
  const [sa, sb] = c.strides;
  const len = c.shape[rank - 1];
  const ia = sa[rank - 1];
  const ib = sb[rank - 1];
  const outer = n / len;
  if (rank <= 2) {
    // Rows of a matrix: no odometer needed.
    const ra = rank === 2 ? sa[0] : 0;
    const rb = rank === 2 ? sb[0] : 0;
    for (let r = 0, o = 0; r < outer; r++, o += len) inner(op, a, r * ra, ia, b, r * rb, ib, out, o, len);
    return;
  }
  if (rank === 3) {
    const [n0, n1] = c.shape;
    let o = 0;
    for (let i = 0; i < n0; i++) {
      for (let j = 0; j < n1; j++, o += len) inner(op, a, i * sa[0] + j * sa[1], ia, b, i * sb[0] + j * sb[1], ib, out, o, len);
    }
    return;
  }
  const idx = new Array(rank).fill(0);
  let offA = 0;
  let offB = 0;
  for (let r = 0, o = 0; r < outer; r++, o += len) {
    inner(op, a, offA, ia, b, offB, ib, out, o, len);
    for (let ax = rank - 2; ax >= 0; ax--) {
      idx[ax]++;
      offA += sa[ax];
      offB += sb[ax];
      if (idx[ax] < c.shape[ax]) break;
      offA -= sa[ax] * c.shape[ax];
      offB -= sb[ax] * c.shape[ax];
      idx[ax] = 0;
    }
  }
}

/** Sum `src` (of shape srcShape) down to `shape`, which srcShape is a broadcast of. */
export function reduceTo(src: FloatArray, srcShape: readonly number[], out: FloatArray, shape: readonly number[]): void {
  out.fill(0);
  const n = src.length;
  if (n === 0) return;
  if (out.length === 1) {
    let s = 0;
    for (let i = 0; i < n; i++) s += src[i];
    out[0] = s;
    return;
  }
  const contiguous = alignedStrides(srcShape, srcShape);
  const c = coalesce(srcShape, [alignedStrides(shape, srcShape), contiguous]);
  const rank = c.shape.length;
  const [so] = c.strides;
  const len = c.shape[rank - 1];
  const io = so[rank - 1];
  const outer = n / len;
  const idx = new Array(rank).fill(0);
  let off = 0;
  let p = 0;
  for (let r = 0; r < outer; r++) {
    if (io === 0) {
      let s = 0;
      for (let j = 0; j < len; j++) s += src[p++];
      out[off] += s;
    } else {
      for (let j = 0, q = off; j < len; j++, q += io) out[q] += src[p++];
    }
    for (let ax = rank - 2; ax >= 0; ax--) {
      idx[ax]++;
      off += so[ax];
      if (idx[ax] < c.shape[ax]) break;
      off -= so[ax] * c.shape[ax];
      idx[ax] = 0;
    }
  }
}
