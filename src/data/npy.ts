/**
 * NumPy `.npy` arrays and `.npz` archives (a zip of .npy members, stored or deflated), the
 * format of MD17/rMD17 and of many other ML-potential data sets.
 *
 * Numeric arrays come back as typed arrays in C order (Fortran-ordered arrays are transposed),
 * converted to the platform's little-endian layout. Text and object arrays are refused: they
 * need Python's pickle, which is never safe to load.
 */
import { readFileSync } from 'node:fs';
import { InputError } from '../errors.js';
import { ZipArchive } from '../io/zip.js';

export type NpyData = Float64Array | Float32Array | Int32Array | Uint8Array | Int8Array | Int16Array | Uint16Array | Uint32Array | BigInt64Array | BigUint64Array;

export interface NpyArray {
  /** NumPy dtype string as in the header, e.g. '<f8', '|u1'. */
  dtype: string;
  /** Set for text/object members of an npz, which are listed but not decoded. */
  nonNumeric?: true;
  shape: number[];
  data: NpyData;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

interface DtypeInfo {
  size: number;
  make: (n: number) => NpyData;
  get: (dv: DataView, off: number, little: boolean) => number | bigint;
}

const DTYPES: Record<string, DtypeInfo> = {
  f8: { size: 8, make: (n) => new Float64Array(n), get: (d, o, l) => d.getFloat64(o, l) },
  f4: { size: 4, make: (n) => new Float32Array(n), get: (d, o, l) => d.getFloat32(o, l) },
  i8: { size: 8, make: (n) => new BigInt64Array(n), get: (d, o, l) => d.getBigInt64(o, l) },
  u8: { size: 8, make: (n) => new BigUint64Array(n), get: (d, o, l) => d.getBigUint64(o, l) },
  i4: { size: 4, make: (n) => new Int32Array(n), get: (d, o, l) => d.getInt32(o, l) },
  u4: { size: 4, make: (n) => new Uint32Array(n), get: (d, o, l) => d.getUint32(o, l) },
  i2: { size: 2, make: (n) => new Int16Array(n), get: (d, o, l) => d.getInt16(o, l) },
  u2: { size: 2, make: (n) => new Uint16Array(n), get: (d, o, l) => d.getUint16(o, l) },
  i1: { size: 1, make: (n) => new Int8Array(n), get: (d, o) => d.getInt8(o) },
  u1: { size: 1, make: (n) => new Uint8Array(n), get: (d, o) => d.getUint8(o) },
  b1: { size: 1, make: (n) => new Uint8Array(n), get: (d, o) => d.getUint8(o) },
};

/** The Python-literal header dict: {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), } */
function parseHeader(header: string, where: string, file: string): { descr: string; fortran: boolean; shape: number[] } {
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header);
  const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shape) {
    const d = /'descr'\s*:\s*\[/.test(header) ? ' (a structured dtype, which oreo does not read)' : '';
    throw new InputError(file, `${where}: unreadable .npy header${d}: ${header.trim().slice(0, 120)}`);
  }
  const dims = shape[1]
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(Number);
  if (dims.some((d) => !Number.isInteger(d) || d < 0)) throw new InputError(file, `${where}: bad shape (${shape[1]})`);
  return { descr: descr[1], fortran: fortran[1] === 'True', shape: dims };
}

interface NpyLayout {
  descr: string;
  fortran: boolean;
  shape: number[];
  info: DtypeInfo;
  little: boolean;
  /** Byte where the values start. */
  offset: number;
  count: number;
}

/**
 * The header of a .npy payload, from its first bytes (`total`: the payload's full length, when
 * known, to check that the shape fits what is there). Undefined while `bytes` is too short.
 */
