/**
 * One running trajectory in memory: atoms, cached forces, an integrator and a calculator. No file
 * or network access, so the web app can drive it directly; `runSimulation` (run.ts) adds output,
 * checkpoints and progress on top.
 */
import type { Calculator } from '../calculator.js';
import { Atoms, kineticEnergy, temperatureFromKinetic } from './atoms.js';
import type { DynamicsState, Integrator } from './integrators/types.js';

export interface StopLimits {
  /** Stop when the temperature falls below this, K (MDsim: 0.1). */
  minTemperature: number;
  /** Stop when the temperature rises above this, K (MDsim: 1e5). */
  maxTemperature: number;
}

export const defaultStopLimits: StopLimits = { minTemperature: 0.1, maxTemperature: 1e5 };

export class Simulation implements DynamicsState {
  forces: Float64Array;
  energy = NaN;
  /** Steps taken since the start of the run (not of this process). */
  step: number;
  /** Force evaluations made by this object. */
  evaluations = 0;

  constructor(
    readonly atoms: Atoms,
    readonly calculator: Calculator,
    readonly integrator: Integrator,
    start: { step?: number; forces?: Float64Array; energy?: number } = {},
  ) {
    this.step = start.step ?? 0;
    this.forces = new Float64Array(atoms.positions.length);
    if (start.forces && start.energy !== undefined) {
      if (start.forces.length !== this.forces.length) throw new Error('Simulation: saved forces do not match the atom count');
      this.forces.set(start.forces);
      this.energy = start.energy;
    } else {
      this.evaluate();
    }
  }

  /** Forces and energy at the current positions (the integrators call this once per step). */
  evaluate(): void {
    const { energy, forces } = this.calculator.compute(this.atoms.z, this.atoms.positions);
    if (forces.length !== this.forces.length) {
      throw new Error(`calculator ${this.calculator.name} returned ${forces.length} force values for ${this.atoms.count} atoms`);
    }
    this.forces.set(forces);
    this.energy = energy;
    this.evaluations++;
  }

  /** Advance one time step. */
  advance(): void {
    this.integrator.step(this, () => this.evaluate());
    this.step++;
  }

  /** Simulated time since the start of the run, fs (step·dt, so it does not accumulate round-off). */
  get time(): number {
    return this.step * this.integrator.dt;
  }

  kineticEnergy(): number {
    return kineticEnergy(this.atoms.masses, this.atoms.velocities);
  }

  temperature(): number {
    return temperatureFromKinetic(this.kineticEnergy(), this.atoms.count);
  }

  totalEnergy(): number {
    return this.energy + this.kineticEnergy();
  }

  /** E_pot + K + the thermostat's reservoir energy: constant up to integration error. */
  conservedEnergy(): number {
    return this.totalEnergy() + this.integrator.reservoirEnergy(this);
  }

  /**
   * Why the run must stop now, or null: a non-finite position, force or energy, or a temperature
   * outside the limits (checked every step, as MDsim does).
   */
  problem(limits: StopLimits = defaultStopLimits): string | null {
    const x = this.atoms.positions, f = this.forces, v = this.atoms.velocities;
    for (let k = 0; k < x.length; k++) {
      if (!Number.isFinite(x[k])) return `non-finite position (atom ${Math.floor(k / 3)}) at step ${this.step}`;
      if (!Number.isFinite(f[k])) return `non-finite force (atom ${Math.floor(k / 3)}) at step ${this.step}`;
      if (!Number.isFinite(v[k])) return `non-finite velocity (atom ${Math.floor(k / 3)}) at step ${this.step}`;
    }
    if (!Number.isFinite(this.energy)) return `non-finite potential energy at step ${this.step}`;
    const t = this.temperature();
    if (t < limits.minTemperature) return `temperature ${t.toPrecision(4)} K fell below ${limits.minTemperature} K at step ${this.step}`;
    if (t > limits.maxTemperature) return `temperature ${t.toPrecision(4)} K rose above ${limits.maxTemperature} K at step ${this.step}`;
    return null;
  }
}
