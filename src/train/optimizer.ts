/**
 * AdamW (Loshchilov & Hutter): Adam moments with decoupled weight decay, as torch.optim.AdamW.
 * Moments are float64 whatever the model's dtype, so float32 models still accumulate well.
 */
import type { Tensor } from '../engine/index.js';

export interface AdamWOptions {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

export const defaultAdamW: AdamWOptions = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 };

export class AdamW {
  /** Updates made (the run's counter). */
  step = 0;
  readonly m: Map<string, Float64Array>;
  readonly v: Map<string, Float64Array>;
  /**
   * Updates each parameter has had, as torch.optim.AdamW counts them per parameter: a parameter
   * that got no gradient in a step (a head whose level was not in the batch) is neither decayed
   * nor moved, and its bias correction counts only the steps it took part in.
   */
  readonly t: Map<string, number>;

  constructor(
    readonly params: [string, Tensor][],
    readonly options: AdamWOptions = defaultAdamW,
  ) {
    this.m = new Map(params.map(([n, t]) => [n, new Float64Array(t.size)]));
    this.v = new Map(params.map(([n, t]) => [n, new Float64Array(t.size)]));
    this.t = new Map(params.map(([n]) => [n, 0]));
  }

  /** One update with learning rate lr; grads are in the same order as params. */
  update(grads: (Tensor | null)[], lr: number): void {
    const { beta1, beta2, eps, weightDecay } = this.options;
    this.step++;
    this.params.forEach(([name, p], k) => {
      const g = grads[k];
      // No gradient: no decay, no move, no step counted (torch skips such parameters entirely).
      if (!g) return;
      const t = this.t.get(name)! + 1;
      this.t.set(name, t);
      const c1 = 1 - Math.pow(beta1, t);
      const c2 = 1 - Math.pow(beta2, t);
      const m = this.m.get(name)!;
      const v = this.v.get(name)!;
      const w = p.data;
      if (weightDecay > 0) for (let i = 0; i < w.length; i++) w[i] *= 1 - lr * weightDecay;
      const gd = g.data;
      for (let i = 0; i < w.length; i++) {
        const gi = gd[i];
        m[i] = beta1 * m[i] + (1 - beta1) * gi;
        v[i] = beta2 * v[i] + (1 - beta2) * gi * gi;
        w[i] -= (lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + eps);
      }
    });
  }
}

/** Scale gradients so their global L2 norm is at most maxNorm; returns the norm before. */
export function clipGradients(grads: (Tensor | null)[], maxNorm: number): number {
  let s = 0;
  for (const g of grads) if (g) for (let i = 0; i < g.size; i++) s += g.data[i] * g.data[i];
  const norm = Math.sqrt(s);
  if (maxNorm > 0 && norm > maxNorm) {
    const f = maxNorm / norm;
    for (const g of grads) if (g) for (let i = 0; i < g.size; i++) g.data[i] *= f;
  }
  return norm;
}
