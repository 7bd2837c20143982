/**
 * `oreo benchmark md17` end to end: the force MAE of a model on a molecule's rMD17 test file,
 * then one MDsim-protocol simulation per seed (each an `oreo simulate` folder `seed-N/`, so it
 * checkpoints and resumes like one), then the MDsim metrics of every seed (stability, h(r) MAE)
 * and their mean (std) in results.json and table.md.
 *
 * Resuming (`resume: true`) reads benchmark.json, reuses the force MAE of results.json when the
 * model and frames are unchanged, skips finished seeds, continues interrupted ones from their
 * state.json (bit-for-bit, see md/run.ts) and starts the ones not begun.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { OreoError } from '../../errors.js';
import { writeFileAtomic } from '../../io/atomic.js';
import type { Calculator } from '../../calculator.js';
import { createAnalyticCalculator, isAnalyticSpec, parseAnalyticSpec } from '../../md/potentials/registry.js';
import { readCheckpoint, runSimulation, STATE_FILE, type Progress, type SimulationOptions } from '../../md/run.js';
import type { Checkpoint } from '../../md/checkpoint.js';
import type { Conformation } from '../../data/conformation.js';
import { readMd17Npz } from '../../data/md17.js';
import { checkConformation } from '../../data/validate.js';
import { bondLengths, findBonds, meanBondLengths, ASE_NEIGHBORLIST_SKIN } from '../bonds.js';
import { evaluateCalculator, type ForceErrors } from '../forces.js';
import { readSimulationOutput } from '../io.js';
import { writeReport } from '../report.js';
import { analyzeSimulation, bondName, prepareReference, type PreparedReference } from '../simulation.js';
import { bundledMd17Files, parseMolecule, type Md17Molecule } from './molecules.js';
import { DEFAULT_BASE_SEED, DEFAULT_SEEDS, evenlySpacedIndices, MDSIM_MD17_PROTOCOL, seedValues, startFrameIndex } from './protocol.js';
import {
  BENCHMARK_FORMAT,
  BENCHMARK_VERSION,
  MANIFEST_FILE,
  readManifest,
  readPreviousResults,
  RESULTS_FILE,
  TABLE_FILE,
  type BenchmarkManifest,
  type BenchmarkResults,
  type ForceMaeResult,
  type SeedResult,
} from './results.js';
import { meanStd } from './stats.js';
import { renderTable } from './table.js';

export interface BenchmarkOptions {
  /** Benchmark folder: benchmark.json, results.json, table.md, seed-N/. */
  outDir: string;
  /** Continue the benchmark in outDir; settings not given come from its benchmark.json. */
  resume?: boolean;
  /** aspirin | ethanol | naphthalene | salicylic (required for a new benchmark). */
  molecule?: string;
  /** Model file (.oreo or TorchMD-Net .ckpt) or analytic potential spec (required for a new benchmark). */
  model?: string;
  dtype?: 'float32' | 'float64';
  /** Steps per seed (default 600 000 = 300 ps); a resume may raise it. */
  steps?: number;
  /** Number of seeds (default 3); a resume may change it. */
  seeds?: number;
  /** First seed value (default 123, MDsim's); seeds are base, base + 1, … */
  baseSeed?: number;
  /** Steps between saved frames (default 100 = 50 fs). */
  saveEvery?: number;
  /** Test frames for the force MAE, spread evenly over the file (default: all). */
  fmaeFrames?: number;
  /** Stop a seed at its first unstable frame instead of running on as MDsim does. */
  stopAtCollapse?: boolean;
  /** Write each seed's report (metrics.json, SVG/PNG plots, report.html) into seed-N/analysis (default true). */
  plots?: boolean;
  /** Labelled start/test frames instead of the bundled rMD17 test file. */
  testFile?: string;
  /** Reference frames for bond means and h(r) instead of the bundled rMD17 train + test files. */
  referenceFiles?: string[];
  /** Stops the running seed after its current step with a checkpoint; the benchmark then reports 'interrupted'. */
  signal?: AbortSignal;
  /** Seconds between progress reports (default 1). */
  progressSeconds?: number;
  /** Seconds between simulation checkpoints (default 60). */
  checkpointSeconds?: number;
}

