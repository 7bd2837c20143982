/**
 * A labelling thread of AniReferenceCalculator (ani.ts): it opens the ANI ensemble once, then
 * answers batches of molecules with the ensemble's mean energies and forces and its spread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadEnergyModel, AniEnsemble } from '../model/load.js';
import type { DType } from '../engine/index.js';

const { model, dtype } = workerData as { model: string; dtype: DType };
const loaded = loadEnergyModel(model, { dtype });
if (!(loaded instanceof AniEnsemble)) throw new Error(`${model}: not an ANI ensemble`);
const ani = loaded;

export interface BatchRequest {
  id: number;
  z: Int32Array;
  positions: Float64Array;
  mol: Int32Array;
  nMol: number;
}

parentPort!.on('message', (m: BatchRequest) => {
  try {
    const r = ani.compute(m.z, m.positions, m.mol, m.nMol, { spread: true });
    const out = { id: m.id, energy: r.energy, forces: r.forces, energySpread: r.energySpread!, forceSpread: r.forceSpread! };
    parentPort!.postMessage(out, [out.energy.buffer, out.forces.buffer, out.energySpread.buffer, out.forceSpread.buffer] as ArrayBuffer[]);
  } catch (err) {
    parentPort!.postMessage({ id: m.id, error: (err as Error).message });
  }
});
parentPort!.postMessage({ ready: true });
