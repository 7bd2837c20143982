/**
 * Training data streamed from shard sets (src/data/shards.ts) without holding them in memory:
 * memory is one decoded shard plus a bounded shuffle buffer of conformations, however large the
 * sets are.
 *
 * One epoch, for a seed s and epoch e:
 *   1. every shard of every set is a unit; the units are put in an order drawn from (s, e);
 *   2. a unit's rows are its training rows (split prop 0, or every row of a set without a split
 *      prop) of the chosen level of theory, each taken ⌊w⌋ times plus once more with probability
 *      w − ⌊w⌋ (w: the set's weight), in an order drawn from (s, e, set, shard);
 *   3. rows enter a shuffle buffer of B conformations; each draw takes a random one out (and the
 *      next row comes in), so neighbours in a shard are spread over about B draws and shards of
 *      different sets mix; at the end of the epoch the buffer is drained, so every training row
 *      is drawn ⌊w⌋ or ⌈w⌉ times per epoch — once for weight 1.
 *
 * The position (epoch, unit, row in the unit, the buffer generator's state and the buffer's rows
 * as (unit, row) pairs) is small and exact: `restore` reads back the shards the buffer's rows
 * came from and continues with the same draws.
 */
import { createHash } from 'node:crypto';
import { InputError, OreoError } from '../errors.js';
import type { Conformation } from './conformation.js';
import { deriveSeed, SplitStream } from '../random.js';
import { readShard, readShardIndex, shardConformation, type ShardData, type ShardIndex } from './shards.js';
import type { DataPosition, StreamPosition, TrainingData } from './training-data.js';

export type { StreamPosition } from './training-data.js';

/** One shard set of a training mix. */
export interface ShardSetSpec {
  name: string;
  /** The directory holding index.json and the shards. */
  dir: string;
  /** Expected uses of each training row per epoch (as a dataset config's weight). */
  weight: number;
  /**
   * Keep only the rows of this level of theory. The corpus names shard sources "<source> | <level
   * name>" ("qm9 | GFN2-xTB", "qm9 | ANI-2x (ωB97X/6-31G(d))"); `level` matches the level name,
   * or its first word(s) before a space ("ANI-2x"), or a whole source name. Default: every row.
   */
  level?: string;
  /** A second shard set whose rows are all validation rows (for sets with no split prop). */
  valDir?: string;
}

/** Row roles by the corpus's `split` prop (0 train, 1 val, 2 test); a row without one trains. */
export type RowPart = 'train' | 'val' | 'test';
const PARTS: RowPart[] = ['train', 'val', 'test'];

export function rowPart(data: ShardData, row: number, file: string): RowPart {
  const s = data.props.split;
  if (!s || Number.isNaN(s[row])) return 'train';
  const part = PARTS[s[row]];
  if (part === undefined) throw new InputError(file, `split prop ${s[row]} is not 0 (train), 1 (val) or 2 (test)`, `row ${row}`, 'split');
  return part;
}

export function levelMatches(sourceName: string, level: string): boolean {
  if (sourceName === level) return true;
  const cut = sourceName.lastIndexOf(' | ');
  if (cut < 0) return false;
  const name = sourceName.slice(cut + 3);
  return name === level || name.startsWith(`${level} `);
}

/** Which source ids of a shard index a level keeps (all when no level is asked). */
function levelMask(index: ShardIndex, dir: string, level: string | undefined): Uint8Array {
  const keep = new Uint8Array(index.sources.reduce((m, s) => Math.max(m, s.id + 1), 0));
  for (const s of index.sources) keep[s.id] = level === undefined || levelMatches(s.name, level) ? 1 : 0;
  if (level !== undefined && !keep.some((k) => k === 1)) {
    throw new InputError(dir, `no shard source of level '${level}' (its sources: ${index.sources.map((s) => `'${s.name}'`).join(', ')})`, undefined, 'level');
  }
  return keep;
}

interface OpenSet {
  spec: ShardSetSpec;
  index: ShardIndex;
  keep: Uint8Array;
}

