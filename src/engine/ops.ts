/**
 * The primitive ops. Each is defined once, here: its forward computation and its backward,
 * the latter written with these same ops so that gradients are differentiable again
 * (create-graph). Composite functions (linear, layer norm, …) live in functional.ts and get
 * their derivatives for free.
 */
import { Tensor, FloatArray, DType, allocate, sizeOf, sameShape } from './tensor.js';
import { isRecording, registerOps } from './autograd.js';
import { broadcastBinary, broadcastShape, reduceTo, BinaryOp } from './broadcast.js';
import { gemm, gatherRows, scatterAddRows, silu as siluKernel } from './kernels/index.js';
import { UnaryOp, applyUnary } from './unary.js';

// ---------------------------------------------------------------------------------------------
// Recording

function record(out: Tensor, op: string, inputs: Tensor[], backward: (g: Tensor) => (Tensor | null)[]): Tensor {
  if (!isRecording()) return out;
  let any = false;
  for (const t of inputs) if (t.requiresGrad) any = true;
  if (!any) return out;
  out.requiresGrad = true;
  out.node = { op, inputs, backward };
  return out;
}

function checkDtype(op: string, a: Tensor, b: Tensor): DType {
  if (a.dtype !== b.dtype) throw new Error(`${op}: mixing ${a.dtype} and ${b.dtype} tensors`);
  return a.dtype;
}

function make(dtype: DType, shape: readonly number[]): Tensor {
  return new Tensor(allocate(dtype, sizeOf(shape)), shape);
}

// ---------------------------------------------------------------------------------------------
// Constants

export function zerosLike(t: Tensor): Tensor {
  return make(t.dtype, t.shape);
}

export function onesLike(t: Tensor): Tensor {
  const o = make(t.dtype, t.shape);
  o.data.fill(1);
  return o;
}

/** A constant (no gradient) of the given dtype. */
export function constant(values: ArrayLike<number>, shape: readonly number[], dtype: DType): Tensor {
  const data = allocate(dtype, sizeOf(shape));
  data.set(values);
  return new Tensor(data, shape);
}

// ---------------------------------------------------------------------------------------------
// Broadcasting elementwise binary ops

function binary(name: string, op: BinaryOp, a: Tensor, b: Tensor): Tensor {
  const dtype = checkDtype(name, a, b);
  const shape = sameShape(a.shape, b.shape) ? a.shape : broadcastShape(a.shape, b.shape);
  const out = make(dtype, shape);
  broadcastBinary(op, a.data, a.shape, b.data, b.shape, out.data, shape);
  return out;
}

/** Sum a gradient down to the shape of the input it flows into (undoes broadcasting). */
export function sumTo(x: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(x.shape, shape)) return x;
  const out = make(x.dtype, shape);
  reduceTo(x.data, x.shape, out.data, shape);
  return record(out, 'sumTo', [x], (g) => [broadcastTo(g, x.shape)]);
}

export function broadcastTo(x: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(x.shape, shape)) return x;
  const full = broadcastShape(x.shape, shape);
  if (!sameShape(full, shape)) throw new Error(`cannot broadcast [${x.shape}] to [${shape}]`);
  const out = make(x.dtype, shape);
  broadcastBinary(BinaryOp.Copy, x.data, x.shape, x.data, [], out.data, shape);
  return record(out, 'broadcastTo', [x], (g) => [sumTo(g, x.shape)]);
}

export function add(a: Tensor, b: Tensor): Tensor {
  const out = binary('add', BinaryOp.Add, a, b);
  return record(out, 'add', [a, b], (g) => [sumTo(g, a.shape), sumTo(g, b.shape)]);
}

export function sub(a: Tensor, b: Tensor): Tensor {
  const out = binary('sub', BinaryOp.Sub, a, b);
  return record(out, 'sub', [a, b], (g) => [sumTo(g, a.shape), b.requiresGrad ? sumTo(neg(g), b.shape) : null]);
}

