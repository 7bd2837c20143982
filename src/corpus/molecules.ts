/**
 * Molecule lists for the corpus: every molecule with where it came from (file and line), its
 * identity, and its starting point, from
 *  - a text file of SMILES, one a line (anything after the first whitespace is a name; blank
 *    lines and lines starting with # are skipped);
 *  - a CSV file, SMILES in the column `column` (default: the one named "smiles"); a CXSMILES with
 *    coordinates (PCQM4Mv2's DFT-relaxed structures) also gives its geometry as the first start;
 *  - any structure file oreo reads (xyz/extxyz, sdf, npz, …): each frame is a molecule, its bonds
 *    perceived from the geometry, its identity the formula plus a hash of that bond graph.
 *
 * Every SMILES is parsed before any work starts, so that an invalid one stops the build at once
 * with its file and line, or (skipInvalid) is counted and listed.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { smilesIdentity, type MoleculeIdentity } from '../chem/smiles.js';
import { formula } from '../elements.js';
import { InputError, OreoError } from '../errors.js';
import { parseCxsmilesCoordinates, smilesAtoms, splitCsvLine } from '../data/pcqm4mv2.js';
import { detectFormat, iterateConformations } from '../data/read.js';
import { perceiveBonds } from '../sampling/bonds.js';
import { polymerSmiles } from '../polymers/build.js';

export interface MoleculeInput {
  /** Position in the whole input list (0-based), the order of the corpus. */
  ordinal: number;
  /** Source name recorded with every conformation (file name without directory, or --source). */
  source: string;
  file: string;
  /** 1-based line of a text/CSV file, or 0-based frame of a structure file. */
  line: number;
  /** The SMILES as given (without CXSMILES extensions). */
  smiles?: string;
  identity: MoleculeIdentity;
  /** A starting structure (structure files, CXSMILES with coordinates). */
  start?: { z: number[]; positions: number[] };
}

export interface InvalidMolecule {
  file: string;
  line: number;
  message: string;
}

export interface ReadMoleculesOptions {
  /** CSV column holding SMILES (default "smiles", case-insensitive). */
  column?: string;
  /** Name recorded as each molecule's source (default: the file name). */
  source?: string;
  /** Count and list invalid SMILES instead of stopping at the first. */
  skipInvalid?: boolean;
  /** Read at most this many molecules. */
  limit?: number;
}

export interface MoleculeList {
  molecules: MoleculeInput[];
  invalid: InvalidMolecule[];
}

/** Identity of a structure with no SMILES: formula and a hash of its perceived bond graph. */
function structureIdentity(z: ArrayLike<number>, positions: ArrayLike<number>): MoleculeIdentity {
  const n = z.length;
  const bonds = [...perceiveBonds(z, positions)].map((k) => [Math.floor(k / n), k % n]);
  // Elements of each bond's ends, sorted: invariant to atom order for the molecules met here
  // (a coarse key: two isomers with the same bond-type multiset share it).
  const labels = bonds.map(([i, j]) => [z[i], z[j]].sort((a, b) => a - b).join('-')).sort();
  const f = formula(Array.from(z));
  const hash = createHash('sha256').update(`${f}|${labels.join(',')}`).digest('hex').slice(0, 16);
  return { canonicalSmiles: '', idcode: `graph:${f}:${hash}`, formula: f, charge: 0, unpaired: 0 };
}

async function readStructures(path: string, o: ReadMoleculesOptions, out: MoleculeList, first: number): Promise<void> {
  let i = 0;
  for await (const c of iterateConformations(path, { format: await detectFormat(path) })) {
    if (o.limit !== undefined && out.molecules.length >= o.limit) break;
    out.molecules.push({
      ordinal: first + out.molecules.length,
      source: o.source ?? basename(path),
      file: path,
      line: i,
      identity: structureIdentity(c.z, c.positions),
      start: { z: Array.from(c.z), positions: Array.from(c.positions) },
    });
    i++;
  }
}

