/** `oreo finetune --from MODEL --data FILE --train N --val N`: adapt a pre-trained model to a target. */
import type { Command } from './command.js';
import { parseArgs, requireStr, str, flag, num, helpText, OptionSpec } from './args.js';
import { finetune } from '../train/stages.js';
import { TrainProgressPrinter } from './train-progress.js';
import { parseObjective } from '../train/run-config.js';
import { paperDefaults } from '../train/trainer.js';
import { trainOptionSpec, applyTrainOptions, startTrainingThreads } from './train-options.js';
import { OreoError } from '../errors.js';
import { resolve } from 'node:path';
import { asksForPropertyTask } from '../train/property/task-flag.js';
import { claimRunFolder } from '../train/run-folder.js';
import type { TrainConfig } from '../train/trainer.js';

/** What a schedule cannot do in the steps it has: said before training starts. */
export function scheduleWarnings(c: TrainConfig, timeLimited: boolean): string[] {
  const w: string[] = [];
  // With --time-limit the step count reached is known only at the end: see the check after training.
  if (c.warmupSteps >= c.maxSteps && !timeLimited) {
    w.push(`the warm-up (${c.warmupSteps} steps) does not finish within --steps ${c.maxSteps}: the learning rate never reaches --lr ${c.lr} (leave out --warmup to scale it with the run)`);
  }
  if (c.valEvery > c.maxSteps) w.push(`--val-every ${c.valEvery} is more than --steps ${c.maxSteps}: the run is validated only at its end`);
  return w;
}

const spec: Record<string, OptionSpec> = {
  from: { type: 'string', help: 'pre-trained model: oreo .oreo or TorchMD-Net .ckpt; or an architecture .json (TorchMD-Net hyper-parameters) for fresh weights' },
  data: { type: 'string', help: 'target conformations with forces (rMD17 npz, extxyz, …)' },
  train: { type: 'string', help: 'number of training conformations (e.g. 950)' },
  val: { type: 'string', help: 'number of validation conformations (e.g. 50)' },
  test: { type: 'string', help: 'test file evaluated at the end (e.g. rmd17_aspirin_test_01.npz)' },
  'split-indices': { type: 'string', help: "TorchMD-Net splits.npz (idx_train, idx_val) of --data's frames, in place of --train/--val's seeded draw" },
  standardize: { type: 'boolean', help: "fresh weights only: set the output scale to the training energies' spread (TorchMD-Net's standardize)" },
  splits: { type: 'string', help: 'pre-training splits.json: refuse conformations of its test split' },
  objective: { type: 'string', help: 'et-oreo | et-ore | supervised (default et-ore: forces only)' },
  task: { type: 'string', help: 'forces (default) | property (see oreo finetune --task property --help)' },
  dtype: { type: 'string', help: 'float32 | float64' },
  out: { type: 'string', help: 'run folder (default runs/finetune)' },
  resume: { type: 'boolean', help: 'continue from the run folder\'s checkpoint (refused when --data is not the run\'s data)' },
  overwrite: { type: 'boolean', help: 'start over in a run folder an earlier oreo finetune made (a folder it did not make is never written into)' },
  head: { type: 'string', help: "a multi-head --from: start from this head (id or level), or 'new' for a fresh head on its representation; default: the head of --level, else the default head. The result keeps only that head" },
  level: { type: 'string', help: "the data's level of theory (e.g. 'PBE/def2-SVP'): picks the head to start from and is recorded as the fine-tuned head's level" },
  'keep-heads': { type: 'boolean', help: 'a multi-head --from: keep every head (the one trained becomes the default) instead of a single-head result' },
  scratch: { type: 'boolean', help: 'same architecture as --from but fresh random weights (from-scratch baseline)' },
  ...trainOptionSpec,
  help: { type: 'boolean' },
};

