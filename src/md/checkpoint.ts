/**
 * The `state.json` checkpoint of a simulation run: everything needed to continue bit-for-bit.
 *
 * Format (JSON, `format: "oreo-md-state"`, `version: 1`):
 * - `step`, `status` ('running' | 'completed' | 'stopped' | 'interrupted'), `stopReason`
 * - `settings`: the run's settings (thermostat, dt, temperature, ttime, friction, chainLength,
 *    steps target, saveEvery, seed, model, limits, …)
 * - `atoms`: z, masses, positions, velocities (Å/fs), optional cell and pbc
 * - `forces` (eV/Å) and `energy` (eV) at those positions, cached as the integrators need them
 * - `integrator`: the integrator's own variables (ζ, η, chain, random generator, heat)
 * - `reference`: the starting structure (z, positions), which some analytic potentials are built on
 * - `files`: byte lengths of trajectory.extxyz and thermo.csv at this step; a resume truncates the
 *    files back to them, dropping frames written after the checkpoint
 * Float arrays are stored as base64 of little-endian float64 (`{"$f64": "…"}`) and the few numbers
 * JSON cannot hold exactly (−0, ±Infinity, NaN) as `{"$num": "-0"}`, so that a restored run sees
 * the very same bits.
 */
import type { IntegratorState, ThermostatSettings } from './integrators/types.js';

export const CHECKPOINT_FORMAT = 'oreo-md-state';
export const CHECKPOINT_VERSION = 1;

export type RunStatus = 'running' | 'completed' | 'stopped' | 'interrupted';

export interface RunSettings extends ThermostatSettings {
  /** Target number of steps, counted from step 0. */
  steps: number;
  saveEvery: number;
  seed: number;
  /** Model file or analytic spec, as given; used by `--resume` when no model is given. */
  model?: string;
  /** Arithmetic of a learned model, when chosen explicitly (a resume uses it again). */
  dtype?: 'float32' | 'float64';
  /** The head of a multi-head model the run uses, when one was named. */
  head?: string;
  /** Where the starting structure came from (file and frame), for the record. */
  init?: string;
  initTemperature: number;
  zeroMomentum: boolean;
  zeroAngularMomentum: boolean;
  minTemperature: number;
  maxTemperature: number;
  /** The stability watchdog's settings (src/md/watchdog.ts); absent in runs from before it, which run without it. */
  stability?: StabilitySettings;
}

export interface StabilitySettings {
  enabled: boolean;
  /** Warn and go on after a collapse instead of stopping. */
  allowUnstable: boolean;
  /** Å */
  bondTolerance: number;
  runawayFactor: number;
  /** eV per atom (NVE) */
  maxDriftPerAtom: number;
  /** Bonds given instead of found on the start, [i, j] 0-based. */
  bonds?: [number, number][];
  /** E_tot at step 0, eV: what the NVE drift is measured from, kept so a resume measures from it too. */
  startEnergy?: number;
}

export interface Checkpoint {
  format: typeof CHECKPOINT_FORMAT;
  version: number;
  step: number;
  status: RunStatus;
  stopReason?: string;
  settings: RunSettings;
  atoms: {
    z: number[];
    masses: Float64Array;
    positions: Float64Array;
    velocities: Float64Array;
    cell?: Float64Array;
    pbc: [boolean, boolean, boolean];
  };
  forces: Float64Array;
  energy: number;
  integrator: IntegratorState;
  reference: { z: number[]; positions: Float64Array };
  files: { trajectoryBytes: number; thermoBytes: number };
  /** Wall-clock seconds spent by all invocations so far (information only). */
  wallSeconds: number;
  /** Force evaluations so far (information only). */
  evaluations: number;
  calculator: string;
  writtenAt: string;
}

function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function fromBase64(text: string): Uint8Array {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

export function encodeFloat64(a: Float64Array): string {
  const bytes = new Uint8Array(a.length * 8);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < a.length; i++) view.setFloat64(8 * i, a[i], true);
  return toBase64(bytes);
}

export function decodeFloat64(text: string): Float64Array {
  const bytes = fromBase64(text);
  if (bytes.length % 8 !== 0) throw new Error('float64 array: byte length is not a multiple of 8');
  const view = new DataView(bytes.buffer);
  const out = new Float64Array(bytes.length / 8);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat64(8 * i, true);
  return out;
}

/** JSON text of a checkpoint; see the module comment for the encodings. */
export function serializeCheckpoint(c: Checkpoint): string {
  return JSON.stringify(
    c,
    function (this: unknown, _key, value: unknown) {
      if (value instanceof Float64Array) return { $f64: encodeFloat64(value) };
      if (typeof value === 'number' && (Object.is(value, -0) || !Number.isFinite(value))) {
        return { $num: Object.is(value, -0) ? '-0' : String(value) };
      }
      return value;
    },
    1,
  );
}

export function parseCheckpoint(text: string, file: string): Checkpoint {
  let c: Checkpoint;
  try {
    c = JSON.parse(text, (_key, value: unknown) => {
      if (value && typeof value === 'object' && !Array.isArray(value)) {
        const o = value as Record<string, unknown>;
        const keys = Object.keys(o);
        if (keys.length === 1 && typeof o.$f64 === 'string') return decodeFloat64(o.$f64);
        if (keys.length === 1 && typeof o.$num === 'string') return o.$num === '-0' ? -0 : Number(o.$num);
      }
      return value;
    }) as Checkpoint;
  } catch (err) {
    throw new Error(`${file}: not a readable checkpoint (${(err as Error).message})`);
  }
  if (!c || c.format !== CHECKPOINT_FORMAT) throw new Error(`${file}: not an oreo MD checkpoint (format is not '${CHECKPOINT_FORMAT}')`);
  if (c.version !== CHECKPOINT_VERSION) throw new Error(`${file}: checkpoint version ${c.version} is not supported (expected ${CHECKPOINT_VERSION})`);
  const n = c.atoms?.z?.length;
  const ok =
    Number.isInteger(c.step) &&
    c.step >= 0 &&
    n > 0 &&
    c.atoms.positions instanceof Float64Array &&
    c.atoms.positions.length === 3 * n &&
    c.atoms.velocities instanceof Float64Array &&
    c.atoms.velocities.length === 3 * n &&
    c.atoms.masses instanceof Float64Array &&
    c.atoms.masses.length === n &&
    c.forces instanceof Float64Array &&
    c.forces.length === 3 * n &&
    typeof c.energy === 'number' &&
    c.integrator &&
    typeof c.integrator.kind === 'string' &&
    c.settings &&
    c.files &&
    Number.isInteger(c.files.trajectoryBytes) &&
    Number.isInteger(c.files.thermoBytes);
  if (!ok) throw new Error(`${file}: checkpoint is incomplete or inconsistent`);
  return c;
}
