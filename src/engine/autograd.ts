/**
 * Reverse-mode differentiation over the graph that ops record on their outputs.
 *
 * `grad(y, xs)` walks from y back to xs in reverse topological order, calling each node's
 * backward. With `createGraph`, those backward computations are themselves recorded, so the
 * returned gradients can be differentiated again (a force loss differentiated with respect to
 * the parameters). Without it they run with recording off: no graph is kept, which is the
 * inference path for MD.
 */
import { Tensor, sameShape } from './tensor.js';

let recording = true;

/** Whether ops currently record graph nodes. */
export function isRecording(): boolean {
  return recording;
}

/** Run `fn` with graph recording switched off (inference, optimizer updates). */
export function noGrad<T>(fn: () => T): T {
  const prev = recording;
  recording = false;
  try {
    return fn();
  } finally {
    recording = prev;
  }
}

function withRecording<T>(on: boolean, fn: () => T): T {
  const prev = recording;
  recording = on;
  try {
    return fn();
  } finally {
    recording = prev;
  }
}

export interface GradOptions {
  /** Record the backward pass so the result can be differentiated again. */
  createGraph?: boolean;
  /** Seed gradient for a non-scalar output (default: ones, i.e. gradient of the sum). */
  gradOutput?: Tensor;
  /** Return null (instead of throwing) for inputs the output does not depend on. */
  allowUnused?: boolean;
}

/** Order the nodes reachable from `root` so that every tensor comes after all its consumers. */
function reverseTopological(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<number>();
  // Iterative DFS: graphs of a deep ET with create-graph have tens of thousands of nodes.
  const stack: [Tensor, number][] = [[root, 0]];
  seen.add(root.id);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [t, i] = top;
    const inputs = t.node ? t.node.inputs : [];
    if (i < inputs.length) {
      top[1] = i + 1;
      const child = inputs[i];
      if (child.requiresGrad && !seen.has(child.id)) {
        seen.add(child.id);
        stack.push([child, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }
  return order.reverse();
}

export function grad(output: Tensor, inputs: Tensor[], options: GradOptions = {}): (Tensor | null)[] {
  if (!output.requiresGrad) {
    if (options.allowUnused) return inputs.map(() => null);
    throw new Error('grad: the output does not depend on any tensor that requires a gradient');
  }
  const { add, onesLike } = ops();
  let seed = options.gradOutput;
  if (seed === undefined) seed = onesLike(output);
  else if (!sameShape(seed.shape, output.shape)) {
    throw new Error(`grad: gradOutput shape [${seed.shape}] differs from output shape [${output.shape}]`);
  }
  const createGraph = options.createGraph ?? false;
  const wanted = new Set(inputs.map((t) => t.id));

  return withRecording(createGraph, () => {
    const grads = new Map<number, Tensor>();
    grads.set(output.id, seed!);
    for (const t of reverseTopological(output)) {
      const g = grads.get(t.id);
      if (g === undefined || t.node === null) continue;
      // Leaves we were asked about keep their gradient; interior gradients are dropped as soon
      // as they have been propagated, so peak memory stays near one forward pass.
      if (!wanted.has(t.id)) grads.delete(t.id);
      const gIn = t.node.backward(g);
      const ins = t.node.inputs;
      for (let k = 0; k < ins.length; k++) {
        const gi = gIn[k];
        const x = ins[k];
        if (gi === null || !x.requiresGrad) continue;
        if (!sameShape(gi.shape, x.shape)) {
          throw new Error(`internal: ${t.node.op} backward gave shape [${gi.shape}] for input [${x.shape}]`);
        }
        const prev = grads.get(x.id);
        grads.set(x.id, prev === undefined ? gi : add(prev, gi));
      }
    }
    return inputs.map((x) => {
      const g = grads.get(x.id);
      if (g === undefined) {
        if (options.allowUnused) return null;
        throw new Error('grad: the output does not depend on one of the inputs (pass allowUnused)');
      }
      return g;
    });
  });
}

// ops.ts imports this module; a lazy handle avoids an import cycle at module-evaluation time.
type OpsHandle = { add(a: Tensor, b: Tensor): Tensor; onesLike(t: Tensor): Tensor };
let opsHandle: OpsHandle | null = null;
export function registerOps(h: OpsHandle): void {
  opsHandle = h;
}
function ops(): OpsHandle {
  if (!opsHandle) throw new Error('internal: engine ops not registered');
  return opsHandle;
}
