/**
 * Building a Simulation from settings (fresh: Maxwell–Boltzmann velocities from the seed, then the
 * integrator continuing the same random stream) or from a checkpoint (exact state). Shared by
 * runSimulation and by callers that step a Simulation themselves (the web app); no file access.
 */
import { Atoms, type AtomsInit, maxwellBoltzmannVelocities } from './atoms.js';
import type { Calculator } from '../calculator.js';
import type { Checkpoint } from './checkpoint.js';
import { createIntegrator } from './integrators/index.js';
import type { ThermostatSettings } from './integrators/types.js';
import { Rng } from '../random.js';
import { Simulation } from './simulation.js';

export interface StartSettings extends ThermostatSettings {
  seed: number;
  /** Temperature of the Maxwell–Boltzmann velocities, K. */
  initTemperature: number;
  zeroMomentum?: boolean;
  zeroAngularMomentum?: boolean;
}

/**
 * A new simulation at step 0. Velocities given in `initial` are kept; otherwise they are drawn
 * from the Maxwell–Boltzmann distribution with the seeded generator, which Langevin then goes on
 * drawing from (so a seed fixes the whole run).
 */
export function createSimulation(initial: AtomsInit, calculator: Calculator, s: StartSettings): Simulation {
  const atoms = new Atoms(initial);
  const rng = new Rng(s.seed);
  if (!initial.velocities) {
    maxwellBoltzmannVelocities(atoms, s.initTemperature, rng, { zeroMomentum: s.zeroMomentum, zeroAngularMomentum: s.zeroAngularMomentum });
  }
  return new Simulation(atoms, calculator, createIntegrator(s, atoms.count, rng));
}

/** The simulation exactly as a checkpoint left it (positions, velocities, forces, thermostat, step). */
export function restoreSimulation(c: Checkpoint, calculator: Calculator): Simulation {
  const atoms = new Atoms({ ...c.atoms, z: c.atoms.z });
  const integrator = createIntegrator(c.settings, atoms.count, new Rng(c.settings.seed), c.integrator);
  return new Simulation(atoms, calculator, integrator, { step: c.step, forces: c.forces, energy: c.energy });
}
