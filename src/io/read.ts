/**
 * Read a whole input file, or fail with an InputError that names it and says why in words a
 * user can act on ('file not found' rather than a bare ENOENT stack).
 */
import { readFileSync } from 'node:fs';
import { InputError } from '../errors.js';

export function readInputFile(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(path, code === 'ENOENT' ? 'file not found' : `cannot read (${code ?? (e as Error).message})`);
  }
}
