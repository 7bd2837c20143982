/**
 * The MD17 simulation benchmark (MDsim protocol, ET-OREO's Table 2 metrics): runner, protocol,
 * molecules, results files and the markdown table.
 */
export {
  runBenchmark,
  openBenchmarkModel,
  type BenchmarkOptions,
  type BenchmarkHooks,
  type BenchmarkOutcome,
  type BenchmarkModel,
  type SeedProgress,
} from './runner.js';
export { MD17_MOLECULES, MOLECULE_LABELS, parseMolecule, bundledMd17Files, type Md17Molecule, type Md17Files } from './molecules.js';
export { MDSIM_MD17_PROTOCOL, DEFAULT_BASE_SEED, DEFAULT_SEEDS, seedValues, startFrameIndex, evenlySpacedIndices } from './protocol.js';
export {
  BENCHMARK_FORMAT,
  BENCHMARK_VERSION,
  MANIFEST_FILE,
  RESULTS_FILE,
  TABLE_FILE,
  readManifest,
  readPreviousResults,
  type BenchmarkManifest,
  type BenchmarkResults,
  type BenchmarkSummary,
  type ForceMaeResult,
  type SeedResult,
  type SeedStatus,
} from './results.js';
export { renderTable, modelLabel } from './table.js';
export { meanStd, formatMeanStd, type MeanStd } from './stats.js';
export { PUBLISHED_TABLE2, PUBLISHED_REFERENCE, PUBLISHED_MISSING_NOTE, type PublishedRow } from './published.js';
