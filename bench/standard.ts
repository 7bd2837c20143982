// `npm run bench`: oreo's standard timing table. Models are built with random weights (timing does
// not depend on the values) at the two ET sizes of the TorchMD-Net baseline, saved to a temp
// folder, and timed with `oreo bench` in separate processes, so each row runs in a fresh JIT.
// Inputs: aspirin (rMD17 test frame 0) and a 362-atom CK 15-loop polymer (bench/ck15.xyz).
//
// The TorchMD-Net baseline is measured in the same sitting when its source is at hand
// (TORCHMDNET_SRC=/path/to/torchmd-net, see bench/torchmdnet-baseline.py for the set-up): it runs
// once before and once after oreo's rows, and both medians are shown. Without it the table
// quotes the figures in the project's reference notes instead.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { configFromHyperParameters } from '../src/model/config.js';
import { createPotential } from '../src/model/init.js';
import { saveModel } from '../src/model/io/native.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = here.split('/').includes('dist') ? join(here, '..', '..') : join(here, '..');
const bin = join(root, 'bin', 'oreo.js');
const aspirin = join(root, 'data', 'rmd17', 'rmd17_aspirin_test_01.npz');
const ck15 = join(root, 'bench', 'ck15.xyz');
const tmp = mkdtempSync(join(tmpdir(), 'oreo-bench-'));

function model(layers: number, hidden: number, rbf: number, dtype: 'float32' | 'float64'): string {
  const cfg = configFromHyperParameters({ embedding_dimension: hidden, num_layers: layers, num_rbf: rbf, num_heads: 8, precision: dtype === 'float64' ? 64 : 32 });
  const file = join(tmp, `et-${layers}x${hidden}x${rbf}-${dtype}.oreo`);
  saveModel(createPotential(cfg, { seed: 1, dtype }), file);
  return file;
}

/** TorchMD-Net medians (ms) by size label, from bench/torchmdnet-baseline.py; null without its source. */
function torchmdnet(): Record<string, number> | null {
  const src = process.env.TORCHMDNET_SRC;
  if (!src) return null;
  const python = process.env.PYTHON ?? '/usr/bin/python3';
  const run = (extra: string[]) => {
    const p = spawnSync(python, [join(root, 'bench', 'torchmdnet-baseline.py'), '--torchmdnet', src, '--json', ...extra], { encoding: 'utf8', cwd: root });
    if (p.status !== 0) {
      console.error(`TorchMD-Net baseline failed: ${p.stderr.trim().split('\n').pop()}`);
      return null;
    }
    return JSON.parse(p.stdout.trim().split('\n').pop()!) as { rows: { model: string; median_ms: number }[] };
  };
  const inference = run(['--repeat', '21']);
  // Its batch-32 training step of the 6×128×32 ET, for the training row (key train-6x128x32).
  const training = run(['--train', '--batch', '32', '--warmup', '1', '--repeat', '5']);
  if (!inference) return null;
  return Object.fromEntries([
    ...inference.rows.map((r) => [r.model, r.median_ms]),
    ...(training?.rows ?? []).map((r) => [`train-${r.model}`, r.median_ms]),
  ]);
}

interface Row { label: string; args: string[]; size?: string }
const small32 = model(6, 128, 32, 'float32');
const big32 = model(8, 256, 64, 'float32');
const small64 = model(6, 128, 32, 'float64');
const notes: Record<string, number> = { '6x128x32': 23, '8x256x64': 65, 'train-6x128x32': 1900 };
const rows: Row[] = [
  { label: 'aspirin (21 atoms), 6×128×32, float32', args: ['--model', small32, '--input', aspirin, '--repeat', '31'], size: '6x128x32' },
  { label: 'aspirin (21 atoms), 8×256×64, float32', args: ['--model', big32, '--input', aspirin, '--repeat', '31'], size: '8x256x64' },
  { label: 'aspirin (21 atoms), 6×128×32, float32, 2 threads', args: ['--model', small32, '--input', aspirin, '--repeat', '31', '--threads', '2'], size: '6x128x32' },
  { label: 'aspirin (21 atoms), 8×256×64, float32, 2 threads', args: ['--model', big32, '--input', aspirin, '--repeat', '31', '--threads', '2'], size: '8x256x64' },
  { label: 'aspirin (21 atoms), 6×128×32, float64', args: ['--model', small64, '--input', aspirin] },
  { label: 'CK 15-loop polymer (362 atoms), 6×128×32, float32', args: ['--model', small32, '--input', ck15, '--repeat', '10', '--warmup', '3'] },
  { label: 'aspirin, 6×128×32, float32, autodiff path', args: ['--model', small32, '--input', aspirin, '--path', 'autodiff', '--repeat', '10', '--warmup', '3'] },
  // 8 warm-up steps: the two-thread step pages in both threads' work memory over its first ~8 steps.
  { label: 'training step, batch 32 aspirin, 6×128×32, float32', args: ['--model', small32, '--input', aspirin, '--train', '--batch', '32', '--repeat', '10', '--warmup', '8'], size: 'train-6x128x32' },
  { label: 'training step, batch 32 aspirin, 6×128×32, float32, 2 threads', args: ['--model', small32, '--input', aspirin, '--train', '--batch', '32', '--repeat', '10', '--warmup', '8', '--threads', '2'], size: 'train-6x128x32' },
];

const before = torchmdnet();
const results: { label: string; size?: string; j: Record<string, number> }[] = [];
for (const r of rows) {
  const p = spawnSync(process.execPath, [bin, 'bench', ...r.args, '--json'], { encoding: 'utf8' });
  if (p.status !== 0) {
    console.log(`${r.label}: failed: ${p.stderr.trim().split('\n').pop()}`);
    continue;
  }
  results.push({ label: r.label, size: r.size, j: JSON.parse(p.stdout.trim().split('\n').pop()!) });
}
const after = before ? torchmdnet() : null;

const measured = before !== null;
console.log(`| case | median ms | min | max | µs per atom | TorchMD-Net PyTorch CPU, 1 thread${measured ? ', median ms (before / after)' : ' (notes)'} |`);
console.log('|---|---|---|---|---|---|');
for (const { label, size, j } of results) {
  let base = '';
  if (size && measured && before![size] !== undefined) {
    // oreo's median over TorchMD-Net's (mean of its before and after runs): below 1 is faster.
    const theirs = after?.[size] !== undefined ? (before![size] + after[size]) / 2 : before![size];
    base = `${before![size].toFixed(1)} / ${after?.[size]?.toFixed(1) ?? '–'} (oreo ÷ TorchMD-Net ${(j.median_ms / theirs).toFixed(2)})`;
  } else if (size) base = `≈ ${notes[size]} (reference notes)`;
  console.log(`| ${label} | ${j.median_ms.toFixed(1)} | ${j.min_ms.toFixed(1)} | ${j.max_ms.toFixed(1)} | ${j.per_atom_us.toFixed(0)} | ${base} |`);
}
const first = results[0]?.j as unknown as { machine?: string; kernels?: string } | undefined;
console.log(`\nmachine: ${first?.machine ?? '?'}; kernels: ${first?.kernels ?? '?'}; one thread unless the row says 2`);
