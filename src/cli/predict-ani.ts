/**
 * `oreo predict` with an ANI ensemble (e.g. --model ani2x): the ensemble-mean energy and forces of
 * each frame, as for an ET, plus the ensemble's spread per frame (energy spread and the largest
 * and mean per-atom force spread), the uncertainty an active-learning round selects frames by.
 */
import { OreoError } from '../errors.js';
import { AniEnsemble } from '../model/ani/ensemble.js';
import type { Conformation } from '../data/conformation.js';
import { predictFrames, selectFrames, writePredictions } from './predict-frames.js';

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
  const frames = selectFrames(structures, o.frames, input);
  for (const i of frames) {
    try {
      ani.checkElements(structures[i].z);
    } catch (e) {
      throw new OreoError(`${input}: frame ${i}: ${(e as Error).message}`);
    }
  }
  const results = predictFrames(structures, frames, o.batch, (b) => {
    const r = ani.compute(b.z, b.positions, b.mol, b.nMol, { spread: true });
    return {
      energy: r.energy,
      forces: r.forces,
      details(m, atoms) {
        const spread = AniEnsemble.summary(r, m, [atoms[0], atoms[1]]);
        const sp = { energy: spread.energy, maxForce: spread.maxForce, meanForce: spread.meanForce };
        return { json: { spread: sp }, extra: { energy_spread: sp.energy, force_spread_max: sp.maxForce, force_spread_mean: sp.meanForce } };
      },
    };
  }, modelPath, input);
  const prefix = o.infoPrefix ?? 'oreo_';
  const header = {
    model: modelPath,
    kind: 'ani-ensemble',
    levelOfTheory: ani.levelOfTheory,
    members: ani.size,
    units: (({ energy, forces, spread }) => ({ energy, forces, spread }))(ani.predictionUnits()),
    path: 'fast',
  };
  writePredictions(o.out, header, structures, results, prefix, `${prefix}energy, ${prefix}forces and the ensemble spread (${prefix}force_spread_max, eV/Å)`);
  return 0;
}
