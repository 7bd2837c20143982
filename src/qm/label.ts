/**
 * Labelling a file of structures with a reference calculator: every frame gets the calculator's
 * energy (eV) and forces (eV/Å) and is written to an extxyz file, in input order.
 *
 * - Resumable: frames go to `OUT.partial` as soon as they (and every frame before them) are done;
 *   a rerun keeps the labelled frames already there (or in OUT) and computes only the rest.
 *   Each output frame records `input_index`, the frame's position in the input, and on resume
 *   its atoms and positions must match that input frame exactly, so a changed input is noticed.
 * - Parallel: up to `workers` calculations run at once (separate program processes).
 * - OUT appears only when the whole input has been tried (the partial file is renamed onto it).
 *   With skipFailed, frames whose calculation failed are left out of OUT; a rerun tries them
 *   again and appends them.
 *
 * Frames keep their other per-frame values and per-atom columns; old energies and forces are
 * replaced. Periodic frames are refused: the calculators here are molecular.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { replaceFile } from '../io/atomic.js';
import { conformationToFrame, type ExtxyzFrame, formatExtxyzFrame, iterateExtxyzFile } from '../data/extxyz.js';
import { detectFormat, iterateConformations } from '../data/read.js';
import { InputError, OreoError, writeFailed } from '../errors.js';
import type { ReferenceCalculator } from './reference.js';
import type { EnergyForces } from '../calculator.js';

export interface LabelOptions {
  input: string;
  /** Output extxyz file. */
  output: string;
  calculator: ReferenceCalculator;
  /** Calculations at once (default 1). */
  workers?: number;
  /** Ignore what earlier runs left in OUT / OUT.partial and start over. */
  overwrite?: boolean;
  /** Leave out frames whose calculation fails (reported through onFailure) instead of stopping. */
  skipFailed?: boolean;
  onProgress?(p: LabelProgress): void;
  onFailure?(index: number, err: Error): void;
  /** Minimum seconds between progress reports (default 1). */
  progressSeconds?: number;
  /**
   * Label only some input frames: given the input's frame count, the indices to label (e.g. every
   * fourth frame of an MD trajectory). Output frames keep their input index; default all.
   */
  selectFrames?(count: number): number[];
}

export interface LabelProgress {
  /** Frames labelled by this run. */
  done: number;
  /** Frames this run has to label (total minus those kept from an earlier run). */
  todo: number;
  /** Frames kept from an earlier run. */
  kept: number;
  failed: number;
  framesPerSecond: number;
  /** Estimated seconds to the end, NaN before the first frame is done. */
  etaSeconds: number;
  final: boolean;
}

export interface LabelResult {
  output: string;
  /** Frames in the input. */
  frames: number;
  /** Frames labelled by this run. */
  labelled: number;
  /** Frames kept from an earlier run. */
  kept: number;
  /** Input indices of frames that failed (with skipFailed). */
  failed: number[];
  seconds: number;
}

/** Key in each output frame holding the frame's index in the input file. */
export const INPUT_INDEX_KEY = 'input_index';

/** Where unfinished labelling of `output` is kept. */
export function partialPath(output: string): string {
  return `${output}.partial`;
}

function fingerprint(z: Int32Array, positions: Float64Array): string {
  const h = createHash('sha1');
  h.update(new Uint8Array(z.buffer, z.byteOffset, z.byteLength));
  h.update(new Uint8Array(positions.buffer, positions.byteOffset, positions.byteLength));
  return h.digest('hex');
}

/** Input frames one by one; extxyz keeps every column, other formats go through Conformation. */
async function* inputFrames(path: string): AsyncGenerator<ExtxyzFrame> {
  const format = await detectFormat(path);
  if (format === 'extxyz') {
    yield* iterateExtxyzFile(path);
    return;
  }
  for await (const c of iterateConformations(path, { format })) {
    const frame = conformationToFrame(c);
    delete frame.info.energy;
    delete frame.arrays.forces;
    yield frame;
  }
}