export function mul(a: Tensor, b: Tensor): Tensor {
  const out = binary('mul', BinaryOp.Mul, a, b);
  return record(out, 'mul', [a, b], (g) => [
    a.requiresGrad ? sumTo(mul(g, b), a.shape) : null,
    b.requiresGrad ? sumTo(mul(g, a), b.shape) : null,
  ]);
}

export function div(a: Tensor, b: Tensor): Tensor {
  const out = binary('div', BinaryOp.Div, a, b);
  return record(out, 'div', [a, b], (g) => [
    a.requiresGrad ? sumTo(div(g, b), a.shape) : null,
    b.requiresGrad ? sumTo(neg(div(mul(g, a), mul(b, b))), b.shape) : null,
  ]);
}

// ---------------------------------------------------------------------------------------------
// Elementwise unary ops

function map(x: Tensor, op: UnaryOp, c = 0): Tensor {
  const out = make(x.dtype, x.shape);
  applyUnary(op, x.data, out.data, c);
  return out;
}

export function neg(x: Tensor): Tensor {
  return record(map(x, UnaryOp.Neg), 'neg', [x], (g) => [neg(g)]);
}

export function mulScalar(x: Tensor, c: number): Tensor {
  return record(map(x, UnaryOp.MulScalar, c), 'mulScalar', [x], (g) => [mulScalar(g, c)]);
}

export function addScalar(x: Tensor, c: number): Tensor {
  return record(map(x, UnaryOp.AddScalar, c), 'addScalar', [x], (g) => [g]);
}

export function square(x: Tensor): Tensor {
  return record(map(x, UnaryOp.Square), 'square', [x], (g) => [mul(g, mulScalar(x, 2))]);
}

export function exp(x: Tensor): Tensor {
  const out = map(x, UnaryOp.Exp);
  return record(out, 'exp', [x], (g) => [mul(g, out)]);
}

export function log(x: Tensor): Tensor {
  return record(map(x, UnaryOp.Log), 'log', [x], (g) => [div(g, x)]);
}

export function cos(x: Tensor): Tensor {
  return record(map(x, UnaryOp.Cos), 'cos', [x], (g) => [neg(mul(g, sin(x)))]);
}

export function sin(x: Tensor): Tensor {
  return record(map(x, UnaryOp.Sin), 'sin', [x], (g) => [mul(g, cos(x))]);
}

/** 1/x, and 0 where x = 0: the gradient of a norm at a zero vector is taken as 0, not NaN
 * (TorchMD-Net masks those atoms out of the norm for the same reason). */
export function reciprocalSafe(x: Tensor): Tensor {
  const out = map(x, UnaryOp.ReciprocalSafe);
  return record(out, 'reciprocalSafe', [x], (g) => {
    const r = reciprocalSafe(x);
    return [neg(mul(g, mul(r, r)))];
  });
}

/** √x with a zero gradient at x = 0 (see reciprocalSafe). */
export function sqrtSafe(x: Tensor): Tensor {
  const out = map(x, UnaryOp.SqrtSafe);
  return record(out, 'sqrtSafe', [x], (g) => [mul(g, mulScalar(reciprocalSafe(out), 0.5))]);
}

export function sqrt(x: Tensor): Tensor {
  const out = map(x, UnaryOp.Sqrt);
  return record(out, 'sqrt', [x], (g) => [div(mulScalar(g, 0.5), out)]);
}

export function sigmoid(x: Tensor): Tensor {
  const out = map(x, UnaryOp.Sigmoid);
  return record(out, 'sigmoid', [x], (g) => [mul(g, mul(out, addScalar(neg(out), 1)))]);
}

