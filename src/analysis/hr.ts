/**
 * h(r): the distribution of all interatomic distances of a molecule over a set of frames, as the
 * MDsim benchmark (Fu et al., "Forces are not enough") defines it for MD17:
 *
 *   - every pairwise distance of every frame (both orders and the zero self-distances in MDsim's
 *     `cdist`; the self-distances fall below the first edge and are dropped, and counting each
 *     unordered pair once instead of twice leaves a density unchanged);
 *   - a histogram over the edges numpy.linspace(1e-6, 10, 501): 500 bins, each [e_k, e_k+1) and
 *     the last one closed, like numpy.histogram with an explicit edge array;
 *   - density-normalised like `density=True`: h_k = n_k / (Σn · Δr_k), so Σ h_k Δr_k = 1.
 *
 * The h(r) error is mean_k |h_sim − h_ref| × 10, which equals ∫|Δh| dr (in [0, 2]).
 */

export interface HrBins {
  /** Lower edge of the first bin, Å (MDsim: 1e-6, which drops the zero self-distances). */
  rMin: number;
  /** Upper edge of the last bin, Å (MDsim: 10, its `xlim`). */
  rMax: number;
  /** Number of bins (MDsim: 500). */
  nBins: number;
}

export const MDSIM_HR_BINS: Readonly<HrBins> = Object.freeze({ rMin: 1e-6, rMax: 10, nBins: 500 });

/** Bin edges exactly as numpy.linspace(rMin, rMax, nBins + 1) computes them. */
export function binEdges(bins: HrBins = MDSIM_HR_BINS): Float64Array {
  checkBins(bins);
  const n = bins.nBins;
  const step = (bins.rMax - bins.rMin) / n;
  const edges = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) edges[i] = i * step + bins.rMin;
  edges[n] = bins.rMax;
  return edges;
}

/** Bin centres, Å: for plotting. */
export function binCentres(bins: HrBins = MDSIM_HR_BINS): Float64Array {
  const e = binEdges(bins);
  return Float64Array.from({ length: bins.nBins }, (_, k) => 0.5 * (e[k] + e[k + 1]));
}

function checkBins(b: HrBins): void {
  if (!(Number.isInteger(b.nBins) && b.nBins >= 1)) throw new RangeError(`h(r): nBins must be a positive integer, got ${b.nBins}`);
  if (!(Number.isFinite(b.rMin) && Number.isFinite(b.rMax) && b.rMax > b.rMin)) {
    throw new RangeError(`h(r): need finite rMin < rMax, got ${b.rMin}, ${b.rMax}`);
  }
}

/**
 * Accumulates pair-distance counts frame by frame, so that a long trajectory or a large
 * reference set never has to be held as one distance array.
 */
export class DistanceHistogram {
  readonly bins: HrBins;
  readonly edges: Float64Array;
  readonly counts: Float64Array;
  /** Frames added so far. */
  frames = 0;
  private readonly step: number;

  constructor(bins: HrBins = MDSIM_HR_BINS) {
    this.bins = { rMin: bins.rMin, rMax: bins.rMax, nBins: bins.nBins };
    this.edges = binEdges(this.bins);
    this.counts = new Float64Array(this.bins.nBins);
    this.step = (this.bins.rMax - this.bins.rMin) / this.bins.nBins;
  }

  /** Add one distance. Outside [rMin, rMax] it is ignored, as numpy does. */
  addDistance(d: number): void {
    const e = this.edges;
    const n = this.bins.nBins;
    if (!(d >= e[0] && d <= e[n])) return;
    let k = Math.floor((d - e[0]) / this.step);
    // The arithmetic guess can be one bin off at an edge; the edge array is the definition.
    if (k > n - 1) k = n - 1;
    if (k < 0) k = 0;
    while (k > 0 && d < e[k]) k--;
    while (k < n - 1 && d >= e[k + 1]) k++;
    this.counts[k] += 1;
  }

  /** Add all pair distances i<j of one frame (flat positions, 3 per atom). */
  addFrame(positions: ArrayLike<number>): void {
    const nAtoms = positions.length / 3;
    if (!Number.isInteger(nAtoms)) throw new RangeError(`h(r): positions length ${positions.length} is not a multiple of 3`);
    for (let i = 0; i < nAtoms; i++) {
      const xi = positions[3 * i], yi = positions[3 * i + 1], zi = positions[3 * i + 2];
      for (let j = i + 1; j < nAtoms; j++) {
        const dx = positions[3 * j] - xi, dy = positions[3 * j + 1] - yi, dz = positions[3 * j + 2] - zi;
        this.addDistance(Math.sqrt(dx * dx + dy * dy + dz * dz));
      }
    }
    this.frames++;
  }

  addFrames(frames: Iterable<ArrayLike<number>>): this {
    for (const f of frames) this.addFrame(f);
    return this;
  }

  /** Distances counted inside the range. */
  get total(): number {
    let s = 0;
    for (const c of this.counts) s += c;
    return s;
  }

  /** The density h(r), Å⁻¹ (numpy's density=True). All zeros if nothing was counted. */
  density(): Float64Array {
    const total = this.total;
    const h = new Float64Array(this.bins.nBins);
    if (total === 0) return h;
    for (let k = 0; k < h.length; k++) h[k] = this.counts[k] / (total * (this.edges[k + 1] - this.edges[k]));
    return h;
  }
}

/** h(r) of a set of frames (flat positions each), MDsim's definition by default. */
export function hr(frames: Iterable<ArrayLike<number>>, bins: HrBins = MDSIM_HR_BINS): Float64Array {
  return new DistanceHistogram(bins).addFrames(frames).density();
}

/**
 * MDsim's h(r) error: mean over bins of |a − b| times rMax (its `xlim`). With MDsim's bins this
 * is ∫|Δh| dr up to the 1e-6 Å lower edge.
 */
export function hrMae(a: ArrayLike<number>, b: ArrayLike<number>, bins: HrBins = MDSIM_HR_BINS): number {
  if (a.length !== b.length || a.length !== bins.nBins) {
    throw new RangeError(`h(r) MAE: histograms of ${a.length} and ${b.length} bins, expected ${bins.nBins}`);
  }
  let s = 0;
  for (let k = 0; k < a.length; k++) s += Math.abs(a[k] - b[k]);
  return (s / a.length) * bins.rMax;
}
