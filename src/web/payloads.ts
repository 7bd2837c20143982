/**
 * The JSON the app draws from, built from a run folder's own files: the trajectory with its
 * per-frame energies, temperature and RMSD (MD runs), thermo.csv, the metrics and h(r) curves of
 * an analysis, and the loss log of a training run. Non-finite numbers (a run that blew up) go out
 * as null, which JSON can carry.
 */
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { join } from 'node:path';
import { AccessRefused, runFile, runFileOrNull } from './safe-path.js';
import { formula, symbolOf } from '../elements.js';
import { InputError } from '../errors.js';
import { binCentres, DistanceHistogram, hrMae, type HrBins } from '../analysis/hr.js';
import { readReference, readSimulationOutput, readThermoCsv, trajectoryFromFrames } from '../analysis/io.js';
import { iterateExtxyzFile, type ExtxyzFrame } from '../data/extxyz.js';
import { rmsdSeries } from '../analysis/rmsd.js';
import { METRICS, THERMO, TRAINING_LOG, TRAJECTORY } from './runs.js';

/**
 * Numbers for JSON: non-finite as null; rounded to `digits` significant digits where the full
 * precision means nothing (h(r) densities); energies keep every digit, since their drift matters.
 */
function num(x: number, digits?: number): number | null {
  if (!Number.isFinite(x)) return null;
  return digits === undefined ? x : Number(x.toPrecision(digits));
}

function nums(a: ArrayLike<number>, digits?: number): (number | null)[] {
  return Array.from(a, (x) => num(x, digits));
}

export interface TrajectoryRequest {
  /** Take every stride-th saved frame (default 1). */
  stride: number;
  /** At most this many frames; the stride grows to fit (default 2000). */
  maxFrames: number;
}

export interface TrajectoryPayload {
  formula: string;
  z: number[];
  symbols: string[];
  /** Saved frames in the file (after dropping restart overlaps), and the stride actually used. */
  totalFrames: number;
  stride: number;
  /** Index of each sent frame among the saved frames. */
  indices: number[];
  timesPs: (number | null)[];
  /** Flat positions of each sent frame, Å (1e-6 Å resolution). */
  positions: (number | null)[][];
  energies: (number | null)[] | null;
  temperatures: (number | null)[] | null;
  /** RMSD to the first frame after optimal superposition, Å. */
  rmsd: (number | null)[];
  /** thermo.csv at its own resolution (usually one row per saved frame). */
  thermo: { timePs: (number | null)[]; etot: (number | null)[]; epot: (number | null)[]; ekin: (number | null)[]; temperature: (number | null)[] } | null;
  /** Why the frames stop early: a run still writing its last frame, or a damaged file. */
  truncated: string | null;
}

/**
 * The frames of an MD run folder. A run that is still going has a half-written last frame: the
 * complete frames before it are kept and the reason is reported, so a run can be watched live.
 */
function readRunFrames(dir: string) {
  const path = needRunFile(dir, TRAJECTORY);
  const frames: ExtxyzFrame[] = [];
  let truncated: string | null = null;
  try {
    for (const f of iterateExtxyzFile(path)) frames.push(f);
  } catch (err) {
    if (frames.length === 0) throw err;
    truncated = (err as Error).message;
  }
  const trajectory = trajectoryFromFrames(frames, path);
  const thermoPath = runFile(dir, THERMO);
  const thermo = thermoPath ? readThermoCsv(thermoPath) : undefined;
  if (!trajectory.timesPs && thermo && thermo.timePs.length >= trajectory.frames.length) {
    trajectory.timesPs = thermo.timePs.slice(0, trajectory.frames.length);
  }
  if (!trajectory.timesPs) {
    throw new InputError(path, 'frames have no time_fs and thermo.csv does not have one row per frame: cannot tell the time of each frame');
  }
  return { trajectory, thermo, truncated };
}