function openSet(spec: ShardSetSpec): OpenSet {
  if (!(spec.weight >= 0) || !Number.isFinite(spec.weight)) throw new OreoError(`shard set '${spec.name}': weight must be a number ≥ 0, got ${spec.weight}`);
  const index = readShardIndex(spec.dir);
  return { spec, index, keep: levelMask(index, spec.dir, spec.level) };
}

/** The shard sets' identity (shard hashes, weights, levels): a checkpoint of other data is refused. */
function fingerprint(sets: OpenSet[], seed: number, bufferSize: number): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ seed, bufferSize }));
  for (const s of sets) h.update(JSON.stringify({ w: s.spec.weight, level: s.spec.level ?? null, shards: s.index.shards.map((e) => e.sha256) }));
  return h.digest('hex').slice(0, 16);
}

export interface ShardStreamOptions {
  seed: number;
  /** Conformations in the shuffle buffer (default 10 000). */
  bufferSize?: number;
  /** Leave out conformations this refuses (e.g. those no term of the objective applies to). */
  accept?: (c: Conformation) => boolean;
  /** Conformations per epoch when known (from `surveyShardSets`); else an upper bound is used. */
  epochSize?: number;
}

interface BufferedRow {
  conf: Conformation;
  unit: number;
  row: number;
}

interface OpenUnit {
  unit: number;
  data: ShardData;
  file: string;
  /** Shard rows in draw order (a row repeats for weights above 1). */
  rows: Int32Array;
  sourceNames: string[];
}

export class ShardStream implements TrainingData {
  readonly bufferSize: number;
  readonly size: number;
  private readonly sets: OpenSet[];
  private readonly seed: number;
  private readonly accept?: (c: Conformation) => boolean;
  private readonly id: string;
  private epochAt = 0;
  private offset = 0;
  private units: [number, number][] = [];
  private unitNext = 0;
  private open: OpenUnit | null = null;
  private rowNext = 0;
  private rng: SplitStream;
  private buffer: BufferedRow[] = [];

  constructor(specs: ShardSetSpec[], options: ShardStreamOptions) {
    if (specs.length === 0) throw new OreoError('no shard sets to stream');
    this.sets = specs.map(openSet);
    this.seed = options.seed;
    this.bufferSize = options.bufferSize ?? 10_000;
    if (!Number.isInteger(this.bufferSize) || this.bufferSize < 1) throw new OreoError(`shuffle buffer must be a positive integer, got ${this.bufferSize}`);
    this.accept = options.accept;
    this.id = fingerprint(this.sets, this.seed, this.bufferSize);
    // Without a survey: every row times its weight, an upper bound (the split and level filters
    // leave some out).
    this.size = options.epochSize ?? this.sets.reduce((n, s) => n + s.spec.weight * s.index.total, 0);
    this.rng = this.startEpoch(0);
  }

  get epoch(): number {
    return this.epochAt;
  }

  private startEpoch(epoch: number): SplitStream {
    this.epochAt = epoch;
    this.offset = 0;
    this.units = [];
    this.sets.forEach((s, k) => s.index.shards.forEach((_, j) => this.units.push([k, j])));
    new SplitStream(deriveSeed(this.seed, `shards:${epoch}`)).shuffle(this.units);
    this.unitNext = 0;
    this.open = null;
    this.rowNext = 0;
    this.buffer = [];
    return new SplitStream(deriveSeed(this.seed, `buffer:${epoch}`));
  }

