/**
 * What MD (and analysis, labelling, the web app) know about a model: give it atoms, get energy
 * and forces back. Both the ET potential and analytic test potentials implement this; MD never
 * imports the engine.
 */

export interface EnergyForces {
  /** Potential energy, eV. */
  energy: number;
  /** Forces, flat [fx0, fy0, fz0, ...], eV/Å. */
  forces: Float64Array;
}

export interface Calculator {
  /** A short human-readable name for logs and metadata. */
  readonly name: string;
  /** Energy and forces for one structure. Positions are flat, Å. */
  compute(z: Int32Array, positions: Float64Array): EnergyForces;
  /** Throws a clear error if this calculator cannot handle these elements. */
  checkElements?(z: Int32Array): void;
  /**
   * Why this calculator may not suit this molecule (e.g. a model fine-tuned on another molecule),
   * or null. Runs warn with it before the first step; it never stops them.
   */
  applicability?(z: Int32Array): string | null;
}
