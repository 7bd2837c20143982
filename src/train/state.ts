/** What a training checkpoint stores besides the weights and AdamW's moments. */
import type { RngState } from '../random.js';
import type { StreamPosition } from '../data/training-data.js';
import type { ScheduleState } from './schedule.js';

/** Everything needed to continue exactly where a run stopped. */
export interface TrainState {
  step: number;
  /** Data position (src/data/training-data.ts): passes over the training data, and draws into this one. */
  epoch: number;
  offset: number;
  /** Streamed data only: where the shard stream stands (shard, row, shuffle buffer). */
  stream?: StreamPosition;
  /** The objective's noise generator (denoising). */
  rng: RngState;
  schedule: ScheduleState;
  adamStep: number;
  bestVal: number;
  /** Training clock spent so far, in seconds (see TrainConfig.timeLimitMinutes). */
  trainSeconds: number;
}
