/**
 * The corpus's unit of work: one molecule. A job is pure: its result depends only on its inputs
 * (SMILES or starting structure, charge and spin) and the settings, and its key is a hash of
 * exactly those, so a job can run anywhere, any number of times, and give the same conformations
 * (given a deterministic calculator: see docs/corpus.md on xtb's reproducibility). Where a job
 * ran, when, and how long it took are recorded beside the result, never in it.
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { conformersFromSmiles, parseSmiles, type MoleculeIdentity } from '../chem/smiles.js';
import { OreoError } from '../errors.js';
import type { Calculator } from '../calculator.js';
import type { LevelOfTheory } from '../qm/level.js';
import type { ReferenceOptions } from '../qm/registry.js';
import { graphFromPairs } from '../sampling/bonds.js';
import { labelStructures, type RelaxSettings, type StartStructure } from '../sampling/pipeline.js';
import type { SamplerName, SamplingPlan } from '../sampling/sample.js';
import { deriveSeed } from '../random.js';

/** Bumped when a change in the code changes what a job produces, so old results are not reused. */
export const JOB_FORMAT_VERSION = 1;

export interface JobSettings {
  calculators: string[];
  calculatorOptions: ReferenceOptions;
  /** Conformers per flexible molecule at most (1 + rotatable bonds, capped by this). */
  maxConformers: number;
  relax: RelaxSettings;
  plan: SamplingPlan;
  seed: number;
  /** oreo model file for model-md rounds (the same path on every worker). */
  model?: string;
  /** sha256 of that file: a retrained model at the same path makes new jobs, not stale reuse. */
  modelSha256?: string;
}

export interface MoleculeJob {
  key: string;
  smiles?: string;
  identity: MoleculeIdentity;
  start?: { z: number[]; positions: number[] };
  settings: JobSettings;
}

export interface JobConformation {
  conformer: number;
  kind: 'equilibrium' | 'off-equilibrium';
  sampler: SamplerName;
  temperature: number;
  seed: number;
  positions: number[];
  /** One label per level of theory (index into the result's levels). */
  labels: { level: number; energy: number; forces: number[] }[];
}

export interface JobResult {
  format: 'oreo-corpus-job';
  version: typeof JOB_FORMAT_VERSION;
  key: string;
  identity: MoleculeIdentity;
  z: number[];
  levels: LevelOfTheory[];
  conformations: JobConformation[];
  rejected: Record<string, number>;
  skipped: Record<string, number>;
  conformers: number;
  calculations: number;
  /** Why the molecule gave nothing (every conformer failed), or absent. */
  failed?: string;
}

/** Where and how a job ran: kept beside the result, not part of it. */
export interface JobRun {
  seconds: number;
  host: string;
  pid: number;
}

/** JSON with object keys sorted at every level, so that equal settings give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]])) : v,
  );
}

/** The job's key: sha256 of its inputs and settings in a fixed order. */
export function jobKey(job: Omit<MoleculeJob, 'key'>): string {
  const input = {
    v: JOB_FORMAT_VERSION,
    smiles: job.smiles ?? null,
    idcode: job.identity.idcode,
    charge: job.identity.charge,
    unpaired: job.identity.unpaired,
    start: job.start ?? null,
    settings: job.settings,
  };
  return createHash('sha256').update(canonicalJson(input)).digest('hex');
}

/** Starting structures: the given one, else OpenChemLib conformers (more for flexible molecules). */
function startsOf(job: MoleculeJob, seed: number): { z: Int32Array; starts: StartStructure[] } {
  if (job.start) {
    const z = Int32Array.from(job.start.z);
    return { z, starts: [{ z, positions: Float64Array.from(job.start.positions), conformer: 0 }] };
  }
  if (!job.smiles) throw new OreoError(`job ${job.key}: neither SMILES nor a structure`);
  const mol = parseSmiles(job.smiles);
  const rotatable = mol.getRotatableBondCount();
  const count = Math.max(1, Math.min(job.settings.maxConformers, 1 + rotatable));
  const confs = conformersFromSmiles(job.smiles, { count, seed });
  const z = confs[0].z;
  return {
    z,
    starts: confs.map((c) => ({ z: c.z, positions: c.positions, bonds: graphFromPairs(c.bonds, c.z.length), conformer: c.conformer })),
  };
}

/** Run one molecule job (blocking: reference calculations run one after another). */
export function runMoleculeJob(job: MoleculeJob, model?: Calculator): JobResult {
  const seed = deriveSeed(job.settings.seed, job.identity.idcode);
  const base: JobResult = {
    format: 'oreo-corpus-job',
    version: JOB_FORMAT_VERSION,
    key: job.key,
    identity: job.identity,
    z: [],
    levels: [],
    conformations: [],
    rejected: {},
    skipped: {},
    conformers: 0,
    calculations: 0,
  };
  let z: Int32Array;
  let starts: StartStructure[];
  try {
    ({ z, starts } = startsOf(job, seed));
  } catch (err) {
    if (!(err instanceof OreoError)) throw err;
    return { ...base, failed: `no 3D structure: ${err.message}` };
  }
  base.z = Array.from(z);
  let r;
  try {
    r = labelStructures(
      z,
      starts,
      {
        calculators: job.settings.calculators,
        calculatorOptions: job.settings.calculatorOptions,
        relax: job.settings.relax,
        plan: job.settings.plan,
        seed,
      },
      { charge: job.identity.charge, unpaired: job.identity.unpaired },
      model,
    );
  } catch (err) {
    // A molecule the first calculator refuses (elements, impossible charge/spin) is a failed
    // molecule, counted; anything else is a bug or a broken installation and must surface.
    if (!(err instanceof OreoError) || /not found|cannot start|not executable/.test(err.message)) throw err;
    return { ...base, failed: `refused: ${err.message.split('\n')[0]}` };
  }
  const levelIndex = new Map(r.levels.map((l, i) => [l.key, i]));
  const result: JobResult = {
    ...base,
    levels: r.levels,
    rejected: r.rejected,
    skipped: r.skipped,
    conformers: r.conformers,
    calculations: r.calculations,
    conformations: r.conformations.map((c) => ({
      conformer: c.conformer,
      kind: c.kind,
      sampler: c.sampler,
      temperature: c.temperature,
      seed: c.seed,
      positions: Array.from(c.positions),
      labels: c.labels.map((l) => ({ level: levelIndex.get(l.level)!, energy: l.energy, forces: Array.from(l.forces) })),
    })),
  };
  if (r.conformers === 0) {
    const reasons = Object.entries(r.rejected).map(([k, v]) => `${k} ×${v}`);
    result.failed = reasons.length ? reasons.join(', ') : 'no conformer';
  }
  return result;
}

export function jobRunInfo(seconds: number): JobRun {
  return { seconds, host: hostname(), pid: process.pid };
}
