/**
 * SDF / MOL files (V2000 and V3000) through OpenChemLib's molfile parser. PCQM4Mv2 ships its DFT
 * equilibrium geometries as one SDF (`pcqm4m-v2-train.sdf`), written by RDKit.
 *
 * Records are separated here at `$$$$` lines (so that one bad record can be reported and
 * skipped, and a 3.4M-record file streams) and each molfile is parsed by OpenChemLib. Two
 * OpenChemLib habits are undone: it moves hydrogens to the end of the atom list (we restore the
 * file's atom order, which forces or charges stored elsewhere refer to) and it stores y and z
 * negated (we read them back as written).
 */
import * as OCL from 'openchemlib';
import { InputError } from '../errors.js';
import { symbolOf } from '../elements.js';
import type { Conformation } from './conformation.js';
import { linesOfFile, linesOfText } from './extxyz.js';
import { reportOrThrow, type ReadOptions } from './read-options.js';

export interface SdfRecord {
  /** 0-based record number in the file. */
  record: number;
  /** 1-based line where the record starts. */
  line: number;
  molfile: string;
  /** SD data items (`> <name>` blocks). */
  fields: Record<string, string>;
}

/** Split SDF text lines into records; data items are separated from the molfile block. */
export function* sdfRecords(lines: Iterable<string>): Generator<SdfRecord> {
  let buf: string[] = [];
  let record = 0;
  let start = 1;
  let lineNo = 0;
  const flush = (): SdfRecord | undefined => {
    if (buf.every((l) => l.trim() === '')) return undefined;
    const end = buf.findIndex((l) => l.startsWith('M  END'));
    const molLines = end >= 0 ? buf.slice(0, end + 1) : buf;
    const fields: Record<string, string> = {};
    if (end >= 0) {
      let name: string | undefined;
      let value: string[] = [];
      for (const l of buf.slice(end + 1)) {
        const m = /^>.*<([^>]+)>/.exec(l);
        if (m) {
          if (name !== undefined) fields[name] = value.join('\n');
          name = m[1];
          value = [];
        } else if (name !== undefined) {
          if (l.trim() === '') {
            fields[name] = value.join('\n');
            name = undefined;
          } else value.push(l);
        }
      }
      if (name !== undefined) fields[name] = value.join('\n');
    }
    return { record, line: start, molfile: molLines.join('\n') + '\n', fields };
  };
  for (const l of lines) {
    lineNo++;
    if (l.startsWith('$$$$')) {
      const r = flush();
      if (r) yield r;
      record++;
      buf = [];
      start = lineNo + 1;
    } else {
      buf.push(l);
    }
  }
  const r = flush();
  if (r) yield r;
}

/** Atom count stated by the counts line (V2000) or the V3000 COUNTS line; throws if unreadable. */
function statedAtomCount(rec: SdfRecord, file: string): number {
  const lines = rec.molfile.split('\n');
  const counts = lines[3];
  if (counts === undefined) throw new InputError(file, `line ${rec.line}: record ends before its counts line (line 4 of the molfile)`, rec.record, 'counts line');
  if (/V3000/.test(counts)) {
    const c = lines.find((l) => /^M {2}V30 COUNTS/.test(l));
    const m = c ? /COUNTS\s+(\d+)\s+(\d+)/.exec(c) : null;
    if (!m) throw new InputError(file, `line ${rec.line}: V3000 record without a readable 'M  V30 COUNTS' line`, rec.record, 'counts line');
    return Number(m[1]);
  }
  const atoms = counts.slice(0, 3).trim();
  const bonds = counts.slice(3, 6).trim();
  if (!/^\d+$/.test(atoms) || !/^\d+$/.test(bonds) || !/V2000/.test(counts)) {
    throw new InputError(
      file,
      `line ${rec.line + 3}: bad counts line '${counts.trim()}' (expected 'aaabbb…V2000': atom and bond counts in columns 1–6)`,
      rec.record,
      'counts line',
    );
  }
  const nAtoms = Number(atoms);
  const atomLines = lines.slice(4, 4 + nAtoms);
  if (atomLines.length < nAtoms || atomLines.some((l) => l.startsWith('M  '))) {
    throw new InputError(file, `line ${rec.line + 3}: counts line says ${nAtoms} atoms but the atom block is shorter`, rec.record, 'counts line');
  }
  return nAtoms;
}

