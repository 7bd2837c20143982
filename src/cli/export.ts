/**
 * `oreo export --model FILE --format torchmdnet --out FILE.ckpt`: write a model (an oreo `.oreo`
 * or a TorchMD-Net checkpoint) as a checkpoint TorchMD-Net 2.x's `load_model` reads
 * (src/model/io/torchmdnet-export.ts).
 */
import { resolve } from 'node:path';
import type { Command } from './command.js';
import { parseArgs, requireStr, str, helpText, OptionSpec } from './args.js';
import { openModelFile } from '../model/load.js';
import { requireEt } from '../model/open.js';
import { saveTorchMDNet, modelUnits } from '../model/io/torchmdnet-export.js';
import { OreoError } from '../errors.js';

const formats = ['torchmdnet'];

const spec: Record<string, OptionSpec> = {
  model: { type: 'string', help: 'model to export: oreo .oreo or TorchMD-Net .ckpt/.pt' },
  format: { type: 'string', help: `output format: ${formats.join(' | ')} (TorchMD-Net 2.x checkpoint)` },
  out: { type: 'string', help: 'file to write (e.g. model.ckpt)' },
  head: { type: 'string', help: "a multi-head model's head (its id or level of theory); default: the model's default head" },
  precision: { type: 'string', help: '32 | 64: TorchMD-Net precision and stored dtype (default: the model\'s own)' },
  'from-neurochem': { type: 'string', help: 'instead: convert a published NeuroChem ANI ensemble folder (e.g. ANI-2x) into one .oreo file' },
  name: { type: 'string', help: 'with --from-neurochem: the model\'s name (default ani2x)' },
  'level-of-theory': { type: 'string', help: 'with --from-neurochem: the level of theory of its training data (default "ANI-2x (ωB97X/6-31G(d))")' },
  source: { type: 'string', help: 'with --from-neurochem: where the files came from (provenance text kept in the file)' },
  help: { type: 'boolean' },
};

const usage = 'oreo export --model FILE --format torchmdnet --out FILE.ckpt [--head NAME] [--precision 32|64]\n' +
  '       oreo export --from-neurochem DIR --out FILE.oreo [--name ani2x] [--level-of-theory TEXT] [--source TEXT]';

const summary = [
  'Writes a torch.save checkpoint that TorchMD-Net 2.x reads with',
  'torchmdnet.models.model.load_model (checked against v2.6.2): hyper_parameters, a state_dict',
  'with the "model." keys its training module writes, and an "oreo" side record (units, elements,',
  'source) that TorchMD-Net ignores. Units: TorchMD-Net itself has none; positions are Å and an',
  'oreo model predicts eV and eV/Å, so the exported model does too (a TorchMD-Net checkpoint',
  'keeps the units of its training data). oreo reads the file back like any checkpoint',
  '(--model FILE.ckpt). See docs/interop.md.',
].join('\n');

export const command: Command = {
  summary: 'write a model as a TorchMD-Net 2.x checkpoint (load_model-compatible .ckpt)',
  async run(argv) {
    const p = parseArgs('export', argv, spec);
    if (p.options.help) {
      console.log(helpText(usage, summary, spec));
      return 0;
    }
    if (str(p, 'from-neurochem') !== undefined) {
      const { exportNeuroChem } = await import('../model/ani/convert.js');
      const r = exportNeuroChem(str(p, 'from-neurochem')!, requireStr('export', p, 'out'), {
        name: str(p, 'name'),
        levelOfTheory: str(p, 'level-of-theory'),
        source: str(p, 'source'),
      });
      console.log(JSON.stringify(r));
      return 0;
    }
    const modelPath = requireStr('export', p, 'model');
    const format = str(p, 'format');
    if (format === undefined) throw new OreoError(`oreo export: --format is required (supported: ${formats.join(', ')})`);
    if (!formats.includes(format)) throw new OreoError(`oreo export: --format ${format}: unknown format (supported: ${formats.join(', ')})`);
    const out = requireStr('export', p, 'out');
    const precisionArg = str(p, 'precision');
    if (precisionArg !== undefined && precisionArg !== '32' && precisionArg !== '64') {
      throw new OreoError(`oreo export: --precision ${precisionArg}: expected 32 or 64 (TorchMD-Net's float32 or float64)`);
    }
    if (resolve(out) === resolve(modelPath)) throw new OreoError(`oreo export: --out ${out} is the input model; choose another file`);
    const head = str(p, 'head');
    const opened = openModelFile(modelPath, head !== undefined ? { head } : {});
    if (opened.kind === 'property') {
      throw new OreoError(
        `${modelPath}: a property model (it predicts '${opened.model.head.target}') cannot be exported: ` +
          'TorchMD-Net 2.x has no output module for oreo\'s property head; only energy/force models export',
      );
    }
    // One head of a multi-head model, as a plain single-head TorchMD-Net model (the default head unless --head).
    const pot = requireEt(opened.model, modelPath).withHead(head);
    const precision = precisionArg === undefined ? undefined : (Number(precisionArg) as 32 | 64);
    saveTorchMDNet(pot, out, { precision, source: modelPath });
    const units = modelUnits(pot);
    console.log(
      JSON.stringify({
        out,
        format,
        model: modelPath,
        ...(pot.meta.head !== undefined ? { head: pot.meta.head } : {}),
        precision: precision ?? pot.config.precision,
        parameters: pot.parameterCount(),
        units: units ? { length: 'Å', ...units } : { length: 'Å', energy: 'model', forces: 'model/Å' },
      }),
    );
    return 0;
  },
};
