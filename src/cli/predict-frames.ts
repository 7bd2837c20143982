/**
 * What `oreo predict` does the same for every model kind: the selected frames in batches through
 * a model, each result checked finite, and the results written as JSON or extxyz. The model kind
 * (ET, ANI ensemble) only supplies the batch predictor and the JSON header.
 */
import { formatExtxyzFrame, type InfoValue } from '../data/extxyz.js';
import type { Conformation } from '../data/conformation.js';
import { packStructures, type PackedStructures } from '../data/batch.js';
import { OreoError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { parseFrameList } from './frames.js';

export interface FramePrediction {
  frame: number;
  energy: number;
  forces: number[][];
  /** Per-frame values beside energy and forces in the JSON (e.g. an ensemble's `spread`). */
  json?: Record<string, unknown>;
  /** Per-frame extra values (e.g. an ensemble's spread), written under the prefix in extxyz. */
  extra?: Record<string, number>;
}

/** One model call on packed structures; `details` adds per-structure values (atoms [a, b)). */
export type BatchPredictor = (b: PackedStructures) => {
  energy: ArrayLike<number>;
  forces: ArrayLike<number>;
  details?(m: number, atoms: readonly [number, number]): { json: Record<string, unknown>; extra: Record<string, number> };
};

/** The frame indices `--frames` selects (every frame without it); an empty input is an error. */
export function selectFrames(structures: Conformation[], spec: string | undefined, input: string): number[] {
  if (structures.length === 0) throw new OreoError(`${input}: no frames in the file`);
  return spec ? parseFrameList(spec, structures.length) : structures.map((_, i) => i);
}

/**
 * The selected frames through the model, `batchSize` at a time. A non-finite energy or force is an
 * error naming the model and frame: JSON would print a NaN as null.
 */
export function predictFrames(structures: Conformation[], frames: number[], batchSize: number, predict: BatchPredictor, modelPath: string, input: string): FramePrediction[] {
  const results: FramePrediction[] = [];
  for (let b = 0; b < frames.length; b += batchSize) {
    const chunk = frames.slice(b, b + batchSize).map((i) => structures[i]);
    const packed = packStructures(chunk);
    const pred = predict(packed);
    chunk.forEach((s, m) => {
      const o = packed.atomOffset[m];
      const forces: number[][] = [];
      for (let a = 0; a < s.z.length; a++) {
        const k = 3 * (o + a);
        forces.push([pred.forces[k], pred.forces[k + 1], pred.forces[k + 2]]);
      }
      if (!Number.isFinite(pred.energy[m]) || forces.some((f) => !f.every(Number.isFinite))) {
        throw new OreoError(`${modelPath}: the model predicts a non-finite energy or force for frame ${frames[b + m]} of ${input}; its weights or this structure are out of range`);
      }
      const details = pred.details?.(m, [o, packed.atomOffset[m + 1]]);
      results.push({ frame: frames[b + m], energy: pred.energy[m], forces, json: details?.json, extra: details?.extra });
    });
  }
  return results;
}

/**
 * The results as JSON (`header` then `frames`) on stdout or in `out`, or, for `out` ending in
 * .xyz/.extxyz, as extxyz frames (`what` names the keys written, for the closing message).
 */
export function writePredictions(out: string | undefined, header: Record<string, unknown>, structures: Conformation[], results: FramePrediction[], prefix: string, what: string): void {
  if (out && /\.(ext)?xyz$/i.test(out)) {
    writeFileAtomic(out, predictionsAsExtxyz(structures, results, prefix));
    console.error(`wrote ${results.length} frames with ${what} to ${out}`);
    return;
  }
  const json = JSON.stringify({ ...header, frames: results.map((r) => ({ frame: r.frame, energy: r.energy, forces: r.forces, ...r.json })) });
  if (out) {
    writeFileAtomic(out, json + '\n');
    console.error(`wrote ${results.length} frames to ${out}`);
  } else {
    process.stdout.write(json + '\n');
  }
}

/**
 * The frames with predictions as extxyz: the model's energy and forces under `prefix` keys
 * (MACE's eval_configs convention, MACE_energy/MACE_forces there), the file's own labels as
 * REF_energy/REF_forces (MACE's reference-key convention) so the file holds both for a parity plot.
 */
export function predictionsAsExtxyz(structures: Conformation[], results: FramePrediction[], prefix: string): string {
  return results
    .map((r) => {
      const c = structures[r.frame];
      const info: Record<string, InfoValue> = { frame: r.frame, [`${prefix}energy`]: r.energy };
      const arrays: Record<string, Float64Array> = { [`${prefix}forces`]: Float64Array.from(r.forces.flat()) };
      for (const [k, v] of Object.entries(r.extra ?? {})) info[`${prefix}${k}`] = v;
      if (c.energy !== undefined) info.REF_energy = c.energy;
      if (c.forces) arrays.REF_forces = c.forces;
      if (c.props) for (const [k, v] of Object.entries(c.props)) info[k] = v;
      return formatExtxyzFrame({ z: c.z, positions: c.positions, info, arrays, pbc: [false, false, false] });
    })
    .join('');
}
