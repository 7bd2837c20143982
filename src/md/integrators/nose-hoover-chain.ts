/**
 * Nosé–Hoover chain NVT (Martyna, Klein & Tuckerman 1992), integrated with the symmetric Trotter
 * splitting of Martyna, Tuckerman, Tobias & Klein (1996): half a step of the chain, a velocity
 * Verlet step, half a step of the chain. Each chain half-step uses third-order Suzuki–Yoshida
 * weights. One force evaluation per step.
 *
 * Masses follow the usual choice (and ASE's NoseHooverChainNVT): Q₁ = 3N·k_BT·τ², Q_j = k_BT·τ²
 * for j > 1, with τ = ttime·dt as in MDsim's Nose–Hoover. A single chain link (chainLength 1) is
 * plain Nosé–Hoover with thermostat mass 3N·k_BT·τ², integrated by this splitting.
 *
 * Conserved: E_pot + K + Σ ½Q_jξ_j² + 3N·k_BT·η₁ + k_BT·Σ_{j>1} η_j.
 */
import { kB } from '../../units.js';
import { kineticEnergy } from '../atoms.js';
import { velocityVerletStep } from './velocity-verlet.js';
import type { DynamicsState, Evaluate, Integrator, IntegratorState } from './types.js';

export interface NoseHooverChainState extends IntegratorState {
  kind: 'nhc';
  /** Thermostat velocities ξ_j, 1/fs. */
  xi: number[];
  /** Thermostat positions η_j (dimensionless). */
  eta: number[];
}

const cbrt2 = Math.cbrt(2);
const yoshida = [1 / (2 - cbrt2), -cbrt2 / (2 - cbrt2), 1 / (2 - cbrt2)];

export class NoseHooverChain implements Integrator {
  readonly kind = 'nhc' as const;
  readonly Q: Float64Array;
  readonly xi: Float64Array;
  readonly eta: Float64Array;
  private readonly kT: number;
  private readonly dof: number;

  constructor(
    readonly dt: number,
    readonly temperature: number,
    atomCount: number,
    readonly ttime: number,
    readonly chainLength: number,
    saved?: NoseHooverChainState,
  ) {
    if (!Number.isInteger(chainLength) || chainLength < 1) throw new Error(`Nose–Hoover chain length must be an integer ≥ 1, got ${chainLength}`);
    this.kT = kB * temperature;
    this.dof = 3 * atomCount;
    const tau2 = (ttime * dt) ** 2;
    this.Q = Float64Array.from({ length: chainLength }, (_, j) => (j === 0 ? this.dof : 1) * this.kT * tau2);
    if (!(this.Q[0] > 0)) throw new Error('Nose–Hoover chain needs temperature > 0, ttime > 0 and dt > 0');
    this.xi = new Float64Array(chainLength);
    this.eta = new Float64Array(chainLength);
    if (saved) {
      if (saved.xi.length !== chainLength || saved.eta.length !== chainLength) {
        throw new Error(`saved Nose–Hoover chain has ${saved.xi.length} links, expected ${chainLength}`);
      }
      this.xi.set(saved.xi);
      this.eta.set(saved.eta);
    }
  }

  /** Force on chain link j given twice the kinetic energy of the particles. */
  private G(j: number, twoK: number): number {
    return j === 0 ? (twoK - this.dof * this.kT) / this.Q[0] : (this.Q[j - 1] * this.xi[j - 1] ** 2 - this.kT) / this.Q[j];
  }

  /** Propagate the chain for `duration` fs and scale the velocities accordingly. */
  private chainHalfStep(state: DynamicsState, duration: number): void {
    const { masses, velocities: v } = state.atoms;
    const M = this.chainLength;
    const xi = this.xi;
    let twoK = 2 * kineticEnergy(masses, v);
    let scale = 1;
    for (const w of yoshida) {
      const h = w * duration;
      xi[M - 1] += 0.5 * h * this.G(M - 1, twoK);
      for (let j = M - 2; j >= 0; j--) {
        const damp = Math.exp(-0.25 * h * xi[j + 1]);
        xi[j] = (xi[j] * damp + 0.5 * h * this.G(j, twoK)) * damp;
      }
      const s = Math.exp(-h * xi[0]);
      scale *= s;
      twoK *= s * s;
      for (let j = 0; j < M; j++) this.eta[j] += h * xi[j];
      for (let j = 0; j < M - 1; j++) {
        const damp = Math.exp(-0.25 * h * xi[j + 1]);
        xi[j] = (xi[j] * damp + 0.5 * h * this.G(j, twoK)) * damp;
      }
      xi[M - 1] += 0.5 * h * this.G(M - 1, twoK);
    }
    for (let k = 0; k < v.length; k++) v[k] *= scale;
  }

  step(state: DynamicsState, evaluate: Evaluate): void {
    const half = 0.5 * this.dt;
    this.chainHalfStep(state, half);
    velocityVerletStep(state, this.dt, evaluate);
    this.chainHalfStep(state, half);
  }

  reservoirEnergy(): number {
    let e = this.dof * this.kT * this.eta[0];
    for (let j = 0; j < this.chainLength; j++) {
      e += 0.5 * this.Q[j] * this.xi[j] ** 2;
      if (j > 0) e += this.kT * this.eta[j];
    }
    return e;
  }

  getState(): NoseHooverChainState {
    return { kind: this.kind, xi: Array.from(this.xi), eta: Array.from(this.eta) };
  }
}
