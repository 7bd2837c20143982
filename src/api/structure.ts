/**
 * What the library's model calls take and give for one molecule: atomic numbers and positions in
 * Å (flat or one row per atom), energies in eV and forces in eV/Å. Shared by the ET `Model` and
 * the ANI `EnsembleModel` (src/api/model.ts, src/api/ensemble-model.ts).
 */
import { OreoError } from '../errors.js';

/**
 * One molecule: atomic numbers and Cartesian positions in Å, either flat
 * `[x0, y0, z0, x1, …]` or one `[x, y, z]` per atom. Every record `readStructures` returns is one.
 */
export interface Structure {
  z: ArrayLike<number>;
  positions: ArrayLike<number> | ArrayLike<ArrayLike<number>>;
}

export interface EnergyAndForces {
  /** Potential energy, eV (the model's own unit for a TorchMD-Net model trained on other units). */
  energy: number;
  /** Forces −∂E/∂r, flat [fx0, fy0, fz0, …], eV/Å. */
  forces: Float64Array;
}

/** Flatten positions given either way, checking the count against the atoms. */
export function flatPositions(s: Structure, where = 'structure'): Float64Array {
  const n = s.z.length;
  const p = s.positions;
  if (p.length > 0 && typeof p[0] !== 'number') {
    const rows = p as ArrayLike<ArrayLike<number>>;
    if (rows.length !== n) throw new OreoError(`${where}: ${n} atoms but ${rows.length} position rows`);
    const out = new Float64Array(3 * n);
    for (let i = 0; i < n; i++) {
      const r = rows[i];
      if (r.length !== 3) throw new OreoError(`${where}: position of atom ${i} has ${r.length} components, expected 3`);
      out[3 * i] = r[0];
      out[3 * i + 1] = r[1];
      out[3 * i + 2] = r[2];
    }
    return out;
  }
  if (p.length !== 3 * n) throw new OreoError(`${where}: ${n} atoms need ${3 * n} coordinates, got ${p.length}`);
  return Float64Array.from(p as ArrayLike<number>);
}
