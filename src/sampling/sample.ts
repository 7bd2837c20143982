/**
 * Off-equilibrium samples of one molecule, however it is sampled: the one module that
 * `oreo sample`, the corpus pipeline and the polymer dataset share.
 *
 * Samplers (each seeded, each sample recording sampler, temperature and seed):
 *  - normal-modes: ANI-1-style normal-mode sampling at several temperatures from the reference
 *    calculator's Hessian at the relaxed structure (normal-modes.ts);
 *  - md: short Langevin MD driven by the reference calculator itself (xtb) at 300–1000 K; the
 *    frames carry the energies and forces the MD computed, so they cost nothing extra to label;
 *  - rattle: Gaussian displacement of every coordinate;
 *  - model-md: the same MD driven by an oreo model (active-learning rounds); frames are labelled
 *    afterwards by the reference calculators.
 *
 * A sample whose bonding changed (bonds.ts) is left out and counted; an MD trajectory stops at
 * the first such frame, since what follows belongs to another molecule. A failed calculation
 * (SCF not converged) is counted by its reason and left out, never kept silently.
 */
import { OreoError } from '../errors.js';
import type { Calculator, EnergyForces } from '../calculator.js';
import { Rng } from '../random.js';
import { createSimulation } from '../md/setup.js';
import { deriveSeed } from '../random.js';
import type { ConformationKind } from '../data/conformation.js';
import { bondingChange, type BondGraph } from './bonds.js';
import { normalModes, sampleNormalModes, type NormalModes } from './normal-modes.js';

export type SamplerName = 'relaxed' | 'normal-modes' | 'md' | 'rattle' | 'model-md';
export const SAMPLER_NAMES: readonly SamplerName[] = ['relaxed', 'normal-modes', 'md', 'rattle', 'model-md'];

/** Energy and forces of one level of theory (key from levelKey), eV and eV/Å. */
export interface Label extends EnergyForces {
  level: string;
}

export interface Sample {
  /** Flat positions, Å. */
  positions: Float64Array;
  kind: ConformationKind;
  sampler: SamplerName;
  /** Sampling temperature, K (0 where the sampler has none: relaxed, rattle). */
  temperature: number;
  /** Seed of the random stream that made this sample. */
  seed: number;
  /** Labels computed while sampling (MD driven by a reference calculator). */
  labels: Label[];
}

export interface NormalModePlan {
  temperatures: number[];
  /** Samples per temperature. */
  perTemperature: number;
  minWavenumber?: number;
}

export interface MdPlan {
  temperatures: number[];
  /** Frames kept per temperature. */
  framesPerTemperature: number;
  /** MD steps between kept frames (the first kept frame is after this many steps too). */
  every: number;
  /** Time step, fs (default 0.5). */
  dt?: number;
  /** Langevin friction, 1/fs (default 0.02). */
  friction?: number;
}

export interface RattlePlan {
  count: number;
  /** Standard deviation of each coordinate's displacement, Å. */
  sigma: number;
}

/** How many samples of which kind: any subset of the samplers. */
export interface SamplingPlan {
  normalModes?: NormalModePlan;
  md?: MdPlan;
  rattle?: RattlePlan;
  /** MD driven by an oreo model (the `model` calculator given to sampleMolecule). */
  modelMd?: MdPlan;
}

export interface SamplingContext {
  z: Int32Array;
  /** The relaxed (equilibrium) structure, Å. */
  positions: Float64Array;
  /** The molecule's bonds, for the bonding check. */
  bonds: BondGraph;
  /** Base seed; each sampler and temperature derives its own from it. */
  seed: number;
  /** The reference calculator: Hessian for normal modes, forces for xtb MD. */
  reference?: Calculator & { hessian?(z: Int32Array, positions: Float64Array): Float64Array };
  /** Level key of the reference calculator's labels (MD frames carry them). */
  referenceLevel?: string;
  /** An oreo model for model-md. */
  model?: Calculator;
  /** Told as MD frames are kept (1) or given up (the rest of a broken trajectory), for progress. */
  onMdFrames?(n: number): void;
}

