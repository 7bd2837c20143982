/**
 * SPICE HDF5 (as distributed on Zenodo and by OpenFF/modelforge): one group per molecule with
 * `atomic_numbers` (N,), `conformations` (n,N,3), `dft_total_energy` (n,) and
 * `dft_total_gradient` (n,N,3), each carrying a `units` attribute. SPICE ships positions in bohr
 * and the GRADIENT (+∂E/∂R) in hartree/bohr; both are converted here, and the gradient negated.
 */
import { InputError } from '../errors.js';
import { Bohr, Hartree } from '../units.js';
import type { Conformation } from './conformation.js';
import { conformationsOfGroups, expectShape, guarded, hasDataset, openH5, readFrames, readNumeric, readStrings, subgroups, type H5Group } from './h5.js';
import type { ReadOptions } from './read-options.js';

const LENGTH: Record<string, number> = { bohr: Bohr, angstrom: 1, nanometer: 10 };

export function isSpiceGroup(g: H5Group): boolean {
  const keys = g.keys();
  return keys.includes('atomic_numbers') && keys.includes('conformations') && keys.includes('dft_total_energy');
}

function lengthFactor(file: string, rec: string, name: string, units: string | undefined): number {
  const f = LENGTH[(units ?? 'bohr').toLowerCase()];
  if (!f) throw new InputError(file, `unknown length unit '${units}'`, rec, name);
  return f;
}

function energyFactor(file: string, rec: string, name: string, units: string | undefined): number {
  const u = (units ?? 'hartree').toLowerCase();
  const f = u === 'hartree' ? Hartree : u === 'electronvolt' || u === 'ev' ? 1 : undefined;
  if (f === undefined) throw new InputError(file, `unknown energy unit '${units}'`, rec, name);
  return f;
}

/** Net charge from the formal charges written in a (mapped) SMILES, e.g. `[NH3+:12]`. */
export function smilesCharge(smiles: string): number {
  let q = 0;
  for (const m of smiles.matchAll(/\[([^\]]+)\]/g)) {
    const c = /([+-])(\d*|[+-]*)(?::\d+)?$/.exec(m[1].replace(/:\d+$/, '').replace(/@+/g, ''));
    if (!c) continue;
    const sign = c[1] === '+' ? 1 : -1;
    const mag = c[2] === '' ? 1 : /^\d+$/.test(c[2]) ? Number(c[2]) : c[2].length + 1;
    q += sign * mag;
  }
  return q;
}

export async function* iterateSpice(path: string, options: ReadOptions = {}): AsyncGenerator<Conformation> {
  const f = await openH5(path);
  try {
    const groups = guarded(path, undefined, () => subgroups(f).map((k) => f.get(k) as H5Group));
    if (groups.length === 0) throw new InputError(path, 'no groups: not a SPICE style file');
    const wantGradient = guarded(path, undefined, () => groups.some((g) => hasDataset(g, 'dft_total_gradient')));
    yield* conformationsOfGroups(path, groups, 'conformations', options, (g) => readGroup(path, g, wantGradient));
  } finally {
    f.close();
  }
}

function readGroup(file: string, g: H5Group, wantGradient: boolean): Conformation[] {
  const { rec, z, n, m, xyz, e } = readFrames(file, g, 'conformations', 'dft_total_energy');
  const lF = lengthFactor(file, rec, 'conformations', xyz.units);
  const eF = energyFactor(file, rec, 'dft_total_energy', e.units);
  const grad = wantGradient ? readNumeric(file, g, 'dft_total_gradient') : undefined;
  let gF = 0;
  if (grad) {
    expectShape(file, rec, 'dft_total_gradient', grad.shape, [m, n, 3]);
    const [eu, lu] = (grad.units ?? 'hartree/bohr').split('/');
    gF = energyFactor(file, rec, 'dft_total_gradient', eu) / lengthFactor(file, rec, 'dft_total_gradient', lu);
  }
  const formation = hasDataset(g, 'formation_energy') ? readNumeric(file, g, 'formation_energy') : undefined;
  let charge: number | undefined;
  if (hasDataset(g, 'smiles')) {
    const s = readStrings(file, g, 'smiles')[0];
    if (s) charge = smilesCharge(s);
  }
  const out: Conformation[] = [];
  for (let i = 0; i < m; i++) {
    const conf: Conformation = {
      z: z.slice(),
      positions: Float64Array.from(xyz.data.subarray(i * n * 3, (i + 1) * n * 3), (x) => x * lF),
    };
    if (Number.isFinite(e.data[i])) conf.energy = e.data[i] * eF;
    if (grad) {
      const gi = grad.data.subarray(i * n * 3, (i + 1) * n * 3);
      if (gi.every(Number.isFinite)) conf.forces = Float64Array.from(gi, (x) => -x * gF);
    }
    const props: Record<string, number> = {};
    if (charge !== undefined) props.charge = charge;
    if (formation && formation.data.length === m && Number.isFinite(formation.data[i])) {
      props.formation_energy = formation.data[i] * energyFactor(file, rec, 'formation_energy', formation.units);
    }
    if (Object.keys(props).length) conf.props = props;
    out.push(conf);
  }
  return out;
}
