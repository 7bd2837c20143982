/**
 * Mean (std) over seeds, as the benchmark tables print them. The std is the population standard
 * deviation (numpy's default, ddof = 0), so one seed gives std 0 rather than nothing.
 */

export interface MeanStd {
  mean: number;
  std: number;
  /** Number of values that entered. */
  n: number;
}

export function meanStd(values: readonly number[]): MeanStd {
  const n = values.length;
  if (n === 0) return { mean: NaN, std: NaN, n: 0 };
  const mean = values.reduce((s, v) => s + v, 0) / n;
  const variance = values.reduce((s, v) => s + (v - mean) * (v - mean), 0) / n;
  return { mean, std: Math.sqrt(variance), n };
}

/** "12.34 (0.56)", or "–" when there is nothing to show. */
export function formatMeanStd(m: MeanStd, digits: number): string {
  if (m.n === 0 || !Number.isFinite(m.mean)) return '–';
  return `${m.mean.toFixed(digits)} (${m.std.toFixed(digits)})`;
}