// SiLU and its first two derivatives are fused primitives: the force path (first derivative) and
// the force-loss gradient (second derivative) each cost one pass instead of a chain of ops.
export function silu(x: Tensor): Tensor {
  const out = make(x.dtype, x.shape);
  siluKernel(x.data, out.data, null, null, x.size);
  return record(out, 'silu', [x], (g) => [mulSiluGrad(g, x)]);
}

/** g · silu'(x) in one pass: silu's backward. Differentiable in both g and x. */
function mulSiluGrad(g: Tensor, x: Tensor): Tensor {
  const out = make(x.dtype, x.shape);
  siluKernel(x.data, null, out.data, null, x.size);
  const gd = g.data;
  const od = out.data;
  for (let i = 0; i < od.length; i++) od[i] *= gd[i];
  return record(out, 'mulSiluGrad', [g, x], (gg) => [
    g.requiresGrad ? mulSiluGrad(gg, x) : null,
    x.requiresGrad ? mul(mul(gg, g), siluGrad2(x)) : null,
  ]);
}

/** d silu / dx, as an op. */
export function siluGrad(x: Tensor): Tensor {
  return record(map(x, UnaryOp.Silu1), 'siluGrad', [x], (g) => [mul(g, siluGrad2(x))]);
}

function siluGrad2(x: Tensor): Tensor {
  return record(map(x, UnaryOp.Silu2), 'siluGrad2', [x], (g) => [mul(g, siluGrad3(x))]);
}

function siluGrad3(x: Tensor): Tensor {
  return record(map(x, UnaryOp.Silu3), 'siluGrad3', [x], () => {
    throw new Error('silu: derivatives beyond the third are not implemented');
  });
}

// ---------------------------------------------------------------------------------------------
// Reductions

/** Sum over one axis (negative counts from the end). */
export function sum(x: Tensor, axis: number, keepDim = false): Tensor {
  const rank = x.shape.length;
  const ax = axis < 0 ? rank + axis : axis;
  if (ax < 0 || ax >= rank) throw new Error(`sum: axis ${axis} out of range for [${x.shape}]`);
  const outer = sizeOf(x.shape.slice(0, ax));
  const n = x.shape[ax];
  const inner = sizeOf(x.shape.slice(ax + 1));
  const keptShape = x.shape.map((d, i) => (i === ax ? 1 : d));
  const outShape = keepDim ? keptShape : x.shape.filter((_, i) => i !== ax);
  const out = make(x.dtype, outShape);
  const src = x.data;
  const dst = out.data;
  for (let o = 0; o < outer; o++) {
    const base = o * n * inner;
    const ob = o * inner;
    for (let k = 0; k < n; k++) {
      const row = base + k * inner;
      for (let i = 0; i < inner; i++) dst[ob + i] += src[row + i];
    }
  }
  return record(out, 'sum', [x], (g) => [broadcastTo(reshape(g, keptShape), x.shape)]);
}

export function sumAll(x: Tensor): Tensor {
  const out = make(x.dtype, []);
  let s = 0;
  const d = x.data;
  for (let i = 0; i < d.length; i++) s += d[i];
  out.data[0] = s;
  return record(out, 'sumAll', [x], (g) => [broadcastTo(reshape(g, x.shape.map(() => 1)), x.shape)]);
}

// ---------------------------------------------------------------------------------------------
// Shape ops

/** Same values, new shape (shares storage: ops never write into their inputs). */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  let s = [...shape];
  const free = s.indexOf(-1);
  if (free >= 0) {
    const known = sizeOf(s.filter((_, i) => i !== free));
    s[free] = x.size / known;
  }
  if (sizeOf(s) !== x.size) throw new Error(`reshape: [${x.shape}] has ${x.size} values, not [${s}]`);
  if (sameShape(s, x.shape)) return x;
  const out = new Tensor(x.data, s);
  return record(out, 'reshape', [x], (g) => [reshape(g, x.shape)]);
}

