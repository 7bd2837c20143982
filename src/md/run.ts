/**
 * A molecular-dynamics run on disk: `runSimulation` steps a Simulation, streams frames to
 * `trajectory.extxyz` and rows to `thermo.csv`, writes `state.json` checkpoints atomically, stops
 * early when the dynamics break down, and continues a run bit-for-bit with `resume`.
 *
 * Files in the output directory:
 * - trajectory.extxyz — one frame every `saveEvery` steps, starting with step 0 (see output.ts)
 * - thermo.csv        — `time_ps,Etot_eV,Epot_eV,Ekin_eV,T_K`, one row per saved frame
 * - state.json        — the latest checkpoint (see checkpoint.ts)
 *
 * Memory does not grow with the number of steps: nothing per step is kept.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync, truncateSync, writeSync } from 'node:fs';
import { writeFileAtomic } from '../io/atomic.js';
import { join } from 'node:path';
import { formatExtxyzFrame } from '../data/extxyz.js';
import { OreoError } from '../errors.js';
import { Atoms, type AtomsInit } from './atoms.js';
import type { Calculator } from '../calculator.js';
import { type Checkpoint, CHECKPOINT_FORMAT, CHECKPOINT_VERSION, parseCheckpoint, type RunSettings, type RunStatus, serializeCheckpoint } from './checkpoint.js';
import { thermostatSettings, type ThermostatKind, validateThermostatSettings } from './integrators/index.js';
import { THERMO_HEADER, thermoRow, timeInPs, trajectoryFrame } from './output.js';
import { freshSeed } from '../random.js';
import { createSimulation, restoreSimulation } from './setup.js';
import { defaultStopLimits, type Simulation } from './simulation.js';
import { MdLoop } from './loop.js';
import { type Collapse, DEFAULT_BOND_TOLERANCE, DEFAULT_MAX_DRIFT_PER_ATOM, DEFAULT_RUNAWAY_FACTOR, Watchdog, type WatchdogOptions } from './watchdog.js';

export const TRAJECTORY_FILE = 'trajectory.extxyz';
export const THERMO_FILE = 'thermo.csv';
export const STATE_FILE = 'state.json';

export interface SimulationOptions {
  /** Output directory (created if missing). */
  outDir: string;
  /** Continue the run whose state.json is in outDir; settings then come from the checkpoint. */
  resume?: boolean;
  /** Start afresh even if outDir already holds a run. */
  overwrite?: boolean;
  /** Starting structure (fresh runs). Velocities, if given, are used instead of Maxwell–Boltzmann ones. */
  initial?: AtomsInit;
  /** Label for where `initial` came from, e.g. "aspirin.xyz:0" (recorded only). */
  init?: string;
  /** Model file or spec, recorded so that a resume can rebuild the calculator. */
  model?: string;
  /** Arithmetic the model was loaded with, recorded for a resume. */
  dtype?: 'float32' | 'float64';
  /** Head of a multi-head model (by id or level), recorded for a resume. */
  head?: string;
  thermostat?: ThermostatKind;
  /** Time step, fs. */
  dt?: number;
  /** Thermostat target temperature, K; also the velocity temperature unless initTemperature is set. */
  temperature?: number;
  /** Thermostat time in units of dt (default 20, as MDsim). */
  ttime?: number;
  /** Langevin friction, 1/fs (default 0.01). */
  friction?: number;
  /** Nosé–Hoover chain length (default 3). */
  chainLength?: number;
  /** Total number of steps counted from step 0; on resume, a new target (default: the saved one). */
  steps?: number;
  /** Save a frame every this many steps (default 100, as MDsim). */
  saveEvery?: number;
  /** Random seed (default: a fresh one, recorded in state.json). */
  seed?: number;
  /** Temperature of the Maxwell–Boltzmann initial velocities, K (default: temperature). */
  initTemperature?: number;
  zeroMomentum?: boolean;
  zeroAngularMomentum?: boolean;
  /** Early-stop limits, K (default 0.1 and 1e5, as MDsim). */
  minTemperature?: number;
  maxTemperature?: number;
  /** Write a checkpoint at least this often, wall-clock seconds (default 60). */
  checkpointSeconds?: number;
  /** Also write a checkpoint every this many steps (default: only by time, and at the end). */
  checkpointEvery?: number;
  /** Minimum wall-clock seconds between progress reports (default 1). */
  progressSeconds?: number;
  /** Abort: the run stops after the current step, writes a checkpoint, and reports 'interrupted'. */
  signal?: AbortSignal;
  /**
   * The stability watchdog (watchdog.ts), on by default: a collapse stops the run as 'stopped'
   * with a reason naming the bond or quantity and the time. `false` turns it off (the MD17
   * benchmark, whose metrics come from the analysis afterwards, as MDsim's do);
   * `allowUnstable` keeps going and only warns.
   */
  stability?: false | (WatchdogOptions & { allowUnstable?: boolean });
}

