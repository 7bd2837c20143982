/**
 * What a benchmark folder holds besides the simulations:
 * - `benchmark.json` — the settings the benchmark was started with; `--resume` reads them back
 *   and refuses settings that would change what the seeds mean;
 * - `results.json` — force MAE, per-seed metrics and their mean (std), rewritten after every
 *   seed, so it always shows how far the benchmark got;
 * - `table.md` — the same as a markdown table (table.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OreoError } from '../../errors.js';
import type { MeanStd } from './stats.js';
import type { Md17Molecule } from './molecules.js';

export const BENCHMARK_FORMAT = 'oreo-benchmark-md17';
export const BENCHMARK_VERSION = 1;
export const MANIFEST_FILE = 'benchmark.json';
export const RESULTS_FILE = 'results.json';
export const TABLE_FILE = 'table.md';

export interface BenchmarkManifest {
  format: typeof BENCHMARK_FORMAT;
  version: number;
  molecule: Md17Molecule;
  /** Model file (absolute path) or analytic potential spec. */
  model: string;
  dtype?: 'float32' | 'float64';
  /** Target steps per seed (a resume may raise it). */
  steps: number;
  /** The seed values, in order. */
  seeds: number[];
  saveEvery: number;
  /** Test frames for the force MAE (null: all). */
  fmaeFrames: number | null;
  /** Stop a seed at its first unstable frame (metrics unchanged; MDsim runs on). */
  stopAtCollapse: boolean;
  testFile: string;
  referenceFiles: string[];
  protocol: {
    thermostat: string;
    dt_fs: number;
    temperature_K: number;
    ttime_dt: number;
    init_temperature_K: number;
    zero_momentum: boolean;
    min_temperature_K: number;
    max_temperature_K: number;
    bond_threshold_A: number;
  };
  createdAt: string;
}

export interface ForceMaeResult {
  /** Component-wise force MAE, meV/Å. */
  force_mae_meV_per_A: number;
  force_rmse_meV_per_A: number;
  /** Energy MAE, meV per molecule (meaningful only for models trained on this level of theory). */
  energy_mae_meV: number | null;
  frames: number;
  components: number;
  testFile: string;
  model: string;
}

export type SeedStatus = 'pending' | 'running' | 'interrupted' | 'completed' | 'stopped';

export interface SeedResult {
  seed: number;
  /** Folder under the benchmark folder. */
  dir: string;
  /** Index of the starting frame in the test file. */
  startFrame: number;
  status: SeedStatus;
  /** Why the simulation stopped early (temperature limits, collapse), when it did. */
  reason?: string;
  steps: number;
  simulated_ps: number;
  wall_seconds: number;
  steps_per_second: number | null;
  initial_temperature_K: number | null;
  /** The MDsim metrics, once the seed is finished. */
  stability_ps?: number;
  collapsed?: boolean;
  first_unstable_frame?: number | null;
  broken_bond?: string | null;
  hr_mae?: number;
  hr_frames_used?: number;
  frames?: number;
  mean_temperature_K?: number | null;
  /** Per-seed report folder (metrics.json, plots, report.html), when written. */
  report?: string;
}

export interface BenchmarkSummary {
  seeds_finished: number;
  seeds_total: number;
  force_mae_meV_per_A: number | null;
  stability_ps: MeanStd;
  hr_mae: MeanStd;
}

export interface BenchmarkResults {
  format: typeof BENCHMARK_FORMAT;
  version: number;
  molecule: Md17Molecule;
  model: string;
  /** A learned model's size, as the table's scale line states it. */
  modelSize?: string;
  /** True when every seed is finished (completed its steps or stopped early). */
  complete: boolean;
  steps: number;
  simulated_ps_target: number;
  protocol: BenchmarkManifest['protocol'] & { save_every_steps: number; frame_interval_fs: number };
  reference: { files: string[]; frames: number; note: string };
  forceMae: ForceMaeResult | null;
  seeds: SeedResult[];
  summary: BenchmarkSummary;
  writtenAt: string;
}

export function readManifest(dir: string): BenchmarkManifest {
  const file = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new OreoError(`cannot resume: ${file} does not exist (is ${dir} the folder of an oreo benchmark md17 run?)`);
  }
  let m: BenchmarkManifest;
  try {
    m = JSON.parse(text) as BenchmarkManifest;
  } catch (err) {
    throw new OreoError(`${file}: not valid JSON (${(err as Error).message})`);
  }
  if (m?.format !== BENCHMARK_FORMAT) throw new OreoError(`${file}: not an oreo MD17 benchmark manifest (format is not '${BENCHMARK_FORMAT}')`);
  if (m.version !== BENCHMARK_VERSION) throw new OreoError(`${file}: benchmark version ${m.version} is not supported (expected ${BENCHMARK_VERSION})`);
  const ok =
    typeof m.model === 'string' &&
    Array.isArray(m.seeds) &&
    m.seeds.every((s) => Number.isSafeInteger(s) && s >= 0) &&
    Number.isInteger(m.steps) &&
    Number.isInteger(m.saveEvery) &&
    typeof m.testFile === 'string' &&
    Array.isArray(m.referenceFiles);
  if (!ok) throw new OreoError(`${file}: the manifest is incomplete or inconsistent`);
  return m;
}

/** results.json of an earlier invocation, or undefined when there is none or it is unreadable. */
export function readPreviousResults(dir: string): BenchmarkResults | undefined {
  try {
    const r = JSON.parse(readFileSync(join(dir, RESULTS_FILE), 'utf8')) as BenchmarkResults;
    return r?.format === BENCHMARK_FORMAT ? r : undefined;
  } catch {
    return undefined;
  }
}
