/**
 * oreo's own model file (`.oreo`): the tensor container of tensor-file.ts with a header holding
 * `format: "oreo-model"`, the ET configuration (TorchMD-Net hyper-parameter names), the compute
 * dtype and free-form metadata (training data, objective, elements seen, energy calibration).
 * Bytes in, bytes out, in any JS engine; src/model/io/native.ts reads and writes files.
 */
import { Tensor, DType } from '../../engine/index.js';
import { ETConfig, configFromHyperParameters } from '../config.js';
import { headShapes, parameterShapes } from '../create.js';
import { checkHeads, headTensorName, type HeadCard } from '../multi-head.js';
import { Potential, ModelMeta } from '../potential.js';
import { InputError } from '../../errors.js';
import { parseTensors, serializeTensors, NamedTensor } from './tensor-file.js';

export const MODEL_FORMAT = 'oreo-model';

export function serializeModel(p: Potential): Uint8Array {
  const tensors = new Map<string, NamedTensor>();
  for (const [name, t] of p.params) tensors.set(name, { dtype: t.dtype, shape: [...t.shape], data: t.data });
  return serializeTensors({ format: MODEL_FORMAT, version: 2, dtype: p.dtype, config: p.config, meta: p.meta }, tensors);
}

export function parseModel(bytes: Uint8Array, file: string, options: { dtype?: DType } = {}): Potential {
  const { header, tensors } = parseTensors(bytes, file);
  if (header.format !== MODEL_FORMAT) {
    throw new InputError(file, `expected an oreo model, found '${String(header.format)}' (a training checkpoint? use its model file)`);
  }
  if (header.kind === 'ani-ensemble') {
    throw new InputError(file, 'an ANI ensemble, not an ET: open it through src/model/open.ts (openModel) or src/model/load.ts', undefined, 'kind');
  }
  // Property models (src/model/heads/io.ts) share the format but have no energy head.
  if (header.head) {
    const target = (header.head as { target?: unknown }).target;
    throw new InputError(file, `this is a property model (it predicts '${String(target)}'), not an energy/force model; use it with oreo predict or oreo eval`, undefined, 'head');
  }
  const cfg: ETConfig = configFromHyperParameters(header.config as Record<string, unknown>, file);
  const dtype: DType = options.dtype ?? (header.dtype as DType) ?? 'float32';
  const meta = (header.meta as ModelMeta) ?? {};
  // A multi-head model (src/model/multi-head.ts): the default head under the standard names, the others under heads.<id>.
  const shapes = parameterShapes(cfg);
  if (meta.heads !== undefined) {
    if (!Array.isArray(meta.heads)) throw new InputError(file, 'meta.heads must be a list of heads', undefined, 'meta.heads');
    const heads = meta.heads as HeadCard[];
    try {
      checkHeads(heads, 'meta.heads');
    } catch (e) {
      throw new InputError(file, (e as Error).message, undefined, 'meta.heads');
    }
    for (const h of heads) if (!h.default) for (const [k, shape] of headShapes(cfg)) shapes.set(headTensorName(h, k), shape);
  }
  return new Potential(cfg, paramsFromFile(file, tensors, shapes, dtype), dtype, meta);
}

/**
 * The parameters named in `shapes` from a model file's tensors, in the compute dtype; a missing
 * tensor or a wrong shape is an InputError naming the file and the parameter.
 */
export function paramsFromFile(file: string, tensors: Map<string, NamedTensor>, shapes: Map<string, number[]>, dtype: DType): Map<string, Tensor> {
  const params = new Map<string, Tensor>();
  for (const [name, shape] of shapes) {
    const t = tensors.get(name);
    if (!t) throw new InputError(file, 'parameter missing', name);
    if (t.shape.join(',') !== shape.join(',')) throw new InputError(file, `shape [${t.shape}], expected [${shape}]`, name);
    params.set(name, new Tensor(dtype === 'float64' ? Float64Array.from(t.data) : Float32Array.from(t.data), shape));
  }
  return params;
}
