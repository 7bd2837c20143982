/** Velocity Verlet: microcanonical (NVE), time-reversible and symplectic. */
import { accelerationFactor } from '../../units.js';
import type { DynamicsState, Evaluate, Integrator, IntegratorState } from './types.js';

export class VelocityVerlet implements Integrator {
  readonly kind = 'nve' as const;

  constructor(readonly dt: number) {}

  step(state: DynamicsState, evaluate: Evaluate): void {
    velocityVerletStep(state, this.dt, evaluate);
  }

  reservoirEnergy(): number {
    return 0;
  }

  getState(): IntegratorState {
    return { kind: this.kind };
  }
}

/**
 * One velocity-Verlet step: half kick, drift, new forces, half kick. Also the inner part of
 * integrators that wrap it in thermostat half-steps (Nosé–Hoover chain).
 */
export function velocityVerletStep(state: DynamicsState, dt: number, evaluate: Evaluate): void {
  const { positions: x, velocities: v, masses } = state.atoms;
  const half = 0.5 * dt;
  for (let i = 0; i < masses.length; i++) {
    const s = (half * accelerationFactor) / masses[i];
    for (let k = 3 * i; k < 3 * i + 3; k++) {
      v[k] += s * state.forces[k];
      x[k] += dt * v[k];
    }
  }
  evaluate();
  for (let i = 0; i < masses.length; i++) {
    const s = (half * accelerationFactor) / masses[i];
    for (let k = 3 * i; k < 3 * i + 3; k++) v[k] += s * state.forces[k];
  }
}
