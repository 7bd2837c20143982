/**
 * How a simulation was made, read from its state.json, for analysis reports: a metric means little
 * without the model, thermostat, temperature and time step it was measured under.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface RunInfo {
  model: string | null;
  thermostat: string;
  temperatureK: number;
  dtFs: number;
  steps: number;
  seed: number;
  init: string | null;
  status: string;
  stopReason: string | null;
}

/** The settings of the run in `dir`, or null when it has no readable state.json (e.g. a trajectory from elsewhere). */
export function runSettingsOf(dir: string): RunInfo | null {
  const file = join(dir, 'state.json');
  if (!existsSync(file)) return null;
  try {
    const c = JSON.parse(readFileSync(file, 'utf8')) as { step?: number; status?: string; stopReason?: string; settings?: Record<string, unknown> };
    const s = c.settings ?? {};
    return {
      model: typeof s.model === 'string' ? s.model : null,
      thermostat: String(s.thermostat ?? '?'),
      temperatureK: Number(s.thermostat === 'nve' ? s.initTemperature : s.temperature),
      dtFs: Number(s.dt),
      steps: Number(c.step ?? NaN),
      seed: Number(s.seed),
      init: typeof s.init === 'string' ? s.init : null,
      status: String(c.status ?? '?'),
      stopReason: typeof c.stopReason === 'string' ? c.stopReason : null,
    };
  } catch {
    return null;
  }
}

export function describeRun(r: RunInfo): string {
  const temp = r.thermostat === 'nve' ? `NVE from ${r.temperatureK} K` : `${r.thermostat} at ${r.temperatureK} K`;
  const end = r.status === 'stopped' && r.stopReason ? `stopped: ${r.stopReason}` : r.status;
  return `model ${r.model ?? '?'}, ${temp}, dt ${r.dtFs} fs, ${r.steps} steps, seed ${r.seed}${r.init ? `, start ${r.init}` : ''} (${end})`;
}