export interface SamplingResult {
  samples: Sample[];
  /** Left-out samples by reason ("md: bonding changed", "normal-modes: SCF failed", …). */
  rejected: Record<string, number>;
  /** Reference calculations made while sampling (Hessians count as one each). */
  calculations: number;
  /** Harmonic wavenumbers, cm⁻¹, when normal modes were computed. */
  wavenumbers?: Float64Array;
}

/** Seed of one sampler at one temperature, independent of which other samplers run. */
export function samplerSeed(seed: number, sampler: SamplerName, temperature: number): number {
  return deriveSeed(seed, `${sampler}:${temperature}`);
}

/** The reason a calculation failed, for the failure counts: "SCF failed" or the program's message head. */
export function failureReason(err: unknown): string {
  const m = (err as Error)?.message ?? String(err);
  if (/SCF did not converge|did not converge|not converge/i.test(m)) return 'SCF failed';
  if (/did not finish within/i.test(m)) return 'time limit';
  if (/very close|very\* short distance|short distance/i.test(m)) return 'overlapping atoms in the start geometry';
  if (/killed by/i.test(m)) return 'program killed';
  return 'calculation failed';
}

function count(r: Record<string, number>, key: string, n = 1): void {
  r[key] = (r[key] ?? 0) + n;
}

/** Normal-mode samples at each temperature. */
function runNormalModes(ctx: SamplingContext, plan: NormalModePlan, out: SamplingResult): void {
  if (!ctx.reference?.hessian) throw new OreoError(`normal-mode sampling needs a reference calculator with a Hessian (xtb); ${ctx.reference?.name ?? 'none'} has none`);
  let nm: NormalModes;
  try {
    out.calculations++;
    nm = normalModes(ctx.z, ctx.positions, ctx.reference.hessian(ctx.z, ctx.positions));
  } catch (err) {
    if (!(err instanceof OreoError) || /normal modes:/.test(err.message)) throw err;
    count(out.rejected, `normal-modes: Hessian ${failureReason(err)}`, plan.temperatures.length * plan.perTemperature);
    return;
  }
  out.wavenumbers = nm.wavenumbers;
  for (const t of plan.temperatures) {
    const seed = samplerSeed(ctx.seed, 'normal-modes', t);
    const rng = new Rng(seed);
    for (let i = 0; i < plan.perTemperature; i++) {
      const { positions } = sampleNormalModes(ctx.positions, nm, rng, { temperature: t, minWavenumber: plan.minWavenumber });
      if (bondingChange(ctx.z, positions, ctx.bonds)) {
        count(out.rejected, 'normal-modes: bonding changed');
        continue;
      }
      out.samples.push({ positions, kind: 'off-equilibrium', sampler: 'normal-modes', temperature: t, seed, labels: [] });
    }
  }
}