function isPeriodic(f: ExtxyzFrame): boolean {
  return f.pbc ? f.pbc.some(Boolean) : f.cell !== undefined;
}

/**
 * The frame with new labels: old energy/forces (any spelling) replaced; a calculator's extra
 * per-frame values (`info`) and per-atom columns (`arrays`), e.g. ANI's ensemble spread, added.
 */
function labelledFrame(f: ExtxyzFrame, index: number, r: EnergyForces & { info?: Record<string, number | string>; arrays?: Record<string, Float64Array> }): ExtxyzFrame {
  const { energy, forces } = r;
  const info: ExtxyzFrame['info'] = {};
  for (const [k, v] of Object.entries(f.info)) if (k.toLowerCase() !== 'energy' && k !== INPUT_INDEX_KEY) info[k] = v;
  info.energy = energy;
  info[INPUT_INDEX_KEY] = index;
  const arrays: ExtxyzFrame['arrays'] = {};
  for (const [k, v] of Object.entries(f.arrays)) if (k !== 'forces' && k !== 'force') arrays[k] = v;
  arrays.forces = forces;
  Object.assign(info, r.info ?? {});
  Object.assign(arrays, r.arrays ?? {});
  return { ...f, info, arrays };
}

/**
 * Frames already labelled by an earlier run, read from `source` up to the first incomplete frame
 * (a run stopped mid-write leaves one), copied to `dest`. Returns input index → fingerprint.
 */
