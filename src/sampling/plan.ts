/**
 * The default sampling mix per conformer, chosen by measurement (docs/corpus.md, "Choosing the
 * mix"); its command-line flags are in src/cli/sampling-options.ts.
 */

export const DEFAULT_PLAN = {
  nmTemperatures: [300, 600, 1000],
  nmPerTemperature: 8,
  mdTemperatures: [300, 600, 1000],
  mdFrames: 2,
  mdEvery: 10,
  mdDt: 0.5,
  mdFriction: 0.02,
  rattle: 2,
  rattleSigma: 0.05,
  minWavenumber: 100,
} as const;
