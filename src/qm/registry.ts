/**
 * Reference calculators by name, for the CLI (`--calculator xtb`) and for code that records a
 * calculator in a manifest and must rebuild it later. Options are one flat record so that every
 * command offers the same flags (see src/cli/reference-options.ts); each calculator takes what applies to it.
 */
import { OreoError } from '../errors.js';
import type { ReferenceCalculator } from './reference.js';
import { XtbCalculator, type XtbMethod, type XtbOptions } from './xtb.js';
import { AniReferenceCalculator } from './ani.js';

/**
 * xtb's options (documented in xtb.ts), which every other calculator takes where they apply to
 * it (charge, multiplicity, the time limit), and how many calculations run at once.
 */
export interface ReferenceOptions extends Omit<XtbOptions, 'method'> {
  /** Calculations at once (label --workers): for in-process calculators (ANI), its worker threads. */
  parallel?: number;
}

interface Entry {
  summary: string;
  create(options: ReferenceOptions): ReferenceCalculator;
}

const xtb = (method: XtbMethod) => (o: ReferenceOptions) => new XtbCalculator({ ...o, method });

const entries: Record<string, Entry> = {
  xtb: { summary: 'GFN2-xTB via the xtb program (apt-get install xtb)', create: xtb('gfn2') },
  'gfn2-xtb': { summary: 'same as xtb', create: xtb('gfn2') },
  'gfn1-xtb': { summary: 'GFN1-xTB via the xtb program', create: xtb('gfn1') },
  ani2x: {
    summary: 'ANI-2x ensemble (ωB97X/6-31G(d), bundled models/ani2x.oreo): mean energy and forces, spread recorded; in-process, batched, worker threads',
    create: (o) => new AniReferenceCalculator({ model: 'ani2x', threads: o.parallel, charge: o.charge, unpaired: o.unpaired }),
  },
};

/** Programs an interface is planned for but not written yet: named so that the refusal is clear. */
const planned = ['psi4', 'nwchem'];

export const referenceCalculatorNames: readonly string[] = Object.keys(entries);

export function referenceCalculatorsHelp(): string {
  return Object.entries(entries)
    .map(([k, e]) => `  ${k.padEnd(10)} ${e.summary}`)
    .join('\n');
}

/** A reference calculator by name (case-insensitive), e.g. "xtb" or "gfn1-xtb". */
export function createReferenceCalculator(name: string, options: ReferenceOptions = {}): ReferenceCalculator {
  const key = name.trim().toLowerCase();
  const entry = entries[key];
  if (!entry) {
    const later = planned.includes(key) ? ` (${key} is not supported yet)` : '';
    throw new OreoError(`unknown reference calculator '${name}'${later}; available: ${referenceCalculatorNames.join(', ')}`);
  }
  return entry.create(options);
}
