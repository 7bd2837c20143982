/**
 * Langevin dynamics with the BAOAB splitting (Leimkuhler & Matthews 2013): half kick, half drift,
 * exact Ornstein–Uhlenbeck velocity update v ← c·v + √(1−c²)·√(k_BT/m)·R with c = e^{−γ·dt},
 * half drift, force evaluation, half kick. BAOAB samples configurations with small bias at large
 * steps, and with zero forces the velocity update is the exact OU process.
 *
 * The heat given to the bath (the kinetic energy the O step removes, summed) is tracked, so that
 * E_pot + K + heat is a conserved quantity up to the integration error.
 */
import { accelerationFactor, kB } from '../../units.js';
import { kineticEnergy } from '../atoms.js';
import { Rng, type RngState } from '../../random.js';
import type { DynamicsState, Evaluate, Integrator, IntegratorState } from './types.js';

export interface LangevinState extends IntegratorState {
  kind: 'langevin';
  rng: RngState;
  /** Energy passed to the bath so far, eV. */
  heat: number;
}

export class Langevin implements Integrator {
  readonly kind = 'langevin' as const;
  readonly rng: Rng;
  heat = 0;
  private readonly c1: number;
  private readonly c2: number;

  /**
   * @param friction γ in 1/fs (ASE users write `friction=0.01 / units.fs` for the same 0.01 fs⁻¹)
   * @param rng the stream this integrator draws from; it is advanced in place.
   */
  constructor(
    readonly dt: number,
    readonly temperature: number,
    readonly friction: number,
    rng: Rng,
    saved?: LangevinState,
  ) {
    if (!(friction > 0) || !Number.isFinite(friction)) throw new Error(`Langevin friction must be > 0 (1/fs), got ${friction}`);
    if (!(temperature >= 0)) throw new Error(`Langevin temperature must be ≥ 0 K, got ${temperature}`);
    this.c1 = Math.exp(-friction * dt);
    this.c2 = Math.sqrt(1 - this.c1 * this.c1);
    this.rng = saved ? Rng.fromState(saved.rng) : rng;
    if (saved) this.heat = saved.heat;
  }

  step(state: DynamicsState, evaluate: Evaluate): void {
    const { positions: x, velocities: v, masses } = state.atoms;
    const dt = this.dt;
    const half = 0.5 * dt;
    const kT = kB * this.temperature;
    for (let i = 0; i < masses.length; i++) {
      const s = (half * accelerationFactor) / masses[i];
      for (let k = 3 * i; k < 3 * i + 3; k++) {
        v[k] += s * state.forces[k];
        x[k] += half * v[k];
      }
    }
    const kBefore = kineticEnergy(masses, v);
    for (let i = 0; i < masses.length; i++) {
      const sigma = this.c2 * Math.sqrt((kT / masses[i]) * accelerationFactor);
      for (let k = 3 * i; k < 3 * i + 3; k++) v[k] = this.c1 * v[k] + sigma * this.rng.normal();
    }
    this.heat += kBefore - kineticEnergy(masses, v);
    for (let k = 0; k < x.length; k++) x[k] += half * v[k];
    evaluate();
    for (let i = 0; i < masses.length; i++) {
      const s = (half * accelerationFactor) / masses[i];
      for (let k = 3 * i; k < 3 * i + 3; k++) v[k] += s * state.forces[k];
    }
  }

  reservoirEnergy(): number {
    return this.heat;
  }

  getState(): LangevinState {
    return { kind: this.kind, rng: this.rng.getState(), heat: this.heat };
  }
}
