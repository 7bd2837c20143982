/**
 * Write files that `torch.load` reads: the zip layout `torch.save` has used since PyTorch 1.6,
 * as torch itself writes it —
 *
 *   archive/data.pkl      the pickled object (protocol 2); each tensor is a call of
 *                         torch._utils._rebuild_tensor_v2 on a persistent id
 *                         ('storage', torch.FloatStorage|DoubleStorage, key, 'cpu', numel)
 *   archive/data/<key>    each storage's raw little-endian values
 *   archive/byteorder     "little" (torch ≥ 2.1 writes and checks it; older torch ignores it)
 *   archive/version       "3"
 *
 * Every record is stored uncompressed with its data 64-byte aligned (torch pads the local
 * header's extra field with an "FB" block of 'Z's, so that storages can be memory-mapped), and
 * carries its CRC-32. The counterpart of torch-zip.ts.
 */
import { pickle, PickleValue, PyCall, PyGlobalRef, PyPersistentId, PyTuple, orderedDict } from './pickle-write.js';

/** A tensor to save: row-major values of `shape`, stored in `dtype`. */
export class TorchTensor {
  constructor(
    readonly dtype: 'float32' | 'float64',
    readonly shape: number[],
    readonly data: ArrayLike<number>,
  ) {
    const n = shape.reduce((a, b) => a * b, 1);
    if (data.length !== n) throw new Error(`tensor of shape [${shape}] needs ${n} values, got ${data.length}`);
  }
}

/** What torch.save can be given here: a pickle value in which TorchTensors may appear anywhere. */
export type TorchValue =
  | Exclude<PickleValue, PickleValue[] | Map<string | number, PickleValue> | { [key: string]: PickleValue }>
  | TorchTensor
  | TorchValue[]
  | Map<string | number, TorchValue>
  | { [key: string]: TorchValue };

// ---------------------------------------------------------------------------------------------
// CRC-32 (IEEE, as zip uses).

let crcTable: Uint32Array | undefined;

export function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = crcTable[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// ---------------------------------------------------------------------------------------------
// A stored (uncompressed) zip with aligned record data.

export interface ZipRecord {
  name: string;
  data: Uint8Array;
}

const ALIGN = 64;
/** 1980-01-01 00:00, the earliest DOS date (torch writes zeros, which is not a valid date). */
const DOS_DATE = (0 << 9) | (1 << 5) | 1;
const DOS_TIME = 0;

/** A zip of `records`, each stored, its data starting at a multiple of `align` bytes. */
export function storedZip(records: ZipRecord[], align = ALIGN): Uint8Array {
  const enc = new TextEncoder();
  const names = records.map((r) => enc.encode(r.name));
  const crcs = records.map((r) => crc32(r.data));
  // Lay the local headers and data out first.
  const offsets: number[] = [];
  const extras: number[] = [];
  let pos = 0;
  records.forEach((r, i) => {
    offsets.push(pos);
    const headerEnd = pos + 30 + names[i].length + 4; // 4: the extra field's own header
    const pad = (align - (headerEnd % align)) % align;
    extras.push(4 + pad);
    pos = headerEnd + pad + r.data.length;
  });
  const cdStart = pos;
  const cdSize = records.reduce((n, _, i) => n + 46 + names[i].length, 0);
  const total = cdStart + cdSize + 22;
  if (total > 0xffffffff || records.length > 0xffff) throw new Error('archive too large for a zip without zip64');
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  const FLAGS = 0x0800; // names are UTF-8
  records.forEach((r, i) => {
    let p = offsets[i];
    dv.setUint32(p, 0x04034b50, true);
    dv.setUint16(p + 4, 20, true); // version needed: 2.0
    dv.setUint16(p + 6, FLAGS, true);
    dv.setUint16(p + 8, 0, true); // stored
    dv.setUint16(p + 10, DOS_TIME, true);
    dv.setUint16(p + 12, DOS_DATE, true);
    dv.setUint32(p + 14, crcs[i], true);
    dv.setUint32(p + 18, r.data.length, true);
    dv.setUint32(p + 22, r.data.length, true);
    dv.setUint16(p + 26, names[i].length, true);
    dv.setUint16(p + 28, extras[i], true);
    p += 30;
    out.set(names[i], p);
    p += names[i].length;
    dv.setUint16(p, 0x4246, true); // "FB", torch's padding block
    dv.setUint16(p + 2, extras[i] - 4, true);
    out.fill(0x5a, p + 4, p + extras[i]); // 'Z'
    p += extras[i];
    out.set(r.data, p);
  });
  let p = cdStart;
  records.forEach((r, i) => {
    dv.setUint32(p, 0x02014b50, true);
    dv.setUint16(p + 4, 20, true); // made by: 2.0, MS-DOS attributes
    dv.setUint16(p + 6, 20, true);
    dv.setUint16(p + 8, FLAGS, true);
    dv.setUint16(p + 10, 0, true);
    dv.setUint16(p + 12, DOS_TIME, true);
    dv.setUint16(p + 14, DOS_DATE, true);
    dv.setUint32(p + 16, crcs[i], true);
    dv.setUint32(p + 20, r.data.length, true);
    dv.setUint32(p + 24, r.data.length, true);
    dv.setUint16(p + 28, names[i].length, true);
    // extra length, comment length, disk, internal and external attributes: all 0
    dv.setUint32(p + 42, offsets[i], true);
    out.set(names[i], p + 46);
    p += 46 + names[i].length;
  });
  dv.setUint32(p, 0x06054b50, true);
  dv.setUint16(p + 8, records.length, true);
  dv.setUint16(p + 10, records.length, true);
  dv.setUint32(p + 12, cdSize, true);
  dv.setUint32(p + 16, cdStart, true);
  return out;
}

// ---------------------------------------------------------------------------------------------
// torch.save

const storageClass = { float32: 'FloatStorage', float64: 'DoubleStorage' } as const;

function storageBytes(t: TorchTensor): Uint8Array {
  const n = t.data.length;
  if (t.dtype === 'float32') {
    const a = t.data instanceof Float32Array ? t.data : Float32Array.from(t.data);
    return new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + 4 * n));
  }
  const a = t.data instanceof Float64Array ? t.data : Float64Array.from(t.data);
  return new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + 8 * n));
}

