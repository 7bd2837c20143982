/**
 * 3D structures of polymer chains: OpenChemLib's conformer generator (torsions from its
 * crystallographic torsion library, explicit hydrogens added, collisions avoided) gives a first
 * geometry, which a reference calculator then relaxes with its own optimiser.
 */
import { ConformerGenerator, type Molecule } from 'openchemlib';
import { coordinatesOf, loadConformerResources } from '../chem/smiles.js';
import { formula } from '../elements.js';
import { OreoError } from '../errors.js';
import type { OptimizeResult, ReferenceCalculator } from '../qm/reference.js';
import { type EndCap, polymerMolecule } from './build.js';

export interface PolymerStructure {
  /** Repeat-unit SMILES with its two [*]. */
  unitSmiles: string;
  loops: number;
  cap: EndCap;
  /** SMILES of the whole capped chain. */
  smiles: string;
  /** Hill formula, e.g. C16H34. */
  formula: string;
  z: Int32Array;
  /** Flat positions, Å. */
  positions: Float64Array;
  /** Bonded atom pairs from the chemical graph, flat [a0, b0, a1, b1, …] (for stability checks). */
  bonds: Int32Array;
}

export interface EmbedOptions {
  cap?: EndCap;
  /** Seed of the conformer generator (default 1): the same seed gives the same structure. */
  seed?: number;
}


/** Atomic numbers of the capped chain including its hydrogens, without generating coordinates. */
export function polymerAtomicNumbers(unitSmiles: string, loops: number, cap: EndCap = 'H'): Int32Array {
  const mol = polymerMolecule(unitSmiles, loops, cap);
  const z: number[] = [];
  for (let a = 0; a < mol.getAllAtoms(); a++) {
    z.push(mol.getAtomicNo(a));
    for (let h = mol.getImplicitHydrogens(a); h > 0; h--) z.push(1);
  }
  return Int32Array.from(z);
}

function structureOf(mol: Molecule, unitSmiles: string, loops: number, cap: EndCap, smiles: string): PolymerStructure {
  const { z, positions, bonds } = coordinatesOf(mol);
  return { unitSmiles, loops, cap, smiles, formula: formula(z), z, positions, bonds };
}

/** The capped L-mer with 3D coordinates from the conformer generator (not yet relaxed). */
export function embedPolymer(unitSmiles: string, loops: number, options: EmbedOptions = {}): PolymerStructure {
  const cap = options.cap ?? 'H';
  const seed = options.seed ?? 1;
  if (!Number.isSafeInteger(seed)) throw new OreoError(`conformer seed must be an integer, got ${seed}`);
  const mol = polymerMolecule(unitSmiles, loops, cap);
  const smiles = mol.toIsomericSmiles();
  loadConformerResources();
  const conformer = new ConformerGenerator(seed).getOneConformerAsMolecule(mol);
  if (!conformer) {
    throw new OreoError(`could not generate a 3D structure for ${smiles} (${loops} loops of ${unitSmiles}); try another --seed`);
  }
  return structureOf(conformer, unitSmiles, loops, cap, smiles);
}

export interface RelaxOptions {
  /** The optimiser's convergence level in the calculator's terms (xtb: crude … extreme; default loose). */
  level?: string;
  maxCycles?: number;
}

/** A structure relaxed with the calculator's own optimiser; the input is not changed. */
export function relaxStructure(
  s: PolymerStructure,
  calculator: ReferenceCalculator,
  options: RelaxOptions = {},
): { structure: PolymerStructure; relaxation: OptimizeResult } {
  if (!calculator.optimize) throw new OreoError(`${calculator.name} has no geometry optimiser; build without relaxation`);
  const relaxation = calculator.optimize(s.z, s.positions, { level: options.level ?? 'loose', maxCycles: options.maxCycles });
  return { structure: { ...s, positions: relaxation.positions }, relaxation };
}

export interface BuildOptions extends EmbedOptions, RelaxOptions {
  /** Relax with this calculator (its elements are checked before anything else is done). */
  calculator?: ReferenceCalculator;
}

export interface BuiltPolymer {
  structure: PolymerStructure;
  /** Present when a calculator relaxed the structure. */
  relaxation?: OptimizeResult;
}

/**
 * Build, embed and (with a calculator) relax an L-loop chain. Malformed SMILES, L < 1 and elements
 * the calculator cannot handle are refused before any expensive step.
 */
export function buildPolymer(unitSmiles: string, loops: number, options: BuildOptions = {}): BuiltPolymer {
  const calc = options.calculator;
  if (calc) calc.checkElements(polymerAtomicNumbers(unitSmiles, loops, options.cap ?? 'H'));
  const embedded = embedPolymer(unitSmiles, loops, options);
  if (!calc) return { structure: embedded };
  return relaxStructure(embedded, calc, options);
}
