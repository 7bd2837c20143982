/**
 * Thin, checked access to HDF5 files through h5wasm (the HDF Group's C library compiled to
 * WebAssembly). Every failure names the file, the group (the record) and the dataset (the field).
 */
import { existsSync, statSync } from 'node:fs';
import h5wasm from 'h5wasm/node';
import { InputError } from '../errors.js';
import type { Conformation } from './conformation.js';
import { reportOrThrow, type ReadOptions } from './read-options.js';

export type H5File = InstanceType<typeof h5wasm.File>;
export type H5Group = InstanceType<typeof h5wasm.Group>;
export type H5Dataset = InstanceType<typeof h5wasm.Dataset>;

const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/** True when the bytes start with the HDF5 signature (at offset 0; user blocks are rare). */
export function isHdf5Signature(head: Uint8Array): boolean {
  return HDF5_SIGNATURE.every((b, i) => head[i] === b);
}

/** Open an HDF5 file read-only; the caller must close it. */
export async function openH5(path: string): Promise<H5File> {
  await h5wasm.ready;
  if (!existsSync(path) || !statSync(path).isFile()) throw new InputError(path, 'no such file');
  let f: H5File;
  try {
    f = new h5wasm.File(path, 'r');
  } catch (err) {
    throw new InputError(path, `not a readable HDF5 file: ${(err as Error).message}`);
  }
  // h5wasm reports some open failures only through a zero file id.
  if (!f.file_id) throw new InputError(path, 'not a readable HDF5 file (truncated or corrupted?)');
  try {
    f.keys();
  } catch (err) {
    f.close();
    throw h5Error(err, path);
  }
  return f;
}

export function isGroup(e: unknown): e is H5Group {
  return e instanceof h5wasm.Group;
}

export function isDataset(e: unknown): e is H5Dataset {
  return e instanceof h5wasm.Dataset;
}

/**
 * HDF5 errors from the library (a truncated file often opens, then fails on first read with a
 * terse message) turned into an InputError that names the file and the group.
 */
export function h5Error(err: unknown, file: string, record?: string): InputError {
  if (err instanceof InputError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  return new InputError(file, `HDF5 read failed (${msg}); the file may be truncated or corrupted`, record);
}

/** Run an HDF5 read, converting library errors with h5Error. */
export function guarded<T>(file: string, record: string | undefined, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw h5Error(err, file, record);
  }
}

/** Names of the sub-groups of a group, in the file's order. */
export function subgroups(g: H5Group): string[] {
  return g.keys().filter((k) => isGroup(safeGet(g, k)));
}

function safeGet(g: H5Group, name: string): unknown {
  try {
    return g.get(name);
  } catch {
    return null;
  }
}

export function hasDataset(g: H5Group, name: string): boolean {
  return g.keys().includes(name) && isDataset(safeGet(g, name));
}

export interface NumericDataset {
  shape: number[];
  data: Float64Array;
  /** The `units` attribute, when present (SPICE writes one on each dataset). */
  units?: string;
}

/** A numeric dataset read whole, as float64. */
export function readNumeric(file: string, g: H5Group, name: string): NumericDataset {
  const record = g.path;
  if (!g.keys().includes(name)) {
    throw new InputError(file, `group has no dataset '${name}' (has: ${g.keys().join(', ')})`, record, name);
  }
  const ds = safeGet(g, name);
  if (!isDataset(ds)) throw new InputError(file, `'${name}' is not a dataset`, record, name);
  let value: unknown;
  try {
    value = ds.value;
  } catch (err) {
    throw new InputError(file, `cannot read dataset: ${(err as Error).message}`, record, name);
  }
  const shape = ds.shape ?? [];
  let data: Float64Array;
  if (value instanceof Float64Array) data = value;
  else if (value instanceof BigInt64Array || value instanceof BigUint64Array) data = Float64Array.from(value, (x) => Number(x));
  else if (ArrayBuffer.isView(value)) data = Float64Array.from(value as unknown as ArrayLike<number>);
  else if (typeof value === 'number') data = Float64Array.of(value);
  else throw new InputError(file, `dataset is not numeric (dtype ${JSON.stringify(ds.dtype)})`, record, name);
  const expected = shape.reduce((a, b) => a * b, 1);
  if (data.length !== expected) {
    throw new InputError(file, `dataset holds ${data.length} values but its shape is (${shape.join(', ')})`, record, name);
  }
  let units: string | undefined;
  const attrs = ds.attrs;
  if (attrs.units) {
    const u = attrs.units.value;
    if (typeof u === 'string') units = u;
  }
  return { shape, data, units };
}

