/**
 * ASE database JSON export (`ase db in.db --insert-into out.json`, or any `*.json` ASE db), and
 * the flat re-serialisation `{units, molecules:[{row_id, z, pos, props}]}` used for the QM9
 * sample in data/qm9.
 *
 * ASE's layout: one object per row id (`"1": {...}`) plus `"ids"`, `"nextid"` and optionally
 * `"metadata"`. A row has `numbers`, `positions` (Å), optionally `cell`, `pbc`, `energy` (eV),
 * `forces` (eV/Å), `key_value_pairs` and `data`. Arrays are either JSON lists or ASE's encoding
 * `{"__ndarray__": [shape, dtype, flat values]}`.
 *
 * QM9 properties found in key_value_pairs/data are renamed and converted (energies to eV) using
 * the units the file states (schnetpack's `_property_unit_dict` metadata, or `units`). When a file
 * states none, `energyUnit` must be given: guessing would silently mix Hartree and eV.
 */
import { readFileSync } from 'node:fs';
import { InputError } from '../errors.js';
import { energyUnits } from '../units.js';
import type { Conformation } from './conformation.js';
import { looksLikeQm9, normalizeQm9Props } from './qm9.js';
import { readEach, type ReadOptions } from './read-options.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Flatten an ASE-encoded or plain (nested) JSON array to numbers. */
function numbers(v: Json | undefined, file: string, rec: string | number, field: string): number[] {
  if (v && typeof v === 'object' && !Array.isArray(v) && '__ndarray__' in v) {
    const nd = v.__ndarray__;
    if (!Array.isArray(nd) || nd.length !== 3 || !Array.isArray(nd[2])) {
      throw new InputError(file, 'malformed __ndarray__ (expected [shape, dtype, values])', rec, field);
    }
    return numbers(nd[2], file, rec, field);
  }
  if (typeof v === 'number') return [v];
  if (typeof v === 'boolean') return [v ? 1 : 0];
  if (!Array.isArray(v)) throw new InputError(file, `expected a numeric array, found ${v === undefined ? 'nothing' : typeof v}`, rec, field);
  const out: number[] = [];
  const walk = (x: Json) => {
    if (Array.isArray(x)) x.forEach(walk);
    else if (typeof x === 'number') out.push(x);
    else if (typeof x === 'boolean') out.push(x ? 1 : 0);
    else throw new InputError(file, `non-numeric entry ${JSON.stringify(x)}`, rec, field);
  };
  walk(v);
  return out;
}

function isObject(v: Json | undefined): v is { [k: string]: Json } {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/** Energy factor (to eV) of a unit string as QM9 derivatives write them. */
function energyFactorOfUnit(u: string | undefined): number | undefined {
  if (u === undefined) return undefined;
  const t = u.trim();
  const table: Record<string, string> = { Ha: 'Ha', Hartree: 'Ha', hartree: 'Ha', eV: 'eV', ev: 'eV', 'kcal/mol': 'kcal/mol', 'kJ/mol': 'kJ/mol', meV: 'meV' };
  const key = table[t];
  return key ? energyUnits[key] : undefined;
}

/** Scalar numeric props from key_value_pairs and data (single-element arrays count as scalars). */
function scalarProps(obj: Json | undefined, file: string, rec: string | number): Record<string, number> {
  const out: Record<string, number> = {};
  if (!isObject(obj)) return out;
  for (const [k, v] of Object.entries(obj)) {
    if (typeof v === 'number') out[k] = v;
    else if (typeof v === 'boolean') continue;
    else if (Array.isArray(v) || isObject(v)) {
      try {
        const arr = numbers(v, file, rec, k);
        if (arr.length === 1) out[k] = arr[0];
      } catch {
        /* non-numeric data entries are not properties we can carry */
      }
    }
  }
  return out;
}

export function isAseDbJson(obj: unknown): boolean {
  return isObject(obj as Json) && Array.isArray((obj as { ids?: unknown }).ids);
}

export function isFlatMoleculesJson(obj: unknown): boolean {
  return isObject(obj as Json) && Array.isArray((obj as { molecules?: unknown }).molecules);
}

export function parseAseDbJson(text: string, file: string, options: ReadOptions = {}): Conformation[] {
  let obj: Json;
  try {
    obj = JSON.parse(text) as Json;
  } catch (err) {
    throw new InputError(file, `not valid JSON: ${(err as Error).message}`);
  }
  if (isAseDbJson(obj)) return fromAseLayout(obj as { [k: string]: Json }, file, options);
  if (isFlatMoleculesJson(obj)) return fromFlatLayout(obj as { [k: string]: Json }, file, options);
  throw new InputError(file, 'neither an ASE database JSON (with "ids") nor a {molecules:[...]} file');
}

export function readAseDbJson(path: string, options: ReadOptions = {}): Conformation[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InputError(path, `cannot read file: ${(err as Error).message}`);
  }
  return parseAseDbJson(text, path, options);
}

