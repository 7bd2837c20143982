/**
 * `oreo predict` with an ANI ensemble (e.g. --model ani2x): the ensemble-mean energy and forces of
 * each frame, as for an ET, plus the ensemble's spread per frame (energy spread and the largest
 * and mean per-atom force spread), the uncertainty an active-learning round selects frames by.
 */
import { parseFrameList } from './frames.js';
import { OreoError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { AniEnsemble } from '../model/ani/ensemble.js';
import type { Conformation } from '../data/conformation.js';
import { packStructures } from '../data/batch.js';
import { predictionsAsExtxyz, type FramePrediction } from './predict-extxyz.js';

export interface AniPredictOptions {
  frames?: string;
  out?: string;
  batch: number;
  path?: string;
  /** Prefix of the predicted keys in extxyz output (default oreo_). */
  infoPrefix?: string;
}

export function runAniPredict(ani: AniEnsemble, modelPath: string, structures: Conformation[], input: string, o: AniPredictOptions): number {
  if (o.path !== undefined && o.path !== 'fast') throw new OreoError(`--path ${o.path}: an ANI ensemble has one path (the analytic forces, fast)`);
  if (structures.length === 0) throw new OreoError(`${input}: no frames in the file`);
  const frames = o.frames ? parseFrameList(o.frames, structures.length) : structures.map((_, i) => i);
  for (const i of frames) {
    try {
      ani.checkElements(structures[i].z);
    } catch (e) {
      throw new OreoError(`${input}: frame ${i}: ${(e as Error).message}`);
    }
  }
  const results: (FramePrediction & { spread: { energy: number; maxForce: number; meanForce: number } })[] = [];
  for (let b = 0; b < frames.length; b += o.batch) {
    const chunk = frames.slice(b, b + o.batch).map((i) => structures[i]);
    const { z, positions, mol, nMol, atomOffset } = packStructures(chunk);
    const r = ani.compute(z, positions, mol, nMol, { spread: true });
    chunk.forEach((s, m) => {
      const at = atomOffset[m];
      const forces: number[][] = [];
      for (let a = 0; a < s.z.length; a++) {
        const k = 3 * (at + a);
        forces.push([r.forces[k], r.forces[k + 1], r.forces[k + 2]]);
      }
      const spread = AniEnsemble.summary(r, m, [at, at + s.z.length]);
      const sp = { energy: spread.energy, maxForce: spread.maxForce, meanForce: spread.meanForce };
      results.push({ frame: frames[b + m], energy: r.energy[m], forces, spread: sp, extra: { energy_spread: sp.energy, force_spread_max: sp.maxForce, force_spread_mean: sp.meanForce } });
    });
  }
  if (o.out && /\.(ext)?xyz$/i.test(o.out)) {
    const prefix = o.infoPrefix ?? 'oreo_';
    writeFileAtomic(o.out, predictionsAsExtxyz(structures, results, prefix));
    console.error(`wrote ${results.length} frames with ${prefix}energy, ${prefix}forces and the ensemble spread (${prefix}force_spread_max, eV/Å) to ${o.out}`);
    return 0;
  }
  const json = JSON.stringify({
    model: modelPath,
    kind: 'ani-ensemble',
    levelOfTheory: ani.levelOfTheory,
    members: ani.size,
    units: { energy: 'eV', forces: 'eV/Å', spread: { energy: 'eV', maxForce: 'eV/Å', meanForce: 'eV/Å' } },
    path: 'fast',
    frames: results.map(({ extra: _extra, ...r }) => r),
  });
  if (o.out) {
    writeFileAtomic(o.out, json + '\n');
    console.error(`wrote ${results.length} frames to ${o.out}`);
  } else {
    process.stdout.write(json + '\n');
  }
  return 0;
}
