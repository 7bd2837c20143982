/**
 * COMP6 benchmark files and the original ANI-1 data (the pyanitools layout): nested groups whose
 * leaves hold `coordinates` (n,N,3) in Å, `energies` (n,) in Hartree, `species` (N,) element
 * symbols and, in COMP6, `forces` (n,N,3) in Hartree/Å.
 *
 * COMP6's `forces` are GRADIENTS (+∂E/∂R): along the S66x8 dissociation curves
 * ΔE / (−½(F₀+F₁)·ΔR) is −1.00, not +1 (see data/PROVENANCE.md). They are negated here unless
 * `forcesAreGradients: false` is given.
 */
import { InputError } from '../errors.js';
import { atomicNumber } from '../elements.js';
import { Hartree } from '../units.js';
import type { Conformation } from './conformation.js';
import { conformationsOfGroups, expectShape, guarded, hasDataset, openH5, readNumeric, readStrings, subgroups, type H5Group } from './h5.js';
import type { ReadOptions } from './read-options.js';

export function isComp6Group(g: H5Group): boolean {
  const keys = g.keys();
  return keys.includes('coordinates') && keys.includes('species') && keys.includes('energies');
}

/** Leaf groups holding molecules, depth-first in file order. */
function leaves(g: H5Group, out: H5Group[] = []): H5Group[] {
  if (isComp6Group(g)) {
    out.push(g);
    return out;
  }
  for (const k of subgroups(g)) leaves(g.get(k) as H5Group, out);
  return out;
}

export async function* iterateComp6(path: string, options: ReadOptions = {}): AsyncGenerator<Conformation> {
  const negate = options.forcesAreGradients ?? true;
  const f = await openH5(path);
  try {
    const groups = guarded(path, undefined, () => leaves(f));
    if (groups.length === 0) throw new InputError(path, 'no group with coordinates/species/energies: not a COMP6/ANI-1 style file');
    const wantForces = guarded(path, undefined, () => groups.some((g) => hasDataset(g, 'forces')));
    yield* conformationsOfGroups(path, groups, 'coordinates', options, (g) => readGroup(path, g, wantForces, negate));
  } finally {
    f.close();
  }
}

function readGroup(file: string, g: H5Group, wantForces: boolean, negate: boolean): Conformation[] {
  const rec = g.path;
  const species = readStrings(file, g, 'species');
  const z = new Int32Array(species.length);
  species.forEach((s, i) => {
    try {
      z[i] = atomicNumber(s);
    } catch {
      throw new InputError(file, `unknown element symbol '${s}' at atom ${i}`, rec, 'species');
    }
  });
  const n = z.length;
  const xyz = readNumeric(file, g, 'coordinates');
  expectShape(file, rec, 'coordinates', xyz.shape, [undefined, n, 3]);
  const m = xyz.shape[0];
  const e = readNumeric(file, g, 'energies');
  expectShape(file, rec, 'energies', e.shape, [m]);
  const forces = wantForces ? readNumeric(file, g, 'forces') : undefined;
  if (forces) expectShape(file, rec, 'forces', forces.shape, [m, n, 3]);
  const s = (negate ? -1 : 1) * Hartree;
  const out: Conformation[] = [];
  for (let i = 0; i < m; i++) {
    const conf: Conformation = { z: z.slice(), positions: xyz.data.slice(i * n * 3, (i + 1) * n * 3) };
    if (Number.isFinite(e.data[i])) conf.energy = e.data[i] * Hartree;
    if (forces) {
      const fi = forces.data.subarray(i * n * 3, (i + 1) * n * 3);
      if (fi.every(Number.isFinite)) conf.forces = Float64Array.from(fi, (x) => x * s);
    }
    out.push(conf);
  }
  return out;
}
