/**
 * The training loop shared by pre-training, fine-tuning and plain supervised training:
 * batches → objective → ∂loss/∂θ (through the forces, so a second-order gradient) → AdamW, with
 * warm-up + reduce-on-plateau, validation every K steps, progress on stderr, a JSONL log, and
 * checkpoints that make an interrupted run resume to the same weights as an uninterrupted one.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { writeFileAtomic, appendText } from '../io/atomic.js';
import { join } from 'node:path';
import { grad } from '../engine/index.js';
import { Potential } from '../model/potential.js';
import type { ParameterSet } from '../model/parameters.js';
import type { Conformation } from '../data/conformation.js';
import { makeBatch } from '../data/batch.js';
import { permutation, deriveSeed } from '../random.js';
import { Rng, RngState } from '../random.js';
import { ObjectiveConfig, checkObjective, NormalSource, objectiveApplies } from './objective.js';
import type { Batch } from '../data/batch.js';
import type { Tensor } from '../engine/index.js';
import { AdamW, clipGradients } from './optimizer.js';
import { ObjectiveGradients, type TrainingPathChoice } from './gradient-path.js';
import { LrSchedule, ScheduleConfig, ScheduleState } from './schedule.js';
import { saveTrainingCheckpoint, loadTrainingCheckpoint } from './checkpoint.js';
import { InputError, OreoError } from '../errors.js';
import { evaluate } from './evaluate.js';

export interface TrainConfig {
  /** Peak learning rate after warm-up (paper: 1e-4). */
  lr: number;
  /** Learning rate at the first step of warm-up (paper: 1e-7). */
  lrStart: number;
  warmupSteps: number;
  /** Reduce-on-plateau factor and patience (in validation rounds). */
  factor: number;
  patience: number;
  minLr: number;
  /** Validate (and checkpoint) every this many steps. */
  valEvery: number;
  batchSize: number;
  maxSteps: number;
  seed: number;
  /** Global gradient-norm clip; 0 disables. */
  clip: number;
  weightDecay: number;
  /** After warm-up: 'plateau' (default, the paper's) or 'cosine' to 0 at maxSteps (Zaidi et al.'s QM9 fine-tuning). */
  schedule?: 'plateau' | 'cosine';
  /**
   * How the parameter gradient of the force-centric objective is computed: 'auto' (default: the
   * fused forward-over-reverse path where the model allows it, else autodiff with a warning),
   * 'fused' (an error if it cannot) or 'autodiff' (the create-graph tape, the reference).
   */
  trainingPath?: TrainingPathChoice;
  /**
   * Budget of training clock in minutes; 0 = none. The clock counts what a fixed-budget
   * comparison is about — training steps (batch assembly, loss, gradient, optimizer) and the
   * validation rounds — and not checkpoint writing or evaluations run after training. It is
   * saved in the checkpoint, so a resumed run spends what is left of the same budget.
   */
  timeLimitMinutes?: number;
}

export const paperDefaults: TrainConfig = {
  lr: 1e-4,
  lrStart: 1e-7,
  warmupSteps: 10_000,
  factor: 0.8,
  patience: 30,
  minLr: 1e-7,
  valEvery: 500,
  batchSize: 32,
  maxSteps: 100_000,
  seed: 0,
  clip: 0,
  weightDecay: 0,
  timeLimitMinutes: 0,
};

/** Upper bounds on the training settings (a batch of 10^7 would allocate before step 1). */
export const TRAIN_LIMITS: Partial<Record<keyof TrainConfig, number>> = {
  batchSize: 65_536,
  maxSteps: 1e10,
  valEvery: 1e10,
  warmupSteps: 1e10,
  patience: 1e10,
  lr: 10,
  lrStart: 10,
  minLr: 10,
};