export interface SeedProgress {
  seed: number;
  /** 0-based position of the seed in the benchmark. */
  index: number;
  count: number;
  step: number;
  targetSteps: number;
  timePs: number;
  temperature: number;
  /** Over this invocation of the seed. */
  stepsPerSecond: number;
  etaSeconds: number;
  final: boolean;
}

export interface BenchmarkHooks {
  log?(message: string): void;
  onProgress?(p: SeedProgress): void;
  onForceProgress?(done: number, total: number): void;
  /** After each saved frame of a seed (e.g. to interrupt at a known step). */
  onFrame?(seed: number, step: number): void;
}

export interface BenchmarkOutcome {
  status: 'complete' | 'interrupted';
  outDir: string;
  results: BenchmarkResults;
}

/** A model as the benchmark needs it: a calculator for a given starting structure. */
export interface BenchmarkModel {
  spec: string;
  /** Analytic potentials such as `harmonic` are built around a structure; learned models ignore it. */
  calculatorFor(structure: { z: ArrayLike<number>; positions: ArrayLike<number> }): Calculator;
  /** Size of a learned model ("ET 4 × 64 × 32 RBF, 8 heads, 123,456 parameters"), for the scale line of the table. */
  size?: string;
}

/** Open a model file or an analytic potential spec (the same choices as `oreo simulate --model`). */
export async function openBenchmarkModel(spec: string, dtype?: 'float32' | 'float64'): Promise<BenchmarkModel> {
  if (isAnalyticSpec(spec) && !existsSync(spec)) {
    if (dtype !== undefined) throw new OreoError('--dtype applies to learned models only');
    parseAnalyticSpec(spec); // refuse a bad spec before anything runs
    return { spec, calculatorFor: (s) => createAnalyticCalculator(spec, s) };
  }
  if (!existsSync(spec)) throw new OreoError(`--model ${spec}: no such file, and not an analytic potential (lj, morse, harmonic)`);
  const { loadPotential } = await import('../../model/load.js');
  const pot = loadPotential(spec, dtype ? { dtype } : {});
  const calc = pot.asCalculator();
  const c = pot.config;
  const size = `ET ${c.num_layers} × ${c.embedding_dimension} × ${c.num_rbf} RBF, ${c.num_heads} heads, ${pot.parameterCount().toLocaleString('en-US')} parameters, ${pot.dtype}`;
  return { spec, calculatorFor: () => calc, size };
}

/** A model file is recorded by absolute path (a resume may run from elsewhere); a spec as given. */
function modelKey(spec: string): string {
  return isAnalyticSpec(spec) && !existsSync(spec) ? spec : resolve(spec);
}

function seedDirName(seed: number): string {
  return `seed-${seed}`;
}

function readFrames(file: string): Conformation[] {
  const confs = readMd17Npz(file);
  if (confs.length === 0) throw new OreoError(`${file}: no frames`);
  confs.forEach((c, i) => checkConformation(c, file, i));
  return confs;
}

