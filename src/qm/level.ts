/**
 * Level of theory of a label, from a reference calculator's description: a readable name
 * ("GFN2-xTB") and a key that changes whenever anything that changes the numbers does (program
 * version, accuracy, electronic temperature, solvent, …), so labels made with different settings
 * are never pooled by accident. Charge and spin are properties of the molecule, not of the level,
 * and are left out of the key.
 */
import type { ReferenceDescription } from './reference.js';

export interface LevelOfTheory {
  /** Method as the calculator names it, e.g. "GFN2-xTB" or "ANI-2x (ωB97X/6-31G(d))". */
  name: string;
  /** Stable key: name, program and version, and the settings that change results. */
  key: string;
  description: ReferenceDescription;
}

const PER_MOLECULE = new Set(['charge', 'unpaired']);

export function levelOfTheory(d: ReferenceDescription): LevelOfTheory {
  const settings = Object.keys(d.settings)
    .filter((k) => !PER_MOLECULE.has(k))
    .sort()
    .map((k) => `${k}=${d.settings[k]}`)
    .join(',');
  const description: ReferenceDescription = { ...d, settings: Object.fromEntries(Object.entries(d.settings).filter(([k]) => !PER_MOLECULE.has(k))) };
  return { name: d.method, key: `${d.method} | ${d.program} ${d.version}${settings ? ` | ${settings}` : ''}`, description };
}
