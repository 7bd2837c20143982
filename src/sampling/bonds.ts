/**
 * Has a sample kept the molecule's bonding? Bonds are judged from covalent radii (Cordero 2008,
 * as ASE's `natural_cutoffs`), with hysteresis so that a thermally stretched bond is not taken for
 * a broken one:
 *  - a bond of the reference graph counts as broken when the atoms are farther apart than
 *    BREAK_FACTOR × (r_i + r_j);
 *  - a pair that is not bonded in the reference counts as a new bond when closer than
 *    FORM_FACTOR × (r_i + r_j).
 * A sample either change turns up in is another molecule (or a reaction), not a distortion of this
 * one, so sampling leaves it out and counts it.
 */
import { covalentRadius, symbolOf } from '../elements.js';

/** Factor on r_i + r_j below which two atoms are bonded when a graph is perceived from geometry. */
export const BOND_FACTOR = 1.2;
/** A reference bond longer than this × (r_i + r_j) is broken. */
export const BREAK_FACTOR = 1.5;
/** A non-bonded pair closer than this × (r_i + r_j) has formed a bond. */
export const FORM_FACTOR = 1.0;

/** Bonded pairs as a sorted set of keys i*n+j (i < j). */
export type BondGraph = Set<number>;

function key(i: number, j: number, n: number): number {
  return i < j ? i * n + j : j * n + i;
}

/** The bonded graph of a geometry from covalent radii (pairs within BOND_FACTOR × (r_i + r_j)). */
export function perceiveBonds(z: ArrayLike<number>, positions: ArrayLike<number>, factor = BOND_FACTOR): BondGraph {
  const n = z.length;
  const r = Array.from(z, (zi) => covalentRadius(zi));
  const out: BondGraph = new Set();
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const dx = positions[3 * i] - positions[3 * j];
      const dy = positions[3 * i + 1] - positions[3 * j + 1];
      const dz = positions[3 * i + 2] - positions[3 * j + 2];
      const cut = factor * (r[i] + r[j]);
      if (dx * dx + dy * dy + dz * dz < cut * cut) out.add(key(i, j, n));
    }
  }
  return out;
}

/** A graph from a flat pair list [a0, b0, a1, b1, …] (e.g. the SMILES graph). */
export function graphFromPairs(pairs: ArrayLike<number>, atomCount: number): BondGraph {
  const out: BondGraph = new Set();
  for (let k = 0; k + 1 < pairs.length; k += 2) out.add(key(pairs[k], pairs[k + 1], atomCount));
  return out;
}

/**
 * The first bonding change of `positions` against the reference graph, as a sentence naming the
 * atoms and distance ("C2–H7 broken at 1.83 Å"), or null when the bonding is the reference's.
 */
export function bondingChange(z: ArrayLike<number>, positions: ArrayLike<number>, reference: BondGraph): string | null {
  const n = z.length;
  const r = Array.from(z, (zi) => covalentRadius(zi));
  const name = (a: number) => `${symbolOf(z[a])}${a}`;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const dx = positions[3 * i] - positions[3 * j];
      const dy = positions[3 * i + 1] - positions[3 * j + 1];
      const dz = positions[3 * i + 2] - positions[3 * j + 2];
      const d = Math.sqrt(dx * dx + dy * dy + dz * dz);
      const sum = r[i] + r[j];
      const bonded = reference.has(i * n + j);
      if (bonded && d > BREAK_FACTOR * sum) return `${name(i)}–${name(j)} broken at ${d.toFixed(2)} Å`;
      if (!bonded && d < FORM_FACTOR * sum) return `${name(i)}–${name(j)} formed at ${d.toFixed(2)} Å`;
    }
  }
  return null;
}
