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
import { openNpzFile, toFloat64, toInt32, type NpyArray } from './npy.js';

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

/** The arrays an MD17 reader needs, whole (`md17FromArrays`) or row by row (an npz file). */
interface Md17Source {
  keys(): string[];
  has(key: string): boolean;
  describe(key: string): { dtype: string; shape: number[]; nonNumeric?: true };
  array(key: string): NpyArray;
  rows(key: string): Iterator<NpyArray>;
}

function sourceOfArrays(arrays: Map<string, NpyArray>): Md17Source {
  return {
    keys: () => [...arrays.keys()],
    has: (k) => arrays.has(k),
    describe: (k) => arrays.get(k)!,
    array: (k) => arrays.get(k)!,
    *rows(k) {
      const a = arrays.get(k)!;
      const per = a.shape.slice(1).reduce((x, y) => x * y, 1);
      for (let r = 0; r < a.shape[0]; r++) yield { dtype: a.dtype, shape: [1, ...a.shape.slice(1)], data: a.data.subarray(r * per, (r + 1) * per) as NpyArray['data'] };
    },
  };
}

export function md17FromArrays(arrays: Map<string, NpyArray>, file: string, options: Md17Options = {}): Conformation[] {
  return [...iterateMd17(sourceOfArrays(arrays), file, options)];
}

/**
 * Conformations one frame at a time: shapes are checked from the headers first, then positions,
 * energies and forces are read a row at a time, so memory holds one frame (plus `z`).
 */
function* iterateMd17(src: Md17Source, file: string, options: Md17Options = {}): Generator<Conformation> {
  const style = STYLES.find((s) => src.has(s.z) && src.has(s.r));
  if (!style) {
    throw new InputError(
      file,
      `no MD17 arrays: expected keys z,R[,E,F] or nuclear_charges,coords[,energies,forces]; found ${src.keys().join(', ') || 'none'}`,
    );
  }
  const eKey = options.oldLabels ? 'old_energies' : style.e;
  const fKey = options.oldLabels ? 'old_forces' : style.f;
  if (options.oldLabels && !src.has('old_energies') && !src.has('old_forces')) {
    throw new InputError(file, `oldLabels asked for, but the file has no old_energies/old_forces (keys: ${src.keys().join(', ')})`);
  }
  const info = new Map<string, { dtype: string; shape: number[] }>();
  for (const key of [style.z, style.r, eKey, fKey, 'old_indices']) {
    if (!src.has(key)) continue;
    const a = src.describe(key);
    if (a.nonNumeric) {
      if (key === 'old_indices') continue;
      throw new InputError(file, `'${key}' has dtype ${a.dtype}; a numeric array is needed`, undefined, key);
    }
    info.set(key, a);
  }
  const zInfo = info.get(style.z)!;
  const rInfo = info.get(style.r)!;
  if (zInfo.shape.length !== 1) throw new InputError(file, `'${style.z}' must be 1-D (N,), found shape (${zInfo.shape.join(', ')})`, undefined, style.z);
  const nAtoms = zInfo.shape[0];
  if (rInfo.shape.length !== 3 || rInfo.shape[1] !== nAtoms || rInfo.shape[2] !== 3) {
    throw new InputError(file, `'${style.r}' must have shape (frames, ${nAtoms}, 3), found (${rInfo.shape.join(', ')})`, undefined, style.r);
  }
  const n = rInfo.shape[0];
  const eF = factor(energyUnits, options.energyUnit ?? 'kcal/mol', 'energy', file);
  const lF = factor(lengthUnits, options.lengthUnit ?? 'Å', 'length', file);
  const eInfo = info.get(eKey);
  if (eInfo) {
    const ok = (eInfo.shape.length === 1 && eInfo.shape[0] === n) || (eInfo.shape.length === 2 && eInfo.shape[0] === n && eInfo.shape[1] === 1);
    if (!ok) throw new InputError(file, `'${eKey}' must have shape (${n},) or (${n}, 1) to match ${n} frames, found (${eInfo.shape.join(', ')})`, undefined, eKey);
  }
  const fInfo = info.get(fKey);
  if (fInfo && (fInfo.shape.length !== 3 || fInfo.shape[0] !== n || fInfo.shape[1] !== nAtoms || fInfo.shape[2] !== 3)) {
    throw new InputError(file, `'${fKey}' must have shape (${n}, ${nAtoms}, 3) like '${style.r}', found (${fInfo.shape.join(', ')})`, undefined, fKey);
  }
  const oInfo = info.get('old_indices');
  const useOld = oInfo !== undefined && oInfo.shape.length === 1 && oInfo.shape[0] === n;

  const z = toInt32(src.array(style.z), file, `'${style.z}'`);
  const rRows = src.rows(style.r);
  const eRows = eInfo ? src.rows(eKey) : undefined;
  const fRows = fInfo ? src.rows(fKey) : undefined;
  const oRows = useOld ? src.rows('old_indices') : undefined;
  const next = (it: Iterator<NpyArray>, key: string, i: number): Float64Array => {
    const r = it.next();
    if (r.done) throw new InputError(file, 'array ends before its declared shape', i, key);
    return toFloat64(r.value);
  };
  const source = options.source ?? file;
  for (let i = 0; i < n; i++) {
    const conf: Conformation = {
      z: z.slice(),
      positions: Float64Array.from(next(rRows, style.r, i), (x) => x * lF),
      source,
      index: i,
    };
    if (eRows) {
      const e = next(eRows, eKey, i)[0];
      if (!Number.isFinite(e)) throw new InputError(file, `energy ${e} is not finite`, i, eKey);
      conf.energy = e * eF;
    }
    if (fRows) conf.forces = Float64Array.from(next(fRows, fKey, i), (x) => (x * eF) / lF);
    if (oRows) conf.props = { md17_index: next(oRows, 'old_indices', i)[0] };
    if (options.kind) conf.kind = options.kind;
    yield conf;
  }
}

/** Read an MD17/rMD17 `.npz` file; conformations are in Å, eV, eV/Å. */
export function readMd17Npz(path: string, options: Md17Options = {}): Conformation[] {
  return [...iterateMd17Npz(path, options)];
}

/** MD17/rMD17 conformations one at a time: memory holds one frame, however large the file inflates. */
export function* iterateMd17Npz(path: string, options: Md17Options = {}): Generator<Conformation> {
  yield* iterateMd17(openNpzFile(path), path, options);
}
