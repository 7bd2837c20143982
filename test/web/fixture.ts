// Run folders for the web tests, made by the real commands (in this process, to save start-up
// time): a tiny random ET model, an `oreo simulate` run with it, an `oreo analyze` of that run,
// and a short `oreo finetune`.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { configFromHyperParameters } from '../../src/model/config.js';
import { createPotential } from '../../src/model/init.js';
import { saveModel } from '../../src/model/io/native.js';
import { main } from '../../src/cli/main.js';
import { dataDir } from '../paths.js';

export const ASPIRIN_XYZ = join(dataDir, 'md17', 'md17_aspirin_nequip_15frames.xyz');
export const MODEL_ID = 'tiny-et.oreo';

export interface WebFixture {
  /** Folder served by the tests; holds md/, md/analysis/ and finetune/. */
  runsDir: string;
  modelsDir: string;
  modelPath: string;
}

async function oreo(args: string[]): Promise<void> {
  const log = console.log;
  console.log = () => {}; // the commands' result lines, not wanted in test output
  try {
    const code = await main(args);
    if (code !== 0) throw new Error(`oreo ${args.join(' ')} failed with exit code ${code}`);
  } finally {
    console.log = log;
  }
}

/** A small ET (random weights): cheap enough to simulate and train in seconds. */
export function makeTinyModel(path: string): void {
  const cfg = configFromHyperParameters({ embedding_dimension: 16, num_layers: 1, num_rbf: 8, num_heads: 2, cutoff_upper: 4.0, precision: 64 });
  saveModel(createPotential(cfg, { seed: 7, meta: { name: 'tiny random ET (tests)' } }), path);
}

export async function makeWebFixture(dir: string): Promise<WebFixture> {
  const runsDir = join(dir, 'runs');
  const modelsDir = join(dir, 'models');
  mkdirSync(runsDir, { recursive: true });
  mkdirSync(modelsDir, { recursive: true });
  const modelPath = join(modelsDir, MODEL_ID);
  makeTinyModel(modelPath);
  const md = join(runsDir, 'md');
  await oreo(['simulate', '--model', modelPath, '--init', ASPIRIN_XYZ, '--thermostat', 'nose-hoover', '--temperature', '300', '--dt', '0.5',
    '--steps', '120', '--save-every', '4', '--seed', '11', '--out', md, '--quiet',
    // A random model does not hold aspirin together; the player tests need its frames all the same.
    '--allow-unstable']);
  await oreo(['analyze', '--traj', md, '--reference', ASPIRIN_XYZ]);
  await oreo(['finetune', '--from', modelPath, '--data', ASPIRIN_XYZ, '--train', '8', '--val', '4', '--steps', '12', '--batch', '4',
    '--val-every', '4', '--warmup', '2', '--out', join(runsDir, 'finetune'), '--seed', '3']);
  return { runsDir, modelsDir, modelPath };
}
