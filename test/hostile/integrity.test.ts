// Integrity and finiteness at every load: .oreo files carry a checksum (container 2) checked on
// load; every weight is finite or named; every reader refuses non-finite positions and labels
// at one point (src/data/validate.ts) naming file, record and field; eval and predict never
// print null with exit 0; finetune on such data fails before pointing at a checkpoint.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { oreoTensorOffset, npy, rewriteOreoHeader, runMeasured, tempDir, zip } from './files.js';
import { runOreo } from '../cli.js';
import { repoRoot } from '../paths.js';
import { loadPotential } from '../../src/model/load.js';
import { parseTensors, serializeTensors } from '../../src/model/io/tensor-file.js';

const dir = tempDir('integrity');
const modelPath = join(repoRoot, 'models', 'oreo-pretrained-small.oreo');
const bytes = readFileSync(modelPath);
const water = join(dir, 'water.xyz');
writeFileSync(water, '3\nwater\nO 0 0 0\nH 0.96 0 0\nH -0.24 0.93 0\n');
const WEIGHT = 'representation_model.embedding.weight';

function fails(args: string[], file: string, pattern: RegExp): string {
  const r = runMeasured(args);
  assert.equal(r.status, 1, `${args.join(' ')}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  assert.ok(r.stderr.includes(file), `names ${file}: ${r.stderr}`);
  assert.match(r.stderr, pattern);
  assert.doesNotMatch(r.stdout, /null/);
  assert.ok(r.maxRssMB < 1536, `peak memory ${r.maxRssMB.toFixed(0)} MB`);
  return r.stderr;
}

test('bundled models carry a checksum, and a single flipped byte anywhere is caught', () => {
  assert.match(new TextDecoder().decode(bytes.subarray(12, 12 + bytes.readUInt32LE(8))), /"container":2,"checksum":"sha256:[0-9a-f]{64}"\}$/);
  // A weight byte (the audit's case: predict printed "energy": null with exit 0).
  const w = Uint8Array.from(bytes);
  w[oreoTensorOffset(w, WEIGHT) + 7] ^= 0x7f;
  const f1 = join(dir, 'flipped-weight.oreo');
  writeFileSync(f1, w);
  fails(['predict', '--model', f1, '--input', water], f1, /field 'checksum': checksum mismatch/);
  // A header byte that keeps the JSON valid (a letter of the training metadata).
  const h = Uint8Array.from(bytes);
  const text = new TextDecoder().decode(h.subarray(12, 12 + bytes.readUInt32LE(8)));
  const at = 12 + Buffer.byteLength(text.slice(0, text.indexOf('"meta"') + 3));
  h[at] ^= 0x20;
  const f2 = join(dir, 'flipped-header.oreo');
  writeFileSync(f2, h);
  fails(['eval', '--model', f2, '--data', join(repoRoot, 'data', 'rmd17', 'rmd17_ethanol_train_01.npz'), '--limit', '2'], f2, /checksum mismatch/);
  // Padding between header and data counts too.
  const p = Uint8Array.from(bytes);
  p[p.length - 1] ^= 1;
  const f3 = join(dir, 'flipped-last.oreo');
  writeFileSync(f3, p);
  fails(['predict', '--model', f3, '--input', water], f3, /checksum mismatch/);
});

test('files from before the checksum still load; a container-2 file without one is refused', () => {
  const old = rewriteOreoHeader(bytes, (hd) => {
    delete hd.checksum;
    delete hd.container;
    hd.version = 1;
  });
  const f = join(dir, 'old.oreo');
  writeFileSync(f, old);
  const a = loadPotential(f);
  const b = loadPotential(modelPath);
  for (const [k, t] of b.params) assert.deepEqual(a.params.get(k)!.data, t.data, k);
  const r = runOreo(['predict', '--model', f, '--input', water]);
  assert.equal(r.status, 0, r.stderr);
  const stripped = join(dir, 'stripped.oreo');
  writeFileSync(stripped, rewriteOreoHeader(bytes, (hd) => delete hd.checksum));
  fails(['predict', '--model', stripped, '--input', water], stripped, /field 'checksum': no valid checksum in a container-2 file/);
});

test('a NaN or infinite weight is refused naming the tensor, whatever the container version', () => {
  for (const [name, value] of [['nan', NaN], ['inf', -Infinity]] as const) {
    const old = rewriteOreoHeader(bytes, (hd) => {
      delete hd.checksum;
      delete hd.container;
    });
    new DataView(old.buffer).setFloat32(oreoTensorOffset(old, WEIGHT) + 4 * 5, value, true);
    const f = join(dir, `${name}-weight.oreo`);
    writeFileSync(f, old);
    fails(['predict', '--model', f, '--input', water], f, new RegExp(`record ${WEIGHT.replace(/\./g, '\\.')}, field 'values': holds a non-finite value \\(${value}\\) at position 5`));
  }
  // Written by oreo itself with a NaN inside: the checksum is right, the finiteness check still holds.
  const { header, tensors } = parseTensors(bytes, modelPath);
  tensors.get(WEIGHT)!.data[0] = NaN;
  const f = join(dir, 'nan-checksummed.oreo');
  writeFileSync(f, serializeTensors(header, tensors));
  fails(['predict', '--model', f, '--input', water], f, /non-finite value \(NaN\) at position 0/);
});

const H2O = (x: string, extra = '') => `3\nProperties=species:S:1:pos:R:3:forces:R:3 energy=-10.0${extra}\nO 0 0 0 0 0 0\nH 0.96 0 0 ${x} 0 0\nH -0.24 0.93 0 0 0 0\n`;

test('eval with one NaN force label: exit 1 naming file, record and field, no null MAE', () => {
  const f = join(dir, 'nan-force.extxyz');
  writeFileSync(f, H2O('0.1') + H2O('nan'));
  fails(['eval', '--model', modelPath, '--data', f], f, /record 1, field 'forces': atom 1 has a non-finite x force \(NaN\)/);
  const g = join(dir, 'inf-energy.extxyz');
  writeFileSync(g, H2O('0.1').replace('energy=-10.0', 'energy=inf'));
  fails(['eval', '--model', modelPath, '--data', g], g, /record 0, field 'energy': energy Infinity is not finite/);
});

test('eval on data with no labels at all is an error, not a report of nulls', () => {
  const f = join(dir, 'unlabelled.xyz');
  writeFileSync(f, '3\nwater\nO 0 0 0\nH 0.96 0 0\nH -0.24 0.93 0\n');
  fails(['eval', '--model', modelPath, '--data', f], f, /no energy or force labels to evaluate against/);
});

test('NaN coordinates and overlapping atoms are named with file and frame, for every reader and command', () => {
  const nanPos = join(dir, 'nan-pos.xyz');
  writeFileSync(nanPos, '3\nwater\nO 0 0 0\nH 0.96 0 0\nH -0.24 0.93 0\n3\nwater\nO 0 0 0\nH nan 0 0\nH -0.24 0.93 0\n');
  fails(['predict', '--model', modelPath, '--input', nanPos], nanPos, /record 1, field 'positions': atom 1 has a non-finite x coordinate/);
  fails(['eval', '--model', modelPath, '--data', nanPos], nanPos, /record 1, field 'positions'/);
  fails(['simulate', '--model', modelPath, '--init', `${nanPos}:1`, '--steps', '1', '--out', join(dir, 'md-nan')], nanPos, /record 1, field 'positions'/);
  const overlap = join(dir, 'overlap.xyz');
  writeFileSync(overlap, '3\nwater\nO 0 0 0\nH 0.96 0 0\nH 0.96 0.01 0\n');
  fails(['predict', '--model', modelPath, '--input', overlap], overlap, /record 0, field 'positions': atoms 1 and 2 are 0\.010 Å apart \(overlapping/);
  fails(['simulate', '--model', modelPath, '--init', overlap, '--steps', '1', '--out', join(dir, 'md-overlap')], overlap, /overlapping/);
  // An npz with a NaN energy and one with NaN forces: the same check, the same words.
  const npzOf = (E: number[], F: number[]) =>
    zip([
      { name: 'z.npy', data: npy('<i8', [3], [8, 1, 1]) },
      { name: 'R.npy', data: npy('<f8', [2, 3, 3], [0, 0, 0, 0.96, 0, 0, -0.24, 0.93, 0, 0, 0, 0, 0.95, 0, 0, -0.25, 0.93, 0]) },
      { name: 'E.npy', data: npy('<f8', [2], E) },
      { name: 'F.npy', data: npy('<f8', [2, 3, 3], F) },
    ]);
  const zeros = new Array(18).fill(0);
  const nanF = join(dir, 'nan-forces.npz');
  writeFileSync(nanF, npzOf([1, 2], [...zeros.slice(0, 13), NaN, ...zeros.slice(14)]));
  fails(['data', 'inspect', nanF], nanF, /record 1, field 'forces': atom 1 has a non-finite y force/);
  const nanE = join(dir, 'nan-energy.npz');
  writeFileSync(nanE, npzOf([1, NaN], zeros));
  fails(['eval', '--model', modelPath, '--data', nanE], nanE, /record 1, field 'E': energy NaN is not finite/);
});

test('finetune on data with a NaN label stops at the reader, before any checkpoint is named', () => {
  const f = join(dir, 'train-nan.extxyz');
  writeFileSync(f, H2O('0.1') + H2O('0.2') + H2O('nan') + H2O('0.3'));
  const arch = join(dir, 'arch.json');
  writeFileSync(arch, JSON.stringify({ embedding_dimension: 8, num_layers: 1, num_rbf: 4, num_heads: 2, cutoff_upper: 4 }));
  const out = join(dir, 'ft-nan');
  const err = fails(['finetune', '--from', arch, '--data', f, '--train', '3', '--val', '1', '--steps', '2', '--out', out], f, /record 2, field 'forces'/);
  assert.doesNotMatch(err, /checkpoint/);
  assert.equal(existsSync(join(out, 'checkpoint.oreo-train')), false);
});
