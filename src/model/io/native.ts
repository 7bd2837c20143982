/**
 * oreo's own model file (`.oreo`) on disk: src/model/io/model-file.ts's bytes, written atomically
 * (a temporary sibling, then a rename) and read with a message naming the file.
 */
import type { DType } from '../../engine/index.js';
import type { Potential } from '../potential.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { readInputFile } from '../../io/read.js';
import { serializeModel, parseModel } from './model-file.js';

export { MODEL_FORMAT, serializeModel, parseModel, paramsFromFile } from './model-file.js';

export function saveModel(p: Potential, path: string): void {
  writeFileAtomic(path, serializeModel(p));
}

export function loadModelFile(path: string, options: { dtype?: DType } = {}): Potential {
  return parseModel(readInputFile(path), path, options);
}
