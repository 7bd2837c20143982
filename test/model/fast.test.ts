// The fast inference path (src/model/fast) against the autodiff path and TorchMD-Net's numbers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadPotential } from '../../src/model/load.js';
import { configFromHyperParameters } from '../../src/model/config.js';
import { createPotential } from '../../src/model/init.js';
import { FastEnergyForces, PairList } from '../../src/model/fast/index.js';
import { Arena } from '../../src/model/fast/arena.js';
import { Potential } from '../../src/model/potential.js';
import { OreoError } from '../../src/errors.js';
import { Rng } from '../../src/random.js';
import { setKernelBackend, wasmAvailable } from '../../src/engine/kernels/index.js';
import type { DType } from '../../src/engine/index.js';
import { torchmdnetFixture, FixtureCase } from './helpers.js';

interface Batch {
  z: Int32Array;
  positions: Float64Array;
  mol: Int32Array;
  nMol: number;
}

function batchOf(cases: { z: number[] | Int32Array; positions: ArrayLike<number> }[]): Batch {
  const n = cases.reduce((s, c) => s + c.z.length, 0);
  const z = new Int32Array(n);
  const positions = new Float64Array(3 * n);
  const mol = new Int32Array(n);
  let o = 0;
  cases.forEach((c, m) => {
    z.set(c.z, o);
    positions.set(c.positions, 3 * o);
    mol.fill(m, o, o + c.z.length);
    o += c.z.length;
  });
  return { z, positions, mol, nMol: cases.length };
}

const fixtureMolecules = (cases: FixtureCase[]) => cases.map((c) => ({ z: c.z, positions: c.pos.flat() }));

/** Largest relative energy error and force error (max |ΔF| / max |F|) of a against b. */
function compare(a: { energy: ArrayLike<number>; forces: ArrayLike<number> }, b: { energy: ArrayLike<number>; forces: ArrayLike<number> }) {
  assert.equal(a.energy.length, b.energy.length);
  assert.equal(a.forces.length, b.forces.length);
  let e = 0;
  for (let m = 0; m < a.energy.length; m++) {
    e = Math.max(e, Math.abs(a.energy[m] - b.energy[m]) / Math.max(Math.abs(b.energy[m]), 1e-12));
  }
  let df = 0, fmax = 0;
  for (let i = 0; i < a.forces.length; i++) {
    df = Math.max(df, Math.abs(a.forces[i] - b.forces[i]));
    fmax = Math.max(fmax, Math.abs(b.forces[i]));
  }
  return { e, f: df / fmax };
}

function autodiff(pot: Potential, b: Batch) {
  const p = pot.predict(b);
  return { energy: p.energy.data, forces: p.forces.data };
}

// Real geometries for the small-model tests: ethanol, aspirin and the 42-atom peptide.
const { data: tiny } = torchmdnetFixture('et-tiny');
const { data: vcut } = torchmdnetFixture('et-tiny-vcut');
const ethanol = fixtureMolecules(tiny.cases)[0];
const aspirin = fixtureMolecules(tiny.cases)[2];
const peptide = fixtureMolecules(vcut.cases)[1];

for (const name of ['et-tiny', 'et-tiny-vcut', 'et-small-f32']) {
  const { ckpt, data } = torchmdnetFixture(name);
  const batch = batchOf(fixtureMolecules(data.cases));

  test(`${name}: fast path = autodiff path (float64, 1e-10) and TorchMD-Net (1e-9)`, () => {
    const pot = loadPotential(ckpt, { dtype: 'float64' });
    const got = new FastEnergyForces(pot).compute(batch.z, batch.positions, batch.mol, batch.nMol);
    const r = compare(got, autodiff(pot, batch));
    assert.ok(r.e <= 1e-10 && r.f <= 1e-10, JSON.stringify(r));
    const ref = { energy: data.cases.map((c) => c.energy), forces: data.cases.flatMap((c) => c.forces.flat()) };
    const t = compare(got, ref);
    assert.ok(t.e <= 1e-9 && t.f <= 1e-9, JSON.stringify(t));
  });

  test(`${name}: fast path = autodiff path (float32, 1e-4)`, () => {
    const pot = loadPotential(ckpt, { dtype: 'float32' });
    const got = new FastEnergyForces(pot).compute(batch.z, batch.positions, batch.mol, batch.nMol);
    const r = compare(got, autodiff(pot, batch));
    assert.ok(r.e <= 1e-4 && r.f <= 1e-4, JSON.stringify(r));
  });
}

/** A small random model with every parameter and buffer randomised (no zero biases, unit
 * norms or zero priors behind which a wiring error could hide). */
