/**
 * The one check every conformation passes on its way out of a reader (src/data/read.ts) or into
 * `oreo predict`/`simulate`: finite positions, labels and properties, arrays of the right length,
 * and no two atoms on top of each other. A failure is an InputError naming the file, the record
 * (frame) and the field, instead of a NaN loss, a null MAE or a crash in a kernel later.
 */
import { InputError } from '../errors.js';
import type { Conformation } from './conformation.js';

/** Closer than this, two atoms are the same point to any force field (H₂ bonds at 0.74 Å). */
export const OVERLAP_DISTANCE = 0.1;

function firstNonFinite(a: ArrayLike<number>): number {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return i;
  return -1;
}

const axis = ['x', 'y', 'z'];

/** `labels: false` checks the structure alone (for prediction and MD, which read no labels). */
export function checkConformation(c: Conformation, file: string, record: number | string = c.index ?? 0, options: { labels?: boolean } = {}): void {
  const n = c.z.length;
  if (c.positions.length !== 3 * n) throw new InputError(file, `${c.positions.length} position values for ${n} atoms`, record, 'positions');
  let bad = firstNonFinite(c.positions);
  if (bad >= 0) {
    throw new InputError(file, `atom ${Math.floor(bad / 3)} has a non-finite ${axis[bad % 3]} coordinate (${c.positions[bad]})`, record, 'positions');
  }
  const labels = options.labels ?? true;
  if (labels && c.forces) {
    if (c.forces.length !== 3 * n) throw new InputError(file, `${c.forces.length} force values for ${n} atoms`, record, 'forces');
    bad = firstNonFinite(c.forces);
    if (bad >= 0) throw new InputError(file, `atom ${Math.floor(bad / 3)} has a non-finite ${axis[bad % 3]} force (${c.forces[bad]})`, record, 'forces');
  }
  if (labels && c.energy !== undefined && !Number.isFinite(c.energy)) throw new InputError(file, `energy ${c.energy} is not finite`, record, 'energy');
  for (const [k, v] of Object.entries(labels ? (c.props ?? {}) : {})) {
    if (!Number.isFinite(v)) throw new InputError(file, `property value ${v} is not finite`, record, k);
  }
  if (c.cell && firstNonFinite(c.cell) >= 0) throw new InputError(file, 'the cell holds a non-finite value', record, 'cell');
  const pair = overlappingPair(c.positions, n);
  if (pair) {
    const [i, j, d] = pair;
    throw new InputError(file, `atoms ${i} and ${j} are ${d.toFixed(3)} Å apart (overlapping; closer than ${OVERLAP_DISTANCE} Å)`, record, 'positions');
  }
}

/** A pair of atoms closer than OVERLAP_DISTANCE, if any: sort by x, compare within the window. */
export function overlappingPair(r: ArrayLike<number>, n: number): [number, number, number] | undefined {
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => r[3 * a] - r[3 * b]);
  for (let p = 0; p < n; p++) {
    const i = order[p];
    for (let q = p + 1; q < n; q++) {
      const j = order[q];
      const dx = r[3 * j] - r[3 * i];
      if (dx >= OVERLAP_DISTANCE) break;
      const dy = r[3 * j + 1] - r[3 * i + 1];
      const dz = r[3 * j + 2] - r[3 * i + 2];
      const d = Math.sqrt(dx * dx + dy * dy + dz * dz);
      if (d < OVERLAP_DISTANCE) return i < j ? [i, j, d] : [j, i, d];
    }
  }
  return undefined;
}
