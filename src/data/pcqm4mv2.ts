/**
 * PCQM4Mv2 (OGB-LSC) geometries. The official release is an SDF (read by sdf.ts); the sample we
 * ship (graphium's `pcqm4mv2-2k.csv`) is a CSV whose `smiles` column is a CXSMILES with every
 * hydrogen explicit and the DFT equilibrium coordinates in the extension block:
 *   `[H]C1=C(...)... |(x,y,z;x,y,z;…)|`  — one triple per SMILES atom, in order, Å; an empty
 * number means 0. Its other column, named `homo`, holds the HOMO–LUMO gap in eV (the PCQM4Mv2
 * target), so it is read as `gap`.
 *
 * Only atoms and coordinates are needed, so SMILES is tokenised for its atoms alone (element and
 * order), not interpreted as a graph.
 */
import { readFileSync } from 'node:fs';
import { InputError } from '../errors.js';
import { atomicNumber } from '../elements.js';
import type { Conformation } from './conformation.js';
import { reportOrThrow, type ReadOptions } from './read-options.js';

const ORGANIC = ['Cl', 'Br', 'B', 'C', 'N', 'O', 'P', 'S', 'F', 'I', 'b', 'c', 'n', 'o', 'p', 's'];
const AROMATIC_BRACKET = ['se', 'as', 'te', 'b', 'c', 'n', 'o', 'p', 's'];

/** Atomic numbers of the atoms of a SMILES string, in SMILES order (explicit [H] included). */
export function smilesAtoms(smiles: string): number[] {
  const out: number[] = [];
  let i = 0;
  while (i < smiles.length) {
    const ch = smiles[i];
    if (ch === '[') {
      const end = smiles.indexOf(']', i);
      if (end < 0) throw new Error(`unclosed '[' at position ${i}`);
      const inside = smiles.slice(i + 1, end).replace(/^\d+/, '');
      let sym: string | undefined;
      const arom = AROMATIC_BRACKET.find((a) => inside.startsWith(a));
      if (arom) sym = arom;
      else {
        const two = /^[A-Z][a-z]/.exec(inside)?.[0];
        if (two && isElement(two)) sym = two;
        else if (/^[A-Z]/.test(inside)) sym = inside[0];
      }
      if (!sym) throw new Error(`cannot read the element of bracket atom '[${smiles.slice(i + 1, end)}]'`);
      out.push(atomicNumber(sym));
      i = end + 1;
      continue;
    }
    const org = ORGANIC.find((o) => smiles.startsWith(o, i));
    if (org) {
      out.push(atomicNumber(org));
      i += org.length;
      continue;
    }
    if (ch === '*') throw new Error(`wildcard atom '*' at position ${i} has no element`);
    if (ch === '%') {
      i += 3; // two-digit ring closure
      continue;
    }
    if ('-=#$:/\\().~0123456789@+'.includes(ch)) {
      i++;
      continue;
    }
    throw new Error(`unexpected character '${ch}' at position ${i}`);
  }
  return out;
}

function isElement(sym: string): boolean {
  try {
    atomicNumber(sym);
    return true;
  } catch {
    return false;
  }
}

/** Split a CXSMILES into the SMILES and its coordinate list (flat, Å); null when it has none. */
export function parseCxsmilesCoordinates(cx: string): { smiles: string; coords: Float64Array | null } {
  const bar = cx.indexOf(' |');
  if (bar < 0) return { smiles: cx.trim(), coords: null };
  const smiles = cx.slice(0, bar).trim();
  const ext = cx.slice(bar + 2);
  const m = /^\(([^)]*)\)/.exec(ext);
  if (!m) return { smiles, coords: null };
  const triples = m[1].split(';');
  const coords = new Float64Array(triples.length * 3);
  triples.forEach((t, a) => {
    const parts = t.split(',');
    if (parts.length !== 3) throw new Error(`coordinate entry ${a} '${t}' does not have 3 components`);
    parts.forEach((p, k) => {
      const v = p.trim() === '' ? 0 : Number(p);
      if (!Number.isFinite(v)) throw new Error(`coordinate entry ${a} '${t}' is not numeric`);
      coords[a * 3 + k] = v;
    });
  });
  return { smiles, coords };
}

/** Fields of one CSV line (RFC 4180 quoting); multi-line fields are not needed here. */
export function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  let cur = '';
  let quoted = false;
  while (i < line.length) {
    const c = line[i];
    if (quoted) {
      if (c === '"') {
        if (line[i + 1] === '"') {
          cur += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
    i++;
  }
  out.push(cur);
  return out;
}

/** True when a CSV header and first row look like SMILES-with-coordinates (CXSMILES). */
export function isCxsmilesCsv(head: string): boolean {
  const lines = head.split(/\r?\n/, 2);
  return /(^|,)"?smiles"?(,|$)/i.test(lines[0] ?? '') && /\|\(/.test(lines[1] ?? '');
}

export function parseCxsmilesCsv(text: string, file: string, options: ReadOptions = {}): Conformation[] {
  const lines = text.split(/\r?\n/);
  const header = splitCsvLine(lines[0] ?? '').map((h) => h.trim());
  const smilesCol = header.findIndex((h) => h.toLowerCase() === 'smiles');
  if (smilesCol < 0) throw new InputError(file, `no 'smiles' column in the header (${header.join(', ')})`);
  const source = options.source ?? file;
  const out: Conformation[] = [];
  let record = 0;
  for (let l = 1; l < lines.length; l++) {
    if (lines[l].trim() === '') continue;
    const rec = record++;
    try {
      const f = splitCsvLine(lines[l]);
      if (f.length !== header.length) {
        throw new InputError(file, `line ${l + 1}: ${f.length} fields, the header has ${header.length}`, rec);
      }
      let parsed: ReturnType<typeof parseCxsmilesCoordinates>;
      let z: number[];
      try {
        parsed = parseCxsmilesCoordinates(f[smilesCol]);
        z = smilesAtoms(parsed.smiles);
      } catch (err) {
        throw new InputError(file, `line ${l + 1}: ${(err as Error).message}`, rec, 'smiles');
      }
      if (!parsed.coords) throw new InputError(file, `line ${l + 1}: the CXSMILES has no coordinate block |(x,y,z;…)|`, rec, 'smiles');
      if (parsed.coords.length !== z.length * 3) {
        throw new InputError(file, `line ${l + 1}: ${parsed.coords.length / 3} coordinate triples for ${z.length} SMILES atoms`, rec, 'smiles');
      }
      const props: Record<string, number> = {};
      header.forEach((h, c) => {
        if (c === smilesCol) return;
        const v = f[c].trim() === '' ? NaN : Number(f[c]);
        if (Number.isFinite(v)) props[h === 'homo' && header.length === 2 ? 'gap' : h] = v;
      });
      const conf: Conformation = { z: Int32Array.from(z), positions: parsed.coords, source, index: rec, kind: options.kind ?? 'equilibrium' };
      if (Object.keys(props).length) conf.props = props;
      out.push(conf);
      if (options.limit !== undefined && out.length >= options.limit) break;
    } catch (err) {
      reportOrThrow(err, options);
    }
  }
  return out;
}

export function readCxsmilesCsv(path: string, options: ReadOptions = {}): Conformation[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InputError(path, `cannot read file: ${(err as Error).message}`);
  }
  return parseCxsmilesCsv(text, path, options);
}
