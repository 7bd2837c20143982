/**
 * ANI-2x as a reference calculator (`oreo label --calculator ani2x`, the corpus pipeline by name
 * through registry.ts): the ensemble-mean energy and forces, each frame also recording the
 * ensemble's spread and the level of theory (extxyz info `level_of_theory`, `ani_energy_spread`, `ani_force_spread_max`,
 * `ani_force_spread_mean`, eV and eV/Å; per-atom column `ani_force_spread`).
 *
 * `computeAsync` is batched and threaded: frames asked for within one turn of the event loop are
 * gathered into batches of up to `batchSize` molecules, each batch computed as one call on one of
 * `threads` worker threads (each holding its own copy of the model). `compute` runs on the calling
 * thread (MD, optimisers).
 */
import { Worker } from 'node:worker_threads';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { EnergyForces } from '../calculator.js';
import { OreoError } from '../errors.js';
import { loadEnergyModel, resolveModelPath, AniEnsemble, readOreoHeader } from '../model/load.js';
import { kindOfHeader } from '../model/open.js';
import { checkAniStructure } from '../model/ani/ensemble.js';
import { packageRoot } from '../data/bundled.js';
import { packStructures } from '../data/batch.js';
import type { ReferenceCalculator, ReferenceDescription } from './reference.js';
import type { DType } from '../engine/index.js';

/** A label with the ensemble's spread, which the labeller writes beside energy and forces. */
export interface LabelWithExtras extends EnergyForces {
  /** Per-frame values for the extxyz comment line. */
  info?: Record<string, number | string>;
  /** Per-atom columns (one value per atom). */
  arrays?: Record<string, Float64Array>;
}

export interface AniCalculatorOptions {
  /** Model file or bundled name (default ani2x). */
  model?: string;
  dtype?: DType;
  /** Worker threads for computeAsync (default 2). */
  threads?: number;
  /** Molecules per batch (default 32). */
  batchSize?: number;
  charge?: number;
  unpaired?: number;
}

interface Pending {
  z: Int32Array;
  positions: Float64Array;
  resolve(r: LabelWithExtras): void;
  reject(e: Error): void;
}

interface Thread {
  worker: Worker;
  ready: Promise<void>;
  busy: boolean;
}

function withSpread(energy: number, forces: Float64Array, energySpread: number, forceSpread: Float64Array, levelOfTheory: string): LabelWithExtras {
  let max = 0, sum = 0;
  for (const v of forceSpread) {
    max = Math.max(max, v);
    sum += v;
  }
  return {
    energy,
    forces,
    info: { level_of_theory: levelOfTheory, ani_energy_spread: energySpread, ani_force_spread_max: max, ani_force_spread_mean: forceSpread.length ? sum / forceSpread.length : 0 },
    arrays: { ani_force_spread: forceSpread },
  };
}

export class AniReferenceCalculator implements ReferenceCalculator {
  readonly name: string;
  readonly modelPath: string;
  readonly threads: number;
  readonly batchSize: number;
  readonly dtype: DType;
  private ensemble: AniEnsemble | null = null;
  private pool: Thread[] = [];
  private queue: Pending[] = [];
  private flushScheduled = false;
  private header: { name: string; levelOfTheory: string; elements: string[]; members: number } | null = null;
  private nextId = 0;
  private waiting = new Map<number, Pending[]>();

  constructor(options: AniCalculatorOptions = {}) {
    this.modelPath = resolveModelPath(options.model ?? 'ani2x');
    this.dtype = options.dtype ?? 'float32';
    this.threads = options.threads ?? 2;
    this.batchSize = options.batchSize ?? 32;
    if (!(Number.isInteger(this.threads) && this.threads >= 1)) throw new OreoError(`ani2x: threads must be a positive integer, got ${this.threads}`);
    if (!(Number.isInteger(this.batchSize) && this.batchSize >= 1)) throw new OreoError(`ani2x: batch size must be a positive integer, got ${this.batchSize}`);
    if (options.charge !== undefined && options.charge !== 0) throw new OreoError(`ani2x covers neutral molecules only; charge ${options.charge} was given`);
    if (options.unpaired !== undefined && options.unpaired !== 0) throw new OreoError(`ani2x covers closed-shell molecules only; ${options.unpaired} unpaired electrons were given`);
    this.name = basename(this.modelPath).replace(/\.oreo$/, '');
  }

  /** Frames the labeller should keep in flight so that every thread gets full batches. */
  get framesInFlight(): number {
    return this.threads * this.batchSize * 2;
  }

  private model(): AniEnsemble {
    if (!this.ensemble) {
      const m = loadEnergyModel(this.modelPath, { dtype: this.dtype });
      if (!(m instanceof AniEnsemble)) throw new OreoError(`${this.modelPath}: not an ANI ensemble`);
      this.ensemble = m;
    }
    return this.ensemble;
  }

