/**
 * Molecular dynamics from a script, in the manner of ASE's dynamics objects: make a `Dynamics`
 * from a model (or any Calculator) and a structure, `attach` observers that run every n steps,
 * then `run(steps)`. It steps the same in-memory Simulation `oreo simulate` runs; for runs with
 * trajectory files, checkpoints and resume, use `runSimulation` (re-exported by the package).
 *
 * Units: Å, Å/fs, fs, K, eV.
 */
import type { Calculator } from '../calculator.js';
import type { ThermostatKind } from '../md/integrators/types.js';
import { thermostatSettings } from '../md/integrators/types.js';
import { createSimulation } from '../md/setup.js';
import { Simulation, defaultStopLimits, type StopLimits } from '../md/simulation.js';
import { MdLoop } from '../md/loop.js';
import { type Collapse, Watchdog, type WatchdogOptions } from '../md/watchdog.js';
import { freshSeed } from '../random.js';
import { OreoError } from '../errors.js';
import { Model, flatPositions, type Structure } from './model.js';
import { EnsembleModel } from './ensemble-model.js';

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
  /**
   * The stability watchdog (on by default): a bond more than 0.5 Å off its starting length
   * (MDsim's criterion), a runaway temperature or NVE energy drift stops `run` with a reason
   * naming the bond or quantity and the time. `false` turns it off; `allowUnstable: true` only
   * warns (through `onWarning`, default console.warn) and goes on.
   */
  stability?: false | (WatchdogOptions & { allowUnstable?: boolean; onWarning?: (message: string) => void });
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
  /** Why the run stopped before the requested steps (an observer's reason, a stop limit, or a collapse). */
  stopped?: string;
  /** Set when the stability watchdog tripped: what came apart, and when (also under allowUnstable). */
  collapse?: Collapse;
}

export class Dynamics {
  readonly simulation: Simulation;
  readonly seed: number;
  /** The loop every MD in oreo runs (src/md/loop.ts), with its checks. */
  readonly loop: MdLoop;

  constructor(model: Model | EnsembleModel | Calculator, start: DynamicsStart, options: DynamicsOptions = {}) {
    const calculator = model instanceof Model || model instanceof EnsembleModel ? model.calculator() : model;
    const z = Int32Array.from(start.z);
    calculator.checkElements?.(z);
    const unsuited = calculator.applicability?.(z);
    if (unsuited) {
      const warn = options.stability !== false && options.stability?.onWarning ? options.stability.onWarning : (m: string) => console.warn(`oreo Dynamics: ${m}`);
      warn(`warning: ${unsuited}`);
    }
    this.seed = options.seed ?? freshSeed();
    const temperature = options.temperature ?? 300;
    this.simulation = createSimulation(
      { z, positions: flatPositions(start), velocities: start.velocities, masses: start.masses },
      calculator,
      {
        ...thermostatSettings({ ...options, thermostat: options.thermostat ?? 'nve', dt: options.timestep ?? 0.5, temperature }),
        initTemperature: options.initialTemperature ?? temperature,
        seed: this.seed,
        zeroMomentum: options.zeroMomentum ?? true,
        zeroAngularMomentum: options.zeroAngularMomentum ?? true,
      },
    );
    const stability = options.stability ?? {};
    const watchdog =
      stability === false
        ? undefined
        : new Watchdog(
            this.simulation,
            { thermostat: options.thermostat ?? 'nve', temperature: options.thermostat === 'nve' || !options.thermostat ? (options.initialTemperature ?? temperature) : temperature },
            stability,
          );
    this.loop = new MdLoop(this.simulation, {
      limits: { ...defaultStopLimits, ...options.stopLimits },
      watchdog,
      allowUnstable: stability !== false && stability.allowUnstable,
      onWarning: stability !== false && stability.onWarning ? stability.onWarning : (m) => console.warn(`oreo Dynamics: ${m}`),
    });
  }

  /**
   * Call `fn` every `interval` steps (and at the step a run starts on, when it is a multiple),
   * as ASE's `dyn.attach(fn, interval=n)` does.
   */
  attach(fn: Observer, interval = 1): this {
    if (!Number.isInteger(interval) || interval < 1) throw new OreoError(`attach: interval must be a whole number ≥ 1, got ${interval}`);
    this.loop.attach(() => fn(this), interval);
    return this;
  }

  /** Advance `steps` time steps (fewer when the run stops: see `stopped`). */
  run(steps: number): RunResult {
    if (!Number.isInteger(steps) || steps < 0) throw new OreoError(`run: steps must be a whole number ≥ 0, got ${steps}`);
    const first = this.simulation.step;
    const stop = this.loop.notify() ?? this.loop.run(first + steps);
    const result: RunResult = { steps: this.simulation.step - first };
    if (stop) result.stopped = stop.reason;
    if (this.loop.firstCollapse) result.collapse = this.loop.firstCollapse;
    return result;
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
