/**
 * Conformations batched the way TorchMD-Net batches graphs: all atoms of all molecules in flat
 * arrays, with `mol[i]` the molecule each atom belongs to.
 *
 * Labels can be missing for some molecules of a batch (equilibrium structures from PCQM4Mv2 have
 * no energy); missing values are NaN and the masks say which are real.
 */
import type { Conformation, ConformationKind } from './conformation.js';

/**
 * What a model takes: atoms of one or more structures, molecule after molecule. The one
 * structure-batch record: labelled training batches (`Batch`) and packed prediction inputs
 * (`PackedStructures`) are this with more fields.
 */
export interface StructureBatch {
  /** Atomic numbers of all atoms, molecule after molecule. */
  z: Int32Array;
  /** Positions, flat [x,y,z] per atom, Å. */
  positions: Float64Array;
  /** Molecule index (0..nMol−1) of each atom (grouped); omit for a single molecule. */
  mol?: Int32Array;
  nMol?: number;
}

export interface Batch extends StructureBatch {
  mol: Int32Array;
  nMol: number;
  /** First atom of molecule m is atomOffset[m]; atomOffset[nMol] = total atoms. */
  atomOffset: Int32Array;
  /** Energy per molecule, eV (NaN where missing); present when any molecule has one. */
  energy?: Float64Array;
  /** 1 where energy[m] is a real label. */
  energyMask?: Uint8Array;
  /** Forces per atom, eV/Å (NaN where the molecule has none); present when any molecule has them. */
  forces?: Float64Array;
  /** 1 where molecule m has force labels. */
  forcesMask?: Uint8Array;
  /** Kind of each molecule. */
  kind: ConformationKind[];
  /** Per-molecule scalar properties by name (NaN where missing). */
  props?: Record<string, Float64Array>;
  /** Where each molecule came from (source, index), for tracing a bad prediction back. */
  source: (string | undefined)[];
  index: Int32Array;
}

/** Structures packed for one model call: the geometry part of a Batch, without labels. */
export interface PackedStructures extends StructureBatch {
  // Own (non-shared) buffers, so that they can be transferred to a worker thread.
  z: Int32Array<ArrayBuffer>;
  positions: Float64Array<ArrayBuffer>;
  mol: Int32Array<ArrayBuffer>;
  nMol: number;
  /** First atom of structure m is atomOffset[m]; atomOffset[nMol] = total atoms. */
  atomOffset: Int32Array;
}

/**
 * Several structures as one model input (atoms molecule after molecule, `mol` naming each atom's
 * structure): what every batched prediction (predict, the library, the labellers) hands a model.
 * Positions must already be flat (3 values an atom).
 */
export function packStructures(structures: readonly { z: ArrayLike<number>; positions: ArrayLike<number> }[]): PackedStructures {
  const nMol = structures.length;
  const atomOffset = new Int32Array(nMol + 1);
  for (let m = 0; m < nMol; m++) atomOffset[m + 1] = atomOffset[m] + structures[m].z.length;
  const n = atomOffset[nMol];
  const z = new Int32Array(n);
  const positions = new Float64Array(3 * n);
  const mol = new Int32Array(n);
  structures.forEach((s, m) => {
    const a = atomOffset[m];
    if (s.positions.length !== 3 * s.z.length) throw new Error(`packStructures: structure ${m} has ${s.z.length} atoms but ${s.positions.length} position values`);
    z.set(s.z, a);
    positions.set(s.positions, 3 * a);
    mol.fill(m, a, atomOffset[m + 1]);
  });
  return { z, positions, mol, nMol, atomOffset };
}

/**
 * The kind of a conformation: its own label, else "off-equilibrium" when it carries forces (a
 * sample off the minimum) and "equilibrium" when it does not.
 */
export function kindOf(c: Conformation): ConformationKind {
  return c.kind ?? (c.forces ? 'off-equilibrium' : 'equilibrium');
}

export function makeBatch(confs: Conformation[]): Batch {
  const nMol = confs.length;
  const atomOffset = new Int32Array(nMol + 1);
  for (let m = 0; m < nMol; m++) atomOffset[m + 1] = atomOffset[m] + confs[m].z.length;
  const nAtoms = atomOffset[nMol];
  const z = new Int32Array(nAtoms);
  const positions = new Float64Array(nAtoms * 3);
  const mol = new Int32Array(nAtoms);
  const anyEnergy = confs.some((c) => c.energy !== undefined);
  const anyForces = confs.some((c) => c.forces !== undefined);
  const energy = anyEnergy ? new Float64Array(nMol).fill(NaN) : undefined;
  const energyMask = anyEnergy ? new Uint8Array(nMol) : undefined;
  const forces = anyForces ? new Float64Array(nAtoms * 3).fill(NaN) : undefined;
  const forcesMask = anyForces ? new Uint8Array(nMol) : undefined;
  const propNames = new Set<string>();
  for (const c of confs) if (c.props) for (const k of Object.keys(c.props)) propNames.add(k);
  const props: Record<string, Float64Array> = {};
  for (const k of propNames) props[k] = new Float64Array(nMol).fill(NaN);
  const kind: ConformationKind[] = new Array(nMol);
  const source: (string | undefined)[] = new Array(nMol);
  const index = new Int32Array(nMol);
  for (let m = 0; m < nMol; m++) {
    const c = confs[m];
    const a0 = atomOffset[m];
    const n = c.z.length;
    if (c.positions.length !== n * 3) throw new Error(`makeBatch: conformation ${m} has ${n} atoms but ${c.positions.length} position values`);
    z.set(c.z, a0);
    positions.set(c.positions, a0 * 3);
    mol.fill(m, a0, a0 + n);
    if (c.energy !== undefined && energy && energyMask) {
      energy[m] = c.energy;
      energyMask[m] = 1;
    }
    if (c.forces && forces && forcesMask) {
      if (c.forces.length !== n * 3) throw new Error(`makeBatch: conformation ${m} has ${n} atoms but ${c.forces.length} force values`);
      forces.set(c.forces, a0 * 3);
      forcesMask[m] = 1;
    }
    if (c.props) for (const [k, v] of Object.entries(c.props)) props[k][m] = v;
    kind[m] = kindOf(c);
    source[m] = c.source;
    index[m] = c.index ?? -1;
  }
  return withLabels({ z, positions, mol, nMol, atomOffset, kind, source, index }, { energy, energyMask, forces, forcesMask, props });
}

/**
 * `b` with the labels that exist (energies and forces, each with its mask) and the named
 * properties, when there are any: an absent label stays absent rather than an empty array.
 */
export function withLabels(b: Batch, l: Pick<Batch, 'energy' | 'energyMask' | 'forces' | 'forcesMask' | 'props'>): Batch {
  if (l.energy) {
    b.energy = l.energy;
    b.energyMask = l.energyMask;
  }
  if (l.forces) {
    b.forces = l.forces;
    b.forcesMask = l.forcesMask;
  }
  if (l.props && Object.keys(l.props).length) b.props = l.props;
  return b;
}

/** Split a list into batches of at most `batchSize` molecules (the last one may be smaller). */
export function* batches(confs: Conformation[], batchSize: number): Generator<Batch> {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batch size must be a positive integer, got ${batchSize}`);
  for (let i = 0; i < confs.length; i += batchSize) yield makeBatch(confs.slice(i, i + batchSize));
}
