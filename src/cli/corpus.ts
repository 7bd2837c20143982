/**
 * `oreo corpus build`: a labelled pre-training corpus from molecule lists (src/corpus/).
 */
import { availableParallelism } from 'node:os';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from './command.js';
import { flag, helpText, num, parseArgs, requireStr, str, type OptionSpec } from './args.js';
import { OreoError } from '../errors.js';
import { contentHash } from '../data/identity.js';
import { buildCorpus, type CorpusInput } from '../corpus/build.js';
import { formatCorpusSummary } from '../corpus/summary.js';
import { commitJobs, DEFAULT_PART_BYTES } from '../corpus/archive.js';
import { referenceOptionSpec, referenceOptionsFrom } from './reference-options.js';
import { referenceCalculatorsHelp } from '../qm/registry.js';
import { planFrom, planOptionSpec } from './sampling-options.js';
import { PAPER_UNITS } from '../polymers/units.js';
import { bundledData } from '../data/bundled.js';
import { formatDuration, ProgressPrinter, progressBar } from './progress.js';

const { calculator: _c, charge: _q, uhf: _u, ...calculatorFlags } = referenceOptionSpec;

const spec: Record<string, OptionSpec> = {
  molecules: { type: 'string', multiple: true, help: 'molecule list: SMILES one a line (.smi/.txt), a CSV (.csv, column --column), or any structure file oreo reads; repeatable' },
  column: { type: 'string', help: 'CSV column with the SMILES (default: smiles)' },
  polymers: { type: 'boolean', help: `add poly24-style chains (${Object.keys(PAPER_UNITS).join(', ')}, 1–6 loops, H caps) as source "polymers"` },
  limit: { type: 'string', help: 'read at most N molecules from each list' },
  'skip-invalid': { type: 'boolean', help: 'count and list invalid SMILES instead of stopping at the first' },
  out: { type: 'string', help: 'corpus directory (manifest.json, molecules.jsonl, shards/, jobs/)' },
  calculators: { type: 'string', help: 'reference calculators by registry name, comma-separated; the first relaxes and samples (default xtb)' },
  ...calculatorFlags,
  'blas-core': { type: 'string', help: "OpenBLAS kernel set xtb runs with (default Haswell: the same numbers on every AVX2 CPU; 'auto': OpenBLAS picks by CPU)" },
  conformers: { type: 'string', help: 'most conformers per molecule: 1 + rotatable bonds, capped by this (default 3)' },
  'relax-level': { type: 'string', help: 'xtb optimisation level for the equilibrium structures (default normal)' },
  'relax-cycles': { type: 'string', help: 'optimisation cycle limit (default 500)' },
  ...planOptionSpec,
  model: { type: 'string', help: 'oreo model for --model-md-frames (active-learning rounds)' },
  seed: { type: 'string', help: 'seed of conformers and samplers (default 1)' },
  val: { type: 'string', help: 'fraction of molecules for validation (default 0.05)' },
  test: { type: 'string', help: 'fraction of molecules for testing (default 0.05)' },
  'split-seed': { type: 'string', help: 'seed of the molecule split (default: --seed)' },
  'hold-out': { type: 'string', multiple: true, help: 'structure file whose geometries must stay out (default: data/rmd17/*_test_*.npz); repeatable' },
  'no-hold-out': { type: 'boolean', help: 'no geometry exclusion' },
  workers: { type: 'string', help: 'local worker processes (default: number of CPUs)' },
  queue: { type: 'string', help: 'redis://HOST:PORT: put the jobs on a BullMQ queue for `oreo worker`s instead of running them here' },
  'queue-name': { type: 'string', help: 'BullMQ queue name (default oreo-corpus)' },
  'shard-size': { type: 'string', help: 'shard rows per file (default 50000)' },
  precision: { type: 'string', help: 'positions and forces in the shards: f64 (default) or f32' },
  'from-archive': { type: 'string', help: 'committed job archive (oreo corpus commit --into DIR): its jobs count as done, never recomputed' },
  'expect-hash': { type: 'string', help: 'the corpus hash this build must reproduce (from a manifest); exit 3 when it differs' },
  quiet: { type: 'boolean', help: 'no progress line' },
  help: { type: 'boolean', help: 'show this help' },
};

