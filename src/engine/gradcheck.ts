/**
 * Finite-difference checks of first and second derivatives, in float64. Used by the test suite
 * for every op and for the model's force-loss gradient; exported so users can check their own
 * composite functions the same way.
 */
import { Tensor } from './tensor.js';
import { grad } from './autograd.js';
import { mul, sumAll } from './ops.js';
import { Rng } from '../random.js';

export interface CheckResult {
  /** Largest |analytic − numeric| / max(1, |numeric|) seen. */
  maxError: number;
  worst: { input: number; index: number; analytic: number; numeric: number } | null;
}

/** Weights uniform in [−1, 1), the same for the same seed. */
function randomLike(t: Tensor, seed: number): Tensor {
  const rng = new Rng(seed);
  return new Tensor(Float64Array.from({ length: t.size }, () => 2 * rng.uniform() - 1), t.shape);
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

/** (f(x + h·eᵢ) − f(x − h·eᵢ)) / 2h for entry i of x, which is left as it was. */
export function centralDifference(fScalar: () => number, x: Tensor, i: number, h: number): number {
  const orig = x.data[i];
  x.data[i] = orig + h;
  const fp = fScalar();
  x.data[i] = orig - h;
  const fm = fScalar();
  x.data[i] = orig;
  return (fp - fm) / (2 * h);
}

function numericGradient(fScalar: () => number, inputs: Tensor[], h: number): Float64Array[] {
  return inputs.map((x) => Float64Array.from({ length: x.size }, (_, i) => centralDifference(fScalar, x, i, h)));
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
