/** `oreo eval --model FILE --data FILE`: energy and force MAE on a labelled set. */
import type { Command } from './command.js';
import { parseArgs, requireStr, str, num, helpText, OptionSpec } from './args.js';
import { openModelFile } from '../model/load.js';
import { readConformations } from '../data/read.js';
import { evaluate } from '../train/evaluate.js';
import { OreoError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { ProgressPrinter } from './progress.js';
import { requireFinite } from './finite.js';

const spec: Record<string, OptionSpec> = {
  model: { type: 'string', help: 'model file (ET, ANI ensemble, TorchMD-Net) or a bundled model name (ani2x)' },
  data: { type: 'string', help: 'labelled conformations (npz, extxyz, hdf5, …)' },
  head: { type: 'string', help: "a multi-head model's head (its id or level of theory); default: the model's default head" },
  limit: { type: 'string', help: 'evaluate only the first N conformations' },
  batch: { type: 'string', help: 'molecules per model call (16)' },
  out: { type: 'string', help: 'also write the metrics JSON here' },
  help: { type: 'boolean' },
};

export const command: Command = {
  summary: 'energy MAE (meV) and force MAE (meV/Å, per component) of a model on labelled data; property MAE for property models',
  async run(argv) {
    const p = parseArgs('eval', argv, spec);
    if (p.options.help) {
      console.log(helpText('oreo eval --model FILE --data FILE [--head NAME] [--limit N] [--out FILE]', 'Force MAE is over all Cartesian components of all atoms, as MDsim reports it.', spec));
      return 0;
    }
    const data = requireStr('eval', p, 'data');
    const limit = num('eval', p, 'limit', Infinity, { min: 1, integer: true });
    // A property model (oreo finetune --task property) reports its property's L1 MAE (meV for eV targets).
    const modelPath = requireStr('eval', p, 'model');
    const head = str(p, 'head');
    const opened = openModelFile(modelPath, head !== undefined ? { head } : {});
    if (opened.kind === 'property') {
      const options = { limit: Number.isFinite(limit) ? limit : undefined, batch: num('eval', p, 'batch', 16, { min: 1, integer: true }), out: str(p, 'out') };
      return (await import('./property.js')).evalPropertyModel(opened.model, modelPath, data, options);
    }
    const pot = opened.model;
    const confs = await readConformations(data, Number.isFinite(limit) ? { limit } : {});
    if (confs.length === 0) throw new OreoError(`${data}: no conformations`);
    for (const c of confs.slice(0, 1)) pot.checkElements(c.z);
    const t0 = Date.now();
    const printer = new ProgressPrinter();
    const r = evaluate(pot, confs, num('eval', p, 'batch', 16, { min: 1, integer: true }), (done) => {
      printer.update(`evaluated ${done}/${confs.length} (${((done / Math.max(1, Date.now() - t0)) * 1000).toFixed(1)} conf/s)`, {
        fraction: done / confs.length,
        final: done === confs.length,
      });
    });
    printer.done();
    if (r.energyMAE_meV === null && r.forceMAE_meV_per_A === null) throw new OreoError(`${data}: no energy or force labels to evaluate against`);
    requireFinite(r, `${modelPath} on ${data}`);
    // A label the data lacks is left out of the report rather than printed as null.
    const report = Object.fromEntries(Object.entries(r).filter(([, v]) => v !== null));
    const json = JSON.stringify({ model: pot.meta.source ?? requireStr('eval', p, 'model'), ...(head !== undefined ? { head } : {}), data, ...report }, null, 2);
    if (str(p, 'out')) writeFileAtomic(str(p, 'out')!, json + '\n');
    console.log(json);
    return 0;
  },
};
