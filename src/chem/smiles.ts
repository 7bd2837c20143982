/**
 * Molecules from SMILES: parsing (with the file and line in every error), a canonical identity
 * that does not depend on how the SMILES was written, and 3D conformers from OpenChemLib's
 * conformer generator (torsions from its crystallographic torsion library, explicit hydrogens
 * added, collisions avoided). These are starting geometries, not minima: relax them with a
 * calculator before calling them equilibrium structures.
 *
 * Used by `oreo build`, the corpus pipeline and the polymer dataset, so that one molecule gets
 * the same atoms, order and bonds whichever of them made it.
 */
import { ConformerGenerator, Molecule, Resources } from 'openchemlib';
import { formula } from '../elements.js';
import { InputError, OreoError } from '../errors.js';

/** Where a SMILES came from, so that an error can name it (file and 1-based line, or a label). */
export interface SmilesSource {
  file?: string;
  line?: number;
  /** Column name or record label, e.g. "smiles". */
  field?: string;
}

export interface MoleculeIdentity {
  /** OpenChemLib's canonical isomeric SMILES: the same molecule written two ways gives one string. */
  canonicalSmiles: string;
  /** OpenChemLib's canonical ID code (stereo included); the key molecules are grouped and split by. */
  idcode: string;
  /** Hill formula with hydrogens, e.g. C8H10N4O2. */
  formula: string;
  /** Sum of formal charges, e. */
  charge: number;
  /** Unpaired electrons from radical flags (0 for a closed-shell molecule as written). */
  unpaired: number;
}

export interface Structure3D extends MoleculeIdentity {
  /** The SMILES as given. */
  smiles: string;
  z: Int32Array;
  /** Flat positions, Å. */
  positions: Float64Array;
  /** Bonded atom pairs from the chemical graph, flat [a0, b0, a1, b1, …] (for stability checks). */
  bonds: Int32Array;
  /** Bond orders of `bonds` (1, 2, 3; Kekulé form), for writing SDF. */
  bondOrders: Int32Array;
  /** Which conformer of this molecule (0-based) and the generator seed that made it. */
  conformer: number;
  seed: number;
}

export interface ConformerOptions {
  /** How many distinct conformers to return at most (default 1). Rigid molecules give fewer. */
  count?: number;
  /** Generator seed (default 1): the same seed gives the same structures. */
  seed?: number;
  source?: SmilesSource;
}

let resourcesLoaded = false;

/** OpenChemLib's torsion and bond-length tables, which its conformer generator needs (once per process). */
export function loadConformerResources(): void {
  if (resourcesLoaded) return;
  // The torsion and bond-length tables the conformer generator needs ship with openchemlib.
  Resources.registerFromNodejs();
  resourcesLoaded = true;
}

/**
 * In a browser, where there is no file system: fetch OpenChemLib's resources.json from `url`
 * (oreo serve serves it) before the first `conformersFromSmiles`.
 */
export async function loadConformerResourcesFromUrl(url: string): Promise<void> {
  if (resourcesLoaded) return;
  await Resources.registerFromUrl(url);
  resourcesLoaded = true;
}

function sourceError(source: SmilesSource | undefined, smiles: string, detail: string): Error {
  const text = `'${smiles.length > 80 ? smiles.slice(0, 77) + '…' : smiles}': ${detail}`;
  if (source?.file) {
    const where = [source.line !== undefined ? `line ${source.line}` : '', source.field ? `column '${source.field}'` : ''].filter(Boolean).join(', ');
    return new InputError(source.file, where ? `${where}: ${text}` : text);
  }
  return new OreoError(`SMILES ${text}`);
}

/**
 * Parse one SMILES into an OpenChemLib molecule. Empty strings, syntax errors, dot-separated
 * mixtures and wildcard atoms are refused with the source named.
 */
export function parseSmiles(smiles: string, source?: SmilesSource): Molecule {
  const s = smiles.trim();
  if (!s) throw sourceError(source, smiles, 'empty SMILES');
  if (/\s/.test(s)) throw sourceError(source, smiles, 'SMILES holds whitespace (one molecule per line, name in another column)');
  let mol: Molecule;
  try {
    mol = Molecule.fromSmiles(s);
  } catch (e) {
    throw sourceError(source, smiles, `not a valid SMILES (${(e as Error).message.replace(/^Class\$\w+: /, '')})`);
  }
  if (mol.getAllAtoms() === 0) throw sourceError(source, smiles, 'no atoms');
  const fragments = mol.getFragmentNumbers(new Array<number>(mol.getAllAtoms()).fill(0), false, false);
  if (fragments > 1) throw sourceError(source, smiles, `${fragments} separate fragments; give one molecule per SMILES`);
  for (let a = 0; a < mol.getAllAtoms(); a++) {
    const zAtom = mol.getAtomicNo(a);
    if (zAtom < 1 || zAtom > 118) throw sourceError(source, smiles, `atom ${a + 1} is not an element (atomic number ${zAtom})`);
  }
  return mol;
}

