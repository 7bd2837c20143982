/**
 * The stability watchdog: MD that cannot fail silently. Checked after every step by the one MD
 * loop (loop.ts) that `oreo simulate`, the library's `Dynamics` and the browser worker all run, for
 * every integrator. A learned model that is asked about a geometry it never saw can tear a
 * molecule apart while the integrator happily reports "completed"; these checks say so, and when.
 *
 * - Bonds, by MDsim's criterion: the bonded pairs of the starting structure (ASE's natural cutoffs
 *   plus skin, as the stability analysis finds them; or bonds given, e.g. from a SMILES graph) may
 *   not deviate by more than 0.5 Å from their reference length (the start, or a reference given).
 * - Runaway temperature, with a thermostat: above max(5 × target, 1000 K). A thermostat that cannot
 *   hold its target within a factor of five is heating a broken molecule, not sampling one. Not in
 *   NVE: there the temperature follows the energy (a strained start heats up without anything
 *   breaking), and the energy itself is checked.
 * - NVE energy drift: |E_tot − E_tot(0)| above 0.05 eV per atom (≈ 2 k_B·T per atom at 300 K).
 *   Velocity Verlet with a sound model and time step conserves energy to far better than that.
 *
 * Non-finite positions, forces and energies are caught by `Simulation.problem`, which the loop
 * checks first. Everything here reads the live state and allocates nothing per step.
 */
import { ASE_NEIGHBORLIST_SKIN, type Bond, distance, findBonds } from '../chem/bonds.js';
import { symbolOf } from '../elements.js';
import type { ThermostatKind } from './integrators/types.js';
import { timeInPs } from './output.js';
import type { Simulation } from './simulation.js';

export const DEFAULT_BOND_TOLERANCE = 0.5;
export const DEFAULT_RUNAWAY_FACTOR = 5;
/** Below this a runaway ceiling of factor × target would trip on ordinary warming from a cold start. */
export const RUNAWAY_FLOOR_K = 1000;
export const DEFAULT_MAX_DRIFT_PER_ATOM = 0.05;

export interface WatchdogOptions {
  /** Å; a bond whose length leaves reference ± this is broken (default 0.5, MDsim). */
  bondTolerance?: number;
  /** Bonded pairs to watch (default: found on the reference structure as MDsim does). */
  bonds?: readonly Bond[];
  /** Flat positions, Å, whose bond lengths are the reference (default: the starting structure). */
  referencePositions?: ArrayLike<number>;
  /** Temperature ceiling as a multiple of the target (default 5); the ceiling is at least 1000 K. */
  runawayFactor?: number;
  /** NVE only: allowed |E_tot − E_tot(0)| per atom, eV (default 0.05). */
  maxDriftPerAtom?: number;
}

/** What a trip reports: a sentence for a person, and the quantity that failed. */
export interface Collapse {
  kind: 'bond' | 'temperature' | 'energy';
  message: string;
  step: number;
  timePs: number;
}

export interface WatchdogContext {
  thermostat: ThermostatKind;
  /** The thermostat target, K (for NVE: the temperature of the initial velocities). */
  temperature: number;
  /** E_tot at step 0, eV (for the NVE drift; default: the simulation's energy when the watchdog is made). */
  startEnergy?: number;
}

export function atomLabel(z: ArrayLike<number>, i: number): string {
  return `${symbolOf(z[i])}${i}`;
}

export class Watchdog {
  readonly bonds: readonly Bond[];
  readonly referenceLengths: Float64Array;
  readonly tolerance: number;
  readonly ceiling: number;
  readonly maxDrift: number;
  readonly startEnergy: number;
  private readonly checkDrift: boolean;
  private readonly ceilingRule: string;

  constructor(sim: Simulation, context: WatchdogContext, options: WatchdogOptions = {}) {
    const z = sim.atoms.z;
    const ref = options.referencePositions ?? sim.atoms.positions;
    if (ref.length !== 3 * z.length) throw new RangeError(`watchdog: ${z.length} atoms but ${ref.length} reference coordinates`);
    this.bonds = options.bonds ?? findBonds(z, ref, { skin: ASE_NEIGHBORLIST_SKIN });
    this.referenceLengths = Float64Array.from(this.bonds, ([i, j]) => distance(ref, i, j));
    this.tolerance = options.bondTolerance ?? DEFAULT_BOND_TOLERANCE;
    if (!(this.tolerance > 0)) throw new RangeError(`watchdog: bond tolerance must be > 0 Å, got ${this.tolerance}`);
    const factor = options.runawayFactor ?? DEFAULT_RUNAWAY_FACTOR;
    this.ceiling = Math.max(factor * context.temperature, RUNAWAY_FLOOR_K);
    this.ceilingRule = `the larger of ${factor} × ${context.temperature} K and ${RUNAWAY_FLOOR_K} K`;
    this.maxDrift = (options.maxDriftPerAtom ?? DEFAULT_MAX_DRIFT_PER_ATOM) * z.length;
    this.checkDrift = context.thermostat === 'nve';
    this.startEnergy = context.startEnergy ?? sim.totalEnergy();
  }

  /** The first bond outside its tolerance, described, or null. NaN lengths count as broken. */
  brokenBond(sim: Simulation): string | null {
    const x = sim.atoms.positions;
    for (let b = 0; b < this.bonds.length; b++) {
      const [i, j] = this.bonds[b];
      const l = distance(x, i, j);
      const l0 = this.referenceLengths[b];
      if (!(Math.abs(l - l0) <= this.tolerance)) {
        const z = sim.atoms.z;
        return (
          `bond ${atomLabel(z, i)}–${atomLabel(z, j)} (atoms ${i} and ${j}, 0-based) is ${l.toFixed(3)} Å against ` +
          `${l0.toFixed(3)} Å at the start (more than ${this.tolerance} Å off, MDsim's criterion)`
        );
      }
    }
    return null;
  }

  /** Whether the molecule has come apart or the run has gone wrong; null while all is well. */
  check(sim: Simulation): Collapse | null {
    const at = (kind: Collapse['kind'], what: string): Collapse => {
      const timePs = timeInPs(sim.step, sim.integrator.dt);
      return { kind, step: sim.step, timePs, message: `collapsed at ${timePs} ps (step ${sim.step}): ${what}` };
    };
    const bond = this.brokenBond(sim);
    if (bond) return at('bond', bond);
    const t = sim.temperature();
    if (!this.checkDrift && t > this.ceiling) {
      return at('temperature', `temperature ${t.toFixed(0)} K ran away (ceiling ${this.ceiling.toFixed(0)} K: ${this.ceilingRule})`);
    }
    if (this.checkDrift) {
      const drift = sim.totalEnergy() - this.startEnergy;
      if (!(Math.abs(drift) <= this.maxDrift)) {
        return at(
          'energy',
          `total energy drifted by ${drift >= 0 ? '+' : ''}${drift.toFixed(3)} eV from ${this.startEnergy.toFixed(3)} eV in NVE ` +
            `(tolerance ${this.maxDrift.toPrecision(3)} eV = ${(this.maxDrift / sim.atoms.count).toPrecision(3)} eV/atom); the time step or the model does not conserve energy`,
        );
      }
    }
    return null;
  }
}