function contiguousStrides(shape: number[]): number[] {
  const s = new Array<number>(shape.length);
  let k = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = k;
    k *= shape[i];
  }
  return s;
}

/**
 * The bytes `torch.save(obj, f)` would write for `obj`, with `TorchTensor`s as CPU tensors, each
 * with its own storage (keys "0", "1", … in pickling order). This machine is little-endian in
 * every Node build we run on; the storages are written in its byte order and labelled "little".
 */
export function torchSave(obj: TorchValue, archiveName = 'archive'): Uint8Array {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('torchSave needs a little-endian machine');
  const storages: ZipRecord[] = [];
  const rebuild = new PyGlobalRef('torch._utils', '_rebuild_tensor_v2');
  const convert = (v: TorchValue): PickleValue => {
    if (v instanceof TorchTensor) {
      const key = String(storages.length);
      storages.push({ name: `${archiveName}/data/${key}`, data: storageBytes(v) });
      const pid = new PyTuple(['storage', new PyGlobalRef('torch', storageClass[v.dtype]), key, 'cpu', v.data.length]);
      // _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks)
      return new PyCall(rebuild, [
        new PyPersistentId(pid),
        0,
        new PyTuple([...v.shape]),
        new PyTuple(contiguousStrides(v.shape)),
        false,
        orderedDict([]),
      ]);
    }
    if (Array.isArray(v)) return v.map(convert);
    if (v instanceof Map) return new Map([...v].map(([k, x]) => [k, convert(x)]));
    if (v instanceof PyCall) {
      return new PyCall(v.callable, v.args.map((a) => convert(a as TorchValue)), v.dictItems?.map(([k, x]) => [k, convert(x as TorchValue)]));
    }
    if (v instanceof PyTuple) return new PyTuple(v.items.map((x) => convert(x as TorchValue)));
    if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, convert(x as TorchValue)]));
    }
    return v as PickleValue;
  };
  const pkl = pickle(convert(obj));
  const enc = new TextEncoder();
  return storedZip([
    { name: `${archiveName}/data.pkl`, data: pkl },
    ...storages,
    { name: `${archiveName}/byteorder`, data: enc.encode('little') },
    { name: `${archiveName}/version`, data: enc.encode('3\n') },
  ]);
}
