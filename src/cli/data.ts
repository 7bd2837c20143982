/**
 * `oreo data …`: look into data files, convert them, make splits and shards.
 */
import { createWriteStream, existsSync } from 'node:fs';
import { replaceFileAsync } from '../io/atomic.js';
import { OreoError } from '../errors.js';
import { readDatasetConfig, buildShards, loadDataset, type BuildShardsOptions } from '../data/dataset.js';
import { conformationToFrame, formatExtxyzFrame } from '../data/extxyz.js';
import { formatInspectReport, inspectFile } from '../data/inspect.js';
import { FORMATS, iterateConformations, readConformations, type FormatName } from '../data/read.js';
import type { ReadOptions } from '../data/read-options.js';
import { SplitLookup, loadOrCreateSplits, readSplits, makeSplits, writeSplits } from '../data/splits.js';
import { isCorpusDir } from '../corpus/assemble.js';
import { formatCorpusSummary, readCorpusManifest } from '../corpus/summary.js';
import { flag, helpText, num, parseArgs, requireStr, str, type OptionSpec, type Parsed } from './args.js';
import { ProgressPrinter } from './progress.js';
import type { Command } from './command.js';

const READER_OPTIONS: Record<string, OptionSpec> = {
  format: { type: 'string', help: `force a reader: ${Object.keys(FORMATS).join(', ')}` },
  'energy-unit': { type: 'string', help: 'energy unit of the file where the format does not fix it (eV, Ha, kcal/mol, kJ/mol)' },
  'length-unit': { type: 'string', help: 'length unit of the file where the format does not fix it (Å, Bohr, nm)' },
  'forces-are-gradients': { type: 'boolean', help: 'the file stores +∇E under "forces": negate them' },
  level: { type: 'string', help: 'ANI-1x level of theory (default wb97x_dz)' },
  'old-labels': { type: 'boolean', help: 'rMD17: read the original MD17 labels (old_energies/old_forces)' },
  'skip-bad': { type: 'boolean', help: 'report and skip bad records instead of stopping' },
};

function readerOptions(p: Parsed): ReadOptions & { format?: FormatName } {
  const format = str(p, 'format');
  if (format !== undefined && !(format in FORMATS)) throw new OreoError(`oreo data: unknown --format ${format} (known: ${Object.keys(FORMATS).join(', ')})`);
  const o: ReadOptions & { format?: FormatName } = {};
  if (format) o.format = format as FormatName;
  const eu = str(p, 'energy-unit');
  if (eu) o.energyUnit = eu;
  const lu = str(p, 'length-unit');
  if (lu) o.lengthUnit = lu;
  if (flag(p, 'forces-are-gradients')) o.forcesAreGradients = true;
  const level = str(p, 'level');
  if (level) o.level = level;
  if (flag(p, 'old-labels')) o.oldLabels = true;
  if (flag(p, 'skip-bad')) o.skipBad = true;
  return o;
}

const INSPECT: Record<string, OptionSpec> = {
  json: { type: 'boolean', help: 'print the report as JSON' },
  ...READER_OPTIONS,
  help: { type: 'boolean' },
};

async function inspect(argv: string[]): Promise<number> {
  const p = parseArgs('data inspect', argv, INSPECT);
  if (flag(p, 'help') || p.positionals.length === 0) {
    console.log(helpText('oreo data inspect FILE|CORPUS_DIR [--json]', 'Format, counts, elements, labels and their ranges in oreo units (Å, eV, eV/Å); for a corpus directory, its summary (molecules, conformations by kind, sampler, level, source, element, atoms per molecule, failures).', INSPECT));
    return flag(p, 'help') ? 0 : 2;
  }
  let code = 0;
  for (const file of p.positionals) {
    if (isCorpusDir(file)) {
      // A corpus directory (oreo corpus build): its manifest says what it holds.
      const m = readCorpusManifest(file);
      console.log(flag(p, 'json') ? JSON.stringify(m, null, 2) : formatCorpusSummary(m, file) + (p.positionals.length > 1 ? '\n' : ''));
      continue;
    }
    const opts = readerOptions(p);
    const r = await inspectFile(file, opts);
    if (flag(p, 'json')) console.log(JSON.stringify(r, null, 2));
    else console.log(formatInspectReport(r) + (p.positionals.length > 1 ? '\n' : ''));
    if (r.skipped.length) {
      console.error(`oreo data inspect: ${file}: skipped ${r.skipped.length} bad record(s)`);
      code = 1;
    }
  }
  return code;
}

const CONVERT: Record<string, OptionSpec> = { ...READER_OPTIONS, help: { type: 'boolean' } };

