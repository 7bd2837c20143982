/**
 * A fixed train / validation (/ test) split of one data file given as frame indices, in the
 * layout TorchMD-Net writes and reads (`splits.npz` with integer arrays `idx_train`, `idx_val`,
 * `idx_test`). It lets a run use exactly the frames another program trained on, e.g. the
 * reference run's `numpy.random.default_rng(1).permutation(1000)` split of rMD17 train_01.
 */
import { readNpzFile, toInt32 } from './npy.js';
import { InputError } from '../errors.js';

export interface SplitIndices {
  train: Int32Array;
  val: Int32Array;
  /** Present when the file has `idx_test`; fine-tuning evaluates on a separate file instead. */
  test?: Int32Array;
}

/**
 * Read and check a splits file against a data file of `nFrames` frames: every index in range,
 * none repeated within a part, and no frame in two parts.
 */
export function readSplitIndices(path: string, nFrames: number): SplitIndices {
  const arrays = readNpzFile(path);
  const part = (name: string, required: boolean): Int32Array | undefined => {
    const a = arrays.get(name);
    if (!a) {
      if (required) throw new InputError(path, `has no array '${name}' (arrays: ${[...arrays.keys()].join(', ') || 'none'}); expected TorchMD-Net's idx_train, idx_val[, idx_test]`, undefined, name);
      return undefined;
    }
    if (a.shape.length !== 1) throw new InputError(path, `must be one-dimensional, has shape [${a.shape.join(', ')}]`, undefined, name);
    const idx = toInt32(a, path, name);
    for (let i = 0; i < idx.length; i++) {
      if (idx[i] < 0 || idx[i] >= nFrames) throw new InputError(path, `index ${idx[i]} at position ${i} is outside the data file's ${nFrames} frames`, undefined, name);
    }
    return idx;
  };
  const train = part('idx_train', true)!;
  const val = part('idx_val', true)!;
  const test = part('idx_test', false);
  if (train.length === 0) throw new InputError(path, 'is empty', undefined, 'idx_train');
  const owner = new Map<number, string>();
  for (const [name, idx] of [['idx_train', train], ['idx_val', val], ['idx_test', test]] as const) {
    if (!idx) continue;
    for (let i = 0; i < idx.length; i++) {
      const prev = owner.get(idx[i]);
      if (prev !== undefined) {
        throw new InputError(path, prev === name ? `frame ${idx[i]} appears twice` : `frame ${idx[i]} is also in ${prev}`, undefined, name);
      }
      owner.set(idx[i], name);
    }
  }
  return { train, val, test };
}
