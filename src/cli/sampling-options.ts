/**
 * The sampling mix as command-line flags, shared by `oreo sample` and `oreo corpus build`; the
 * default mix they fall back to is src/sampling/plan.ts's.
 */
import { num, str, type OptionSpec, type Parsed } from './args.js';
import { OreoError } from '../errors.js';
import { DEFAULT_PLAN } from '../sampling/plan.js';
import type { SamplingPlan } from '../sampling/sample.js';

export const planOptionSpec: Record<string, OptionSpec> = {
  'nm-temperatures': { type: 'string', help: `normal-mode sampling temperatures, K (default ${DEFAULT_PLAN.nmTemperatures.join(',')})` },
  'nm-samples': { type: 'string', help: `normal-mode samples per temperature (default ${DEFAULT_PLAN.nmPerTemperature}; 0: none)` },
  'nm-min-wavenumber': { type: 'string', help: `floor on mode force constants, as a wavenumber, cm⁻¹ (default ${DEFAULT_PLAN.minWavenumber})` },
  'md-temperatures': { type: 'string', help: `xtb Langevin MD temperatures, K (default ${DEFAULT_PLAN.mdTemperatures.join(',')})` },
  'md-frames': { type: 'string', help: `MD frames kept per temperature (default ${DEFAULT_PLAN.mdFrames}; 0: no MD)` },
  'md-every': { type: 'string', help: `MD steps between kept frames (default ${DEFAULT_PLAN.mdEvery})` },
  'md-dt': { type: 'string', help: `MD time step, fs (default ${DEFAULT_PLAN.mdDt})` },
  'md-friction': { type: 'string', help: `Langevin friction, 1/fs (default ${DEFAULT_PLAN.mdFriction})` },
  rattle: { type: 'string', help: `rattled samples (Gaussian displacement) per conformer (default ${DEFAULT_PLAN.rattle}; 0: none)` },
  'rattle-sigma': { type: 'string', help: `rattle standard deviation per coordinate, Å (default ${DEFAULT_PLAN.rattleSigma})` },
  'model-md-frames': { type: 'string', help: 'with --model: frames per temperature of MD driven by that oreo model (active learning; default 0)' },
};

export function temperatureList(command: string, raw: string | undefined, fallback: readonly number[], flagName: string): number[] {
  if (raw === undefined) return [...fallback];
  const out = raw.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (!out.length || out.some((t) => !(t > 0) || !Number.isFinite(t))) throw new OreoError(`oreo ${command}: --${flagName} ${raw}: expected temperatures in K > 0, comma-separated`);
  return out;
}

/** The plan from flags, with the default mix where a flag is absent. */
export function planFrom(command: string, p: Parsed, hasModel: boolean): SamplingPlan {
  const plan: SamplingPlan = {};
  const nm = num(command, p, 'nm-samples', DEFAULT_PLAN.nmPerTemperature, { integer: true, min: 0 });
  if (nm > 0) {
    plan.normalModes = {
      temperatures: temperatureList(command, str(p, 'nm-temperatures'), DEFAULT_PLAN.nmTemperatures, 'nm-temperatures'),
      perTemperature: nm,
      minWavenumber: num(command, p, 'nm-min-wavenumber', DEFAULT_PLAN.minWavenumber, { min: 0, exclusiveMin: true }),
    };
  }
  const mdTemps = temperatureList(command, str(p, 'md-temperatures'), DEFAULT_PLAN.mdTemperatures, 'md-temperatures');
  const md = {
    temperatures: mdTemps,
    framesPerTemperature: num(command, p, 'md-frames', DEFAULT_PLAN.mdFrames, { integer: true, min: 0 }),
    every: num(command, p, 'md-every', DEFAULT_PLAN.mdEvery, { integer: true, min: 1 }),
    dt: num(command, p, 'md-dt', DEFAULT_PLAN.mdDt, { min: 0, exclusiveMin: true }),
    friction: num(command, p, 'md-friction', DEFAULT_PLAN.mdFriction, { min: 0, exclusiveMin: true }),
  };
  if (md.framesPerTemperature > 0) plan.md = md;
  const rattle = num(command, p, 'rattle', DEFAULT_PLAN.rattle, { integer: true, min: 0 });
  if (rattle > 0) plan.rattle = { count: rattle, sigma: num(command, p, 'rattle-sigma', DEFAULT_PLAN.rattleSigma, { min: 0, exclusiveMin: true }) };
  const modelFrames = num(command, p, 'model-md-frames', 0, { integer: true, min: 0 });
  if (modelFrames > 0) {
    if (!hasModel) throw new OreoError(`oreo ${command}: --model-md-frames needs --model FILE (the oreo model that drives the MD)`);
    plan.modelMd = { ...md, framesPerTemperature: modelFrames };
  }
  return plan;
}
