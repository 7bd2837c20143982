/**
 * FIRE (Bitzek et al., PRL 97, 170201, 2006) with the parameters and behaviour of ASE's
 * `ase.optimize.FIRE`: unit masses, velocities mixed towards the force direction while the power
 * F·v stays positive, the time step growing by `finc` after `Nmin` downhill steps (up to `dtmax`)
 * and halving with a velocity reset when F·v ≤ 0, and the whole step dr (all atoms together)
 * scaled down to `maxstep` when longer. dt is in ASE's convention for FIRE: positions move by
 * dt·v with v += dt·F, masses ignored, so dt carries no physical time unit.
 */
import type { Optimizer } from './types.js';

export interface FireOptions {
  /** Initial time step (ASE: 0.1). */
  dt?: number;
  /** Largest time step (ASE: 1.0). */
  dtmax?: number;
  /** Longest step of all atoms together, Å (ASE: 0.2). */
  maxstep?: number;
  /** Downhill steps before dt may grow (ASE: 5). */
  Nmin?: number;
  /** dt growth factor (ASE: 1.1). */
  finc?: number;
  /** dt shrink factor on an uphill step (ASE: 0.5). */
  fdec?: number;
  /** Mixing coefficient after a reset (ASE: 0.1). */
  astart?: number;
  /** Decay of the mixing coefficient on downhill steps (ASE: 0.99). */
  fa?: number;
}

export const fireDefaults: Required<FireOptions> = { dt: 0.1, dtmax: 1.0, maxstep: 0.2, Nmin: 5, finc: 1.1, fdec: 0.5, astart: 0.1, fa: 0.99 };

export class Fire implements Optimizer {
  readonly name = 'FIRE';
  readonly settings: Required<FireOptions>;
  dt: number;
  a: number;
  private v: Float64Array | null = null;
  /** Consecutive downhill steps since the last reset. */
  private downhill = 0;

  constructor(options: FireOptions = {}) {
    this.settings = { ...fireDefaults, ...options };
    const s = this.settings;
    for (const [k, v] of Object.entries(s)) {
      if (!(Number.isFinite(v) && v > 0)) throw new RangeError(`FIRE: ${k} must be a positive number, got ${v}`);
    }
    this.dt = s.dt;
    this.a = s.astart;
  }

  step(positions: Float64Array, forces: Float64Array): void {
    const s = this.settings;
    const n = positions.length;
    if (!this.v) {
      this.v = new Float64Array(n);
    } else {
      const v = this.v;
      let vf = 0, ff = 0, vv = 0;
      for (let k = 0; k < n; k++) {
        vf += v[k] * forces[k];
        ff += forces[k] * forces[k];
        vv += v[k] * v[k];
      }
      if (vf > 0) {
        // Turn the velocity towards the force, keeping its length.
        const mix = ff > 0 ? (this.a * Math.sqrt(vv)) / Math.sqrt(ff) : 0;
        for (let k = 0; k < n; k++) v[k] = (1 - this.a) * v[k] + mix * forces[k];
        if (this.downhill > s.Nmin) {
          this.dt = Math.min(this.dt * s.finc, s.dtmax);
          this.a *= s.fa;
        }
        this.downhill++;
      } else {
        v.fill(0);
        this.a = s.astart;
        this.dt *= s.fdec;
        this.downhill = 0;
      }
    }
    const v = this.v;
    let norm2 = 0;
    for (let k = 0; k < n; k++) {
      v[k] += this.dt * forces[k];
      const d = this.dt * v[k];
      norm2 += d * d;
    }
    const norm = Math.sqrt(norm2);
    const scale = norm > s.maxstep ? s.maxstep / norm : 1;
    for (let k = 0; k < n; k++) positions[k] += scale * this.dt * v[k];
  }
}
