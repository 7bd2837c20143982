/**
 * Learning-rate schedule of the paper (and TorchMD-Net): linear warm-up from `start` to `peak`
 * over `warmupSteps`, then reduce-on-plateau on the validation loss (× factor after `patience`
 * validation rounds without improvement, never below minLr).
 *
 * With `cosineSteps` the plateau rule is replaced by Zaidi et al.'s QM9 fine-tuning schedule:
 * torch's CosineAnnealingLR(T_max = cosineSteps, eta_min = 0) counted from step 0, with the
 * warm-up overriding it for the first steps.
 */
export interface ScheduleConfig {
  peak: number;
  start: number;
  warmupSteps: number;
  factor: number;
  patience: number;
  minLr: number;
  /** Cosine annealing to 0 over this many steps instead of reduce-on-plateau. */
  cosineSteps?: number;
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
    const { warmupSteps, start, peak, cosineSteps } = this.config;
    if (cosineSteps) {
      const cosine = 0.5 * peak * (1 + Math.cos((Math.PI * Math.min(step, cosineSteps)) / cosineSteps));
      return step < warmupSteps ? Math.min(start + ((peak - start) * (step + 1)) / warmupSteps, cosine) : cosine;
    }
    if (step < warmupSteps) {
      const ramp = start + ((peak - start) * (step + 1)) / warmupSteps;
      return Math.min(ramp, this.state.plateauLr);
    }
    return this.state.plateauLr;
  }

  /** Report a validation loss; returns true when the learning rate was reduced. */
  validation(loss: number): boolean {
    const s = this.state;
    if (this.config.cosineSteps) {
      s.best = Math.min(s.best, loss);
      return false;
    }
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
