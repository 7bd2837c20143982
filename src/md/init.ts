/**
 * The starting structure of a run: `FILE[:frame]`, from any file oreo reads (xyz/extxyz with ASE
 * conventions, MD17/rMD17 .npz, SDF, HDF5 sets, …). Frame numbers count from 0; negative ones
 * count from the end (-1 = last). From extxyz, stored velocities (oreo's `velocities` column, Å/fs,
 * or ASE's `momenta`) are returned too, so a run can continue from a saved frame.
 */
import { existsSync } from 'node:fs';
import { InputError } from '../errors.js';
import { massOf } from '../elements.js';
import { frameToConformation, iterateExtxyzFile, type ExtxyzFrame } from '../data/extxyz.js';
import { checkConformation } from '../data/validate.js';
import { detectFormat, iterateConformations } from '../data/read.js';
import type { Conformation } from '../data/conformation.js';
import { aseTimeInFs } from '../units.js';
import type { AtomsInit } from './atoms.js';

export interface InitialStructure {
  atoms: AtomsInit;
  /** "file:frame", for the record. */
  label: string;
  /** Velocities stored with the frame (Å/fs), when it has a `velocities` or `momenta` column. */
  velocities?: Float64Array;
}

/** Split "path:frame" (the frame part is optional; a path may itself contain ':'). */
export function splitFrameSpec(spec: string): { file: string; frame: number } {
  const m = /^(.*):(-?\d+)$/.exec(spec);
  if (m && m[1] !== '' && !existsSync(spec)) return { file: m[1], frame: Number(m[2]) };
  return { file: spec, frame: 0 };
}

/** Frame `frame` (negative: from the end) of a sequence, keeping at most |frame| items in memory. */
async function pick<T>(items: AsyncIterable<T> | Iterable<T>, frame: number, file: string): Promise<{ item: T; index: number }> {
  const keep: T[] = [];
  let count = 0;
  for await (const it of items) {
    if (frame >= 0 && count === frame) return { item: it, index: count };
    if (frame < 0) {
      keep.push(it);
      if (keep.length > -frame) keep.shift();
    }
    count++;
  }
  if (count === 0) throw new InputError(file, 'the file holds no frames (no structure to start from)');
  if (frame < 0 && keep.length === -frame) return { item: keep[0], index: count + frame };
  throw new InputError(file, `frame ${frame} does not exist (the file has ${count} frames, 0..${count - 1})`);
}

function storedVelocities(f: ExtxyzFrame, z: Int32Array, file: string, index: number): Float64Array | undefined {
  const n = z.length;
  const vel = f.arrays.velocities;
  if (vel instanceof Float64Array && vel.length === 3 * n) return Float64Array.from(vel);
  const mom = f.arrays.momenta;
  if (!(mom instanceof Float64Array) || mom.length !== 3 * n) return undefined;
  const masses = f.arrays.masses;
  if (masses && masses.length !== n) throw new InputError(file, 'masses column must have one value per atom', index, 'masses');
  const out = new Float64Array(3 * n);
  // ASE momenta are amu·Å per ASE time unit; without a masses column ASE uses its mass table too.
  for (let a = 0; a < n; a++) {
    const m = masses ? masses[a] : massOf(z[a]);
    for (let k = 0; k < 3; k++) out[3 * a + k] = mom[3 * a + k] / m / aseTimeInFs;
  }
  return out;
}

export async function readInitialStructure(spec: string): Promise<InitialStructure> {
  const { file, frame } = splitFrameSpec(spec);
  if (!existsSync(file)) throw new InputError(file, 'file not found');
  const format = await detectFormat(file);
  if (format === 'extxyz') {
    const { item: f, index } = await pick(iterateExtxyzFile(file), frame, file);
    const c = frameToConformation(f, file, index);
    checkConformation(c, file, index, { labels: false });
    const atoms: AtomsInit = { z: c.z, positions: c.positions };
    if (f.cell) {
      atoms.cell = f.cell;
      atoms.pbc = f.pbc ?? [true, true, true];
    }
    return { atoms, label: `${file}:${index}`, velocities: storedVelocities(f, c.z, file, index) };
  }
  const { item: c, index } = await pick<Conformation>(iterateConformations(file, { format }), frame, file);
  const atoms: AtomsInit = { z: c.z, positions: c.positions };
  if (c.cell) {
    atoms.cell = c.cell;
    atoms.pbc = [true, true, true];
  }
  return { atoms, label: `${file}:${index}` };
}
