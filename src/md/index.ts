/**
 * The browser-safe part of oreo's MD: systems, potentials, integrators, the in-memory Simulation
 * and checkpoint (de)serialisation. File output and resume live in run.ts (Node only).
 */
export * from './atoms.js';
export type { Calculator, EnergyForces } from '../calculator.js';
export * from './checkpoint.js';
export * from './integrators/index.js';
export { trajectoryFrame, thermoRow, THERMO_HEADER, timeInPs } from './output.js';
export { LennardJones } from './potentials/lennard-jones.js';
export { Morse } from './potentials/morse.js';
export { HarmonicBonds, detectBonds } from './potentials/harmonic-bonds.js';
export { analyticPotentials, createAnalyticCalculator, isAnalyticSpec, parseAnalyticSpec } from './potentials/registry.js';
export { Rng, freshSeed, type RngState } from '../random.js';
export { createSimulation, restoreSimulation, type StartSettings } from './setup.js';
export { Simulation, defaultStopLimits, type StopLimits } from './simulation.js';
