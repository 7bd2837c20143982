/**
 * Options every reader understands (each uses the ones that apply to its format). Units given
 * here override a format's default only where the format itself does not fix them (xyz, npz).
 */
import type { InputError } from '../errors.js';
import type { Conformation, ConformationKind } from './conformation.js';

export interface ReadOptions {
  /** Report a bad record through `onBad` and go on with the others, instead of stopping. */
  skipBad?: boolean;
  onBad?: (err: InputError) => void;
  /** Label every conformation with this kind. */
  kind?: ConformationKind;
  /** Name to store as each conformation's `source`; default the file path. */
  source?: string;
  /** Energy unit of the file (a key of units.energyUnits), for formats that do not state it. */
  energyUnit?: string;
  /** Length unit of the file (a key of units.lengthUnits), for formats that do not state it. */
  lengthUnit?: string;
  /** The file's "forces" are gradients (+∇E) and must be negated. */
  forcesAreGradients?: boolean;
  /** ANI-1x: level of theory whose energy/forces to read (default wb97x_dz). */
  level?: string;
  /** rMD17: read the original MD17 labels (old_energies/old_forces). */
  oldLabels?: boolean;
  /** Stop after this many conformations. */
  limit?: number;
}

/** Collects records skipped with `skipBad`; a small helper for readers. */
export function reportOrThrow(err: unknown, options: ReadOptions): void {
  if (options.skipBad && err instanceof Error && err.name === 'InputError') {
    options.onBad?.(err as InputError);
    return;
  }
  throw err;
}

/**
 * One conformation per item, read by `read`; an item it refuses is skipped or thrown as
 * `options.skipBad` says, and at most `options.limit` are returned.
 */
export function readEach<T>(items: readonly T[], options: ReadOptions, read: (item: T, i: number) => Conformation): Conformation[] {
  const out: Conformation[] = [];
  items.forEach((item, i) => {
    try {
      out.push(read(item, i));
    } catch (err) {
      reportOrThrow(err, options);
    }
  });
  return options.limit !== undefined ? out.slice(0, options.limit) : out;
}
