/**
 * Training, assembled: the model's step function (the force-centric objective's fused or autodiff
 * gradient, or a task's loss on the tape), a data source (in memory or streamed shards), AdamW
 * with warm-up + reduce-on-plateau, and the loop (src/train/loop.ts) with its observers:
 * validation every K steps, checkpoints that make an interrupted run resume to the same weights
 * as an uninterrupted one, and a JSONL log. Progress on a terminal is an observer the caller
 * attaches (the CLI's src/cli/train-progress.ts).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Potential } from '../model/potential.js';
import type { ParameterSet } from '../model/parameters.js';
import type { Conformation } from '../data/conformation.js';
import type { Batch } from '../data/batch.js';
import { InMemoryData, type TrainingData } from '../data/training-data.js';
import { deriveSeed, Rng } from '../random.js';
import type { Tensor } from '../engine/index.js';
import { ObjectiveConfig, checkObjective, NormalSource, objectiveApplies } from './objective.js';
import { AdamW } from './optimizer.js';
import { ObjectiveGradients, autodiffStep } from './gradient-path.js';
import { MultiHeadGradients } from './multi-head.js';
import { LrSchedule, ScheduleConfig } from './schedule.js';
import { loadTrainingCheckpoint } from './checkpoint.js';
import { OreoError } from '../errors.js';
import { type TrainConfig, checkTrainConfig } from './config.js';
import type { TrainState } from './state.js';
import { TrainingLoop, type StepFunction, type StopReason, type TrainObserver } from './loop.js';
import { CheckpointObserver, LogObserver, ValidationObserver, objectiveValidator, type Validator } from './observers.js';

export { type TrainConfig, paperDefaults, TRAIN_LIMITS, checkTrainConfig } from './config.js';
export type { TrainState } from './state.js';
export { logLinesUpTo } from './observers.js';

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

/** The force-centric objective trains energies and forces: it needs the energy model. */
function energyModel(pot: ParameterSet): Potential {
  if (!(pot instanceof Potential)) throw new OreoError('the force-centric objective trains an energy model (a Potential); give a task for other models');
  return pot;
}

export interface TrainRun {
  /** The parameters trained: an energy model (`Potential`) for the objective, any ET model for a task. */
  pot: ParameterSet;
  /** The training set in memory, or `data`: a source such as a shard stream. */
  train?: Conformation[];
  data?: TrainingData;
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
  /** Observers attached after validation, checkpoint and log (e.g. the CLI's progress printer). */
  observers?: TrainObserver[];
  /** Without an observer that takes notices, warnings go to stderr unless this is set. */
  quiet?: boolean;
}

export interface TrainResult {
  steps: number;
  /** Why the loop ended: the step budget, the time limit, or `stopAfter` (a simulated interruption). */
  stoppedOn: StopReason;
  /** Training clock at the end, in seconds, summed over resumed runs. */
  trainSeconds: number;
  bestVal: number;
  lastVal: number;
  log: string;
}

/** Warnings of a run go to the observers that take notices, else to stderr (unless quiet). */
function noticeOf(run: TrainRun): (message: string) => void {
  const takers = (run.observers ?? []).filter((o) => o.notice);
  if (takers.length) return (m) => takers.forEach((o) => o.notice!(m));
  return (m) => {
    if (!run.quiet) process.stderr.write(`${m}\n`);
  };
}

export function train(run: TrainRun): TrainResult {
  const { pot, config, objective } = run;
  checkTrainConfig(config, 'training config');
  if (!run.task) {
    if (!objective) throw new OreoError('training config: no objective and no task');
    checkObjective(objective, 'training config');
  }
  if ((run.train === undefined) === (run.data === undefined)) throw new OreoError('training: give the training set (train) or a data source (data), not both');
  const notice = noticeOf(run);
  const extra = run.task ? { task: run.task.describe(), config } : { objective, config };
  let trainSet = run.train;
  let valSet = run.val;
  if (objective && !run.task) {
    // A stream filters as it reads (the caller gives it objectiveApplies); a set in memory here.
    const keep = (set: Conformation[], what: string) => {
      const kept = set.filter((c) => objectiveApplies(c, objective));
      if (kept.length < set.length) {
        notice(`${set.length - kept.length} of ${set.length} ${what} conformations carry no term of this objective (e.g. equilibrium structures under et-ore) and are left out`);
      }
      return kept;
    };
    if (trainSet) trainSet = keep(trainSet, 'training');
    valSet = keep(valSet, 'validation');
  }
  const data = run.data ?? new InMemoryData(trainSet!, config.seed);
  mkdirSync(run.outDir, { recursive: true });
  const ckptPath = join(run.outDir, 'checkpoint.oreo-train');
  const params = pot.trainable();
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
  let resumedFrom: string | null = null;
  if (run.resume && existsSync(ckptPath)) {
    state = loadTrainingCheckpoint(ckptPath, pot, opt);
    data.restore({ epoch: state.epoch, offset: state.offset, stream: state.stream });
    resumedFrom = ckptPath;
    notice(`resuming from ${ckptPath} at step ${state.step}`);
  }
  let step: StepFunction;
  let validator: Validator;
  if (run.task) {
    const task = run.task;
    step = (batch, rng) => autodiffStep(params, () => task.loss(batch, rng, true));
    validator = {
      loss: (b, rng) => task.loss(b, rng, false).total.data[0],
      metrics: task.metrics ? (val) => task.metrics!(val) : undefined,
      after: task.onValidation ? (loss, best, s) => task.onValidation!(loss, best, s) : undefined,
    };
  } else {
    const energy = energyModel(pot);
    if (energy.isMultiHead()) {
      // Each row through the head of its level of theory (src/train/multi-head.ts).
      const heads = new MultiHeadGradients(energy, objective!, config.trainingPath ?? 'auto', notice);
      step = heads.step.bind(heads);
      validator = heads.validator(config.batchSize);
    } else {
      const path = new ObjectiveGradients(energy, objective!, config.trainingPath ?? 'auto', notice);
      step = path.step.bind(path);
      validator = objectiveValidator(path, energy, config.batchSize);
    }
  }
  const checkpoint = new CheckpointObserver(ckptPath, pot, extra);
  const loop = new TrainingLoop({
    config,
    data,
    step,
    opt,
    schedule: new LrSchedule(scheduleConfig, state.schedule),
    rng: Rng.fromState(state.rng),
    state,
    resumedFrom,
    stopAfter: run.stopAfter,
    lastCheckpoint: () => checkpoint.last(),
    notice,
  });
  loop.attach(new ValidationObserver(valSet, validator)).attach(checkpoint);
  const log = new LogObserver(join(run.outDir, 'log.jsonl'));
  loop.attach(log);
  for (const o of run.observers ?? []) loop.attach(o);
  let lastVal = NaN;
  loop.attach({ step: (r) => void (r.val && (lastVal = r.val.loss)) });
  const end = loop.run();
  return { steps: end.steps, stoppedOn: end.stoppedOn, trainSeconds: loop.state.trainSeconds, bestVal: loop.state.bestVal, lastVal, log: log.path };
}