/**
 * What an error may say to a browser: never a file's contents. Readers quote the offending text
 * of a file in their messages (useful on a terminal), so an InputError becomes the file's name,
 * record and field only; the full message goes to the server's log.
 */
export function publicMessage(err: unknown): string {
  if (err instanceof InputError) {
    const where = [basename(err.file), err.record !== undefined ? `record ${err.record}` : '', err.field ? `field '${err.field}'` : ''].filter(Boolean).join(', ');
    return `${where}: not readable as expected (run oreo serve --verbose to see why)`;
  }
  if (err instanceof AccessRefused) return err.message;
  return 'the run\'s files could not be read (run oreo serve --verbose to see why)';
}

/** A run file that must be there (runKinds found it; a link out of the folder is refused). */
function needRunFile(dir: string, name: string): string {
  const p = runFile(dir, name);
  if (!p) throw new AccessRefused(404, `${name}: not found`);
  return p;
}

export function trajectoryPayload(dir: string, req: TrajectoryRequest): TrajectoryPayload {
  const out = readRunFrames(dir);
  const t = out.trajectory;
  const total = t.frames.length;
  const stride = Math.max(req.stride, Math.ceil(total / req.maxFrames));
  const indices: number[] = [];
  for (let i = 0; i < total; i += stride) indices.push(i);
  const pick = <T>(a: ArrayLike<T>) => indices.map((i) => a[i]);
  const rmsd = rmsdSeries(t.frames);
  const th = out.thermo;
  return {
    formula: formula(t.z),
    z: Array.from(t.z),
    symbols: Array.from(t.z, (z) => symbolOf(z)),
    totalFrames: total,
    stride,
    indices,
    timesPs: nums(pick(t.timesPs!)),
    positions: indices.map((i) => Array.from(t.frames[i], (x) => (Number.isFinite(x) ? Math.round(x * 1e6) / 1e6 : null))),
    energies: t.energies ? nums(pick(t.energies)) : null,
    temperatures: t.temperatures ? nums(pick(t.temperatures)) : null,
    rmsd: nums(pick(rmsd), 10),
    thermo: th
      ? { timePs: nums(th.timePs), etot: nums(th.etot), epot: nums(th.epot), ekin: nums(th.ekin), temperature: nums(th.temperature) }
      : null,
    truncated: out.truncated,
  };
}

export interface HrCurves {
  r: number[];
  reference: (number | null)[];
  simulation: (number | null)[];
  /** ∫|Δh| dr recomputed here; equals metrics.hr.mae when the inputs have not changed since. */
  mae: number | null;
  framesUsed: number;
}

export interface AnalysisPayload {
  metrics: Record<string, unknown>;
  /** The h(r) curves, or null with the reason in hrNote. */
  hr: HrCurves | null;
  hrNote?: string;
  /** SVG plots written by `oreo analyze`, by file name. */
  charts: string[];
  hasReport: boolean;
  /** The analysed MD run, when it is itself among the served runs: its run id. */
  trajectoryRun: string | null;
}

/**
 * Where an analysis may read its inputs from: its metrics.json names the trajectory folder and the
 * reference file, and the server reads them only if they lie inside the served folders or the
 * sample data shipped with oreo (`allowed` decides).
 */
export interface AnalysisAccess {
  allowed(path: string): boolean;
  /** The run id of an MD folder, when it is a served run. */
  runIdOf(dir: string): string | null;
}

export function analysisPayload(dir: string, access: AnalysisAccess): AnalysisPayload {
  const metricsPath = needRunFile(dir, METRICS);
  const metrics = JSON.parse(readFileSync(metricsPath, 'utf8')) as Record<string, unknown>;
  const charts = readdirSync(dir).filter((n) => n.endsWith('.svg') && !n.startsWith('.') && runFileOrNull(dir, n) !== null).sort();
  const trajDir = typeof metrics.trajectory === 'string' ? metrics.trajectory : '';
  const refPath = typeof metrics.reference === 'string' ? metrics.reference : '';
  const payload: AnalysisPayload = { metrics, hr: null, charts, hasReport: runFileOrNull(dir, 'report.html') !== null, trajectoryRun: null };
  if (trajDir && existsSync(trajDir) && access.allowed(trajDir)) payload.trajectoryRun = access.runIdOf(trajDir);
  try {
    payload.hr = hrCurves(metrics, trajDir, refPath, access);
  } catch (err) {
    payload.hrNote = publicMessage(err);
  }
  return payload;
}

