/**
 * The training settings shared by pre-training, fine-tuning and property fine-tuning, their
 * paper defaults and their checks (a bad value fails naming the key before any step).
 */
import { InputError } from '../errors.js';
import type { TrainingPathChoice } from './gradient-path.js';

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
