/**
 * QM9 (Ramakrishnan et al., Sci. Data 2014): equilibrium B3LYP/6-31G(2df,p) geometries of 134k
 * small organic molecules with 15 properties.
 *
 * The raw release is one file per molecule, `dsgdb9nsd_NNNNNN.xyz`:
 *   line 1: N;  line 2: `gdb <id>` and 15 properties A B C mu alpha homo lumo gap r2 zpve U0 U H
 *   G Cv (energies in Hartree);  N lines `symbol x y z mulliken_charge` (Å);  then frequencies,
 *   SMILES and InChI lines. Numbers may use Mathematica's `*^` exponent (`1.2*^-6`).
 *
 * Property names are normalised to one vocabulary (that of the raw file / PyG) whatever the
 * source calls them (epsHOMO, u0, energy_U0, …), and energy-like properties are converted to eV.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { atomicNumber } from '../elements.js';
import { Hartree } from '../units.js';
import type { Conformation } from './conformation.js';
import { reportOrThrow, type ReadOptions } from './read-options.js';

/** The 15 QM9 properties in the raw file's order. */
export const QM9_PROPERTIES = ['A', 'B', 'C', 'mu', 'alpha', 'homo', 'lumo', 'gap', 'r2', 'zpve', 'U0', 'U', 'H', 'G', 'Cv'] as const;

/** Units of each property after reading (energies in eV; the rest as QM9 ships them). */
export const QM9_UNITS: Record<string, string> = {
  A: 'GHz', B: 'GHz', C: 'GHz', mu: 'D', alpha: 'a0^3',
  homo: 'eV', lumo: 'eV', gap: 'eV', r2: 'a0^2', zpve: 'eV',
  U0: 'eV', U: 'eV', H: 'eV', G: 'eV', Cv: 'cal/mol/K',
};

const ENERGY_LIKE = new Set(['homo', 'lumo', 'gap', 'zpve', 'U0', 'U', 'H', 'G']);

/** Other names for the same properties in QM9 derivatives (metatrain, DeepChem CSV, schnetpack). */
const ALIASES: Record<string, string> = {
  epsHOMO: 'homo', epsLUMO: 'lumo', epsgap: 'gap', '<R2>': 'r2',
  u0: 'U0', u298: 'U', h298: 'H', g298: 'G', cv: 'Cv',
  rotational_constant_A: 'A', rotational_constant_B: 'B', rotational_constant_C: 'C',
  dipole_moment: 'mu', isotropic_polarizability: 'alpha', electronic_spatial_extent: 'r2',
  energy_U0: 'U0', energy_U: 'U', enthalpy_H: 'H', free_energy: 'G', heat_capacity: 'Cv',
};

export function qm9Name(key: string): string | undefined {
  if ((QM9_PROPERTIES as readonly string[]).includes(key)) return key;
  return ALIASES[key];
}

/** True when a property set looks like QM9's (HOMO, LUMO and U0 under any of their names). */
export function looksLikeQm9(keys: Iterable<string>): boolean {
  const names = new Set([...keys].map((k) => qm9Name(k)));
  return names.has('homo') && names.has('lumo') && names.has('U0');
}

/**
 * Rename QM9 properties to the standard names and convert energy-like ones to eV.
 * `energyUnitOf(key)` gives the unit factor (to eV) of a raw key; default Hartree, QM9's own.
 * Keys that are not QM9 properties are kept unchanged.
 */
export function normalizeQm9Props(raw: Record<string, number>, energyFactorOf: (key: string) => number = () => Hartree): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(raw)) {
    const name = qm9Name(k);
    if (!name) {
      out[k] = v;
      continue;
    }
    out[name] = ENERGY_LIKE.has(name) ? v * energyFactorOf(k) : v;
  }
  return out;
}

/** A QM9 number: plain, or with Mathematica's `*^` exponent. */
export function parseQm9Number(tok: string): number {
  const t = tok.includes('*^') ? tok.replace('*^', 'e') : tok;
  return t.trim() === '' ? NaN : Number(t);
}

