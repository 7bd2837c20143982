/**
 * Property models in oreo's model file (`.oreo`). The container and header are those of an
 * energy model (format "oreo-model", the ET config, dtype, meta) plus a `head` object
 * (PropertyHead: type, target, unit, reduce, mean, std). Tensors are the encoder's
 * `representation_model.*` and the head's `head.*`; there is no energy head, so a reader that
 * predates property models fails on the missing `output_model.*` instead of running it as a force
 * field. Energy-model loading (native.ts) refuses a file with a `head`; this loader refuses a file
 * without one. Bytes in, bytes out, in any JS engine; src/model/heads/io.ts reads and writes files.
 */
import type { DType } from '../../engine/index.js';
import { ETConfig, configFromHyperParameters } from '../config.js';
import type { ModelMeta } from '../parameters.js';
import { InputError } from '../../errors.js';
import { parseTensors, serializeTensors, NamedTensor } from '../io/tensor-file.js';
import { MODEL_FORMAT, paramsFromFile } from '../io/model-file.js';
import { PropertyModel, PropertyHead, encoderShapes, headShapes, checkHead, NOISE_PREFIX } from './property.js';

export function serializePropertyModel(m: PropertyModel): Uint8Array {
  const tensors = new Map<string, NamedTensor>();
  for (const [name, t] of m.params) {
    if (name.startsWith(NOISE_PREFIX + '.')) continue;
    tensors.set(name, { dtype: t.dtype, shape: [...t.shape], data: t.data });
  }
  return serializeTensors({ format: MODEL_FORMAT, version: 2, dtype: m.dtype, config: m.config, head: m.head, meta: m.meta }, tensors);
}

export function parsePropertyModel(bytes: Uint8Array, file: string, options: { dtype?: DType } = {}): PropertyModel {
  const { header, tensors } = parseTensors(bytes, file);
  if (header.format !== MODEL_FORMAT) throw new InputError(file, `expected an oreo model, found '${String(header.format)}'`);
  if (header.kind === 'ani-ensemble') throw new InputError(file, 'an ANI ensemble (energies and forces), not a property model', undefined, 'kind');
  if (!header.head || typeof header.head !== 'object') {
    throw new InputError(file, 'this is an energy/force model, not a property model: fine-tune it with `oreo finetune --task property --target KEY --from` this file first', undefined, 'head');
  }
  const head = header.head as PropertyHead;
  try {
    checkHead(head, file);
  } catch (e) {
    throw new InputError(file, (e as Error).message.replace(`${file}: `, ''), undefined, 'head');
  }
  const cfg: ETConfig = configFromHyperParameters(header.config as Record<string, unknown>, file);
  const dtype: DType = options.dtype ?? (header.dtype as DType) ?? 'float32';
  const shapes = new Map([...encoderShapes(cfg), ...headShapes(head.type, cfg.embedding_dimension)]);
  const params = paramsFromFile(file, tensors, shapes, dtype);
  return new PropertyModel(cfg, params, dtype, { ...head }, (header.meta as ModelMeta) ?? {});
}