async function convert(argv: string[]): Promise<number> {
  const p = parseArgs('data convert', argv, CONVERT);
  if (flag(p, 'help') || p.positionals.length !== 2) {
    console.log(helpText('oreo data convert IN OUT.extxyz', 'Write any readable file as ASE extxyz (Å, eV, eV/Å).', CONVERT));
    return flag(p, 'help') ? 0 : 2;
  }
  const [input, output] = p.positionals;
  let n = 0;
  const opts = readerOptions(p);
  opts.onBad = (e) => console.error(`oreo data convert: skipped: ${e.message}`);
  await replaceFileAsync(output, async (tmp) => {
    const out = createWriteStream(tmp);
    for await (const c of iterateConformations(input, opts)) {
      const extra: Record<string, string | number> = {};
      if (c.kind) extra.kind = c.kind;
      if (!out.write(formatExtxyzFrame(conformationToFrame(c, extra)))) await new Promise<void>((r) => out.once('drain', () => r()));
      n++;
    }
    await new Promise<void>((res, rej) => out.end((err?: Error | null) => (err ? rej(err) : res())));
  });
  console.log(`wrote ${n} conformations to ${output}`);
  return 0;
}

const SPLIT: Record<string, OptionSpec> = {
  config: { type: 'string', help: 'dataset config (JSON) naming the sources' },
  out: { type: 'string', help: 'splits file to write (reused and checked if it exists)' },
  seed: { type: 'string', help: 'seed (default: the config seed)' },
  val: { type: 'string', help: 'validation fraction per source (default 0.05)' },
  test: { type: 'string', help: 'test fraction per source (default 0.05)' },
  'hold-out': { type: 'string', multiple: true, help: 'file whose conformations must be test wherever they appear (repeatable)' },
  help: { type: 'boolean' },
};

async function split(argv: string[]): Promise<number> {
  const p = parseArgs('data split', argv, SPLIT);
  if (flag(p, 'help')) {
    console.log(helpText('oreo data split --config CONFIG --out SPLITS.json', 'Seeded train/val/test splits with a content hash of each source.', SPLIT));
    return 0;
  }
  const config = readDatasetConfig(requireStr('data split', p, 'config'));
  const out = requireStr('data split', p, 'out');
  const seed = num('data split', p, 'seed', config.seed, { integer: true });
  const val = num('data split', p, 'val', 0.05, { min: 0, max: 0.9 });
  const test = num('data split', p, 'test', 0.05, { min: 0, max: 0.9 });
  const loaded = await loadDataset(config);
  const holdOut = [];
  for (const h of (p.options['hold-out'] as string[] | undefined) ?? []) holdOut.push({ path: h, conformations: await readConformations(h) });
  const inputs = loaded.map((l) => ({ name: l.config.name, path: l.config.path, conformations: l.conformations, split: l.config.split, fileCount: l.fileCount }));
  const existed = existsSync(out);
  const { splits } = existed && holdOut.length === 0 ? loadOrCreateSplits(out, inputs, { seed, val, test }) : { splits: makeSplits(inputs, { seed, val, test, holdOut }) };
  if (!existed || holdOut.length) writeSplits(out, splits);
  console.log(`${existed && !holdOut.length ? 'checked and reused' : 'wrote'} ${out} (seed ${splits.seed})`);
  for (const s of splits.sources) {
    const l = loaded.find((x) => x.sha256 === s.sha256);
    const n = l ? l.conformations.length : s.count;
    console.log(`  ${s.name.padEnd(24)} ${String(n - s.val.length - s.test.length).padStart(8)} train ${String(s.val.length).padStart(7)} val ${String(s.test.length).padStart(7)} test   sha256 ${s.sha256.slice(0, 12)}…`);
  }
  if (splits.heldOut.length) console.log(`  held out: ${splits.heldOut.map((h) => h.path).join(', ')} (${splits.heldOut[0].matched} matches moved to test)`);
  return 0;
}

const SHARD: Record<string, OptionSpec> = {
  config: { type: 'string', help: 'dataset config (JSON) naming the sources' },
  out: { type: 'string', help: 'output directory for index.json and shard-*.bin' },
  'shard-size': { type: 'string', help: 'conformations per shard (default 50000)' },
  precision: { type: 'string', help: 'f64 (default) or f32 storage of positions and forces' },
  splits: { type: 'string', help: 'splits file: write only one part of it' },
  part: { type: 'string', help: 'with --splits: train (default), val or test' },
  resume: { type: 'boolean', help: 'continue an interrupted build in --out' },
  help: { type: 'boolean' },
};

