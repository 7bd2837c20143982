/**
 * A model file's bytes as a Potential, in any JS engine: the browser gets the bytes over HTTP, so
 * this does what src/model/load.ts does for a path, without touching a file system.
 */
import type { DType } from '../engine/index.js';
import { InputError } from '../errors.js';
import { parseModel } from '../model/io/native.js';
import { loadTorchMDNetBytes } from '../model/io/torchmdnet.js';
import type { Potential } from '../model/potential.js';

export function potentialFromBytes(bytes: Uint8Array, name: string, dtype?: DType): Potential {
  const head = new TextDecoder().decode(bytes.subarray(0, 8));
  if (head === 'OREOTNS1') return parseModel(bytes, name, { dtype });
  if (bytes[0] === 0x50 && bytes[1] === 0x4b) return loadTorchMDNetBytes(bytes, name, { dtype });
  throw new InputError(name, 'not a model file oreo can read (expected an oreo .oreo model or a TorchMD-Net .ckpt/.pt)');
}
