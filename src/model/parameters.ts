/**
 * One parameter set for every ET-based model: the hyper-parameters, the named tensors (TorchMD-Net
 * state-dict names), the arithmetic and the metadata, with what every model built on the ET
 * representation does the same way: which tensors train, which elements it may be asked about,
 * and how a batch of structures becomes the representation's input graph. The energy model
 * (`Potential`) and the property model (`PropertyModel`) are both one; the trainer, AdamW and
 * training checkpoints take this type and nothing narrower.
 */
import { Tensor, DType, allocate } from '../engine/index.js';
import type { ETConfig } from './config.js';
import { checkAtomicNumbers, type GraphInput, type Params } from './et.js';
import { isBuffer } from './create.js';
import { neighborPairs } from './neighbors.js';
import { OreoError } from '../errors.js';
import type { StructureBatch } from '../data/batch.js';
import { symbolOf } from '../elements.js';

export type { StructureBatch };

export interface ModelMeta {
  /** Where the model came from (file, format) and anything a model card should carry. */
  [key: string]: unknown;
}

export class ParameterSet {
  constructor(
    readonly config: ETConfig,
    readonly params: Params,
    readonly dtype: DType,
    readonly meta: ModelMeta = {},
  ) {}

  /** Trainable parameters (everything but buffers), in a stable order. */
  trainable(): [string, Tensor][] {
    return [...this.params.entries()].filter(([name]) => !isBuffer(name, this.config));
  }

  parameterCount(): number {
    return this.trainable().reduce((n, [, t]) => n + t.size, 0);
  }

  /** Refuse molecules with elements the model cannot embed or, when it records them, was not trained on. */
  checkElements(z: Int32Array): void {
    checkAtomicNumbers(z, this.config);
    const known = this.meta.elements as number[] | undefined;
    if (known && known.length > 0) {
      const set = new Set(known);
      const missing = [...new Set(z)].filter((x) => !set.has(x));
      if (missing.length > 0) {
        throw new OreoError(`the model was trained on ${known.map(symbolOf).join(', ')} only; this structure has ${missing.map(symbolOf).join(', ')}`);
      }
    }
  }

  /** Check the structures, then build the positions tensor and the neighbour graph. */
  protected graph(b: StructureBatch, requiresGrad: boolean): GraphInput {
    const n = b.z.length;
    if (b.positions.length !== 3 * n) {
      throw new OreoError(`${n} atoms need ${3 * n} coordinates, got ${b.positions.length}`);
    }
    for (let i = 0; i < b.positions.length; i++) {
      if (!Number.isFinite(b.positions[i])) {
        throw new OreoError(`atom ${Math.floor(i / 3)} has a non-finite coordinate (${b.positions[i]})`);
      }
    }
    checkAtomicNumbers(b.z, this.config);
    const mol = b.mol ?? new Int32Array(n);
    const nMol = b.nMol ?? (n > 0 ? mol[n - 1] + 1 : 0);
    const data = allocate(this.dtype, b.positions.length);
    data.set(b.positions);
    const pos = new Tensor(data, [n, 3], requiresGrad);
    const pairs = neighborPairs(b.positions, mol, this.config.cutoff_upper);
    return { z: b.z, pos, mol, nMol, pairs };
  }
}
