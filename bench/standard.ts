// `npm run bench`: oreo's standard timing table. Models are built with random weights (timing does
// not depend on the values) at the two ET sizes of the TorchMD-Net baseline, saved to a temp
// folder, and timed with `oreo bench` in separate processes (one thread each), so each row runs in
// a fresh JIT. Inputs: aspirin (rMD17 test frame 0) and a 362-atom CK 15-loop polymer (bench/ck15.xyz).
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

interface Row { label: string; args: string[]; baseline?: string }
const small32 = model(6, 128, 32, 'float32');
const big32 = model(8, 256, 64, 'float32');
const small64 = model(6, 128, 32, 'float64');
const rows: Row[] = [
  { label: 'aspirin (21 atoms), 6×128×32, float32', args: ['--model', small32, '--input', aspirin], baseline: '≈ 23 ms' },
  { label: 'aspirin (21 atoms), 8×256×64, float32', args: ['--model', big32, '--input', aspirin], baseline: '≈ 65 ms' },
  { label: 'aspirin (21 atoms), 6×128×32, float64', args: ['--model', small64, '--input', aspirin] },
  { label: 'CK 15-loop polymer (362 atoms), 6×128×32, float32', args: ['--model', small32, '--input', ck15, '--repeat', '10', '--warmup', '3'] },
  { label: 'aspirin, 6×128×32, float32, autodiff path', args: ['--model', small32, '--input', aspirin, '--path', 'autodiff', '--repeat', '10', '--warmup', '3'] },
  { label: 'training step, batch 32 aspirin, 6×128×32, float32', args: ['--model', small32, '--input', aspirin, '--train', '--batch', '32', '--repeat', '3', '--warmup', '1'] },
];

const results: Record<string, unknown>[] = [];
console.log('| case | median ms | min | max | µs per atom | TorchMD-Net PyTorch CPU (notes) |');
console.log('|---|---|---|---|---|---|');
for (const r of rows) {
  const p = spawnSync(process.execPath, [bin, 'bench', ...r.args, '--json'], { encoding: 'utf8', env: { ...process.env, OPENBLAS_NUM_THREADS: '1' } });
  if (p.status !== 0) {
    console.log(`| ${r.label} | failed: ${p.stderr.trim().split('\n').pop()} | | | | |`);
    continue;
  }
  const j = JSON.parse(p.stdout.trim().split('\n').pop()!);
  results.push({ case: r.label, ...j });
  console.log(`| ${r.label} | ${j.median_ms.toFixed(1)} | ${j.min_ms.toFixed(1)} | ${j.max_ms.toFixed(1)} | ${j.per_atom_us.toFixed(0)} | ${r.baseline ?? ''} |`);
}
const first = results[0] as { machine?: string; kernels?: string } | undefined;
console.log(`\nmachine: ${first?.machine ?? '?'}; kernels: ${first?.kernels ?? '?'}; one thread`);
