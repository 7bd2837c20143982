/**
 * Published MD17 simulation results printed beside oreo's row in table.md and on the terminal:
 * ET-OREO's Table 2 (Feng et al., "May the Force be with You: Unified Force-Centric Pre-Training
 * for 3D Molecular Conformations", NeurIPS 2023). The first four models are the MDsim baselines
 * the paper quotes from Fu et al. ("Forces are not enough"); TorchMDNet, ET-ORO (the paper's
 * label for the forces-only ablation, oreo's `et-ore`) and ET-OREO share one architecture
 * (ET 8 × 256, 6.87M parameters).
 *
 * The cells are strings, as printed, so the paper's rounding survives. They were transcribed
 * from the project's reference copy of the table (the shared `reference/paper-table2.md`).
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

export const PUBLISHED_REFERENCE =
  'Feng et al., "May the Force be with You: Unified Force-Centric Pre-Training for 3D Molecular Conformations", NeurIPS 2023, Table 2';

/**
 * The scale behind the published numbers, so nobody reads oreo's rows as a like-for-like
 * comparison: the direction of each effect carries over, the absolute values do not.
 */
export const PUBLISHED_SCALE =
  'published models: GPUs, full MD17 training sets; TorchMDNet / ET-ORO / ET-OREO are ET 8 × 256 (6.87M parameters), ' +
  'ET-ORO and ET-OREO pre-trained on 15.7M conformations; 300 ps per seed';

function pub(model: string, forceMae: string, stability: string, hrMae: string): PublishedRow {
  return { model: `published: ${model}`, forceMae, stability, hrMae, source: PUBLISHED_REFERENCE };
}

export const PUBLISHED_TABLE2: Readonly<Record<Md17Molecule, readonly PublishedRow[]>> = {
  aspirin: [
    pub('DimeNet', '10.0', '54 (12)', '0.04 (0.00)'),
    pub('GemNet-T', '3.3', '72 (50)', '0.04 (0.02)'),
    pub('GemNet-dT', '5.1', '192 (132)', '0.04 (0.01)'),
    pub('NequIP', '2.3', '300 (0)', '0.02 (0.00)'),
    pub('TorchMDNet', '7.4', '102 (45)', '0.04 (0.00)'),
    pub('ET-ORO', '4.2', '94 (42)', '0.04 (0.00)'),
    pub('ET-OREO', '1.0', '300 (0)', '0.02 (0.00)'),
  ],
  ethanol: [
    pub('DimeNet', '4.2', '26 (10)', '0.15 (0.03)'),
    pub('GemNet-T', '2.1', '169 (98)', '0.10 (0.02)'),
    pub('GemNet-dT', '1.7', '300 (0)', '0.09 (0.00)'),
    pub('NequIP', '1.3', '300 (0)', '0.08 (0.00)'),
    pub('TorchMDNet', '5.6', '121 (34)', '0.12 (0.01)'),
    pub('ET-ORO', '3.1', '300 (0)', '0.10 (0.00)'),
    pub('ET-OREO', '1.0', '300 (0)', '0.03 (0.00)'),
  ],
  naphthalene: [
    pub('DimeNet', '5.7', '85 (68)', '0.10 (0.01)'),
    pub('GemNet-T', '1.5', '8 (2)', '0.13 (0.00)'),
    pub('GemNet-dT', '1.9', '25 (10)', '0.12 (0.01)'),
    pub('NequIP', '1.1', '300 (0)', '0.12 (0.01)'),
    pub('TorchMDNet', '3.3', '50 (20)', '0.12 (0.00)'),
    pub('ET-ORO', '2.0', '25 (9)', '0.11 (0.00)'),
    pub('ET-OREO', '0.9', '300 (0)', '0.03 (0.00)'),
  ],
  salicylic: [
    pub('DimeNet', '9.6', '73 (82)', '0.06 (0.02)'),
    pub('GemNet-T', '4.0', '26 (24)', '0.08 (0.04)'),
    pub('GemNet-dT', '4.0', '94 (109)', '0.07 (0.03)'),
    pub('NequIP', '1.6', '300 (0)', '0.03 (0.00)'),
    pub('TorchMDNet', '4.7', '60 (69)', '0.06 (0.02)'),
    pub('ET-ORO', '2.5', '94 (58)', '0.05 (0.01)'),
    pub('ET-OREO', '0.9', '300 (0)', '0.02 (0.00)'),
  ],
};

/** Why table.md shows no published rows, when a caller passes none. */
export const PUBLISHED_MISSING_NOTE = `No published rows are shown in this table; the reference for the comparison is ${PUBLISHED_REFERENCE}.`;
