/**
 * Repeat units of the polymers in the ET-OREO paper (Table 3), as SMILES with two `[*]`
 * attachment points: the first is the head, the second the tail; an L-loop chain joins the tail
 * of each unit to the head of the next.
 */
import { OreoError } from '../errors.js';

export interface RepeatUnit {
  /** Short name used in file names and manifests. */
  name: string;
  /** SMILES with exactly two attachment points `[*]`. */
  smiles: string;
}

export const PAPER_UNITS: Readonly<Record<string, RepeatUnit>> = {
  CK: { name: 'CK', smiles: '[*]CCCCCCCC[*]' },
  OTH: { name: 'OTH', smiles: '[*]OC(CCC)CCCC([*])=O' },
  LAC1: { name: 'LAC1', smiles: '[*]OCCOCC([*])=O' },
  LAC2: { name: 'LAC2', smiles: '[*]OCCOC(C)C([*])=O' },
};

/**
 * A unit by its Table 3 name (case-insensitive), or a SMILES given directly (anything with a `*`),
 * which is then called `custom<index+1>`.
 */
export function resolveUnit(spec: string, index = 0): RepeatUnit {
  const s = spec.trim();
  if (s.includes('*')) return { name: `custom${index + 1}`, smiles: s };
  const known = PAPER_UNITS[s.toUpperCase()];
  if (!known) {
    throw new OreoError(`unknown repeat unit '${spec}': use one of ${Object.keys(PAPER_UNITS).join(', ')}, or a SMILES with two [*] ends`);
  }
  return known;
}
