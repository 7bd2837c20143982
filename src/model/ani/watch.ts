/**
 * The ensemble-spread watchdog of MD with an ANI model (`oreo simulate --max-force-spread X
 * --on-spread warn|stop`): after each saved frame, the largest per-atom force spread of the steps
 * since the last frame is compared with the threshold. Past it, 'warn' logs a line (the first
 * time, then at most once per 100 frames) and 'stop' ends the run with that reason, the
 * trajectory kept up to the frame. A large spread means the members disagree: the structure has
 * left what ANI was trained on, and its forces are not to be trusted.
 */
import type { Calculator } from '../../calculator.js';
import { OreoError } from '../../errors.js';
import { AniCalculator } from './ensemble.js';

export type SpreadAction = 'warn' | 'stop';

export function spreadWatch(
  calculator: Calculator,
  threshold: number | undefined,
  action: string | undefined,
  log: (line: string) => void,
): ((sim: { step: number; time: number }) => string | void) | undefined {
  if (threshold === undefined) {
    if (action !== undefined) throw new OreoError('--on-spread needs --max-force-spread');
    return undefined;
  }
  if (!(threshold > 0)) throw new OreoError(`--max-force-spread ${threshold}: expected a positive number (eV/Å)`);
  const mode = action ?? 'warn';
  if (mode !== 'warn' && mode !== 'stop') throw new OreoError(`--on-spread ${mode}: expected warn or stop`);
  if (!(calculator instanceof AniCalculator)) throw new OreoError('--max-force-spread needs an ensemble model (e.g. --model ani2x)');
  calculator.spread = true;
  let frames = 0;
  let lastWarned = -Infinity;
  return (sim) => {
    frames++;
    const peak = calculator.takePeak();
    if (!peak || peak.maxForce <= threshold) return;
    const text = `ensemble force spread ${peak.maxForce.toFixed(3)} eV/Å (mean ${peak.meanForce.toFixed(3)}, energy spread ${peak.energy.toFixed(3)} eV) passed ${threshold} eV/Å by step ${sim.step} (${(sim.time / 1000).toFixed(3)} ps)`;
    if (mode === 'stop') return text;
    if (frames - lastWarned >= 100) {
      log(`warning: ${text}`);
      lastWarned = frames;
    }
  };
}