  /** The file's header (name, level of theory, elements, members), read without its weights. */
  private info(): { name: string; levelOfTheory: string; elements: string[]; members: number } {
    if (!this.header) {
      const header = readOreoHeader(this.modelPath);
      if (!header || kindOfHeader(header) !== 'ani-ensemble') throw new OreoError(`${this.modelPath}: not an ANI ensemble`);
      const meta = (header.meta ?? {}) as Record<string, unknown>;
      this.header = {
        name: String(meta.name ?? 'ANI'),
        levelOfTheory: String(meta.levelOfTheory ?? 'unknown'),
        elements: (header.aev as { species: string[] }).species,
        members: (header.members as unknown[]).length,
      };
    }
    return this.header;
  }

  checkElements(z: Int32Array): void {
    const h = this.info();
    checkAniStructure(h.elements, h.name, z);
  }

  compute(z: Int32Array, positions: Float64Array): LabelWithExtras {
    const r = this.model().compute(z, positions, undefined, 1, { spread: true });
    return withSpread(r.energy[0], r.forces, r.energySpread![0], r.forceSpread!, this.info().levelOfTheory);
  }

  computeAsync(z: Int32Array, positions: Float64Array): Promise<LabelWithExtras> {
    return new Promise((resolve, reject) => {
      this.queue.push({ z, positions, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => {
          this.flushScheduled = false;
          this.dispatch();
        });
      }
    });
  }

  private startThreads(): void {
    if (this.pool.length) return;
    for (let t = 0; t < this.threads; t++) {
      const worker = new Worker(new URL('./ani-worker.js', import.meta.url), { workerData: { model: this.modelPath, dtype: this.dtype } });
      const thread: Thread = {
        worker,
        busy: false,
        ready: new Promise((resolve, reject) => {
          worker.once('message', () => resolve());
          worker.once('error', reject);
        }),
      };
      worker.on('message', (m: { id?: number; error?: string; energy?: Float64Array; forces?: Float64Array; energySpread?: Float64Array; forceSpread?: Float64Array }) => {
        if (m.id === undefined) return;
        const frames = this.waiting.get(m.id)!;
        this.waiting.delete(m.id);
        thread.busy = false;
        // An idle thread must not keep the process alive; a busy one must (its answer is awaited).
        worker.unref();
        if (m.error) frames.forEach((f) => f.reject(new OreoError(m.error!)));
        else {
          let a = 0;
          frames.forEach((f, k) => {
            const n = f.z.length;
            f.resolve(withSpread(m.energy![k], m.forces!.slice(3 * a, 3 * (a + n)), m.energySpread![k], m.forceSpread!.slice(a, a + n), this.info().levelOfTheory));
            a += n;
          });
        }
        this.dispatch();
      });
      worker.on('error', (err) => {
        for (const frames of this.waiting.values()) frames.forEach((f) => f.reject(new OreoError(`ani2x worker thread failed: ${err.message}`)));
        this.waiting.clear();
      });
      worker.unref();
      this.pool.push(thread);
    }
  }

  private dispatch(): void {
    if (!this.queue.length) return;
    this.startThreads();
    for (const thread of this.pool) {
      if (thread.busy || !this.queue.length) continue;
      const frames = this.queue.splice(0, this.batchSize);
      thread.busy = true;
      const { z, positions, mol } = packStructures(frames);
      const id = this.nextId++;
      this.waiting.set(id, frames);
      thread.worker.ref();
      thread.ready.then(
        () => thread.worker.postMessage({ id, z, positions, mol, nMol: frames.length }, [z.buffer, positions.buffer, mol.buffer]),
        (err: Error) => {
          this.waiting.delete(id);
          frames.forEach((f) => f.reject(new OreoError(`ani2x worker thread did not start: ${err.message}`)));
        },
      );
    }
  }

  /** Stop the worker threads (they do not keep the process alive in any case). */
  async close(): Promise<void> {
    await Promise.all(this.pool.map((t) => t.worker.terminate()));
    this.pool = [];
  }

  describe(): ReferenceDescription {
    const m = this.info();
    let version = 'unknown';
    try {
      version = String((JSON.parse(readFileSync(`${packageRoot()}/package.json`, 'utf8')) as { version?: string }).version);
    } catch {
      /* keep 'unknown' */
    }
    const sha256 = createHash('sha256').update(readFileSync(this.modelPath)).digest('hex');
    return {
      program: 'oreo',
      version,
      method: m.levelOfTheory,
      settings: {
        model: basename(this.modelPath),
        model_sha256: sha256,
        ensemble_size: m.members,
        energy: 'ensemble mean',
        dtype: this.dtype,
        elements: m.elements.join(' '),
        charge: 0,
        unpaired: 0,
      },
    };
  }
}