export interface Progress {
  step: number;
  targetSteps: number;
  /** Simulated time, ps. */
  timePs: number;
  temperature: number;
  /** E_pot + E_kin, eV. */
  totalEnergy: number;
  /** Simulated ns per wall-clock day, over this invocation. */
  nsPerDay: number;
  /** Estimated wall-clock seconds to the target, or NaN before any step. */
  etaSeconds: number;
  /** True for the report at the end of the run. */
  final: boolean;
}

export interface SimulationHooks {
  /** Throttled progress reports (see progressSeconds), plus a final one. */
  onProgress?(p: Progress): void;
  /**
   * Called after each saved frame with the live simulation (read it, copy what you keep). Return a
   * string to stop the run with that reason (e.g. a bond-length stability criterion).
   */
  onFrame?(sim: Simulation): string | void;
  /** Informational messages (seed, thermostat constants, resume point). */
  log?(message: string): void;
}

export interface SimulationResult {
  status: Exclude<RunStatus, 'running'>;
  /** Why a run stopped early or was interrupted. */
  reason?: string;
  /** The stability watchdog's first trip (the stop itself, or a warning under allowUnstable). */
  collapse?: Collapse;
  /** Steps completed (counted from the start of the run). */
  step: number;
  timePs: number;
  /** Frames written by this invocation. */
  frames: number;
  /** Force evaluations by this invocation. */
  evaluations: number;
  wallSeconds: number;
  outDir: string;
  settings: RunSettings;
}

/** Read the checkpoint of a run directory, with a clear error if there is none. */
export function readCheckpoint(outDir: string): Checkpoint {
  const file = join(outDir, STATE_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new OreoError(`cannot resume: ${file} does not exist (is ${outDir} the output directory of an oreo simulate run?)`);
  }
  try {
    return parseCheckpoint(text, file);
  } catch (err) {
    throw new OreoError((err as Error).message);
  }
}

/** The temperature the watchdog's runaway ceiling scales: the target, or for NVE the starting one. */
function watchTemperature(s: RunSettings): number {
  return s.thermostat === 'nve' ? s.initTemperature : s.temperature;
}

function checkInteger(name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new OreoError(`${name} must be an integer ≥ ${min}, got ${v}`);
}

