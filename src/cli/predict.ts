/**
 * `oreo predict`: energies and forces of every selected frame of an input file, as JSON.
 */
import type { Command } from './command.js';
import { parseArgs, requireStr, str, num, helpText, OptionSpec } from './args.js';
import { openModelFile } from '../model/load.js';
import type { Potential } from '../model/potential.js';
import { FastEnergyForces } from '../model/fast/energy-forces.js';
import { iterateConformations, readConformations } from '../data/read.js';
import { predictFrames, selectFrames, writePredictions, type BatchPredictor } from './predict-frames.js';
import { formula } from '../elements.js';
import type { Conformation } from '../data/conformation.js';
import { framesNeeded } from './frames.js';
import { OreoError } from '../errors.js';
import { applicabilityWarning } from '../model/card.js';

const spec: Record<string, OptionSpec> = {
  model: { type: 'string', help: 'model file: oreo .oreo (ET or ANI ensemble) or TorchMD-Net .ckpt/.pt, or a bundled model name (ani2x)' },
  input: { type: 'string', help: 'structures: any file oreo reads (xyz/extxyz, SDF, PDB, MD17 .npz, HDF5 sets, …)' },
  frames: { type: 'string', help: 'frames to predict, e.g. 0,5,10-20 or 0:100:10 (default all)' },
  out: { type: 'string', help: 'FILE.json: the JSON there instead of stdout; FILE.extxyz/.xyz: the frames with oreo_energy and oreo_forces (and the file\'s labels as REF_energy, REF_forces), as MACE\'s eval_configs writes' },
  'info-prefix': { type: 'string', help: 'prefix of the predicted keys in extxyz output (default oreo_)' },
  head: { type: 'string', help: "a multi-head model's head (its id or level of theory); default: the model's default head" },
  batch: { type: 'string', help: 'frames per model call (default 16)' },
  dtype: { type: 'string', help: 'float32 | float64 (default: the model\'s own precision)' },
  path: { type: 'string', help: 'fast (fused inference, as MD uses; the default where the model supports it) | autodiff' },
  help: { type: 'boolean' },
};

/**
 * The fused inference path (src/model/fast, what MD runs) when asked for or by default, else the
 * autodiff path. Today the fast path covers every ET oreo loads; should a model ever fall outside
 * it (its constructor refuses what it does not implement), the default falls back to autodiff and
 * says why, while an explicit --path fast is an error.
 */
function choosePredictor(pot: Potential, wanted: string | undefined): { path: 'fast' | 'autodiff'; predict: BatchPredictor; note?: string } {
  if (wanted !== undefined && wanted !== 'fast' && wanted !== 'autodiff') throw new OreoError(`--path ${wanted}: expected fast or autodiff`);
  const autodiff: BatchPredictor = (b) => {
    const p = pot.predict(b);
    return { energy: p.energy.data, forces: p.forces.data };
  };
  if (wanted === 'autodiff') return { path: 'autodiff', predict: autodiff };
  let fast: FastEnergyForces;
  try {
    fast = new FastEnergyForces(pot);
  } catch (err) {
    if (!(err instanceof OreoError) || wanted === 'fast') throw err instanceof OreoError ? new OreoError(`--path fast: ${err.message}`) : err;
    return { path: 'autodiff', predict: autodiff, note: `the fast path does not cover this model (${err.message}); using autodiff` };
  }
  return { path: 'fast', predict: (b) => fast.compute(b.z, b.positions, b.mol, b.nMol) };
}

/** Structures to predict on, through the one reader dispatch (src/data/read.ts), units converted there. */
async function readStructures(path: string, frames?: string): Promise<Conformation[]> {
  const need = frames ? framesNeeded(frames) : null;
  if (need === null) return readConformations(path);
  // Only as far as the selection reaches: a large file is not read (or inflated) past it.
  const out: Conformation[] = [];
  if (need === 0) return out;
  for await (const c of iterateConformations(path)) {
    out.push(c);
    if (out.length >= need) break;
  }
  return out;
}

