// Hostile files, made at test time: pickles, zip archives with honest or lying members, deflate
// streams that inflate ~700:1, .npy headers, and oreo tensor files with rewritten headers. Small
// on disk by construction; nothing here allocates what the files claim to hold.
import { spawnSync, SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { oreoArgv } from '../cli.js';
import { repoRoot } from '../paths.js';

const made: string[] = [];
process.on('exit', () => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A temporary folder, removed when the test process exits. */
export function tempDir(tag: string): string {
  const d = mkdtempSync(join(tmpdir(), `oreo-hostile-${tag}-`));
  made.push(d);
  return d;
}

/** Where `--import` makes a child report its peak resident memory (kB) on exit. */
function rssHook(): string {
  const f = join(tempDir('rss'), 'rss.mjs');
  writeFileSync(f, "process.on('exit', () => process.stderr.write(`\\nmaxrss_kb=${process.resourceUsage().maxRSS}\\n`));\n");
  return f;
}
let hook: string | undefined;

/** Run `oreo ARGS`; also report the child's peak resident memory in MB. */
export function runMeasured(args: string[], options: { cwd?: string; timeout?: number } = {}): SpawnSyncReturns<string> & { maxRssMB: number } {
  hook ??= rssHook();
  const r = spawnSync(process.execPath, ['--import', hook, ...oreoArgv(args)], {
    encoding: 'utf8',
    cwd: options.cwd ?? repoRoot,
    timeout: options.timeout ?? 120_000,
  });
  const m = /maxrss_kb=(\d+)/.exec(r.stderr ?? '');
  return Object.assign(r, { stderr: (r.stderr ?? '').replace(/\nmaxrss_kb=\d+\n/, ''), maxRssMB: m ? Number(m[1]) / 1024 : NaN });
}

// ---------------------------------------------------------------------------------------------
// Pickle opcodes (protocol 2), written by hand so that the test controls sharing and cycles.
// ---------------------------------------------------------------------------------------------
const enc = new TextEncoder();
const u32 = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
export const P = {
  proto: [0x80, 0x02],
  stop: [0x2e],
  mark: [0x28],
  emptyDict: [0x7d],
  emptyList: [0x5d],
  emptyTuple: [0x29],
  setitems: [0x75],
  appends: [0x65],
  append: [0x61],
  tuple: [0x74],
  tuple1: [0x85],
  reduce: [0x52],
  binpersid: [0x51],
  newFalse: [0x89],
  str: (s: string) => {
    const b = enc.encode(s);
    return [0x58, ...u32(b.length), ...b];
  },
  int: (n: number) => [0x4a, ...u32(n >>> 0)],
  put: (i: number) => [0x71, i],
  get: (i: number) => [0x68, i],
  global: (module: string, name: string) => [0x63, ...enc.encode(`${module}\n${name}\n`)],
};

export function pickle(...parts: number[][]): Uint8Array {
  return Uint8Array.from([...P.proto, ...parts.flat(), ...P.stop]);
}

/** `{'hyper_parameters': <hp>, 'state_dict': <sd>}` around two encoded values. */
export function checkpointPickle(hp: number[], sd: number[]): Uint8Array {
  return pickle(P.emptyDict, P.mark, P.str('hyper_parameters'), hp, P.str('state_dict'), sd, P.setitems);
}

/**
 * `L=[0]*10; for i in range(levels-1): L=[L]*10` as Python pickles it: each list is written
 * inline where it first appears, memoised, and every later use is a memo reference to it.
 */
export function sharedNestedList(levels: number, firstMemo = 10): number[] {
  const memo = firstMemo + levels - 1;
  const out: number[] = [...P.emptyList, ...P.put(memo), ...P.mark];
  if (levels === 1) {
    for (let i = 0; i < 10; i++) out.push(0x4b, 0); // BININT1 0
  } else {
    out.push(...sharedNestedList(levels - 1, firstMemo));
    for (let i = 1; i < 10; i++) out.push(...P.get(memo - 1));
  }
  out.push(...P.appends);
  return out;
}

/** A list that contains itself: `L=[]; L.append(L)`. */
export function cyclicList(memo = 10): number[] {
  return [...P.emptyList, ...P.put(memo), ...P.get(memo), ...P.append];
}

/** `{name: _rebuild_tensor_v2(storage '0' of `dtype`, offset, size, stride, False, OrderedDict())}`. */
export function tensorDict(name: string, size: number[], stride: number[], offset = 0, storageClass = 'FloatStorage'): number[] {
  const tuple = (xs: number[]) => (xs.length === 1 ? [...P.int(xs[0]), ...P.tuple1] : [...P.mark, ...xs.flatMap(P.int), ...P.tuple]);
  return [
    ...P.emptyDict, ...P.mark, ...P.str(name),
    ...P.global('torch._utils', '_rebuild_tensor_v2'),
    ...P.mark,
    ...P.mark, ...P.str('storage'), ...P.global('torch', storageClass), ...P.str('0'), ...P.str('cpu'), ...P.int(1), ...P.tuple, ...P.binpersid,
    ...P.int(offset), ...tuple(size), ...tuple(stride), ...P.newFalse,
    ...P.global('collections', 'OrderedDict'), ...P.emptyTuple, ...P.reduce,
    ...P.tuple, ...P.reduce,
    ...P.setitems,
  ];
}

// ---------------------------------------------------------------------------------------------
// Zip archives (stored or deflated members, with whatever sizes the test declares) and deflate.
// ---------------------------------------------------------------------------------------------
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();
export function crc32(b: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = CRC_TABLE[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export interface Member {
  name: string;
  /** Bytes as they lie in the archive (stored content, or a raw deflate stream). */
  data: Uint8Array;
  method?: 0 | 8;
  /** Declared inflated size (default data.length for stored members). */
  size?: number;
  crc?: number;
}

export function zip(members: Member[]): Uint8Array {
  const parts: number[][] = [];
  const central: number[][] = [];
  let offset = 0;
  const chunks: Uint8Array[] = [];
  for (const m of members) {
    const name = enc.encode(m.name);
    const method = m.method ?? 0;
    const size = m.size ?? m.data.length;
    const crc = m.crc ?? (method === 0 ? crc32(m.data) : 0);
    const local = [0x50, 0x4b, 0x03, 0x04, 20, 0, 0, 0, method, 0, 0, 0, 0, 0, ...u32(crc), ...u32(m.data.length), ...u32(size), name.length, 0, 0, 0, ...name];
    chunks.push(Uint8Array.from(local), m.data);
    central.push([0x50, 0x4b, 0x01, 0x02, 20, 0, 20, 0, 0, 0, method, 0, 0, 0, 0, 0, ...u32(crc), ...u32(m.data.length), ...u32(size), name.length, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, ...u32(offset), ...name]);
    offset += local.length + m.data.length;
  }
  const dir = central.flat();
  const end = [0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0, members.length & 0xff, members.length >> 8, members.length & 0xff, members.length >> 8, ...u32(dir.length), ...u32(offset), 0, 0];
  parts.push(dir, end);
  const total = offset + dir.length + end.length;
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  out.set(dir, o);
  out.set(end, o + dir.length);
  return out;
}

class BitWriter {
  private bytes: number[] = [];
  private cur = 0;
  private n = 0;
  /** `count` bits of `value`, least significant first (deflate's header fields and extra bits). */
  bits(value: number, count: number): void {
    for (let i = 0; i < count; i++) this.bit((value >>> i) & 1);
  }
  /** A Huffman code, most significant bit first. */
  code(value: number, length: number): void {
    for (let i = length - 1; i >= 0; i--) this.bit((value >>> i) & 1);
  }
  bit(b: number): void {
    this.cur |= b << this.n++;
    if (this.n === 8) this.flush();
  }
  flush(): void {
    if (this.n > 0) this.bytes.push(this.cur);
    this.cur = 0;
    this.n = 0;
  }
  raw(b: Uint8Array): void {
    this.flush();
    for (const x of b) this.bytes.push(x);
  }
  result(): Uint8Array {
    this.flush();
    return Uint8Array.from(this.bytes);
  }
}

/**
 * A raw deflate stream of `prefix` (one stored block) followed by `zeros` zero bytes, coded in one
 * dynamic-Huffman block where a 258-byte repeat costs 3 bits: about 690:1, so 600 MB of zeros
 * take under 1 MB. Written here in a few milliseconds, never inflated by the test itself.
 */
export function deflatePrefixThenZeros(prefix: Uint8Array, zeros: number): Uint8Array {
  const w = new BitWriter();
  // Stored block (not final) for the prefix.
  w.bits(0, 1);
  w.bits(0, 2);
  w.flush();
  w.raw(Uint8Array.from([prefix.length & 0xff, prefix.length >> 8, ~prefix.length & 0xff, (~prefix.length >> 8) & 0xff]));
  w.raw(prefix);
  // Final dynamic block. Literal/length code: 0 → '0', 256 (end) → '10', 285 (length 258) → '11';
  // distance code 0 (distance 1) → '0'.
  w.bits(1, 1);
  w.bits(2, 2);
  w.bits(286 - 257, 5); // HLIT
  w.bits(0, 5); // HDIST: one distance code
  w.bits(18 - 4, 4); // HCLEN: 18 code-length code lengths
  // Code-length code: 18 → '0' (length 1), 1 → '10', 2 → '11' (length 2 each).
  const order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1];
  const clLen: Record<number, number> = { 18: 1, 1: 2, 2: 2 };
  for (const s of order) w.bits(clLen[s] ?? 0, 3);
  const cl = (sym: number) => (sym === 18 ? w.code(0, 1) : w.code(sym === 1 ? 2 : 3, 2));
  const zerosRun = (n: number) => {
    while (n > 0) {
      const k = Math.min(138, n);
      cl(18);
      w.bits(k - 11, 7);
      n -= k;
    }
  };
  cl(1); // literal 0: length 1
  zerosRun(255); // literals 1..255 unused
  cl(2); // 256: length 2
  zerosRun(28); // 257..284 unused
  cl(2); // 285: length 2
  cl(1); // distance 0: length 1
  let left = zeros;
  if (left > 0) {
    w.code(0, 1); // one literal zero, then repeats of it at distance 1
    left--;
    while (left >= 258) {
      w.code(3, 2);
      w.code(0, 1);
      left -= 258;
    }
    while (left-- > 0) w.code(0, 1);
  }
  w.code(2, 2); // end of block
  return w.result();
}

/** A .npy v1 header for `shape` of dtype `descr` (values not included). */
export function npyHeader(descr: string, shape: number[]): Uint8Array {
  let h = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  h += ' '.repeat((64 - ((10 + h.length + 1) % 64)) % 64) + '\n';
  return Uint8Array.from([0x93, ...enc.encode('NUMPY'), 1, 0, h.length & 0xff, h.length >> 8, ...enc.encode(h)]);
}

/** A .npy payload with values (little-endian float64 or int64). */
export function npy(descr: '<f8' | '<i8', shape: number[], values: number[]): Uint8Array {
  const head = npyHeader(descr, shape);
  const out = new Uint8Array(head.length + 8 * values.length);
  out.set(head);
  const dv = new DataView(out.buffer);
  values.forEach((v, i) => (descr === '<f8' ? dv.setFloat64(head.length + 8 * i, v, true) : dv.setBigInt64(head.length + 8 * i, BigInt(v), true)));
  return out;
}

// ---------------------------------------------------------------------------------------------
// oreo tensor files
// ---------------------------------------------------------------------------------------------
/** The file with its JSON header rewritten by `edit` (sizes and alignment redone; data kept). */
export function rewriteOreoHeader(bytes: Uint8Array, edit: (h: Record<string, unknown>) => void): Uint8Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = dv.getUint32(8, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + len))) as Record<string, unknown>;
  const data = bytes.subarray(Math.ceil((12 + len) / 8) * 8);
  edit(header);
  const json = enc.encode(JSON.stringify(header));
  const start = Math.ceil((12 + json.length) / 8) * 8;
  const out = new Uint8Array(start + data.length);
  out.set(bytes.subarray(0, 8));
  new DataView(out.buffer).setUint32(8, json.length, true);
  out.set(json, 12);
  out.set(data, start);
  return out;
}

/** Offset of a tensor's first value in an oreo tensor file. */
export function oreoTensorOffset(bytes: Uint8Array, name: string): number {
  const len = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + len))) as { tensors: { name: string; offset: number }[] };
  const t = header.tensors.find((x) => x.name === name);
  if (!t) throw new Error(`no tensor ${name}`);
  return Math.ceil((12 + len) / 8) * 8 + t.offset;
}
