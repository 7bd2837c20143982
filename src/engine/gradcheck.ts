/**
 * Finite-difference checks of first and second derivatives, in float64. Used by the test suite
 * for every op and for the model's force-loss gradient; exported so users can check their own
 * composite functions the same way.
 */
import { Tensor } from './tensor.js';
import { grad } from './autograd.js';
import { mul, sumAll } from './ops.js';

export interface CheckResult {
  /** Largest |analytic − numeric| / max(1, |numeric|) seen. */
  maxError: number;
  worst: { input: number; index: number; analytic: number; numeric: number } | null;
}

function randomLike(t: Tensor, seed: number): Tensor {
  let s = seed >>> 0 || 1;
  const data = new Float64Array(t.size);
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = (s / 2 ** 32) * 2 - 1;
  }
  return new Tensor(data, t.shape);
}

function compare(analytic: (Tensor | null)[], numeric: Float64Array[], out: CheckResult): void {
  analytic.forEach((a, k) => {
    const num = numeric[k];
    for (let i = 0; i < num.length; i++) {
      const av = a ? a.data[i] : 0;
      const err = Math.abs(av - num[i]) / Math.max(1, Math.abs(num[i]));
      if (!(err <= out.maxError)) {
        out.maxError = Number.isNaN(err) ? Infinity : err;
        out.worst = { input: k, index: i, analytic: av, numeric: num[i] };
      }
    }
  });
}

function numericGradient(fScalar: () => number, inputs: Tensor[], h: number): Float64Array[] {
  return inputs.map((x) => {
    const g = new Float64Array(x.size);
    for (let i = 0; i < x.size; i++) {
      const orig = x.data[i];
      x.data[i] = orig + h;
      const fp = fScalar();
      x.data[i] = orig - h;
      const fm = fScalar();
      x.data[i] = orig;
      g[i] = (fp - fm) / (2 * h);
    }
    return g;
  });
}

/** Check ∂/∂x of Σ w·f(x) against central differences. Inputs must be float64 leaves. */
export function checkGradient(f: (xs: Tensor[]) => Tensor, inputs: Tensor[], h = 1e-6): CheckResult {
  const w = randomLike(f(inputs), 7);
  const scalarOf = () => sumAll(mul(f(inputs), w));
  const analytic = grad(scalarOf(), inputs, { allowUnused: true });
  const numeric = numericGradient(() => scalarOf().item(), inputs, h);
  const out: CheckResult = { maxError: 0, worst: null };
  compare(analytic, numeric, out);
  return out;
}

/**
 * Check second derivatives: with s(x) = Σ w·f(x) and u = ∂s/∂x₀ (built with create-graph),
 * compare ∂(Σ v·u)/∂x against central differences of Σ v·u, for all inputs x.
 */
export function checkSecondGradient(f: (xs: Tensor[]) => Tensor, inputs: Tensor[], h = 1e-5): CheckResult {
  const w = randomLike(f(inputs), 7);
  const v = randomLike(inputs[0], 11);
  const inner = () => {
    const s = sumAll(mul(f(inputs), w));
    const [u] = grad(s, [inputs[0]], { createGraph: true, allowUnused: true });
    if (!u) return null;
    return sumAll(mul(u, v));
  };
  const t = inner();
  const out: CheckResult = { maxError: 0, worst: null };
  if (t === null || !t.requiresGrad) {
    // First derivative is constant (or absent): second derivative must be zero numerically.
    const numeric = numericGradient(() => inner()?.item() ?? 0, inputs, h);
    compare(inputs.map(() => null), numeric, out);
    return out;
  }
  const analytic = grad(t, inputs, { allowUnused: true });
  const numeric = numericGradient(() => inner()!.item(), inputs, h);
  compare(analytic, numeric, out);
  return out;
}