function randomModel(options: Record<string, unknown>, dtype: DType, seed: number): Potential {
  const cfg = configFromHyperParameters({
    embedding_dimension: 16, num_layers: 2, num_rbf: 8, num_heads: 4, cutoff_upper: 4.5, ...options,
  });
  const pot = createPotential(cfg, { dtype, seed });
  const rng = new Rng(seed + 1000);
  for (const [name, t] of pot.params) {
    if (name.includes('distance_expansion')) continue;
    for (let i = 0; i < t.data.length; i++) {
      if (name === 'std') t.data[i] = 0.5 + rng.uniform();
      else if (name.endsWith('.bias') || name.includes('norm') || name === 'mean' || name.startsWith('prior_model')) {
        t.data[i] += 0.3 * rng.normal();
      }
    }
  }
  return pot;
}

const influences = ['keys', 'values', 'both', 'none'] as const;
for (const vector_cutoff of [false, true]) {
  for (const neighbor_embedding of [true, false]) {
    test(`every option: vector_cutoff=${vector_cutoff}, neighbor_embedding=${neighbor_embedding}, all distance_influence, reduce_op, atomref`, () => {
      const batch = batchOf([ethanol, aspirin]);
      let seed = 1;
      for (const distance_influence of influences) {
        for (const reduce_op of ['add', 'mean']) {
          for (const prior_model of [null, 'Atomref']) {
            const opts = { vector_cutoff, neighbor_embedding, distance_influence, reduce_op, prior_model };
            const pot = randomModel(opts, 'float64', seed++);
            const got = new FastEnergyForces(pot).compute(batch.z, batch.positions, batch.mol, batch.nMol);
            const r = compare(got, autodiff(pot, batch));
            assert.ok(r.e <= 1e-10 && r.f <= 1e-10, `${JSON.stringify(opts)}: ${JSON.stringify(r)}`);
          }
        }
      }
    });
  }
}

test('float32 random models match the autodiff path to 1e-4 for each distance influence', () => {
  const batch = batchOf([ethanol, peptide]);
  influences.forEach((distance_influence, k) => {
    const pot = randomModel({ distance_influence, vector_cutoff: k % 2 === 1, num_layers: 3 }, 'float32', 40 + k);
    const got = new FastEnergyForces(pot).compute(batch.z, batch.positions, batch.mol, batch.nMol);
    const r = compare(got, autodiff(pot, batch));
    assert.ok(r.e <= 1e-4 && r.f <= 1e-4, `${distance_influence}: ${JSON.stringify(r)}`);
  });
});

test('forces are minus the finite-difference gradient of the fast energy', () => {
  const pot = randomModel({ distance_influence: 'both' }, 'float64', 7);
  const fast = new FastEnergyForces(pot);
  const pos = Float64Array.from(ethanol.positions);
  const z = Int32Array.from(ethanol.z);
  const { forces } = fast.compute(z, pos);
  const h = 1e-5;
  for (const i of [0, 4, 13, 26]) {
    const p = Float64Array.from(pos);
    p[i] = pos[i] + h;
    const ep = fast.compute(z, p).energy[0];
    p[i] = pos[i] - h;
    const em = fast.compute(z, p).energy[0];
    const fd = -(ep - em) / (2 * h);
    assert.ok(Math.abs(fd - forces[i]) <= 1e-6 * Math.max(1, Math.abs(forces[i])), `coordinate ${i}: ${fd} vs ${forces[i]}`);
  }
});

test('a batch gives each molecule the numbers it gets alone', () => {
  const pot = randomModel({ reduce_op: 'mean', prior_model: 'Atomref' }, 'float64', 11);
  const mols = [ethanol, peptide, aspirin, ethanol];
  const batch = batchOf(mols);
  const fast = new FastEnergyForces(pot);
  const all = fast.compute(batch.z, batch.positions, batch.mol, batch.nMol);
  let o = 0;
  mols.forEach((m, k) => {
    const one = new FastEnergyForces(pot).compute(Int32Array.from(m.z), Float64Array.from(m.positions));
    const r = compare({ energy: [all.energy[k]], forces: all.forces.subarray(3 * o, 3 * (o + m.z.length)) }, one);
    assert.ok(r.e <= 1e-12 && r.f <= 1e-10, `molecule ${k}: ${JSON.stringify(r)}`);
    o += m.z.length;
  });
});