function keepEarlierFrames(source: string, dest: string): Map<number, string> {
  const kept = new Map<number, string>();
  const fd = openSync(dest, 'w');
  try {
    try {
      for (const f of iterateExtxyzFile(source)) {
        const index = f.info[INPUT_INDEX_KEY];
        if (typeof index !== 'number' || typeof f.info.energy !== 'number' || !f.arrays.forces) {
          throw new OreoError(
            `${source} holds frames that oreo label did not write (no '${INPUT_INDEX_KEY}', energy or forces); ` +
              `move it away, or pass --overwrite to replace it`,
          );
        }
        kept.set(index, fingerprint(f.z, f.positions));
        writeSync(fd, formatExtxyzFrame(f));
      }
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      // An incomplete last frame: drop it, and with it nothing else.
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return kept;
}

/** Label every frame of `input` (see the module comment). */
export async function labelFile(options: LabelOptions): Promise<LabelResult> {
  const started = performance.now();
  const { input, output, calculator } = options;
  const workers = options.workers ?? 1;
  if (!Number.isInteger(workers) || workers < 1) throw new OreoError(`workers must be an integer ≥ 1, got ${workers}`);
  if (!existsSync(input)) throw new InputError(input, 'no such file');
  // Fails fast, before reading anything, when the program is missing or is not what it claims.
  calculator.describe();

  // First pass: count, and refuse what cannot be labelled, before any calculation.
  let count = 0;
  for await (const f of inputFrames(input)) {
    if (isPeriodic(f)) throw new InputError(input, `periodic frame (cell/pbc): ${calculator.name} is set up for isolated molecules only`, count);
    try {
      calculator.checkElements(f.z);
    } catch (err) {
      throw new InputError(input, (err as Error).message, count);
    }
    count++;
  }
  if (count === 0) throw new InputError(input, 'no frames to label');
  const selected = options.selectFrames ? new Set(options.selectFrames(count)) : undefined;
  const total = selected ? selected.size : count;
  if (total === 0) throw new InputError(input, 'no frames selected to label');

  const partial = partialPath(output);
  let kept = new Map<number, string>();
  const source = options.overwrite ? undefined : existsSync(partial) ? partial : existsSync(output) ? output : undefined;
  replaceFile(partial, (tmp) => {
    if (source) kept = keepEarlierFrames(source, tmp);
    // Checked before the partial file replaces anything, so a refused rerun leaves the files as they were.
    const beyond = [...kept.keys()].find((i) => i >= count);
    if (beyond !== undefined) {
      throw new OreoError(
        `${source} holds a label for input frame ${beyond}, but ${input} has only ${count} frames; ` +
          `the input changed since it was labelled: pass --overwrite to start over`,
      );
    }
    const unselected = selected && [...kept.keys()].find((i) => !selected.has(i));
    if (unselected !== undefined) {
      throw new OreoError(
        `${source} holds a label for input frame ${unselected}, which the frame selection leaves out; ` +
          `it was labelled with other --frames: pass --overwrite to start over`,
      );
    }
    if (!kept.size) closeSync(openSync(tmp, 'w'));
  });


  const todo = total - kept.size;
  const failed: number[] = [];
  let done = 0;
  const progressMs = (options.progressSeconds ?? 1) * 1000;
  let lastReport = -Infinity;
  const report = (final: boolean) => {
    if (!options.onProgress) return;
    const now = performance.now();
    if (!final && now - lastReport < progressMs) return;
    lastReport = now;
    const seconds = (now - started) / 1000;
    const rate = done / Math.max(seconds, 1e-9);
    options.onProgress({
      done,
      todo,
      kept: total - todo,
      failed: failed.length,
      framesPerSecond: rate,
      etaSeconds: done > 0 ? (todo - done - failed.length) / rate : NaN,
      final,
    });
  };

  const fd = openSync(partial, 'a');
  // Finished frames wait here until every frame before them is written, so the file keeps input order.
  const finished = new Map<number, string | null>();
  const order: number[] = [];
  let nextWrite = 0;
  const flush = () => {
    while (nextWrite < order.length && finished.has(order[nextWrite])) {
      const text = finished.get(order[nextWrite]);
      finished.delete(order[nextWrite]);
      if (text) {
        try {
          writeSync(fd, text);
        } catch (e) {
          writeFailed(partial, e);
        }
      }
      nextWrite++;
    }
  };
  const inflight = new Set<Promise<void>>();
  let firstError: Error | undefined;
  let loopError: unknown;
  try {
    let index = 0;
    try {
      for await (const f of inputFrames(input)) {
        const i = index++;
        if (selected && !selected.has(i)) continue;
        const prior = kept.get(i);
        if (prior !== undefined) {
          if (prior !== fingerprint(f.z, f.positions)) {
            throw new OreoError(
              `${source} has a labelled frame ${i} whose atoms or positions differ from frame ${i} of ${input}; ` +
                `the input changed since it was labelled: pass --overwrite to start over`,
            );
          }
          continue;
        }
        // Keep the window of unfinished frames small so memory does not grow behind a slow frame.
        while (inflight.size >= workers || (inflight.size > 0 && order.length - nextWrite >= 4 * workers)) {
          await Promise.race(inflight);
        }
        if (firstError) break;
        order.push(i);
        const job = calculator
          .computeAsync(f.z, f.positions)
          .then(
            (r) => {
              finished.set(i, formatExtxyzFrame(labelledFrame(f, i, r)));
              done++;
            },
            (err: Error) => {
              const e = err instanceof OreoError ? err : new OreoError(String(err?.message ?? err));
              if (options.skipFailed) {
                failed.push(i);
                options.onFailure?.(i, e);
                finished.set(i, null);
              } else {
                firstError ??= new InputError(input, e.message, i);
              }
            },
          )
          .then(() => {
            flush();
            report(false);
          });
        const tracked: Promise<void> = job.finally(() => inflight.delete(tracked));
        inflight.add(tracked);
      }
    } catch (err) {
      // Frames already being computed still finish and are written before the error is reported.
      loopError = err;
    }
    await Promise.all(inflight);
    flush();
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  if (loopError) throw loopError;
  if (firstError) throw firstError;
  report(true);
  renameSync(partial, output);
  return {
    output,
    frames: total,
    labelled: done,
    kept: total - todo,
    failed: failed.sort((a, b) => a - b),
    seconds: (performance.now() - started) / 1000,
  };
}
