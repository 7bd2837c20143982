/**
 * One entry point for every supported file: pick the reader from the extension and, where the
 * extension is ambiguous (.xyz, .h5), from the content. All readers return Conformations in Å,
 * eV, eV/Å with `source` and `index` set.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { InputError } from '../errors.js';
import { readAseDbJson } from './asedb-json.js';
import { iterateAni1x, isAni1xGroup } from './ani1x.js';
import { iterateComp6, isComp6Group } from './comp6.js';
import type { Conformation } from './conformation.js';
import { frameToConformation, iterateExtxyzFile, statedEnergyUnit } from './extxyz.js';
import { Hartree } from '../units.js';
import { guarded, isGroup, isHdf5Signature, openH5, subgroups, type H5Group } from './h5.js';
import { iterateMd17Npz } from './md17.js';
import { readCxsmilesCsv } from './pcqm4mv2.js';
import { isQm9XyzText, looksLikeQm9, normalizeQm9Props, readQm9Directory, readQm9Xyz } from './qm9.js';
import type { ReadOptions } from './read-options.js';
import { checkConformation } from './validate.js';
import { iterateSdfFile } from './sdf.js';
import { iterateSpice, isSpiceGroup } from './spice.js';
import { iteratePdbFile } from './pdb.js';

export type { ReadOptions } from './read-options.js';

export type FormatName =
  | 'extxyz'
  | 'qm9-xyz'
  | 'qm9-dir'
  | 'md17-npz'
  | 'ani1x-h5'
  | 'comp6-h5'
  | 'spice-h5'
  | 'sdf'
  | 'cxsmiles-csv'
  | 'asedb-json'
  | 'pdb';

export interface FormatInfo {
  format: FormatName;
  description: string;
  /** Units in the file, before conversion (what a user should expect to find there). */
  fileUnits: string;
}

export const FORMATS: Record<FormatName, Omit<FormatInfo, 'format'>> = {
  extxyz: { description: 'xyz / extended xyz (ASE)', fileUnits: 'Å, eV, eV/Å unless energyUnit/lengthUnit say otherwise' },
  'qm9-xyz': { description: 'QM9 raw dsgdb9nsd xyz', fileUnits: 'Å; energies Ha' },
  'qm9-dir': { description: 'directory of QM9 raw dsgdb9nsd xyz files', fileUnits: 'Å; energies Ha' },
  'md17-npz': { description: 'MD17 / rMD17 NumPy npz', fileUnits: 'Å, kcal/mol, kcal/mol/Å' },
  'ani1x-h5': { description: 'ANI-1x HDF5 (per-formula groups)', fileUnits: 'Å, Ha, Ha/Å (forces)' },
  'comp6-h5': { description: 'COMP6 / ANI-1 HDF5 (pyanitools layout)', fileUnits: 'Å, Ha, Ha/Å (stored as gradients)' },
  'spice-h5': { description: 'SPICE HDF5', fileUnits: 'bohr, Ha, Ha/bohr (stored as gradients)' },
  sdf: { description: 'SDF / MOL (OpenChemLib)', fileUnits: 'Å' },
  'cxsmiles-csv': { description: 'CSV of CXSMILES with 3D coordinates (PCQM4Mv2 sample)', fileUnits: 'Å; gap eV' },
  'asedb-json': { description: 'ASE database JSON export', fileUnits: 'Å, eV, eV/Å; QM9 properties as the file states' },
  pdb: { description: 'PDB (ATOM/HETATM records, one structure per MODEL)', fileUnits: 'Å' },
};

function head(path: string, bytes = 4096): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const n = readSync(fd, buf, 0, bytes, 0);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

async function h5Layout(path: string): Promise<FormatName> {
  const f = await openH5(path);
  try {
    const firstLeaf = (g: H5Group, depth: number): H5Group | undefined => {
      for (const k of subgroups(g)) {
        const s = g.get(k);
        if (!isGroup(s)) continue;
        if (isAni1xGroup(s) || isSpiceGroup(s) || isComp6Group(s)) return s;
        if (depth < 3) {
          const d = firstLeaf(s, depth + 1);
          if (d) return d;
        }
      }
      return undefined;
    };
    const g = guarded(path, undefined, () => firstLeaf(f, 0));
    if (!g) throw new InputError(path, 'HDF5 file in no known layout (ANI-1x, COMP6/ANI-1, SPICE)');
    if (isSpiceGroup(g)) return 'spice-h5';
    if (isAni1xGroup(g)) return 'ani1x-h5';
    return 'comp6-h5';
  } finally {
    f.close();
  }
}

