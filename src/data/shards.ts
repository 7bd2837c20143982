/**
 * Pre-processed binary shards: data larger than memory, streamed one shard at a time.
 *
 * A shard set is a directory with `index.json` and files `shard-NNNNN.bin`. Each shard holds a
 * few thousand to a few hundred thousand conformations in columns (little-endian):
 *
 *   0   'OREOSHD1'           magic
 *   8   u32 version = 1
 *   12  u32 nConf, u32 nAtoms, u32 flags (1 energy, 2 forces, 4 float32 coordinates), u32 nProps
 *   28  u32 reserved
 *   32  i32 atoms[nConf]  i32 sourceId[nConf]  i32 index[nConf]  u8 kind[nConf] (0 eq, 1 off-eq)
 *       f64 energy[nConf]            (flag 1; NaN = missing)
 *       f64 props[nProps][nConf]     (names in index.json; NaN = missing)
 *       u8  z[nAtoms]
 *       f64|f32 positions[nAtoms*3]  (Å)
 *       f64|f32 forces[nAtoms*3]     (flag 2; eV/Å, NaN for molecules without forces)
 *   every section starts on an 8-byte boundary.
 *
 * Writing is atomic per shard (temp file + rename) and records progress in
 * `index.partial.json`, so an interrupted build resumes after the last finished shard.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { writeFileAtomic } from '../io/atomic.js';
import { join } from 'node:path';
import { InputError, OreoError } from '../errors.js';
import { kindOf, withLabels, type Batch } from './batch.js';
import type { Conformation } from './conformation.js';
import { SplitStream } from '../random.js';

export const SHARD_MAGIC = 'OREOSHD1';
const FLAG_ENERGY = 1;
const FLAG_FORCES = 2;
const FLAG_F32 = 4;

export interface ShardSource {
  id: number;
  name: string;
  path?: string;
  sha256?: string;
  kind?: string;
  /** Sampling multiplier from the dataset config (expected uses per conformation per epoch). */
  weight?: number;
}

export interface ShardEntry {
  file: string;
  count: number;
  atoms: number;
  bytes: number;
  sha256: string;
  props: string[];
}

export interface ShardIndex {
  format: 'oreo-shards';
  version: 1;
  precision: 'f64' | 'f32';
  total: number;
  atoms: number;
  sources: ShardSource[];
  shards: ShardEntry[];
  /** Partial index only: conformations consumed from the input when the last shard was written. */
  consumed?: number;
  complete: boolean;
}

/** One shard, decoded into columns (views into the file's bytes). */
export interface ShardData {
  count: number;
  atoms: Int32Array;
  atomOffset: Int32Array;
  sourceId: Int32Array;
  index: Int32Array;
  kind: Uint8Array;
  energy?: Float64Array;
  props: Record<string, Float64Array>;
  z: Uint8Array;
  positions: Float64Array | Float32Array;
  forces?: Float64Array | Float32Array;
}

function align8(n: number): number {
  return (n + 7) & ~7;
}

/**
 * Where each section of a shard starts (bytes from the shard's start; -1: absent) and the
 * shard's size: after the 32-byte header, in this order, each 8-byte aligned.
 */
function shardLayout(n: number, nAtoms: number, nProps: number, fsz: number, hasEnergy: boolean, hasForces: boolean) {
  let off = 32;
  const sec = (bytes: number) => {
    const at = off;
    off = align8(off + bytes);
    return at;
  };
  const oAtoms = sec(4 * n);
  const oSrc = sec(4 * n);
  const oIdx = sec(4 * n);
  const oKind = sec(n);
  const oE = hasEnergy ? sec(8 * n) : -1;
  const oP = sec(8 * n * nProps);
  const oZ = sec(nAtoms);
  const oPos = sec(fsz * nAtoms * 3);
  const oF = hasForces ? sec(fsz * nAtoms * 3) : -1;
  return { oAtoms, oSrc, oIdx, oKind, oE, oP, oZ, oPos, oF, bytes: off };
}

