/**
 * What a saved frame looks like on disk: one extxyz frame in the trajectory (ASE reads it: `energy`
 * and `forces` land in a SinglePointCalculator, `momenta` in ASE units make `get_velocities()`
 * work) and one row of thermo.csv.
 */
import type { ExtxyzFrame } from '../data/extxyz.js';
import { aseTimeInFs } from '../units.js';
import type { Simulation } from './simulation.js';

export const THERMO_HEADER = 'time_ps,Etot_eV,Epot_eV,Ekin_eV,T_K';

/** Simulated time in ps, rounded to 12 significant digits so 0.1-fs steps print as 0.0003, not 0.00030000000000000003. */
export function timeInPs(step: number, dt: number): number {
  return Number(((step * dt) / 1000).toPrecision(12));
}

export function thermoRow(sim: Simulation): string {
  const ekin = sim.kineticEnergy();
  const t = timeInPs(sim.step, sim.integrator.dt);
  return `${t},${sim.energy + ekin},${sim.energy},${ekin},${sim.temperature()}\n`;
}

/**
 * The frame as extxyz data. Per-atom columns: `forces` (eV/Å), `velocities` (Å/fs) and `momenta`
 * (amu·Å per ASE time unit, the array ASE keeps its velocities in). Per-frame: `energy` (potential,
 * eV), `step`, `time_fs`, `Ekin_eV`, `T_K`, and `Econserved_eV` (total plus thermostat energy).
 */
export function trajectoryFrame(sim: Simulation): ExtxyzFrame {
  const { atoms } = sim;
  const momenta = new Float64Array(atoms.velocities.length);
  for (let i = 0; i < atoms.count; i++) {
    for (let k = 3 * i; k < 3 * i + 3; k++) momenta[k] = atoms.masses[i] * atoms.velocities[k] * aseTimeInFs;
  }
  const ekin = sim.kineticEnergy();
  const frame: ExtxyzFrame = {
    z: atoms.z,
    positions: atoms.positions,
    info: {
      energy: sim.energy,
      step: sim.step,
      time_fs: Number(sim.time.toPrecision(15)),
      Ekin_eV: ekin,
      T_K: sim.temperature(),
      Econserved_eV: sim.conservedEnergy(),
    },
    arrays: { forces: sim.forces, velocities: atoms.velocities, momenta },
    pbc: atoms.pbc,
  };
  if (atoms.cell) frame.cell = atoms.cell;
  return frame;
}
