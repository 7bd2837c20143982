/**
 * When did a simulation stop being chemistry? Two criteria.
 *
 * Bond criterion (MDsim's, the one in ET-OREO's Table 2 for MD17): bonds are found on the first
 * saved frame; frame t is unstable when any bond's length deviates by more than `threshold`
 * (0.5 Å) from that bond's mean over the reference data. With t* the first unstable frame, MDsim's
 * `collapse_pt` is t* + 1 (frames [0, collapse_pt) are the ones its h(r) uses: up to and including
 * t*), or the number of frames when no frame is unstable. The reported stability is the time of
 * frame collapse_pt − 1: the first unstable frame's time, or the last frame's time.
 * (MDsim loops over thermo rows 1..n−1 and tests frame i−1, so it never tests the last frame; the
 * result is the same either way, since an unstable last frame gives collapse_pt = n too.)
 *
 * h(r) criterion (an alternative, MDsim's criterion for water and LiPS): h(r) over a sliding
 * window of frames is compared with the reference h(r); the first window whose h(r) error exceeds
 * a threshold marks the collapse. Useful when a model keeps bonds but samples the wrong
 * distribution (e.g. a frozen or distorted molecule).
 */
import { findBonds, meanBondLengths, bondLengths, type Bond, type BondOptions } from './bonds.js';
import { DistanceHistogram, hrMae, MDSIM_HR_BINS, type HrBins } from './hr.js';

export const MDSIM_BOND_THRESHOLD = 0.5;

export interface BondStability {
  /** Å. */
  threshold: number;
  bonds: Bond[];
  /** Mean length of each bond over the reference frames, Å. */
  referenceMeans: Float64Array;
  /** Per saved frame: max over bonds of |b_k(t) − b̄_k|, Å. */
  maxDeviation: Float64Array;
  /** First frame whose max deviation exceeds the threshold, or null. */
  firstUnstableFrame: number | null;
  /** The bond that broke first (at firstUnstableFrame), or null. */
  brokenBond: Bond | null;
  /** MDsim's collapse_pt: frames [0, collapseIndex) count as simulated (first unstable included). */
  collapseIndex: number;
}

export interface BondStabilityOptions {
  /** Å; default 0.5 (MDsim). */
  threshold?: number;
  /**
   * Cubic box edge for a minimum-image bond length, Å. MDsim uses 30 Å; for a molecule that is
   * not periodic and whose bonds stay under 15 Å this equals the plain distance, which is the
   * default (undefined).
   */
  box?: number;
}

/** The bond criterion on given bonds and reference means. Frames are flat positions, Å. */
export function bondStability(
  frames: readonly ArrayLike<number>[],
  bonds: readonly Bond[],
  referenceMeans: ArrayLike<number>,
  options: BondStabilityOptions = {},
): BondStability {
  const threshold = options.threshold ?? MDSIM_BOND_THRESHOLD;
  if (!(threshold > 0)) throw new RangeError(`stability threshold must be > 0 Å, got ${threshold}`);
  if (referenceMeans.length !== bonds.length) {
    throw new RangeError(`bond stability: ${bonds.length} bonds but ${referenceMeans.length} reference means`);
  }
  const maxDeviation = new Float64Array(frames.length);
  let firstUnstableFrame: number | null = null;
  let brokenBond: Bond | null = null;
  for (let t = 0; t < frames.length; t++) {
    const l = bondLengths(frames[t], bonds, options.box);
    let worst = 0;
    let worstBond = -1;
    for (let b = 0; b < l.length; b++) {
      const dev = Math.abs(l[b] - referenceMeans[b]);
      // NaN positions (an exploded integration) count as broken.
      if (dev > worst || Number.isNaN(dev)) {
        worst = Number.isNaN(dev) ? Infinity : dev;
        worstBond = b;
        if (Number.isNaN(dev)) break;
      }
    }
    maxDeviation[t] = worst;
    if (firstUnstableFrame === null && worst > threshold) {
      firstUnstableFrame = t;
      brokenBond = bonds[worstBond];
    }
  }
  return {
    threshold,
    bonds: bonds.slice(),
    referenceMeans: Float64Array.from(referenceMeans),
    maxDeviation,
    firstUnstableFrame,
    brokenBond,
    collapseIndex: firstUnstableFrame === null ? frames.length : firstUnstableFrame + 1,
  };
}

