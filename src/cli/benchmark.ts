/**
 * `oreo benchmark md17`: the MDsim MD17 simulation benchmark of a model (force MAE, stability,
 * h(r) MAE over several seeds), resumable, with a markdown table in the layout of ET-OREO's
 * Table 2. Parses options and prints progress; the work is in src/analysis/benchmark/.
 */
import { formatDuration, ProgressPrinter } from './progress.js';
import { stopOnInterrupt } from './interrupt.js';
import type { Command } from './command.js';
import { flag, helpText, num, parseArgs, str, type OptionSpec } from './args.js';
import { OreoError } from '../errors.js';
import { MD17_MOLECULES, parseMolecule } from '../analysis/benchmark/molecules.js';
import { DEFAULT_BASE_SEED, DEFAULT_SEEDS, MDSIM_MD17_PROTOCOL } from '../analysis/benchmark/protocol.js';
import { runBenchmark, type BenchmarkOptions, type SeedProgress } from '../analysis/benchmark/runner.js';
import { formatMeanStd } from '../analysis/benchmark/stats.js';
import { MANIFEST_FILE, RESULTS_FILE, TABLE_FILE, type BenchmarkResults } from '../analysis/benchmark/results.js';
import { PUBLISHED_REFERENCE, PUBLISHED_TABLE2 } from '../analysis/benchmark/published.js';
import { scaleLine } from '../analysis/benchmark/table.js';

const spec: Record<string, OptionSpec> = {
  model: { type: 'string', help: 'model file (.oreo or TorchMD-Net .ckpt), or an analytic potential (harmonic, morse, lj)' },
  molecule: { type: 'string', help: MD17_MOLECULES.join(' | ') },
  steps: { type: 'string', help: `steps per seed (default ${MDSIM_MD17_PROTOCOL.steps} = 300 ps at 0.5 fs); on --resume a new, larger total` },
  seeds: { type: 'string', help: `number of seeds (default ${DEFAULT_SEEDS})` },
  seed: { type: 'string', help: `first seed (default ${DEFAULT_BASE_SEED}, MDsim's); seeds are N, N+1, …` },
  'save-every': { type: 'string', help: `save a frame every K steps (default ${MDSIM_MD17_PROTOCOL.saveEvery} = 50 fs)` },
  out: { type: 'string', help: 'benchmark folder (default benchmark-md17-MOLECULE): benchmark.json, results.json, table.md, seed-N/' },
  resume: { type: 'boolean', help: 'continue the benchmark in --out: finished seeds are kept, unfinished ones continue from their state' },
  'fmae-frames': { type: 'string', help: 'test frames for the force MAE, spread over the file (default all 1000)' },
  dtype: { type: 'string', help: 'arithmetic of a learned model: float64 or float32 (default: the model file\'s)' },
  'stop-at-collapse': { type: 'boolean', help: 'stop a seed at its first unstable frame (the metrics do not change; MDsim runs on)' },
  test: { type: 'string', help: 'labelled start/test frames (.npz) instead of the bundled rMD17 test file' },
  reference: { type: 'string', multiple: true, help: 'reference frames (.npz) for bond means and h(r), repeatable (default: bundled rMD17 train + test)' },
  'no-plots': { type: 'boolean', help: 'skip the per-seed report (plots and report.html in seed-N/analysis)' },
  'checkpoint-sec': { type: 'string', help: 'write each simulation\'s state.json at least this often, s (default 60)' },
  quiet: { type: 'boolean', help: 'no progress lines' },
  help: { type: 'boolean', help: 'show this help' },
};

const usage =
  'oreo benchmark md17 --model FILE --molecule aspirin|ethanol|naphthalene|salicylic [--steps N] [--seeds K] [--out DIR]\n' +
  '       oreo benchmark md17 --resume --out DIR [--steps N] [--seeds K]';

const summary =
  'The MDsim MD17 benchmark as in ET-OREO\'s Table 2: force MAE on the rMD17 test file, then per seed a random test frame, ' +
  'Maxwell–Boltzmann at 500 K, Nosé–Hoover (ttime 20), dt 0.5 fs, a frame every 50 fs; stability and h(r) MAE as mean (std) over seeds.';

function progressLine(p: SeedProgress): string {
  const rate = Number.isFinite(p.stepsPerSecond) ? p.stepsPerSecond.toPrecision(3) : '?';
  return (
    `seed ${p.seed} (${p.index + 1}/${p.count}): step ${p.step}/${p.targetSteps}  ${p.timePs.toFixed(2)} ps  ` +
    `T ${p.temperature.toFixed(1)} K  ${rate} steps/s  ETA ${formatDuration(p.etaSeconds)}`
  );
}