/** A string dataset (scalar or 1-D) as an array of strings. */
export function readStrings(file: string, g: H5Group, name: string): string[] {
  const ds = safeGet(g, name);
  if (!isDataset(ds)) throw new InputError(file, `group has no string dataset '${name}'`, g.path, name);
  const v = ds.value;
  const flat = (x: unknown): string[] => (Array.isArray(x) ? x.flatMap(flat) : [decodeString(x)]);
  return flat(v);
}

function decodeString(x: unknown): string {
  if (typeof x === 'string') return x;
  if (x instanceof Uint8Array) return new TextDecoder().decode(x);
  return String(x);
}

/** Check a dataset's shape against an expectation, naming what disagrees. */
export function expectShape(file: string, record: string, name: string, shape: number[], expected: (number | undefined)[]): void {
  const ok = shape.length === expected.length && expected.every((e, i) => e === undefined || e === shape[i]);
  if (!ok) {
    const exp = expected.map((e) => (e === undefined ? '*' : String(e))).join(', ');
    throw new InputError(file, `shape (${shape.join(', ')}) does not match the expected (${exp})`, record, name);
  }
}

/**
 * A molecule group's atomic numbers (`atomic_numbers`, N), its frames' coordinates (m × N × 3,
 * under `coordinates`) and one energy per frame (under `energy`), shapes checked; values as stored.
 */
export function readFrames(file: string, g: H5Group, coordinates: string, energy: string) {
  const rec = g.path;
  const zs = readNumeric(file, g, 'atomic_numbers');
  expectShape(file, rec, 'atomic_numbers', zs.shape, [undefined]);
  const n = zs.shape[0];
  const xyz = readNumeric(file, g, coordinates);
  expectShape(file, rec, coordinates, xyz.shape, [undefined, n, 3]);
  const m = xyz.shape[0];
  const e = readNumeric(file, g, energy);
  expectShape(file, rec, energy, e.shape, [m]);
  return { rec, z: Int32Array.from(zs.data), n, m, xyz, e };
}

/**
 * The conformations of a file's groups in order, for the group-per-molecule HDF5 formats
 * (ANI-1x, COMP6, SPICE). `read` turns one group into records; a group it fails on is reported
 * or, with skipBad, left out, and the frames it held (the first axis of `framesIn`) still count,
 * so the indices of later records do not depend on whether a bad group was skipped. Each record
 * gets the source name, its running index and the requested kind, up to `options.limit`.
 */
export function* conformationsOfGroups(
  path: string,
  groups: H5Group[],
  framesIn: string,
  options: ReadOptions,
  read: (g: H5Group) => Conformation[],
): Generator<Conformation> {
  const source = options.source ?? path;
  let index = 0;
  let emitted = 0;
  for (const g of groups) {
    let confs: Conformation[];
    try {
      confs = guarded(path, g.path, () => read(g));
    } catch (err) {
      reportOrThrow(err, options);
      index += frameCount(g, framesIn);
      continue;
    }
    for (const c of confs) {
      c.source = source;
      c.index = index++;
      if (options.kind) c.kind = options.kind;
      yield c;
      if (options.limit !== undefined && ++emitted >= options.limit) return;
    }
  }
}

/** Length of the first axis of dataset `name` in g; 0 where the group cannot tell. */
function frameCount(g: H5Group, name: string): number {
  try {
    return (g.get(name) as { shape?: number[] | null } | null)?.shape?.[0] ?? 0;
  } catch {
    return 0;
  }
}
