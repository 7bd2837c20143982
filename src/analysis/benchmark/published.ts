/**
 * Published MD17 simulation results to print beside oreo's row in table.md: ET-OREO's Table 2
 * (Feng et al., "May the Force be with You: Unified Force-Centric Pre-Training for 3D Molecular
 * Conformations", NeurIPS 2023), which lists ET-OREO next to the MDsim baselines.
 *
 * The lists are empty on purpose: the paper's numbers could not be retrieved from a source
 * that could be checked while this module was written, and a benchmark table must never show
 * numbers nobody verified. To add them, copy each row from the paper as printed (strings, so
 * "300.0 (0.0)" keeps the paper's rounding) and name the source in `source`.
 */
import type { Md17Molecule } from './molecules.js';

export interface PublishedRow {
  model: string;
  /** meV/Å, as printed. */
  forceMae: string;
  /** ps, as printed (mean (std) when the paper gives one). */
  stability: string;
  hrMae: string;
  /** Where the numbers were copied from (paper, table, version). */
  source: string;
}

export const PUBLISHED_TABLE2: Readonly<Record<Md17Molecule, readonly PublishedRow[]>> = {
  aspirin: [],
  ethanol: [],
  naphthalene: [],
  salicylic: [],
};

export const PUBLISHED_REFERENCE =
  'Feng et al., "May the Force be with You: Unified Force-Centric Pre-Training for 3D Molecular Conformations", NeurIPS 2023, Table 2';

/** Why table.md shows no published rows for a molecule, when it shows none. */
export const PUBLISHED_MISSING_NOTE =
  `The published rows (${PUBLISHED_REFERENCE}: ET-OREO and the MDsim baselines) are not reproduced here: ` +
  'oreo could not retrieve those numbers from a source it could verify, and it does not print numbers it has not checked. ' +
  'Compare with the paper by hand; the protocol below is the one the paper uses (MDsim).';
