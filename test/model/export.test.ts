// `oreo export --format torchmdnet`: the pickle and zip writers, the round trip through oreo's own
// importer (always), and TorchMD-Net's own load_model on the exported files (where installed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { loadPotential } from '../../src/model/load.js';
import type { Potential } from '../../src/model/potential.js';
import { unpickle, toPlain } from '../../src/model/io/pickle.js';
import { readTorchZip } from '../../src/model/io/torch-zip.js';
import { pickle, PyFloat, PyTuple, orderedDict, PickleValue } from '../../src/model/io/pickle-write.js';
import { storedZip, crc32, torchSave, TorchTensor } from '../../src/model/io/torch-zip-write.js';
import { serializeTorchMDNet, saveTorchMDNet } from '../../src/model/io/torchmdnet-export.js';
import { attachPropertyHead } from '../../src/model/heads/property.js';
import { savePropertyModel } from '../../src/model/heads/io.js';
import { readMd17Npz } from '../../src/data/md17.js';
import { FastEnergyForces } from '../../src/model/fast/energy-forces.js';
import { repoRoot, fixturesDir } from '../paths.js';
import { runOreo } from '../cli.js';
import { skipUnlessTorchMDNet, torchmdnetPython, torchmdnetSource } from '../system-tools.js';

const tmp = mkdtempSync(join(tmpdir(), 'oreo-export-'));
const aspirinFile = join(repoRoot, 'data', 'rmd17', 'rmd17_aspirin_test_01.npz');
const FRAMES = [0, 250, 999];
const aspirin = readMd17Npz(aspirinFile);
const frames = FRAMES.map((i) => aspirin[i]);

/** The models to export: the two bundled oreo models and the three TorchMD-Net fixtures. */
const sources: { name: string; file: string }[] = [
  { name: 'oreo-aspirin-et4x64', file: join(repoRoot, 'models', 'oreo-aspirin-et4x64.oreo') },
  { name: 'oreo-pretrained-small', file: join(repoRoot, 'models', 'oreo-pretrained-small.oreo') },
  ...['et-tiny', 'et-tiny-vcut', 'et-small-f32'].map((n) => ({ name: n, file: join(fixturesDir, 'torchmdnet', n, 'model.ckpt') })),
];

/** Energies and forces of the test frames: the autodiff path, or the fused one predict and MD run. */
function predictAll(pot: Potential, path: 'autodiff' | 'fast' = 'autodiff'): { energy: number; forces: number[] }[] {
  if (path === 'fast') {
    const fast = new FastEnergyForces(pot);
    return frames.map((c) => {
      const r = fast.compute(c.z, c.positions);
      return { energy: r.energy[0], forces: [...r.forces] };
    });
  }
  return frames.map((c) => {
    const p = pot.predict({ z: c.z, positions: c.positions });
    return { energy: p.energy.data[0], forces: [...p.forces.data] };
  });
}

test('pickle writer: what it writes, oreo\'s unpickler reads back as the same values', () => {
  const value: PickleValue = {
    str: 'équivariant ✓',
    ints: [0, 1, 255, 256, 65535, 65536, -1, -129, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, -(2 ** 40), 2 ** 53 - 1],
    big: 2n ** 70n,
    floats: [0.5, -1e-300, 1e300, new PyFloat(5), new PyFloat(-0)],
    flags: [true, false, null],
    tuples: [new PyTuple([]), new PyTuple([1]), new PyTuple([1, 2]), new PyTuple([1, 2, 3]), new PyTuple([1, 2, 3, 4])],
    long: Array.from({ length: 2500 }, (_, i) => i),
    nested: new Map<string, PickleValue>([['a', { b: [] }]]),
    od: orderedDict([['x', 1], ['y', 'z']]),
  };
  const bytes = pickle(value);
  assert.deepEqual([...bytes.subarray(0, 2)], [0x80, 2], 'protocol 2');
  const back = unpickle(bytes, {
    findGlobal: (m, n) => (m === 'collections' && n === 'OrderedDict' ? () => new Map() : undefined),
  }) as Map<string, unknown>;
  const plain = toPlain(back) as Record<string, unknown>;
  assert.equal(plain.str, 'équivariant ✓');
  assert.deepEqual(plain.ints, [0, 1, 255, 256, 65535, 65536, -1, -129, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, -(2 ** 40), 2 ** 53 - 1]);
  assert.equal(plain.big, 2 ** 70);
  assert.deepEqual(plain.floats, [0.5, -1e-300, 1e300, 5, -0]);
  assert.ok(Object.is((plain.floats as number[])[4], -0));
  assert.deepEqual(plain.flags, [true, false, null]);
  assert.deepEqual(plain.tuples, [[], [1], [1, 2], [1, 2, 3], [1, 2, 3, 4]]);
  assert.deepEqual(plain.long, Array.from({ length: 2500 }, (_, i) => i));
  assert.deepEqual(plain.nested, { a: { b: [] } });
  assert.deepEqual(plain.od, { x: 1, y: 'z' });
  assert.throws(() => pickle({ f: (() => 1) as unknown as PickleValue }), /cannot pickle a Function/);
});

