/**
 * What a model is for: the training composition recorded in a model file's metadata (its card),
 * and the warning given before a molecule-specific model is run on a molecule it never saw.
 *
 * A model fine-tuned on one molecule (rMD17 aspirin, a user's 64 frames of caffeine) knows that
 * molecule's potential energy surface and nothing else; on another molecule its forces are
 * numbers without meaning, and MD with them tears the molecule apart. The composition is stored
 * as formulas (the atoms of a molecule, which is what the model's input is) with conformation
 * counts, so a run can compare the structure it is given against it before the first step.
 */
import { formula } from '../elements.js';

export interface TrainingComposition {
  /** Conformations the model was trained on (after caps and weights). */
  conformations: number;
  /** Distinct compositions (Hill formulas) among them: the number of molecules, up to isomers. */
  molecules: number;
  /** Formula → conformations, the most frequent first, at most MAX_LISTED. */
  formulas: Record<string, number>;
  /** True when more formulas were seen than are listed. */
  truncated: boolean;
  /** Trained on at most SPECIFIC_MAX molecules: a molecule-specific model. */
  specific: boolean;
  /** Where the list came from, when not from the training set itself (e.g. added to a bundled model later). */
  note?: string;
}

export const MAX_LISTED = 200;
export const SPECIFIC_MAX = 3;

export function compositionOf(conformations: Iterable<{ z: ArrayLike<number> }>, note?: string): TrainingComposition {
  const counts = new Map<string, number>();
  let n = 0;
  for (const c of conformations) {
    const f = formula(c.z);
    counts.set(f, (counts.get(f) ?? 0) + 1);
    n++;
  }
  const sorted = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const out: TrainingComposition = {
    conformations: n,
    molecules: counts.size,
    formulas: Object.fromEntries(sorted.slice(0, MAX_LISTED)),
    truncated: sorted.length > MAX_LISTED,
    specific: counts.size > 0 && counts.size <= SPECIFIC_MAX,
  };
  if (note) out.note = note;
  return out;
}

function isComposition(x: unknown): x is TrainingComposition {
  const c = x as TrainingComposition;
  return !!c && typeof c === 'object' && typeof c.formulas === 'object' && c.formulas !== null && typeof c.specific === 'boolean';
}

/**
 * Why this model may not suit the structure `z`, or null: a molecule-specific model given another
 * molecule, or a general model given a molecule outside a complete list of what it saw.
 */
export function applicabilityWarning(meta: Record<string, unknown>, z: ArrayLike<number>, modelName = 'the model'): string | null {
  const c = meta.composition;
  if (!isComposition(c)) return null;
  const f = formula(z);
  if (f in c.formulas) return null;
  const listed = Object.entries(c.formulas);
  const seen = listed.slice(0, 5).map(([k, v]) => `${k} (${v} conformations)`).join(', ') + (listed.length > 5 ? `, … ${c.molecules} in all` : '');
  if (c.specific) {
    return (
      `${modelName} is molecule-specific: trained on ${seen} only, but this structure is ${f}. ` +
      'Its energies and forces mean nothing for another molecule (expect MD to come apart); fine-tune it on this molecule first'
    );
  }
  if (!c.truncated) {
    return `${f} is not among the ${c.molecules} molecules ${modelName} was trained on (${seen}); check its forces (oreo eval against reference labels) before trusting MD with it`;
  }
  return null;
}
