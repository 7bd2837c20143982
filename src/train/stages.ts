/**
 * The two stages of ET-OREO as library calls: pre-train on a mix of sources with splits that are
 * written once and reused, and fine-tune from a pre-trained (oreo or TorchMD-Net) model on a
 * target set, refusing any conformation that was in the pre-training test split. Both end with a
 * per-element energy calibration and a model file ready for `predict` / `simulate`.
 */
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { loadDataset } from '../data/dataset.js';
import { loadOrCreateSplits, selectPart, readSplits, assertNoLeak, SplitLookup } from '../data/splits.js';
import { contentHash, geometryKey } from '../data/identity.js';
import { readConformations } from '../data/read.js';
import type { Conformation } from '../data/conformation.js';
import { createPotential } from '../model/init.js';
import { loadPotential } from '../model/load.js';
import { saveModel } from '../model/io/native.js';
import { Potential } from '../model/potential.js';
import { OreoError } from '../errors.js';
import { PretrainConfig } from './run-config.js';
import { train, TrainConfig } from './trainer.js';
import { ObjectiveConfig } from './objective.js';
import { calibrateElementEnergies } from './calibrate.js';
import { evaluate } from './evaluate.js';
import { writeFileAtomic } from '../io/atomic.js';
import { writeLossCurve } from './loss-plot.js';
import { Tensor } from '../engine/index.js';

function elementsOf(confs: Conformation[]): number[] {
  return [...new Set(confs.flatMap((c) => [...c.z]))].sort((a, b) => a - b);
}

/** Finish a run: calibrate element energies, record metadata, save model.oreo and a loss plot. */
function finish(pot: Potential, trainSet: Conformation[], outDir: string, meta: Record<string, unknown>): { model: string; calibrationMAE_meV: number | null } {
  let calibrationMAE: number | null = null;
  const labelled = trainSet.filter((c) => c.energy !== undefined);
  if (labelled.length > 0 && pot.params.has('prior_model.0.atomref.weight')) {
    // Up to 2000 labelled conformations pin the per-element constants well.
    const sample = labelled.filter((_, i) => i % Math.max(1, Math.floor(labelled.length / 2000)) === 0);
    calibrationMAE = 1000 * calibrateElementEnergies(pot, sample).mae;
  }
  const known = new Set<number>((pot.meta.elements as number[] | undefined) ?? []);
  for (const e of elementsOf(trainSet)) known.add(e);
  Object.assign(pot.meta, meta, { elements: [...known].sort((a, b) => a - b), energyCalibrationMAE_meV: calibrationMAE });
  const model = join(outDir, 'model.oreo');
  saveModel(pot, model);
  writeLossCurve(join(outDir, 'log.jsonl'), join(outDir, 'loss'));
  return { model, calibrationMAE_meV: calibrationMAE };
}

export async function pretrain(cfg: PretrainConfig, options: { resume?: boolean; quiet?: boolean } = {}) {
  mkdirSync(cfg.out, { recursive: true });
  const sources = await loadDataset(cfg.data);
  const holdOut: { path: string; conformations: Conformation[] }[] = [];
  for (const p of cfg.splits.holdOut) holdOut.push({ path: p, conformations: await readConformations(p) });
  const splitsPath = join(cfg.out, 'splits.json');
  const { splits } = loadOrCreateSplits(
    splitsPath,
    sources.map((s) => ({ name: s.config.name, path: s.config.path, conformations: s.conformations, split: s.config.split, fileCount: s.fileCount })),
    { seed: cfg.data.seed, val: cfg.splits.val, test: cfg.splits.test, holdOut },
  );
  const trainSet: Conformation[] = [];
  const valSet: Conformation[] = [];
  for (const s of sources) {
    const tr = selectPart(splits, s.config.path, s.conformations, 'train');
    // Weights: repeat a source's training conformations (fractional part by a seeded pick).
    const w = s.config.weight;
    for (let r = 0; r < Math.floor(w); r++) trainSet.push(...tr);
    const frac = w - Math.floor(w);
    if (frac > 0) trainSet.push(...tr.filter((_, i) => ((i * 2654435761) >>> 0) / 2 ** 32 < frac));
    valSet.push(...selectPart(splits, s.config.path, s.conformations, 'val'));
  }
  // With --resume the trainer restores the weights from the run's checkpoint.
  const pot = createPotential(cfg.model, { dtype: cfg.dtype, seed: cfg.training.seed });
  const t0 = Date.now();
  const result = train({ pot, train: trainSet, val: valSet, objective: cfg.objective, config: cfg.training, outDir: cfg.out, resume: options.resume, quiet: options.quiet });
  const done = finish(pot, trainSet, cfg.out, {
    name: 'oreo pre-trained ET',
    stage: 'pretrain',
    objective: cfg.objective,
    training: cfg.training,
    sources: sources.map((s) => ({ name: s.config.name, kind: s.config.kind, conformations: s.conformations.length, sha256: s.sha256 })),
    splits: splitsPath,
    steps: result.steps,
    stoppedOn: result.stoppedOn,
    trainSeconds: result.trainSeconds,
    wallSeconds: (Date.now() - t0) / 1000,
  });
  return { ...result, ...done, splits: splitsPath, train: trainSet.length, val: valSet.length };
}

