/**
 * Property models on disk: src/model/heads/property-file.ts's bytes, written atomically and read
 * with messages naming the file. What kind of model a file holds is told by src/model/load.ts.
 */
import type { DType } from '../../engine/index.js';
import { readInputFile } from '../../io/read.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { readOreoHeader } from '../load.js';
import { kindOfHeader } from '../open.js';
import type { PropertyModel, PropertyHead } from './property.js';
import { serializePropertyModel, parsePropertyModel } from './property-file.js';

export { serializePropertyModel, parsePropertyModel } from './property-file.js';

export function savePropertyModel(m: PropertyModel, path: string): void {
  writeFileAtomic(path, serializePropertyModel(m));
}

export function loadPropertyModel(path: string, options: { dtype?: DType } = {}): PropertyModel {
  return parsePropertyModel(readInputFile(path), path, options);
}

/**
 * The head of a property model file without reading its tensors, or null for anything else
 * (energy models, TorchMD-Net checkpoints, unreadable files: those are left to the loader to explain).
 */
export function readPropertyHead(path: string): PropertyHead | null {
  const header = readOreoHeader(path);
  return header && kindOfHeader(header) === 'property' ? (header.head as PropertyHead) : null;
}