function npyLayout(bytes: Uint8Array, file: string, where: string, total: number | undefined): NpyLayout | undefined {
  if (bytes.length < 12 && (total === undefined || bytes.length < total)) return undefined;
  if (bytes.length < 10 || MAGIC.some((m, i) => bytes[i] !== m)) {
    throw new InputError(file, `${where}: not a NumPy .npy array (bad magic)`);
  }
  const major = bytes[6];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = dv.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new InputError(file, `${where}: truncated .npy header`);
    headerLen = dv.getUint32(8, true);
    start = 12;
  } else {
    throw new InputError(file, `${where}: unsupported .npy format version ${major}`);
  }
  if (total !== undefined && start + headerLen > total) throw new InputError(file, `${where}: truncated .npy header`);
  if (start + headerLen > bytes.length) return undefined;
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + headerLen));
  const { descr, fortran, shape } = parseHeader(header, where, file);
  const m = /^([<>|=])([a-zA-Z])(\d+)$/.exec(descr);
  const info = m ? DTYPES[m[2] + m[3]] : undefined;
  if (!m || !info) {
    throw new InputError(file, `${where}: dtype '${descr}' is not a numeric type oreo reads (floats, ints, bool)`);
  }
  const count = shape.reduce((a, b) => a * b, 1);
  const offset = start + headerLen;
  if (total !== undefined) {
    // The shape must fit the payload exactly: checked before anything is allocated for it.
    const need = count * info.size;
    if (total - offset < need) {
      throw new InputError(file, `${where}: truncated data: shape (${shape.join(', ')}) of ${descr} needs ${need} bytes, found ${total - offset}`);
    }
    if (total - offset > need) {
      throw new InputError(file, `${where}: ${total - offset - need} bytes beyond the data of shape (${shape.join(', ')}) ${descr}; dtype and shape disagree with the payload`);
    }
  }
  return { descr, fortran, shape, info, little: m[1] !== '>', offset, count };
}

function decodeValues(bytes: Uint8Array, at: number, count: number, l: NpyLayout): NpyData {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const data = l.info.make(count);
  const set = data as unknown as { [i: number]: number | bigint };
  for (let i = 0; i < count; i++) set[i] = l.info.get(dv, at + i * l.info.size, l.little);
  return data;
}

/** Parse one .npy payload. `where` names the member (for npz) in error messages. */
export function parseNpy(bytes: Uint8Array, file: string, where = 'array'): NpyArray {
  const l = npyLayout(bytes, file, where, bytes.length);
  if (!l) throw new InputError(file, `${where}: truncated .npy header`);
  const data = decodeValues(bytes, l.offset, l.count, l);
  if (l.fortran && l.shape.length > 1) return { dtype: l.descr, shape: l.shape, data: toCOrder(data, l.shape, l.info) };
  return { dtype: l.descr, shape: l.shape, data };
}

function toCOrder(src: NpyData, shape: number[], info: DtypeInfo): NpyData {
  const n = src.length;
  const out = info.make(n);
  const nd = shape.length;
  const cStride = new Array<number>(nd);
  const fStride = new Array<number>(nd);
  cStride[nd - 1] = 1;
  for (let d = nd - 2; d >= 0; d--) cStride[d] = cStride[d + 1] * shape[d + 1];
  fStride[0] = 1;
  for (let d = 1; d < nd; d++) fStride[d] = fStride[d - 1] * shape[d - 1];
  const o = out as unknown as { [i: number]: number | bigint };
  const s = src as unknown as { [i: number]: number | bigint };
  for (let c = 0; c < n; c++) {
    let rem = c;
    let f = 0;
    for (let d = 0; d < nd; d++) {
      const idx = Math.floor(rem / cStride[d]);
      rem -= idx * cStride[d];
      f += idx * fStride[d];
    }
    o[c] = s[f];
  }
  return out;
}

/**
 * An .npz archive opened without inflating anything: members are listed from the zip directory,
 * and each is read whole (`array`, against a 512 MiB inflate budget for the archive) or row by
 * row (`rows`), so that one frame of a huge trajectory costs one frame of memory.
 */