function addSmiles(
  raw: string,
  path: string,
  line: number,
  field: string | undefined,
  o: ReadMoleculesOptions,
  out: MoleculeList,
  first: number,
): void {
  let smiles = raw.trim();
  let start: MoleculeInput['start'];
  if (smiles.includes(' |')) {
    const cx = parseCxsmilesCoordinates(smiles);
    smiles = cx.smiles;
    if (cx.coords) {
      const z = smilesAtoms(smiles);
      if (z.length * 3 !== cx.coords.length) {
        const err = new InputError(path, `line ${line}: the CXSMILES has ${z.length} atoms but ${cx.coords.length / 3} coordinates`);
        if (!o.skipInvalid) throw err;
        out.invalid.push({ file: path, line, message: err.message });
        return;
      }
      start = { z, positions: Array.from(cx.coords) };
    }
  }
  let identity: MoleculeIdentity;
  try {
    identity = smilesIdentity(smiles, { file: path, line, field });
  } catch (err) {
    if (!o.skipInvalid || !(err instanceof OreoError)) throw err;
    out.invalid.push({ file: path, line, message: err.message });
    return;
  }
  out.molecules.push({ ordinal: first + out.molecules.length, source: o.source ?? basename(path), file: path, line, smiles, identity, start });
}

/** Read one molecule file (see the module comment); ordinals continue from `first`. */
export async function readMolecules(path: string, o: ReadMoleculesOptions = {}, first = 0): Promise<MoleculeList> {
  const out: MoleculeList = { molecules: [], invalid: [] };
  const lower = path.toLowerCase();
  const isCsv = lower.endsWith('.csv');
  const isSmilesText = /\.(smi|smiles|txt)$/.test(lower);
  if (!isCsv && !isSmilesText) {
    await readStructures(path, o, out, first);
    if (out.molecules.length === 0) throw new InputError(path, 'no molecules in this file');
    return out;
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InputError(path, `cannot read: ${(err as Error).message}`);
  }
  const lines = text.split(/\r?\n/);
  if (isCsv) {
    const header = splitCsvLine(lines[0] ?? '').map((h) => h.trim());
    const want = (o.column ?? 'smiles').toLowerCase();
    const col = header.findIndex((h) => h.toLowerCase() === want);
    if (col < 0) throw new InputError(path, `line 1: no column '${o.column ?? 'smiles'}' (columns: ${header.join(', ')}); name the SMILES column with --column`);
    for (let i = 1; i < lines.length; i++) {
      if (o.limit !== undefined && out.molecules.length >= o.limit) break;
      if (lines[i].trim() === '') continue;
      const fields = splitCsvLine(lines[i]);
      addSmiles(fields[col] ?? '', path, i + 1, header[col], o, out, first);
    }
  } else {
    for (let i = 0; i < lines.length; i++) {
      if (o.limit !== undefined && out.molecules.length >= o.limit) break;
      const t = lines[i].trim();
      if (t === '' || t.startsWith('#')) continue;
      addSmiles(t.split(/\s+/)[0], path, i + 1, undefined, o, out, first);
    }
  }
  if (out.molecules.length === 0 && out.invalid.length === 0) throw new InputError(path, 'no molecules in this file');
  return out;
}

/**
 * Polymer chains from the poly24-style builder (src/polymers) as SMILES molecules: each repeat
 * unit with each loop count, capped with H, as one source "polymers".
 */
export function polymerMolecules(units: { name: string; smiles: string }[], loops: number[], first = 0): MoleculeList {
  const out: MoleculeList = { molecules: [], invalid: [] };
  let line = 0;
  for (const u of units) {
    for (const l of loops) {
      line++;
      const smiles = polymerSmiles(u.smiles, l, 'H');
      out.molecules.push({
        ordinal: first + out.molecules.length,
        source: 'polymers',
        file: `polymers:${u.name}-L${l}`,
        line,
        smiles,
        identity: smilesIdentity(smiles, { file: `polymer ${u.name} L${l}` }),
      });
    }
  }
  return out;
}
