/**
 * The four MD17 molecules of the MDsim benchmark (and of ET-OREO's Table 2), and where their
 * revised-MD17 data ship with oreo: `data/rmd17/rmd17_<name>_{train,test}_01.npz`, 1000 frames
 * each, disjoint, same atom order.
 */
import { OreoError } from '../../errors.js';
import { bundledData } from '../../data/bundled.js';

export const MD17_MOLECULES = ['aspirin', 'ethanol', 'naphthalene', 'salicylic'] as const;
export type Md17Molecule = (typeof MD17_MOLECULES)[number];

/** How the papers' tables name each molecule. */
export const MOLECULE_LABELS: Record<Md17Molecule, string> = {
  aspirin: 'Aspirin',
  ethanol: 'Ethanol',
  naphthalene: 'Naphthalene',
  salicylic: 'Salicylic acid',
};

// Names a user may reasonably type for the same molecule (MDsim's config is salicylic_acid.yml).
const ALIASES: Record<string, Md17Molecule> = {
  'salicylic-acid': 'salicylic',
  salicylic_acid: 'salicylic',
  salicylicacid: 'salicylic',
};

/** The canonical molecule name, or an OreoError listing the four that the benchmark knows. */
export function parseMolecule(name: string): Md17Molecule {
  const key = name.trim().toLowerCase();
  if ((MD17_MOLECULES as readonly string[]).includes(key)) return key as Md17Molecule;
  const alias = ALIASES[key];
  if (alias) return alias;
  throw new OreoError(`unknown MD17 benchmark molecule '${name}' (choose one of: ${MD17_MOLECULES.join(', ')})`);
}

export interface Md17Files {
  /** Labelled frames the simulations start from and the force MAE is measured on. */
  test: string;
  /** All bundled frames of the molecule: the reference for bond lengths and h(r). */
  reference: string[];
}

/** The bundled rMD17 files of a molecule (split 01). */
export function bundledMd17Files(molecule: Md17Molecule): Md17Files {
  const file = (part: string) => bundledData('rmd17', `rmd17_${molecule}_${part}_01.npz`);
  return { test: file('test'), reference: [file('train'), file('test')] };
}