/** h(r) of the simulation (frames before the collapse, as the analysis used) and of the reference. */
function hrCurves(metrics: Record<string, unknown>, trajDir: string, refPath: string, access: AnalysisAccess): HrCurves {
  const hrMeta = (metrics.hr ?? {}) as Record<string, unknown>;
  const bins: HrBins = { rMin: Number(hrMeta.r_min_A), rMax: Number(hrMeta.r_max_A), nBins: Number(hrMeta.bins) };
  if (!(bins.nBins >= 1 && bins.nBins <= 100000 && Number.isInteger(bins.nBins) && bins.rMax > bins.rMin)) {
    throw new Error('metrics.json has no usable h(r) binning (hr.bins, hr.r_min_A, hr.r_max_A)');
  }
  for (const [what, p] of [['trajectory', trajDir], ['reference', refPath]] as const) {
    if (!p || !existsSync(p)) throw new Error(`the analysed ${what} ${p || '(not recorded)'} is not available`);
    if (!access.allowed(p)) throw new Error(`the analysed ${what} ${p} is outside the served folders (serve its folder too to see h(r))`);
  }
  // The folder is served; its files must be too (no link out of it).
  const realTraj = realpathSync(trajDir);
  for (const f of [TRAJECTORY, THERMO]) runFile(realTraj, f);
  const sim = readSimulationOutput(realTraj).trajectory;
  const stability = (metrics.stability ?? {}) as Record<string, unknown>;
  const used = Number.isInteger(stability.collapse_index) ? Math.min(Number(stability.collapse_index), sim.frames.length) : sim.frames.length;
  const simulated = new DistanceHistogram(bins).addFrames(sim.frames.slice(0, used)).density();
  const ref = readReference(refPath);
  if (ref.z.length !== sim.z.length) throw new InputError(refPath, `reference has ${ref.z.length} atoms, the trajectory ${sim.z.length}`);
  const reference = new DistanceHistogram(bins).addFrames(ref.frames).density();
  return {
    r: Array.from(binCentres(bins), (x) => Number(x.toPrecision(8))),
    reference: nums(reference, 8),
    simulation: nums(simulated, 8),
    mae: num(hrMae(simulated, reference, bins)),
    framesUsed: used,
  };
}

export interface TrainingPayload {
  /** Every numeric field of log.jsonl as a column (null where a row lacks it), e.g. step, loss, val_loss, lr. */
  columns: Record<string, (number | null)[]>;
  rows: number;
  /** Lines that were not JSON objects (a half-written last line of a running training is normal). */
  skipped: number;
}

export function trainingPayload(dir: string): TrainingPayload {
  const path = needRunFile(dir, TRAINING_LOG);
  if (statSync(path).size > 256 << 20) throw new InputError(path, 'log too large to plot (> 256 MB)');
  const rows: Record<string, unknown>[] = [];
  let skipped = 0;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      const v = JSON.parse(line) as unknown;
      if (v && typeof v === 'object' && !Array.isArray(v)) rows.push(v as Record<string, unknown>);
      else skipped++;
    } catch {
      skipped++;
    }
  }
  const keys = new Set<string>();
  for (const r of rows) for (const [k, v] of Object.entries(r)) if (typeof v === 'number') keys.add(k);
  const columns: Record<string, (number | null)[]> = {};
  for (const k of keys) columns[k] = rows.map((r) => (typeof r[k] === 'number' ? num(r[k] as number) : null));
  return { columns, rows: rows.length, skipped };
}
