/**
 * `oreo export --from-neurochem DIR --out FILE.oreo`: a published NeuroChem ensemble folder into
 * one `.oreo` file (file.ts), weights unchanged (float32 as published). Node only.
 */
import { statSync } from 'node:fs';
import { writeFileAtomic } from '../../io/atomic.js';
import { readNeuroChemEnsemble } from './neurochem-dir.js';
import { serializeAni } from './file.js';

export interface ConvertOptions {
  name?: string;
  levelOfTheory?: string;
  source?: string;
}

export function exportNeuroChem(dir: string, out: string, o: ConvertOptions = {}) {
  const name = o.name ?? 'ani2x';
  const levelOfTheory = o.levelOfTheory ?? 'ANI-2x (ωB97X/6-31G(d))';
  const data = readNeuroChemEnsemble(dir, {
    name,
    levelOfTheory,
    units: { energy: 'eV', forces: 'eV/Å' },
    ...(o.source ? { source: o.source } : {}),
  });
  writeFileAtomic(out, serializeAni(data));
  const parameters = data.members.reduce((n, nets) => n + [...nets.values()].reduce((k, net) => k + net.weights.reduce((a, w) => a + w.length, 0) + net.biases.reduce((a, b) => a + b.length, 0), 0), 0);
  return { out, name, levelOfTheory, members: data.members.length, elements: data.aev.species, parameters, bytes: statSync(out).size };
}
