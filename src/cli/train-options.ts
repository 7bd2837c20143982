/**
 * Command-line overrides of the training schedule, shared by `pretrain` and `finetune`.
 */
import { OptionSpec, Parsed, num, str } from './args.js';
import { OreoError } from '../errors.js';
import { TrainConfig } from '../train/trainer.js';
import { setTrainingThreads } from '../train/parallel-gradients.js';

export const trainOptionSpec: Record<string, OptionSpec> = {
  lr: { type: 'string', help: 'peak learning rate (paper 1e-4)' },
  'lr-start': { type: 'string', help: 'learning rate at the start of warm-up (1e-7)' },
  warmup: { type: 'string', help: 'warm-up steps (10000)' },
  steps: { type: 'string', help: 'total optimizer steps' },
  batch: { type: 'string', help: 'molecules per batch (32)' },
  'val-every': { type: 'string', help: 'validate and checkpoint every N steps (500)' },
  patience: { type: 'string', help: 'plateau patience in validation rounds (30)' },
  factor: { type: 'string', help: 'plateau factor (0.8)' },
  clip: { type: 'string', help: 'gradient-norm clip, 0 = off' },
  seed: { type: 'string', help: 'random seed' },
  'training-path': { type: 'string', help: "parameter gradient: auto (fused where the model allows, default) | fused | autodiff (the create-graph reference)" },
  schedule: { type: 'string', help: 'after warm-up: plateau (reduce-on-plateau, default) | cosine (to 0 at --steps)' },
  threads: { type: 'string', help: "compute threads: 1 (default) or 2 (a helper thread takes half of each batch's molecules; same loss, gradients equal to float rounding)" },
  'time-limit': { type: 'string', help: 'stop after MINUTES of training clock (steps + validation; kept across --resume), 0 = none' },
};

export function applyTrainOptions(cmd: string, p: Parsed, base: TrainConfig): TrainConfig {
  return {
    ...base,
    lr: num(cmd, p, 'lr', base.lr, { min: 0, exclusiveMin: true }),
    lrStart: num(cmd, p, 'lr-start', base.lrStart, { min: 0, exclusiveMin: true }),
    warmupSteps: num(cmd, p, 'warmup', base.warmupSteps, { min: 0, integer: true }),
    maxSteps: num(cmd, p, 'steps', base.maxSteps, { min: 1, integer: true }),
    batchSize: num(cmd, p, 'batch', base.batchSize, { min: 1, integer: true }),
    valEvery: num(cmd, p, 'val-every', base.valEvery, { min: 1, integer: true }),
    patience: num(cmd, p, 'patience', base.patience, { min: 0, integer: true }),
    factor: num(cmd, p, 'factor', base.factor, { min: 0, exclusiveMin: true, max: 0.999999 }),
    clip: num(cmd, p, 'clip', base.clip, { min: 0 }),
    seed: num(cmd, p, 'seed', base.seed, { min: 0, integer: true }),
    trainingPath: trainingPath(cmd, p, base.trainingPath),
    schedule: schedule(cmd, p, base.schedule),
    timeLimitMinutes: num(cmd, p, 'time-limit', base.timeLimitMinutes ?? 0, { min: 0 }),
  };
}

function trainingPath(cmd: string, p: Parsed, fallback: TrainConfig['trainingPath']): TrainConfig['trainingPath'] {
  const v = str(p, 'training-path');
  if (v === undefined) return fallback;
  if (v !== 'auto' && v !== 'fused' && v !== 'autodiff') throw new OreoError(`${cmd}: --training-path ${v}: expected auto, fused or autodiff`);
  return v;
}

function schedule(cmd: string, p: Parsed, fallback: TrainConfig['schedule']): TrainConfig['schedule'] {
  const v = str(p, 'schedule');
  if (v === undefined) return fallback;
  if (v !== 'plateau' && v !== 'cosine') throw new OreoError(`${cmd}: --schedule ${v}: expected plateau or cosine`);
  return v;
}

/**
 * Ask for the helper thread when --threads 2 says so: the fused training step then splits each
 * batch's molecules between two threads (src/train/parallel-gradients.ts). Not part of
 * TrainConfig: the thread count changes speed, and the gradients only by float rounding, so a
 * run may resume with another count.
 */
export function startTrainingThreads(cmd: string, p: Parsed): number {
  const wanted = num(cmd, p, 'threads', 1, { min: 1, integer: true });
  if (wanted > 2) throw new OreoError(`${cmd}: --threads ${wanted}: at most 2 compute threads are implemented`);
  setTrainingThreads(wanted);
  return wanted;
}