/** Which reader a path needs. */
export async function detectFormat(path: string): Promise<FormatName> {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new InputError(path, 'no such file or directory');
  }
  if (st.isDirectory()) return 'qm9-dir';
  const ext = extname(path).toLowerCase();
  const h = head(path);
  if (isHdf5Signature(h)) return h5Layout(path);
  if (ext === '.h5' || ext === '.hdf5') throw new InputError(path, 'not an HDF5 file (bad signature); truncated or corrupted?');
  if (ext === '.npz' || (h[0] === 0x50 && h[1] === 0x4b)) return 'md17-npz';
  const text = h.toString('utf8');
  if (ext === '.sdf' || ext === '.mol' || ext === '.sd') return 'sdf';
  if (ext === '.csv') return 'cxsmiles-csv';
  if (ext === '.json') return 'asedb-json';
  if (ext === '.pdb' || ext === '.ent') return 'pdb';
  if (ext === '.xyz' || ext === '.extxyz') return isQm9XyzText(text) ? 'qm9-xyz' : 'extxyz';
  if (/^\s*\d+\s*\r?\n/.test(text)) return isQm9XyzText(text) ? 'qm9-xyz' : 'extxyz';
  if (/V[23]000/.test(text)) return 'sdf';
  throw new InputError(path, `cannot tell the format of '${basename(path)}' (known: .xyz .extxyz .npz .h5 .hdf5 .sdf .mol .pdb .csv .json, or a QM9 directory)`);
}

/**
 * Conformations of a file, one at a time; memory holds one record (xyz, SDF) or one HDF5 group
 * at a time. npz, CSV and JSON are read whole (they are in-memory formats by design).
 */
export async function* iterateConformations(path: string, options: ReadOptions & { format?: FormatName } = {}): AsyncGenerator<Conformation> {
  // Every reader's output passes the same check (finite, consistent, no overlapping atoms).
  let record = 0;
  for await (const c of iterateUnchecked(path, options)) {
    checkConformation(c, path, c.index ?? record);
    record++;
    yield c;
  }
}

async function* iterateUnchecked(path: string, options: ReadOptions & { format?: FormatName }): AsyncGenerator<Conformation> {
  const format = options.format ?? (await detectFormat(path));
  const limit = options.limit ?? Infinity;
  let n = 0;
  const take = function* (list: Iterable<Conformation>) {
    for (const c of list) {
      if (n >= limit) return;
      n++;
      yield c;
    }
  };
  switch (format) {
    case 'extxyz': {
      let qm9: boolean | undefined;
      let index = 0;
      for (const frame of iterateExtxyzFile(path, options)) {
        if (n >= limit) return;
        const c = frameToConformation(frame, options.source ?? path, index, {
          energyUnit: options.energyUnit,
          lengthUnit: options.lengthUnit,
          forcesAreGradients: options.forcesAreGradients,
          kind: options.kind,
        });
        qm9 ??= looksLikeQm9(Object.keys(frame.info));
        // Energy-like QM9 properties (homo, lumo, gap, U0, …) are in the unit the frame states,
        // whichever of them it has; a frame that states none is QM9's Hartree when it carries
        // the whole QM9 set, else eV (oreo's own files state eV).
        const stated = statedEnergyUnit(frame, path, index);
        if (c.props && (stated || qm9)) c.props = normalizeQm9Props(c.props, () => stated?.factor ?? Hartree);
        if (qm9 && c.props) c.kind ??= 'equilibrium';
        index++;
        n++;
        yield c;
      }
      return;
    }
    case 'qm9-xyz':
      yield* take([readQm9Xyz(path, options)]);
      return;
    case 'qm9-dir':
      yield* take(readQm9Directory(path, options));
      return;
    case 'md17-npz':
      yield* take(iterateMd17Npz(path, { ...options }));
      return;
    case 'ani1x-h5':
      yield* iterateAni1x(path, options);
      return;
    case 'comp6-h5':
      yield* iterateComp6(path, options);
      return;
    case 'spice-h5':
      yield* iterateSpice(path, options);
      return;
    case 'sdf':
      yield* take(iterateSdfFile(path, options));
      return;
    case 'cxsmiles-csv':
      yield* take(readCxsmilesCsv(path, options));
      return;
    case 'asedb-json':
      yield* take(readAseDbJson(path, options));
      return;
    case 'pdb':
      yield* take(iteratePdbFile(path, options));
      return;
  }
}

/** All conformations of a file (see iterateConformations). */
export async function readConformations(path: string, options: ReadOptions & { format?: FormatName } = {}): Promise<Conformation[]> {
  const out: Conformation[] = [];
  for await (const c of iterateConformations(path, options)) out.push(c);
  return out;
}
