/**
 * Read files written by `torch.save` (the zip format of PyTorch ≥ 1.6): a pickle
 * (`<name>/data.pkl`) whose tensors point, through persistent ids, at raw little-endian storages
 * (`<name>/data/<key>`). Returns the unpickled object with tensors as `StoredTensor`s.
 */
import { InputError } from '../../errors.js';
import { unpickle, PyObject, PickleError } from './pickle.js';
import { ZipArchive } from '../../io/zip.js';

export type StoredDType = 'float32' | 'float64' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

/** A tensor read from a checkpoint, materialised contiguous (row-major). */
export interface StoredTensor {
  kind: 'tensor';
  dtype: StoredDType;
  shape: number[];
  /** Values as float64 (all checkpoint tensors oreo reads are numbers; int64 fits exactly up to 2^53). */
  values: Float64Array;
}

const storageTypes: Record<string, [StoredDType, number]> = {
  FloatStorage: ['float32', 4],
  DoubleStorage: ['float64', 8],
  HalfStorage: ['float16', 2],
  BFloat16Storage: ['bfloat16', 2],
  LongStorage: ['int64', 8],
  IntStorage: ['int32', 4],
  ShortStorage: ['int16', 2],
  CharStorage: ['int8', 1],
  ByteStorage: ['uint8', 1],
  BoolStorage: ['bool', 1],
};

interface StorageRef {
  dtype: StoredDType;
  itemSize: number;
  key: string;
}

function half(bits: number): number {
  const s = bits & 0x8000 ? -1 : 1;
  const e = (bits >> 10) & 0x1f;
  const f = bits & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

function decodeStorage(bytes: Uint8Array, dtype: StoredDType, count: number, offset: number): Float64Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const k = offset + i;
    switch (dtype) {
      case 'float32': out[i] = dv.getFloat32(4 * k, true); break;
      case 'float64': out[i] = dv.getFloat64(8 * k, true); break;
      case 'float16': out[i] = half(dv.getUint16(2 * k, true)); break;
      case 'bfloat16': {
        const tmp = new DataView(new ArrayBuffer(4));
        tmp.setUint32(0, dv.getUint16(2 * k, true) << 16, true);
        out[i] = tmp.getFloat32(0, true);
        break;
      }
      case 'int64': out[i] = Number(dv.getBigInt64(8 * k, true)); break;
      case 'int32': out[i] = dv.getInt32(4 * k, true); break;
      case 'int16': out[i] = dv.getInt16(2 * k, true); break;
      case 'int8': out[i] = dv.getInt8(k); break;
      case 'uint8':
      case 'bool': out[i] = dv.getUint8(k); break;
    }
  }
  return out;
}

export function isStoredTensor(v: unknown): v is StoredTensor {
  return typeof v === 'object' && v !== null && (v as StoredTensor).kind === 'tensor';
}

/**
 * Most bytes of values a checkpoint may materialise beyond its storages: every tensor of a
 * state_dict is a view of a storage, so the values it can make are bounded by what the storages
 * hold (a shape of 10^9 over one stored number, with stride 0, is refused rather than expanded).
 */
const MATERIALISE_SLACK = 64 * 1024 * 1024;

/**
 * Unpickle a torch.save zip from bytes. `file` is used in error messages only. Nothing is
 * inflated before the pickle asks for it, and every size is checked against the archive: the
 * storages a tensor reads must hold its shape × strides, and all tensors together may not
 * materialise more than 4 × the storage bytes they use (plus 64 MiB); deflated members (PyTorch
 * never compresses, so these come from re-zipping or from a bomb) inflate to 128 MiB at most.
 */
