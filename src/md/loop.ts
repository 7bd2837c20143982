/**
 * The one MD loop. `oreo simulate` (run.ts), the library's `Dynamics` and the browser worker all
 * step a Simulation through this, so every one of them gets the same checks after every step, in
 * the same order, whatever the integrator:
 *   1. `Simulation.problem`: non-finite positions, velocities, forces or energy, and the
 *      temperature limits (MDsim's 0.1 K and 1e5 K);
 *   2. the stability watchdog (watchdog.ts): bonds, runaway temperature, NVE energy drift;
 *   3. observers attached at an interval, as ASE's `dyn.attach(fn, interval)` (frames, thermo,
 *      progress, checkpoints). An observer may stop the run by returning a reason.
 * No file or network access here, and nothing per step is allocated.
 */
import type { Simulation, StopLimits } from './simulation.js';
import { defaultStopLimits } from './simulation.js';
import { timeInPs } from './output.js';
import type { Collapse, Watchdog } from './watchdog.js';

export type LoopObserver = (sim: Simulation) => string | void;

export interface LoopStop {
  /** What stopped the run: a limit or non-finite value, the watchdog, or an observer. */
  kind: 'problem' | 'collapse' | 'observer';
  reason: string;
  /** True when the current state is unusable (non-finite values): keep the last good checkpoint. */
  broken: boolean;
  /** For a watchdog trip: what collapsed and when. */
  collapse?: Collapse;
}

export interface LoopOptions {
  limits?: StopLimits;
  watchdog?: Watchdog;
  /** Go on after a watchdog trip, calling `onWarning` once per kind of trip instead of stopping. */
  allowUnstable?: boolean;
  onWarning?(message: string, collapse: Collapse): void;
}

export class MdLoop {
  readonly limits: StopLimits;
  readonly watchdog?: Watchdog;
  readonly allowUnstable: boolean;
  /** The first watchdog trip of this loop (also when allowUnstable let the run go on). */
  firstCollapse?: Collapse;
  private readonly observers: { fn: LoopObserver; interval: number }[] = [];
  private readonly warned = new Set<string>();
  private readonly onWarning?: (message: string, collapse: Collapse) => void;

  constructor(readonly sim: Simulation, options: LoopOptions = {}) {
    this.limits = options.limits ?? defaultStopLimits;
    this.watchdog = options.watchdog;
    this.allowUnstable = options.allowUnstable ?? false;
    this.onWarning = options.onWarning;
  }

  /** Call `fn` every `interval` steps (at steps that are multiples of it). */
  attach(fn: LoopObserver, interval = 1): this {
    if (!Number.isInteger(interval) || interval < 1) throw new RangeError(`attach: interval must be a whole number ≥ 1, got ${interval}`);
    this.observers.push({ fn, interval });
    return this;
  }

  /** Run the observers due at the current step; the first reason returned stops the run. */
  notify(): LoopStop | undefined {
    for (const o of this.observers) {
      if (this.sim.step % o.interval === 0) {
        const reason = o.fn(this.sim);
        if (typeof reason === 'string') return { kind: 'observer', reason, broken: false };
      }
    }
    return undefined;
  }

  /** The checks of the current state, without stepping (also usable on a start or a resume). */
  inspect(): LoopStop | undefined {
    const sim = this.sim;
    const problem = sim.problem(this.limits);
    if (problem) {
      // A thermostat that drains a shattered molecule to 0 K, or a blow-up to NaN, is first of
      // all a molecule that came apart: say so when the bonds show it.
      const broken = /non-finite/.test(problem);
      const bond = !broken && this.watchdog ? this.watchdog.brokenBond(sim) : null;
      const reason = bond ? `collapsed at ${timeInPs(sim.step, sim.integrator.dt)} ps (step ${sim.step}): ${bond}; then ${problem}` : problem;
      return { kind: 'problem', reason, broken };
    }
    const collapse = this.watchdog?.check(sim);
    if (collapse) {
      this.firstCollapse ??= collapse;
      if (!this.allowUnstable) return { kind: 'collapse', reason: collapse.message, broken: false, collapse };
      if (!this.warned.has(collapse.kind)) {
        this.warned.add(collapse.kind);
        this.onWarning?.(`warning: ${collapse.message} (going on: unstable runs allowed)`, collapse);
      }
    }
    return undefined;
  }

  /** One time step with every check. */
  step(): LoopStop | undefined {
    this.sim.advance();
    return this.inspect() ?? this.notify();
  }

  /**
   * Step until `targetStep`, a stop, or `more()` returns false (asked after each step, e.g. a
   * time slice running out). Returns the stop, if any.
   */
  run(targetStep: number, more?: () => boolean): LoopStop | undefined {
    while (this.sim.step < targetStep) {
      const stop = this.step();
      if (stop) return stop;
      if (more && !more()) return undefined;
    }
    return undefined;
  }
}
