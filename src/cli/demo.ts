/**
 * `oreo demo`: the main job on bundled defaults. Molecular dynamics of aspirin at 500 K with the
 * bundled force-centric pre-trained + fine-tuned model (MDsim's Nosé–Hoover, 0.5 fs), started
 * from an rMD17 test frame, then the MDsim analysis (stability, h(r), RMSD, plots, report)
 * against the rMD17 reference. The last line names the output folder.
 */
import { join, resolve } from 'node:path';
import type { Command } from './main.js';
import { parseArgs, str, num, helpText, OptionSpec } from './args.js';
import { packageRoot, bundledData } from '../data/bundled.js';
import { command as simulate } from './simulate.js';
import { command as analyze } from './analyze.js';

export const DEFAULT_MODEL = 'models/oreo-aspirin-small.oreo';

const spec: Record<string, OptionSpec> = {
  steps: { type: 'string', help: 'MD steps of 0.5 fs (default 4000 = 2 ps)' },
  out: { type: 'string', help: 'output folder (default runs/demo-<time>)' },
  model: { type: 'string', help: `model (default the bundled ${DEFAULT_MODEL})` },
  frame: { type: 'string', help: 'rMD17 aspirin test frame to start from (default 0)' },
  seed: { type: 'string', help: 'velocity seed (default 1)' },
  help: { type: 'boolean' },
};

export const command: Command = {
  summary: 'run MD of aspirin with the bundled model and analyse it (the quick start)',
  async run(argv) {
    const p = parseArgs('demo', argv, spec);
    if (p.options.help) {
      console.log(helpText('oreo demo [--steps N] [--out DIR]', 'Simulates aspirin at 500 K with the bundled model, then writes metrics.json, plots and report.html.', spec));
      return 0;
    }
    const steps = num('demo', p, 'steps', 4000, { min: 1, integer: true });
    const frame = num('demo', p, 'frame', 0, { min: 0, integer: true });
    const seed = num('demo', p, 'seed', 1, { min: 0, integer: true });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
    const out = resolve(str(p, 'out') ?? join('runs', `demo-${stamp}`));
    const model = str(p, 'model') ?? join(packageRoot(), DEFAULT_MODEL);
    const test = bundledData('rmd17', 'rmd17_aspirin_test_01.npz');
    const md = join(out, 'md');
    console.error(`oreo demo: ${steps} steps (${(steps * 0.5) / 1000} ps) of aspirin at 500 K with ${model}`);
    const code = await simulate.run([
      '--model', model, '--init', `${test}:${frame}`, '--steps', String(steps), '--dt', '0.5', '--temperature', '500',
      '--thermostat', 'nose-hoover', '--ttime', '20', '--save-every', '20', '--seed', String(seed), '--out', md, '--overwrite',
    ]);
    // Exit code 3 = stopped early (the analysis still applies: it reports when the molecule broke).
    if (code !== 0 && code !== 3) return code;
    return analyze.run([
      '--traj', md, '--reference', bundledData('rmd17', 'rmd17_aspirin_train_01.npz'),
      '--model', model, '--test', test, '--test-limit', '200', '--out', join(out, 'analysis'),
    ]);
  },
};
