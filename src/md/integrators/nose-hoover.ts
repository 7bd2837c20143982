/**
 * Nosé–Hoover NVT exactly as the MDsim benchmark integrates it (mdsim/md/integrator.py,
 * `NoseHoover`; see the reference notes §4.1), so that stability numbers are comparable:
 *
 *   x'  = x + v·dt + (a − ζv)·dt²/2
 *   v½  = v + (dt/2)(a − ζv)
 *   a'  = F(x')/m                                   (the one force evaluation of the step)
 *   ζ  += (dt/2)(K(v) − K*)/Q,  then  ζ += (dt/2)(K(v½) − K*)/Q
 *   v'  = (v½ + (dt/2)a') / (1 + (dt/2)ζ)
 *
 * with K* = (3N/2)k_BT and Q = 3N·k_BT·(ttime·dt)², ttime dimensionless (20 in MDsim, so the
 * thermostat time is 20·dt). MDsim works in ASE units; the equations are unit-free, so in fs they
 * give the same trajectory to round-off.
 *
 * The exact dynamics, dζ/dt = (K − K*)/Q with dp/dt = F − ζp, conserves
 * H = E_pot + K + Q·ζ² + 2K*·η with dη/dt = ζ; η is integrated by the trapezoidal rule.
 */
import { accelerationFactor, kB } from '../../units.js';
import { kineticEnergy } from '../atoms.js';
import type { DynamicsState, Evaluate, Integrator, IntegratorState } from './types.js';

export interface NoseHooverState extends IntegratorState {
  kind: 'nose-hoover';
  /** Thermostat friction ζ, 1/fs. */
  zeta: number;
  /** ∫ζ dt (dimensionless), for the conserved energy only. */
  eta: number;
}

export class NoseHoover implements Integrator {
  readonly kind = 'nose-hoover' as const;
  /** Target kinetic energy K* = 3N·k_BT/2, eV. */
  readonly targetKinetic: number;
  /** Thermostat mass Q, eV·fs². */
  readonly Q: number;
  zeta = 0;
  eta = 0;

  constructor(
    readonly dt: number,
    readonly temperature: number,
    atomCount: number,
    readonly ttime: number,
    saved?: NoseHooverState,
  ) {
    const kT = kB * temperature;
    this.targetKinetic = 1.5 * atomCount * kT;
    this.Q = 3 * atomCount * kT * (ttime * dt) ** 2;
    if (!(this.Q > 0)) throw new Error('Nose–Hoover needs temperature > 0, ttime > 0 and dt > 0');
    if (saved) {
      this.zeta = saved.zeta;
      this.eta = saved.eta;
    }
  }

  step(state: DynamicsState, evaluate: Evaluate): void {
    const { positions: x, velocities: v, masses } = state.atoms;
    const dt = this.dt;
    const half = 0.5 * dt;
    const zeta0 = this.zeta;
    const k0 = kineticEnergy(masses, v);
    for (let i = 0; i < masses.length; i++) {
      const s = accelerationFactor / masses[i];
      for (let k = 3 * i; k < 3 * i + 3; k++) {
        const drift = s * state.forces[k] - zeta0 * v[k];
        x[k] += v[k] * dt + drift * (0.5 * dt * dt);
        v[k] += half * drift;
      }
    }
    evaluate();
    const kHalf = kineticEnergy(masses, v);
    let zeta = zeta0 + (half * (k0 - this.targetKinetic)) / this.Q;
    zeta += (half * (kHalf - this.targetKinetic)) / this.Q;
    const denom = 1 + half * zeta;
    for (let i = 0; i < masses.length; i++) {
      const s = (half * accelerationFactor) / masses[i];
      for (let k = 3 * i; k < 3 * i + 3; k++) v[k] = (v[k] + s * state.forces[k]) / denom;
    }
    this.eta += half * (zeta0 + zeta);
    this.zeta = zeta;
  }

  reservoirEnergy(): number {
    return this.Q * this.zeta * this.zeta + 2 * this.targetKinetic * this.eta;
  }

  getState(): NoseHooverState {
    return { kind: this.kind, zeta: this.zeta, eta: this.eta };
  }
}
