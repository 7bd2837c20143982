/**
 * The training progress printer the CLI attaches to the training loop: one line on stderr at
 * most every second (and on every validation and the last step) with the loss and its parts, the
 * learning rate, steps/s and the ETA; the run's notices; and why a time-limited run stopped.
 */
import type { LoopEnd, StepReport, TrainingLoop, TrainObserver } from '../train/loop.js';

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toExponential(3) : 'n/a';
}

function duration(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 90) return `${Math.round(s)}s`;
  if (s < 5400) return `${Math.round(s / 60)}m`;
  return `${(s / 3600).toFixed(1)}h`;
}

export class TrainProgressPrinter implements TrainObserver {
  private t0 = 0;
  private lastPrint = 0;

  constructor(private readonly write: (line: string) => void = (l) => process.stderr.write(l)) {}

  notice(message: string): void {
    this.write(`${message}\n`);
  }

  start(): void {
    this.t0 = Date.now();
  }

  step(r: StepReport, loop: TrainingLoop): void {
    const now = Date.now();
    if (!(now - this.lastPrint > 1000 || r.due || r.last)) return;
    this.lastPrint = now;
    const { maxSteps } = loop.config;
    const rate = (r.step - loop.startStep) / Math.max(1e-3, (now - this.t0) / 1000);
    let eta = (maxSteps - r.step) / rate;
    if (loop.limitSeconds > 0) eta = Math.min(eta, Math.max(0, loop.limitSeconds - loop.state.trainSeconds));
    const parts = Object.entries(r.parts)
      .filter(([, x]) => Number.isFinite(x))
      .map(([k, x]) => `${k} ${fmt(x)}`)
      .join(', ');
    let val = '';
    if (r.val) {
      const mae = r.val.forceMAE !== null ? ` (F MAE ${r.val.forceMAE.toFixed(1)} meV/Å)` : '';
      const metrics = r.val.metrics ? ` (${Object.entries(r.val.metrics).map(([k, x]) => `${k} ${x.toPrecision(4)}`).join(', ')})` : '';
      val = ` | val ${fmt(r.val.loss)}${mae}${metrics}`;
    }
    this.write(`step ${r.step}/${maxSteps} loss ${fmt(r.loss)} (${parts}) lr ${fmt(r.lr)} ${rate.toFixed(2)} steps/s ETA ${duration(eta)}${val}\n`);
  }

  end(e: LoopEnd, loop: TrainingLoop): void {
    if (e.stoppedOn !== 'time-limit') return;
    this.write(
      `stopped on the time limit (${loop.config.timeLimitMinutes} min of training clock): ${e.steps} steps done (${e.stepsHere} in this run), clock ${loop.state.trainSeconds.toFixed(1)} s; checkpoint ${loop.checkpointFile() ?? 'none'}\n`,
    );
  }
}
