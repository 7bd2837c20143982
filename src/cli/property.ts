/**
 * Command-line side of property models, called from `oreo finetune --task property`,
 * `oreo predict` and `oreo eval` when the model file is a property model.
 */
import { resolve } from 'node:path';
import { parseArgs, requireStr, str, flag, num, helpText, OptionSpec, Parsed } from './args.js';
import { ProgressPrinter } from './progress.js';
import { TrainProgressPrinter } from './train-progress.js';
import { trainOptionSpec, applyTrainOptions, startTrainingThreads } from './train-options.js';
import { OreoError } from '../errors.js';
import type { Conformation } from '../data/conformation.js';
import { readConformations } from '../data/read.js';
import { requireFinite } from './finite.js';
import { PropertyModel, PROPERTY_HEAD_TYPES, PropertyHeadType, PropertyReduce } from '../model/heads/property.js';
import { writeFileAtomic } from '../io/atomic.js';
import { parseFrameList } from './frames.js';
import { finetuneProperty, propertyTrainingDefaults } from '../train/property/finetune.js';
import { evaluateProperty, predictProperty } from '../train/property/evaluate.js';
import { ZAIDI_DENOISING } from '../train/property/loss.js';
import type { TrainConfig } from '../train/trainer.js';

const spec: Record<string, OptionSpec> = {
  task: { type: 'string', help: 'property' },
  target: { type: 'string', help: 'property key in the data: homo | lumo | gap | any key `oreo data inspect` lists' },
  from: { type: 'string', help: 'pre-trained model (oreo .oreo or TorchMD-Net .ckpt); its encoder is fine-tuned' },
  scratch: { type: 'boolean', help: 'architecture of --from with fresh random weights (the from-scratch baseline)' },
  data: { type: 'string', help: 'labelled molecules (QM9 extxyz, raw QM9 directory, ASE-db JSON, …)' },
  train: { type: 'string', help: 'training molecules (default 80 % of the file)' },
  val: { type: 'string', help: 'validation molecules (default 10 %); the rest is the test set' },
  test: { type: 'string', help: 'separate test file instead of the rest of --data' },
  head: { type: 'string', help: 'equivariant-scalar (TorchMD-Net ET default) | mlp' },
  reduce: { type: 'string', help: 'sum (extensive; TorchMD-Net/Zaidi QM9 default) | mean (intensive)' },
  unit: { type: 'string', help: "unit of the target, if oreo does not know it (QM9 energies: eV)" },
  loss: { type: 'string', help: 'mse (default, TorchMD-Net) | l1' },
  denoise: { type: 'string', help: `auxiliary denoising weight (0 = off; Zaidi et al. ${ZAIDI_DENOISING.denoise})` },
  noise: { type: 'string', help: `position noise σ for denoising, Å (default ${ZAIDI_DENOISING.sigma})` },
  schedule: { type: 'string', help: 'cosine (default, Zaidi et al.) | plateau (TorchMD-Net)' },
  dtype: { type: 'string', help: 'float32 | float64 (default: the pre-trained model\'s)' },
  out: { type: 'string', help: 'run folder (default runs/finetune-<target>)' },
  resume: { type: 'boolean', help: 'continue from the run folder\'s checkpoint' },
  ...trainOptionSpec,
  // The shared help quotes the pre-training defaults; these are property fine-tuning's.
  lr: { type: 'string', help: `peak learning rate (${propertyTrainingDefaults.lr}, Zaidi et al.)` },
  warmup: { type: 'string', help: `warm-up steps (${propertyTrainingDefaults.warmupSteps})` },
  steps: { type: 'string', help: `total optimizer steps (${propertyTrainingDefaults.maxSteps}); the cosine reaches 0 there` },
  batch: { type: 'string', help: `molecules per batch (${propertyTrainingDefaults.batchSize})` },
  'val-every': { type: 'string', help: `validate, checkpoint and keep the best weights every N steps (${propertyTrainingDefaults.valEvery})` },
  patience: { type: 'string', help: `plateau patience in validation rounds (${propertyTrainingDefaults.patience}; --schedule plateau only)` },
  seed: { type: 'string', help: `random seed: split, head initialisation, batches, noise (${propertyTrainingDefaults.seed})` },
  help: { type: 'boolean' },
};

function oneOf<T extends string>(p: Parsed, key: string, allowed: readonly T[], fallback: T): T {
  const v = str(p, key);
  if (v === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(v)) throw new OreoError(`oreo finetune: --${key} ${v}: expected ${allowed.join(' or ')}`);
  return v as T;
}

