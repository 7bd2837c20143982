// Small, fast corpus settings shared by the corpus tests: one conformer, one sample of each kind.
import type { JobSettings } from '../../src/corpus/job.js';

export const tinySettings: JobSettings = {
  calculators: ['xtb'],
  calculatorOptions: { blasCore: 'Haswell' },
  maxConformers: 1,
  relax: { level: 'normal', maxCycles: 200 },
  plan: {
    normalModes: { temperatures: [500], perTemperature: 1, minWavenumber: 100 },
    md: { temperatures: [500], framesPerTemperature: 1, every: 2, dt: 0.5, friction: 0.02 },
    rattle: { count: 1, sigma: 0.05 },
  },
  seed: 1,
};

/** The same settings as `oreo corpus build` flags. */
export const tinyFlags = [
  '--conformers', '1', '--relax-cycles', '200',
  '--nm-temperatures', '500', '--nm-samples', '1',
  '--md-temperatures', '500', '--md-frames', '1', '--md-every', '2',
  '--rattle', '1', '--rattle-sigma', '0.05', '--seed', '1', '--no-hold-out',
];