const usage = 'oreo predict --model FILE --input FILE [--frames LIST] [--out FILE] [--batch N] [--dtype float32|float64] [--path fast|autodiff]';

export const command: Command = {
  summary: 'energies and forces of structures with a model (JSON)',
  async run(argv) {
    const p = parseArgs('predict', argv, spec);
    if (p.options.help) {
      console.log(
        helpText(
          usage + ' [--out FILE.extxyz]',
          'Prints {"model":FILE,"units":{…},"path":"fast"|"autodiff","frames":[{"frame":i,"energy":E,"forces":[[fx,fy,fz],...]},...]} ' +
            'in the model\'s units (eV, eV/Å for oreo models; a TorchMD-Net checkpoint\'s are those of its training data, shown as "model").',
          spec,
        ),
      );
      return 0;
    }
    const dtype = str(p, 'dtype');
    if (dtype !== undefined && dtype !== 'float32' && dtype !== 'float64') {
      throw new OreoError(`--dtype ${dtype}: expected float32 or float64`);
    }
    const modelPath = requireStr('predict', p, 'model');
    const input = requireStr('predict', p, 'input');
    // The model file is read once; its kind decides what is printed.
    const head = str(p, 'head');
    const opened = openModelFile(modelPath, { dtype: dtype as 'float32' | 'float64' | undefined, ...(head !== undefined ? { head } : {}) });
    if (opened.kind === 'property') {
      // A property model (oreo finetune --task property) prints its property per frame instead.
      const options = { frames: str(p, 'frames'), out: str(p, 'out'), batch: num('predict', p, 'batch', 16, { min: 1, integer: true }) };
      const read = await readStructures(input);
      return (await import('./property.js')).runPropertyPredict(opened.model, modelPath, input, options, () => read);
    }
    if (opened.kind === 'ani-ensemble') {
      const options = { frames: str(p, 'frames'), out: str(p, 'out'), batch: num('predict', p, 'batch', 16, { min: 1, integer: true }), path: str(p, 'path'), infoPrefix: str(p, 'info-prefix') };
      return (await import('./predict-ani.js')).runAniPredict(opened.model, modelPath, await readStructures(input, str(p, 'frames')), input, options);
    }
    const pot = opened.model;
    const structures = await readStructures(input, str(p, 'frames'));
    const frames = selectFrames(structures, str(p, 'frames'), input);
    const batchSize = num('predict', p, 'batch', 16, { min: 1, integer: true });
    for (const i of frames) pot.checkElements(structures[i].z);
    // A molecule-specific model asked about another molecule: say so once per composition.
    const warned = new Set<string>();
    for (const i of frames) {
      const f = formula(structures[i].z);
      if (warned.has(f)) continue;
      warned.add(f);
      const w = applicabilityWarning(pot.meta, structures[i].z, `model '${modelPath}'`);
      if (w) console.error(`oreo predict: warning: ${w}`);
    }
    const chosen = choosePredictor(pot, str(p, 'path'));
    if (chosen.note) console.error(`oreo predict: ${chosen.note}`);

    const results = predictFrames(structures, frames, batchSize, chosen.predict, modelPath, input);
    const { energy: energyUnit, forces: forcesUnit } = pot.predictionUnits();
    const units = { energy: energyUnit, forces: forcesUnit };
    const out = str(p, 'out');
    const prefix = str(p, 'info-prefix') ?? 'oreo_';
    if (out && /\.(ext)?xyz$/i.test(out) && units.energy !== 'eV') {
      console.error(`oreo predict: the model's units are ${units.energy}, ${units.forces}; the extxyz keys hold them as predicted`);
    }
    // The head that predicted, for a multi-head model (src/model/multi-head.ts).
    const heads = pot.heads();
    const headRecord = pot.isMultiHead() || head !== undefined || heads.length > 1 || pot.meta.heads ? { head: (pot.meta.head as string | undefined) ?? heads.find((h) => h.default)?.id } : {};
    writePredictions(out, { model: modelPath, ...headRecord, units, path: chosen.path }, structures, results, prefix, `${prefix}energy and ${prefix}forces`);
    return 0;
  },
};
