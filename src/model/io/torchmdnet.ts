/**
 * Import a TorchMD-Net checkpoint (a Lightning `.ckpt` or a `torch.save`d dict holding
 * `hyper_parameters` and `state_dict`): build the ET from its hyper-parameters and copy the
 * weights, accepting both the 0.2.x and the ≥2.2 parameter names.
 */
import { Tensor, DType, allocate } from '../../engine/index.js';
import { configFromHyperParameters, ETConfig } from '../config.js';
import { parameterShapes } from '../create.js';
import { Potential } from '../potential.js';
import { InputError } from '../../errors.js';
import { readTorchZip, isStoredTensor, StoredTensor } from './torch-zip.js';
import { toPlain as pickleToPlain, PickleError } from './pickle.js';

/** Buffers TorchMD-Net keeps that carry no information for the supported options. */
const harmless = [/\.distance\.box$/, /^prior_model\.(0\.)?initial_atomref$/];

function renameKey(key: string): string {
  let k = key.startsWith('model.') ? key.slice(6) : key;
  k = k.replace(/update_net\.(\d+)\./, 'update_net.layers.$1.');
  k = k.replace(/^prior_model\.atomref\./, 'prior_model.0.atomref.');
  return k;
}

export interface ImportOptions {
  /** Compute in this precision instead of the checkpoint's own. */
  dtype?: DType;
}

/** The plain form of a pickled value, or an InputError naming the file and the key it came from. */
function plain(v: unknown, file: string, key: string): unknown {
  try {
    return pickleToPlain(v);
  } catch (e) {
    if (e instanceof PickleError) throw new InputError(file, e.message, undefined, key);
    throw e;
  }
}

export function potentialFromTorchObject(obj: unknown, file: string, options: ImportOptions = {}): Potential {
  if (!(obj instanceof Map)) throw new InputError(file, 'the pickle is not a checkpoint dictionary');
  const hp = obj.get('hyper_parameters');
  const sd = obj.get('state_dict');
  if (hp === undefined || !(sd instanceof Map)) {
    const keys = [...obj.keys()].map(String).slice(0, 8).join(', ');
    throw new InputError(
      file,
      `not a TorchMD-Net checkpoint: expected 'hyper_parameters' and 'state_dict', found keys ${keys || '(none)'}`,
    );
  }
  const cfg = configFromHyperParameters(plain(hp, file, 'hyper_parameters') as Record<string, unknown>, file);
  const shapes = parameterShapes(cfg);
  const dtype: DType = options.dtype ?? (cfg.precision === 64 ? 'float64' : 'float32');
  const params = new Map<string, Tensor>();
  const unexpected: string[] = [];
  for (const [rawKey, value] of sd) {
    const key = renameKey(String(rawKey));
    if (!isStoredTensor(value)) throw new InputError(file, 'state_dict entry is not a tensor', String(rawKey));
    const shape = shapes.get(key);
    if (!shape) {
      if (!harmless.some((r) => r.test(key))) unexpected.push(String(rawKey));
      continue;
    }
    params.set(key, toTensor(value, shape, dtype, file, String(rawKey)));
  }
  if (unexpected.length > 0) {
    throw new InputError(file, `state_dict has parameters this ET configuration does not use: ${unexpected.join(', ')}`);
  }
  // TorchMD-Net omits mean/std when not standardizing: they default to 0 and 1.
  if (!params.has('mean')) params.set('mean', scalarTensor(0, dtype));
  if (!params.has('std')) params.set('std', scalarTensor(1, dtype));
  const missing = [...shapes.keys()].filter((k) => !params.has(k));
  if (missing.length > 0) throw new InputError(file, `state_dict lacks parameters: ${missing.join(', ')}`);
  return new Potential(cfg, params, dtype, { source: file, format: 'torchmd-net', hyper_parameters: plain(hp, file, 'hyper_parameters'), ...exportRecord(obj.get('oreo'), file) });
}

/**
 * What `oreo export --format torchmdnet` recorded beside the checkpoint (its `oreo` key, which
 * TorchMD-Net ignores): the units, the elements the model was trained on and its name, so that a
 * model exported and read back predicts and checks elements as the original did.
 */
function exportRecord(raw: unknown, file: string): Record<string, unknown> {
  if (!(raw instanceof Map)) return {};
  const rec = plain(raw, file, 'oreo') as Record<string, unknown>;
  const meta: Record<string, unknown> = {};
  const units = rec.units as { energy?: unknown; forces?: unknown } | null | undefined;
  if (units && typeof units.energy === 'string' && typeof units.forces === 'string') meta.units = { energy: units.energy, forces: units.forces };
  if (Array.isArray(rec.elements) && rec.elements.every((z) => Number.isInteger(z))) meta.elements = rec.elements;
  if (typeof rec.name === 'string') meta.name = rec.name;
  // The head of a multi-head oreo model it was exported from, with its level of theory.
  const head = rec.head as { id?: unknown; level?: unknown } | undefined;
  if (head && typeof head.id === 'string' && typeof head.level === 'string' && /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(head.id)) meta.heads = [{ id: head.id, level: head.level, default: true }];
  return meta;
}

function scalarTensor(v: number, dtype: DType): Tensor {
  const d = allocate(dtype, 1);
  d[0] = v;
  return new Tensor(d, []);
}

function toTensor(t: StoredTensor, shape: number[], dtype: DType, file: string, key: string): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  if (t.values.length !== n) {
    throw new InputError(file, `has shape [${t.shape}], expected [${shape}] for this configuration`, undefined, key);
  }
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(t.values[i])) throw new InputError(file, `holds a non-finite value at position ${i}`, undefined, key);
  }
  const data = allocate(dtype, n);
  data.set(t.values);
  return new Tensor(data, shape, false);
}

export function loadTorchMDNetBytes(bytes: Uint8Array, name: string, options: ImportOptions = {}): Potential {
  return potentialFromTorchObject(readTorchZip(bytes, name), name, options);
}

export type { ETConfig };