/** Langevin MD at each temperature with `calc`; frames every `plan.every` steps. */
function runMd(ctx: SamplingContext, plan: MdPlan, calc: Calculator, sampler: 'md' | 'model-md', level: string | undefined, out: SamplingResult): void {
  if (!Number.isInteger(plan.every) || plan.every < 1) throw new OreoError(`${sampler}: steps between frames must be an integer ≥ 1, got ${plan.every}`);
  for (const t of plan.temperatures) {
    const seed = samplerSeed(ctx.seed, sampler, t);
    let sim;
    try {
      if (level) out.calculations++;
      sim = createSimulation({ z: ctx.z, positions: ctx.positions }, calc, {
        thermostat: 'langevin',
        dt: plan.dt ?? 0.5,
        temperature: t,
        ttime: 20,
        friction: plan.friction ?? 0.02,
        chainLength: 3,
        seed,
        initTemperature: t,
        zeroMomentum: true,
        zeroAngularMomentum: true,
      });
    } catch (err) {
      if (!(err instanceof OreoError)) throw err;
      count(out.rejected, `${sampler}: ${failureReason(err)}`, plan.framesPerTemperature);
      ctx.onMdFrames?.(plan.framesPerTemperature);
      continue;
    }
    let kept = 0;
    while (kept < plan.framesPerTemperature) {
      try {
        for (let s = 0; s < plan.every; s++) {
          sim.advance();
          if (level) out.calculations++;
        }
      } catch (err) {
        if (!(err instanceof OreoError)) throw err;
        count(out.rejected, `${sampler}: ${failureReason(err)}`, plan.framesPerTemperature - kept);
        ctx.onMdFrames?.(plan.framesPerTemperature - kept);
        break;
      }
      const positions = Float64Array.from(sim.atoms.positions);
      const problem = sim.problem({ minTemperature: 0, maxTemperature: 1e5 });
      if (problem || bondingChange(ctx.z, positions, ctx.bonds)) {
        // Everything after this frame descends from another molecule: end the trajectory here.
        count(out.rejected, `${sampler}: ${problem ? 'unstable dynamics' : 'bonding changed'}`, plan.framesPerTemperature - kept);
        ctx.onMdFrames?.(plan.framesPerTemperature - kept);
        break;
      }
      const labels: Label[] = level ? [{ level, energy: sim.energy, forces: Float64Array.from(sim.forces) }] : [];
      out.samples.push({ positions, kind: 'off-equilibrium', sampler, temperature: t, seed, labels });
      kept++;
      ctx.onMdFrames?.(1);
    }
  }
}

function runRattle(ctx: SamplingContext, plan: RattlePlan, out: SamplingResult): void {
  if (!(plan.sigma > 0)) throw new OreoError(`rattle: sigma must be > 0 Å, got ${plan.sigma}`);
  const seed = samplerSeed(ctx.seed, 'rattle', 0);
  const rng = new Rng(seed);
  for (let i = 0; i < plan.count; i++) {
    const positions = Float64Array.from(ctx.positions, (x) => x + plan.sigma * rng.normal());
    if (bondingChange(ctx.z, positions, ctx.bonds)) {
      count(out.rejected, 'rattle: bonding changed');
      continue;
    }
    out.samples.push({ positions, kind: 'off-equilibrium', sampler: 'rattle', temperature: 0, seed, labels: [] });
  }
}

/** Frames `plan` asks for from one structure (before any is left out). */
export function plannedFrames(plan: SamplingPlan): number {
  const md = (m?: MdPlan) => (m ? m.temperatures.length * m.framesPerTemperature : 0);
  return (plan.normalModes ? plan.normalModes.temperatures.length * plan.normalModes.perTemperature : 0) + md(plan.md) + (plan.rattle?.count ?? 0) + md(plan.modelMd);
}

/**
 * Samples of the relaxed structure in `ctx` by `plan`, in a fixed order (normal modes, md,
 * rattle, model-md; temperatures as listed), so the same inputs give the same samples.
 */
export function sampleMolecule(ctx: SamplingContext, plan: SamplingPlan): SamplingResult {
  const out: SamplingResult = { samples: [], rejected: {}, calculations: 0 };
  if (plan.normalModes) runNormalModes(ctx, plan.normalModes, out);
  if (plan.md) {
    if (!ctx.reference) throw new OreoError('md sampling needs a reference calculator (xtb)');
    runMd(ctx, plan.md, ctx.reference, 'md', ctx.referenceLevel, out);
  }
  if (plan.rattle) runRattle(ctx, plan.rattle, out);
  if (plan.modelMd) {
    if (!ctx.model) throw new OreoError('model-md sampling needs an oreo model (--model)');
    runMd(ctx, plan.modelMd, ctx.model, 'model-md', undefined, out);
  }
  return out;
}
