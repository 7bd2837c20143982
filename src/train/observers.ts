/**
 * The observers every training run attaches to its loop (src/train/loop.ts), in this order:
 * validation (the loss on the validation set, which drives the plateau schedule), the checkpoint
 * (weights, AdamW, schedule, data position, noise generator: an exact resume) and the JSONL log.
 * A terminal progress printer is the CLI's (src/cli/train-progress.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { appendText, writeFileAtomic } from '../io/atomic.js';
import { makeBatch } from '../data/batch.js';
import type { Conformation } from '../data/conformation.js';
import { deriveSeed } from '../random.js';
import { Rng } from '../random.js';
import type { Potential } from '../model/potential.js';
import type { ParameterSet } from '../model/parameters.js';
import { InputError } from '../errors.js';
import { saveTrainingCheckpoint } from './checkpoint.js';
import { evaluate } from './evaluate.js';
import type { ObjectiveGradients } from './gradient-path.js';
import type { LoopEnd, StepReport, TrainingLoop, TrainObserver, ValidationReport } from './loop.js';
import type { NormalSource } from './objective.js';
import type { Batch } from '../data/batch.js';

/** How a validation batch is scored: the objective's loss, or a task's. */
export interface Validator {
  loss(batch: Batch, rng: NormalSource): number;
  /** Extra metrics over the whole validation set (e.g. a property's MAE). */
  metrics?(val: Conformation[]): Record<string, number>;
  /** Force MAE (meV/Å) of this model on the set, or null where it does not apply. */
  forceMAE?(val: Conformation[]): number | null;
  /** Called after each round with the loss and whether it is the best so far. */
  after?(loss: number, best: boolean, step: number): void;
}

/** The objective's validator: same loss as training (fixed noise) plus the force MAE. */
export function objectiveValidator(path: ObjectiveGradients, pot: Potential, batchSize: number): Validator {
  return {
    loss: (b, rng) => path.loss(b, rng).value,
    forceMAE: (val) => {
      const withForces = val.filter((c) => c.forces && c.kind !== 'equilibrium');
      return withForces.length ? evaluate(pot, withForces, batchSize).forceMAE_meV_per_A : null;
    },
  };
}

/**
 * Validation on the steps the loop marks due. Its time counts on the training clock (it drives
 * the schedule, as in the reference); the same noise every round, so rounds compare.
 */
export class ValidationObserver implements TrainObserver {
  constructor(
    private readonly val: Conformation[],
    private readonly validator: Validator,
  ) {}

  private round(loop: TrainingLoop): ValidationReport {
    const { batchSize, seed } = loop.config;
    if (this.val.length === 0) return { loss: NaN, forceMAE: null };
    const rng = new Rng(deriveSeed(seed, 'validation-noise'));
    let total = 0;
    for (let i = 0; i < this.val.length; i += batchSize) {
      const chunk = this.val.slice(i, i + batchSize);
      total += this.validator.loss(makeBatch(chunk), rng) * chunk.length;
    }
    return { loss: total / this.val.length, forceMAE: this.validator.forceMAE?.(this.val) ?? null, metrics: this.validator.metrics?.(this.val) };
  }

  step(r: StepReport, loop: TrainingLoop): void {
    if (!r.due) return;
    const t = performance.now();
    const v = this.round(loop);
    loop.state.trainSeconds += (performance.now() - t) / 1000;
    r.val = v;
    r.entry.val_loss = v.loss;
    if (v.forceMAE !== null) r.entry.val_force_mae_meV = v.forceMAE;
    for (const [k, x] of Object.entries(v.metrics ?? {})) r.entry[`val_${k}`] = x;
    const best = loop.recordValidation(v.loss);
    this.validator.after?.(v.loss, best, r.step);
  }
}

/** A checkpoint on every validation step and at the end of a run that did not simply get interrupted. */
export class CheckpointObserver implements TrainObserver {
  private savedAt = -1;
  private written = false;

  constructor(
    readonly path: string,
    private readonly pot: ParameterSet,
    /** Recorded in the header beside the state (objective or task, and the config). */
    private readonly extra: Record<string, unknown>,
  ) {
    this.written = existsSync(path);
  }

  /** The checkpoint file, or null while none exists (for error messages). */
  last(): string | null {
    return this.written ? this.path : null;
  }

  private save(loop: TrainingLoop): void {
    saveTrainingCheckpoint(this.path, this.pot, loop.opt, loop.snapshot(), this.extra);
    this.savedAt = loop.state.step;
    this.written = true;
  }

  step(r: StepReport, loop: TrainingLoop): void {
    if (r.due) this.save(loop);
  }

  end(e: LoopEnd, loop: TrainingLoop): void {
    if (e.stepsHere > 0 && this.savedAt !== e.steps && e.stoppedOn !== 'stop-after') this.save(loop);
  }
}

/** One JSON line per step (with the training clock); on resume, lines after the checkpoint are dropped. */
export class LogObserver implements TrainObserver {
  constructor(readonly path: string) {}

  start(loop: TrainingLoop): void {
    if (!existsSync(this.path)) return;
    if (loop.resumedFrom) writeFileAtomic(this.path, logLinesUpTo(this.path, loop.state.step, (m) => loop.notice(m)));
    else writeFileAtomic(this.path, '');
  }

  step(r: StepReport, loop: TrainingLoop): void {
    r.entry.clock_s = loop.state.trainSeconds;
    appendText(this.path, JSON.stringify(r.entry) + '\n');
  }
}

/**
 * The lines of a training log up to `step`, for a resume. A run killed while writing leaves a
 * partial last line: it is dropped with a warning (its step is written again). A damaged line
 * before the last is an error naming the log and the line.
 */
export function logLinesUpTo(logPath: string, step: number, warn: (message: string) => void = () => {}): string {
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
        warn(`warning: ${logPath}: dropped its partial last line ${i + 1} (written when the run was stopped)`);
        return;
      }
      throw new InputError(logPath, `line ${i + 1} is not JSON (damaged log; remove the line to resume)`, i + 1);
    }
    if (typeof row?.step === 'number' && row.step <= step) kept.push(l);
  });
  return kept.map((l) => l + '\n').join('');
}
