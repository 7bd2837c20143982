/**
 * Fine-tuning the ET encoder on a molecular property (QM9 HOMO, LUMO, gap, …), as Zaidi et al.
 * and the ET-OREO paper (Table 4) do: a pre-trained encoder (or, for the baseline, the same
 * architecture with fresh weights) gets a property head standardised by the training targets and
 * is trained on an L2 loss, optionally with the auxiliary denoising term; the weights of the best
 * validation round are kept and the test L1 error is reported in meV.
 *
 * The target key is checked against the data before anything else happens. Splits are a seeded
 * permutation of the file: train, val, then the rest as test (TorchMD-Net's convention), unless a
 * separate test file is given.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readConformations } from '../../data/read.js';
import type { Conformation } from '../../data/conformation.js';
import { permutation, deriveSeed } from '../../random.js';
import { openModelFile } from '../../model/load.js';
import { requireEt } from '../../model/open.js';
import { initParameters } from '../../model/init.js';
import type { ETConfig } from '../../model/config.js';
import type { Params } from '../../model/et.js';
import { DType } from '../../engine/index.js';
import { PropertyModel, PropertyHeadType, PropertyReduce, attachPropertyHead } from '../../model/heads/property.js';
import { savePropertyModel, loadPropertyModel } from '../../model/heads/io.js';
import { symbolOf } from '../../elements.js';
import { OreoError } from '../../errors.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { train, TrainConfig, TrainTask } from '../trainer.js';
import type { TrainObserver } from '../loop.js';
import { writeLossCurve } from '../loss-plot.js';
import { targetValues, propertyUnit } from './targets.js';
import { standardization, Standardization } from './standardize.js';
import { PropertyObjective, propertyLoss, checkPropertyObjective } from './loss.js';
import { evaluateProperty, predictProperty, propertyMetrics, PropertyEvalResult } from './evaluate.js';

export interface PropertyFinetuneOptions {
  /** Labelled structures (QM9 extxyz, raw QM9 directory, ASE-db JSON, …). */
  data: string;
  /** Key of the property in the data (homo, lumo, gap, …). */
  target: string;
  /** Pre-trained model: an oreo energy model, a TorchMD-Net checkpoint, or a property model (its encoder is reused). */
  from: string;
  /** Use only the architecture of `from`, with fresh weights (the from-scratch baseline). */
  scratch?: boolean;
  /** Training and validation molecules; default 80 % and 10 % of the file. */
  nTrain?: number;
  nVal?: number;
  /** A separate test file; default: the molecules of `data` not in train or val. */
  test?: string;
  head: PropertyHeadType;
  reduce: PropertyReduce;
  /** Unit of the target; default the one oreo knows for the key (eV for QM9 energies). */
  unit?: string | null;
  objective: PropertyObjective;
  training: TrainConfig;
  out: string;
  dtype?: DType;
  resume?: boolean;
  quiet?: boolean;
  /** Attached to the training loop (e.g. the CLI's progress printer). */
  observers?: TrainObserver[];
}

export interface PropertyFinetuneResult {
  model: string;
  steps: number;
  bestVal: number;
  /** Step whose weights the model holds (the best validation round), or the last step. */
  modelStep: number;
  standardization: Standardization;
  train: number;
  val: number;
  valMetrics: PropertyEvalResult | null;
  test: PropertyEvalResult | null;
}

/** Training defaults: the notes' §5 settings (lr 4e-4, warm-up, cosine), scaled to small CPU runs. */
export const propertyTrainingDefaults: TrainConfig = {
  lr: 4e-4,
  lrStart: 1e-7,
  warmupSteps: 1000,
  factor: 0.8,
  patience: 15,
  minLr: 1e-7,
  valEvery: 100,
  batchSize: 32,
  maxSteps: 10_000,
  seed: 1,
  clip: 0,
  weightDecay: 0,
  schedule: 'cosine',
};

function elementsOf(confs: Conformation[]): number[] {
  return [...new Set(confs.flatMap((c) => [...c.z]))].sort((a, b) => a - b);
}

/** Encoder weights and architecture of the starting model (or fresh ones for the baseline). */
function startingEncoder(o: PropertyFinetuneOptions): { config: ETConfig; params: Params; dtype: DType; elements: number[] } {
  let config: ETConfig;
  let params: Params;
  let dtype: DType;
  let elements: number[];
  // A property model or an energy model: either way its representation is the starting encoder.
  const opened = openModelFile(o.from, { dtype: o.dtype });
  const m = opened.kind === 'property' ? opened.model : requireEt(opened.model, o.from);
  ({ config, params, dtype } = m);
  elements = (m.meta.elements as number[] | undefined) ?? [];
  if (o.scratch) return { config, params: initParameters(config, dtype, o.training.seed), dtype, elements: [] };
  return { config, params, dtype, elements };
}