/** One raw QM9 molecule. `index` is the record index used for splits (gdb id − 1 by default). */
export function parseQm9Xyz(text: string, file: string, index?: number): Conformation {
  const lines = text.split(/\r?\n/);
  const n = Number(lines[0]?.trim());
  if (!Number.isInteger(n) || n < 1) throw new InputError(file, `line 1: expected the atom count, found '${(lines[0] ?? '').trim()}'`);
  const head = (lines[1] ?? '').trim().split(/\s+/);
  if (head[0] !== 'gdb' || head.length < 2 + QM9_PROPERTIES.length) {
    throw new InputError(file, `line 2: expected 'gdb <id>' and ${QM9_PROPERTIES.length} properties, found ${head.length} fields`);
  }
  const gdbId = Number(head[1]);
  if (!Number.isInteger(gdbId)) throw new InputError(file, `line 2: gdb id '${head[1]}' is not an integer`, undefined, 'gdb');
  const raw: Record<string, number> = {};
  QM9_PROPERTIES.forEach((p, i) => {
    const v = parseQm9Number(head[2 + i]);
    if (!Number.isFinite(v)) throw new InputError(file, `line 2: property ${p} '${head[2 + i]}' is not a number`, undefined, p);
    raw[p] = v;
  });
  if (lines.length < 2 + n) throw new InputError(file, `file ends after ${lines.length} lines; ${n} atom lines expected after line 2`);
  const z = new Int32Array(n);
  const positions = new Float64Array(n * 3);
  for (let a = 0; a < n; a++) {
    const lineNo = 3 + a;
    const f = lines[2 + a].trim().split(/\s+/);
    if (f.length !== 5) throw new InputError(file, `line ${lineNo}: atom ${a} has ${f.length} fields, expected 5 (symbol x y z charge)`);
    try {
      z[a] = atomicNumber(f[0]);
    } catch {
      throw new InputError(file, `line ${lineNo}: unknown element '${f[0]}'`);
    }
    for (let k = 0; k < 3; k++) {
      const v = parseQm9Number(f[1 + k]);
      if (!Number.isFinite(v)) throw new InputError(file, `line ${lineNo}: coordinate '${f[1 + k]}' is not a number`);
      positions[a * 3 + k] = v;
    }
  }
  const props = normalizeQm9Props(raw);
  props.gdb_id = gdbId;
  return { z, positions, props, source: file, index: index ?? gdbId - 1, kind: 'equilibrium' };
}

/** True when a text starts like a raw QM9 file (count line, then `gdb <id>` and properties). */
export function isQm9XyzText(head: string): boolean {
  const lines = head.split(/\r?\n/, 3);
  return /^\s*\d+\s*$/.test(lines[0] ?? '') && /^gdb\s+\d+\s/.test(lines[1] ?? '');
}

export function readQm9Xyz(path: string, options: ReadOptions = {}): Conformation {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InputError(path, `cannot read file: ${(err as Error).message}`);
  }
  const c = parseQm9Xyz(text, path);
  if (options.source) c.source = options.source;
  if (options.kind) c.kind = options.kind;
  return c;
}

/**
 * A directory of raw QM9 files (`dsgdb9nsd_*.xyz`), in gdb order. The directory is the source;
 * each molecule's index is its gdb id − 1, so indices stay meaningful for any subset.
 */
export function readQm9Directory(dir: string, options: ReadOptions = {}): Conformation[] {
  const names = readdirSync(dir)
    .filter((n) => /^dsgdb9nsd_\d+\.xyz$/.test(n))
    .sort();
  if (names.length === 0) throw new InputError(dir, 'no dsgdb9nsd_*.xyz files in this directory');
  const out: Conformation[] = [];
  for (const name of names) {
    const p = join(dir, name);
    if (!statSync(p).isFile()) continue;
    try {
      const c = readQm9Xyz(p, options);
      c.source = options.source ?? dir;
      out.push(c);
    } catch (err) {
      reportOrThrow(err, options);
    }
    if (options.limit !== undefined && out.length >= options.limit) break;
  }
  return out;
}