test('stored zip: every record readable, CRC-32 right, data 64-byte aligned as torch writes it', () => {
  assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
  const records = [
    { name: 'archive/data.pkl', data: new Uint8Array([1, 2, 3]) },
    { name: 'archive/data/0', data: new Uint8Array(1000).map((_, i) => i & 0xff) },
    { name: 'archive/version', data: new TextEncoder().encode('3\n') },
  ];
  const zip = storedZip(records);
  const out = unzipSync(zip);
  for (const r of records) assert.deepEqual([...out[r.name]], [...r.data], r.name);
  const dv = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  let p = 0;
  for (const r of records) {
    assert.equal(dv.getUint32(p, true), 0x04034b50);
    assert.equal(dv.getUint16(p + 8, true), 0, 'stored');
    assert.equal(dv.getUint32(p + 14, true), crc32(r.data));
    const start = p + 30 + dv.getUint16(p + 26, true) + dv.getUint16(p + 28, true);
    assert.equal(start % 64, 0, `${r.name} data at ${start}`);
    p = start + r.data.length;
  }
});

test('torchSave writes tensors that oreo\'s torch.load reader gets back bit for bit', () => {
  const f32 = new TorchTensor('float32', [2, 3], Float32Array.from([1.5, -2, Math.PI, 1e-30, 7, 8]));
  const f64 = new TorchTensor('float64', [], [Math.E]);
  const back = readTorchZip(torchSave({ a: f32, b: [f64, 'x'] }), 'mem') as Map<string, unknown>;
  const a = back.get('a') as { dtype: string; shape: number[]; values: Float64Array };
  assert.equal(a.dtype, 'float32');
  assert.deepEqual(a.shape, [2, 3]);
  assert.deepEqual([...a.values], [...Float32Array.from([1.5, -2, Math.PI, 1e-30, 7, 8])]);
  const [b] = back.get('b') as [{ dtype: string; shape: number[]; values: Float64Array }];
  assert.equal(b.dtype, 'float64');
  assert.deepEqual(b.shape, []);
  assert.equal(b.values[0], Math.E);
});

for (const src of sources) {
  test(`export → oreo import: ${src.name} comes back with identical parameters, energies and forces`, () => {
    const pot = loadPotential(src.file);
    const out = join(tmp, `${src.name}.ckpt`);
    saveTorchMDNet(pot, out, { source: src.file });
    const back = loadPotential(out);
    assert.equal(back.dtype, pot.dtype);
    assert.deepEqual({ ...back.config, output_model: 'Scalar' }, { ...pot.config, output_model: 'Scalar' });
    assert.deepEqual([...back.params.keys()].sort(), [...pot.params.keys()].sort());
    for (const [name, t] of pot.params) assert.deepEqual([...back.params.get(name)!.data], [...t.data], name);
    assert.deepEqual(predictAll(back), predictAll(pot));
    // The side record brings back the units, elements and name of an oreo model.
    if (src.file.endsWith('.oreo')) {
      assert.deepEqual(back.meta.units, { energy: 'eV', forces: 'eV/Å' });
      assert.deepEqual(back.meta.elements, pot.meta.elements);
      assert.equal(back.meta.name, pot.meta.name);
    } else {
      assert.equal(back.meta.units, undefined, 'a TorchMD-Net checkpoint\'s units stay unknown');
    }
    // Deterministic: the same model gives the same bytes.
    assert.deepEqual(serializeTorchMDNet(pot, { source: src.file }), new Uint8Array(readFileSync(out)));
  });
}