export class NpzFile {
  readonly zip: ZipArchive;
  constructor(
    bytes: Uint8Array,
    readonly file: string,
  ) {
    try {
      this.zip = new ZipArchive(bytes, file, { maxInflated: 512 * 1024 * 1024 });
    } catch (err) {
      if (err instanceof InputError) throw new InputError(file, `not a readable .npz (zip) archive: ${err.message.slice(file.length + 2)}`);
      throw err;
    }
    if (this.zip.names().length === 0) throw new InputError(file, 'the .npz archive has no members (truncated or not an npz)');
  }

  /** Array names (members without `.npy`). */
  keys(): string[] {
    return this.zip.names().filter((n) => n.endsWith('.npy')).map((n) => n.slice(0, -4));
  }

  has(key: string): boolean {
    return this.zip.member(`${key}.npy`) !== undefined;
  }

  /** The first bytes of a member, enough for its header. */
  private head(key: string): Uint8Array {
    const parts: Uint8Array[] = [];
    let n = 0;
    for (const c of this.zip.chunks(`${key}.npy`)) {
      parts.push(c);
      n += c.length;
      if (n >= 65536 + 12) break;
    }
    return concat(parts, n);
  }

  /** Dtype and shape of a member, from its header alone; `nonNumeric` for text/object members. */
  describe(key: string): { dtype: string; shape: number[]; nonNumeric?: true } {
    const head = this.head(key);
    const text = nonNumericDtype(head);
    if (text !== undefined) return { dtype: text, shape: [], nonNumeric: true };
    const l = npyLayout(head, this.file, `member '${key}'`, this.zip.member(`${key}.npy`)!.size);
    if (!l) throw new InputError(this.file, `member '${key}': truncated .npy header`);
    return { dtype: l.descr, shape: l.shape };
  }

  array(key: string): NpyArray {
    const bytes = this.zip.read(`${key}.npy`);
    // Text and object members (e.g. sGDML's 'name', 'theory') are metadata: listed, not decoded.
    const textDtype = nonNumericDtype(bytes);
    if (textDtype !== undefined) return { dtype: textDtype, shape: [], data: new Uint8Array(0), nonNumeric: true };
    return parseNpy(bytes, this.file, `member '${key}'`);
  }

  /**
   * Rows along the first axis of a C-ordered member, `count` at a time, in order. A
   * Fortran-ordered member is read whole (it has no contiguous rows) within the inflate budget.
   */
  *rows(key: string, count = 1): Generator<NpyArray> {
    const where = `member '${key}'`;
    const size = this.zip.member(`${key}.npy`)?.size;
    if (size === undefined) throw new InputError(this.file, 'member missing from the archive', `${key}.npy`);
    const layout = npyLayout(this.head(key), this.file, where, size);
    if (!layout) throw new InputError(this.file, `${where}: truncated .npy header`);
    const [n, ...rest] = layout.shape;
    const perRow = rest.reduce((a, b) => a * b, 1);
    if (layout.fortran && layout.shape.length > 1) {
      const all = this.array(key);
      for (let r = 0; r < n; r += count) {
        const k = Math.min(count, n - r);
        yield { dtype: all.dtype, shape: [k, ...rest], data: all.data.slice(r * perRow, (r + k) * perRow) as NpyData };
      }
      return;
    }
    const rowBytes = perRow * layout.info.size;
    let pending: Uint8Array[] = [];
    let have = 0;
    let skip = layout.offset;
    let row = 0;
    for (const c0 of this.zip.chunks(`${key}.npy`)) {
      let c = c0;
      if (skip > 0) {
        const s = Math.min(skip, c.length);
        skip -= s;
        c = c.subarray(s);
      }
      if (c.length === 0) continue;
      pending.push(c);
      have += c.length;
      while (row < n && have >= Math.min(count, n - row) * rowBytes && rowBytes > 0) {
        const k = Math.min(count, n - row);
        const buf = concat(pending, have);
        yield { dtype: layout.descr, shape: [k, ...rest], data: decodeValues(buf, 0, k * perRow, layout) };
        row += k;
        pending = [buf.subarray(k * rowBytes)];
        have -= k * rowBytes;
      }
    }
    for (; row < n && rowBytes === 0; row += count) yield { dtype: layout.descr, shape: [Math.min(count, n - row), ...rest], data: layout.info.make(0) };
  }
}

