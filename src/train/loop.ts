/**
 * The one training loop: batches from a TrainingData source → a step function (loss and
 * ∂loss/∂θ) → gradient clip → AdamW at the scheduled learning rate. Everything else — validation,
 * checkpoints, the JSONL log, progress on a terminal — is an observer attached to the loop and
 * called after each step, as ASE attaches observers to dynamics. The loop itself writes nothing.
 */
import type { Tensor } from '../engine/index.js';
import { makeBatch, type Batch } from '../data/batch.js';
import type { TrainingData } from '../data/training-data.js';
import type { Rng } from '../random.js';
import { OreoError } from '../errors.js';
import type { TrainConfig } from './config.js';
import type { NormalSource } from './objective.js';
import { type AdamW, clipGradients } from './optimizer.js';
import type { LrSchedule } from './schedule.js';
import type { TrainState } from './state.js';

/** One step's loss and gradients (in the order of the optimizer's parameters). */
export interface StepOutcome {
  value: number;
  parts: Record<string, number>;
  grads: (Tensor | null)[];
}

export type StepFunction = (batch: Batch, rng: NormalSource) => StepOutcome;

export interface ValidationReport {
  loss: number;
  forceMAE: number | null;
  metrics?: Record<string, number>;
}

/** What observers see after each step. */
export interface StepReport {
  step: number;
  epoch: number;
  lr: number;
  loss: number;
  parts: Record<string, number>;
  gradNorm: number;
  /** Validation and a checkpoint are due: every valEvery steps and at the last step. */
  due: boolean;
  /** The last step of the run (step budget or time limit reached). */
  last: boolean;
  /** Set by the validation observer on the steps it validates. */
  val?: ValidationReport;
  /** The log row of this step; observers add their fields (val_loss, clock_s, …). */
  entry: Record<string, unknown>;
}

export type StopReason = 'max-steps' | 'time-limit' | 'stop-after';

export interface LoopEnd {
  steps: number;
  /** Steps taken in this process (0 for a run resumed at its end). */
  stepsHere: number;
  stoppedOn: StopReason;
}

export interface TrainObserver {
  /** Before the first step (after a resume has restored the state). */
  start?(loop: TrainingLoop): void;
  step?(report: StepReport, loop: TrainingLoop): void;
  end?(end: LoopEnd, loop: TrainingLoop): void;
  /** Warnings and notes of the run (an observer that prints takes them). */
  notice?(message: string): void;
}

export interface LoopParts {
  config: TrainConfig;
  data: TrainingData;
  step: StepFunction;
  opt: AdamW;
  schedule: LrSchedule;
  /** The objective's noise generator (denoising); its state is checkpointed. */
  rng: Rng;
  state: TrainState;
  /** Where the run resumed from, or null for a fresh start. */
  resumedFrom: string | null;
  /** Stop after this many steps in this process (simulates an interruption in tests). */
  stopAfter?: number;
  /** For the message when the loss stops being finite: the last checkpoint, or null if none. */
  lastCheckpoint?: () => string | null;
  /** Where notices go; default: the attached observers that take them. */
  notice?: (message: string) => void;
}

export class TrainingLoop {
  readonly config: TrainConfig;
  readonly data: TrainingData;
  readonly opt: AdamW;
  readonly schedule: LrSchedule;
  readonly rng: Rng;
  /** The run's counters (step, clock, best validation loss); observers may add to the clock. */
  readonly state: TrainState;
  readonly resumedFrom: string | null;
  /** The step the loop started at in this process. */
  readonly startStep: number;
  private readonly observers: TrainObserver[] = [];

  constructor(private readonly parts: LoopParts) {
    this.config = parts.config;
    this.data = parts.data;
    this.opt = parts.opt;
    this.schedule = parts.schedule;
    this.rng = parts.rng;
    this.state = parts.state;
    this.resumedFrom = parts.resumedFrom;
    this.startStep = parts.state.step;
  }

