// Two kernel threads (src/engine/kernels/threads.ts): a helper worker computes half of each large
// matrix product and SiLU on shared WASM memory. Its halves must give exactly what one thread
// gives (the column split does not change any sum's order), and the fast ET path on two threads
// the same energies and forces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PackedMatrix, gemmPacked, silu } from '../../src/engine/kernels/index.js';
import { setKernelThreads, kernelThreads } from '../../src/engine/kernels/threads.js';
import { wasmKernels } from '../../src/engine/kernels/wasm.js';
import { configFromHyperParameters } from '../../src/model/config.js';
import { createPotential } from '../../src/model/init.js';
import { FastEnergyForces } from '../../src/model/fast/index.js';
import { Rng } from '../../src/random.js';
import { join } from 'node:path';
import { readMd17Npz } from '../../src/data/md17.js';
import { makeBatch } from '../../src/data/batch.js';
import { ObjectiveGradients } from '../../src/train/gradient-path.js';
import { ET_OREO } from '../../src/train/objective.js';
import { dataDir } from '../paths.js';
import { runOreo } from '../cli.js';

function random(Kind: typeof Float32Array | typeof Float64Array, n: number, seed: number) {
  const rng = new Rng(seed);
  const a = new Kind(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal();
  return a;
}

test('two threads give bit-identical matrix products (odd sizes, both dtypes, accumulate) and SiLU', () => {
  const cases: [number, number, number][] = [[21, 1280, 256], [37, 771, 300], [146, 8192, 65], [5, 1000, 129]];
  const run = () => {
    const out: (Float32Array | Float64Array)[] = [];
    cases.forEach(([M, N, K], i) => {
      for (const Kind of [Float32Array, Float64Array]) {
        const A = random(Kind, M * K, 10 + i), B = random(Kind, K * N, 20 + i);
        const packed = new PackedMatrix(false, K, N, B);
        const C = random(Kind, M * N, 30 + i);
        gemmPacked(false, M, N, K, A, packed, C, true);
        out.push(C);
        const x = random(Kind, M * N + 3, 40 + i), y = new Kind(x.length), d = new Kind(x.length);
        silu(x, y, d, null, x.length);
        out.push(y, d);
        packed.dispose();
      }
    });
    return out;
  };
  try {
    assert.equal(setKernelThreads(1), 1);
    const single = run();
    assert.equal(setKernelThreads(2), 2);
    assert.equal(kernelThreads(), 2);
    assert.equal(wasmKernels()?.threads, 2);
    const double = run();
    single.forEach((a, i) => assert.deepEqual(double[i], a, `array ${i}`));
  } finally {
    setKernelThreads(1);
  }
  assert.equal(kernelThreads(), 1);
});

test('the fast ET path on two threads matches one thread, and a model moves between kernel instances', () => {
  const cfg = configFromHyperParameters({ embedding_dimension: 64, num_layers: 2, num_rbf: 16, num_heads: 4, cutoff_upper: 5 });
  const rng = new Rng(3);
  const n = 60;
  const z = new Int32Array(n).map((_, i) => [1, 6, 7, 8][i % 4]);
  const positions = new Float64Array(3 * n).map(() => 8 * rng.uniform());
  for (const dtype of ['float32', 'float64'] as const) {
    const pot = createPotential(cfg, { dtype, seed: 5 });
    const fast = new FastEnergyForces(pot);
    try {
      const single = fast.compute(z, positions);
      setKernelThreads(2);
      const double = fast.compute(z, positions);
      setKernelThreads(1);
      const back = fast.compute(z, positions);
      assert.deepEqual(double.energy, single.energy);
      assert.deepEqual(double.forces, single.forces);
      assert.deepEqual(back.forces, single.forces);
    } finally {
      setKernelThreads(1);
      fast.dispose();
    }
  }
});

test('a fused training step on two threads gives the same loss and parameter gradients as one thread', () => {
  // Large enough that the helper takes half of the products (64 features, 8 aspirin-sized molecules).
  const cfg = configFromHyperParameters({ embedding_dimension: 64, num_layers: 2, num_rbf: 16, num_heads: 4, cutoff_upper: 5, prior_model: 'Atomref' });
  const frames = readMd17Npz(join(dataDir, 'rmd17', 'rmd17_aspirin_test_01.npz')).slice(0, 8);
  const batch = makeBatch(frames.map((c, i) => ({ ...c, kind: i % 2 ? 'equilibrium' : 'off-equilibrium' })));
  for (const dtype of ['float32', 'float64'] as const) {
    const step = () => {
      const pot = createPotential(cfg, { dtype, seed: 7 });
      const path = new ObjectiveGradients(pot, ET_OREO, 'fused');
      try {
        return path.step(batch, new Rng(11));
      } finally {
        path.dispose();
      }
    };
    try {
      const one = step();
      assert.equal(setKernelThreads(2), 2);
      const two = step();
      assert.equal(two.value, one.value);
      assert.equal(two.grads.length, one.grads.length);
      two.grads.forEach((g, i) => assert.deepEqual(g!.data, one.grads[i]!.data, `${dtype} gradient ${i}`));
    } finally {
      setKernelThreads(1);
    }
  }
  const r = runOreo(['finetune', '--from', 'x.json', '--data', 'y.npz', '--threads', '3']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /--threads 3: at most 2 compute threads/);
});

test('setKernelThreads refuses nonsense', () => {
  assert.throws(() => setKernelThreads(0), /whole number/);
  assert.throws(() => setKernelThreads(1.5), /whole number/);
});
