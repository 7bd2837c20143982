/**
 * Reading what analysis needs: an MD output directory written by `oreo simulate`
 * (`trajectory.extxyz` + `thermo.csv`) and a reference data set (MD17/rMD17 `.npz`, or xyz/extxyz).
 *
 * A run that was resumed from a checkpoint may have written some frames twice; frames and thermo
 * rows whose step/time does not increase are treated as a restart, and the later copy wins.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { readExtxyzFile, frameToConformation, type ExtxyzFrame } from '../data/extxyz.js';
import { readMd17Npz } from '../data/md17.js';
import { checkConformation } from '../data/validate.js';

/** A trajectory as analysis sees it: one molecule, positions per saved frame. */
export interface TrajectoryData {
  z: Int32Array;
  /** Flat positions per frame, Å. */
  frames: Float64Array[];
  /** Time of each frame, ps (when known). */
  timesPs?: Float64Array;
  /** Potential energy per frame, eV (when known). */
  energies?: Float64Array;
  /** Forces per frame, eV/Å (when known). */
  forces?: Float64Array[];
  /** Temperature per frame, K (when known). */
  temperatures?: Float64Array;
  source: string;
}

export interface ThermoTable {
  timePs: Float64Array;
  etot: Float64Array;
  epot: Float64Array;
  ekin: Float64Array;
  temperature: Float64Array;
}

export const THERMO_COLUMNS = ['time_ps', 'Etot_eV', 'Epot_eV', 'Ekin_eV', 'T_K'] as const;

/** Parse thermo.csv (`time_ps,Etot_eV,Epot_eV,Ekin_eV,T_K`); columns may come in any order. */
export function parseThermoCsv(text: string, file: string): ThermoTable {
  const lines = text.split(/\r?\n/);
  const header = (lines[0] ?? '').split(',').map((s) => s.trim());
  const col = THERMO_COLUMNS.map((name) => {
    const i = header.indexOf(name);
    if (i < 0) throw new InputError(file, `line 1: header must name ${THERMO_COLUMNS.join(',')}; found '${lines[0] ?? ''}'`, undefined, name);
    return i;
  });
  const rows: number[][] = [];
  for (let l = 1; l < lines.length; l++) {
    const line = lines[l].trim();
    if (line === '') continue;
    const cells = line.split(',');
    if (cells.length !== header.length) {
      // A run killed mid-write leaves a short last line; anything else is corruption.
      if (l === lines.length - 1 || lines.slice(l + 1).every((s) => s.trim() === '')) break;
      throw new InputError(file, `line ${l + 1}: ${cells.length} fields, expected ${header.length}`, l - 1);
    }
    const row = col.map((c, k) => {
      const v = Number(cells[c]);
      if (cells[c].trim() === '' || Number.isNaN(v)) throw new InputError(file, `line ${l + 1}: '${cells[c]}' is not a number`, l - 1, THERMO_COLUMNS[k]);
      return v;
    });
    // Restart overlap: drop earlier rows at or after this time.
    while (rows.length && rows[rows.length - 1][0] >= row[0]) rows.pop();
    rows.push(row);
  }
  const pick = (k: number) => Float64Array.from(rows, (r) => r[k]);
  return { timePs: pick(0), etot: pick(1), epot: pick(2), ekin: pick(3), temperature: pick(4) };
}

export function readThermoCsv(path: string): ThermoTable {
  return parseThermoCsv(readText(path), path);
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new InputError(path, `cannot read: ${(err as Error).message}`);
  }
}

function numberInfo(f: ExtxyzFrame, key: string): number | undefined {
  const v = f.info[key];
  return typeof v === 'number' ? v : undefined;
}