/** Encode conformations into one shard file's bytes. */
export function encodeShard(confs: { conf: Conformation; sourceId: number }[], precision: 'f64' | 'f32'): { bytes: Uint8Array; props: string[] } {
  const n = confs.length;
  let nAtoms = 0;
  let anyE = false;
  let anyF = false;
  const propSet = new Set<string>();
  for (const { conf } of confs) {
    nAtoms += conf.z.length;
    if (conf.energy !== undefined) anyE = true;
    if (conf.forces) anyF = true;
    if (conf.props) for (const k of Object.keys(conf.props)) propSet.add(k);
  }
  const props = [...propSet].sort();
  const fsz = precision === 'f32' ? 4 : 8;
  const { oAtoms, oSrc, oIdx, oKind, oE, oP, oZ, oPos, oF, bytes } = shardLayout(n, nAtoms, props.length, fsz, anyE, anyF);
  const buf = new ArrayBuffer(bytes);
  const u8 = new Uint8Array(buf);
  const dv = new DataView(buf);
  for (let i = 0; i < 8; i++) u8[i] = SHARD_MAGIC.charCodeAt(i);
  dv.setUint32(8, 1, true);
  dv.setUint32(12, n, true);
  dv.setUint32(16, nAtoms, true);
  dv.setUint32(20, (anyE ? FLAG_ENERGY : 0) | (anyF ? FLAG_FORCES : 0) | (precision === 'f32' ? FLAG_F32 : 0), true);
  dv.setUint32(24, props.length, true);
  // Typed-array views are little-endian on every platform Node supports (x86, ARM).
  const atoms = new Int32Array(buf, oAtoms, n);
  const src = new Int32Array(buf, oSrc, n);
  const idx = new Int32Array(buf, oIdx, n);
  const kind = new Uint8Array(buf, oKind, n);
  const energy = anyE ? new Float64Array(buf, oE, n) : undefined;
  const propArr = new Float64Array(buf, oP, n * props.length);
  const z = new Uint8Array(buf, oZ, nAtoms);
  const Pos = precision === 'f32' ? Float32Array : Float64Array;
  const pos = new Pos(buf, oPos, nAtoms * 3);
  const forces = anyF ? new Pos(buf, oF, nAtoms * 3) : undefined;
  if (forces) forces.fill(NaN);
  propArr.fill(NaN);
  let a0 = 0;
  confs.forEach(({ conf, sourceId }, i) => {
    const na = conf.z.length;
    atoms[i] = na;
    src[i] = sourceId;
    idx[i] = conf.index ?? -1;
    kind[i] = kindOf(conf) === 'equilibrium' ? 0 : 1;
    if (energy) energy[i] = conf.energy ?? NaN;
    props.forEach((p, k) => {
      const v = conf.props?.[p];
      if (v !== undefined) propArr[k * n + i] = v;
    });
    for (let a = 0; a < na; a++) {
      const zz = conf.z[a];
      if (zz < 1 || zz > 255) throw new OreoError(`shard: atomic number ${zz} cannot be stored`);
      z[a0 + a] = zz;
    }
    pos.set(conf.positions, a0 * 3);
    if (forces && conf.forces) forces.set(conf.forces, a0 * 3);
    a0 += na;
  });
  return { bytes: u8, props };
}