export function checkTrainConfig(c: TrainConfig, where: string): void {
  const bad = (k: string, why: string): never => {
    throw new InputError(where, `${k} ${why}`, undefined, `training.${k}`);
  };
  const positive: (keyof TrainConfig)[] = ['lr', 'lrStart', 'factor', 'minLr', 'valEvery', 'batchSize', 'maxSteps'];
  for (const k of positive) {
    if (!(typeof c[k] === 'number' && Number.isFinite(c[k]) && c[k] > 0)) bad(k, `must be a positive number, got ${c[k]}`);
  }
  for (const k of ['warmupSteps', 'patience', 'clip', 'weightDecay', 'seed', 'timeLimitMinutes'] as const) {
    if (k === 'timeLimitMinutes' && c[k] === undefined) continue;
    if (!(typeof c[k] === 'number' && Number.isFinite(c[k]) && c[k] >= 0)) bad(k, `must be a number ≥ 0, got ${c[k]}`);
  }
  for (const [k, max] of Object.entries(TRAIN_LIMITS)) {
    const v = c[k as keyof TrainConfig];
    if (typeof v === 'number' && v > max!) bad(k, `= ${v} is beyond the largest accepted, ${max}`);
  }
  if (c.factor >= 1) bad('factor', `must be < 1, got ${c.factor}`);
  if (c.schedule !== undefined && c.schedule !== 'plateau' && c.schedule !== 'cosine') {
    bad('schedule', `must be 'plateau' or 'cosine', got ${JSON.stringify(c.schedule)}`);
  }
  for (const k of ['valEvery', 'batchSize', 'maxSteps', 'warmupSteps', 'patience'] as const) {
    if (!Number.isInteger(c[k])) bad(k, `must be an integer, got ${c[k]}`);
  }
  if (c.trainingPath !== undefined && !['auto', 'fused', 'autodiff'].includes(c.trainingPath)) {
    bad('trainingPath', `must be 'auto', 'fused' or 'autodiff', got ${JSON.stringify(c.trainingPath)}`);
  }
}

/** Everything needed to continue exactly where a run stopped. */
export interface TrainState {
  step: number;
  epoch: number;
  /** Position inside the epoch's permutation of the training set. */
  offset: number;
  rng: RngState;
  schedule: ScheduleState;
  adamStep: number;
  bestVal: number;
  /** Training clock spent so far, in seconds (see TrainConfig.timeLimitMinutes). */
  trainSeconds: number;
}

/**
 * A training task other than the force-centric objective (e.g. property prediction): its loss
 * replaces `batchLoss`; the rest of the loop (optimizer, schedule, checkpoints, resume) is shared.
 */
export interface TrainTask {
  /** Loss of one batch and its parts for the log; `training` is false in validation (no graph kept). */
  loss(batch: Batch, rng: NormalSource, training: boolean): { total: Tensor; parts: Record<string, number> };
  /** Extra validation metrics, logged as val_<name> and shown on the progress line. */
  metrics?(val: Conformation[]): Record<string, number>;
  /** Called after each validation round (before the checkpoint), e.g. to keep the best weights. */
  onValidation?(loss: number, isBest: boolean, step: number): void;
  /** Recorded in checkpoints in place of the objective. */
  describe(): Record<string, unknown>;
}

export interface TrainRun {
  /** The parameters trained: an energy model (`Potential`) for the objective, any ET model for a task. */
  pot: ParameterSet;
  train: Conformation[];
  val: Conformation[];
  /** The force-centric objective; required unless `task` is given. */
  objective?: ObjectiveConfig;
  task?: TrainTask;
  config: TrainConfig;
  outDir: string;
  /** Continue from outDir/checkpoint.oreo-train if it exists. */
  resume?: boolean;
  /** Stop after this many steps in this process (simulates an interruption in tests). */
  stopAfter?: number;
  quiet?: boolean;
}

export interface TrainResult {
  steps: number;
  /** Why the loop ended: the step budget, the time limit, or `stopAfter` (a simulated interruption). */
  stoppedOn: 'max-steps' | 'time-limit' | 'stop-after';
  /** Training clock at the end, in seconds, summed over resumed runs. */
  trainSeconds: number;
  bestVal: number;
  lastVal: number;
  log: string;
}

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toExponential(3) : 'n/a';
}