async function shard(argv: string[]): Promise<number> {
  const p = parseArgs('data shard', argv, SHARD);
  if (flag(p, 'help')) {
    console.log(
      helpText(
        'oreo data shard --config CONFIG --out DIR',
        'Stream the sources of a dataset config into binary shards for training on data larger than memory: a pre-training config names DIR as a source { "name", "shards": DIR, "weight" } and oreo pretrain streams it (docs/training.md).',
        SHARD,
      ),
    );
    return 0;
  }
  const config = readDatasetConfig(requireStr('data shard', p, 'config'));
  const out = requireStr('data shard', p, 'out');
  const precision = str(p, 'precision') ?? 'f64';
  if (precision !== 'f64' && precision !== 'f32') throw new OreoError(`oreo data shard: --precision must be f64 or f32, got ${precision}`);
  const shardSize = num('data shard', p, 'shard-size', 50_000, { integer: true, min: 1 });
  const splitsPath = str(p, 'splits');
  const part = str(p, 'part') ?? 'train';
  if (part !== 'train' && part !== 'val' && part !== 'test') throw new OreoError(`oreo data shard: --part must be train, val or test`);
  let filter: BuildShardsOptions['filter'];
  if (splitsPath) {
    const lookup = new SplitLookup(readSplits(splitsPath));
    filter = (s, sha, index) => {
      const got = lookup.partOf(sha, index);
      if (got === undefined) throw new OreoError(`${splitsPath}: source '${s.name}' (${s.path}) is not in this splits file (its content changed or it was never split)`);
      return got === part;
    };
  }
  const t0 = Date.now();
  // The total is not known while sources stream in, so into a log the printer writes by time only.
  const printer = new ProgressPrinter();
  const index = await buildShards(config, out, {
    shardSize,
    precision,
    resume: flag(p, 'resume'),
    filter,
    onProgress: (done, name) => printer.update(`${done} conformations (${name}) ${((Date.now() - t0) / 1000).toFixed(0)} s`),
  });
  printer.done();
  console.log(`wrote ${index.total} conformations (${index.atoms} atoms) in ${index.shards.length} shard(s) to ${out}`);
  return 0;
}

const EXPORT: Record<string, OptionSpec> = {
  ...READER_OPTIONS,
  format: { type: 'string', help: 'torchmdnet-hdf5 (the layout of TorchMD-Net\'s HDF5 dataset)' },
  out: { type: 'string', help: 'file to write (.h5)' },
  precision: { type: 'string', help: '32 | 64 (default 64; TorchMD-Net reads float32 either way)' },
  help: { type: 'boolean' },
};

async function exportData(argv: string[]): Promise<number> {
  const p = parseArgs('data export', argv, EXPORT);
  if (flag(p, 'help') || p.positionals.length === 0) {
    console.log(helpText('oreo data export --format torchmdnet-hdf5 --out FILE.h5 INPUT...', 'Write conformations (Å, eV, eV/Å) for TorchMD-Net\'s HDF5 dataset: a group per atom count with types, pos, energy, forces.', EXPORT));
    return flag(p, 'help') ? 0 : 2;
  }
  if (str(p, 'format') !== 'torchmdnet-hdf5') throw new OreoError(`oreo data export: --format ${str(p, 'format') ?? '(missing)'}: expected torchmdnet-hdf5`);
  const precision = num('data export', p, 'precision', 64, { integer: true });
  if (precision !== 32 && precision !== 64) throw new OreoError(`oreo data export: --precision ${precision}: expected 32 or 64`);
  const out = requireStr('data export', p, 'out');
  const { format: _reader, ...opts } = readerOptions({ ...p, options: { ...p.options, format: undefined } });
  const sources = [];
  for (const file of p.positionals) sources.push({ file, conformations: await readConformations(file, opts) });
  const { writeTorchmdnetHdf5 } = await import('../data/torchmdnet-hdf5.js');
  const r = await writeTorchmdnetHdf5(sources, out, { precision });
  console.log(`wrote ${r.conformations} conformations (${r.labels.join(' + ')}) in ${r.groups.length} group(s) to ${out}`);
  return 0;
}

const SUB: Record<string, { summary: string; run: (argv: string[]) => Promise<number> }> = {
  inspect: { summary: 'summarise a data file (format, counts, labels, ranges in oreo units)', run: inspect },
  convert: { summary: 'write any readable data file as ASE extxyz', run: convert },
  split: { summary: 'make (or check and reuse) seeded train/val/test splits', run: split },
  shard: { summary: 'write a dataset config to binary shards for streaming', run: shard },
  export: { summary: "write conformations for TorchMD-Net (its HDF5 dataset layout)", run: exportData },
};

export const command: Command = {
  summary: 'data files: inspect, convert, split, shard',
  async run(argv: string[]): Promise<number> {
    const [sub, ...rest] = argv;
    const s = sub ? SUB[sub] : undefined;
    if (!s) {
      const list = Object.entries(SUB).map(([k, v]) => `  ${k.padEnd(10)}${v.summary}`).join('\n');
      console.log(`usage: oreo data <subcommand> [options]\n\nsubcommands:\n${list}`);
      return sub === undefined || sub === '--help' || sub === '-h' || sub === 'help' ? 0 : 2;
    }
    return s.run(rest);
  },
};
