/** Messages between the app and its MD Web Worker (structured-clone safe). */
import type { ThermostatKind } from '../md/integrators/types.js';

export interface MdSettings {
  thermostat: ThermostatKind;
  /** fs */
  dt: number;
  /** K: thermostat target and Maxwell–Boltzmann temperature of the initial velocities. */
  temperature: number;
  seed: number;
  /** Thermostat time in units of dt (Nosé–Hoover). */
  ttime: number;
  /** 1/fs (Langevin). */
  friction: number;
  chainLength: number;
  zeroMomentum: boolean;
  zeroAngularMomentum: boolean;
  /** Warn about a collapse (bond, runaway temperature, NVE drift) and go on instead of stopping. */
  allowUnstable?: boolean;
  /** Relax the structure with the chosen model first (FIRE to fmax 0.05 eV/Å, at most 500 steps),
   * as `oreo optimize` would: a structure made from a SMILES is not a minimum of any model. */
  relaxFirst?: boolean;
}

/** What the relaxation before MD did (settings.relaxFirst). */
export interface RelaxationReport {
  steps: number;
  converged: boolean;
  /** Largest atomic force before and after, eV/Å. */
  startFmax: number;
  fmax: number;
}

export type ToWorker =
  /** Build the model and a fresh simulation at step 0. `threads`: 2 puts a helper Web Worker on
   * half of each matrix product where the page is cross-origin isolated (default 1). */
  | { type: 'init'; model: ArrayBuffer; modelName: string; dtype: 'float32' | 'float64'; z: number[]; positions: number[]; settings: MdSettings; threads?: number }
  /** Take `steps` more steps, reporting every `reportEvery` steps. */
  | { type: 'run'; steps: number; reportEvery: number }
  /** Stop after the current step. */
  | { type: 'stop' }
  /** Energy and forces of one geometry (no simulation needed). */
  | { type: 'forces'; id: number; model: ArrayBuffer; modelName: string; dtype: 'float32' | 'float64'; z: number[]; positions: number[] };

export interface MdFrame {
  step: number;
  timeFs: number;
  epot: number;
  ekin: number;
  etot: number;
  /** Total + thermostat reservoir energy (conserved up to integration error). */
  econserved: number;
  temperature: number;
  positions: Float64Array;
}

export type FromWorker =
  | { type: 'ready'; atoms: number; kernels: string; parameters: number; frame: MdFrame; relaxation?: RelaxationReport }
  | { type: 'frame'; frame: MdFrame; stepsPerSecond: number }
  /** `collapse`: the stability watchdog stopped the run (what came apart, and when). */
  | { type: 'done'; step: number; reason: string | null; collapse?: { timePs: number; kind: string; message: string } }
  | { type: 'warning'; message: string }
  | { type: 'forces'; id: number; energy: number; forces: Float64Array }
  | { type: 'error'; message: string; id?: number };
