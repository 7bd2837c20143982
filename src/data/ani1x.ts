/**
 * ANI-1x / ANI-1ccx HDF5 as released (`ani1x-release.h5`): one group per molecular formula,
 * each with `atomic_numbers` (N,), `coordinates` (n,N,3) in Å, and per level of theory
 * `<level>.energy` (n,) in Hartree and `<level>.forces` (n,N,3) in Hartree/Å (true forces, −∇E).
 * Missing labels are stored as NaN in the release; such conformations come back without that
 * label rather than with a NaN.
 */
import { InputError } from '../errors.js';
import { Hartree } from '../units.js';
import type { Conformation } from './conformation.js';
import { conformationsOfGroups, expectShape, guarded, hasDataset, openH5, readFrames, readNumeric, subgroups, type H5Group } from './h5.js';
import type { ReadOptions } from './read-options.js';

export const ANI1X_DEFAULT_LEVEL = 'wb97x_dz';

/** True when a group looks like an ANI-1x formula group. */
export function isAni1xGroup(g: H5Group): boolean {
  const keys = g.keys();
  return keys.includes('atomic_numbers') && keys.includes('coordinates') && keys.some((k) => k.endsWith('.energy'));
}

export async function* iterateAni1x(path: string, options: ReadOptions = {}): AsyncGenerator<Conformation> {
  const level = options.level ?? ANI1X_DEFAULT_LEVEL;
  const eName = `${level}.energy`;
  const fName = `${level}.forces`;
  const f = await openH5(path);
  try {
    const groups = guarded(path, undefined, () => subgroups(f).map((k) => f.get(k) as H5Group));
    if (groups.length === 0) throw new InputError(path, 'no groups: not an ANI-1x style file');
    if (!guarded(path, undefined, () => groups.some((g) => hasDataset(g, eName)))) {
      const levels = new Set(groups.flatMap((g) => g.keys().filter((k) => k.endsWith('.energy')).map((k) => k.slice(0, -7))));
      throw new InputError(path, `no group has '${eName}'; levels of theory in this file: ${[...levels].join(', ') || 'none'}`);
    }
    // Forces are expected in every group as soon as the file has them for this level at all, so
    // that one group that lost its forces is reported instead of silently training on energies.
    const wantForces = guarded(path, undefined, () => groups.some((g) => hasDataset(g, fName)));
    yield* conformationsOfGroups(path, groups, 'coordinates', options, (g) => readGroup(path, g, eName, wantForces ? fName : undefined));
  } finally {
    f.close();
  }
}

function readGroup(file: string, g: H5Group, eName: string, fName: string | undefined): Conformation[] {
  const { rec, z, n, m, xyz, e } = readFrames(file, g, 'coordinates', eName);
  const forces = fName ? readNumeric(file, g, fName) : undefined;
  if (forces && fName) expectShape(file, rec, fName, forces.shape, [m, n, 3]);
  const out: Conformation[] = [];
  const fF = Hartree; // Ha/Å → eV/Å
  for (let i = 0; i < m; i++) {
    const conf: Conformation = { z: z.slice(), positions: xyz.data.slice(i * n * 3, (i + 1) * n * 3) };
    if (Number.isFinite(e.data[i])) conf.energy = e.data[i] * Hartree;
    if (forces) {
      const fi = forces.data.subarray(i * n * 3, (i + 1) * n * 3);
      if (fi.every(Number.isFinite)) conf.forces = Float64Array.from(fi, (x) => x * fF);
    }
    out.push(conf);
  }
  return out;
}
