/**
 * PDB files (wwPDB format v3.3, fixed columns): ATOM and HETATM records, one structure per MODEL
 * (or the whole file when there are no MODEL records). Coordinates are Å as written. The element
 * comes from columns 77–78; files that leave them blank (older writers) fall back to the atom
 * name's leading letters, the way most readers do. Hydrogens absent from the file (common in
 * crystal structures) stay absent: oreo's models need them, so such a structure is for viewing,
 * not for MD.
 */
import { atomicNumber } from '../elements.js';
import { InputError } from '../errors.js';
import type { Conformation } from './conformation.js';
import { linesOfFile } from './extxyz.js';
import { reportOrThrow, type ReadOptions } from './read-options.js';

function elementOf(line: string, file: string, lineNo: number): number {
  const col = line.slice(76, 78).trim();
  const guess = col || line.slice(12, 16).trim().replace(/[^A-Za-z]/g, '').slice(0, 1);
  const symbol = guess.length === 2 ? guess[0].toUpperCase() + guess[1].toLowerCase() : guess.toUpperCase();
  try {
    return atomicNumber(symbol);
  } catch {
    throw new InputError(file, `line ${lineNo}: unknown element '${guess}' (columns 77–78, or the atom name in 13–16)`, undefined, 'element');
  }
}

function coordinate(line: string, from: number, to: number, what: string, file: string, lineNo: number): number {
  const text = line.slice(from, to).trim();
  const v = Number(text);
  if (text === '' || !Number.isFinite(v)) throw new InputError(file, `line ${lineNo}: ${what} '${text}' is not a number (columns ${from + 1}–${to})`, undefined, what);
  return v;
}

export function* iteratePdbFile(path: string, options: ReadOptions = {}): Generator<Conformation> {
  let z: number[] = [];
  let xyz: number[] = [];
  let index = 0;
  let lineNo = 0;
  let bad: unknown = null;
  const flush = function* (): Generator<Conformation> {
    if (bad) {
      reportOrThrow(bad, options);
    } else if (z.length) {
      yield { z: Int32Array.from(z), positions: Float64Array.from(xyz), source: options.source ?? path, index, kind: options.kind };
    }
    if (z.length || bad) index++;
    z = [];
    xyz = [];
    bad = null;
  };
  for (const line of linesOfFile(path)) {
    lineNo++;
    const record = line.slice(0, 6).trim();
    if (record === 'ATOM' || record === 'HETATM') {
      if (bad) continue;
      try {
        z.push(elementOf(line, path, lineNo));
        xyz.push(coordinate(line, 30, 38, 'x', path, lineNo), coordinate(line, 38, 46, 'y', path, lineNo), coordinate(line, 46, 54, 'z', path, lineNo));
      } catch (e) {
        bad = e;
      }
    } else if (record === 'ENDMDL' || record === 'END') {
      yield* flush();
    }
  }
  yield* flush();
}