function concat(parts: Uint8Array[], n: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Every .npy member of an npz archive, keyed by name without the `.npy` suffix. */
export function parseNpz(bytes: Uint8Array, file: string): Map<string, NpyArray> {
  const npz = new NpzFile(bytes, file);
  const out = new Map<string, NpyArray>();
  for (const key of npz.keys()) out.set(key, npz.array(key));
  return out;
}

function nonNumericDtype(bytes: Uint8Array): string | undefined {
  if (bytes.length < 12) return undefined;
  const major = bytes[6];
  const start = major === 1 ? 10 : 12;
  const len = major === 1 ? bytes[8] | (bytes[9] << 8) : bytes[8] | (bytes[9] << 8) | (bytes[10] << 16) | (bytes[11] << 24);
  const header = new TextDecoder('latin1').decode(bytes.subarray(start, Math.min(bytes.length, start + len)));
  const d = /'descr'\s*:\s*'([^']*)'/.exec(header);
  return d && /^[<>|=]?[USOaV]/.test(d[1]) ? d[1] : undefined;
}

export function readNpzFile(path: string): Map<string, NpyArray> {
  return parseNpz(readNpzBytes(path), path);
}

export function openNpzFile(path: string): NpzFile {
  return new NpzFile(readNpzBytes(path), path);
}

function readNpzBytes(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new InputError(path, `cannot read file: ${(err as Error).message}`);
  }
}

/** Any numeric array's values as float64 (int64 via Number, exact below 2^53). */
export function toFloat64(a: NpyArray): Float64Array {
  if (a.nonNumeric) throw new Error(`array of dtype ${a.dtype} is not numeric`);
  if (a.data instanceof Float64Array) return a.data;
  if (a.data instanceof BigInt64Array || a.data instanceof BigUint64Array) return Float64Array.from(a.data, (x) => Number(x));
  return Float64Array.from(a.data as ArrayLike<number>);
}

/** Integer values as Int32Array; refuses non-integers and values outside int32. */
export function toInt32(a: NpyArray, file: string, where: string): Int32Array {
  const f = toFloat64(a);
  const out = new Int32Array(f.length);
  for (let i = 0; i < f.length; i++) {
    const v = f[i];
    if (!Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31) {
      throw new InputError(file, `${where}: value ${v} at position ${i} is not an int32 integer (dtype ${a.dtype})`);
    }
    out[i] = v;
  }
  return out;
}

/** Build a little-endian C-order .npy v1 payload; used to write npz exports and test files. */
export function encodeNpy(dtype: '<f8' | '<f4' | '<i8' | '<i4' | '|u1', shape: number[], values: ArrayLike<number>): Uint8Array {
  let header = `{'descr': '${dtype}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(pad % 64) + '\n';
  const size = DTYPES[dtype.slice(1)].size;
  const count = shape.reduce((a, b) => a * b, 1);
  if (values.length !== count) throw new Error(`encodeNpy: ${values.length} values for shape (${shape.join(', ')})`);
  const out = new Uint8Array(10 + header.length + count * size);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  const dv = new DataView(out.buffer);
  dv.setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const off = 10 + header.length;
  for (let i = 0; i < count; i++) {
    const v = values[i];
    const o = off + i * size;
    if (dtype === '<f8') dv.setFloat64(o, v, true);
    else if (dtype === '<f4') dv.setFloat32(o, v, true);
    else if (dtype === '<i8') dv.setBigInt64(o, BigInt(v), true);
    else if (dtype === '<i4') dv.setInt32(o, v, true);
    else dv.setUint8(o, v);
  }
  return out;
}