export const command: Command = {
  summary: 'the MD17 simulation benchmark (MDsim protocol; force MAE, stability, h(r) over seeds), resumable',
  async run(argv) {
    const [sub, ...rest] = argv;
    if (!sub || sub === '--help' || sub === '-h' || sub === 'help') {
      console.log(helpText(usage, summary, spec) + '\n\nBenchmarks: md17');
      return 0;
    }
    if (sub !== 'md17') throw new OreoError(`oreo benchmark: unknown benchmark '${sub}' (available: md17)`);
    const p = parseArgs('benchmark md17', rest, spec);
    if (flag(p, 'help')) {
      console.log(helpText(usage, summary, spec));
      return 0;
    }
    if (p.positionals.length) throw new OreoError(`oreo benchmark md17: unexpected argument '${p.positionals[0]}'`);
    const cmd = 'benchmark md17';
    const int = (key: string, min: number) => (str(p, key) !== undefined ? num(cmd, p, key, NaN, { integer: true, min }) : undefined);
    const resume = flag(p, 'resume');
    const moleculeArg = str(p, 'molecule');
    // Refuse a bad molecule before anything else is read or written.
    const molecule = moleculeArg !== undefined ? parseMolecule(moleculeArg) : undefined;
    let out = str(p, 'out');
    if (resume) {
      if (out === undefined && molecule === undefined) throw new OreoError('oreo benchmark md17: --resume needs --out DIR (the benchmark folder)');
    } else {
      const missing = ['model', 'molecule'].filter((k) => str(p, k) === undefined);
      if (missing.length) throw new OreoError(`oreo benchmark md17: missing ${missing.map((k) => '--' + k).join(', ')} (see oreo benchmark md17 --help)`);
    }
    out ??= `benchmark-md17-${molecule}`;
    const dtype = str(p, 'dtype');
    if (dtype !== undefined && dtype !== 'float32' && dtype !== 'float64') throw new OreoError(`--dtype must be float32 or float64, got '${dtype}'`);

    const options: BenchmarkOptions = {
      outDir: out,
      resume,
      molecule,
      model: str(p, 'model'),
      dtype: dtype as BenchmarkOptions['dtype'],
      steps: int('steps', 1),
      seeds: int('seeds', 1),
      baseSeed: int('seed', 0),
      saveEvery: int('save-every', 1),
      fmaeFrames: int('fmae-frames', 1),
      stopAtCollapse: flag(p, 'stop-at-collapse') ? true : undefined,
      plots: !flag(p, 'no-plots'),
      testFile: str(p, 'test'),
      referenceFiles: p.options.reference as string[] | undefined,
      checkpointSeconds: str(p, 'checkpoint-sec') !== undefined ? num(cmd, p, 'checkpoint-sec', 60, { min: 0 }) : undefined,
      progressSeconds: process.stderr.isTTY ? 1 : 10,
    };

    const interrupt = stopOnInterrupt();
    options.signal = interrupt.signal;
    const quiet = flag(p, 'quiet');
    // MD progress is already timed by the runner (progressSeconds), so the printer writes every
    // report it gets; force-MAE progress comes per frame and is thinned by the printer.
    const printer = new ProgressPrinter({ logSeconds: 0 });
    const forcePrinter = new ProgressPrinter();
    try {
      const outcome = await runBenchmark(options, {
        log: (m) => {
          printer.done();
          forcePrinter.done();
          process.stderr.write(m + '\n');
        },
        onForceProgress: quiet ? undefined : (done, total) => {
          if (forcePrinter.interactive && done % 25 !== 0 && done !== total) return;
          forcePrinter.update(`force MAE: ${done}/${total} frames`, { fraction: done / total, final: done === total });
        },
        onProgress: quiet ? undefined : (pr) => printer.update(progressLine(pr), { final: pr.final }),
      });
      const r = outcome.results;
      const s = r.summary;
      console.log(`MD17 benchmark, ${r.molecule}: ${s.seeds_finished}/${s.seeds_total} seeds finished`);
      if (s.force_mae_meV_per_A !== null) console.log(`force MAE      ${s.force_mae_meV_per_A.toFixed(2)} meV/Å`);
      console.log(`stability      ${formatMeanStd(s.stability_ps, 2)} ps (of ${r.simulated_ps_target} ps)`);
      console.log(`h(r) MAE       ${formatMeanStd(s.hr_mae, 4)}`);
      printPublished(r);
      console.log(`results        ${outcome.outDir}/${RESULTS_FILE}, ${outcome.outDir}/${TABLE_FILE} (settings in ${MANIFEST_FILE})`);
      if (outcome.status === 'interrupted') {
        console.log(`interrupted; continue with: oreo benchmark md17 --resume --out ${outcome.outDir}`);
        return 130;
      }
      return 0;
    } finally {
      interrupt.release();
    }
  },
};

/** The paper's rows for the molecule beside oreo's summary, with both scales stated. */
function printPublished(r: BenchmarkResults): void {
  const rows = PUBLISHED_TABLE2[r.molecule];
  if (!rows.length) return;
  const w = Math.max(...rows.map((p) => p.model.length));
  console.log('');
  console.log(`${'model'.padEnd(w)}  ${'force MAE'.padStart(9)}  ${'stability (ps)'.padStart(14)}  ${'h(r) MAE'.padStart(11)}`);
  for (const p of rows) console.log(`${p.model.padEnd(w)}  ${p.forceMae.padStart(9)}  ${p.stability.padStart(14)}  ${p.hrMae.padStart(11)}`);
  console.log(`(${PUBLISHED_REFERENCE})`);
  console.log(scaleLine(r));
  console.log('');
}