test('repeated calls with changing sizes leak nothing between calls', () => {
  for (const dtype of ['float64', 'float32'] as const) {
    const pot = randomModel({}, dtype, 3);
    const reused = new FastEnergyForces(pot);
    const inputs = [
      batchOf([aspirin]),
      batchOf([ethanol]),
      batchOf([peptide, aspirin, ethanol]),
      batchOf([ethanol]),
      batchOf([aspirin, aspirin]),
      batchOf([aspirin]),
    ];
    for (const b of inputs) {
      const got = reused.compute(b.z, b.positions, b.mol, b.nMol);
      const fresh = new FastEnergyForces(pot).compute(b.z, b.positions, b.mol, b.nMol);
      assert.deepEqual(got.energy, fresh.energy);
      assert.deepEqual(got.forces, fresh.forces);
    }
  }
});

test('large molecules (cell-list pairs), isolated atoms and empty molecules', () => {
  const pot = randomModel({}, 'float64', 5);
  // Three aspirins overlapping into one 63-atom "molecule" (above the direct-search limit).
  const positions = new Float64Array(3 * 63);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < 21; i++) {
      for (let k = 0; k < 3; k++) positions[3 * (21 * c + i) + k] = aspirin.positions[3 * i + k] + (k === c ? 3.1 : 0) * c;
    }
  }
  const big = { z: Int32Array.from({ length: 63 }, (_, i) => aspirin.z[i % 21]), positions };
  // A hydrogen far from everything: no neighbours, zero vector features (the norm's zero guard).
  const lone = { z: Int32Array.of(1), positions: Float64Array.of(50, 50, 50) };
  const b = batchOf([big, lone, ethanol]);
  const got = new FastEnergyForces(pot).compute(b.z, b.positions, b.mol, b.nMol);
  const r = compare(got, autodiff(pot, b));
  assert.ok(r.e <= 1e-10 && r.f <= 1e-10, JSON.stringify(r));
  assert.deepEqual(Array.from(got.forces.subarray(3 * 63, 3 * 64)), [0, 0, 0]);
  // A molecule index with no atoms gets the mean alone.
  const e = new FastEnergyForces(pot).compute(Int32Array.from(ethanol.z), Float64Array.from(ethanol.positions), new Int32Array(9), 2);
  assert.equal(e.energy[1], pot.params.get('mean')!.data[0]);
});

test('the pair list holds exactly the pairs a brute-force search finds: direct loop, cell list, sparse cloud, reused buffers', () => {
  const rng = new Rng(9);
  const list = new PairList();
  // A 150-atom molecule (cell list) and a 50-atom one (direct loop); then one 120-atom cloud
  // spread so thin that the cells are widened to bound their number.
  const cases = [{ n: 200, box: 14, split: 150 }, { n: 120, box: 400, split: 120 }, { n: 200, box: 14, split: 150 }];
  for (const { n, box, split } of cases) {
    const positions = new Float64Array(3 * n);
    for (let i = 0; i < 3 * n; i++) positions[i] = box * rng.uniform();
    const mol = new Int32Array(n);
    mol.fill(1, split);
    list.find(positions, mol, n, 4);
    const got = new Set<string>();
    for (let p = 0; p < list.count; p++) {
      assert.ok(list.a[p] < list.b[p]);
      got.add(`${list.a[p]}-${list.b[p]}`);
    }
    const expected = new Set<string>();
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const d = Math.hypot(positions[3 * i] - positions[3 * j], positions[3 * i + 1] - positions[3 * j + 1], positions[3 * i + 2] - positions[3 * j + 2]);
        if (mol[i] === mol[j] && d < 4) expected.add(`${i}-${j}`);
      }
    }
    assert.equal(got.size, list.count, 'no duplicate pairs');
    assert.deepEqual(got, expected);
  }
});

test('bad input is refused with a clear error', () => {
  const pot = randomModel({}, 'float64', 2);
  const fast = new FastEnergyForces(pot);
  const z = Int32Array.of(1, 8);
  assert.throws(() => fast.compute(z, Float64Array.of(0, 0, 0, 0, 0, 0)), (e: Error) => e instanceof OreoError && /same position/.test(e.message));
  assert.throws(() => fast.compute(z, Float64Array.of(0, 0, 0, 1)), OreoError);
  assert.throws(() => fast.compute(z, Float64Array.of(0, 0, 0, NaN, 0, 0)), /non-finite/);
  assert.throws(() => fast.compute(Int32Array.of(1, 200), Float64Array.of(0, 0, 0, 1, 0, 0)), OreoError);
  assert.throws(() => fast.compute(z, Float64Array.of(0, 0, 0, 1, 0, 0), Int32Array.of(1, 0), 2), /non-decreasing/);
});

