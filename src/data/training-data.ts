/**
 * Where the training loop takes its conformations from, one batch at a time: a set held in
 * memory (small sets, fine-tuning) or shards streamed from disk (src/data/shard-stream.ts, the
 * corpus). Either says where it stands as a plain JSON record, which goes into the training
 * checkpoint, so a resumed run draws exactly the batches the uninterrupted one would have.
 */
import { OreoError } from '../errors.js';
import type { Conformation } from './conformation.js';
import { deriveSeed, permutation } from '../random.js';

/** Where a shard stream (src/data/shard-stream.ts) stands. */
export interface StreamPosition {
  /** The open unit of the epoch's shard order (-1 before the first) and its next row. */
  unit: number;
  row: number;
  /** The buffer generator's state. */
  rng: number;
  /** The buffer's rows in buffer order, as flat (unit, row) pairs. */
  buffer: number[];
  /** The data and settings the position belongs to (a digest of shard hashes, weights, levels, seed and buffer size). */
  data: string;
}

/** The data position saved in a training checkpoint. */
export interface DataPosition {
  /** Passes completed over the training data. */
  epoch: number;
  /** Conformations drawn so far in this epoch. */
  offset: number;
  /** Streamed data only: the shard cursor, the shuffle buffer and its generator. */
  stream?: StreamPosition;
}

export interface TrainingData {
  /** Conformations in one epoch (for a stream with fractional weights, the expected number). */
  readonly size: number;
  /** Passes completed over the training data. */
  readonly epoch: number;
  /** The next `n` conformations, continuing into the next epoch when this one runs out. */
  next(n: number): Conformation[];
  position(): DataPosition;
  /** Continue from a position that `position()` gave (for this same data). */
  restore(p: DataPosition): void;
}

/**
 * A set in memory, drawn epoch by epoch in a seeded random order (a new permutation each epoch,
 * seeded by the epoch number, so a position is just epoch and offset).
 */
export class InMemoryData implements TrainingData {
  private epochAt = 0;
  private offset = 0;
  private perm: Int32Array;

  constructor(
    private readonly confs: Conformation[],
    private readonly seed: number,
  ) {
    if (confs.length === 0) throw new OreoError('the training set is empty');
    this.perm = this.order(0);
  }

  get size(): number {
    return this.confs.length;
  }

  get epoch(): number {
    return this.epochAt;
  }

  private order(epoch: number): Int32Array {
    return permutation(this.confs.length, deriveSeed(this.seed, `epoch:${epoch}`));
  }

  next(n: number): Conformation[] {
    const chunk: Conformation[] = [];
    while (chunk.length < n) {
      if (this.offset >= this.perm.length) {
        this.epochAt++;
        this.offset = 0;
        this.perm = this.order(this.epochAt);
      }
      chunk.push(this.confs[this.perm[this.offset++]]);
      // A set smaller than the batch gives a smaller batch rather than repeating conformations.
      if (chunk.length >= this.confs.length) break;
    }
    return chunk;
  }

  position(): DataPosition {
    return { epoch: this.epochAt, offset: this.offset };
  }

  restore(p: DataPosition): void {
    if (p.stream) throw new OreoError('the checkpoint was written by a run that streamed shards; this run holds its data in memory');
    this.epochAt = p.epoch;
    this.offset = p.offset;
    this.perm = this.order(p.epoch);
  }
}