/** Settings of a fresh run with defaults filled in, validated. */
export function resolveSettings(o: SimulationOptions): RunSettings {
  if (o.thermostat === undefined) throw new OreoError('no thermostat given (nve, nose-hoover, nhc or langevin)');
  if (o.dt === undefined) throw new OreoError('no time step (dt, fs) given');
  if (o.temperature === undefined) throw new OreoError('no temperature (K) given');
  if (o.steps === undefined) throw new OreoError('no number of steps given');
  const s: RunSettings = {
    ...thermostatSettings({ ...o, thermostat: o.thermostat, dt: o.dt, temperature: o.temperature }),
    steps: o.steps,
    saveEvery: o.saveEvery ?? 100,
    seed: o.seed ?? freshSeed(),
    initTemperature: o.initTemperature ?? o.temperature,
    zeroMomentum: o.zeroMomentum ?? false,
    zeroAngularMomentum: o.zeroAngularMomentum ?? false,
    minTemperature: o.minTemperature ?? defaultStopLimits.minTemperature,
    maxTemperature: o.maxTemperature ?? defaultStopLimits.maxTemperature,
  };
  if (o.model !== undefined) s.model = o.model;
  if (o.dtype !== undefined) s.dtype = o.dtype;
  if (o.head !== undefined) s.head = o.head;
  if (o.stability !== false) {
    const w = o.stability ?? {};
    s.stability = {
      enabled: true,
      allowUnstable: w.allowUnstable ?? false,
      bondTolerance: w.bondTolerance ?? DEFAULT_BOND_TOLERANCE,
      runawayFactor: w.runawayFactor ?? DEFAULT_RUNAWAY_FACTOR,
      maxDriftPerAtom: w.maxDriftPerAtom ?? DEFAULT_MAX_DRIFT_PER_ATOM,
    };
    if (w.bonds) s.stability.bonds = w.bonds.map(([i, j]) => [i, j]);
    if (!(s.stability.bondTolerance > 0)) throw new OreoError(`bond tolerance must be > 0 Å, got ${s.stability.bondTolerance}`);
    if (!(s.stability.runawayFactor > 1)) throw new OreoError(`runaway factor must be > 1, got ${s.stability.runawayFactor}`);
    if (!(s.stability.maxDriftPerAtom > 0)) throw new OreoError(`energy drift tolerance must be > 0 eV/atom, got ${s.stability.maxDriftPerAtom}`);
  }
  if (o.init !== undefined) s.init = o.init;
  validateThermostatSettings(s);
  checkInteger('steps', s.steps, 0);
  checkInteger('save-every', s.saveEvery, 1);
  if (!Number.isSafeInteger(s.seed) || s.seed < 0) throw new OreoError(`seed must be a non-negative integer, got ${s.seed}`);
  if (!(s.initTemperature >= 0) || !Number.isFinite(s.initTemperature)) throw new OreoError(`initial temperature must be ≥ 0 K, got ${s.initTemperature}`);
  if (!(s.minTemperature >= 0 && s.maxTemperature > s.minTemperature)) {
    throw new OreoError(`temperature limits must satisfy 0 ≤ min < max, got ${s.minTemperature} and ${s.maxTemperature}`);
  }
  return s;
}

/** Settings a resume may not change, compared with what the caller passed. */
function checkResumeConflicts(o: SimulationOptions, s: RunSettings): void {
  const fixed: (keyof SimulationOptions & keyof RunSettings)[] = [
    'thermostat', 'dt', 'temperature', 'ttime', 'friction', 'chainLength', 'saveEvery', 'seed', 'initTemperature',
    'zeroMomentum', 'zeroAngularMomentum', 'minTemperature', 'maxTemperature', 'dtype', 'head',
  ];
  for (const k of fixed) {
    if (o[k] !== undefined && o[k] !== s[k]) {
      throw new OreoError(`cannot resume with ${k} = ${String(o[k])}: the run was started with ${String(s[k])} (a resumed run continues with its own settings)`);
    }
  }
  if (o.initial) throw new OreoError('cannot resume with a new starting structure: a resumed run continues from its checkpoint');
}

function checkCalculator(calculator: Calculator, z: Int32Array): void {
  if (!calculator.checkElements) return;
  try {
    calculator.checkElements(z);
  } catch (err) {
    if (err instanceof OreoError) throw err;
    throw new OreoError(`model ${calculator.name} cannot handle this molecule: ${(err as Error).message}`);
  }
}

