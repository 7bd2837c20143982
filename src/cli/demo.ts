/**
 * `oreo demo`: the main job on bundled defaults. Molecular dynamics of an MD17 molecule (aspirin
 * unless --molecule says otherwise) at 500 K with its bundled force-centric pre-trained +
 * fine-tuned model (MDsim's Nosé–Hoover, 0.5 fs), started from an rMD17 test frame, then the
 * MDsim analysis (stability, h(r), RMSD, plots, report) against the rMD17 reference. The last
 * line names the output folder.
 */
import { join, resolve } from 'node:path';
import type { Command } from './command.js';
import { parseArgs, str, num, helpText, OptionSpec } from './args.js';
import { packageRoot, bundledData } from '../data/bundled.js';
import { command as simulate } from './simulate.js';
import { command as analyze } from './analyze.js';
import { MD17_MOLECULES, MOLECULE_LABELS, parseMolecule, type Md17Molecule } from '../analysis/benchmark/molecules.js';

/** The bundled model of each molecule (cards in models/README.md). */
export const DEMO_MODELS: Readonly<Record<Md17Molecule, string>> = {
  aspirin: 'models/oreo-aspirin-et4x64.oreo',
  ethanol: 'models/oreo-ethanol-et4x64.oreo',
  naphthalene: 'models/oreo-naphthalene-et4x64.oreo',
  salicylic: 'models/oreo-salicylic-et4x64.oreo',
};
export const DEFAULT_MODEL = DEMO_MODELS.aspirin;

const spec: Record<string, OptionSpec> = {
  steps: { type: 'string', help: 'MD steps of 0.5 fs (default 4000 = 2 ps)' },
  out: { type: 'string', help: 'output folder (default runs/demo-<time>)' },
  molecule: { type: 'string', help: `${MD17_MOLECULES.join(' | ')} (default aspirin)` },
  model: { type: 'string', help: `model (default the molecule's bundled one, e.g. ${DEFAULT_MODEL})` },
  frame: { type: 'string', help: "frame of the molecule's rMD17 test file to start from (default 0)" },
  seed: { type: 'string', help: 'velocity seed (default 1)' },
  help: { type: 'boolean' },
};

export const command: Command = {
  summary: 'run MD of aspirin (or --molecule) with its bundled model and analyse it (the quick start)',
  async run(argv) {
    const p = parseArgs('demo', argv, spec);
    if (p.options.help) {
      console.log(helpText('oreo demo [--molecule M] [--steps N] [--out DIR]', "Simulates the molecule (aspirin by default) at 500 K with its bundled model, then writes metrics.json, plots and report.html.", spec));
      return 0;
    }
    const steps = num('demo', p, 'steps', 4000, { min: 1, integer: true });
    const frame = num('demo', p, 'frame', 0, { min: 0, integer: true });
    const seed = num('demo', p, 'seed', 1, { min: 0, integer: true });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
    const out = resolve(str(p, 'out') ?? join('runs', `demo-${stamp}`));
    const molecule = parseMolecule(str(p, 'molecule') ?? 'aspirin');
    const model = str(p, 'model') ?? join(packageRoot(), DEMO_MODELS[molecule]);
    const test = bundledData('rmd17', `rmd17_${molecule}_test_01.npz`);
    const md = join(out, 'md');
    console.error(`oreo demo: ${steps} steps (${(steps * 0.5) / 1000} ps) of ${MOLECULE_LABELS[molecule].toLowerCase()} at 500 K with ${model}`);
    const code = await simulate.run([
      '--model', model, '--init', `${test}:${frame}`, '--steps', String(steps), '--dt', '0.5', '--temperature', '500',
      '--thermostat', 'nose-hoover', '--ttime', '20', '--save-every', '20', '--seed', String(seed), '--out', md, '--overwrite',
    ]);
    // Exit code 3 = stopped early (the analysis still applies: it reports when the molecule broke).
    if (code !== 0 && code !== 3) return code;
    return analyze.run([
      '--traj', md, '--reference', bundledData('rmd17', `rmd17_${molecule}_train_01.npz`),
      '--model', model, '--test', test, '--test-limit', '200', '--out', join(out, 'analysis'),
    ]);
  },
};
