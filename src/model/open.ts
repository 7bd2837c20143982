/**
 * One way into a model, in any JS engine (no Node imports here or below): tell the model kind
 * from the bytes and open it. An oreo `.oreo` file says its kind in its header (`kind:
 * "ani-ensemble"` for an ANI ensemble; a property model has a `head`; an ET has neither); a zip
 * is a TorchMD-Net checkpoint. src/model/load.ts (paths), src/api/model.ts (library),
 * the browser's MD worker (src/web/worker/md-worker.ts) and the CLI all come through here.
 */
import type { DType } from '../engine/index.js';
import { InputError, OreoError } from '../errors.js';
import type { Potential } from './potential.js';
import type { PropertyModel } from './heads/property.js';
import { parseModel, MODEL_FORMAT } from './io/model-file.js';
import { parsePropertyModel } from './heads/property-file.js';
import { loadTorchMDNetBytes } from './io/torchmdnet.js';
import { parseAniBytes, ANI_KIND } from './ani/file.js';
import { AniEnsemble } from './ani/ensemble.js';

export type ModelKind = 'et' | 'property' | 'ani-ensemble' | 'torchmd-net';

/** Either model family oreo runs as a force field. */
export type EnergyModel = Potential | AniEnsemble;

/** A model with its kind: ETs (oreo's own or a TorchMD-Net checkpoint), property models, ANI ensembles. */
export type OpenedModel =
  | { kind: 'et' | 'torchmd-net'; model: Potential }
  | { kind: 'property'; model: PropertyModel }
  | { kind: 'ani-ensemble'; model: AniEnsemble };

export interface OpenOptions {
  /** Arithmetic (default: the precision the file records). */
  dtype?: DType;
}

const MAGIC = 'OREOTNS1';

/** The header of an oreo container (magic, length, JSON) without reading its tensors; null if not one. */
export function peekOreoHeader(bytes: Uint8Array): Record<string, unknown> | null {
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) return null;
  const len = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8, true);
  if (12 + len > bytes.length) return null;
  try {
    return JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + len))) as Record<string, unknown>;
  } catch {
    return null;
  }
}

/**
 * The model kind of a container header. Any other container (a training checkpoint) counts as
 * 'et' so that the ET reader explains what it is instead.
 */
export function kindOfHeader(header: Record<string, unknown>): ModelKind {
  if (header.kind === ANI_KIND) return 'ani-ensemble';
  return header.format === MODEL_FORMAT && header.head ? 'property' : 'et';
}

/** The model kind from a file's first bytes (an oreo header, or a zip's 'PK'); null if neither. */
export function modelKindOfBytes(bytes: Uint8Array): ModelKind | null {
  const header = peekOreoHeader(bytes);
  if (header) return kindOfHeader(header);
  if (bytes[0] === 0x50 && bytes[1] === 0x4b) return 'torchmd-net';
  return null;
}

const NOT_A_MODEL = 'not a model file oreo can read (expected an oreo .oreo model, an ANI ensemble .oreo or a TorchMD-Net .ckpt/.pt)';

/** Open model bytes as whatever model they hold; `name` appears in every error message. */
export function openModel(bytes: Uint8Array, name = 'model bytes', options: OpenOptions = {}): OpenedModel {
  const kind = modelKindOfBytes(bytes);
  switch (kind) {
    case 'ani-ensemble':
      return { kind, model: new AniEnsemble(parseAniBytes(bytes, name), options.dtype ?? (peekOreoHeader(bytes)?.dtype as DType | undefined) ?? 'float32') };
    case 'property':
      return { kind, model: parsePropertyModel(bytes, name, options) };
    case 'et':
      return { kind, model: parseModel(bytes, name, options) };
    case 'torchmd-net':
      return { kind, model: loadTorchMDNetBytes(bytes, name, options) };
    default:
      throw new InputError(name, NOT_A_MODEL);
  }
}

/**
 * The force field an opened model is; a property model is refused, naming what it predicts and
 * where it is used instead.
 */
export function energyModelOf(opened: OpenedModel, name: string): EnergyModel {
  if (opened.kind === 'property') {
    throw new InputError(name, `this is a property model (it predicts '${opened.model.head.target}'), not an energy/force model; use it with oreo predict or oreo eval`, undefined, 'head');
  }
  return opened.model;
}

/** Open model bytes as the force field they hold: an ET Potential or an ANI ensemble. */
export function openModelBytes(bytes: Uint8Array, name: string, options: OpenOptions = {}): EnergyModel {
  return energyModelOf(openModel(bytes, name, options), name);
}

/** For what needs an ET (training, export, benchmarks): refuse an ANI ensemble by name. */
export function requireEt(m: EnergyModel, name: string, purpose = 'this command'): Potential {
  if (m instanceof AniEnsemble) {
    throw new OreoError(`${name}: an ANI ensemble (${m.name}, ${m.levelOfTheory}); ${purpose} needs an ET model (ANI is used as published: predict, simulate, driver, analyze, label)`);
  }
  return m;
}

export { AniEnsemble };
