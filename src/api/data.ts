/**
 * Reading and writing structures for the library API. Every reader gives Conformations in Å,
 * eV, eV/Å whatever the file's own units; `writeExtxyz` writes ASE-readable extended XYZ.
 */
import { writeFileAtomic } from '../io/atomic.js';
import type { Conformation } from '../data/conformation.js';
import { conformationToFrame, formatExtxyzFrame, type InfoValue } from '../data/extxyz.js';
import { readConformations, type FormatName } from '../data/read.js';
import type { ReadOptions } from '../data/read-options.js';

/**
 * All structures of a file (xyz/extxyz, MD17/rMD17 npz, SDF, HDF5 layouts of ANI-1x, COMP6,
 * SPICE, QM9 xyz, PCQM4Mv2 CSV, ASE-db JSON), format picked from extension and content.
 */
export function readStructures(path: string, options: ReadOptions & { format?: FormatName } = {}): Promise<Conformation[]> {
  return readConformations(path, options);
}

/**
 * Write structures (with energy and forces when they have them) as one extxyz file; `info`
 * adds key=value pairs to every frame's comment line.
 */
export function writeExtxyz(path: string, structures: Conformation[], info: Record<string, InfoValue> = {}): void {
  writeFileAtomic(path, structures.map((c) => formatExtxyzFrame(conformationToFrame(c, info))).join(''));
}
