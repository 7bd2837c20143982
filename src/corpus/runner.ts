/**
 * Running one job in the current process with everything it needs loaded once per process (the
 * oreo model of model-md rounds), timing it for the record. Used by the embedded pool's child
 * processes and by BullMQ's sandboxed processor alike, so both run exactly the same code.
 */
import type { Calculator } from '../calculator.js';
import { jobRunInfo, runMoleculeJob, type MoleculeJob } from './job.js';
import type { StoredJob } from './store.js';

const models = new Map<string, Promise<Calculator>>();

async function modelFor(path: string): Promise<Calculator> {
  let m = models.get(path);
  if (!m) {
    m = import('../model/load.js').then((l) => l.loadCalculator(path));
    models.set(path, m);
  }
  return m;
}

export async function executeJob(job: MoleculeJob): Promise<StoredJob> {
  const t0 = performance.now();
  const model = job.settings.model ? await modelFor(job.settings.model) : undefined;
  const result = runMoleculeJob(job, model);
  return { result, run: jobRunInfo((performance.now() - t0) / 1000) };
}