/** One molfile record as a Conformation (Å, file atom order). SD fields that are numbers go to props. */
export function molfileToConformation(rec: SdfRecord, file: string, options: ReadOptions = {}): Conformation {
  const stated = statedAtomCount(rec, file);
  let parsed: { molecule: OCL.Molecule; map: number[] };
  try {
    parsed = OCL.Molecule.fromMolfileWithAtomMap(rec.molfile);
  } catch (err) {
    throw new InputError(file, `line ${rec.line}: OpenChemLib cannot parse the molfile: ${(err as Error).message}`, rec.record);
  }
  const mol = parsed.molecule;
  const n = mol.getAllAtoms();
  if (n !== stated) {
    throw new InputError(file, `line ${rec.line}: counts line says ${stated} atoms, the molfile parser found ${n}`, rec.record, 'counts line');
  }
  const z = new Int32Array(n);
  const positions = new Float64Array(n * 3);
  let charge = 0;
  for (let a = 0; a < n; a++) {
    const o = parsed.map[a] ?? a;
    const zn = mol.getAtomicNo(o);
    if (zn < 1) throw new InputError(file, `line ${rec.line}: atom ${a} is not a chemical element (query or R-group atom)`, rec.record);
    z[a] = zn;
    positions[a * 3] = mol.getAtomX(o);
    positions[a * 3 + 1] = -mol.getAtomY(o);
    positions[a * 3 + 2] = -mol.getAtomZ(o);
    charge += mol.getAtomCharge(o);
  }
  const props: Record<string, number> = { charge };
  for (const [k, v] of Object.entries(rec.fields)) {
    const t = v.trim();
    if (t !== '' && Number.isFinite(Number(t))) props[k] = Number(t);
  }
  const conf: Conformation = { z, positions, props, source: options.source ?? file, index: rec.record };
  if (options.kind) conf.kind = options.kind;
  return conf;
}

export function* iterateSdfLines(lines: Iterable<string>, file: string, options: ReadOptions = {}): Generator<Conformation> {
  let emitted = 0;
  for (const rec of sdfRecords(lines)) {
    let conf: Conformation;
    try {
      conf = molfileToConformation(rec, file, options);
    } catch (err) {
      reportOrThrow(err, options);
      continue;
    }
    yield conf;
    if (options.limit !== undefined && ++emitted >= options.limit) return;
  }
}

/** Conformations of an SDF/MOL file, streamed record by record. */
export function iterateSdfFile(path: string, options: ReadOptions = {}): Generator<Conformation> {
  return iterateSdfLines(linesOfFile(path), path, options);
}

export function parseSdf(text: string, file: string, options: ReadOptions = {}): Conformation[] {
  return [...iterateSdfLines(linesOfText(text), file, options)];
}

/**
 * A V2000 molfile of a Conformation: atoms and coordinates, 4 decimals as the format allows, and
 * the bonds when given (atoms 0-based, order 1–3, or 4 for aromatic); without them no bonds are
 * perceived. Used to export geometries for tools that take SDF.
 */
export function formatMolfileV2000(conf: Conformation, title = '', bonds: readonly { a: number; b: number; order: number }[] = []): string {
  const n = conf.z.length;
  if (n > 999) throw new Error('V2000 molfiles hold at most 999 atoms');
  if (bonds.length > 999) throw new Error('V2000 molfiles hold at most 999 bonds');
  const count = (k: number) => String(k).padStart(3);
  const lines = [title.slice(0, 80), '  oreo      3D', '', `${count(n)}${count(bonds.length)}  0  0  0  0  0  0  0  0999 V2000`];
  for (let a = 0; a < n; a++) {
    const xyz = [0, 1, 2].map((k) => conf.positions[a * 3 + k].toFixed(4).padStart(10)).join('');
    lines.push(`${xyz} ${symbolOf(conf.z[a]).padEnd(3)} 0  0  0  0  0  0  0  0  0  0  0  0`);
  }
  for (const { a, b, order } of bonds) {
    if (!(a >= 0 && a < n && b >= 0 && b < n && order >= 1 && order <= 4)) throw new Error(`molfile: bad bond ${a}–${b} (order ${order})`);
    lines.push(`${count(a + 1)}${count(b + 1)}${count(order)}  0`);
  }
  lines.push('M  END');
  return lines.join('\n') + '\n';
}

/** One SDF record: the molfile, then `> <name>` data items, then `$$$$`. */
export function formatSdfRecord(
  conf: Conformation,
  options: { title?: string; bonds?: readonly { a: number; b: number; order: number }[]; fields?: Record<string, string | number | boolean> } = {},
): string {
  let text = formatMolfileV2000(conf, options.title ?? '', options.bonds ?? []);
  for (const [k, v] of Object.entries(options.fields ?? {})) {
    if (/[<>\n]/.test(k)) throw new Error(`SDF: data item name '${k}' cannot be written`);
    text += `> <${k}>\n${String(v).replace(/\n\s*\n/g, '\n')}\n\n`;
  }
  return text + '$$$$\n';
}
