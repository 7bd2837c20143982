/**
 * 3D structures of polymer chains: OpenChemLib's conformer generator (torsions from its
 * crystallographic torsion library, explicit hydrogens added, collisions avoided) gives a first
 * geometry, which a reference calculator then relaxes with its own optimiser.
 */
import { ConformerGenerator, type Molecule, Resources } from 'openchemlib';
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

let resourcesLoaded = false;

function loadResources(): void {
  if (resourcesLoaded) return;
  // The torsion and bond-length tables the conformer generator needs ship with openchemlib.
  Resources.registerFromNodejs();
  resourcesLoaded = true;
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
  const n = mol.getAllAtoms();
  const z = new Int32Array(n);
  const positions = new Float64Array(3 * n);
  for (let a = 0; a < n; a++) {
    z[a] = mol.getAtomicNo(a);
    positions[3 * a] = mol.getAtomX(a);
    positions[3 * a + 1] = mol.getAtomY(a);
    positions[3 * a + 2] = mol.getAtomZ(a);
  }
  const nb = mol.getAllBonds();
  const bonds = new Int32Array(2 * nb);
  for (let b = 0; b < nb; b++) {
    bonds[2 * b] = mol.getBondAtom(0, b);
    bonds[2 * b + 1] = mol.getBondAtom(1, b);
  }
  return { unitSmiles, loops, cap, smiles, formula: formula(z), z, positions, bonds };
}

/** The capped L-mer with 3D coordinates from the conformer generator (not yet relaxed). */
export function embedPolymer(unitSmiles: string, loops: number, options: EmbedOptions = {}): PolymerStructure {
  const cap = options.cap ?? 'H';
  const seed = options.seed ?? 1;
  if (!Number.isSafeInteger(seed)) throw new OreoError(`conformer seed must be an integer, got ${seed}`);
  const mol = polymerMolecule(unitSmiles, loops, cap);
  const smiles = mol.toIsomericSmiles();
  loadResources();
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
