/**
 * A model file's bytes as a force field, in any JS engine: the browser gets the bytes over HTTP,
 * so this does what src/model/load.ts does for a path, without touching a file system. The kind
 * (ET, ANI ensemble, TorchMD-Net) is told from the content by src/model/open.ts.
 */
import type { DType } from '../engine/index.js';
import { openModelBytes, type EnergyModel } from '../model/open.js';

export function potentialFromBytes(bytes: Uint8Array, name: string, dtype?: DType): EnergyModel {
  return openModelBytes(bytes, name, { dtype });
}
