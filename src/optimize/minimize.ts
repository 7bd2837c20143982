/**
 * Geometry optimisation with any Calculator (an oreo model, ANI-2x, xtb, an analytic potential),
 * the loop of ASE's `Optimizer.run(fmax, steps)`: forces at the start, then steps until the largest
 * per-atom force is below `fmax` (eV/Å, ASE's test: max_i |F_i|² < fmax²) or the step limit is
 * reached. A run that hits the limit is not an error: it comes back with `converged: false`, and
 * callers (the CLI) say so and exit non-zero. Every visited geometry is handed to `onStep`, which
 * is how the CLI writes the path as an extxyz trajectory.
 */
import { OreoError } from '../errors.js';
import type { Calculator } from '../calculator.js';
import { Fire, type FireOptions } from './fire.js';
import { Lbfgs, type LbfgsOptions } from './lbfgs.js';
import type { Optimizer } from './types.js';

export type OptimizerKind = 'fire' | 'lbfgs';
export const optimizerKinds: readonly OptimizerKind[] = ['fire', 'lbfgs'];

export interface MinimizeOptions {
  /** 'fire' or 'lbfgs' (default). */
  method?: OptimizerKind;
  /** Converged when every atom's force is below this, eV/Å (default 0.05, ASE's). */
  fmax?: number;
  /** Most optimiser steps (default 1000). */
  steps?: number;
  fire?: FireOptions;
  lbfgs?: LbfgsOptions;
  /** Called at the start (step 0) and after every step; return a string to stop with that reason. */
  onStep?(s: MinimizeStep): string | void;
}

export interface MinimizeStep {
  step: number;
  /** eV */
  energy: number;
  /** Largest per-atom force, eV/Å. */
  fmax: number;
  /** Live arrays: copy what you keep. Å and eV/Å, flat. */
  positions: Float64Array;
  forces: Float64Array;
}

export interface MinimizeResult {
  converged: boolean;
  /** Why it stopped without converging: the step limit, or an onStep reason. */
  reason?: string;
  method: OptimizerKind;
  steps: number;
  evaluations: number;
  energy: number;
  fmax: number;
  /** Final positions (Å) and the forces there (eV/Å), flat. */
  positions: Float64Array;
  forces: Float64Array;
  /** Energy at the start, eV. */
  startEnergy: number;
  startFmax: number;
}

export function maxAtomForce(forces: ArrayLike<number>): number {
  let m = 0;
  for (let a = 0; a < forces.length / 3; a++) {
    const f2 = forces[3 * a] ** 2 + forces[3 * a + 1] ** 2 + forces[3 * a + 2] ** 2;
    if (f2 > m) m = f2;
  }
  return Math.sqrt(m);
}

export function createOptimizer(method: OptimizerKind, options: Pick<MinimizeOptions, 'fire' | 'lbfgs'> = {}): Optimizer {
  if (method === 'fire') return new Fire(options.fire);
  if (method === 'lbfgs') return new Lbfgs(options.lbfgs);
  throw new OreoError(`unknown optimiser '${String(method)}' (choose one of: ${optimizerKinds.join(', ')})`);
}

/** Relax `positions` (not modified) of the atoms `z` with `calculator`. */
export function minimize(calculator: Calculator, z: ArrayLike<number>, positions: ArrayLike<number>, options: MinimizeOptions = {}): MinimizeResult {
  const method = options.method ?? 'lbfgs';
  const fmaxTarget = options.fmax ?? 0.05;
  const maxSteps = options.steps ?? 1000;
  if (!(fmaxTarget > 0 && Number.isFinite(fmaxTarget))) throw new OreoError(`fmax must be > 0 eV/Å, got ${fmaxTarget}`);
  if (!(Number.isInteger(maxSteps) && maxSteps >= 0)) throw new OreoError(`the step limit must be an integer ≥ 0, got ${maxSteps}`);
  const zz = Int32Array.from(z);
  if (positions.length !== 3 * zz.length) throw new OreoError(`${zz.length} atoms but ${positions.length} coordinates`);
  calculator.checkElements?.(zz);
  const optimizer = createOptimizer(method, options);
  const x = Float64Array.from(positions);
  if (!x.every(Number.isFinite)) throw new OreoError('the starting structure has non-finite coordinates');
  let evaluations = 0;
  const evaluate = (step: number) => {
    const r = calculator.compute(zz, x);
    evaluations++;
    if (!Number.isFinite(r.energy) || !r.forces.every(Number.isFinite)) {
      throw new OreoError(`${calculator.name} gave a non-finite energy or force at optimisation step ${step}; the geometry left what the model can describe`);
    }
    return { energy: r.energy, forces: Float64Array.from(r.forces) };
  };
  let { energy, forces } = evaluate(0);
  const startEnergy = energy;
  let fmax = maxAtomForce(forces);
  const startFmax = fmax;
  let step = 0;
  let reason = options.onStep?.({ step, energy, fmax, positions: x, forces }) || undefined;
  while (!reason && !(fmax < fmaxTarget) && step < maxSteps) {
    optimizer.step(x, forces, energy);
    step++;
    ({ energy, forces } = evaluate(step));
    fmax = maxAtomForce(forces);
    reason = options.onStep?.({ step, energy, fmax, positions: x, forces }) || undefined;
  }
  const converged = fmax < fmaxTarget;
  if (!converged && !reason) reason = `not converged: fmax ${fmax.toPrecision(3)} eV/Å > ${fmaxTarget} after ${step} steps (the step limit)`;
  const result: MinimizeResult = { converged, method, steps: step, evaluations, energy, fmax, positions: x, forces, startEnergy, startFmax };
  if (!converged) result.reason = reason;
  return result;
}