function sameAtoms(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function newManifest(o: BenchmarkOptions): BenchmarkManifest {
  if (o.molecule === undefined) throw new OreoError('no molecule given (--molecule aspirin|ethanol|naphthalene|salicylic)');
  if (o.model === undefined) throw new OreoError('no model given (--model FILE)');
  const molecule = parseMolecule(o.molecule);
  const bundled = bundledMd17Files(molecule);
  const P = MDSIM_MD17_PROTOCOL;
  const m: BenchmarkManifest = {
    format: BENCHMARK_FORMAT,
    version: BENCHMARK_VERSION,
    molecule,
    model: modelKey(o.model),
    steps: o.steps ?? P.steps,
    seeds: seedValues(o.baseSeed ?? DEFAULT_BASE_SEED, o.seeds ?? DEFAULT_SEEDS),
    saveEvery: o.saveEvery ?? P.saveEvery,
    fmaeFrames: o.fmaeFrames ?? null,
    stopAtCollapse: o.stopAtCollapse ?? false,
    testFile: resolve(o.testFile ?? bundled.test),
    referenceFiles: (o.referenceFiles?.length ? o.referenceFiles : bundled.reference).map((f) => resolve(f)),
    protocol: {
      thermostat: P.thermostat,
      dt_fs: P.dt,
      temperature_K: P.temperature,
      ttime_dt: P.ttime,
      init_temperature_K: P.temperature,
      zero_momentum: P.zeroMomentum,
      min_temperature_K: P.minTemperature,
      max_temperature_K: P.maxTemperature,
      bond_threshold_A: P.bondThreshold,
    },
    createdAt: new Date().toISOString(),
  };
  if (o.dtype !== undefined) m.dtype = o.dtype;
  return m;
}

/** The manifest a resume continues with: the saved one, with the few settings a resume may change. */
function resumedManifest(o: BenchmarkOptions): BenchmarkManifest {
  const m = readManifest(o.outDir);
  const refuse = (what: string, given: unknown, saved: unknown) => {
    throw new OreoError(`cannot resume with ${what} ${String(given)}: the benchmark in ${o.outDir} was started with ${String(saved)}`);
  };
  if (o.molecule !== undefined && parseMolecule(o.molecule) !== m.molecule) refuse('--molecule', o.molecule, m.molecule);
  if (o.model !== undefined && modelKey(o.model) !== m.model) refuse('--model', modelKey(o.model), m.model);
  if (o.dtype !== undefined && o.dtype !== m.dtype) refuse('--dtype', o.dtype, m.dtype ?? 'the model default');
  if (o.saveEvery !== undefined && o.saveEvery !== m.saveEvery) refuse('--save-every', o.saveEvery, m.saveEvery);
  if (o.baseSeed !== undefined && o.baseSeed !== m.seeds[0]) refuse('--seed', o.baseSeed, m.seeds[0]);
  if (o.stopAtCollapse !== undefined && o.stopAtCollapse !== m.stopAtCollapse) refuse('--stop-at-collapse', o.stopAtCollapse, m.stopAtCollapse);
  if (o.testFile !== undefined && resolve(o.testFile) !== m.testFile) refuse('--test', resolve(o.testFile), m.testFile);
  if (o.referenceFiles?.length) {
    const given = o.referenceFiles.map((f) => resolve(f));
    if (given.join('\n') !== m.referenceFiles.join('\n')) refuse('--reference', given.join(', '), m.referenceFiles.join(', '));
  }
  const out = { ...m };
  if (o.steps !== undefined) {
    if (o.steps < m.steps) refuse('--steps', o.steps, `${m.steps} (a resume may raise the number of steps, not lower it)`);
    out.steps = o.steps;
  }
  if (o.seeds !== undefined) out.seeds = seedValues(m.seeds[0], o.seeds);
  if (o.fmaeFrames !== undefined) out.fmaeFrames = o.fmaeFrames;
  return out;
}

function checkOptions(o: BenchmarkOptions): void {
  const int = (name: string, v: number | undefined, min: number) => {
    if (v !== undefined && !(Number.isInteger(v) && v >= min)) throw new OreoError(`${name} must be an integer ≥ ${min}, got ${v}`);
  };
  if (!o.outDir) throw new OreoError('no output folder given');
  int('steps', o.steps, 1);
  int('seeds', o.seeds, 1);
  int('save-every', o.saveEvery, 1);
  int('fmae-frames', o.fmaeFrames, 1);
  if (o.baseSeed !== undefined) seedValues(o.baseSeed, 1);
}

/**
 * The bond criterion while a seed runs, for `stopAtCollapse`: the same bonds (found on the
 * starting structure, which is frame 0) and reference means as the analysis uses afterwards, so
 * the run stops exactly at the frame the analysis calls the first unstable one.
 */
function collapseDetector(start: { z: ArrayLike<number>; positions: ArrayLike<number> }, reference: PreparedReference, threshold: number) {
  const bonds = findBonds(start.z, start.positions, { skin: ASE_NEIGHBORLIST_SKIN });
  const means = meanBondLengths(reference.frames, bonds);
  return (positions: Float64Array, step: number): string | void => {
    const l = bondLengths(positions, bonds);
    for (let b = 0; b < bonds.length; b++) {
      const dev = Math.abs(l[b] - means[b]);
      if (!(dev <= threshold)) {
        return `bond ${bondName(start.z, bonds[b])} is ${dev.toFixed(3)} Å off its reference mean at step ${step} (collapse; metrics are final)`;
      }
    }
  };
}

function forceMaeFrom(errors: ForceErrors, testFile: string, model: string): ForceMaeResult {
  return {
    force_mae_meV_per_A: errors.forceMae * 1000,
    force_rmse_meV_per_A: errors.forceRmse * 1000,
    energy_mae_meV: errors.energyMae !== undefined ? errors.energyMae * 1000 : null,
    frames: errors.frames,
    components: errors.components,
    testFile,
    model,
  };
}

function forceErrorsFrom(r: ForceMaeResult): ForceErrors & { testSet: string; model: string } {
  return {
    forceMae: r.force_mae_meV_per_A / 1000,
    forceRmse: r.force_rmse_meV_per_A / 1000,
    components: r.components,
    energyMae: r.energy_mae_meV !== null ? r.energy_mae_meV / 1000 : undefined,
    frames: r.frames,
    testSet: r.testFile,
    model: r.model,
  };
}

function isFinished(c: Checkpoint, steps: number): boolean {
  return c.status === 'stopped' || (c.status === 'completed' && c.step >= steps);
}

/** Run (or continue) the MD17 benchmark; see the module comment. */
export async function runBenchmark(options: BenchmarkOptions, hooks: BenchmarkHooks = {}): Promise<BenchmarkOutcome> {
  checkOptions(options);
  const log = hooks.log ?? (() => {});
  const outDir = options.outDir;
  const manifestPath = join(outDir, MANIFEST_FILE);
  let manifest: BenchmarkManifest;
  if (options.resume) {
    manifest = resumedManifest(options);
  } else {
    if (existsSync(manifestPath)) {
      throw new OreoError(`${outDir} already holds a benchmark; continue it with --resume, or choose another --out`);
    }
    manifest = newManifest(options);
  }
  const P = MDSIM_MD17_PROTOCOL;

  // Everything that can be refused is checked before the first file is written.
  const model = await openBenchmarkModel(manifest.model, manifest.dtype);
  const test = readFrames(manifest.testFile);
  const z = test[0].z;
  test.forEach((c, i) => {
    if (!sameAtoms(c.z, z)) throw new OreoError(`${manifest.testFile}: frame ${i} has different atoms from frame 0`);
  });
  const referenceFrames: Float64Array[] = [];
  for (const file of manifest.referenceFiles) {
    const confs = file === manifest.testFile ? test : readFrames(file);
    if (!sameAtoms(confs[0].z, z)) {
      throw new OreoError(`${file}: its atoms differ from ${manifest.testFile} (bonds are compared by atom index, so both need the same molecule in the same order)`);
    }
    for (const c of confs) referenceFrames.push(c.positions);
  }
  const reference = prepareReference({ z, frames: referenceFrames, source: manifest.referenceFiles.join(' + ') });
  model.calculatorFor(test[0]).checkElements?.(z);

  mkdirSync(outDir, { recursive: true });
  writeFileAtomic(manifestPath, JSON.stringify(manifest, null, 2) + '\n');

  // Force MAE: once per benchmark, reused by a resume when nothing it depends on changed.
  const fmaeIndices = evenlySpacedIndices(test.length, manifest.fmaeFrames ?? test.length);
  const previous = options.resume ? readPreviousResults(outDir) : undefined;
  let forceMae: ForceMaeResult | null = null;
  let forceErrors: (ForceErrors & { testSet: string; model: string }) | undefined;
  const prevF = previous?.forceMae;
  if (prevF && prevF.model === manifest.model && prevF.testFile === manifest.testFile && prevF.frames === fmaeIndices.length) {
    forceMae = prevF;
    forceErrors = forceErrorsFrom(prevF);
    log(`force MAE ${prevF.force_mae_meV_per_A.toFixed(3)} meV/Å on ${prevF.frames} test frames (from the earlier run)`);
  } else {
    log(`force MAE on ${fmaeIndices.length} of ${test.length} frames of ${manifest.testFile} …`);
    const errors = evaluateCalculator(model.calculatorFor(test[0]), fmaeIndices.map((i) => test[i]), hooks.onForceProgress);
    forceMae = forceMaeFrom(errors, manifest.testFile, manifest.model);
    forceErrors = { ...errors, testSet: manifest.testFile, model: manifest.model };
    log(`force MAE ${forceMae.force_mae_meV_per_A.toFixed(3)} meV/Å (${errors.components} components)`);
  }

  const seeds = manifest.seeds;
  const seedResults: SeedResult[] = seeds.map((seed) => ({
    seed,
    dir: seedDirName(seed),
    startFrame: startFrameIndex(seed, test.length),
    status: 'pending',
    steps: 0,
    simulated_ps: 0,
    wall_seconds: 0,
    steps_per_second: null,
    initial_temperature_K: null,
  }));

  const writeResults = (complete: boolean): BenchmarkResults => {
    const done = seedResults.filter((s) => s.stability_ps !== undefined);
    const results: BenchmarkResults = {
      format: BENCHMARK_FORMAT,
      version: BENCHMARK_VERSION,
      molecule: manifest.molecule,
      model: manifest.model,
      ...(model.size ? { modelSize: model.size } : {}),
      complete,
      steps: manifest.steps,
      simulated_ps_target: (manifest.steps * P.dt) / 1000,
      protocol: { ...manifest.protocol, save_every_steps: manifest.saveEvery, frame_interval_fs: manifest.saveEvery * P.dt },
      reference: {
        files: manifest.referenceFiles,
        frames: referenceFrames.length,
        note: options.referenceFiles?.length || manifest.referenceFiles.length !== 2
          ? 'Frames as given.'
          : 'MDsim averages over all frames of the original MD17 trajectory, which oreo does not ship; the union of the bundled rMD17 train and test files (disjoint random samples of that trajectory) stands in for it.',
      },
      forceMae,
      seeds: seedResults,
      summary: {
        seeds_finished: done.length,
        seeds_total: seeds.length,
        force_mae_meV_per_A: forceMae ? forceMae.force_mae_meV_per_A : null,
        stability_ps: meanStd(done.map((s) => s.stability_ps!)),
        hr_mae: meanStd(done.map((s) => s.hr_mae!)),
      },
      writtenAt: new Date().toISOString(),
    };
    writeFileAtomic(join(outDir, RESULTS_FILE), JSON.stringify(results, null, 2) + '\n');
    writeFileAtomic(join(outDir, TABLE_FILE), renderTable(results));
    return results;
  };

  let interrupted = false;
  for (let k = 0; k < seeds.length; k++) {
    const sr = seedResults[k];
    const seed = sr.seed;
    const dir = join(outDir, sr.dir);
    const initLabel = `${manifest.testFile}:${sr.startFrame}`;
    const hasState = existsSync(join(dir, STATE_FILE));
    let ckpt = hasState ? readCheckpoint(dir) : undefined;
    if (ckpt && (ckpt.settings.seed !== seed || ckpt.settings.init !== initLabel)) {
      throw new OreoError(`${dir}: this simulation was started with seed ${ckpt.settings.seed} from ${ckpt.settings.init ?? '?'}, not seed ${seed} from ${initLabel}; it does not belong to this benchmark`);
    }
    let ranNow = false;
    if (!ckpt || !isFinished(ckpt, manifest.steps)) {
      const start = ckpt ? ckpt.reference : { z: test[sr.startFrame].z, positions: test[sr.startFrame].positions };
      const calculator = model.calculatorFor(start);
      const detect = manifest.stopAtCollapse ? collapseDetector(start, reference, P.bondThreshold) : undefined;
      const simOptions: SimulationOptions = {
        outDir: dir,
        steps: manifest.steps,
        signal: options.signal,
        progressSeconds: options.progressSeconds ?? 1,
        checkpointSeconds: options.checkpointSeconds ?? 60,
      };
      if (ckpt) {
        simOptions.resume = true;
        log(`seed ${seed} (${k + 1}/${seeds.length}): resuming at step ${ckpt.step} of ${manifest.steps}`);
      } else {
        Object.assign(simOptions, {
          // A folder without state.json never got its first checkpoint: start it over on resume.
          overwrite: !!options.resume,
          initial: { z: start.z, positions: start.positions },
          init: initLabel,
          model: manifest.model,
          thermostat: P.thermostat,
          dt: P.dt,
          temperature: P.temperature,
          ttime: P.ttime,
          saveEvery: manifest.saveEvery,
          seed,
          initTemperature: P.temperature,
          zeroMomentum: P.zeroMomentum,
          zeroAngularMomentum: P.zeroAngularMomentum,
          minTemperature: P.minTemperature,
          maxTemperature: P.maxTemperature,
          // MDsim runs every seed to its end and judges stability afterwards; the metrics depend
          // on that, so the watchdog stays off here (--stop-at-collapse is the benchmark's own stop).
          stability: false,
        } satisfies Partial<SimulationOptions>);
        if (manifest.dtype) simOptions.dtype = manifest.dtype;
        log(`seed ${seed} (${k + 1}/${seeds.length}): starting from test frame ${sr.startFrame}`);
      }
      const result = await runSimulation(simOptions, calculator, {
        log: (m) => log(`  ${m}`),
        onFrame: (sim) => {
          hooks.onFrame?.(seed, sim.step);
          return detect?.(sim.atoms.positions, sim.step);
        },
        onProgress: hooks.onProgress
          ? (p: Progress) =>
              hooks.onProgress!({
                seed,
                index: k,
                count: seeds.length,
                step: p.step,
                targetSteps: p.targetSteps,
                timePs: p.timePs,
                temperature: p.temperature,
                // ns/day over this invocation → steps per wall-clock second.
                stepsPerSecond: (p.nsPerDay * 1e6) / 86400 / P.dt,
                etaSeconds: p.etaSeconds,
                final: p.final,
              })
          : undefined,
      });
      ranNow = true;
      ckpt = readCheckpoint(dir);
      if (result.status === 'interrupted') interrupted = true;
    }
    sr.status = ckpt.status === 'running' ? 'interrupted' : ckpt.status;
    if (ckpt.stopReason && ckpt.status === 'stopped') sr.reason = ckpt.stopReason;
    sr.steps = ckpt.step;
    sr.simulated_ps = (ckpt.step * P.dt) / 1000;
    sr.wall_seconds = ckpt.wallSeconds;
    sr.steps_per_second = ckpt.wallSeconds > 0 ? ckpt.step / ckpt.wallSeconds : null;

    if (isFinished(ckpt, manifest.steps)) {
      const out = readSimulationOutput(dir);
      const t = out.trajectory;
      if (!sameAtoms(t.z, z)) throw new OreoError(`${dir}: the trajectory's atoms differ from ${manifest.testFile}`);
      const analysis = analyzeSimulation(
        { z: t.z, frames: t.frames, timesPs: t.timesPs!, energies: t.energies, temperatures: t.temperatures },
        reference,
        { threshold: P.bondThreshold },
      );
      const b = analysis.bondStability;
      sr.initial_temperature_K = analysis.temperatures ? analysis.temperatures[0] : (out.thermo?.temperature[0] ?? null);
      sr.stability_ps = analysis.stabilityPs;
      sr.collapsed = analysis.collapsed;
      sr.first_unstable_frame = b.firstUnstableFrame;
      sr.broken_bond = b.brokenBond ? bondName(z, b.brokenBond) : null;
      sr.hr_mae = analysis.hr.mae;
      sr.hr_frames_used = analysis.hr.framesUsed;
      sr.frames = analysis.frames;
      if (analysis.temperatures) {
        const upto = Array.from(analysis.temperatures.subarray(0, b.collapseIndex));
        sr.mean_temperature_K = meanStd(upto).mean;
      }
      const reportDir = join(dir, 'analysis');
      if (options.plots !== false && (ranNow || !existsSync(join(reportDir, 'metrics.json')))) {
        writeReport(reportDir, analysis, {
          trajectory: resolve(dir),
          reference: reference.source ?? manifest.referenceFiles.join(' + '),
          referenceFrames: referenceFrames.length,
          thermo: out.thermo,
          forceErrors,
          options: { threshold: P.bondThreshold, box: null, benchmark: resolve(outDir), seed },
        });
      }
      if (existsSync(join(reportDir, 'metrics.json'))) sr.report = join(sr.dir, 'analysis');
      log(
        `seed ${seed}: ${sr.status} at ${sr.simulated_ps} ps; stability ${sr.stability_ps} ps` +
          `${sr.collapsed ? ` (bond ${sr.broken_bond} broke)` : ''}, h(r) MAE ${sr.hr_mae.toFixed(4)}`,
      );
    } else {
      log(`seed ${seed}: interrupted at step ${ckpt.step} (${sr.simulated_ps} ps)`);
    }
    if (interrupted) break;
    writeResults(false);
  }

  const complete = !interrupted && seedResults.every((s) => s.stability_ps !== undefined);
  const results = writeResults(complete);
  return { status: complete ? 'complete' : 'interrupted', outDir, results };
}