/** Reorder axes (copies). */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  const rank = x.shape.length;
  if (perm.length !== rank) throw new Error(`permute: need ${rank} axes, got [${perm}]`);
  const outShape = perm.map((p) => x.shape[p]);
  const inStrides = new Array(rank);
  let s = 1;
  for (let i = rank - 1; i >= 0; i--) {
    inStrides[i] = s;
    s *= x.shape[i];
  }
  const strides = perm.map((p) => inStrides[p]);
  const out = make(x.dtype, outShape);
  const src = x.data;
  const dst = out.data;
  const idx = new Array(rank).fill(0);
  let off = 0;
  for (let o = 0; o < dst.length; o++) {
    dst[o] = src[off];
    for (let ax = rank - 1; ax >= 0; ax--) {
      idx[ax]++;
      off += strides[ax];
      if (idx[ax] < outShape[ax]) break;
      off -= strides[ax] * outShape[ax];
      idx[ax] = 0;
    }
  }
  const inverse = new Array(rank);
  perm.forEach((p, i) => (inverse[p] = i));
  return record(out, 'permute', [x], (g) => [permute(g, inverse)]);
}

function axisLayout(shape: readonly number[], axis: number): [number, number, number, number] {
  const rank = shape.length;
  const ax = axis < 0 ? rank + axis : axis;
  if (ax < 0 || ax >= rank) throw new Error(`axis ${axis} out of range for [${shape}]`);
  return [ax, sizeOf(shape.slice(0, ax)), shape[ax], sizeOf(shape.slice(ax + 1))];
}

/** The slice [start, start+length) along an axis (copies). */
export function narrow(x: Tensor, axis: number, start: number, length: number): Tensor {
  const [ax, outer, n, inner] = axisLayout(x.shape, axis);
  if (start < 0 || start + length > n) throw new Error(`narrow: [${start}, ${start + length}) outside axis of ${n}`);
  const outShape = x.shape.map((d, i) => (i === ax ? length : d));
  const out = make(x.dtype, outShape);
  const block = length * inner;
  for (let o = 0; o < outer; o++) {
    const from = (o * n + start) * inner;
    out.data.set(x.data.subarray(from, from + block), o * block);
  }
  return record(out, 'narrow', [x], (g) => [padAxis(g, ax, start, n)]);
}

/** Inverse of narrow: place x at [start, start+len) of a zero tensor whose axis has size n. */
export function padAxis(x: Tensor, axis: number, start: number, n: number): Tensor {
  const [ax, outer, len, inner] = axisLayout(x.shape, axis);
  const outShape = x.shape.map((d, i) => (i === ax ? n : d));
  const out = make(x.dtype, outShape);
  const block = len * inner;
  for (let o = 0; o < outer; o++) {
    out.data.set(x.data.subarray(o * block, (o + 1) * block), (o * n + start) * inner);
  }
  return record(out, 'padAxis', [x], (g) => [narrow(g, ax, start, len)]);
}

/** Split an axis into equal contiguous chunks of `size`. */
export function split(x: Tensor, size: number, axis: number): Tensor[] {
  const [ax, , n] = axisLayout(x.shape, axis);
  if (n % size !== 0) throw new Error(`split: axis of ${n} is not a multiple of ${size}`);
  const parts: Tensor[] = [];
  for (let s = 0; s < n; s += size) parts.push(narrow(x, ax, s, size));
  return parts;
}

