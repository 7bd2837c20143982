/**
 * Building a linear polymer chain from a repeat unit: L copies of the unit joined tail to head,
 * both ends capped, as a molecular graph (OpenChemLib) and as SMILES.
 *
 * The unit's two `[*]` attachment points are stood in for by astatine while the graph is built
 * (OpenChemLib reads `[*]` as a query atom it reports as carbon, so it cannot be told apart from
 * a real carbon); At is monovalent, which is exactly an attachment point, and no polymer here
 * contains it. The chain is assembled on the graph, not by pasting SMILES strings, so any valid
 * unit SMILES works wherever its `[*]` are written.
 *
 * End caps: 'H' (default) replaces each terminal `[*]` by hydrogen, e.g. CK with L=1 is octane;
 * 'CH3' by a methyl group.
 */
import { Molecule } from 'openchemlib';
import { OreoError } from '../errors.js';

export type EndCap = 'H' | 'CH3';
export const END_CAPS: readonly EndCap[] = ['H', 'CH3'];

/** Largest loop count accepted: far beyond what a reference calculator can label. */
export const MAX_LOOPS = 1000;

const PLACEHOLDER_Z = 85; // At

function smilesError(smiles: string, why: string): OreoError {
  return new OreoError(`repeat unit SMILES '${smiles}': ${why}`);
}

/**
 * Checks the text of a repeat-unit SMILES that OpenChemLib would let through (unbalanced
 * branches, disconnected parts, the wrong number of `[*]`) and returns it with each attachment
 * point written as the placeholder `[At]`.
 */
export function markAttachmentPoints(smiles: string): string {
  if (typeof smiles !== 'string' || smiles.trim() === '') throw smilesError(String(smiles), 'is empty');
  if (/\s/.test(smiles.trim())) throw smilesError(smiles, 'contains white space');
  const s = smiles.trim();
  let out = '';
  let depth = 0;
  let points = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '[') {
      const end = s.indexOf(']', i + 1);
      const nextOpen = s.indexOf('[', i + 1);
      if (end < 0 || (nextOpen >= 0 && nextOpen < end)) throw smilesError(s, `'[' at position ${i + 1} is not closed by ']'`);
      const inside = s.slice(i + 1, end);
      if (inside.startsWith('*')) {
        out += '[At]';
        points++;
      } else {
        if (/^\d*At/.test(inside)) throw smilesError(s, 'astatine is not supported in repeat units');
        out += s.slice(i, end + 1);
      }
      i = end;
      continue;
    }
    if (c === ']') throw smilesError(s, `']' at position ${i + 1} without a matching '['`);
    if (c === '*') {
      out += '[At]';
      points++;
      continue;
    }
    if (c === '(') depth++;
    if (c === ')' && --depth < 0) throw smilesError(s, `')' at position ${i + 1} closes no branch`);
    if (c === '.') throw smilesError(s, "has several disconnected parts ('.'); a repeat unit is one connected piece");
    out += c;
  }
  if (depth > 0) throw smilesError(s, `${depth} branch${depth > 1 ? 'es' : ''} opened with '(' never closed`);
  if (points !== 2) throw smilesError(s, `needs exactly two attachment points [*] (head and tail), found ${points}`);
  return out;
}

function cleanOclMessage(err: unknown): string {
  return String((err as Error)?.message ?? err).replace(/^Class\$\S+:\s*/, '');
}

interface ParsedUnit {
  mol: Molecule;
  headDummy: number;
  tailDummy: number;
  headAtom: number;
  tailAtom: number;
}

function parseUnit(smiles: string): ParsedUnit {
  const marked = markAttachmentPoints(smiles);
  let mol: Molecule;
  try {
    mol = Molecule.fromSmiles(marked);
  } catch (err) {
    throw smilesError(smiles, `not valid SMILES: ${cleanOclMessage(err)}`);
  }
  try {
    mol.validate();
  } catch (err) {
    throw smilesError(smiles, `not a valid molecule: ${cleanOclMessage(err)}`);
  }
  mol.ensureHelperArrays(Molecule.cHelperNeighbours);
  const dummies: number[] = [];
  for (let a = 0; a < mol.getAllAtoms(); a++) if (mol.getAtomicNo(a) === PLACEHOLDER_Z) dummies.push(a);
  if (dummies.length !== 2) throw smilesError(smiles, `expected two attachment points after parsing, found ${dummies.length}`);
  if (mol.getAllAtoms() <= 2) throw smilesError(smiles, 'has no atoms besides its attachment points');
  const partner = (d: number): number => {
    if (mol.getAllConnAtoms(d) !== 1) throw smilesError(smiles, 'an attachment point [*] must be bonded to exactly one atom');
    if (mol.getBondOrder(mol.getConnBond(d, 0)) !== 1) throw smilesError(smiles, 'an attachment point [*] must be joined by a single bond');
    const a = mol.getConnAtom(d, 0);
    if (mol.getAtomicNo(a) === PLACEHOLDER_Z) throw smilesError(smiles, 'the two attachment points are bonded to each other');
    return a;
  };
  return { mol, headDummy: dummies[0], tailDummy: dummies[1], headAtom: partner(dummies[0]), tailAtom: partner(dummies[1]) };
}

export function checkLoops(loops: number): void {
  if (!Number.isInteger(loops) || loops < 1) throw new OreoError(`loop count must be an integer ≥ 1, got ${loops}`);
  if (loops > MAX_LOOPS) throw new OreoError(`loop count ${loops} is larger than ${MAX_LOOPS}`);
}

export function checkCap(cap: string): asserts cap is EndCap {
  if (!END_CAPS.includes(cap as EndCap)) throw new OreoError(`unknown end cap '${cap}' (known: ${END_CAPS.join(', ')})`);
}

/**
 * The capped L-mer as an OpenChemLib molecule with implicit hydrogens (no coordinates yet).
 * Throws an OreoError for a malformed unit SMILES, a loop count < 1 or an unknown cap.
 */
export function polymerMolecule(unitSmiles: string, loops: number, cap: EndCap = 'H'): Molecule {
  checkLoops(loops);
  checkCap(cap);
  const unit = parseUnit(unitSmiles);
  const chain = new Molecule(0, 0);
  const maps: number[][] = [];
  for (let k = 0; k < loops; k++) maps.push(chain.addMolecule(unit.mol));
  const remove: number[] = [];
  for (let k = 0; k + 1 < loops; k++) {
    chain.addBond(maps[k][unit.tailAtom], maps[k + 1][unit.headAtom]);
    remove.push(maps[k][unit.tailDummy], maps[k + 1][unit.headDummy]);
  }
  const ends = [maps[0][unit.headDummy], maps[loops - 1][unit.tailDummy]];
  if (cap === 'H') remove.push(...ends);
  // A carbon with one bond: the implicit hydrogens make it a methyl group.
  else for (const e of ends) chain.setAtomicNo(e, 6);
  chain.deleteAtoms(remove);
  chain.ensureHelperArrays(Molecule.cHelperNeighbours);
  return chain;
}

/** SMILES of the capped L-mer (OpenChemLib's canonical isomeric SMILES). */
export function polymerSmiles(unitSmiles: string, loops: number, cap: EndCap = 'H'): string {
  return polymerMolecule(unitSmiles, loops, cap).toIsomericSmiles();
}
