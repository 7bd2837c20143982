/**
 * The property a model is trained on: which key of `Conformation.props`, its unit, and its
 * values, checked before any training starts. A key that is not in the data is refused naming
 * the keys that are there, so `--target HOMO` on a file that says `homo` fails at once.
 */
import type { Conformation } from '../../data/conformation.js';
import { PROPERTY_UNITS } from '../../data/inspect.js';
import { OreoError } from '../../errors.js';

/** How many conformations carry each property key. */
export function propertyKeys(confs: Conformation[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const c of confs) for (const k of Object.keys(c.props ?? {})) counts.set(k, (counts.get(k) ?? 0) + 1);
  return counts;
}

function describeKeys(counts: Map<string, number>, total: number): string {
  if (counts.size === 0) return 'the data has no per-molecule properties at all';
  const keys = [...counts.entries()].sort((a, b) => a[0].localeCompare(b[0])).map(([k, n]) => (n === total ? k : `${k} (${n} of ${total})`));
  return `keys in the data: ${keys.join(', ')}`;
}

/** The unit of a property after reading (eV for QM9 energies), or null when oreo does not know it. */
export function propertyUnit(key: string): string | null {
  const u = PROPERTY_UNITS[key];
  return u === undefined || u === '' ? null : u;
}

/**
 * The target values of every conformation, in order. Throws before training when the key is
 * absent, missing from some conformations, or not a finite number.
 */
export function targetValues(confs: Conformation[], target: string, file: string): Float64Array {
  const counts = propertyKeys(confs);
  if (!counts.has(target)) {
    const folded = [...counts.keys()].find((k) => k.toLowerCase() === target.toLowerCase());
    const hint = folded ? ` (did you mean '${folded}'?)` : '';
    throw new OreoError(`${file}: no property '${target}'${hint}; ${describeKeys(counts, confs.length)}`);
  }
  const values = new Float64Array(confs.length);
  confs.forEach((c, i) => {
    const v = c.props?.[target];
    if (v === undefined) {
      throw new OreoError(`${file}: conformation ${c.index ?? i} has no '${target}' (${counts.get(target)} of ${confs.length} have it); remove those records or pick another target`);
    }
    if (!Number.isFinite(v)) throw new OreoError(`${file}: conformation ${c.index ?? i}: '${target}' is ${v}, not a finite number`);
    values[i] = v;
  });
  return values;
}