/** Decode one shard's bytes; `file` names it in errors. */
export function decodeShard(bytes: Uint8Array, file: string, propNames: string[]): ShardData {
  if (bytes.length < 32) throw new InputError(file, 'shard is truncated (shorter than its header)');
  for (let i = 0; i < 8; i++) if (bytes[i] !== SHARD_MAGIC.charCodeAt(i)) throw new InputError(file, 'not an oreo shard (bad magic)');
  // Copy to an aligned buffer when the file's bytes are not 8-byte aligned in memory.
  const b = bytes.byteOffset % 8 === 0 ? bytes : bytes.slice();
  const buf = b.buffer as ArrayBuffer;
  const base = b.byteOffset;
  const dv = new DataView(buf, base, b.byteLength);
  const version = dv.getUint32(8, true);
  if (version !== 1) throw new InputError(file, `shard format version ${version} is not supported`);
  const n = dv.getUint32(12, true);
  const nAtoms = dv.getUint32(16, true);
  const flags = dv.getUint32(20, true);
  const nProps = dv.getUint32(24, true);
  if (nProps !== propNames.length) throw new InputError(file, `shard has ${nProps} properties but the index names ${propNames.length}`);
  const fsz = flags & FLAG_F32 ? 4 : 8;
  const { oAtoms, oSrc, oIdx, oKind, oE, oP, oZ, oPos, oF, bytes: size } = shardLayout(n, nAtoms, nProps, fsz, (flags & FLAG_ENERGY) !== 0, (flags & FLAG_FORCES) !== 0);
  if (size > b.byteLength) throw new InputError(file, `shard is truncated: needs ${size} bytes, has ${b.byteLength}`);
  const Pos = fsz === 4 ? Float32Array : Float64Array;
  const atoms = new Int32Array(buf, base + oAtoms, n);
  const atomOffset = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) atomOffset[i + 1] = atomOffset[i] + atoms[i];
  if (atomOffset[n] !== nAtoms) throw new InputError(file, `per-conformation atom counts sum to ${atomOffset[n]}, header says ${nAtoms}`);
  const propArr = new Float64Array(buf, base + oP, n * nProps);
  const props: Record<string, Float64Array> = {};
  propNames.forEach((p, k) => (props[p] = propArr.subarray(k * n, (k + 1) * n)));
  return {
    count: n,
    atoms,
    atomOffset,
    sourceId: new Int32Array(buf, base + oSrc, n),
    index: new Int32Array(buf, base + oIdx, n),
    kind: new Uint8Array(buf, base + oKind, n),
    energy: oE >= 0 ? new Float64Array(buf, base + oE, n) : undefined,
    props,
    z: new Uint8Array(buf, base + oZ, nAtoms),
    positions: new Pos(buf, base + oPos, nAtoms * 3),
    forces: oF >= 0 ? new Pos(buf, base + oF, nAtoms * 3) : undefined,
  };
}

/** Temporary sibling, then rename; a full disk or read-only folder is an error naming `path`. */
function writeAtomic(path: string, data: string | Uint8Array): void {
  writeFileAtomic(path, data);
}

export interface ShardWriterOptions {
  /** Conformations per shard (default 50 000). */
  shardSize?: number;
  /** Storage of positions and forces; energies are always float64. Default f64. */
  precision?: 'f64' | 'f32';
  /** Continue a build that stopped: keeps finished shards; the caller skips `resumeFrom` inputs. */
  resume?: boolean;
}

/**
 * Writes a shard set. Add conformations in a deterministic order; on resume, `resumeFrom` says
 * how many of them the finished shards already hold, and the caller skips that many.
 */
export class ShardWriter {
  readonly dir: string;
  readonly shardSize: number;
  readonly precision: 'f64' | 'f32';
  private index: ShardIndex;
  private pending: { conf: Conformation; sourceId: number }[] = [];
  private consumed = 0;
  /** How many input conformations the already-written shards cover (0 for a fresh build). */
  readonly resumeFrom: number;

  constructor(dir: string, sources: Omit<ShardSource, 'id'>[], options: ShardWriterOptions = {}) {
    this.dir = dir;
    this.shardSize = options.shardSize ?? 50_000;
    if (!Number.isInteger(this.shardSize) || this.shardSize < 1) throw new OreoError(`shard size must be a positive integer, got ${this.shardSize}`);
    this.precision = options.precision ?? 'f64';
    mkdirSync(dir, { recursive: true });
    const partial = join(dir, 'index.partial.json');
    const fresh: ShardIndex = {
      format: 'oreo-shards',
      version: 1,
      precision: this.precision,
      total: 0,
      atoms: 0,
      sources: sources.map((s, id) => ({ id, ...s })),
      shards: [],
      consumed: 0,
      complete: false,
    };
    if (options.resume && existsSync(partial)) {
      const prev = JSON.parse(readFileSync(partial, 'utf8')) as ShardIndex;
      const same = JSON.stringify(prev.sources) === JSON.stringify(fresh.sources) && prev.precision === this.precision;
      if (!same) throw new OreoError(`${dir}: cannot resume: the sources or precision differ from the interrupted build (delete the directory to start over)`);
      this.index = prev;
      this.consumed = prev.consumed ?? prev.total;
    } else {
      if (existsSync(join(dir, 'index.json')) && !options.resume) rmSync(join(dir, 'index.json'));
      this.index = fresh;
    }
    this.resumeFrom = this.consumed;
  }

