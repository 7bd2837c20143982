/**
 * From starting structures of one molecule to labelled conformations: relax each start with the
 * first reference calculator (→ the equilibrium structure, kind 'equilibrium'), sample around it
 * (sample.ts), and label every sample with each reference calculator by registry name. Shared by
 * `oreo sample` and the corpus pipeline.
 *
 * - The first calculator relaxes, supplies the Hessian and drives xtb MD; a sample it cannot
 *   label is left out (counted). Further calculators add labels where they can: one that does not
 *   cover the molecule's elements (or its charge or spin) is skipped for the whole molecule and
 *   counted, one that fails on a sample is counted for that sample.
 * - Every label records its level of theory (level.ts) from the calculator's own describe().
 */
import { OreoError } from '../errors.js';
import type { Calculator } from '../calculator.js';
import { levelOfTheory, type LevelOfTheory } from '../qm/level.js';
import type { ReferenceCalculator } from '../qm/reference.js';
import { createReferenceCalculator, type ReferenceOptions } from '../qm/registry.js';
import { bondingChange, perceiveBonds, type BondGraph } from './bonds.js';
import { failureReason, plannedFrames, sampleMolecule, type Label, type Sample, type SamplingPlan } from './sample.js';
import { deriveSeed } from '../random.js';

export interface StartStructure {
  z: Int32Array;
  positions: Float64Array;
  /** The molecule's bonds; perceived from the start's geometry when absent. */
  bonds?: BondGraph;
  /** Which conformer this is (0-based). */
  conformer: number;
}

export interface RelaxSettings {
  /** Skip relaxation: the starts are already minima (e.g. DFT-relaxed structures). */
  skip?: boolean;
  /** Optimiser level in the calculator's terms (xtb: default 'normal'). */
  level?: string;
  /** Cycle limit (default 500). */
  maxCycles?: number;
}

export interface PipelineSettings {
  /** Reference calculators by registry name; the first relaxes and drives sampling. */
  calculators: string[];
  calculatorOptions?: ReferenceOptions;
  relax?: RelaxSettings;
  plan: SamplingPlan;
  /** Keep the relaxed structures as equilibrium conformations (default true). */
  equilibrium?: boolean;
  seed: number;
  /**
   * Progress in frames: `done` of `total`, the frames the plan asks for (equilibrium ones
   * included); a left-out frame counts as done. Called as MD frames are made and samples labelled.
   */
  onProgress?(done: number, total: number): void;
}

export interface LabelledConformation extends Sample {
  conformer: number;
}

export interface PipelineResult {
  conformations: LabelledConformation[];
  levels: LevelOfTheory[];
  /** Samples or conformers left out, by reason. */
  rejected: Record<string, number>;
  /** Calculators skipped for this molecule, by reason ("ani2x: elements not covered"). */
  skipped: Record<string, number>;
  /** Reference calculations made (relaxations and Hessians count one each). */
  calculations: number;
  /** Conformers that gave an equilibrium structure. */
  conformers: number;
}

function add(r: Record<string, number>, key: string, n = 1): void {
  if (n > 0) r[key] = (r[key] ?? 0) + n;
}

// Calculators are made once per process and settings: some load large parameter sets (ANI-2x's
// networks), and a corpus worker labels thousands of molecules with the same few.
const calculatorCache = new Map<string, ReferenceCalculator>();

function calculatorFor(name: string, options: ReferenceOptions): ReferenceCalculator {
  const key = `${name.trim().toLowerCase()}\u0000${JSON.stringify(options)}`;
  let calc = calculatorCache.get(key);
  if (!calc) {
    calc = createReferenceCalculator(name, options);
    calculatorCache.set(key, calc);
  }
  return calc;
}

/** Drop a relaxed conformer that lands on an earlier one (same minimum, energy within this, eV). */
const SAME_MINIMUM_EV = 1e-5;