/**
 * MDsim's whole bond criterion: bonds from the first simulated frame, reference means over all
 * reference frames, then `bondStability`.
 */
export function mdsimBondStability(
  z: ArrayLike<number>,
  frames: readonly ArrayLike<number>[],
  referenceFrames: Iterable<ArrayLike<number>>,
  options: BondStabilityOptions & BondOptions = {},
): BondStability {
  if (frames.length === 0) throw new RangeError('bond stability: the trajectory has no frames');
  const bonds = findBonds(z, frames[0], options);
  const means = meanBondLengths(referenceFrames, bonds, options.box);
  return bondStability(frames, bonds, means, options);
}

/** The time of frame collapseIndex − 1: MDsim's reported stability (ps when times are ps). */
export function stabilityTime(collapseIndex: number, times: ArrayLike<number>): number {
  if (collapseIndex < 1 || collapseIndex > times.length) {
    throw new RangeError(`collapse index ${collapseIndex} outside 1..${times.length}`);
  }
  return times[collapseIndex - 1];
}

export interface HrStability {
  threshold: number;
  windowFrames: number;
  /** h(r) error of the window starting at each frame (NaN where no full window starts). */
  windowMae: Float64Array;
  /** First window start whose error exceeds the threshold, or null. */
  firstUnstableWindow: number | null;
  /** Frames [0, collapseIndex) count as stable; the window start, or the frame count. */
  collapseIndex: number;
}

export interface HrStabilityOptions {
  /** Window length in saved frames; default 20 (1 ps at MDsim's 50 fs save interval). */
  windowFrames?: number;
  /** Threshold on the window's h(r) error (∫|Δh|dr, 0..2); see the CLI's default. */
  threshold: number;
  bins?: HrBins;
}

/**
 * The h(r) criterion, with MDsim's window placement (its water/LiPS loop): windows
 * [i, i + w) for i = 1 … n − w − 1; the first whose h(r) error against `referenceHr` exceeds the
 * threshold gives collapseIndex = i. The windows are slid by adding and removing one frame's
 * pair counts, so the cost is one distance pass over the trajectory.
 */
export function hrStability(frames: readonly ArrayLike<number>[], referenceHr: ArrayLike<number>, options: HrStabilityOptions): HrStability {
  const w = options.windowFrames ?? 20;
  const bins = options.bins ?? MDSIM_HR_BINS;
  if (!(Number.isInteger(w) && w >= 1)) throw new RangeError(`h(r) stability: window must be a positive integer number of frames, got ${w}`);
  if (!(options.threshold > 0)) throw new RangeError(`h(r) stability: threshold must be > 0, got ${options.threshold}`);
  const n = frames.length;
  const windowMae = new Float64Array(n).fill(NaN);
  // Per-frame histograms, kept only for the frames inside the current window.
  const perFrame: (Float64Array | undefined)[] = new Array(n);
  const frameCounts = (t: number): Float64Array => {
    let c = perFrame[t];
    if (!c) {
      const h = new DistanceHistogram(bins);
      h.addFrame(frames[t]);
      c = perFrame[t] = h.counts;
    }
    return c;
  };
  const window = new DistanceHistogram(bins);
  let firstUnstableWindow: number | null = null;
  const lastStart = n - w - 1;
  for (let i = 1; i <= lastStart; i++) {
    if (i === 1) {
      for (let t = 1; t < 1 + w; t++) addInto(window.counts, frameCounts(t), 1);
    } else {
      addInto(window.counts, frameCounts(i - 1), -1);
      perFrame[i - 1] = undefined;
      addInto(window.counts, frameCounts(i + w - 1), 1);
    }
    windowMae[i] = hrMae(window.density(), referenceHr, bins);
    if (firstUnstableWindow === null && windowMae[i] > options.threshold) firstUnstableWindow = i;
  }
  return {
    threshold: options.threshold,
    windowFrames: w,
    windowMae,
    firstUnstableWindow,
    collapseIndex: firstUnstableWindow ?? n,
  };
}

function addInto(dst: Float64Array, src: Float64Array, sign: number): void {
  for (let k = 0; k < dst.length; k++) dst[k] += sign * src[k];
}
