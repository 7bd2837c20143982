/**
 * Molecular dynamics from a script, in the manner of ASE's dynamics objects: make a `Dynamics`
 * from a model (or any Calculator) and a structure, `attach` observers that run every n steps,
 * then `run(steps)`. It steps the same in-memory Simulation `oreo simulate` runs; for runs with
 * trajectory files, checkpoints and resume, use `runSimulation` (re-exported by the package).
 *
 * Units: Å, Å/fs, fs, K, eV.
 */
import type { Calculator } from '../md/calculator.js';
import type { ThermostatKind } from '../md/integrators/types.js';
import { defaultThermostatSettings } from '../md/integrators/types.js';
import { createSimulation } from '../md/setup.js';
import { Simulation, defaultStopLimits, type StopLimits } from '../md/simulation.js';
import { freshSeed } from '../md/random.js';
import { OreoError } from '../errors.js';
import { Model, flatPositions, type Structure } from './model.js';

export interface DynamicsOptions {
  /** 'nve' (velocity Verlet, default), 'langevin', 'nose-hoover' (MDsim's) or 'nhc' (a chain). */
  thermostat?: ThermostatKind;
  /** Time step, fs (default 0.5). */
  timestep?: number;
  /** Thermostat target, K; also the temperature of the initial velocities (default 300). */
  temperature?: number;
  /** Temperature of the Maxwell–Boltzmann initial velocities, K (default: temperature). */
  initialTemperature?: number;
  /** Langevin friction, 1/fs (default 0.01). */
  friction?: number;
  /** Nosé–Hoover time constant in units of the time step (default 20). */
  ttime?: number;
  /** Nosé–Hoover chain length (default 3). */
  chainLength?: number;
  /** Random seed for velocities and Langevin noise (default: fresh; read it back from `seed`). */
  seed?: number;
  /** Remove total (and angular) momentum from the drawn velocities (default true). */
  zeroMomentum?: boolean;
  zeroAngularMomentum?: boolean;
  /** Stop when the temperature leaves [min, max] K or a value becomes non-finite (default 0.1, 1e5). */
  stopLimits?: Partial<StopLimits>;
}

export interface DynamicsStart extends Structure {
  /** Velocities, Å/fs, flat; drawn from Maxwell–Boltzmann when omitted. */
  velocities?: ArrayLike<number>;
  /** Masses, amu; standard atomic masses when omitted. */
  masses?: ArrayLike<number>;
}

/** An observer: return a string to stop the run with that reason. */
export type Observer = (md: Dynamics) => void | string;

export interface RunResult {
  /** Steps taken by this `run` call. */
  steps: number;
  /** Why the run stopped before the requested steps (an observer's reason or a stop limit). */
  stopped?: string;
}

export class Dynamics {
  readonly simulation: Simulation;
  readonly seed: number;
  private readonly observers: { fn: Observer; interval: number }[] = [];
  private readonly limits: StopLimits;

  constructor(model: Model | Calculator, start: DynamicsStart, options: DynamicsOptions = {}) {
    const calculator = model instanceof Model ? model.calculator() : model;
    const z = Int32Array.from(start.z);
    calculator.checkElements?.(z);
    this.seed = options.seed ?? freshSeed();
    const temperature = options.temperature ?? 300;
    this.simulation = createSimulation(
      { z, positions: flatPositions(start), velocities: start.velocities, masses: start.masses },
      calculator,
      {
        thermostat: options.thermostat ?? 'nve',
        dt: options.timestep ?? 0.5,
        temperature,
        initTemperature: options.initialTemperature ?? temperature,
        ttime: options.ttime ?? defaultThermostatSettings.ttime,
        friction: options.friction ?? defaultThermostatSettings.friction,
        chainLength: options.chainLength ?? defaultThermostatSettings.chainLength,
        seed: this.seed,
        zeroMomentum: options.zeroMomentum ?? true,
        zeroAngularMomentum: options.zeroAngularMomentum ?? true,
      },
    );
    this.limits = { ...defaultStopLimits, ...options.stopLimits };
  }

  /**
   * Call `fn` every `interval` steps (and at the step a run starts on, when it is a multiple),
   * as ASE's `dyn.attach(fn, interval=n)` does.
   */
  attach(fn: Observer, interval = 1): this {
    if (!Number.isInteger(interval) || interval < 1) throw new OreoError(`attach: interval must be a whole number ≥ 1, got ${interval}`);
    this.observers.push({ fn, interval });
    return this;
  }

  private notify(): string | undefined {
    for (const o of this.observers) {
      if (this.simulation.step % o.interval === 0) {
        const reason = o.fn(this);
        if (typeof reason === 'string') return reason;
      }
    }
    return undefined;
  }

  /** Advance `steps` time steps. */
  run(steps: number): RunResult {
    if (!Number.isInteger(steps) || steps < 0) throw new OreoError(`run: steps must be a whole number ≥ 0, got ${steps}`);
    let stopped = this.notify();
    let done = 0;
    while (!stopped && done < steps) {
      this.simulation.advance();
      done++;
      stopped = this.simulation.problem(this.limits) ?? this.notify();
    }
    return stopped ? { steps: done, stopped } : { steps: done };
  }

  /** Steps since the start. */
  get step(): number {
    return this.simulation.step;
  }
  /** Simulated time, fs. */
  get time(): number {
    return this.simulation.time;
  }
  get z(): Int32Array {
    return this.simulation.atoms.z;
  }
  /** Live positions, Å (copy what you keep). */
  get positions(): Float64Array {
    return this.simulation.atoms.positions;
  }
  /** Live velocities, Å/fs. */
  get velocities(): Float64Array {
    return this.simulation.atoms.velocities;
  }
  /** Forces at the current positions, eV/Å. */
  get forces(): Float64Array {
    return this.simulation.forces;
  }
  /** Potential energy, eV. */
  get potentialEnergy(): number {
    return this.simulation.energy;
  }
  get kineticEnergy(): number {
    return this.simulation.kineticEnergy();
  }
  get totalEnergy(): number {
    return this.simulation.totalEnergy();
  }
  /** Instantaneous temperature, K (ASE's definition). */
  get temperature(): number {
    return this.simulation.temperature();
  }
}
