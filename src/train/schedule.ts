/**
 * Learning-rate schedule of the paper (and TorchMD-Net): linear warm-up from `start` to `peak`
 * over `warmupSteps`, then reduce-on-plateau on the validation loss (× factor after `patience`
 * validation rounds without improvement, never below minLr).
 */
export interface ScheduleConfig {
  peak: number;
  start: number;
  warmupSteps: number;
  factor: number;
  patience: number;
  minLr: number;
}

export interface ScheduleState {
  plateauLr: number;
  best: number;
  badRounds: number;
}

export class LrSchedule {
  state: ScheduleState;

  constructor(readonly config: ScheduleConfig, state?: ScheduleState) {
    this.state = state ?? { plateauLr: config.peak, best: Infinity, badRounds: 0 };
  }

  /** Learning rate for optimizer step `step` (0-based). */
  lr(step: number): number {
    const { warmupSteps, start, peak } = this.config;
    if (step < warmupSteps) {
      const ramp = start + ((peak - start) * (step + 1)) / warmupSteps;
      return Math.min(ramp, this.state.plateauLr);
    }
    return this.state.plateauLr;
  }

  /** Report a validation loss; returns true when the learning rate was reduced. */
  validation(loss: number): boolean {
    const s = this.state;
    if (loss < s.best) {
      s.best = loss;
      s.badRounds = 0;
      return false;
    }
    s.badRounds++;
    if (s.badRounds > this.config.patience) {
      const next = Math.max(this.config.minLr, s.plateauLr * this.config.factor);
      s.badRounds = 0;
      if (next < s.plateauLr) {
        s.plateauLr = next;
        return true;
      }
    }
    return false;
  }
}
