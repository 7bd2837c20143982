/**
 * oreo's native container for named tensors (models, training checkpoints):
 *
 *   bytes 0–7   magic "OREOTNS1"
 *   bytes 8–11  header length L (uint32, little-endian)
 *   next L      UTF-8 JSON header: { ...caller fields, tensors: [{name, dtype, shape, offset}] }
 *   then        zero padding to a multiple of 8, then each tensor's raw little-endian values,
 *               8-byte aligned, at `offset` bytes from the start of this data section.
 *
 * The JSON header keeps everything a person may want to read (config, training metadata) in
 * plain text; the raw section makes loading a copy, not a parse.
 */
import { InputError } from '../../errors.js';

const MAGIC = 'OREOTNS1';

export type TensorDType = 'float32' | 'float64' | 'int32';

export interface NamedTensor {
  dtype: TensorDType;
  shape: number[];
  data: Float32Array | Float64Array | Int32Array;
}

interface Entry {
  name: string;
  dtype: TensorDType;
  shape: number[];
  offset: number;
}

const itemSize: Record<TensorDType, number> = { float32: 4, float64: 8, int32: 4 };

export function serializeTensors(header: Record<string, unknown>, tensors: Map<string, NamedTensor>): Uint8Array {
  const entries: Entry[] = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw new Error(`tensor '${name}': shape [${t.shape}] but ${t.data.length} values`);
    entries.push({ name, dtype: t.dtype, shape: t.shape, offset });
    offset += Math.ceil((n * itemSize[t.dtype]) / 8) * 8;
  }
  const json = new TextEncoder().encode(JSON.stringify({ ...header, tensors: entries }));
  const headStart = 12;
  const dataStart = Math.ceil((headStart + json.length) / 8) * 8;
  const out = new Uint8Array(dataStart + offset);
  out.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(out.buffer).setUint32(8, json.length, true);
  out.set(json, headStart);
  const dv = new DataView(out.buffer);
  entries.forEach((e) => {
    const t = tensors.get(e.name)!;
    const base = dataStart + e.offset;
    for (let i = 0; i < t.data.length; i++) {
      if (e.dtype === 'float64') dv.setFloat64(base + 8 * i, t.data[i], true);
      else if (e.dtype === 'float32') dv.setFloat32(base + 4 * i, t.data[i], true);
      else dv.setInt32(base + 4 * i, t.data[i], true);
    }
  });
  return out;
}

export function parseTensors(bytes: Uint8Array, file: string): { header: Record<string, unknown>; tensors: Map<string, NamedTensor> } {
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) {
    throw new InputError(file, 'not an oreo model/checkpoint file (bad magic bytes)');
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = dv.getUint32(8, true);
  if (12 + len > bytes.length) throw new InputError(file, 'file is truncated inside its header');
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + len)));
  } catch (e) {
    throw new InputError(file, `damaged header (${(e as Error).message})`);
  }
  const dataStart = Math.ceil((12 + len) / 8) * 8;
  const tensors = new Map<string, NamedTensor>();
  for (const e of (header.tensors as Entry[]) ?? []) {
    const n = e.shape.reduce((a, b) => a * b, 1);
    const size = itemSize[e.dtype];
    if (!size) throw new InputError(file, `unknown dtype '${e.dtype}'`, e.name, 'dtype');
    const base = dataStart + e.offset;
    if (base + n * size > bytes.length) throw new InputError(file, 'file is truncated: tensor data missing', e.name);
    const data = e.dtype === 'float64' ? new Float64Array(n) : e.dtype === 'float32' ? new Float32Array(n) : new Int32Array(n);
    for (let i = 0; i < n; i++) {
      data[i] = e.dtype === 'float64' ? dv.getFloat64(base + 8 * i, true) : e.dtype === 'float32' ? dv.getFloat32(base + 4 * i, true) : dv.getInt32(base + 4 * i, true);
    }
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data });
  }
  delete header.tensors;
  return { header, tensors };
}
