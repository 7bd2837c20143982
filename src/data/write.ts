/**
 * Writing structures to a file whose format follows its extension: `.xyz`/`.extxyz` as ASE's
 * extended xyz (info on the comment line, per-atom columns such as forces), `.sdf`/`.mol` as V2000
 * SDF (bonds when known, info as `> <key>` data items). Units as everywhere: Å, eV, eV/Å. The file
 * is written to a temporary sibling and renamed, so a crash leaves the old file or the new one.
 */
import { extname } from 'node:path';
import { OreoError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { formatExtxyzFrame, type InfoValue } from './extxyz.js';
import { formatSdfRecord } from './sdf.js';

export interface StructureRecord {
  z: Int32Array;
  /** Å, flat. */
  positions: Float64Array;
  /** Per-structure values (energy in eV, SMILES, how it was made, …). */
  info?: Record<string, InfoValue>;
  /** Per-atom arrays written as extxyz columns (e.g. forces, eV/Å, flat N×3); SDF leaves them out. */
  arrays?: Record<string, Float64Array | Int32Array>;
  /** Bonds (atoms 0-based, order 1–3), written to SDF. */
  bonds?: { a: number; b: number; order: number }[];
}

export type StructureFormat = 'extxyz' | 'sdf';

export const structureExtensions: Record<string, StructureFormat> = { '.xyz': 'extxyz', '.extxyz': 'extxyz', '.sdf': 'sdf', '.mol': 'sdf' };

export function structureFormatOf(path: string): StructureFormat {
  const f = structureExtensions[extname(path).toLowerCase()];
  if (!f) throw new OreoError(`${path}: cannot tell the format from the extension (use ${Object.keys(structureExtensions).join(', ')})`);
  return f;
}

export function formatStructure(r: StructureRecord, format: StructureFormat): string {
  if (format === 'extxyz') return formatExtxyzFrame({ z: r.z, positions: r.positions, info: r.info ?? {}, arrays: r.arrays ?? {}, pbc: [false, false, false] });
  const fields: Record<string, string | number | boolean> = { ...(r.info ?? {}) };
  return formatSdfRecord({ z: r.z, positions: r.positions }, { title: String(r.info?.smiles ?? r.info?.name ?? ''), bonds: r.bonds, fields });
}

/** Write all records to `path` in the format its extension names, atomically. */
export function writeStructureFile(path: string, records: readonly StructureRecord[]): void {
  const format = structureFormatOf(path);
  writeFileAtomic(path, records.map((r) => formatStructure(r, format)).join(''));
}
