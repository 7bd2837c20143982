/**
 * All MDsim observables of one simulation against one reference, computed in memory: the bond
 * stability (and its time), h(r) over the frames up to collapse and its error, the h(r)-window
 * stability, RMSD to the first frame, and summaries of energy and temperature. File-free, so the
 * benchmark runner calls it on frames it holds, and `oreo analyze` on frames it has read.
 */
import { formula, symbolOf } from '../elements.js';
import type { Bond } from './bonds.js';
import { ASE_NEIGHBORLIST_SKIN } from './bonds.js';
import { DistanceHistogram, hrMae, MDSIM_HR_BINS, type HrBins } from './hr.js';
import { rmsdSeries } from './rmsd.js';
import { hrStability, MDSIM_BOND_THRESHOLD, mdsimBondStability, stabilityTime, type BondStability, type HrStability } from './stability.js';

/** The reference data set, with its h(r) computed once (shared by all seeds of a benchmark). */
export interface PreparedReference {
  z: Int32Array;
  frames: readonly ArrayLike<number>[];
  hr: Float64Array;
  bins: HrBins;
  source?: string;
}

export function prepareReference(ref: { z: ArrayLike<number>; frames: readonly ArrayLike<number>[]; source?: string }, bins: HrBins = MDSIM_HR_BINS): PreparedReference {
  if (ref.frames.length === 0) throw new RangeError(`reference${ref.source ? ` ${ref.source}` : ''} has no frames`);
  const hist = new DistanceHistogram(bins).addFrames(ref.frames);
  return { z: Int32Array.from(ref.z), frames: ref.frames, hr: hist.density(), bins, source: ref.source };
}

/** One simulation's saved frames and per-frame quantities. */
export interface SimulationFrames {
  z: ArrayLike<number>;
  /** Flat positions per saved frame, Å. */
  frames: readonly ArrayLike<number>[];
  /** Time of each frame, ps. */
  timesPs: ArrayLike<number>;
  /** Potential energy per frame, eV. */
  energies?: ArrayLike<number>;
  /** Temperature per frame, K. */
  temperatures?: ArrayLike<number>;
}

export interface AnalysisOptions {
  /** Bond deviation threshold, Å (default 0.5, MDsim). */
  threshold?: number;
  /** ASE NeighborList skin for bond detection, Å (default 0.3, as MDsim gets from ASE). */
  bondSkin?: number;
  /** Minimum-image box edge for bond lengths, Å (MDsim: 30; default: plain distances). */
  box?: number;
  /** h(r) window criterion: window in frames (default 20) and threshold on ∫|Δh|dr (default 1.0). */
  hrWindowFrames?: number;
  hrThreshold?: number;
}

export const DEFAULT_HR_WINDOW_FRAMES = 20;
export const DEFAULT_HR_THRESHOLD = 1.0;

export interface SimulationAnalysis {
  z: Int32Array;
  formula: string;
  atoms: number;
  frames: number;
  durationPs: number;
  timesPs: Float64Array;
  bondStability: BondStability;
  /** MDsim's stability: time of the first unstable frame, or of the last frame, ps. */
  stabilityPs: number;
  collapsed: boolean;
  hr: {
    bins: HrBins;
    /** h(r) of frames [0, collapseIndex). */
    simulated: Float64Array;
    reference: Float64Array;
    /** ∫|h_sim − h_ref| dr, MDsim's h(r) MAE. */
    mae: number;
    framesUsed: number;
  };
  hrStability: HrStability & { stabilityPs: number; collapsed: boolean };
  /** RMSD of each frame to frame 0 after superposition, Å. */
  rmsd: Float64Array;
  energies?: Float64Array;
  temperatures?: Float64Array;
}

export function analyzeSimulation(sim: SimulationFrames, reference: PreparedReference, options: AnalysisOptions = {}): SimulationAnalysis {
  const n = sim.frames.length;
  if (n === 0) throw new RangeError('analysis: the simulation has no frames');
  if (sim.timesPs.length !== n) throw new RangeError(`analysis: ${n} frames but ${sim.timesPs.length} times`);
  checkSameAtoms(sim.z, reference.z);

  const bond = mdsimBondStability(sim.z, sim.frames, reference.frames, {
    threshold: options.threshold ?? MDSIM_BOND_THRESHOLD,
    skin: options.bondSkin ?? ASE_NEIGHBORLIST_SKIN,
    box: options.box,
  });
  const simulated = new DistanceHistogram(reference.bins).addFrames(sim.frames.slice(0, bond.collapseIndex)).density();
  const window = hrStability(sim.frames, reference.hr, {
    windowFrames: options.hrWindowFrames ?? DEFAULT_HR_WINDOW_FRAMES,
    threshold: options.hrThreshold ?? DEFAULT_HR_THRESHOLD,
    bins: reference.bins,
  });
  const out: SimulationAnalysis = {
    z: Int32Array.from(sim.z),
    formula: formula(sim.z),
    atoms: sim.z.length,
    frames: n,
    durationPs: sim.timesPs[n - 1] - sim.timesPs[0],
    timesPs: Float64Array.from(sim.timesPs),
    bondStability: bond,
    stabilityPs: stabilityTime(bond.collapseIndex, sim.timesPs),
    collapsed: bond.firstUnstableFrame !== null,
    hr: {
      bins: reference.bins,
      simulated,
      reference: reference.hr,
      mae: hrMae(simulated, reference.hr, reference.bins),
      framesUsed: bond.collapseIndex,
    },
    hrStability: { ...window, stabilityPs: stabilityTime(window.collapseIndex, sim.timesPs), collapsed: window.firstUnstableWindow !== null },
    rmsd: rmsdSeries(sim.frames),
  };
  if (sim.energies) {
    if (sim.energies.length !== n) throw new RangeError(`analysis: ${n} frames but ${sim.energies.length} energies`);
    out.energies = Float64Array.from(sim.energies);
  }
  if (sim.temperatures) {
    if (sim.temperatures.length !== n) throw new RangeError(`analysis: ${n} frames but ${sim.temperatures.length} temperatures`);
    out.temperatures = Float64Array.from(sim.temperatures);
  }
  return out;
}

