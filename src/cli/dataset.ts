/**
 * `oreo dataset`: generate training data with a reference calculator. One kind so far:
 * `oreo dataset polymers` (poly24-style chains, see src/polymers/dataset.ts).
 */
import type { Command } from './command.js';
import { flag, helpText, num, parseArgs, requireStr, str, type OptionSpec } from './args.js';
import { OreoError } from '../errors.js';
import { checkCap, type EndCap } from '../polymers/build.js';
import { generatePolymerDataset } from '../polymers/dataset.js';
import { PAPER_UNITS, resolveUnit } from '../polymers/units.js';
import { referenceCalculatorFrom, referenceOptionSpec } from './reference-options.js';
import { formatDuration, ProgressPrinter, progressBar } from './progress.js';

const polymerSpec: Record<string, OptionSpec> = {
  units: { type: 'string', help: `comma-separated repeat units: ${Object.keys(PAPER_UNITS).join(', ')} (paper Table 3) or SMILES with two [*] (default all four)` },
  loops: { type: 'string', help: 'comma-separated loop counts L (default 1,3,4,5)' },
  'md-steps': { type: 'string', help: 'MD steps per system (required)' },
  temperature: { type: 'string', help: 'Langevin temperature, K (default 500: elevated, for off-equilibrium frames); initial velocities are drawn at twice this, since about half their energy flows into the potential' },
  dt: { type: 'string', help: 'time step, fs (default 0.5)' },
  friction: { type: 'string', help: 'Langevin friction, 1/fs (default 0.01)' },
  'save-every': { type: 'string', help: 'save a frame every K steps (default 10)' },
  cap: { type: 'string', help: 'end caps: H (default; CK with L=1 is octane) or CH3' },
  seed: { type: 'string', help: 'seed for conformers and MD (default 1)' },
  'relax-level': { type: 'string', help: 'relaxation level before MD (xtb: crude, sloppy, loose (default), normal, tight)' },
  'relax-cycles': { type: 'string', help: 'relaxation cycle limit (default 300)' },
  out: { type: 'string', help: 'output directory (manifest.json, polymers.extxyz, one folder per system)' },
  threads: { type: 'string', help: 'threads per calculation (default 1)' },
  ...referenceOptionSpec,
  quiet: { type: 'boolean', help: 'no progress line' },
  help: { type: 'boolean', help: 'show this help' },
};

const polymerUsage =
  'oreo dataset polymers --units CK,OTH,LAC1,LAC2 --loops 1,3,4,5 --md-steps N [--temperature K] [--save-every K] --out DIR';

function list(raw: string | undefined, fallback: string[]): string[] {
  if (raw === undefined) return fallback;
  // SMILES never contain ',', so a comma always separates entries.
  const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
  if (!items.length) throw new OreoError(`empty list '${raw}'`);
  return items;
}

async function polymers(argv: string[]): Promise<number> {
  const p = parseArgs('dataset polymers', argv, polymerSpec);
  if (flag(p, 'help')) {
    console.log(
      helpText(polymerUsage, 'MD with a reference calculator (xtb GFN2-xTB by default) of capped polymer chains, saving frames with energies and forces; resumable.', polymerSpec) +
        '\n\nRepeat units (paper Table 3):\n' +
        Object.values(PAPER_UNITS).map((u) => `  ${u.name.padEnd(5)} ${u.smiles}`).join('\n'),
    );
    return 0;
  }
  if (p.positionals.length) throw new OreoError(`oreo dataset polymers: unexpected argument '${p.positionals[0]}'`);
  const cmd = 'dataset polymers';
  const units = list(str(p, 'units'), Object.keys(PAPER_UNITS)).map((u, i) => resolveUnit(u, i));
  const loops = list(str(p, 'loops'), ['1', '3', '4', '5']).map((s) => {
    const v = Number(s);
    if (!Number.isInteger(v) || v < 1) throw new OreoError(`oreo ${cmd}: --loops: '${s}' is not a loop count (an integer ≥ 1)`);
    return v;
  });
  const cap = str(p, 'cap') ?? 'H';
  checkCap(cap);
  const mdSteps = num(cmd, p, 'md-steps', NaN, { integer: true, min: 0 });
  if (!Number.isFinite(mdSteps)) throw new OreoError(`oreo ${cmd}: --md-steps is required`);
  const outDir = requireStr(cmd, p, 'out');
  const threads = num(cmd, p, 'threads', 1, { integer: true, min: 1 });
  const calculator = referenceCalculatorFrom(cmd, p, { threads });
  const printer = new ProgressPrinter();
  const quiet = flag(p, 'quiet');
  let lastReport = 0;
  const result = await generatePolymerDataset({
    outDir,
    units,
    loops,
    calculator,
    mdSteps,
    temperature: num(cmd, p, 'temperature', 500, { min: 0, exclusiveMin: true }),
    dt: num(cmd, p, 'dt', 0.5, { min: 0, exclusiveMin: true }),
    friction: num(cmd, p, 'friction', 0.01, { min: 0 }),
    saveEvery: num(cmd, p, 'save-every', 10, { integer: true, min: 1 }),
    cap: cap as EndCap,
    seed: num(cmd, p, 'seed', 1, { integer: true, min: 0 }),
    relaxLevel: str(p, 'relax-level') ?? 'loose',
    relaxCycles: num(cmd, p, 'relax-cycles', 300, { integer: true, min: 1 }),
    log: (m) => {
      printer.done();
      console.error(m);
    },
    onProgress: quiet
      ? undefined
      : (system, pr) => {
          const now = performance.now();
          // Into a log the printer thins the lines (10 s or 10 %); on a terminal, redraw twice a second.
          if (!pr.final && printer.interactive && now - lastReport < 500) return;
          lastReport = now;
          printer.update(
            `${system} ${progressBar(pr.step, pr.targetSteps)} step ${pr.step}/${pr.targetSteps}  T ${pr.temperature.toFixed(0)} K  ETA ${formatDuration(pr.etaSeconds)}`,
            { fraction: pr.step / pr.targetSteps, final: pr.final },
          );
        },
  });
  const m = result.manifest;
  const stopped = m.systems.filter((s) => s.status === 'stopped');
  console.error(
    `wrote ${result.manifestPath} and ${result.combinedPath}: ${m.systems.length} systems, ${m.combined?.frames ?? 0} frames` +
      (stopped.length ? `; MD stopped early in ${stopped.map((s) => s.name).join(', ')} (see manifest)` : ''),
  );
  return 0;
}

const kinds: Record<string, { summary: string; run(argv: string[]): Promise<number> }> = {
  polymers: { summary: 'poly24-style polymer chains: build, relax, MD with the reference calculator', run: polymers },
};

export const command: Command = {
  summary: 'generate labelled training data with a reference calculator (polymers)',
  async run(argv) {
    const [kind, ...rest] = argv;
    if (!kind || kind === '--help' || kind === '-h') {
      console.log(
        ['usage: oreo dataset <kind> [options]   (oreo dataset <kind> --help)', '', 'kinds:', ...Object.entries(kinds).map(([k, v]) => `  ${k.padEnd(10)} ${v.summary}`)].join('\n'),
      );
      return 0;
    }
    const k = kinds[kind];
    if (!k) throw new OreoError(`oreo dataset: unknown kind '${kind}' (known: ${Object.keys(kinds).join(', ')})`);
    return k.run(rest);
  },
};
