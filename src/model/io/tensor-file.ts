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
 *
 * Integrity (container 2, written by every save since): the header's last key is
 * `"checksum":"sha256:<64 hex>"`, the SHA-256 of the whole file with those 64 digits read as
 * '0'. A flipped byte anywhere (header, padding or weights) fails the check on load, an
 * InputError "checksum mismatch" naming the file. Files from before (no `container` key) load
 * without it; a container-2 file without its checksum is refused. Every float tensor is also
 * checked finite on load, by name, whatever the container version: a model whose weights hold
 * NaN would otherwise predict null energies without a word.
 */
import { InputError } from '../../errors.js';
import { sha256Hex } from '../../io/sha256.js';

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

/** Version of the container layout: 2 adds the checksum. */
export const CONTAINER_VERSION = 2;
const CHECKSUM_KEY = '"checksum":"sha256:';
const ZEROS = new TextEncoder().encode('0'.repeat(64));

/** SHA-256 of `bytes` with the 64 hex digits at `at` taken as '0'. */
function digestWithBlank(bytes: Uint8Array, at: number): string {
  return sha256Hex(bytes.subarray(0, at), ZEROS, bytes.subarray(at + 64));
}

function indexOfBytes(hay: Uint8Array, needle: Uint8Array, from: number, to: number): number {
  outer: for (let i = to - needle.length; i >= from; i--) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

export function serializeTensors(header: Record<string, unknown>, tensors: Map<string, NamedTensor>): Uint8Array {
  const entries: Entry[] = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw new Error(`tensor '${name}': shape [${t.shape}] but ${t.data.length} values`);
    entries.push({ name, dtype: t.dtype, shape: t.shape, offset });
    offset += Math.ceil((n * itemSize[t.dtype]) / 8) * 8;
  }
  const { checksum: _old, container: _c, ...rest } = header;
  // The checksum goes last, blank while hashing: its digits are then written in place.
  const json = new TextEncoder().encode(JSON.stringify({ ...rest, tensors: entries, container: CONTAINER_VERSION, checksum: 'sha256:' + '0'.repeat(64) }));
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
  const at = headStart + json.length - 66; // the 64 digits, before the closing '"}'
  out.set(new TextEncoder().encode(digestWithBlank(out, at)), at);
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
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new InputError(file, 'damaged header (not a JSON object)');
  verifyChecksum(bytes, len, header, file);
  const dataStart = Math.ceil((12 + len) / 8) * 8;
  const tensors = new Map<string, NamedTensor>();
  const list = header.tensors ?? [];
  if (!Array.isArray(list)) throw new InputError(file, 'damaged header: tensors is not a list', undefined, 'tensors');
  for (const [k, e] of (list as Entry[]).entries()) {
    const name = typeof e?.name === 'string' ? e.name : `tensor #${k}`;
    const size = itemSize[e?.dtype];
    if (!size) throw new InputError(file, `unknown dtype '${String(e?.dtype)}'`, name, 'dtype');
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new InputError(file, `shape ${JSON.stringify(e.shape)} is not a list of non-negative integers`, name, 'shape');
    }
    if (!Number.isSafeInteger(e.offset) || e.offset < 0) throw new InputError(file, `offset ${JSON.stringify(e.offset)} is not a non-negative integer`, name, 'offset');
    const n = e.shape.reduce((a, b) => a * b, 1);
    const base = dataStart + e.offset;
    // Checked before allocating: the shape must fit in the bytes the file really has.
    if (!(n * size <= bytes.length - base)) {
      throw new InputError(file, `shape [${e.shape}] needs ${n * size} bytes at byte ${base}, but the file has ${Math.max(0, bytes.length - base)} there (truncated or damaged)`, name, 'shape');
    }
    const data = e.dtype === 'float64' ? new Float64Array(n) : e.dtype === 'float32' ? new Float32Array(n) : new Int32Array(n);
    for (let i = 0; i < n; i++) {
      data[i] = e.dtype === 'float64' ? dv.getFloat64(base + 8 * i, true) : e.dtype === 'float32' ? dv.getFloat32(base + 4 * i, true) : dv.getInt32(base + 4 * i, true);
    }
    if (e.dtype !== 'int32') {
      for (let i = 0; i < n; i++) {
        if (!Number.isFinite(data[i])) throw new InputError(file, `holds a non-finite value (${data[i]}) at position ${i}`, name, 'values');
      }
    }
    tensors.set(name, { dtype: e.dtype, shape: e.shape, data });
  }
  delete header.tensors;
  delete header.checksum;
  delete header.container;
  return { header, tensors };
}

/** Container ≥ 2: the checksum must be there and match; older files have none to check. */
function verifyChecksum(bytes: Uint8Array, headerLen: number, header: Record<string, unknown>, file: string): void {
  const version = header.container;
  if (version === undefined && header.checksum === undefined) return;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 2) throw new InputError(file, `damaged header: container version ${JSON.stringify(version)}`, undefined, 'container');
  if (version > CONTAINER_VERSION) throw new InputError(file, `written by a newer oreo (container version ${version}; this one reads up to ${CONTAINER_VERSION})`, undefined, 'container');
  const sum = header.checksum;
  if (typeof sum !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(sum)) {
    throw new InputError(file, 'no valid checksum in a container-2 file (damaged or edited header)', undefined, 'checksum');
  }
  const key = indexOfBytes(bytes, new TextEncoder().encode(CHECKSUM_KEY), 12, 12 + headerLen);
  if (key < 0) throw new InputError(file, 'checksum mismatch: the checksum key is not where it is written', undefined, 'checksum');
  const at = key + CHECKSUM_KEY.length;
  if (digestWithBlank(bytes, at) !== sum.slice(7)) {
    throw new InputError(file, 'checksum mismatch: the file was changed or damaged after it was written (re-download or re-export it)', undefined, 'checksum');
  }
}
