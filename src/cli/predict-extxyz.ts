/**
 * `oreo predict --out FILE.extxyz`: the frames with the model's predictions, for every model kind.
 */
import { formatExtxyzFrame, type InfoValue } from '../data/extxyz.js';
import type { Conformation } from '../data/conformation.js';

export interface FramePrediction {
  frame: number;
  energy: number;
  forces: number[][];
  /** Per-frame extra values (e.g. an ensemble's spread), written under the prefix. */
  extra?: Record<string, number>;
}

/**
 * The frames with predictions as extxyz: the model's energy and forces under `prefix` keys
 * (MACE's eval_configs convention, MACE_energy/MACE_forces there), the file's own labels as
 * REF_energy/REF_forces (MACE's reference-key convention) so the file holds both for a parity plot.
 */
export function predictionsAsExtxyz(structures: Conformation[], results: FramePrediction[], prefix: string): string {
  return results
    .map((r) => {
      const c = structures[r.frame];
      const info: Record<string, InfoValue> = { frame: r.frame, [`${prefix}energy`]: r.energy };
      const arrays: Record<string, Float64Array> = { [`${prefix}forces`]: Float64Array.from(r.forces.flat()) };
      for (const [k, v] of Object.entries(r.extra ?? {})) info[`${prefix}${k}`] = v;
      if (c.energy !== undefined) info.REF_energy = c.energy;
      if (c.forces) arrays.REF_forces = c.forces;
      if (c.props) for (const [k, v] of Object.entries(c.props)) info[k] = v;
      return formatExtxyzFrame({ z: c.z, positions: c.positions, info, arrays, pbc: [false, false, false] });
    })
    .join('');
}
