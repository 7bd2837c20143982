/**
 * Limited-memory BFGS with the parameters and behaviour of ASE's `ase.optimize.LBFGS` (without its
 * optional line search): the inverse Hessian starts as 1/alpha times the identity (alpha = 70
 * eV/Å², ASE's default, which mimics its BFGS), is updated from the last `memory` position and
 * gradient differences by the two-loop recursion (Nocedal & Wright, Algorithm 7.4), and the step is
 * scaled so that no atom moves more than `maxstep`, then multiplied by `damping`.
 */
import type { Optimizer } from './types.js';

export interface LbfgsOptions {
  /** Longest step of any single atom, Å (ASE: 0.2; at most 1). */
  maxstep?: number;
  /** Number of position/gradient pairs kept (ASE: 100). */
  memory?: number;
  /** Factor on every step (ASE: 1). */
  damping?: number;
  /** Initial Hessian guess, eV/Å² (ASE: 70). */
  alpha?: number;
}

export const lbfgsDefaults: Required<LbfgsOptions> = { maxstep: 0.2, memory: 100, damping: 1, alpha: 70 };

export class Lbfgs implements Optimizer {
  readonly name = 'L-BFGS';
  readonly settings: Required<LbfgsOptions>;
  private readonly s: Float64Array[] = [];
  private readonly y: Float64Array[] = [];
  private readonly rho: number[] = [];
  private r0: Float64Array | null = null;
  private f0: Float64Array | null = null;

  constructor(options: LbfgsOptions = {}) {
    this.settings = { ...lbfgsDefaults, ...options };
    const o = this.settings;
    if (!(o.maxstep > 0 && o.maxstep <= 1)) throw new RangeError(`L-BFGS: maxstep must be in (0, 1] Å, got ${o.maxstep}`);
    if (!(Number.isInteger(o.memory) && o.memory >= 1)) throw new RangeError(`L-BFGS: memory must be an integer ≥ 1, got ${o.memory}`);
    if (!(o.damping > 0 && Number.isFinite(o.damping))) throw new RangeError(`L-BFGS: damping must be > 0, got ${o.damping}`);
    if (!(o.alpha > 0 && Number.isFinite(o.alpha))) throw new RangeError(`L-BFGS: alpha must be > 0 eV/Å², got ${o.alpha}`);
  }

  step(positions: Float64Array, forces: Float64Array): void {
    const n = positions.length;
    const o = this.settings;
    if (this.r0 && this.f0) {
      const s = new Float64Array(n), y = new Float64Array(n);
      let ys = 0;
      for (let k = 0; k < n; k++) {
        s[k] = positions[k] - this.r0[k];
        // Gradient difference: the gradient is minus the force.
        y[k] = this.f0[k] - forces[k];
        ys += y[k] * s[k];
      }
      this.s.push(s);
      this.y.push(y);
      this.rho.push(1 / ys);
      if (this.s.length > o.memory) {
        this.s.shift();
        this.y.shift();
        this.rho.shift();
      }
    }
    const m = this.s.length;
    const alpha = new Float64Array(m);
    const q = new Float64Array(n);
    for (let k = 0; k < n; k++) q[k] = -forces[k];
    for (let i = m - 1; i >= 0; i--) {
      alpha[i] = this.rho[i] * dot(this.s[i], q);
      axpy(-alpha[i], this.y[i], q);
    }
    const z = q.map((v) => v / o.alpha);
    for (let i = 0; i < m; i++) {
      const b = this.rho[i] * dot(this.y[i], z);
      axpy(alpha[i] - b, this.s[i], z);
    }
    // Step p = −H·g; cap the longest single-atom move at maxstep.
    let longest = 0;
    for (let a = 0; a < n / 3; a++) {
      const l = Math.hypot(z[3 * a], z[3 * a + 1], z[3 * a + 2]);
      if (l > longest) longest = l;
    }
    const scale = (longest >= o.maxstep ? o.maxstep / longest : 1) * o.damping;
    this.r0 = Float64Array.from(positions);
    this.f0 = Float64Array.from(forces);
    for (let k = 0; k < n; k++) positions[k] -= scale * z[k];
  }
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += a[k] * b[k];
  return s;
}

function axpy(c: number, x: Float64Array, y: Float64Array): void {
  for (let k = 0; k < x.length; k++) y[k] += c * x[k];
}