export async function runPropertyFinetune(argv: string[]): Promise<number> {
  const p = parseArgs('finetune', argv, spec);
  if (p.options.help) {
    console.log(
      helpText(
        'oreo finetune --task property --target KEY --from MODEL --data FILE [--train N --val N] [--test FILE] [--scratch] [--denoise 0.1]',
        'Fine-tunes the encoder of MODEL with a property head (standardised by the training set). Writes model.oreo (the best validation round), best.oreo, log.jsonl, loss.svg/png, test-metrics.json (L1 MAE, in meV for eV targets) and test-predictions.json.\nDefaults follow Zaidi et al.\'s QM9 fine-tuning (lr 4e-4, linear warm-up, cosine) scaled to small runs: 1000 warm-up steps, 10000 steps, batch 32.',
        spec,
      ),
    );
    return 0;
  }
  const target = requireStr('finetune', p, 'target');
  const dtype = str(p, 'dtype');
  if (dtype !== undefined && dtype !== 'float32' && dtype !== 'float64') throw new OreoError(`oreo finetune: --dtype ${dtype}: expected float32 or float64`);
  const training: TrainConfig = {
    ...applyTrainOptions('finetune', p, propertyTrainingDefaults),
    schedule: oneOf(p, 'schedule', ['cosine', 'plateau'] as const, 'cosine'),
  };
  startTrainingThreads('finetune', p);
  const denoise = num('finetune', p, 'denoise', 0, { min: 0 });
  const r = await finetuneProperty({
    observers: [new TrainProgressPrinter()],
    data: requireStr('finetune', p, 'data'),
    target,
    from: requireStr('finetune', p, 'from'),
    scratch: flag(p, 'scratch'),
    nTrain: str(p, 'train') === undefined ? undefined : num('finetune', p, 'train', 0, { min: 1, integer: true }),
    nVal: str(p, 'val') === undefined ? undefined : num('finetune', p, 'val', 0, { min: 0, integer: true }),
    test: str(p, 'test'),
    head: oneOf<PropertyHeadType>(p, 'head', PROPERTY_HEAD_TYPES, 'equivariant-scalar'),
    reduce: oneOf<PropertyReduce>(p, 'reduce', ['sum', 'mean'], 'sum'),
    unit: str(p, 'unit'),
    objective: {
      loss: oneOf(p, 'loss', ['mse', 'l1'] as const, 'mse'),
      denoise,
      sigma: num('finetune', p, 'noise', ZAIDI_DENOISING.sigma, { min: 0, exclusiveMin: true }),
    },
    training,
    out: resolve(str(p, 'out') ?? `runs/finetune-${target}`),
    dtype,
    resume: flag(p, 'resume'),
  });
  console.log(JSON.stringify({ model: r.model, steps: r.steps, modelStep: r.modelStep, train: r.train, val: r.val, standardization: r.standardization, val_metrics: r.valMetrics, test: r.test }, null, 2));
  if (r.test) {
    const m = r.test.mae_meV !== null ? `${r.test.mae_meV.toFixed(1)} meV` : `${r.test.mae.toPrecision(4)} ${r.test.unit ?? ''}`;
    console.log(`test MAE (${target}, ${r.test.molecules} molecules): ${m}`);
  }
  console.log(`model written to ${r.model}`);
  return 0;
}

/** `oreo predict` on a property model: the property of each selected frame. */
export function propertyPredictions(model: PropertyModel, structures: Conformation[], frames: number[], batchSize: number): Record<string, unknown> {
  for (const i of frames) model.checkElements(structures[i].z);
  const values = predictProperty(model, frames.map((i) => structures[i]), batchSize);
  const { target, unit } = model.head;
  return {
    model: model.meta.source ?? model.meta.name ?? null,
    target,
    unit,
    frames: frames.map((frame, k) => ({ frame, [target]: values[k] })),
  };
}

/** `oreo predict --model PROPERTY_MODEL`: reads the structures, prints or writes the JSON. */
export function runPropertyPredict(
  model: PropertyModel,
  modelPath: string,
  input: string,
  options: { frames?: string; out?: string; batch: number },
  readStructures: (path: string) => Conformation[],
): number {
  const structures = readStructures(input);
  if (structures.length === 0) throw new OreoError(`${input}: no frames in the file`);
  const frames = options.frames ? parseFrameList(options.frames, structures.length) : structures.map((_, i) => i);
  const predictions = propertyPredictions(model, structures, frames, options.batch);
  requireFinite(predictions, `${modelPath} on ${input}`);
  const json = JSON.stringify(predictions);
  if (options.out) {
    writeFileAtomic(options.out, json + '\n');
    console.error(`wrote ${frames.length} frames to ${options.out}`);
  } else {
    process.stdout.write(json + '\n');
  }
  return 0;
}

/** `oreo eval` on a property model: L1 MAE (meV for eV targets) against the data's labels. */
export async function evalPropertyModel(model: PropertyModel, modelPath: string, data: string, options: { limit?: number; batch: number; out?: string }): Promise<number> {
  const confs = await readConformations(data, options.limit !== undefined ? { limit: options.limit } : {});
  if (confs.length === 0) throw new OreoError(`${data}: no conformations`);
  for (const c of confs) model.checkElements(c.z);
  const t0 = Date.now();
  const printer = new ProgressPrinter();
  const r = evaluateProperty(model, confs, data, options.batch, (done) => {
    printer.update(`evaluated ${done}/${confs.length} (${((done / Math.max(1, Date.now() - t0)) * 1000).toFixed(1)} mol/s)`, {
      fraction: done / confs.length,
      final: done === confs.length,
    });
  });
  printer.done();
  requireFinite(r, `${modelPath} on ${data}`);
  const json = JSON.stringify({ model: modelPath, data, ...r }, null, 2);
  if (options.out) writeFileAtomic(options.out, json + '\n');
  console.log(json);
  return 0;
}