  /** Read unit u of the current epoch and lay out its rows in draw order. */
  private loadUnit(u: number): OpenUnit {
    const [k, j] = this.units[u];
    const set = this.sets[k];
    const entry = set.index.shards[j];
    const file = `${set.spec.dir}/${entry.file}`;
    const data = readShard(set.spec.dir, entry);
    const rng = new SplitStream(deriveSeed(this.seed, `rows:${this.epochAt}:${k}:${j}`));
    const whole = Math.floor(set.spec.weight);
    const frac = set.spec.weight - whole;
    const rows: number[] = [];
    for (let i = 0; i < data.count; i++) {
      // Draw the fractional weight for every row, kept or not, so the draws do not depend on the filters.
      const extra = frac > 0 && rng.next() < frac ? 1 : 0;
      if (!set.keep[data.sourceId[i]] || rowPart(data, i, file) !== 'train') continue;
      for (let t = 0; t < whole + extra; t++) rows.push(i);
    }
    const order = rng.shuffle(Int32Array.from(rows));
    return { unit: u, data, file, rows: order, sourceNames: set.index.sources.map((s) => s.name) };
  }

  private conformation(o: OpenUnit, p: number): Conformation {
    return shardConformation(o.data, o.rows[p], o.sourceNames[o.data.sourceId[o.rows[p]]]);
  }

  /** Top the buffer up from the shards, as far as the epoch's rows go. */
  private fill(): void {
    while (this.buffer.length < this.bufferSize) {
      if (!this.open || this.rowNext >= this.open.rows.length) {
        if (this.unitNext >= this.units.length) return;
        this.open = this.loadUnit(this.unitNext++);
        this.rowNext = 0;
        continue;
      }
      const p = this.rowNext++;
      const conf = this.conformation(this.open, p);
      if (this.accept && !this.accept(conf)) continue;
      this.buffer.push({ conf, unit: this.open.unit, row: p });
    }
  }

  private draw(): Conformation {
    this.fill();
    if (this.buffer.length === 0) {
      if (this.offset === 0) throw new OreoError(`the shard sets (${this.sets.map((s) => s.spec.dir).join(', ')}) hold no training conformations${this.sets.some((s) => s.spec.level) ? ' of the levels asked for' : ''}`);
      this.rng = this.startEpoch(this.epochAt + 1);
      return this.draw();
    }
    const j = this.rng.int(this.buffer.length);
    const out = this.buffer[j];
    this.buffer[j] = this.buffer[this.buffer.length - 1];
    this.buffer.pop();
    this.offset++;
    return out.conf;
  }

  next(n: number): Conformation[] {
    const out: Conformation[] = [];
    for (let i = 0; i < n; i++) out.push(this.draw());
    return out;
  }

  position(): DataPosition {
    const buffer: number[] = [];
    for (const b of this.buffer) buffer.push(b.unit, b.row);
    const unit = this.open ? this.open.unit : -1;
    return { epoch: this.epochAt, offset: this.offset, stream: { unit, row: this.rowNext, rng: this.rng.getState(), buffer, data: this.id } };
  }

  restore(p: DataPosition): void {
    const s = p.stream;
    if (!s) throw new OreoError('the checkpoint was written by a run that held its data in memory; this run streams shards');
    if (s.data !== this.id) {
      throw new OreoError(`the checkpoint was written for other data (shards, weights, levels, seed or shuffle buffer differ: ${s.data} vs ${this.id}); start a new run folder`);
    }
    const ints = (xs: unknown[]) => xs.every((x) => Number.isInteger(x) && (x as number) >= -1);
    if (!ints([p.epoch, p.offset, s.unit, s.row]) || !Array.isArray(s.buffer) || s.buffer.length % 2 !== 0 || !ints(s.buffer)) {
      throw new OreoError('checkpoint data position: epoch, offset, unit, row and the buffer must be whole numbers (the buffer as (unit, row) pairs)');
    }
    this.startEpoch(p.epoch);
    this.offset = p.offset;
    this.rng = SplitStream.fromState(s.rng);
    // The buffer's rows, read back one shard at a time (each unit once).
    const byUnit = new Map<number, number[]>();
    for (let i = 0; i < s.buffer.length; i += 2) {
      const list = byUnit.get(s.buffer[i]) ?? [];
      list.push(i / 2);
      byUnit.set(s.buffer[i], list);
    }
    const slots: BufferedRow[] = new Array(s.buffer.length / 2);
    for (const [u, where] of byUnit) {
      if (!(u >= 0 && u < this.units.length)) throw new OreoError(`checkpoint data position: unit ${u} is not in this epoch's ${this.units.length} shards`);
      const o = this.loadUnit(u);
      for (const i of where) {
        const row = s.buffer[2 * i + 1];
        if (!(row >= 0 && row < o.rows.length)) throw new OreoError(`checkpoint data position: row ${row} is not in unit ${u} (${o.file})`);
        slots[i] = { conf: this.conformation(o, row), unit: u, row };
      }
    }
    this.buffer = slots;
    if (s.unit >= 0) {
      this.open = this.loadUnit(s.unit);
      this.unitNext = s.unit + 1;
      this.rowNext = s.row;
    }
  }
}