/** Appends text to a file through a buffer; `bytes` counts what is in the file after a flush. */
class Appender {
  private fd: number;
  private chunks: string[] = [];
  private pending = 0;
  bytes: number;

  constructor(readonly path: string, startBytes: number) {
    this.fd = openSync(path, 'a');
    this.bytes = startBytes;
  }

  write(text: string): void {
    this.chunks.push(text);
    this.pending += text.length;
    if (this.pending > 1 << 20) this.flush();
  }

  flush(): void {
    if (!this.chunks.length) return;
    const buf = Buffer.from(this.chunks.join(''), 'utf8');
    let off = 0;
    while (off < buf.length) off += writeSync(this.fd, buf, off, buf.length - off);
    this.bytes += buf.length;
    this.chunks = [];
    this.pending = 0;
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}


function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return -1;
  }
}

/**
 * Run (or continue) a simulation with `calculator`. Bad settings or inputs throw an OreoError
 * before any step is taken. Early stops are not errors: they come back as status 'stopped' with
 * the reason, and the output written so far stays.
 */
export async function runSimulation(options: SimulationOptions, calculator: Calculator, hooks: SimulationHooks = {}): Promise<SimulationResult> {
  const started = performance.now();
  const outDir = options.outDir;
  const trajPath = join(outDir, TRAJECTORY_FILE);
  const thermoPath = join(outDir, THERMO_FILE);
  const statePath = join(outDir, STATE_FILE);
  const log = hooks.log ?? (() => {});

  let settings: RunSettings;
  let sim: Simulation;
  let reference: { z: number[]; positions: Float64Array };
  let priorWall = 0;
  let priorEvaluations = 0;
  let traj: Appender;
  let thermo: Appender;

  if (options.resume) {
    const ckpt = readCheckpoint(outDir);
    settings = { ...ckpt.settings };
    checkResumeConflicts(options, settings);
    if (ckpt.status === 'stopped') {
      throw new OreoError(`cannot resume: the run in ${outDir} stopped early (${ckpt.stopReason ?? 'no reason recorded'})`);
    }
    if (options.steps !== undefined) {
      checkInteger('steps', options.steps, 0);
      if (options.steps < ckpt.step) throw new OreoError(`cannot resume to ${options.steps} steps: the run is already at step ${ckpt.step}`);
      settings.steps = options.steps;
    }
    if (options.model !== undefined) settings.model = options.model;
    if (options.stability && options.stability.allowUnstable !== undefined && settings.stability) {
      settings.stability = { ...settings.stability, allowUnstable: options.stability.allowUnstable };
    }
    checkCalculator(calculator, Int32Array.from(ckpt.atoms.z));
    for (const [path, bytes] of [[trajPath, ckpt.files.trajectoryBytes], [thermoPath, ckpt.files.thermoBytes]] as const) {
      const size = fileSize(path);
      if (size < bytes) throw new OreoError(`cannot resume: ${path} has ${Math.max(size, 0)} bytes but the checkpoint at step ${ckpt.step} recorded ${bytes}`);
      // Frames written after the checkpoint are dropped; the resumed run writes them again.
      if (size > bytes) truncateSync(path, bytes);
    }
    sim = restoreSimulation(ckpt, calculator);
    reference = ckpt.reference;
    priorWall = ckpt.wallSeconds;
    priorEvaluations = ckpt.evaluations;
    traj = new Appender(trajPath, ckpt.files.trajectoryBytes);
    thermo = new Appender(thermoPath, ckpt.files.thermoBytes);
    log(`resuming ${outDir} at step ${ckpt.step} (${timeInPs(ckpt.step, settings.dt)} ps) towards ${settings.steps} steps`);
  } else {
    settings = resolveSettings(options);
    if (!options.initial) throw new OreoError('no starting structure given');
    let atoms: Atoms;
    try {
      atoms = new Atoms(options.initial);
    } catch (err) {
      throw new OreoError(`starting structure: ${(err as Error).message}`);
    }
    if (!atoms.positions.every(Number.isFinite)) throw new OreoError('starting structure has non-finite positions');
    checkCalculator(calculator, atoms.z);
    const unsuited = calculator.applicability?.(atoms.z);
    if (unsuited) log(`warning: ${unsuited}`);
    if (!options.overwrite && (existsSync(statePath) || existsSync(trajPath))) {
      throw new OreoError(`${outDir} already holds a simulation; continue it with --resume ${outDir}, or choose another output directory`);
    }
    reference = { z: Array.from(atoms.z), positions: Float64Array.from(atoms.positions) };
    sim = createSimulation(options.initial, calculator, settings);
    const bad = sim.problem({ minTemperature: 0, maxTemperature: Infinity });
    if (bad) throw new OreoError(`the model gives unusable results for the starting structure: ${bad}`);
    mkdirSync(outDir, { recursive: true });
    writeFileAtomic(trajPath, '');
    writeFileAtomic(thermoPath, THERMO_HEADER + '\n');
    traj = new Appender(trajPath, 0);
    thermo = new Appender(thermoPath, Buffer.byteLength(THERMO_HEADER + '\n'));
    log(`seed ${settings.seed}; ${atoms.count} atoms; ${settings.thermostat} at ${settings.temperature} K, dt ${settings.dt} fs; initial T ${sim.temperature().toFixed(2)} K`);
  }

  const startStep = sim.step;
  const startEvaluations = sim.evaluations;
  const limits = { minTemperature: settings.minTemperature, maxTemperature: settings.maxTemperature };

  const checkpoint = (status: RunStatus, stopReason?: string): Checkpoint => {
    traj.flush();
    thermo.flush();
    const c: Checkpoint = {
      format: CHECKPOINT_FORMAT,
      version: CHECKPOINT_VERSION,
      step: sim.step,
      status,
      settings,
      atoms: {
        z: Array.from(sim.atoms.z),
        // Copies: the last checkpoint is kept in memory and must not follow the live arrays.
        masses: Float64Array.from(sim.atoms.masses),
        positions: Float64Array.from(sim.atoms.positions),
        velocities: Float64Array.from(sim.atoms.velocities),
        pbc: [...sim.atoms.pbc],
      },
      forces: Float64Array.from(sim.forces),
      energy: sim.energy,
      integrator: sim.integrator.getState(),
      reference,
      files: { trajectoryBytes: traj.bytes, thermoBytes: thermo.bytes },
      wallSeconds: priorWall + (performance.now() - started) / 1000,
      evaluations: priorEvaluations + sim.evaluations - startEvaluations,
      calculator: calculator.name,
      writtenAt: new Date().toISOString(),
    };
    if (sim.atoms.cell) c.atoms.cell = sim.atoms.cell;
    if (stopReason) c.stopReason = stopReason;
    writeFileAtomic(statePath, serializeCheckpoint(c));
    return c;
  };

  let frames = 0;
  const writeFrame = (): void => {
    traj.write(formatExtxyzFrame(trajectoryFrame(sim)));
    thermo.write(thermoRow(sim));
    frames++;
  };
  const saveFrame = (): string | void => {
    writeFrame();
    return hooks.onFrame?.(sim);
  };

  const progressMs = (options.progressSeconds ?? 1) * 1000;
  const checkpointMs = (options.checkpointSeconds ?? 60) * 1000;
  const report = (final: boolean) => {
    if (!hooks.onProgress) return;
    const wall = (performance.now() - started) / 1000;
    const done = sim.step - startStep;
    const perStep = done > 0 ? wall / done : NaN;
    hooks.onProgress({
      step: sim.step,
      targetSteps: settings.steps,
      timePs: timeInPs(sim.step, settings.dt),
      temperature: sim.temperature(),
      totalEnergy: sim.totalEnergy(),
      nsPerDay: done > 0 && wall > 0 ? ((done * settings.dt * 1e-6) / wall) * 86400 : NaN,
      etaSeconds: perStep * (settings.steps - sim.step),
      final,
    });
  };

  const stability = settings.stability;
  const watchdog = stability?.enabled
    ? new Watchdog(
        sim,
        { thermostat: settings.thermostat, temperature: watchTemperature(settings), startEnergy: stability.startEnergy },
        {
          bondTolerance: stability.bondTolerance,
          runawayFactor: stability.runawayFactor,
          maxDriftPerAtom: stability.maxDriftPerAtom,
          referencePositions: reference.positions,
          bonds: stability.bonds?.map(([i, j]) => [i, j] as const),
        },
      )
    : undefined;
  if (stability?.enabled && stability.startEnergy === undefined) stability.startEnergy = watchdog!.startEnergy;
  const loop = new MdLoop(sim, { limits, watchdog, allowUnstable: stability?.allowUnstable, onWarning: (m) => log(m) });
  loop.attach(() => saveFrame(), settings.saveEvery);
  if (options.checkpointEvery) loop.attach(() => void (lastCheckpoint = checkpoint('running')), options.checkpointEvery);

  let status: Exclude<RunStatus, 'running'> = 'completed';
  let reason: string | undefined;
  let lastCheckpoint: Checkpoint;
  // True when the dynamics broke down: the current state is then not worth a checkpoint.
  let brokenState = false;
  try {
    if (!options.resume) {
      reason = saveFrame() || undefined;
      if (reason) status = 'stopped';
    }
    lastCheckpoint = checkpoint(status === 'stopped' ? 'stopped' : 'running', reason);
    let lastCheckpointAt = performance.now();
    let lastProgressAt = performance.now();
    while (status === 'completed' && sim.step < settings.steps) {
      if (options.signal?.aborted) {
        status = 'interrupted';
        reason = 'interrupted; continue with resume';
        break;
      }
      // Step in slices of ~100 ms, then let signal handlers (Ctrl-C) and other tasks run.
      const sliceStart = performance.now();
      const stop = loop.run(settings.steps, () => performance.now() - sliceStart < 100 && !options.signal?.aborted);
      if (stop) {
        status = 'stopped';
        reason = stop.reason;
        // A limit or non-finite value keeps the last good checkpoint, as before the watchdog (the
        // MD17 benchmark's step counts rest on it); a collapse keeps its state and its frame, the
        // one a person wants to look at.
        if (stop.broken || stop.kind === 'problem') brokenState = true;
        else if (stop.kind === 'collapse') writeFrame();
        break;
      }
      const now = performance.now();
      if (now - lastCheckpointAt >= checkpointMs) {
        lastCheckpoint = checkpoint('running');
        lastCheckpointAt = now;
      }
      if (now - lastProgressAt >= progressMs) {
        report(false);
        lastProgressAt = now;
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (brokenState) {
      // Keep the last good checkpoint, marked as stopped, with the output files as they are
      // (frames up to the last saved step before the breakdown).
      traj.flush();
      thermo.flush();
      const c: Checkpoint = {
        ...lastCheckpoint,
        status: 'stopped',
        stopReason: reason,
        files: { trajectoryBytes: traj.bytes, thermoBytes: thermo.bytes },
        writtenAt: new Date().toISOString(),
      };
      writeFileAtomic(statePath, serializeCheckpoint(c));
    } else {
      checkpoint(status, reason);
    }
  } finally {
    traj.close();
    thermo.close();
  }
  report(true);
  return {
    status,
    reason,
    collapse: loop.firstCollapse,
    step: sim.step,
    timePs: timeInPs(sim.step, settings.dt),
    frames,
    evaluations: sim.evaluations - startEvaluations,
    wallSeconds: (performance.now() - started) / 1000,
    outDir,
    settings,
  };
}
