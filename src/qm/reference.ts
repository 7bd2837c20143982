/**
 * A reference calculator: an external quantum-chemistry program that labels structures with
 * energies and forces, the way an ASE user attaches a calculator. It is an ordinary MD Calculator
 * (synchronous compute) with an asynchronous twin for labelling several frames at once, a
 * geometry optimiser where the program has one, and a description for dataset metadata.
 *
 * Implementations: xtb (GFN2-xTB, GFN1-xTB). The interface is what psi4 or NWChem would implement
 * too: write an input file in a scratch directory, run the program, read energy and gradient back.
 */
import type { Calculator, EnergyForces } from '../calculator.js';

export interface OptimizeResult {
  /** Relaxed positions, flat, Å. */
  positions: Float64Array;
  /** Energy at the relaxed positions, eV. */
  energy: number;
  /** False when the optimiser stopped at its cycle limit before meeting its criteria. */
  converged: boolean;
  /** Optimiser cycles taken. */
  cycles: number;
}

export interface OptimizeOptions {
  /** Convergence level in the program's own terms (xtb: crude, sloppy, loose, normal, tight, …). */
  level?: string;
  /** Upper limit on optimisation cycles. */
  maxCycles?: number;
}

/** What a dataset records about how its labels were made. */
export interface ReferenceDescription {
  /** Program name, e.g. "xtb". */
  program: string;
  /** Program version as the program reports it, e.g. "6.5.1". */
  version: string;
  /** Level of theory, e.g. "GFN2-xTB". */
  method: string;
  /** Every setting that changes the numbers (charge, accuracy, electronic temperature, …). */
  settings: Record<string, string | number>;
}

export interface ReferenceCalculator extends Calculator {
  /** Refuse elements the method has no parameters for, naming them. */
  checkElements(z: Int32Array): void;
  /** Same numbers as `compute`, without blocking: several calls may run at once. */
  computeAsync(z: Int32Array, positions: Float64Array): Promise<EnergyForces>;
  /** Relax a structure with the program's own optimiser, where it has one. */
  optimize?(z: Int32Array, positions: Float64Array, options?: OptimizeOptions): OptimizeResult;
  /** Cartesian Hessian, flat row-major 3N×3N, eV/Å², where the program computes one. */
  hessian?(z: Int32Array, positions: Float64Array): Float64Array;
  describe(): ReferenceDescription;
}
