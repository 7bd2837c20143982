/**
 * A `torch.save` file on disk, read whole and unpickled by src/model/io/torch-zip.ts (which
 * refuses the legacy non-zip format and anything that is not a checkpoint, naming the file).
 */
import { readInputFile } from '../../io/read.js';
import { readTorchZip } from './torch-zip.js';

export function readTorchFile(path: string): unknown {
  return readTorchZip(readInputFile(path), path);
}