test('the exported checkpoint holds what TorchMD-Net\'s load_model needs, under its names', () => {
  const pot = loadPotential(sources[0].file);
  const obj = readTorchZip(serializeTorchMDNet(pot), 'mem') as Map<string, unknown>;
  const hp = toPlain(obj.get('hyper_parameters')) as Record<string, unknown>;
  for (const k of ['model', 'embedding_dimension', 'num_layers', 'num_rbf', 'rbf_type', 'trainable_rbf', 'activation', 'attn_activation',
    'neighbor_embedding', 'num_heads', 'distance_influence', 'cutoff_lower', 'cutoff_upper', 'max_z', 'max_num_neighbors', 'vector_cutoff',
    'derivative', 'atom_filter', 'prior_model', 'output_model', 'reduce_op', 'precision']) {
    assert.ok(k in hp, `hyper_parameters.${k}`);
  }
  assert.equal(hp.output_model, 'Scalar');
  assert.equal(hp.derivative, true);
  assert.deepEqual(hp.prior_args, [{ max_z: 100, trainable: false, enable: true }]);
  const sd = obj.get('state_dict') as Map<string, { values: Float64Array; dtype: string }>;
  const keys = [...sd.keys()];
  assert.deepEqual(keys.slice(0, 2), ['model.mean', 'model.std']);
  assert.ok(keys.every((k) => k.startsWith('model.')));
  assert.ok(keys.includes('model.output_model.output_network.0.update_net.layers.0.weight'));
  // The neighbour search's box buffer, zero (no periodic box), right after the embedding, as
  // TorchMD-Net's state_dict orders it; torchmd-train --load-weights needs it there.
  assert.equal(keys[3], 'model.representation_model.distance.box');
  assert.deepEqual([...sd.get('model.representation_model.distance.box')!.values], new Array(9).fill(0));
  assert.deepEqual([...sd.get('model.prior_model.0.initial_atomref')!.values], [...sd.get('model.prior_model.0.atomref.weight')!.values]);
  assert.ok([...sd.values()].every((t) => t.dtype === 'float32'));
  const f64 = readTorchZip(serializeTorchMDNet(pot, { precision: 64 }), 'mem') as Map<string, unknown>;
  assert.equal((toPlain(f64.get('hyper_parameters')) as Record<string, unknown>).precision, 64);
  assert.ok([...(f64.get('state_dict') as Map<string, { dtype: string }>).values()].every((t) => t.dtype === 'float64'));
});