/** Frames of one molecule from extxyz frames (checks that every frame has the same atoms). */
export function trajectoryFromFrames(frames: readonly ExtxyzFrame[], source: string): TrajectoryData {
  if (frames.length === 0) throw new InputError(source, 'no frames');
  // Restart overlap, by step when frames carry it.
  const kept: ExtxyzFrame[] = [];
  for (const f of frames) {
    const step = numberInfo(f, 'step');
    if (step !== undefined) {
      while (kept.length && (numberInfo(kept[kept.length - 1], 'step') ?? -Infinity) >= step) kept.pop();
    }
    kept.push(f);
  }
  const z = kept[0].z;
  kept.forEach((f, i) => {
    if (f.z.length !== z.length || f.z.some((v, k) => v !== z[k])) {
      throw new InputError(source, `frame ${i} has different atoms from frame 0 (analysis needs one molecule)`, i);
    }
  });
  const out: TrajectoryData = { z: Int32Array.from(z), frames: kept.map((f) => Float64Array.from(f.positions)), source };
  const series = (key: string, scale = 1): Float64Array | undefined => {
    const v = kept.map((f) => numberInfo(f, key));
    return v.every((x) => x !== undefined) ? Float64Array.from(v as number[], (x) => x * scale) : undefined;
  };
  const timeFs = series('time_fs', 1e-3);
  if (timeFs) out.timesPs = timeFs;
  const confs = kept.map((f, i) => frameToConformation(f, source, i));
  if (confs.every((c) => c.energy !== undefined)) out.energies = Float64Array.from(confs, (c) => c.energy!);
  if (confs.every((c) => c.forces)) out.forces = confs.map((c) => c.forces!);
  const temps = series('T_K');
  if (temps) out.temperatures = temps;
  return out;
}

export interface SimulationOutput {
  dir: string;
  trajectory: TrajectoryData;
  /** thermo.csv, when the directory has one. */
  thermo?: ThermoTable;
}

/**
 * An `oreo simulate` output directory. Frame times come from the frames' `time_fs`, else from
 * thermo.csv rows of the same count.
 */
export function readSimulationOutput(dir: string): SimulationOutput {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new InputError(dir, 'not a directory (expected an `oreo simulate` output folder)');
  const trajPath = join(dir, 'trajectory.extxyz');
  if (!existsSync(trajPath)) throw new InputError(dir, 'no trajectory.extxyz in this folder');
  const trajectory = trajectoryFromFrames(readExtxyzFile(trajPath), trajPath);
  const thermoPath = join(dir, 'thermo.csv');
  const out: SimulationOutput = { dir, trajectory };
  if (existsSync(thermoPath)) out.thermo = readThermoCsv(thermoPath);
  if (!trajectory.timesPs && out.thermo && out.thermo.timePs.length === trajectory.frames.length) {
    trajectory.timesPs = out.thermo.timePs.slice();
  }
  if (!trajectory.timesPs) {
    throw new InputError(trajPath, 'frames have no time_fs and thermo.csv does not have one row per frame: cannot tell the time of each frame');
  }
  return out;
}

/** Reference conformations of one molecule: `.npz` (MD17/rMD17) or `.xyz`/`.extxyz`. */
export function readReference(path: string): TrajectoryData {
  const lower = path.toLowerCase();
  if (lower.endsWith('.npz')) {
    const confs = readMd17Npz(path);
    if (confs.length === 0) throw new InputError(path, 'no frames');
    // A reference is data, checked like every reader's output (a simulated trajectory is not: it may have blown up).
    confs.forEach((c, i) => checkConformation(c, path, i));
    const z = confs[0].z;
    const data: TrajectoryData = { z, frames: confs.map((c) => c.positions), source: path };
    if (confs.every((c) => c.forces)) data.forces = confs.map((c) => c.forces!);
    if (confs.every((c) => c.energy !== undefined)) data.energies = Float64Array.from(confs, (c) => c.energy!);
    return data;
  }
  if (lower.endsWith('.xyz') || lower.endsWith('.extxyz')) {
    const frames = readExtxyzFile(path);
    frames.forEach((f, i) => checkConformation(frameToConformation(f, path, i), path, i));
    return trajectoryFromFrames(frames, path);
  }
  throw new InputError(path, 'reference must be an MD17/rMD17 .npz or an .xyz/.extxyz file');
}

/** Check that a trajectory and its reference describe the same molecule, atom for atom. */
export function checkSameMolecule(traj: TrajectoryData, ref: TrajectoryData): void {
  const a = traj.z, b = ref.z;
  if (a.length !== b.length) {
    throw new InputError(ref.source, `reference has ${b.length} atoms, the trajectory ${traj.source} has ${a.length}`);
  }
  const k = a.findIndex((v, i) => v !== b[i]);
  if (k >= 0) {
    throw new InputError(ref.source, `atom ${k} is Z=${b[k]} in the reference but Z=${a[k]} in ${traj.source}: bonds are compared by atom index, so the atom order must match`);
  }
}
