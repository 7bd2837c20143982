/**
 * The MDsim MD17 simulation protocol (Fu et al., "Forces are not enough"; the settings ET-OREO's
 * Table 2 uses), as oreo's simulation settings, and how each seed picks its starting frame.
 *
 * MDsim: a random frame of the test split, Maxwell–Boltzmann velocities at 500 K with no
 * removal of the centre-of-mass motion, its own Nosé–Hoover thermostat at 500 K with
 * ttime = 20 (in units of dt, so τ = 10 fs), dt = 0.5 fs, 600 000 steps (300 ps), one frame
 * every 100 steps (50 fs), and a stop when T leaves [0.1 K, 1e5 K] (checked every step).
 */
import { Rng } from '../../random.js';
import { OreoError } from '../../errors.js';

export const MDSIM_MD17_PROTOCOL = Object.freeze({
  thermostat: 'nose-hoover' as const,
  /** fs */
  dt: 0.5,
  /** K, thermostat target and Maxwell–Boltzmann temperature */
  temperature: 500,
  /** thermostat time in units of dt */
  ttime: 20,
  steps: 600_000,
  saveEvery: 100,
  zeroMomentum: false,
  zeroAngularMomentum: false,
  /** K: early-stop limits */
  minTemperature: 0.1,
  maxTemperature: 1e5,
  /** Å: a bond further than this from its reference mean marks the collapse */
  bondThreshold: 0.5,
});

/** MDsim's configs use seed 123; the benchmark's seeds are 123, 124, … by default. */
export const DEFAULT_BASE_SEED = 123;
export const DEFAULT_SEEDS = 3;

/** The seed values of a benchmark: base, base + 1, …, base + count − 1. */
export function seedValues(base: number, count: number): number[] {
  if (!Number.isSafeInteger(base) || base < 0 || base >= 2 ** 52) throw new OreoError(`base seed must be an integer in [0, 2^52), got ${base}`);
  if (!Number.isInteger(count) || count < 1) throw new OreoError(`number of seeds must be an integer ≥ 1, got ${count}`);
  return Array.from({ length: count }, (_, k) => base + k);
}

// Offset into the high word of the generator's seed: the frame choice gets a stream of its own,
// unrelated to the velocity stream that the simulation draws from the same seed.
const FRAME_STREAM = 2 ** 32;

/** The test-frame index seed `seed` starts from, uniform over 0 … frames − 1. */
export function startFrameIndex(seed: number, frames: number): number {
  if (!Number.isInteger(frames) || frames < 1) throw new OreoError(`cannot pick a start frame from ${frames} frames`);
  return new Rng(seed + FRAME_STREAM).int(frames);
}

/**
 * `count` frame indices spread evenly over 0 … total − 1 (all of them when count ≥ total), for
 * a force MAE on a subsample that still spans the whole test file.
 */
export function evenlySpacedIndices(total: number, count: number): number[] {
  if (count >= total) return Array.from({ length: total }, (_, i) => i);
  return Array.from({ length: count }, (_, i) => Math.floor((i * total) / count));
}
