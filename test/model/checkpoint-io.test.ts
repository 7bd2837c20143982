// Reading TorchMD-Net checkpoints and oreo's native format; refusing what is not a checkpoint.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { loadPotential } from '../../src/model/load.js';
import { readTorchFile } from '../../src/model/io/torch-file.js';
import { potentialFromTorchObject } from '../../src/model/io/torchmdnet.js';
import { saveModel } from '../../src/model/io/native.js';
import { configFromHyperParameters } from '../../src/model/config.js';
import { torchmdnetFixture } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'oreo-ckpt-'));
const { ckpt, data } = torchmdnetFixture('et-tiny');
const c = data.cases[2];
const z = Int32Array.from(c.z);
const positions = Float64Array.from(c.pos.flat());

test('native .oreo format round-trips a model exactly', () => {
  const pot = loadPotential(ckpt);
  const file = join(tmp, 'model.oreo');
  saveModel(pot, file);
  const back = loadPotential(file);
  assert.equal(back.dtype, pot.dtype);
  assert.deepEqual(back.config, pot.config);
  for (const [name, t] of pot.params) assert.deepEqual([...back.params.get(name)!.data], [...t.data], name);
  const a = pot.predict({ z, positions });
  const b = back.predict({ z, positions });
  assert.equal(a.energy.data[0], b.energy.data[0]);
  assert.deepEqual([...a.forces.data], [...b.forces.data]);
});

test('old 0.2.x parameter names (update_net.N, prior_model.atomref) load the same model', () => {
  const obj = readTorchFile(ckpt) as Map<string, unknown>;
  const sd = obj.get('state_dict') as Map<string, unknown>;
  const renamed = new Map<string, unknown>();
  for (const [k, v] of sd) renamed.set(String(k).replace('update_net.layers.', 'update_net.'), v);
  obj.set('state_dict', renamed);
  const pot = potentialFromTorchObject(obj, 'renamed');
  const ref = loadPotential(ckpt);
  assert.equal(pot.predict({ z, positions }).energy.data[0], ref.predict({ z, positions }).energy.data[0]);
});

test('a truncated checkpoint is refused with a message naming the file', () => {
  const bytes = readFileSync(ckpt);
  const file = join(tmp, 'truncated.ckpt');
  writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length / 2)));
  assert.throws(() => loadPotential(file), (e: Error) => e.message.includes(file) && /damaged or truncated/.test(e.message));
});

test('a zip whose pickle is not a checkpoint is refused', () => {
  // Protocol-2 pickle of an empty list: b'\\x80\\x02]q\\x00.'
  const pkl = Uint8Array.from([0x80, 0x02, 0x5d, 0x71, 0x00, 0x2e]);
  const file = join(tmp, 'list.pt');
  writeFileSync(file, zipSync({ 'archive/data.pkl': pkl, 'archive/byteorder': new TextEncoder().encode('little') }));
  assert.throws(() => loadPotential(file), /not a checkpoint dictionary/);
  // A dict without hyper_parameters/state_dict.
  const dict = Uint8Array.from([0x80, 0x02, 0x7d, 0x71, 0x00, 0x58, 0x01, 0, 0, 0, 0x61, 0x4b, 0x01, 0x73, 0x2e]);
  writeFileSync(file, zipSync({ 'archive/data.pkl': dict }));
  assert.throws(() => loadPotential(file), /not a TorchMD-Net checkpoint.*found keys a/);
});

test('a file that is not a model at all, and a missing file, are refused clearly', () => {
  const file = join(tmp, 'notes.txt');
  writeFileSync(file, 'hello');
  assert.throws(() => loadPotential(file), /not a model file oreo can read/);
  assert.throws(() => loadPotential(join(tmp, 'nope.ckpt')), /nope\.ckpt: model file not found/);
});

test('unsupported TorchMD-Net options are named, not silently ignored', () => {
  assert.throws(
    () => configFromHyperParameters({ rbf_type: 'gauss', activation: 'tanh', prior_model: 'ZBL', layernorm_on_vec: 'whitened' }, 'x.ckpt'),
    (e: Error) => ['rbf_type', 'activation', 'ZBL', 'layernorm_on_vec'].every((k) => e.message.includes(k)) && e.message.startsWith('x.ckpt'),
  );
  assert.throws(() => configFromHyperParameters({ model: 'graph-network' }), /model="graph-network"/);
});

test('atoms outside the embedding table and non-finite coordinates are refused', () => {
  const pot = loadPotential(ckpt);
  assert.throws(() => pot.predict({ z: Int32Array.from([6, 100]), positions: Float64Array.from([0, 0, 0, 1, 0, 0]) }), /atomic number 100/);
  assert.throws(() => pot.predict({ z: Int32Array.from([6, 1]), positions: Float64Array.from([0, 0, 0, NaN, 0, 0]) }), /non-finite coordinate/);
  assert.throws(() => pot.predict({ z: Int32Array.from([6, 1]), positions: Float64Array.from([0, 0, 0]) }), /need 6 coordinates/);
});