export interface ShardSurvey {
  /** Training rows per epoch after filters, before weights; by set. */
  trainRows: number[];
  valRows: number[];
  testRows: number[];
  /** Expected conformations per epoch (weights applied). */
  epochSize: number;
  /** Up to `valCap` validation conformations (a seeded uniform sample of the val rows). */
  val: Conformation[];
  /** Up to `sampleCap` training conformations (seeded uniform sample), e.g. for energy calibration. */
  sample: Conformation[];
  /** Atomic numbers present in the training rows. */
  elements: number[];
}

/**
 * One pass over the shard sets, one shard in memory at a time: row counts by part, the
 * validation set (bounded by `valCap`, so memory stays flat as the data grows), a training
 * sample and the elements.
 */
export function surveyShardSets(specs: ShardSetSpec[], options: { seed: number; valCap: number; sampleCap: number; accept?: (c: Conformation) => boolean }): ShardSurvey {
  const sets = specs.map(openSet);
  const out: ShardSurvey = { trainRows: [], valRows: [], testRows: [], epochSize: 0, val: [], sample: [], elements: [] };
  const valRng = new SplitStream(deriveSeed(options.seed, 'survey:val'));
  const sampleRng = new SplitStream(deriveSeed(options.seed, 'survey:sample'));
  let valSeen = 0;
  let sampleSeen = 0;
  // Reservoir sampling (Algorithm R): a uniform sample of fixed size from a stream.
  const reservoir = (list: Conformation[], cap: number, seen: number, rng: SplitStream, make: () => Conformation) => {
    if (list.length < cap) list.push(make());
    else {
      const j = Math.floor(rng.next() * seen);
      if (j < cap) list[j] = make();
    }
  };
  const elements = new Set<number>();
  const visit = (dir: string, index: ShardIndex, keep: Uint8Array, forcePart: RowPart | undefined, k: number) => {
    for (const entry of index.shards) {
      const data = readShard(dir, entry);
      const file = `${dir}/${entry.file}`;
      for (let i = 0; i < data.count; i++) {
        if (!keep[data.sourceId[i]]) continue;
        const part = forcePart ?? rowPart(data, i, file);
        const make = () => shardConformation(data, i, index.sources[data.sourceId[i]]?.name);
        if (options.accept && part !== 'test' && !options.accept(make())) continue;
        if (part === 'test') out.testRows[k]++;
        else if (part === 'val') {
          out.valRows[k]++;
          reservoir(out.val, options.valCap, ++valSeen, valRng, make);
        } else {
          out.trainRows[k]++;
          reservoir(out.sample, options.sampleCap, ++sampleSeen, sampleRng, make);
          for (let a = data.atomOffset[i]; a < data.atomOffset[i + 1]; a++) elements.add(data.z[a]);
        }
      }
    }
  };
  sets.forEach((s, k) => {
    out.trainRows.push(0);
    out.valRows.push(0);
    out.testRows.push(0);
    visit(s.spec.dir, s.index, s.keep, undefined, k);
    if (s.spec.valDir) {
      const vIndex = readShardIndex(s.spec.valDir);
      visit(s.spec.valDir, vIndex, levelMask(vIndex, s.spec.valDir, s.spec.level), 'val', k);
    }
    out.epochSize += s.spec.weight * out.trainRows[k];
  });
  out.elements = [...elements].sort((a, b) => a - b);
  return out;
}