function unpairedOf(mol: Molecule): number {
  let n = 0;
  for (let a = 0; a < mol.getAllAtoms(); a++) {
    const r = mol.getAtomRadical(a);
    if (r === Molecule.cAtomRadicalStateD) n += 1;
    else if (r === Molecule.cAtomRadicalStateT) n += 2;
  }
  return n;
}

/** Atomic numbers of the molecule with all hydrogens made explicit, in OpenChemLib's order. */
function atomicNumbersWithHydrogens(mol: Molecule): number[] {
  const z: number[] = [];
  for (let a = 0; a < mol.getAllAtoms(); a++) {
    z.push(mol.getAtomicNo(a));
    for (let h = mol.getImplicitHydrogens(a); h > 0; h--) z.push(1);
  }
  return z;
}

export function identityOf(mol: Molecule): MoleculeIdentity {
  let charge = 0;
  for (let a = 0; a < mol.getAllAtoms(); a++) charge += mol.getAtomCharge(a);
  return {
    canonicalSmiles: mol.toIsomericSmiles(),
    idcode: mol.getIDCode(),
    formula: formula(atomicNumbersWithHydrogens(mol)),
    charge,
    unpaired: unpairedOf(mol),
  };
}

/** The identity of a SMILES without making coordinates (cheap: for grouping and splitting). */
export function smilesIdentity(smiles: string, source?: SmilesSource): MoleculeIdentity {
  return identityOf(parseSmiles(smiles, source));
}

/** Atoms, coordinates (Å) and the bond graph of an OpenChemLib molecule that has 3D coordinates. */
export function coordinatesOf(conf: Molecule): { z: Int32Array; positions: Float64Array; bonds: Int32Array; bondOrders: Int32Array } {
  const n = conf.getAllAtoms();
  const z = new Int32Array(n);
  const positions = new Float64Array(3 * n);
  for (let a = 0; a < n; a++) {
    z[a] = conf.getAtomicNo(a);
    positions[3 * a] = conf.getAtomX(a);
    positions[3 * a + 1] = conf.getAtomY(a);
    positions[3 * a + 2] = conf.getAtomZ(a);
  }
  const nb = conf.getAllBonds();
  const bonds = new Int32Array(2 * nb);
  const bondOrders = new Int32Array(nb);
  for (let b = 0; b < nb; b++) {
    bonds[2 * b] = conf.getBondAtom(0, b);
    bonds[2 * b + 1] = conf.getBondAtom(1, b);
    bondOrders[b] = conf.getBondOrder(b);
  }
  return { z, positions, bonds, bondOrders };
}

function structureOf(conf: Molecule, smiles: string, identity: MoleculeIdentity, conformer: number, seed: number): Structure3D {
  return { ...identity, smiles, ...coordinatesOf(conf), conformer, seed };
}

/**
 * Up to `count` distinct 3D conformers of one molecule (hydrogens explicit). The first is the
 * generator's most likely torsion set; further ones are new torsion combinations, so a rigid
 * molecule yields fewer than asked. Refuses what cannot be embedded, naming the source.
 */
export function conformersFromSmiles(smiles: string, options: ConformerOptions = {}): Structure3D[] {
  const count = options.count ?? 1;
  const seed = options.seed ?? 1;
  if (!Number.isInteger(count) || count < 1) throw new OreoError(`conformer count must be an integer ≥ 1, got ${count}`);
  if (!Number.isSafeInteger(seed)) throw new OreoError(`conformer seed must be an integer, got ${seed}`);
  const mol = parseSmiles(smiles, options.source);
  const identity = identityOf(mol);
  loadConformerResources();
  const generator = new ConformerGenerator(seed);
  const out: Structure3D[] = [];
  if (count === 1) {
    const one = generator.getOneConformerAsMolecule(mol.getCompactCopy());
    if (one) out.push(structureOf(one, smiles, identity, 0, seed));
  } else {
    const template = mol.getCompactCopy();
    if (generator.initializeConformers(template, { strategy: ConformerGenerator.STRATEGY_LIKELY_RANDOM })) {
      for (let k = 0; k < count; k++) {
        const next = generator.getNextConformerAsMolecule();
        if (!next) break;
        out.push(structureOf(next, smiles, identity, k, seed));
      }
    }
  }
  if (out.length === 0) {
    throw sourceError(options.source, smiles, `the conformer generator found no 3D structure (seed ${seed}); try another seed`);
  }
  return out;
}