  /** Observers are called in the order attached (validation before checkpoint before log). */
  attach(observer: TrainObserver): this {
    this.observers.push(observer);
    return this;
  }

  /** The last checkpoint written (or found at the start), or null. */
  checkpointFile(): string | null {
    return this.parts.lastCheckpoint?.() ?? null;
  }

  /** Hand a warning or note to the observers that print. */
  notice(message: string): void {
    if (this.parts.notice) this.parts.notice(message);
    else for (const o of this.observers) o.notice?.(message);
  }

  /** The training clock's budget in seconds (0: none). */
  get limitSeconds(): number {
    return 60 * (this.config.timeLimitMinutes ?? 0);
  }

  outOfTime(): boolean {
    return this.limitSeconds > 0 && this.state.trainSeconds >= this.limitSeconds;
  }

  /** A validation loss for the schedule and the best-so-far; true when it is the best. */
  recordValidation(loss: number): boolean {
    this.schedule.validation(loss);
    const best = loss < this.state.bestVal;
    if (best) this.state.bestVal = loss;
    return best;
  }

  /** The full state for a checkpoint: counters, data position, noise generator, schedule. */
  snapshot(): TrainState {
    const { epoch, offset, stream } = this.data.position();
    const s: TrainState = { ...this.state, epoch, offset, rng: this.rng.getState(), schedule: { ...this.schedule.state }, adamStep: this.opt.step };
    if (stream) s.stream = stream;
    else delete s.stream;
    return s;
  }

  run(): LoopEnd {
    const { config, state } = this;
    for (const o of this.observers) o.start?.(this);
    let stoppedOn: StopReason = 'max-steps';
    let stepsHere = 0;
    while (state.step < config.maxSteps) {
      if (this.parts.stopAfter !== undefined && stepsHere >= this.parts.stopAfter) {
        stoppedOn = 'stop-after';
        break;
      }
      // A resumed run whose checkpoint already spent the budget takes no further step.
      if (this.outOfTime()) {
        stoppedOn = 'time-limit';
        break;
      }
      const tStep = performance.now();
      const batch = makeBatch(this.data.next(config.batchSize));
      const r = this.parts.step(batch, this.rng);
      if (!Number.isFinite(r.value)) {
        // Name the checkpoint only if one was written: a first-step failure has none to point to.
        const ckpt = this.checkpointFile();
        const last = ckpt ? `the last checkpoint is ${ckpt}` : 'no checkpoint was written yet';
        throw new OreoError(`loss became ${r.value} at step ${state.step + 1}; ${last}. Check the data's labels, lower the learning rate or enable --clip.`);
      }
      const gradNorm = clipGradients(r.grads, config.clip);
      const lr = this.schedule.lr(state.step);
      this.opt.update(r.grads, lr);
      state.step++;
      stepsHere++;
      state.adamStep = this.opt.step;
      state.trainSeconds += (performance.now() - tStep) / 1000;
      // The step that spends the budget is the last one: it validates and checkpoints like the
      // step at maxSteps, so a time-limited run ends with the same files as a full one.
      const spent = this.outOfTime();
      const epoch = this.data.epoch;
      const report: StepReport = {
        step: state.step,
        epoch,
        lr,
        loss: r.value,
        parts: r.parts,
        gradNorm,
        due: state.step % config.valEvery === 0 || state.step === config.maxSteps || spent,
        last: spent || state.step === config.maxSteps,
        entry: { step: state.step, epoch, lr, loss: r.value, ...prefix(r.parts), gradNorm },
      };
      for (const o of this.observers) o.step?.(report, this);
      if (spent) {
        stoppedOn = 'time-limit';
        break;
      }
    }
    const end: LoopEnd = { steps: state.step, stepsHere, stoppedOn };
    for (const o of this.observers) o.end?.(end, this);
    return end;
  }
}

function prefix(parts: Record<string, number>): Record<string, number> {
  const o: Record<string, number> = {};
  for (const [k, v] of Object.entries(parts)) if (Number.isFinite(v)) o[`loss_${k}`] = v;
  return o;
}