export const command: Command = {
  summary: 'fine-tune a pre-trained model on target conformations',
  async run(argv) {
    // Property prediction has its own options (--target, --head, …): src/cli/property.ts.
    if (asksForPropertyTask(argv)) return (await import('./property.js')).runPropertyFinetune(argv);
    const p = parseArgs('finetune', argv, spec);
    if (p.options.help) {
      console.log(helpText('oreo finetune --from MODEL --data FILE --train N --val N [--test FILE] [--splits FILE] [--out DIR]', 'Writes model.oreo (energies calibrated per element), log.jsonl, loss.svg/png and test-metrics.json.', spec));
      return 0;
    }
    const task = str(p, 'task') ?? 'forces';
    if (task !== 'forces') throw new OreoError(`--task ${task}: expected 'forces' or 'property'`);
    const dtype = str(p, 'dtype');
    if (dtype !== undefined && dtype !== 'float32' && dtype !== 'float64') throw new OreoError(`--dtype ${dtype}: expected float32 or float64`);
    // Warm-up and validation cadence follow the run's length unless given: a tenth of the steps
    // warming up and a hundred validations, at most 1000 and every 100 steps (the defaults of a
    // 10,000-step run, and of a long --steps bounded by --time-limit), so that a short fine-tune
    // on a few dozen frames still reaches its learning rate and gets validated.
    const steps = num('finetune', p, 'steps', 10_000, { min: 1, integer: true });
    const scaled = { warmupSteps: Math.min(1000, Math.round(steps / 10)), valEvery: Math.max(1, Math.min(100, Math.round(steps / 100))) };
    const training = applyTrainOptions('finetune', p, { ...paperDefaults, ...scaled, maxSteps: 10_000 });
    for (const w of scheduleWarnings(training, str(p, 'time-limit') !== undefined)) console.error(`oreo finetune: warning: ${w}`);
    startTrainingThreads('finetune', p);
    const splitIndices = str(p, 'split-indices');
    if (splitIndices && (p.options.train !== undefined || p.options.val !== undefined)) {
      throw new OreoError('finetune: --split-indices names the training and validation frames; leave out --train and --val');
    }
    const out = resolve(str(p, 'out') ?? 'runs/finetune');
    const data = requireStr('finetune', p, 'data');
    const from = requireStr('finetune', p, 'from');
    if (flag(p, 'resume') && flag(p, 'overwrite')) throw new OreoError('finetune: --resume continues the run, --overwrite starts it over: give one');
    const note = claimRunFolder(out, { command: 'oreo finetune', resume: flag(p, 'resume'), overwrite: flag(p, 'overwrite'), data, from });
    if (note) console.error(`oreo finetune: ${note}`);
    const r = await finetune({
      from,
      data,
      nTrain: num('finetune', p, 'train', 950, { min: 1, integer: true }),
      nVal: num('finetune', p, 'val', 50, { min: 0, integer: true }),
      test: str(p, 'test'),
      splits: str(p, 'splits'),
      objective: parseObjective(str(p, 'objective') ?? 'et-ore', '--objective'),
      training,
      out,
      dtype: dtype as 'float32' | 'float64' | undefined,
      resume: flag(p, 'resume'),
      scratch: flag(p, 'scratch'),
      splitIndices,
      standardize: flag(p, 'standardize'),
      ...(str(p, 'head') !== undefined ? { head: str(p, 'head') } : {}),
      ...(str(p, 'level') !== undefined ? { level: str(p, 'level') } : {}),
      keepHeads: flag(p, 'keep-heads'),
      observers: [new TrainProgressPrinter()],
    });
    console.log(JSON.stringify({ model: r.model, steps: r.steps, stoppedOn: r.stoppedOn, trainSeconds: r.trainSeconds, bestVal: r.bestVal, test: r.test, energyCalibrationMAE_meV: r.calibrationMAE_meV }, null, 2));
    if (r.steps < training.warmupSteps) {
      console.error(`oreo finetune: warning: the run stopped at step ${r.steps} (${r.stoppedOn}), before its warm-up of ${training.warmupSteps} steps ended: the learning rate never reached --lr ${training.lr}`);
    }
    console.log(`model written to ${r.model}`);
    return 0;
  },
};
