/**
 * Covalent bonds from distances, the way MDsim finds them for its stability criterion:
 * `NeighborList(natural_cutoffs(atoms), self_interaction=False)` in ASE.
 *
 * natural_cutoffs gives each atom its covalent radius (times `mult`, 1 by default). ASE's
 * NeighborList then adds its `skin` (default 0.3 Å) to every atom's radius, so atoms a and b are
 * neighbours when d < (r_a + skin) + (r_b + skin) = r_a + r_b + 0.6 Å. The skin matters: without
 * it a C–H bond of 1.09 Å is not found (0.76 + 0.31 = 1.07 Å) and aspirin's bond count varies
 * from 9 to 18 over the rMD17 frames; with it every frame gives MDsim's 21 (sometimes 22).
 * Each pair is listed once, i < j.
 */
import { covalentRadius } from '../elements.js';

/** A bond between atoms i < j (0-based). */
export type Bond = readonly [number, number];

export interface BondOptions {
  /** ASE NeighborList's skin, Å, added to every atom's cutoff radius. Default 0.3 (ASE's default, MDsim's value). */
  skin?: number;
  /** natural_cutoffs' multiplier of the covalent radii. Default 1. */
  mult?: number;
}

export const ASE_NEIGHBORLIST_SKIN = 0.3;

/** Bonds of one structure (flat positions, Å). */
export function findBonds(z: ArrayLike<number>, positions: ArrayLike<number>, options: BondOptions = {}): Bond[] {
  const skin = options.skin ?? ASE_NEIGHBORLIST_SKIN;
  const mult = options.mult ?? 1;
  const n = z.length;
  if (positions.length !== 3 * n) throw new RangeError(`findBonds: ${n} atoms but ${positions.length} coordinates`);
  const radius = Float64Array.from({ length: n }, (_, i) => covalentRadius(z[i]) * mult + skin);
  const bonds: Bond[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (distance(positions, i, j) < radius[i] + radius[j]) bonds.push([i, j]);
    }
  }
  return bonds;
}

/**
 * Distance between atoms i and j. With `box` (a cubic cell edge, Å) the minimum image is taken
 * per component the way MDsim's `distance_pbc` does: |Δ| > box/2 becomes |Δ| − box.
 */
export function distance(positions: ArrayLike<number>, i: number, j: number, box?: number): number {
  let s = 0;
  for (let k = 0; k < 3; k++) {
    let d = Math.abs(positions[3 * j + k] - positions[3 * i + k]);
    if (box !== undefined && d > 0.5 * box) d -= box;
    s += d * d;
  }
  return Math.sqrt(s);
}

/** Lengths of the given bonds in one frame, Å. */
export function bondLengths(positions: ArrayLike<number>, bonds: readonly Bond[], box?: number): Float64Array {
  const out = new Float64Array(bonds.length);
  for (let b = 0; b < bonds.length; b++) out[b] = distance(positions, bonds[b][0], bonds[b][1], box);
  return out;
}

/** Mean length of each bond over a set of frames (MDsim: all frames of the reference data). */
export function meanBondLengths(frames: Iterable<ArrayLike<number>>, bonds: readonly Bond[], box?: number): Float64Array {
  const sum = new Float64Array(bonds.length);
  let n = 0;
  for (const f of frames) {
    const l = bondLengths(f, bonds, box);
    for (let b = 0; b < l.length; b++) sum[b] += l[b];
    n++;
  }
  if (n === 0) throw new RangeError('meanBondLengths: no frames');
  return sum.map((s) => s / n);
}
