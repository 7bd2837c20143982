/**
 * Composite functions built from the primitive ops; their derivatives (of any order the
 * primitives support) come from the ops themselves.
 */
import { Tensor } from './tensor.js';
import { add, matmul, mul, mulScalar, reshape, sub, sum, addScalar, reciprocalSafe, sqrtSafe, square } from './ops.js';

/** y = x·Wᵀ + b over the last axis of x; W is [out, in] as in PyTorch's nn.Linear. */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  const inF = weight.shape[1];
  const outF = weight.shape[0];
  if (x.shape[x.rank - 1] !== inF) {
    throw new Error(`linear: input has ${x.shape[x.rank - 1]} features, weight expects ${inF}`);
  }
  const rows = x.size / inF;
  let y = matmul(reshape(x, [rows, inF]), weight, false, true);
  if (bias) y = add(y, bias);
  return reshape(y, [...x.shape.slice(0, -1), outF]);
}

/** Mean over one axis, keeping it (size 1) for broadcasting. */
export function meanKeep(x: Tensor, axis: number): Tensor {
  const n = x.shape[axis < 0 ? x.rank + axis : axis];
  return mulScalar(sum(x, axis, true), 1 / n);
}

/** LayerNorm over the last axis, as torch.nn.LayerNorm (biased variance, eps inside the root). */
export function layerNorm(x: Tensor, weight: Tensor, bias: Tensor, eps = 1e-5): Tensor {
  const centered = sub(x, meanKeep(x, -1));
  const variance = meanKeep(square(centered), -1);
  const inv = reciprocalSafe(sqrtSafe(addScalar(variance, eps)));
  return add(mul(mul(centered, inv), weight), bias);
}