function propsWithQm9Units(
  raw: Record<string, number>,
  unitOf: (k: string) => string | undefined,
  file: string,
  rec: string | number,
  options: ReadOptions,
): Record<string, number> {
  if (!looksLikeQm9(Object.keys(raw))) return raw;
  const fallback = options.energyUnit !== undefined ? energyUnits[options.energyUnit] : undefined;
  if (options.energyUnit !== undefined && fallback === undefined) {
    throw new InputError(file, `unknown energy unit '${options.energyUnit}' (known: ${Object.keys(energyUnits).join(', ')})`);
  }
  return normalizeQm9Props(raw, (k) => {
    const f = energyFactorOfUnit(unitOf(k)) ?? fallback;
    if (f === undefined) {
      throw new InputError(file, `the file does not state the unit of QM9 property '${k}'; pass energyUnit (e.g. Ha or eV)`, rec, k);
    }
    return f;
  });
}

function fromAseLayout(obj: { [k: string]: Json }, file: string, options: ReadOptions): Conformation[] {
  const ids = numbers(obj.ids, file, 'ids', 'ids');
  const meta = isObject(obj.metadata) ? obj.metadata : undefined;
  const unitDict = meta && isObject(meta._property_unit_dict) ? meta._property_unit_dict : undefined;
  const unitOf = (k: string) => {
    const u = unitDict?.[k];
    return typeof u === 'string' ? u : undefined;
  };
  const source = options.source ?? file;
  return readEach(ids, options, (id, i) => {
    const rec = `row ${id}`;
    const row = obj[String(id)];
    if (!isObject(row)) throw new InputError(file, `row ${id} listed in "ids" is missing`, rec);
    const z = Int32Array.from(numbers(row.numbers, file, rec, 'numbers'));
    const positions = Float64Array.from(numbers(row.positions, file, rec, 'positions'));
    if (positions.length !== z.length * 3) {
      throw new InputError(file, `${positions.length} position values for ${z.length} atoms`, rec, 'positions');
    }
    const c: Conformation = { z, positions, source, index: i };
    if (typeof row.energy === 'number') c.energy = row.energy;
    if (row.forces !== undefined) {
      const f = Float64Array.from(numbers(row.forces, file, rec, 'forces'));
      if (f.length !== z.length * 3) throw new InputError(file, `${f.length} force values for ${z.length} atoms`, rec, 'forces');
      c.forces = f;
    }
    const pbc = row.pbc !== undefined ? numbers(row.pbc, file, rec, 'pbc') : [];
    if (row.cell !== undefined && pbc.some((p) => p)) {
      const cellJson = isObject(row.cell) && 'array' in row.cell ? row.cell.array : row.cell;
      const cell = numbers(cellJson, file, rec, 'cell');
      if (cell.length === 9) c.cell = Float64Array.from(cell);
    }
    const raw = { ...scalarProps(row.key_value_pairs, file, rec), ...scalarProps(row.data, file, rec) };
    return withProps(c, raw, propsWithQm9Units(raw, unitOf, file, rec, options), options);
  });
}

function fromFlatLayout(obj: { [k: string]: Json }, file: string, options: ReadOptions): Conformation[] {
  const units = isObject(obj.units) ? obj.units : {};
  const unitOf = (k: string) => {
    const u = units[k];
    return typeof u === 'string' ? u : undefined;
  };
  const posUnit = unitOf('positions');
  if (posUnit !== undefined && !['Ang', 'Å', 'Angstrom', 'angstrom', 'A'].includes(posUnit)) {
    throw new InputError(file, `positions are in '${posUnit}'; only Å is supported in this layout`, undefined, 'units');
  }
  const mols = obj.molecules as Json[];
  const source = options.source ?? file;
  return readEach(mols, options, (m, i) => {
    const rec = i;
    if (!isObject(m)) throw new InputError(file, 'molecule entry is not an object', rec);
    const z = Int32Array.from(numbers(m.z, file, rec, 'z'));
    const positions = Float64Array.from(numbers(m.pos, file, rec, 'pos'));
    if (positions.length !== z.length * 3) throw new InputError(file, `${positions.length} position values for ${z.length} atoms`, rec, 'pos');
    const c: Conformation = { z, positions, source, index: i };
    const raw = scalarProps(m.props, file, rec);
    const props = propsWithQm9Units(raw, unitOf, file, rec, options);
    if (typeof m.row_id === 'number') props.row_id = m.row_id;
    return withProps(c, raw, props, options);
  });
}

/** The row's scalar properties; QM9's rows are equilibrium geometries unless the options name a kind. */
function withProps(c: Conformation, raw: Record<string, number>, props: Record<string, number>, options: ReadOptions): Conformation {
  if (Object.keys(props).length) c.props = props;
  if (looksLikeQm9(Object.keys(raw))) c.kind = 'equilibrium';
  if (options.kind) c.kind = options.kind;
  return c;
}