const usage = 'oreo corpus build --molecules FILE [--molecules FILE …] --out DIR [--calculators xtb[,ani2x]] [--workers N | --queue redis://HOST:PORT]';

/** Pinned by default: a corpus must come out the same on whichever machines build it. */
function blasCore(raw: string | undefined): { blasCore?: string } {
  const v = raw ?? 'Haswell';
  return v === 'auto' ? {} : { blasCore: v };
}

function defaultHoldOut(): string[] {
  const dir = bundledData('rmd17');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /_test_\d+\.npz$/.test(f))
    .sort()
    .map((f) => join(dir, f));
}

async function build(argv: string[]): Promise<number> {
  const cmd = 'corpus build';
  const p = parseArgs(cmd, argv, spec);
  if (flag(p, 'help')) {
    console.log(
      helpText(usage, 'Relax, sample (normal modes, xtb MD, rattle) and label molecules into a sharded corpus; resumable, and distributable over a Redis queue.', spec) +
        '\n\nCalculators:\n' +
        referenceCalculatorsHelp() +
        '\n\nRun the same command again to resume. See docs/corpus.md.',
    );
    return 0;
  }
  if (p.positionals.length) throw new OreoError(`oreo ${cmd}: unexpected argument '${p.positionals[0]}'`);
  const files = (p.options.molecules as string[] | undefined) ?? [];
  if (!files.length && !flag(p, 'polymers')) throw new OreoError(`oreo ${cmd}: give --molecules FILE (or --polymers)`);
  const outDir = requireStr(cmd, p, 'out');
  const limit = str(p, 'limit') !== undefined ? num(cmd, p, 'limit', 0, { integer: true, min: 1 }) : undefined;
  const inputs: CorpusInput[] = files.map((path) => ({ path, column: str(p, 'column'), skipInvalid: flag(p, 'skip-invalid'), limit }));
  const calculators = (str(p, 'calculators') ?? 'xtb').split(',').map((s) => s.trim()).filter(Boolean);
  const seed = num(cmd, p, 'seed', 1, { integer: true, min: 0 });
  const model = str(p, 'model');
  const settings = {
    calculators,
    calculatorOptions: { ...referenceOptionsFrom(cmd, p), ...blasCore(str(p, 'blas-core')) },
    maxConformers: num(cmd, p, 'conformers', 3, { integer: true, min: 1 }),
    relax: { level: str(p, 'relax-level') ?? 'normal', maxCycles: num(cmd, p, 'relax-cycles', 500, { integer: true, min: 1 }) },
    plan: planFrom(cmd, p, model !== undefined),
    seed,
    ...(model ? { model, modelSha256: contentHash(model) } : {}),
  };
  const holdOut = flag(p, 'no-hold-out') ? [] : ((p.options['hold-out'] as string[] | undefined) ?? defaultHoldOut());
  const printer = new ProgressPrinter();
  const quiet = flag(p, 'quiet');
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const precision = str(p, 'precision') ?? 'f64';
  if (precision !== 'f64' && precision !== 'f32') throw new OreoError(`oreo ${cmd}: --precision must be f64 or f32`);
  const manifest = await buildCorpus({
    inputs,
    polymers: flag(p, 'polymers') ? { units: Object.values(PAPER_UNITS), loops: [1, 2, 3, 4, 5, 6] } : undefined,
    outDir,
    settings,
    splits: {
      seed: num(cmd, p, 'split-seed', seed, { integer: true, min: 0 }),
      val: num(cmd, p, 'val', 0.05, { min: 0, max: 0.5 }),
      test: num(cmd, p, 'test', 0.05, { min: 0, max: 0.5 }),
    },
    holdOut,
    workers: num(cmd, p, 'workers', Math.max(1, availableParallelism()), { integer: true, min: 1 }),
    queue: str(p, 'queue'),
    queueName: str(p, 'queue-name'),
    shardSize: num(cmd, p, 'shard-size', 50_000, { integer: true, min: 1 }),
    precision,
    fromArchive: str(p, 'from-archive'),
    signal: abort.signal,
    log: (m) => {
      printer.done();
      console.error(m);
    },
    onProgress: quiet
      ? undefined
      : (pr) =>
          printer.update(
            `${progressBar(pr.done, pr.total)} ${pr.done}/${pr.total} molecules` +
              (pr.failed ? ` (${pr.failed} failed)` : '') +
              `  ${pr.labelsPerSecond.toPrecision(3)} labels/s  ETA ${formatDuration(pr.etaSeconds)}`,
            { fraction: pr.total ? pr.done / pr.total : 1, final: pr.final },
          ),
  }).finally(() => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  });
  printer.done();
  console.log(formatCorpusSummary(manifest, outDir));
  const expect = str(p, 'expect-hash');
  if (expect !== undefined) {
    if (expect !== manifest.hashes.corpus) {
      console.error(`oreo ${cmd}: corpus hash ${manifest.hashes.corpus} differs from the expected ${expect}: this build did not reproduce it`);
      return 3;
    }
    console.error(`corpus hash ${expect} reproduced`);
  }
  return 0;
}

