/**
 * Simulation analysis, MDsim style: force errors, bond stability, h(r), RMSD, reports.
 * Everything works on in-memory frames (flat Float64Array positions in Å) so that the benchmark
 * runner can use it without files; io.ts reads `oreo simulate` folders and reference sets.
 */
export { findBonds, bondLengths, meanBondLengths, distance, ASE_NEIGHBORLIST_SKIN, type Bond, type BondOptions } from './bonds.js';
export { binEdges, binCentres, DistanceHistogram, hr, hrMae, MDSIM_HR_BINS, type HrBins } from './hr.js';
export {
  bondStability,
  mdsimBondStability,
  hrStability,
  stabilityTime,
  MDSIM_BOND_THRESHOLD,
  type BondStability,
  type BondStabilityOptions,
  type HrStability,
  type HrStabilityOptions,
} from './stability.js';
export { kabsch, superposedRmsd, rmsdSeries, symmetricEigen, type Superposition } from './rmsd.js';
export { forceMae, toMeVPerAngstrom, evaluateCalculator, ForceErrorAccumulator, type ForceErrors } from './forces.js';
export {
  analyzeSimulation,
  prepareReference,
  summarize,
  bondName,
  DEFAULT_HR_THRESHOLD,
  DEFAULT_HR_WINDOW_FRAMES,
  type AnalysisOptions,
  type PreparedReference,
  type SimulationAnalysis,
  type SimulationFrames,
} from './simulation.js';
export {
  readSimulationOutput,
  readReference,
  readThermoCsv,
  parseThermoCsv,
  trajectoryFromFrames,
  checkSameMolecule,
  type SimulationOutput,
  type ThermoTable,
  type TrajectoryData,
} from './io.js';
export { writeReport, metricsObject, reportCharts, type ReportInputs, type ReportOptions, type WrittenReport } from './report.js';
