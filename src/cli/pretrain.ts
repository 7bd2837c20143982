/** `oreo pretrain --config FILE`: force-centric pre-training on a mix of sources. */
import type { Command } from './command.js';
import { parseArgs, requireStr, flag, helpText, OptionSpec } from './args.js';
import { readPretrainConfig } from '../train/run-config.js';
import { pretrain } from '../train/stages.js';
import { TrainProgressPrinter } from './train-progress.js';
import { trainOptionSpec, applyTrainOptions, startTrainingThreads } from './train-options.js';

const spec: Record<string, OptionSpec> = {
  config: { type: 'string', help: 'JSON config: data sources (files, or shard sets streamed from disk) with weights, model, objective, training, splits, out' },
  resume: { type: 'boolean', help: 'continue from the run folder\'s checkpoint' },
  ...trainOptionSpec,
  help: { type: 'boolean' },
};

export const command: Command = {
  summary: 'pre-train an ET with the force-centric objective (ET-OREO)',
  async run(argv) {
    const p = parseArgs('pretrain', argv, spec);
    if (p.options.help) {
      console.log(helpText('oreo pretrain --config FILE [--resume] [schedule overrides]', 'Writes model.oreo, checkpoint.oreo-train, splits.json, log.jsonl and loss.svg/png into the config\'s out folder.', spec));
      return 0;
    }
    const cfg = readPretrainConfig(requireStr('pretrain', p, 'config'));
    cfg.training = applyTrainOptions('pretrain', p, cfg.training);
    startTrainingThreads('pretrain', p);
    const r = await pretrain(cfg, { resume: flag(p, 'resume'), observers: [new TrainProgressPrinter()] });
    console.log(JSON.stringify({ model: r.model, steps: r.steps, stoppedOn: r.stoppedOn, trainSeconds: r.trainSeconds, bestVal: r.bestVal, train: r.train, val: r.val, splits: r.splits, energyCalibrationMAE_meV: r.calibrationMAE_meV, ...(r.calibrationByHead ? { heads: r.calibrationByHead } : {}) }, null, 2));
    console.log(`model written to ${r.model}`);
    return 0;
  },
};