export async function finetuneProperty(o: PropertyFinetuneOptions): Promise<PropertyFinetuneResult> {
  checkPropertyObjective(o.objective, 'property fine-tuning');
  if (!existsSync(o.from)) throw new OreoError(`--from ${o.from}: file not found`);
  const all = await readConformations(o.data);
  if (all.length === 0) throw new OreoError(`${o.data}: no conformations`);
  // Refuse a wrong key before splitting, loading the model or training.
  const y = targetValues(all, o.target, o.data);
  const nTrain = o.nTrain ?? Math.floor(0.8 * all.length);
  const nVal = o.nVal ?? Math.floor(0.1 * all.length);
  if (nTrain < 1) throw new OreoError(`${o.data}: at least one training molecule is needed`);
  const needTest = o.test ? 0 : 1;
  if (nTrain + nVal + needTest > all.length) {
    throw new OreoError(`${o.data} has ${all.length} molecules; --train ${nTrain} + --val ${nVal}${needTest ? ' leaves none for the test set (or give --test FILE)' : ' is more'}`);
  }
  const order = permutation(all.length, deriveSeed(o.training.seed, 'property-split'));
  const pick = (from: number, to: number) => [...order.subarray(from, to)];
  const trainIdx = pick(0, nTrain);
  const valIdx = pick(nTrain, nTrain + nVal);
  const trainSet = trainIdx.map((i) => all[i]);
  const valSet = valIdx.map((i) => all[i]);
  let testSet: Conformation[];
  let testFile = o.data;
  if (o.test) {
    testSet = await readConformations(o.test);
    targetValues(testSet, o.target, o.test);
    testFile = o.test;
  } else {
    testSet = pick(nTrain + nVal, all.length).map((i) => all[i]);
  }

  const enc = startingEncoder(o);
  const stats = standardization(trainIdx.map((i) => y[i]));
  const trainElements = elementsOf(trainSet);
  const unseen = enc.elements.length ? trainElements.filter((z) => !enc.elements.includes(z)) : [];
  if (unseen.length && !o.quiet) {
    process.stderr.write(`warning: ${o.from} was not pre-trained on ${unseen.map(symbolOf).join(', ')}; their embeddings start untrained\n`);
  }
  const model: PropertyModel = attachPropertyHead(
    enc.config,
    enc.params,
    enc.dtype,
    { task: 'property', type: o.head, target: o.target, unit: o.unit === undefined ? propertyUnit(o.target) : o.unit, reduce: o.reduce, mean: stats.mean, std: stats.std },
    { seed: deriveSeed(o.training.seed, 'property-head') },
  );
  if (o.objective.denoise > 0) model.addNoiseHead(deriveSeed(o.training.seed, 'noise-head'));
  Object.assign(model.meta, {
    name: `oreo ET property model: ${o.target}${o.scratch ? ' (trained from scratch)' : ''}`,
    stage: 'finetune-property',
    from: o.scratch ? `architecture of ${o.from}, fresh weights` : o.from,
    data: o.data,
    target: o.target,
    nTrain,
    nVal,
    split: { seed: o.training.seed, rule: "permutation(n, deriveSeed(seed, 'property-split')): train, val, rest" },
    objective: o.objective,
    training: o.training,
    elements: trainElements,
  });

  const bestPath = join(o.out, 'best.oreo');
  let bestStep = -1;
  const task: TrainTask = {
    loss: (batch, rng, training) => propertyLoss(model, batch, o.objective, rng, training),
    metrics: (val): Record<string, number> => {
      const r = evaluateProperty(model, val, o.data, o.training.batchSize);
      return r.mae_meV !== null ? { mae_meV: r.mae_meV } : { mae: r.mae };
    },
    onValidation: (_loss, isBest, step) => {
      if (!isBest) return;
      bestStep = step;
      model.meta.step = step;
      savePropertyModel(model, bestPath);
    },
    describe: () => ({ kind: 'property', target: o.target, head: model.head, objective: o.objective }),
  };
  const t0 = Date.now();
  const result = train({ pot: model, train: trainSet, val: valSet, task, config: o.training, outDir: o.out, resume: o.resume, quiet: o.quiet, observers: o.observers });

  // Keep the weights of the best validation round, as TorchMD-Net tests its best checkpoint.
  let modelStep = result.steps;
  if (valSet.length > 0 && existsSync(bestPath)) {
    const best = loadPropertyModel(bestPath, { dtype: model.dtype });
    for (const [name, t] of best.params) model.params.get(name)!.data.set(t.data);
    modelStep = bestStep >= 0 ? bestStep : Number(best.meta.step ?? result.steps);
  }
  model.removeNoiseHead();
  Object.assign(model.meta, { step: modelStep, steps: result.steps, wallSeconds: (Date.now() - t0) / 1000 });
  const modelPath = join(o.out, 'model.oreo');
  savePropertyModel(model, modelPath);
  writeLossCurve(join(o.out, 'log.jsonl'), join(o.out, 'loss'));

  const valMetrics = valSet.length ? evaluateProperty(model, valSet, o.data, o.training.batchSize) : null;
  let test: PropertyEvalResult | null = null;
  if (testSet.length > 0) {
    const pred = predictProperty(model, testSet, o.training.batchSize);
    const yt = targetValues(testSet, o.target, testFile);
    test = propertyMetrics(pred, yt, o.target, model.head.unit, model.head.mean);
    const rows = testSet.map((c, i) => ({ source: c.source ?? testFile, index: c.index ?? i, [o.target]: yt[i], predicted: pred[i] }));
    writeFileAtomic(join(o.out, 'test-metrics.json'), JSON.stringify({ model: modelPath, data: testFile, ...test }, null, 2) + '\n');
    writeFileAtomic(join(o.out, 'test-predictions.json'), JSON.stringify({ target: o.target, unit: model.head.unit, molecules: rows }) + '\n');
  }
  return { model: modelPath, steps: result.steps, bestVal: result.bestVal, modelStep, standardization: stats, train: trainSet.length, val: valSet.length, valMetrics, test };
}