export function labelStructures(
  z: Int32Array,
  starts: StartStructure[],
  settings: PipelineSettings,
  molecule: { charge?: number; unpaired?: number } = {},
  model?: Calculator,
): PipelineResult {
  if (settings.calculators.length === 0) throw new OreoError('no reference calculator given');
  const out: PipelineResult = { conformations: [], levels: [], rejected: {}, skipped: {}, calculations: 0, conformers: 0 };
  const options = { ...settings.calculatorOptions, charge: molecule.charge ?? 0, unpaired: molecule.unpaired ?? 0 };
  // Calculators that apply to this molecule, with their level of theory.
  const calcs: { name: string; calc: ReferenceCalculator; level: LevelOfTheory }[] = [];
  settings.calculators.forEach((name, i) => {
    let calc: ReferenceCalculator;
    try {
      calc = calculatorFor(name, options);
      calc.checkElements(z);
    } catch (err) {
      if (i === 0) throw err;
      add(out.skipped, `${name}: ${/charge|spin|unpaired|open-shell|radical/i.test((err as Error).message) ? 'charge or spin not covered' : 'elements not covered'}`);
      return;
    }
    calcs.push({ name, calc, level: levelOfTheory(calc.describe()) });
  });
  out.levels = calcs.map((c) => c.level);
  const primary = calcs[0];
  const relaxed: number[] = [];
  const perStart = plannedFrames(settings.plan) + (settings.equilibrium !== false ? 1 : 0);
  const total = perStart * starts.length;
  let done = 0;
  const progress = (n: number) => {
    done += n;
    settings.onProgress?.(done, total);
  };
  settings.onProgress?.(0, total);
  for (const [startIndex, start] of starts.entries()) {
    // Every frame of this start counts as done at its end, left out or not.
    const startDone = () => {
      if (done < perStart * (startIndex + 1)) progress(perStart * (startIndex + 1) - done);
    };
    const bonds = start.bonds ?? perceiveBonds(start.z, start.positions);
    let positions = start.positions;
    if (!settings.relax?.skip) {
      if (!primary.calc.optimize) throw new OreoError(`${primary.name} cannot relax structures; pass a calculator with an optimiser first`);
      try {
        out.calculations++;
        const r = primary.calc.optimize(z, start.positions, { level: settings.relax?.level ?? 'normal', maxCycles: settings.relax?.maxCycles ?? 500 });
        positions = r.positions;
        if (relaxed.some((e) => Math.abs(e - r.energy) < SAME_MINIMUM_EV)) {
          add(out.rejected, 'relax: same minimum as an earlier conformer');
          startDone();
          continue;
        }
        relaxed.push(r.energy);
      } catch (err) {
        if (!(err instanceof OreoError)) throw err;
        add(out.rejected, `relax: ${failureReason(err)}`);
        startDone();
        continue;
      }
    }
    const change = bondingChange(z, positions, bonds);
    if (change) {
      add(out.rejected, 'relax: bonding changed');
      startDone();
      continue;
    }
    out.conformers++;
    const seed = deriveSeed(settings.seed, `conformer:${start.conformer}`);
    const samples: Sample[] = [];
    if (settings.equilibrium !== false) {
      samples.push({ positions, kind: 'equilibrium', sampler: 'relaxed', temperature: 0, seed: 0, labels: [] });
    }
    const sampled = sampleMolecule(
      { z, positions, bonds, seed, reference: primary.calc, referenceLevel: primary.level.key, model, onMdFrames: progress },
      settings.plan,
    );
    out.calculations += sampled.calculations;
    for (const [k, v] of Object.entries(sampled.rejected)) add(out.rejected, k, v);
    samples.push(...sampled.samples);
    for (const s of samples) {
      const labels: Label[] = [];
      let keep = true;
      for (const [i, c] of calcs.entries()) {
        const have = s.labels.find((l) => l.level === c.level.key);
        if (have) {
          labels.push(have);
          continue;
        }
        try {
          out.calculations++;
          const ef = c.calc.compute(z, s.positions);
          labels.push({ level: c.level.key, energy: ef.energy, forces: ef.forces });
        } catch (err) {
          if (!(err instanceof OreoError)) throw err;
          add(out.rejected, `label ${c.name}: ${failureReason(err)}`);
          if (i === 0) {
            keep = false;
            break;
          }
        }
      }
      if (keep) out.conformations.push({ ...s, labels, conformer: start.conformer });
      // MD frames were counted as they were made.
      if (s.sampler !== 'md' && s.sampler !== 'model-md') progress(1);
    }
    startDone();
  }
  return out;
}