export interface FinetuneOptions {
  from: string;
  data: string;
  nTrain: number;
  nVal: number;
  splits?: string;
  objective: ObjectiveConfig;
  training: TrainConfig;
  out: string;
  dtype?: 'float32' | 'float64';
  resume?: boolean;
  quiet?: boolean;
  /** Evaluate on this file at the end (e.g. the rMD17 test file). */
  test?: string;
  /** Keep only the architecture of `from` and start from fresh weights (the from-scratch baseline). */
  scratch?: boolean;
}

export async function finetune(o: FinetuneOptions) {
  let all = await readConformations(o.data, { kind: 'off-equilibrium' });
  const pretrainSplits = o.splits ? readSplits(o.splits) : undefined;
  if (pretrainSplits) {
    // Conformations the pre-training run kept for its test split are never drawn for training
    // or validation here; assertNoLeak below then checks the result rather than assuming it.
    const lookup = new SplitLookup(pretrainSplits);
    const sha = contentHash(o.data);
    const before = all.length;
    all = all.filter((c, i) => lookup.partOf(sha, c.index ?? i) !== 'test' && !lookup.testGeometries.has(geometryKey(c)));
    if (!o.quiet && all.length < before) {
      process.stderr.write(`excluded ${before - all.length} conformations of ${o.data} that are in the pre-training test split\n`);
    }
  }
  if (o.nTrain + o.nVal > all.length) {
    throw new OreoError(`${o.data} has ${all.length} conformations; --train ${o.nTrain} + --val ${o.nVal} is more`);
  }
  // Seeded shuffle of the file, then train / val slices (TorchMD-Net's convention).
  const order = [...all.keys()];
  let s = (o.training.seed ^ 0x5bd1e995) >>> 0;
  for (let i = order.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = Math.floor((s / 2 ** 32) * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const trainSet = order.slice(0, o.nTrain).map((i) => all[i]);
  const valSet = order.slice(o.nTrain, o.nTrain + o.nVal).map((i) => all[i]);
  let testSet: Conformation[] | undefined;
  if (o.test) testSet = await readConformations(o.test, { kind: 'off-equilibrium' });
  if (pretrainSplits) {
    const report = assertNoLeak(pretrainSplits, { train: trainSet, val: valSet, test: testSet });
    for (const w of report.warnings) if (!o.quiet) process.stderr.write(`warning: ${w}\n`);
  }
  const loaded = loadPotential(o.from, { dtype: o.dtype });
  const pot = o.scratch ? createPotential(loaded.config, { dtype: loaded.dtype, seed: o.training.seed }) : loaded;
  ensureAtomref(pot);
  pot.checkElements(Int32Array.from(elementsOf(trainSet)));
  const t0 = Date.now();
  const result = train({ pot, train: trainSet, val: valSet, objective: o.objective, config: o.training, outDir: o.out, resume: o.resume, quiet: o.quiet });
  const done = finish(pot, trainSet, o.out, {
    name: `oreo ET fine-tuned on ${o.data.split('/').pop()}`,
    stage: 'finetune',
    from: o.scratch ? `architecture of ${o.from}, fresh weights` : o.from,
    data: o.data,
    nTrain: o.nTrain,
    nVal: o.nVal,
    objective: o.objective,
    training: o.training,
    steps: result.steps,
    stoppedOn: result.stoppedOn,
    trainSeconds: result.trainSeconds,
    wallSeconds: (Date.now() - t0) / 1000,
  });
  let test = null;
  if (testSet) {
    test = evaluate(pot, testSet);
    writeFileAtomic(join(o.out, 'test-metrics.json'), JSON.stringify(test, null, 2) + '\n');
  }
  return { ...result, ...done, test };
}

/** TorchMD-Net models without a prior get an (all-zero) Atomref so calibration has a place to go. */
function ensureAtomref(pot: Potential): void {
  if (pot.params.has('prior_model.0.atomref.weight')) return;
  const max = pot.config.max_z;
  const data = pot.dtype === 'float64' ? new Float64Array(max) : new Float32Array(max);
  pot.params.set('prior_model.0.atomref.weight', new Tensor(data, [max, 1]));
  (pot.config as { prior_model: string | null }).prior_model = 'Atomref';
}
