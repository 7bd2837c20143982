/**
 * Tensor: a flat typed array with a shape, plus (when it takes part in differentiation) the node
 * of the graph that produced it. There is no global tape: the graph is reachable only from the
 * tensors that hold it, so it is garbage-collected with them and memory does not grow over
 * 10⁵ force calls.
 */

export type DType = 'float32' | 'float64';
export type FloatArray = Float32Array | Float64Array;

/** How a tensor was made: its inputs, and how to turn the gradient of the output into gradients
 * of the inputs. `backward` is written with tensor ops, so that when the graph is built with
 * create-graph the backward pass is itself differentiable (forces → force loss → ∂/∂θ). */
export interface GradNode {
  readonly op: string;
  readonly inputs: readonly Tensor[];
  backward(grad: Tensor): (Tensor | null)[];
}

let nextId = 1;

export class Tensor {
  readonly id = nextId++;
  node: GradNode | null = null;

  constructor(
    readonly data: FloatArray,
    readonly shape: readonly number[],
    /** True for leaves we differentiate with respect to, and for anything computed from them
     * while gradients are being recorded. */
    public requiresGrad = false,
  ) {
    const n = sizeOf(shape);
    if (n !== data.length) {
      throw new Error(`tensor data has ${data.length} values but shape [${shape.join(',')}] needs ${n}`);
    }
  }

  get dtype(): DType {
    return this.data instanceof Float32Array ? 'float32' : 'float64';
  }

  get size(): number {
    return this.data.length;
  }

  get rank(): number {
    return this.shape.length;
  }

  /** The single value of a one-element tensor. */
  item(): number {
    if (this.data.length !== 1) throw new Error(`item() on a tensor of shape [${this.shape.join(',')}]`);
    return this.data[0];
  }

  /** A leaf that shares this tensor's values but not its history. */
  detach(): Tensor {
    return new Tensor(this.data, this.shape, false);
  }

  toString(): string {
    return `Tensor(${this.dtype}, [${this.shape.join(', ')}])`;
  }
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function allocate(dtype: DType, n: number): FloatArray {
  return dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
}

export function zeros(shape: readonly number[], dtype: DType = 'float64'): Tensor {
  return new Tensor(allocate(dtype, sizeOf(shape)), shape);
}

export function full(shape: readonly number[], value: number, dtype: DType = 'float64'): Tensor {
  const t = zeros(shape, dtype);
  t.data.fill(value);
  return t;
}

export function scalar(value: number, dtype: DType = 'float64'): Tensor {
  return full([], value, dtype);
}

/** A tensor from plain numbers (copied). */
export function tensor(
  values: ArrayLike<number>,
  shape: readonly number[] = [values.length],
  dtype: DType = 'float64',
  requiresGrad = false,
): Tensor {
  const data = allocate(dtype, values.length);
  data.set(values as ArrayLike<number>);
  return new Tensor(data, shape, requiresGrad);
}

/** A trainable leaf (parameter or coordinates we want gradients for). */
export function leaf(data: FloatArray, shape: readonly number[]): Tensor {
  return new Tensor(data, shape, true);
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