test('oreo export CLI: writes the checkpoint, predict reads it in eV; bad options are named', () => {
  const out = join(tmp, 'cli.ckpt');
  const r = runOreo(['export', '--model', sources[0].file, '--format', 'torchmdnet', '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  const summary = JSON.parse(r.stdout);
  assert.equal(summary.precision, 32);
  assert.deepEqual(summary.units, { length: 'Å', energy: 'eV', forces: 'eV/Å' });
  const pred = runOreo(['predict', '--model', out, '--input', aspirinFile, '--frames', '0']);
  assert.equal(pred.status, 0, pred.stderr);
  const direct = runOreo(['predict', '--model', sources[0].file, '--input', aspirinFile, '--frames', '0']);
  const a = JSON.parse(pred.stdout);
  const b = JSON.parse(direct.stdout);
  assert.deepEqual(a.units, { energy: 'eV', forces: 'eV/Å' });
  assert.deepEqual(a.frames, b.frames);

  const property = join(tmp, 'property.oreo');
  // A real property model (the aspirin ET's representation with a fresh head) is refused by kind.
  const base = loadPotential(sources[0].file);
  savePropertyModel(attachPropertyHead(base.config, base.params, base.dtype, { task: 'property', type: 'mlp', target: 'homo', unit: 'eV', reduce: 'sum', mean: 0, std: 1 }), property);
  const cases: [string[], RegExp][] = [
    [['export', '--model', sources[0].file, '--out', out], /--format is required \(supported: torchmdnet\)/],
    [['export', '--model', sources[0].file, '--format', 'onnx', '--out', out], /--format onnx: unknown format/],
    [['export', '--model', sources[0].file, '--format', 'torchmdnet'], /--out is required/],
    [['export', '--model', sources[0].file, '--format', 'torchmdnet', '--out', out, '--precision', '16'], /--precision 16: expected 32 or 64/],
    [['export', '--model', property, '--format', 'torchmdnet', '--out', out], /property model .*cannot be exported/],
    [['export', '--model', join(tmp, 'missing.oreo'), '--format', 'torchmdnet', '--out', out], /missing\.oreo: model file not found/],
  ];
  for (const [args, re] of cases) {
    const e = runOreo(args);
    assert.equal(e.status, 1, args.join(' '));
    assert.match(e.stderr, re);
  }
  const help = runOreo(['export', '--help']);
  assert.match(help.stdout, /load_model/);
  assert.match(help.stdout, /eV and eV\/Å/);
});

// TorchMD-Net itself: load_model on each exported file, energies and forces against oreo's.
test('TorchMD-Net 2.x load_model reads the exported checkpoints and predicts what oreo predicts', { skip: skipUnlessTorchMDNet() }, (t) => {
  const runs: { name: string; file: string; pot: Potential }[] = [];
  for (const src of sources) {
    const pot = loadPotential(src.file);
    const file = join(tmp, `tmd-${src.name}.ckpt`);
    saveTorchMDNet(pot, file);
    runs.push({ name: src.name, file, pot });
  }
  // A float32 model exported at precision 64: both sides in float64 arithmetic, so a wiring error
  // cannot hide in float32 rounding.
  const wide = loadPotential(sources[0].file, { dtype: 'float64' });
  const wideFile = join(tmp, 'tmd-oreo-aspirin-et4x64-f64.ckpt');
  saveTorchMDNet(wide, wideFile, { precision: 64 });
  runs.push({ name: 'oreo-aspirin-et4x64 at precision 64', file: wideFile, pot: loadPotential(wideFile) });

  const r = spawnSync(torchmdnetPython(), [join(repoRoot, 'scripts', 'torchmdnet-check-export.py'), '--torchmdnet', torchmdnetSource(),
    '--input', aspirinFile, '--frames', FRAMES.join(','), '--model', ...runs.map((x) => x.file)], { encoding: 'utf8', timeout: 300_000 });
  assert.equal(r.status, 0, r.stderr);
  const result = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.equal(result.models.length, runs.length);
  runs.forEach((run, m) => {
    const theirs = result.models[m];
    const f64 = run.pot.dtype === 'float64';
    assert.equal(theirs.precision, f64 ? 64 : 32, run.name);
    // Relative to the largest |E| and |F| of the frames. float32: 1e-4 for forces; energies are
    // sums of per-atom terms with |E| ~ 1e4 eV, where 1e-4 would allow eV, so 1e-6 (the sums
    // agree to ~1e-7). float64: 1e-9 for both.
    const relE = f64 ? 1e-9 : 1e-6;
    const relF = f64 ? 1e-9 : 1e-4;
    for (const path of ['autodiff', 'fast'] as const) {
      const ours = predictAll(run.pot, path);
      const eScale = Math.max(1, ...ours.map((o) => Math.abs(o.energy)));
      const fScale = Math.max(1, ...ours.flatMap((o) => o.forces.map(Math.abs)));
      let dE = 0;
      let dF = 0;
      ours.forEach((o, i) => {
        dE = Math.max(dE, Math.abs(o.energy - theirs.frames[i].energy));
        const tf = (theirs.frames[i].forces as number[][]).flat();
        assert.equal(tf.length, o.forces.length);
        o.forces.forEach((f, k) => (dF = Math.max(dF, Math.abs(f - tf[k]))));
      });
      const what = `${run.name} (oreo ${path}, ${run.pot.dtype})`;
      t.diagnostic(`${what}: max|ΔE| ${dE.toExponential(2)} (|E| ≤ ${eScale.toPrecision(6)}), max|ΔF| ${dF.toExponential(2)} (|F| ≤ ${fScale.toPrecision(4)}); torch ${result.torch}, torchmdnet ${result.torchmdnet}`);
      assert.ok(dE <= relE * eScale, `${what}: energies differ by ${dE} (allowed ${relE * eScale})`);
      assert.ok(dF <= relF * fScale, `${what}: forces differ by ${dF} (allowed ${relF * fScale})`);
    }
  });
});