function duration(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 90) return `${Math.round(s)}s`;
  if (s < 5400) return `${Math.round(s / 60)}m`;
  return `${(s / 3600).toFixed(1)}h`;
}

/** The force-centric objective trains energies and forces: it needs the energy model. */
function energyModel(pot: ParameterSet): Potential {
  if (!(pot instanceof Potential)) throw new OreoError('the force-centric objective trains an energy model (a Potential); give a task for other models');
  return pot;
}

/** Validation loss (same objective, fixed noise so rounds compare) and force MAE. */
function validate(run: TrainRun, path: ObjectiveGradients | null): { loss: number; forceMAE: number | null; metrics?: Record<string, number> } {
  if (run.val.length === 0) return { loss: NaN, forceMAE: null };
  const rng = new Rng(deriveSeed(run.config.seed, 'validation-noise'));
  let total = 0;
  let n = 0;
  for (let i = 0; i < run.val.length; i += run.config.batchSize) {
    const chunk = run.val.slice(i, i + run.config.batchSize);
    const value = run.task ? run.task.loss(makeBatch(chunk), rng, false).total.data[0] : path!.loss(makeBatch(chunk), rng).value;
    total += value * chunk.length;
    n += chunk.length;
  }
  if (run.task) return { loss: total / n, forceMAE: null, metrics: run.task.metrics?.(run.val) };
  const withForces = run.val.filter((c) => c.forces && c.kind !== 'equilibrium');
  const mae = withForces.length ? evaluate(energyModel(run.pot), withForces, run.config.batchSize).forceMAE_meV_per_A : null;
  return { loss: total / n, forceMAE: mae };
}

/**
 * The lines of a training log up to `step`, for a resume. A run killed while writing leaves a
 * partial last line: it is dropped with a warning (its step is written again). A damaged line
 * before the last is an error naming the log and the line.
 */
export function logLinesUpTo(logPath: string, step: number, quiet = false): string {
  const lines = readFileSync(logPath, 'utf8').split('\n');
  while (lines.length > 0 && lines[lines.length - 1].trim() === '') lines.pop();
  const kept: string[] = [];
  lines.forEach((l, i) => {
    if (l.trim() === '') return;
    let row: { step?: unknown };
    try {
      row = JSON.parse(l) as { step?: unknown };
    } catch {
      if (i === lines.length - 1) {
        if (!quiet) process.stderr.write(`warning: ${logPath}: dropped its partial last line ${i + 1} (written when the run was stopped)\n`);
        return;
      }
      throw new InputError(logPath, `line ${i + 1} is not JSON (damaged log; remove the line to resume)`, i + 1);
    }
    if (typeof row?.step === 'number' && row.step <= step) kept.push(l);
  });
  return kept.map((l) => l + '\n').join('');
}

