/**
 * MD17 and revised MD17 trajectories in NumPy `.npz` form.
 *
 * Two key styles exist in the wild:
 *  - sGDML / original MD17: `z` (N,), `R` (n,N,3), `E` (n,) or (n,1), `F` (n,N,3);
 *  - rMD17: `nuclear_charges`, `coords`, `energies`, `forces`, plus `old_indices`, `old_energies`,
 *    `old_forces` (the original MD17 labels of the same frames).
 * Both store kcal/mol and kcal/mol/Å with positions in Å; forces are −∇E (checked by finite
 * differences in the tests). Values are converted here to eV and eV/Å.
 */
import { InputError } from '../errors.js';
import { energyUnits, lengthUnits } from '../units.js';
import type { Conformation, ConformationKind } from './conformation.js';
import { readNpzFile, toFloat64, toInt32, type NpyArray } from './npy.js';

export interface Md17Options {
  /** rMD17 only: read the original MD17 labels (`old_energies`, `old_forces`) instead of rMD17's. */
  oldLabels?: boolean;
  /** Energy unit of the file; default kcal/mol as both MD17 and rMD17 ship. */
  energyUnit?: string;
  /** Length unit of the file; default Å. */
  lengthUnit?: string;
  kind?: ConformationKind;
  /** Name stored as `source`; default the path. */
  source?: string;
}

interface KeyStyle {
  z: string;
  r: string;
  e: string;
  f: string;
}

const STYLES: KeyStyle[] = [
  { z: 'nuclear_charges', r: 'coords', e: 'energies', f: 'forces' },
  { z: 'z', r: 'R', e: 'E', f: 'F' },
];

/** True when the archive's keys look like MD17 (either style). */
export function isMd17Keys(keys: Iterable<string>): boolean {
  const set = new Set(keys);
  return STYLES.some((s) => set.has(s.z) && set.has(s.r));
}

function factor(table: Record<string, number>, name: string, what: string, file: string): number {
  const f = table[name];
  if (f === undefined) throw new InputError(file, `unknown ${what} unit '${name}' (known: ${Object.keys(table).join(', ')})`);
  return f;
}

export function md17FromArrays(arrays: Map<string, NpyArray>, file: string, options: Md17Options = {}): Conformation[] {
  const style = STYLES.find((s) => arrays.has(s.z) && arrays.has(s.r));
  if (!style) {
    throw new InputError(
      file,
      `no MD17 arrays: expected keys z,R[,E,F] or nuclear_charges,coords[,energies,forces]; found ${[...arrays.keys()].join(', ') || 'none'}`,
    );
  }
  const eKey = options.oldLabels ? 'old_energies' : style.e;
  const fKey = options.oldLabels ? 'old_forces' : style.f;
  if (options.oldLabels && !arrays.has('old_energies') && !arrays.has('old_forces')) {
    throw new InputError(file, `oldLabels asked for, but the file has no old_energies/old_forces (keys: ${[...arrays.keys()].join(', ')})`);
  }
  for (const key of [style.z, style.r, eKey, fKey]) {
    const a = arrays.get(key);
    if (a?.nonNumeric) throw new InputError(file, `'${key}' has dtype ${a.dtype}; a numeric array is needed`, undefined, key);
  }
  const zArr = arrays.get(style.z)!;
  const rArr = arrays.get(style.r)!;
  if (zArr.shape.length !== 1) throw new InputError(file, `'${style.z}' must be 1-D (N,), found shape (${zArr.shape.join(', ')})`, undefined, style.z);
  const nAtoms = zArr.shape[0];
  const z = toInt32(zArr, file, `'${style.z}'`);
  if (rArr.shape.length !== 3 || rArr.shape[1] !== nAtoms || rArr.shape[2] !== 3) {
    throw new InputError(file, `'${style.r}' must have shape (frames, ${nAtoms}, 3), found (${rArr.shape.join(', ')})`, undefined, style.r);
  }
  const n = rArr.shape[0];
  const eF = factor(energyUnits, options.energyUnit ?? 'kcal/mol', 'energy', file);
  const lF = factor(lengthUnits, options.lengthUnit ?? 'Å', 'length', file);

  let energies: Float64Array | undefined;
  const eArr = arrays.get(eKey);
  if (eArr) {
    const ok = (eArr.shape.length === 1 && eArr.shape[0] === n) || (eArr.shape.length === 2 && eArr.shape[0] === n && eArr.shape[1] === 1);
    if (!ok) throw new InputError(file, `'${eKey}' must have shape (${n},) or (${n}, 1) to match ${n} frames, found (${eArr.shape.join(', ')})`, undefined, eKey);
    energies = toFloat64(eArr);
  }
  let forces: Float64Array | undefined;
  const fArr = arrays.get(fKey);
  if (fArr) {
    if (fArr.shape.length !== 3 || fArr.shape[0] !== n || fArr.shape[1] !== nAtoms || fArr.shape[2] !== 3) {
      throw new InputError(file, `'${fKey}' must have shape (${n}, ${nAtoms}, 3) like '${style.r}', found (${fArr.shape.join(', ')})`, undefined, fKey);
    }
    forces = toFloat64(fArr);
  }
  const oldIdx = arrays.get('old_indices');
  const oldIndices = oldIdx && oldIdx.shape.length === 1 && oldIdx.shape[0] === n ? toFloat64(oldIdx) : undefined;
  const positions = toFloat64(rArr);
  const source = options.source ?? file;
  const stride = nAtoms * 3;
  const out: Conformation[] = [];
  for (let i = 0; i < n; i++) {
    const conf: Conformation = {
      z: z.slice(),
      positions: Float64Array.from(positions.subarray(i * stride, (i + 1) * stride), (x) => x * lF),
      source,
      index: i,
    };
    if (energies) {
      const e = energies[i];
      if (!Number.isFinite(e)) throw new InputError(file, `energy ${e} is not finite`, i, eKey);
      conf.energy = e * eF;
    }
    if (forces) conf.forces = Float64Array.from(forces.subarray(i * stride, (i + 1) * stride), (x) => (x * eF) / lF);
    if (oldIndices) conf.props = { md17_index: oldIndices[i] };
    if (options.kind) conf.kind = options.kind;
    out.push(conf);
  }
  return out;
}

/** Read an MD17/rMD17 `.npz` file; conformations are in Å, eV, eV/Å. */
export function readMd17Npz(path: string, options: Md17Options = {}): Conformation[] {
  return md17FromArrays(readNpzFile(path), path, options);
}