test('Potential.asCalculator runs the fast path by default and the autodiff path on request', () => {
  const pot = randomModel({ prior_model: 'Atomref' }, 'float64', 21);
  const z = Int32Array.from(aspirin.z);
  const positions = Float64Array.from(aspirin.positions);
  const fast = pot.asCalculator().compute(z, positions);
  const direct = new FastEnergyForces(pot).compute(z, positions);
  assert.equal(fast.energy, direct.energy[0]);
  assert.deepEqual(fast.forces, direct.forces);
  const slow = pot.asCalculator('ET', { fast: false }).compute(z, positions);
  const r = compare({ energy: [fast.energy], forces: fast.forces }, { energy: [slow.energy], forces: slow.forces });
  assert.ok(r.e <= 1e-10 && r.f <= 1e-10, JSON.stringify(r));
});

test('WASM path (arena buffers, SIMD edge kernels) = TypeScript fallback, every option, both dtypes', { skip: !wasmAvailable() }, () => {
  const batch = batchOf([ethanol, aspirin, peptide]);
  let seed = 200;
  // 16 channels in 4 heads: whole SIMD vectors, so the edge loops run in WASM; 12 in 4 heads
  // (3 per head) does not divide into f32x4: arena buffers with the TypeScript edge loops.
  for (const [embedding_dimension, num_heads] of [[16, 4], [12, 4]]) {
    for (const dtype of ['float64', 'float32'] as const) {
      for (const distance_influence of influences) {
        for (const vector_cutoff of [false, true]) {
          const opts = { embedding_dimension, num_heads, distance_influence, vector_cutoff, neighbor_embedding: seed % 2 === 0, num_layers: 3 };
          const pot = randomModel(opts, dtype, seed++);
          const fast = new FastEnergyForces(pot);
          let viaTs, viaWasm;
          try {
            setKernelBackend('js');
            viaTs = fast.compute(batch.z, batch.positions, batch.mol, batch.nMol);
            setKernelBackend('auto');
            viaWasm = fast.compute(batch.z, batch.positions, batch.mol, batch.nMol);
          } finally {
            setKernelBackend('auto');
          }
          const r = compare(viaWasm, viaTs);
          const tol = dtype === 'float64' ? 1e-12 : 2e-5;
          assert.ok(r.e <= tol && r.f <= tol, `${dtype} ${JSON.stringify(opts)}: ${JSON.stringify(r)}`);
        }
      }
    }
  }
});

test('the WASM path survives kernel memory growing between calls (other models packing weights)', { skip: !wasmAvailable() }, () => {
  const pot = randomModel({}, 'float32', 11);
  const fast = new FastEnergyForces(pot);
  const b = batchOf([aspirin]);
  const first = fast.compute(b.z, b.positions, b.mol, b.nMol);
  // A large model packs its weights into the same WASM memory, which grows and detaches views.
  const big = new FastEnergyForces(randomModel({ embedding_dimension: 256, num_heads: 8, num_rbf: 64, num_layers: 3 }, 'float32', 12));
  big.compute(b.z, b.positions, b.mol, b.nMol);
  const bigger = batchOf([peptide, peptide, aspirin]);
  fast.compute(bigger.z, bigger.positions, bigger.mol, bigger.nMol);
  const again = fast.compute(b.z, b.positions, b.mol, b.nMol);
  assert.deepEqual(again.energy, first.energy);
  assert.deepEqual(again.forces, first.forces);
  big.dispose();
  fast.dispose();
});

test('a system too large for WASM memory falls back to the TypeScript kernels, same numbers', { skip: !wasmAvailable() }, (t) => {
  const pot = randomModel({}, 'float32', 13);
  const b = batchOf([aspirin, ethanol]);
  const want = new FastEnergyForces(pot).compute(b.z, b.positions, b.mol, b.nMol);
  // What WebAssembly.Memory.grow throws past its maximum (4 GiB here, 2 GiB when shared).
  const grow = t.mock.method(Arena.prototype, 'grow', () => {
    throw new RangeError('WebAssembly.Memory.grow(): Maximum memory size exceeded');
  });
  const warn = t.mock.method(console, 'warn', () => {});
  const fast = new FastEnergyForces(pot);
  const got = fast.compute(b.z, b.positions, b.mol, b.nMol);
  const again = fast.compute(b.z, b.positions, b.mol, b.nMol);
  assert.ok(grow.mock.callCount() >= 1);
  assert.equal(warn.mock.callCount(), 1);
  assert.match(String(warn.mock.calls[0].arguments[0]), /more work memory than WASM can address/);
  const r = compare(got, want);
  assert.ok(r.e <= 2e-5 && r.f <= 2e-5, JSON.stringify(r));
  assert.deepEqual(again.forces, got.forces);
  grow.mock.restore();
  const recovered = fast.compute(b.z, b.positions, b.mol, b.nMol);
  assert.deepEqual(recovered.forces, want.forces);
});