  add(conf: Conformation, sourceId: number): void {
    if (!this.index.sources[sourceId]) throw new OreoError(`shard writer: unknown source id ${sourceId}`);
    this.pending.push({ conf, sourceId });
    if (this.pending.length >= this.shardSize) this.flush();
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    const { bytes, props } = encodeShard(this.pending, this.precision);
    const file = `shard-${String(this.index.shards.length).padStart(5, '0')}.bin`;
    writeAtomic(join(this.dir, file), bytes);
    const atoms = this.pending.reduce((s, p) => s + p.conf.z.length, 0);
    this.index.shards.push({ file, count: this.pending.length, atoms, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), props });
    this.index.total += this.pending.length;
    this.index.atoms += atoms;
    this.consumed += this.pending.length;
    this.index.consumed = this.consumed;
    this.pending = [];
    writeAtomic(join(this.dir, 'index.partial.json'), JSON.stringify(this.index, null, 1));
  }

  /** Write the last shard and the final index. */
  close(): ShardIndex {
    this.flush();
    const final: ShardIndex = { ...this.index, complete: true };
    delete final.consumed;
    writeAtomic(join(this.dir, 'index.json'), JSON.stringify(final, null, 1));
    rmSync(join(this.dir, 'index.partial.json'), { force: true });
    return final;
  }
}

export function readShardIndex(dir: string): ShardIndex {
  const p = join(dir, 'index.json');
  if (!existsSync(p)) {
    const partial = existsSync(join(dir, 'index.partial.json'));
    throw new InputError(dir, partial ? 'the shard build did not finish (index.partial.json only); resume it with --resume' : 'no index.json: not a shard directory');
  }
  let idx: ShardIndex;
  try {
    idx = JSON.parse(readFileSync(p, 'utf8')) as ShardIndex;
  } catch (err) {
    throw new InputError(p, `unreadable shard index: ${(err as Error).message}`);
  }
  if (idx.format !== 'oreo-shards' || idx.version !== 1) throw new InputError(p, 'not an oreo shard index (format/version)');
  return idx;
}

export function readShard(dir: string, entry: ShardEntry): ShardData {
  const p = join(dir, entry.file);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(p);
  } catch (err) {
    throw new InputError(p, `cannot read shard: ${(err as Error).message}`);
  }
  if (bytes.length !== entry.bytes) throw new InputError(p, `shard has ${bytes.length} bytes, the index says ${entry.bytes} (truncated or replaced?)`);
  return decodeShard(bytes, p, entry.props);
}

/** Conformation i of a decoded shard (copies out of the shard's buffer). */
export function shardConformation(s: ShardData, i: number, sourceName?: string): Conformation {
  const a0 = s.atomOffset[i];
  const a1 = s.atomOffset[i + 1];
  const c: Conformation = {
    z: Int32Array.from(s.z.subarray(a0, a1)),
    positions: Float64Array.from(s.positions.subarray(a0 * 3, a1 * 3)),
    index: s.index[i],
    kind: s.kind[i] === 0 ? 'equilibrium' : 'off-equilibrium',
  };
  if (sourceName !== undefined) c.source = sourceName;
  if (s.energy && !Number.isNaN(s.energy[i])) c.energy = s.energy[i];
  if (s.forces) {
    const f = s.forces.subarray(a0 * 3, a1 * 3);
    if (f.length === 0 || !Number.isNaN(f[0])) c.forces = Float64Array.from(f);
  }
  const props: Record<string, number> = {};
  for (const [k, v] of Object.entries(s.props)) if (!Number.isNaN(v[i])) props[k] = v[i];
  if (Object.keys(props).length) c.props = props;
  return c;
}

export interface StreamOptions {
  /** Shuffle shard order and conformations within each shard, with this seed (per epoch: add the epoch). */
  seed?: number;
  /** Only these source ids (e.g. the training part of a split is handled by `filter`). */
  filter?: (sourceId: number, index: number) => boolean;
}

/** Shards one at a time, decoded; memory holds one shard. */
export function* iterateShards(dir: string, options: StreamOptions = {}): Generator<{ data: ShardData; entry: ShardEntry; index: ShardIndex }> {
  const idx = readShardIndex(dir);
  const order = idx.shards.map((_, i) => i);
  if (options.seed !== undefined) new SplitStream(options.seed).shuffle(order);
  for (const k of order) yield { data: readShard(dir, idx.shards[k]), entry: idx.shards[k], index: idx };
}