export function concat(xs: Tensor[], axis: number): Tensor {
  if (xs.length === 0) throw new Error('concat: nothing to join');
  const first = xs[0];
  const [ax, outer, , inner] = axisLayout(first.shape, axis);
  let total = 0;
  for (const t of xs) {
    if (t.shape.length !== first.shape.length || t.shape.some((d, i) => i !== ax && d !== first.shape[i])) {
      throw new Error(`concat: shapes [${first.shape}] and [${t.shape}] differ off axis ${ax}`);
    }
    checkDtype('concat', first, t);
    total += t.shape[ax];
  }
  const outShape = first.shape.map((d, i) => (i === ax ? total : d));
  const out = make(first.dtype, outShape);
  const rowOut = total * inner;
  let offset = 0;
  for (const t of xs) {
    const block = t.shape[ax] * inner;
    for (let o = 0; o < outer; o++) {
      out.data.set(t.data.subarray(o * block, (o + 1) * block), o * rowOut + offset * inner);
    }
    offset += t.shape[ax];
  }
  const starts: number[] = [];
  let s = 0;
  for (const t of xs) {
    starts.push(s);
    s += t.shape[ax];
  }
  return record(out, 'concat', xs, (g) => xs.map((t, i) => (t.requiresGrad ? narrow(g, ax, starts[i], t.shape[ax]) : null)));
}

// ---------------------------------------------------------------------------------------------
// Gather / scatter over the leading axis: how messages move along the edges of a graph

function checkIndex(op: string, index: Int32Array, n: number): void {
  for (let e = 0; e < index.length; e++) {
    const i = index[e];
    if (i < 0 || i >= n) throw new Error(`${op}: index ${i} at position ${e} outside [0, ${n})`);
  }
}

/** out[e, …] = x[index[e], …] */
export function gather(x: Tensor, index: Int32Array): Tensor {
  const n = x.shape[0];
  checkIndex('gather', index, n);
  const row = x.size / n;
  const out = make(x.dtype, [index.length, ...x.shape.slice(1)]);
  const src = x.data;
  const dst = out.data;
  gatherRows(src, row, index, dst);
  return record(out, 'gather', [x], (g) => [scatterAdd(g, index, n)]);
}

/** out[index[e], …] += x[e, …], with n rows out. */
export function scatterAdd(x: Tensor, index: Int32Array, n: number): Tensor {
  if (index.length !== x.shape[0]) throw new Error(`scatterAdd: ${index.length} indices for ${x.shape[0]} rows`);
  checkIndex('scatterAdd', index, n);
  const row = x.shape[0] === 0 ? sizeOf(x.shape.slice(1)) : x.size / x.shape[0];
  const out = make(x.dtype, [n, ...x.shape.slice(1)]);
  const src = x.data;
  const dst = out.data;
  scatterAddRows(src, row, index, dst);
  return record(out, 'scatterAdd', [x], (g) => [gather(g, index)]);
}

// ---------------------------------------------------------------------------------------------
// Matrix multiply

/** op(a)·op(b) for 2-D tensors; op is a transpose when the flag is set. */
export function matmul(a: Tensor, b: Tensor, transA = false, transB = false): Tensor {
  const dtype = checkDtype('matmul', a, b);
  if (a.rank !== 2 || b.rank !== 2) throw new Error(`matmul: need 2-D tensors, got [${a.shape}] and [${b.shape}]`);
  const [M, K] = transA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  const [K2, N] = transB ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
  if (K !== K2) throw new Error(`matmul: inner sizes differ, [${a.shape}]${transA ? 'ᵀ' : ''} · [${b.shape}]${transB ? 'ᵀ' : ''}`);
  const out = make(dtype, [M, N]);
  gemm(transA, transB, M, N, K, a.data, b.data, out.data, false);
  return record(out, 'matmul', [a, b], (g) => {
    let ga: Tensor | null = null;
    let gb: Tensor | null = null;
    if (a.requiresGrad) {
      if (!transA) ga = transB ? matmul(g, b) : matmul(g, b, false, true);
      else ga = transB ? matmul(b, g, true, true) : matmul(b, g, false, true);
    }
    if (b.requiresGrad) {
      if (!transB) gb = transA ? matmul(a, g) : matmul(a, g, true, false);
      else gb = transA ? matmul(g, a, true, true) : matmul(g, a, true, false);
    }
    return [ga, gb];
  });
}

registerOps({ add, onesLike });

export type { FloatArray };