export function readTorchZip(bytes: Uint8Array, file: string): unknown {
  if (bytes.length < 4 || bytes[0] !== 0x50 || bytes[1] !== 0x4b) {
    throw new InputError(
      file,
      bytes[0] === 0x80
        ? 'legacy (pre-1.6, non-zip) torch.save format is not supported; re-save it with a current PyTorch'
        : 'not a PyTorch checkpoint (expected a zip archive written by torch.save)',
    );
  }
  let zip: ZipArchive;
  try {
    zip = new ZipArchive(bytes, file, { maxInflated: 128 * 1024 * 1024 });
  } catch (e) {
    if (e instanceof InputError) throw new InputError(file, `not a readable PyTorch checkpoint: the zip archive is damaged or truncated (${e.message.slice(file.length + 2)})`);
    throw e;
  }
  const pklName = zip.names().find((n) => n.endsWith('/data.pkl') || n === 'data.pkl');
  if (!pklName) {
    throw new InputError(file, 'not a PyTorch checkpoint: the zip holds no data.pkl (was it written by torch.save?)');
  }
  const prefix = pklName.slice(0, pklName.length - 'data.pkl'.length);
  if (zip.member(prefix + 'byteorder')) {
    const byteorder = zip.read(prefix + 'byteorder');
    if (new TextDecoder().decode(byteorder).trim() !== 'little') throw new InputError(file, 'big-endian PyTorch checkpoints are not supported');
  }

  const storages = new Map<string, Uint8Array>();
  let storageBytes = 0;
  let materialised = 0;
  const storageOf = (ref: StorageRef): Uint8Array => {
    const name = `${prefix}data/${ref.key}`;
    let data = storages.get(name);
    if (data) return data;
    if (!zip.member(name)) throw new InputError(file, `tensor storage '${ref.key}' is missing from the archive`);
    data = zip.read(name);
    storages.set(name, data);
    storageBytes += data.length;
    return data;
  };
  const charge = (values: number, key: string) => {
    materialised += 8 * values;
    if (materialised > 4 * storageBytes + MATERIALISE_SLACK) {
      throw new InputError(file, `tensors would materialise ${materialised} bytes from ${storageBytes} bytes of storage (shapes and strides that repeat stored values); refused`, undefined, `storage ${key}`);
    }
  };

  const findGlobal = (module: string, name: string): ((...a: unknown[]) => unknown) | undefined => {
    const q = `${module}.${name}`;
    if (module === 'torch' && name in storageTypes) {
      // A storage class: persistent ids name it to give the dtype.
      return Object.assign(() => undefined, { storageDType: storageTypes[name] });
    }
    switch (q) {
      case 'collections.OrderedDict':
        return (pairs?: unknown) => new Map(Array.isArray(pairs) ? (pairs as [unknown, unknown][]) : []);
      case 'torch._utils._rebuild_tensor_v2':
      case 'torch._utils._rebuild_tensor':
        return (storage: unknown, offset: unknown, size: unknown, stride: unknown) =>
          rebuildTensor(storage as StorageRef, offset as number, size as number[], stride as number[]);
      case 'torch._utils._rebuild_parameter':
      case 'torch._utils._rebuild_parameter_with_state':
        return (data: unknown) => data;
      case '_codecs.encode':
        return (s: unknown) => Uint8Array.from(String(s), (c) => c.charCodeAt(0) & 0xff);
      case 'builtins.set':
      case '__builtin__.set':
        return (items?: unknown) => new Set(Array.isArray(items) ? items : []);
      default:
        return undefined;
    }
  };

  const rebuildTensor = (ref: StorageRef, offset: number, size: number[], stride: number[]): StoredTensor => {
    const where = `storage ${ref.key}`;
    const isIndex = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
    if (!isIndex(offset)) throw new InputError(file, `tensor offset ${String(offset)} is not a non-negative integer`, undefined, where);
    if (!Array.isArray(size) || !size.every(isIndex)) throw new InputError(file, `tensor shape [${String(size)}] is not a list of non-negative integers`, undefined, where);
    if (!Array.isArray(stride) || stride.length !== size.length || !stride.every(isIndex)) {
      throw new InputError(file, `tensor strides [${String(stride)}] do not fit shape [${size}]`, undefined, where);
    }
    const storage = storageOf(ref);
    const shape = [...size];
    const n = shape.reduce((a, b) => a * b, 1);
    const total = Math.floor(storage.length / ref.itemSize);
    if (n > total && n > 0) {
      // Only stride-0 (expanded) views make more values than their storage holds; parameters never are.
      throw new InputError(file, `tensor of shape [${shape}] (${n} values) over a storage of ${total} values; refused`, undefined, where);
    }
    charge(n, ref.key);
    // Materialise through the strides, so views and transposed tensors come out contiguous.
    let contiguous = true;
    let s = 1;
    for (let i = shape.length - 1; i >= 0; i--) {
      if (shape[i] !== 1 && stride[i] !== s) contiguous = false;
      s *= shape[i];
    }
    let maxIndex = offset;
    for (let i = 0; i < shape.length; i++) if (shape[i] > 0) maxIndex += (shape[i] - 1) * stride[i];
    if (n > 0 && maxIndex >= total) {
      throw new InputError(file, `tensor storage '${ref.key}' holds ${total} values, too few for shape [${shape}]`);
    }
    if (contiguous) return { kind: 'tensor', dtype: ref.dtype, shape, values: decodeStorage(storage, ref.dtype, n, offset) };
    charge(total, ref.key);
    const all = decodeStorage(storage, ref.dtype, total, 0);
    const values = new Float64Array(n);
    const idx = new Array(shape.length).fill(0);
    for (let o = 0; o < n; o++) {
      let p = offset;
      for (let a = 0; a < shape.length; a++) p += idx[a] * stride[a];
      values[o] = all[p];
      for (let a = shape.length - 1; a >= 0; a--) {
        if (++idx[a] < shape[a]) break;
        idx[a] = 0;
      }
    }
    return { kind: 'tensor', dtype: ref.dtype, shape, values };
  };

  const persistentLoad = (pid: unknown): StorageRef => {
    const t = pid as unknown[];
    if (!Array.isArray(t) || t[0] !== 'storage') throw new InputError(file, 'unknown persistent reference in the pickle');
    const cls = t[1] as { storageDType?: [StoredDType, number] } | PyObject;
    const info = (cls as { storageDType?: [StoredDType, number] }).storageDType;
    if (!info) {
      throw new InputError(file, `tensor storage of an unsupported type (${(cls as PyObject).className ?? String(cls)})`);
    }
    return { dtype: info[0], itemSize: info[1], key: String(t[2]) };
  };

  try {
    return unpickle(zip.read(pklName), { findGlobal, persistentLoad });
  } catch (e) {
    if (e instanceof PickleError) throw new InputError(file, `damaged checkpoint pickle: ${e.message}`);
    throw e;
  }
}