/** Conformations of a shard set, streamed (shuffled within shards when a seed is given). */
export function* streamConformations(dir: string, options: StreamOptions = {}): Generator<Conformation> {
  const rng = options.seed !== undefined ? new SplitStream(options.seed ^ 0x5bd1e995) : undefined;
  for (const { data, index } of iterateShards(dir, options)) {
    const order = Int32Array.from({ length: data.count }, (_, i) => i);
    if (rng) rng.shuffle(order);
    for (const i of order) {
      if (options.filter && !options.filter(data.sourceId[i], data.index[i])) continue;
      yield shardConformation(data, i, index.sources[data.sourceId[i]]?.name);
    }
  }
}

/**
 * Batches straight from shard columns (no per-conformation objects), `batchSize` molecules each;
 * a batch never spans two shards, so memory stays at one shard plus one batch.
 */
export function* streamBatches(dir: string, batchSize: number, options: StreamOptions = {}): Generator<Batch> {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new OreoError(`batch size must be a positive integer, got ${batchSize}`);
  const rng = options.seed !== undefined ? new SplitStream(options.seed ^ 0x5bd1e995) : undefined;
  for (const { data, index } of iterateShards(dir, options)) {
    let order = Int32Array.from({ length: data.count }, (_, i) => i);
    if (rng) rng.shuffle(order);
    if (options.filter) order = order.filter((i) => options.filter!(data.sourceId[i], data.index[i]));
    for (let b = 0; b < order.length; b += batchSize) {
      yield batchFromShard(data, order.subarray(b, b + batchSize), index.sources);
    }
  }
}

/** A Batch of the given rows of a shard. */
export function batchFromShard(s: ShardData, rows: Int32Array, sources: ShardSource[]): Batch {
  const nMol = rows.length;
  const atomOffset = new Int32Array(nMol + 1);
  for (let m = 0; m < nMol; m++) atomOffset[m + 1] = atomOffset[m] + s.atoms[rows[m]];
  const nAtoms = atomOffset[nMol];
  const z = new Int32Array(nAtoms);
  const positions = new Float64Array(nAtoms * 3);
  const mol = new Int32Array(nAtoms);
  const forces = s.forces ? new Float64Array(nAtoms * 3) : undefined;
  const forcesMask = s.forces ? new Uint8Array(nMol) : undefined;
  const energy = s.energy ? new Float64Array(nMol) : undefined;
  const energyMask = s.energy ? new Uint8Array(nMol) : undefined;
  const props: Record<string, Float64Array> = {};
  for (const k of Object.keys(s.props)) props[k] = new Float64Array(nMol);
  const kind: Batch['kind'] = new Array(nMol);
  const source: (string | undefined)[] = new Array(nMol);
  const index = new Int32Array(nMol);
  for (let m = 0; m < nMol; m++) {
    const i = rows[m];
    const a0 = s.atomOffset[i];
    const a1 = s.atomOffset[i + 1];
    const b0 = atomOffset[m];
    for (let a = a0; a < a1; a++) z[b0 + a - a0] = s.z[a];
    positions.set(s.positions.subarray(a0 * 3, a1 * 3), b0 * 3);
    mol.fill(m, b0, b0 + (a1 - a0));
    if (forces && s.forces) {
      forces.set(s.forces.subarray(a0 * 3, a1 * 3), b0 * 3);
      forcesMask![m] = a1 > a0 && Number.isNaN(s.forces[a0 * 3]) ? 0 : 1;
    }
    if (energy && s.energy) {
      energy[m] = s.energy[i];
      energyMask![m] = Number.isNaN(s.energy[i]) ? 0 : 1;
    }
    for (const [k, v] of Object.entries(s.props)) props[k][m] = v[i];
    kind[m] = s.kind[i] === 0 ? 'equilibrium' : 'off-equilibrium';
    source[m] = sources[s.sourceId[i]]?.name;
    index[m] = s.index[i];
  }
  return withLabels({ z, positions, mol, nMol, atomOffset, kind, source, index }, { energy, energyMask, forces, forcesMask, props });
}