const commitSpec: Record<string, OptionSpec> = {
  into: { type: 'string', help: 'job archive directory (created on first use), e.g. corpus/v1' },
  precision: { type: 'string', help: 'positions and forces of a new archive: f32 (default; what --precision f32 shards hold) or f64' },
  'part-mb': { type: 'string', help: 'numbers per part file before compression, MB (default 40; files come out smaller)' },
  help: { type: 'boolean', help: 'show this help' },
};

const commitUsage = 'oreo corpus commit OUT --into ARCHIVE_DIR';

function commit(argv: string[]): number {
  const cmd = 'corpus commit';
  const p = parseArgs(cmd, argv, commitSpec);
  if (flag(p, 'help')) {
    console.log(
      helpText(commitUsage, 'Append the finished jobs of a corpus build directory that the archive lacks as new compact, checksummed part files, for git.', commitSpec) +
        '\n\nContinue elsewhere with `oreo corpus build … --out NEW --from-archive ARCHIVE_DIR`. See docs/corpus.md.',
    );
    return 0;
  }
  if (p.positionals.length !== 1) throw new OreoError(`oreo ${cmd}: give one build directory (usage: ${commitUsage})`);
  const into = requireStr(cmd, p, 'into');
  const precision = str(p, 'precision');
  if (precision !== undefined && precision !== 'f32' && precision !== 'f64') throw new OreoError(`oreo ${cmd}: --precision must be f32 or f64`);
  const partMb = num(cmd, p, 'part-mb', DEFAULT_PART_BYTES / 1e6, { min: 0.001, max: 45 });
  const s = commitJobs(p.positionals[0], into, { precision, partBytes: partMb * 1e6, log: (m) => console.error(m) });
  console.log(
    `${s.finished} finished jobs in ${p.positionals[0]}: ${s.already} already in ${into}, ${s.added} added (${s.conformations} conformations, ` +
      `${s.newParts.length} new part(s), ${(s.newParts.reduce((a, x) => a + x.bytes, 0) / 1e6).toFixed(2)} MB)\n` +
      `archive ${into}: ${s.totalJobs} jobs, ${s.totalConformations} conformations, ${(s.totalBytes / 1e6).toFixed(2)} MB` +
      (s.totalConformations ? `, ${(s.totalBytes / s.totalConformations).toFixed(0)} bytes/conformation` : ''),
  );
  return 0;
}

export const command: Command = {
  summary: 'build a labelled pre-training corpus from molecule lists (relax, sample, label; resumable; local workers or a Redis queue)',
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub === 'build') return build(rest);
    if (sub === 'commit') return commit(rest);
    if (!sub || sub === '--help' || sub === '-h') {
      console.log(
        `usage: ${usage}\n       ${commitUsage}\n\nsubcommands:\n  build   ${command.summary}\n` +
          '  commit  append finished jobs to a compact job archive for git (continue elsewhere with build --from-archive)\n\n(oreo corpus build --help, oreo corpus commit --help for the options)',
      );
      return sub ? 0 : 2;
    }
    throw new OreoError(`oreo corpus: unknown subcommand '${sub}' (known: build, commit)`);
  },
};