export function train(run: TrainRun): TrainResult {
  const { pot, config, objective } = run;
  checkTrainConfig(config, 'training config');
  if (!run.task) {
    if (!objective) throw new OreoError('training config: no objective and no task');
    checkObjective(objective, 'training config');
  }
  const extra = run.task ? { task: run.task.describe(), config } : { objective, config };
  if (objective && !run.task) {
    const keep = (set: Conformation[], what: string) => {
      const kept = set.filter((c) => objectiveApplies(c, objective));
      if (kept.length < set.length && !run.quiet) {
        process.stderr.write(`${set.length - kept.length} of ${set.length} ${what} conformations carry no term of this objective (e.g. equilibrium structures under et-ore) and are left out\n`);
      }
      return kept;
    };
    run = { ...run, train: keep(run.train, 'training'), val: keep(run.val, 'validation') };
  }
  if (run.train.length === 0) throw new OreoError('the training set is empty');
  mkdirSync(run.outDir, { recursive: true });
  const ckptPath = join(run.outDir, 'checkpoint.oreo-train');
  const logPath = join(run.outDir, 'log.jsonl');
  const params = pot.trainable();
  const path = run.task ? null : new ObjectiveGradients(energyModel(pot), objective!, config.trainingPath ?? 'auto', (m) => {
    if (!run.quiet) process.stderr.write(`${m}\n`);
  });
  const opt = new AdamW(params, { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: config.weightDecay });
  const scheduleConfig: ScheduleConfig = {
    peak: config.lr,
    start: config.lrStart,
    warmupSteps: config.warmupSteps,
    factor: config.factor,
    patience: config.patience,
    minLr: config.minLr,
    cosineSteps: config.schedule === 'cosine' ? config.maxSteps : undefined,
  };
  let state: TrainState = {
    step: 0,
    epoch: 0,
    offset: 0,
    rng: new Rng(deriveSeed(config.seed, 'noise')).getState(),
    schedule: new LrSchedule(scheduleConfig).state,
    adamStep: 0,
    bestVal: Infinity,
    trainSeconds: 0,
  };
  if (run.resume && existsSync(ckptPath)) {
    state = loadTrainingCheckpoint(ckptPath, pot, opt);
    // Drop log lines written after the checkpoint: they will be written again.
    if (existsSync(logPath)) writeFileAtomic(logPath, logLinesUpTo(logPath, state.step, run.quiet));
    if (!run.quiet) process.stderr.write(`resuming from ${ckptPath} at step ${state.step}\n`);
  } else if (existsSync(logPath)) {
    writeFileAtomic(logPath, '');
  }
  const schedule = new LrSchedule(scheduleConfig, state.schedule);
  const rng = Rng.fromState(state.rng);
  let perm = permutation(run.train.length, deriveSeed(config.seed, `epoch:${state.epoch}`));
  const t0 = Date.now();
  const step0 = state.step;
  let lastPrint = 0;
  let lastVal = NaN;
  let valMetrics = '';
  let stepsHere = 0;
  const limitSeconds = 60 * (config.timeLimitMinutes ?? 0);
  const outOfTime = () => limitSeconds > 0 && state.trainSeconds >= limitSeconds;
  let stoppedOn: TrainResult['stoppedOn'] = 'max-steps';
  let savedAt = -1;
  for (; state.step < config.maxSteps; ) {
    if (run.stopAfter !== undefined && stepsHere >= run.stopAfter) {
      stoppedOn = 'stop-after';
      break;
    }
    // A resumed run whose checkpoint already spent the budget takes no further step.
    if (outOfTime()) {
      stoppedOn = 'time-limit';
      break;
    }
    const tStep = performance.now();
    const chunk: Conformation[] = [];
    while (chunk.length < config.batchSize) {
      if (state.offset >= perm.length) {
        state.epoch++;
        state.offset = 0;
        perm = permutation(run.train.length, deriveSeed(config.seed, `epoch:${state.epoch}`));
      }
      chunk.push(run.train[perm[state.offset++]]);
      if (chunk.length >= run.train.length) break;
    }
    let loss: { parts: Record<string, number> };
    let grads: (Tensor | null)[];
    let value: number;
    if (path) {
      const r = path.step(makeBatch(chunk), rng);
      loss = r;
      grads = r.grads;
      value = r.value;
    } else {
      const for_ = params.map(([, t]) => t);
      for (const t of for_) t.requiresGrad = true;
      try {
        const l = run.task!.loss(makeBatch(chunk), rng, true);
        loss = l;
        grads = grad(l.total, for_, { allowUnused: true });
        value = l.total.data[0];
      } finally {
        for (const t of for_) t.requiresGrad = false;
      }
    }
    if (!Number.isFinite(value)) {
      // Name the checkpoint only if one was written: a first-step failure has none to point to.
      const last = existsSync(ckptPath) ? `the last checkpoint is ${ckptPath}` : 'no checkpoint was written yet';
      throw new OreoError(`loss became ${value} at step ${state.step + 1}; ${last}. Check the data's labels, lower the learning rate or enable --clip.`);
    }
    const gradNorm = clipGradients(grads, config.clip);
    const lr = schedule.lr(state.step);
    opt.update(grads, lr);
    state.step++;
    stepsHere++;
    state.adamStep = opt.step;
    state.trainSeconds += (performance.now() - tStep) / 1000;
    // The step that spends the budget is the last one: it validates and checkpoints like the
    // step at maxSteps, so a time-limited run ends with the same files as a full one.
    const lastStep = outOfTime();
    const entry: Record<string, unknown> = { step: state.step, epoch: state.epoch, lr, loss: value, ...prefix(loss.parts), gradNorm };
    const isVal = state.step % config.valEvery === 0 || state.step === config.maxSteps || lastStep;
    if (isVal) {
      const tVal = performance.now();
      const v = validate(run, path);
      // Validation is part of the training clock (it drives the schedule), as in the reference.
      state.trainSeconds += (performance.now() - tVal) / 1000;
      lastVal = v.loss;
      schedule.validation(v.loss);
      entry.val_loss = v.loss;
      if (v.forceMAE !== null) entry.val_force_mae_meV = v.forceMAE;
      for (const [k, x] of Object.entries(v.metrics ?? {})) entry[`val_${k}`] = x;
      valMetrics = v.metrics ? ` (${Object.entries(v.metrics).map(([k, x]) => `${k} ${x.toPrecision(4)}`).join(', ')})` : '';
      const isBest = v.loss < state.bestVal;
      if (isBest) state.bestVal = v.loss;
      run.task?.onValidation?.(v.loss, isBest, state.step);
      state.schedule = schedule.state;
      state.rng = rng.getState();
      saveTrainingCheckpoint(ckptPath, pot, opt, state, extra);
      savedAt = state.step;
    }
    entry.clock_s = state.trainSeconds;
    appendText(logPath, JSON.stringify(entry) + '\n');
    const now = Date.now();
    if (!run.quiet && (now - lastPrint > 1000 || isVal || state.step === config.maxSteps)) {
      lastPrint = now;
      const rate = (state.step - step0) / Math.max(1e-3, (now - t0) / 1000);
      let eta = (config.maxSteps - state.step) / rate;
      if (limitSeconds > 0) eta = Math.min(eta, Math.max(0, limitSeconds - state.trainSeconds));
      const parts = Object.entries(loss.parts)
        .filter(([, x]) => Number.isFinite(x))
        .map(([k, x]) => `${k} ${fmt(x)}`)
        .join(', ');
      const val = isVal ? ` | val ${fmt(lastVal)}${entry.val_force_mae_meV !== undefined ? ` (F MAE ${(entry.val_force_mae_meV as number).toFixed(1)} meV/Å)` : ''}${valMetrics}` : '';
      process.stderr.write(`step ${state.step}/${config.maxSteps} loss ${fmt(value)} (${parts}) lr ${fmt(lr)} ${rate.toFixed(2)} steps/s ETA ${duration(eta)}${val}\n`);
    }
    if (lastStep) {
      stoppedOn = 'time-limit';
      break;
    }
  }
  if (stepsHere > 0 && savedAt !== state.step && stoppedOn !== 'stop-after') {
    state.rng = rng.getState();
    saveTrainingCheckpoint(ckptPath, pot, opt, state, extra);
  }
  if (stoppedOn === 'time-limit' && !run.quiet) {
    process.stderr.write(
      `stopped on the time limit (${config.timeLimitMinutes} min of training clock): ${state.step} steps done (${stepsHere} in this run), clock ${state.trainSeconds.toFixed(1)} s; checkpoint ${ckptPath}\n`,
    );
  }
  return { steps: state.step, stoppedOn, trainSeconds: state.trainSeconds, bestVal: state.bestVal, lastVal, log: logPath };
}

function prefix(parts: Record<string, number>): Record<string, number> {
  const o: Record<string, number> = {};
  for (const [k, v] of Object.entries(parts)) if (Number.isFinite(v)) o[`loss_${k}`] = v;
  return o;
}
