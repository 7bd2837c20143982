/**
 * One way into a model's bytes, in any JS engine: tell the file's model kind from its content and
 * open it. An oreo `.oreo` file says its kind in its header (`kind: "ani-ensemble"` for an ANI
 * ensemble; an ET has none, a property model has a `head`); a zip is a TorchMD-Net checkpoint.
 * src/model/load.ts (paths), src/api/model.ts (library), src/web/model-bytes.ts (browser) all go
 * through here.
 */
import type { DType } from '../engine/index.js';
import { InputError, OreoError } from '../errors.js';
import type { Potential } from './potential.js';
import { parseModel } from './io/native.js';
import { loadTorchMDNetBytes } from './io/torchmdnet.js';
import { parseAniBytes, ANI_KIND } from './ani/file.js';
import { AniEnsemble } from './ani/ensemble.js';

export type ModelKind = 'et' | 'property' | 'ani-ensemble' | 'torchmd-net';

/** Either model family oreo runs as a force field. */
export type EnergyModel = Potential | AniEnsemble;

/** The header of an oreo container (magic, length, JSON) without reading its tensors; null if not one. */
export function peekOreoHeader(bytes: Uint8Array): Record<string, unknown> | null {
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 8)) !== 'OREOTNS1') return null;
  const len = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8, true);
  if (12 + len > bytes.length) return null;
  try {
    return JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + len))) as Record<string, unknown>;
  } catch {
    return null;
  }
}

/** The model kind of a header peeked with peekOreoHeader. */
export function kindOfHeader(header: Record<string, unknown>): ModelKind {
  if (header.kind === ANI_KIND) return 'ani-ensemble';
  return header.head ? 'property' : 'et';
}

export function modelKindOfBytes(bytes: Uint8Array): ModelKind | null {
  const header = peekOreoHeader(bytes);
  if (header) return kindOfHeader(header);
  if (bytes[0] === 0x50 && bytes[1] === 0x4b) return 'torchmd-net';
  return null;
}

const NOT_A_MODEL = 'not a model file oreo can read (expected an oreo .oreo model, an ANI ensemble .oreo or a TorchMD-Net .ckpt/.pt)';

/** Open model bytes as the force field they hold: an ET Potential or an ANI ensemble. */
export function openModelBytes(bytes: Uint8Array, name: string, options: { dtype?: DType } = {}): EnergyModel {
  const kind = modelKindOfBytes(bytes);
  if (kind === 'ani-ensemble') return new AniEnsemble(parseAniBytes(bytes, name), options.dtype ?? (peekOreoHeader(bytes)?.dtype as DType | undefined) ?? 'float32');
  if (kind === 'et' || kind === 'property') return parseModel(bytes, name, options);
  if (kind === 'torchmd-net') return loadTorchMDNetBytes(bytes, name, options);
  throw new InputError(name, NOT_A_MODEL);
}

/** For what needs an ET (training, export, benchmarks): refuse an ANI ensemble by name. */
export function requireEt(m: EnergyModel, name: string, purpose = 'this command'): Potential {
  if (m instanceof AniEnsemble) {
    throw new OreoError(`${name}: an ANI ensemble (${m.name}, ${m.levelOfTheory}); ${purpose} needs an ET model (ANI is used as published: predict, simulate, driver, analyze, label)`);
  }
  return m;
}

export { AniEnsemble };
