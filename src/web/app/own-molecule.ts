/**
 * The user's own molecule in the browser: a SMILES turned into 3D by OpenChemLib's conformer
 * generator (the code `oreo build` runs), or an xyz/extxyz/SDF file dropped or chosen, read by
 * oreo's own readers (the units conventions of the CLI: Å, and what the file says otherwise).
 */
import { conformersFromSmiles, loadConformerResourcesFromUrl } from '../../chem/smiles.js';
import { frameToConformation, parseExtxyz } from '../../data/extxyz.js';
import { parseSdf } from '../../data/sdf.js';
import { formula, symbolOf } from '../../elements.js';
import type { Molecule } from './api.js';

let userCount = 0;

function asMolecule(label: string, z: ArrayLike<number>, positions: ArrayLike<number>): Molecule {
  if (z.length === 0) throw new Error(`${label}: no atoms`);
  return {
    id: `user:${++userCount}`,
    label,
    z: Array.from(z),
    symbols: Array.from(z, (x) => symbolOf(x)),
    positions: Array.from(positions),
    formula: formula(z),
  };
}

/** One 3D structure of the SMILES (seeded: the same SMILES gives the same structure). */
export async function moleculeFromSmiles(smiles: string, seed = 1): Promise<Molecule> {
  await loadConformerResourcesFromUrl('/ocl-resources.json');
  const [s] = conformersFromSmiles(smiles, { seed, source: { file: 'SMILES box' } });
  return asMolecule(`${s.formula} from SMILES ${smiles}`, s.z, s.positions);
}

/** The first structure of an xyz/extxyz or SDF/MOL file's text. */
export function moleculeFromFile(name: string, text: string): Molecule {
  const lower = name.toLowerCase();
  if (lower.endsWith('.sdf') || lower.endsWith('.mol') || lower.endsWith('.sd')) {
    const [c] = parseSdf(text, name, { limit: 1 });
    if (!c) throw new Error(`${name}: no molecule in the file`);
    return asMolecule(`${formula(c.z)} from ${name}`, c.z, c.positions);
  }
  if (lower.endsWith('.xyz') || lower.endsWith('.extxyz')) {
    const frames = parseExtxyz(text, name);
    if (!frames.length) throw new Error(`${name}: no frames in the file`);
    const c = frameToConformation(frames[0], name, 0);
    return asMolecule(`${formula(c.z)} from ${name}`, c.z, c.positions);
  }
  throw new Error(`${name}: give an .xyz, .extxyz, .sdf or .mol file`);
}