function checkSameAtoms(a: ArrayLike<number>, b: ArrayLike<number>): void {
  if (a.length !== b.length) throw new RangeError(`analysis: the simulation has ${a.length} atoms, the reference ${b.length}`);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) throw new RangeError(`analysis: atom ${i} is Z=${a[i]} in the simulation but Z=${b[i]} in the reference (atom order must match)`);
  }
}

/** A bond's name like "C3–H12", with oreo's 0-based atom indices. */
export function bondName(z: ArrayLike<number>, bond: Bond): string {
  return `${symbolOf(z[bond[0]])}${bond[0]}–${symbolOf(z[bond[1]])}${bond[1]}`;
}

function meanStd(v: ArrayLike<number>, from = 0, to = v.length): { mean: number; std: number } {
  let s = 0, s2 = 0, n = 0;
  for (let i = from; i < to; i++) {
    if (!Number.isFinite(v[i])) continue;
    s += v[i];
    s2 += v[i] * v[i];
    n++;
  }
  const mean = n ? s / n : NaN;
  return { mean, std: n ? Math.sqrt(Math.max(0, s2 / n - mean * mean)) : NaN };
}

/** The numbers a person reads: JSON-safe, units in the key names. */
export function summarize(a: SimulationAnalysis): Record<string, unknown> {
  const b = a.bondStability;
  const upto = b.collapseIndex;
  const finite = (x: number) => (Number.isFinite(x) ? x : null);
  const rmsdStable = meanStd(a.rmsd, 0, upto);
  let rmsdMax = 0;
  for (let i = 0; i < upto; i++) if (Number.isFinite(a.rmsd[i])) rmsdMax = Math.max(rmsdMax, a.rmsd[i]);
  const out: Record<string, unknown> = {
    formula: a.formula,
    atoms: a.atoms,
    frames: a.frames,
    duration_ps: a.durationPs,
    stability: {
      criterion: 'MDsim bond-length deviation from the reference mean',
      threshold_A: b.threshold,
      bonds: b.bonds.length,
      stability_ps: a.stabilityPs,
      collapsed: a.collapsed,
      first_unstable_frame: b.firstUnstableFrame,
      broken_bond: b.brokenBond ? { atoms: [...b.brokenBond], name: bondName(a.z, b.brokenBond) } : null,
      max_deviation_at_collapse_A: b.firstUnstableFrame !== null ? finite(b.maxDeviation[b.firstUnstableFrame]) : null,
      collapse_index: b.collapseIndex,
    },
    hr: {
      mae: a.hr.mae,
      frames_used: a.hr.framesUsed,
      bins: a.hr.bins.nBins,
      r_min_A: a.hr.bins.rMin,
      r_max_A: a.hr.bins.rMax,
    },
    hr_window_stability: {
      criterion: 'h(r) of a sliding window of frames vs the reference (MDsim water/LiPS style)',
      window_frames: a.hrStability.windowFrames,
      threshold: a.hrStability.threshold,
      stability_ps: a.hrStability.stabilityPs,
      collapsed: a.hrStability.collapsed,
      first_unstable_window: a.hrStability.firstUnstableWindow,
    },
    rmsd_A: {
      final: finite(a.rmsd[upto - 1]),
      mean_until_collapse: finite(rmsdStable.mean),
      max_until_collapse: rmsdMax,
    },
  };
  if (a.temperatures) {
    const t = meanStd(a.temperatures, 0, upto);
    out.temperature_K = { mean_until_collapse: finite(t.mean), std_until_collapse: finite(t.std), initial: finite(a.temperatures[0]) };
  }
  if (a.energies) {
    const e = meanStd(a.energies, 0, upto);
    out.potential_energy_eV = { mean_until_collapse: finite(e.mean), std_until_collapse: finite(e.std), initial: finite(a.energies[0]) };
  }
  return out;
}
