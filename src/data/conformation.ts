/**
 * The one record every reader produces and every consumer (training, MD, analysis) takes.
 * Units are oreo's internal ones: Å, eV, eV/Å. Forces are forces (−∇E), never gradients:
 * readers of files that store gradients negate them.
 */

export type ConformationKind = 'equilibrium' | 'off-equilibrium';

export interface Conformation {
  /** Atomic numbers, one per atom. */
  z: Int32Array;
  /** Cartesian positions, flat [x0,y0,z0,x1,...], Å. */
  positions: Float64Array;
  /** Total energy, eV. */
  energy?: number;
  /** Forces, flat like positions, eV/Å. */
  forces?: Float64Array;
  /** Per-molecule scalar properties (e.g. homo, lumo, gap in eV). */
  props?: Record<string, number>;
  /** Periodic cell as 3 row vectors (Å), when the file has one. */
  cell?: Float64Array;
  /** Which file (or named source) it came from, and its index there: used by splits. */
  source?: string;
  index?: number;
  kind?: ConformationKind;
}

export function atomCount(c: Conformation): number {
  return c.z.length;
}
