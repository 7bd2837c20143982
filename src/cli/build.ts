/**
 * `oreo build`: 3D structures from SMILES (OpenChemLib conformers), optionally relaxed with xtb or
 * a model, written as xyz/extxyz/SDF with the SMILES, identity and provenance in each record.
 */
import { readFileSync } from 'node:fs';
import { OreoError } from '../errors.js';
import { buildFromSmiles, parseSmilesList, type Relaxer } from '../sampling/build.js';
import { structureFormatOf, writeStructureFile, type StructureRecord } from '../data/write.js';
import { optimizerKinds, type OptimizerKind } from '../optimize/minimize.js';
import { referenceCalculatorFrom, referenceOptionSpec } from './reference-options.js';
import { flag, helpText, num, parseArgs, str, type OptionSpec } from './args.js';
import type { Command } from './command.js';
import { formatDuration } from './progress.js';

const spec: Record<string, OptionSpec> = {
  smiles: { type: 'string', help: 'one molecule as SMILES (quote it in the shell)' },
  'smiles-file': { type: 'string', help: 'SMILES one a line (.smi: SMILES then an optional name) or a CSV with a smiles column' },
  out: { type: 'string', help: 'output file: .xyz/.extxyz or .sdf (one record per conformer)' },
  conformers: { type: 'string', help: 'conformers per molecule, at most (default 1; rigid molecules give fewer)' },
  seed: { type: 'string', help: 'conformer generator seed (default 1)' },
  relax: { type: 'string', help: 'relax each structure: xtb (GFN2-xTB, its own optimiser), or a model file (oreo L-BFGS)' },
  optimizer: { type: 'string', help: `with --relax: ${optimizerKinds.join(' | ')} (oreo's, any calculator) or xtb-opt (xtb's own; default for --relax xtb)` },
  fmax: { type: 'string', help: 'with an oreo optimiser: converged below this force, eV/Å (default 0.05)' },
  steps: { type: 'string', help: 'with an oreo optimiser: step limit (default 1000)' },
  dtype: { type: 'string', help: 'arithmetic of a model used with --relax: float64 (default) or float32' },
  ...Object.fromEntries(Object.entries(referenceOptionSpec).filter(([k]) => k !== 'calculator' && k !== 'charge' && k !== 'uhf')),
  quiet: { type: 'boolean', help: 'no per-molecule lines' },
  help: { type: 'boolean', help: 'show this help' },
};

const usage = "oreo build (--smiles 'CCO' | --smiles-file FILE) --out FILE.xyz|.sdf [--conformers N] [--seed S] [--relax xtb|MODEL]";

async function relaxerFor(p: ReturnType<typeof parseArgs>, charge: number, unpaired: number): Promise<Relaxer | undefined> {
  const what = str(p, 'relax');
  if (what === undefined) {
    for (const k of ['optimizer', 'fmax', 'steps', 'dtype']) if (str(p, k) !== undefined) throw new OreoError(`oreo build: --${k} applies with --relax only`);
    return undefined;
  }
  const optimizer = str(p, 'optimizer');
  const fmax = num('build', p, 'fmax', 0.05, { min: 0, exclusiveMin: true });
  const steps = num('build', p, 'steps', 1000, { integer: true, min: 0 });
  if (/^(gfn2-|gfn1-)?xtb$/i.test(what)) {
    const calculator = referenceCalculatorFrom('build', p, { charge, unpaired });
    const method = (optimizer ?? 'xtb-opt') as OptimizerKind | 'xtb-opt';
    if (method !== 'xtb-opt' && !optimizerKinds.includes(method)) throw new OreoError(`oreo build: unknown --optimizer '${method}'`);
    return { calculator, method, fmax, steps, label: calculator.name };
  }
  if (optimizer === 'xtb-opt') throw new OreoError('oreo build: --optimizer xtb-opt needs --relax xtb');
  const method = (optimizer ?? 'lbfgs') as OptimizerKind;
  if (!optimizerKinds.includes(method)) throw new OreoError(`oreo build: unknown --optimizer '${method}'`);
  const dtype = str(p, 'dtype');
  if (dtype !== undefined && dtype !== 'float32' && dtype !== 'float64') throw new OreoError(`oreo build: --dtype must be float32 or float64`);
  const { loadCalculator } = await import('../model/load.js');
  const calculator = await loadCalculator(what, dtype ? { dtype } : {});
  return { calculator, method, fmax, steps, label: what };
}

export const command: Command = {
  summary: '3D structures from SMILES (OpenChemLib conformers), optionally relaxed with xtb or a model',
  async run(argv) {
    const p = parseArgs('build', argv, spec);
    if (flag(p, 'help')) {
      console.log(helpText(usage, command.summary, spec));
      return 0;
    }
    if (p.positionals.length) throw new OreoError(`oreo build: unexpected argument '${p.positionals[0]}'`);
    const one = str(p, 'smiles'), file = str(p, 'smiles-file'), out = str(p, 'out');
    if ((one === undefined) === (file === undefined)) throw new OreoError('oreo build: give --smiles or --smiles-file (one of them)');
    if (out === undefined) throw new OreoError('oreo build: missing --out FILE (.xyz, .extxyz or .sdf)');
    structureFormatOf(out);
    const conformers = num('build', p, 'conformers', 1, { integer: true, min: 1 });
    const seed = num('build', p, 'seed', 1, { integer: true });
    let list: ReturnType<typeof parseSmilesList>;
    if (file !== undefined) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (e) {
        throw new OreoError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
      list = parseSmilesList(text, file);
    } else {
      list = [{ smiles: one!, source: {} }];
    }
    const records: StructureRecord[] = [];
    const quiet = flag(p, 'quiet');
    const t0 = performance.now();
    const relaxers = new Map<string, Relaxer | undefined>();
    for (const item of list) {
      // The relaxer depends on the molecule's charge and spin (xtb needs them), so it is made per molecule kind.
      const { smilesIdentity } = await import('../chem/smiles.js');
      const id = smilesIdentity(item.smiles, item.source.file ? item.source : undefined);
      const key = `${id.charge}/${id.unpaired}`;
      if (!relaxers.has(key)) relaxers.set(key, await relaxerFor(p, id.charge, id.unpaired));
      const t = performance.now();
      const built = buildFromSmiles(item.smiles, { conformers, seed, source: item.source.file ? item.source : undefined, relax: relaxers.get(key), name: item.name });
      records.push(...built);
      if (!quiet) {
        const b = built[0];
        const relaxed = b.info?.relaxed_with ? `; relaxed with ${b.info.relaxed_with}: ${built.map((x) => `E ${Number(x.info!.energy).toFixed(4)} eV${x.info!.relax_converged ? '' : ' (NOT converged)'}`).join(', ')}` : '';
        console.error(`${item.smiles}: ${id.formula}, ${b.z.length} atoms, ${built.length} conformer${built.length === 1 ? '' : 's'}${relaxed} (${formatDuration((performance.now() - t) / 1000)})`);
      }
    }
    writeStructureFile(out, records);
    const notConverged = records.filter((r) => r.info?.relax_converged === false).length;
    console.log(`${records.length} structure${records.length === 1 ? '' : 's'} of ${list.length} molecule${list.length === 1 ? '' : 's'} written to ${out} in ${formatDuration((performance.now() - t0) / 1000)}${notConverged ? `; ${notConverged} relaxation(s) did NOT converge` : ''}`);
    return notConverged ? 3 : 0;
  },
};
