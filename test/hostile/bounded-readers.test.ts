// Bounded readers: every size a file states is checked against what the file can hold before
// anything is allocated for it, pickled references stay shared, and cycles are named. Each case
// runs the real CLI, must exit 1 naming the file (and record/field where there is one), and must
// stay far below 1.5 GB of memory, although the files claim gigabytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  checkpointPickle, cyclicList, deflatePrefixThenZeros, npy, npyHeader, P, runMeasured, sharedNestedList, tempDir, tensorDict, zip,
} from './files.js';
import { repoRoot } from '../paths.js';

const dir = tempDir('bounded');
const MB = 1024 * 1024;
const LIMIT_MB = 1536;
const model = join(repoRoot, 'models', 'oreo-pretrained-small.oreo');
const water = join(dir, 'water.xyz');
writeFileSync(water, '3\nwater\nO 0 0 0\nH 0.96 0 0\nH -0.24 0.93 0\n');

const little = new TextEncoder().encode('little');
function checkpoint(name: string, pkl: Uint8Array, storage: Uint8Array = new Uint8Array(4)): string {
  const f = join(dir, name);
  writeFileSync(f, zip([
    { name: 'archive/data.pkl', data: pkl },
    { name: 'archive/byteorder', data: little },
    { name: 'archive/data/0', data: storage },
  ]));
  return f;
}

/** Exit 1, the file named, the message matching, within the memory limit. */
function refuses(args: string[], file: string, pattern: RegExp): void {
  const r = runMeasured(args);
  assert.equal(r.status, 1, `${args.join(' ')}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  assert.ok(r.stderr.includes(file), `names ${file}: ${r.stderr}`);
  assert.match(r.stderr, pattern);
  assert.doesNotMatch(r.stderr, /at .*\.js:\d+|Maximum call stack|Invalid typed array length|heap out of memory/);
  assert.ok(r.maxRssMB < LIMIT_MB, `peak memory ${r.maxRssMB.toFixed(0)} MB`);
}

test('a 425-byte-class pickle of shared references nested ten deep is refused, not expanded', () => {
  const ckpt = checkpoint('shared.ckpt', checkpointPickle([...P.emptyDict, ...P.mark, ...P.str('x'), ...sharedNestedList(10), ...P.setitems], P.emptyDict));
  assert.ok(statSync(ckpt).size < 2048);
  refuses(['predict', '--model', ckpt, '--input', water], ckpt, /field 'hyper_parameters'.*expands to more than 1000000 values through shared references/);
});

test('a tuple key made of shared references is not expanded into text either', () => {
  // Keys are hashable in Python, so shared tuples may key a dict: (T, T, …) nested.
  const tupleOf = (levels: number, memo: number): number[] =>
    levels === 0 ? [0x4b, 0] : [...P.mark, ...tupleOf(levels - 1, memo - 1), ...Array.from({ length: 9 }, () => (levels > 1 ? P.get(memo - 1) : [0x4b, 0])).flat(), ...P.tuple, ...P.put(memo)];
  const hp = [...P.emptyDict, ...P.mark, ...tupleOf(9, 30), ...P.str('v'), ...P.setitems];
  const ckpt = checkpoint('tuplekey.ckpt', checkpointPickle(hp, P.emptyDict));
  // The key stays a short label; the loader goes on to find the (empty) state_dict lacking.
  refuses(['predict', '--model', ckpt, '--input', water], ckpt, /state_dict lacks parameters/);
});

test('shared references below the cap stay one object and load', async () => {
  // Three levels (1,000 leaves): a legal, shared value; the loader proceeds to the config.
  const { unpickle, toPlain } = await import('../../src/model/io/pickle.js');
  const v = unpickle(checkpointPickle(sharedNestedList(3), P.emptyDict)) as Map<string, unknown>;
  const l = v.get('hyper_parameters') as unknown[][];
  assert.equal(l[0], l[9], 'memo keeps one object');
  const plain = toPlain(l) as unknown[][];
  assert.equal(plain[0], plain[9], 'the plain form keeps the sharing too');
});

test('a cyclic pickle is refused by name, not by the call stack', () => {
  const ckpt = checkpoint('cyclic.ckpt', checkpointPickle(cyclicList(), P.emptyDict));
  refuses(['predict', '--model', ckpt, '--input', water], ckpt, /field 'hyper_parameters'.*contains itself \(a cyclic reference\)/);
});

test('a tensor whose shape × stride repeats one stored value 10^9 times is refused before materialising', () => {
  const ckpt = checkpoint('stride0.ckpt', checkpointPickle(P.emptyDict, tensorDict('representation_model.embedding.weight', [1_000_000_000], [0])));
  assert.ok(statSync(ckpt).size < 1024);
  refuses(['predict', '--model', ckpt, '--input', water], ckpt, /storage 0.*\(1000000000 values\) over a storage of 1 values; refused/);
});

test('negative shapes and strides in a checkpoint are refused naming the storage', () => {
  const neg = checkpoint('negative.ckpt', checkpointPickle(P.emptyDict, tensorDict('w', [-1], [1])));
  refuses(['predict', '--model', neg, '--input', water], neg, /field 'storage 0'.*shape \[-1\] is not a list of non-negative integers/);
  const big = checkpoint('overrun.ckpt', checkpointPickle(P.emptyDict, tensorDict('w', [4, 4], [4, 1])));
  refuses(['predict', '--model', big, '--input', water], big, /16 values\) over a storage of 1 values/);
});

test('a zip bomb storage (400 MB of zeros in ~600 kB) is refused before inflating', () => {
  const bomb = deflatePrefixThenZeros(new Uint8Array(0), 400 * MB);
  const f = join(dir, 'bomb.ckpt');
  writeFileSync(f, zip([
    { name: 'archive/data.pkl', data: checkpointPickle(P.emptyDict, tensorDict('w', [100 * MB], [1])) },
    { name: 'archive/byteorder', data: little },
    { name: 'archive/data/0', data: bomb, method: 8, size: 400 * MB },
  ]));
  assert.ok(statSync(f).size < 1 * MB, `${statSync(f).size} bytes on disk`);
  refuses(['predict', '--model', f, '--input', water], f, /archive\/data\/0.*past 128 MiB inflated.*zip bomb/);
});

test('a member that inflates past its declared size, or declares more than deflate can make, is refused', () => {
  const liar = join(dir, 'liar.ckpt');
  writeFileSync(liar, zip([
    { name: 'archive/data.pkl', data: deflatePrefixThenZeros(new Uint8Array([0x80, 0x02]), 10 * MB), method: 8, size: 1000 },
    { name: 'archive/byteorder', data: little },
  ]));
  refuses(['predict', '--model', liar, '--input', water], liar, /archive\/data\.pkl.*inflates to more than the 1000 bytes it declares/);
  const impossible = join(dir, 'impossible.ckpt');
  writeFileSync(impossible, zip([{ name: 'archive/data.pkl', data: new Uint8Array(100), method: 8, size: 2_000_000_000 }]));
  refuses(['predict', '--model', impossible, '--input', water], impossible, /declares 2000000000 bytes inflated from 100, more than deflate can expand/);
});

test('an npz that inflates to 600 MB is read one frame at a time: frame 0 is judged without inflating the rest', () => {
  const frames = Math.floor((600 * MB) / 72);
  const R = deflatePrefixThenZeros(npyHeader('<f8', [frames, 3, 3]), frames * 72);
  const E = deflatePrefixThenZeros(npyHeader('<f8', [frames]), frames * 8);
  const f = join(dir, 'bomb.npz');
  writeFileSync(f, zip([
    { name: 'z.npy', data: npy('<i8', [3], [8, 1, 1]) },
    { name: 'R.npy', data: R, method: 8, size: npyHeader('<f8', [frames, 3, 3]).length + frames * 72 },
    { name: 'E.npy', data: E, method: 8, size: npyHeader('<f8', [frames]).length + frames * 8 },
  ]));
  assert.ok(statSync(f).size < 1.5 * MB, `${statSync(f).size} bytes on disk`);
  // All-zero positions: the first frame already has every atom on one point.
  refuses(['data', 'inspect', f], f, /record 0, field 'positions': atoms 0 and 1 are 0\.000 Å apart \(overlapping/);
  refuses(['eval', '--model', model, '--data', f], f, /record 0, field 'positions'/);
});

test('predict --frames reads a huge npz only as far as the frames asked', () => {
  // One real water frame, then 600 MB of frames that are all zeros (every atom on one point):
  // frames 0 and 1 are asked, so frame 2 onwards must be neither inflated nor judged.
  const frames = Math.floor((600 * MB) / 72);
  const frame = new Float64Array([0, 0, 0, 0.96, 0, 0, -0.24, 0.93, 0]);
  const header = npyHeader('<f8', [frames, 3, 3]);
  const prefix = new Uint8Array(header.length + 2 * 72);
  prefix.set(header);
  prefix.set(new Uint8Array(frame.buffer), header.length);
  prefix.set(new Uint8Array(frame.buffer), header.length + 72);
  const R = deflatePrefixThenZeros(prefix, (frames - 2) * 72);
  const f = join(dir, 'long.npz');
  writeFileSync(f, zip([
    { name: 'z.npy', data: npy('<i8', [3], [8, 1, 1]) },
    { name: 'R.npy', data: R, method: 8, size: header.length + frames * 72 },
  ]));
  const r = runMeasured(['predict', '--model', model, '--input', f, '--frames', '0,1']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).frames.length, 2);
  assert.ok(r.maxRssMB < 400, `peak memory ${r.maxRssMB.toFixed(0)} MB`);
  // Without --frames every frame is read, and the first all-zero one is refused by name.
  refuses(['predict', '--model', model, '--input', f], f, /record 2, field 'positions': atoms 0 and 1 are 0\.000 Å apart/);
});

test('an npy header whose shape the payload cannot hold is refused before allocating', () => {
  const f = join(dir, 'absurd.npz');
  const R = npyHeader('<f8', [1e12, 3, 3]);
  writeFileSync(f, zip([{ name: 'z.npy', data: npy('<i8', [3], [8, 1, 1]) }, { name: 'R.npy', data: R }]));
  refuses(['data', 'inspect', f], f, /member 'R'.*needs 72000000000000 bytes, found 0/);
});

test("extxyz Properties asking for pos:R:999999999 or more fields than a line has are refused naming record and field", () => {
  const f = join(dir, 'props.extxyz');
  writeFileSync(f, '2\nProperties=species:S:1:pos:R:999999999\nH 0 0 0\nH 0.74 0 0\n');
  refuses(['data', 'inspect', f], f, /record 0, field 'Properties'.*pos:R:3/);
  const g = join(dir, 'props2.extxyz');
  writeFileSync(g, '2\nProperties=species:S:1:pos:R:3:forces:R:999999999\nH 0 0 0 0 0 0\nH 0.74 0 0 0 0 0\n');
  refuses(['data', 'inspect', g], g, /record 0, field 'Properties'.*declares 1000000003 fields per atom, but atom lines have 7/);
});

test('an .oreo header with a negative or absurd shape is refused naming the tensor and the field', async () => {
  const { readFileSync } = await import('node:fs');
  const { rewriteOreoHeader } = await import('./files.js');
  const bytes = readFileSync(model);
  const edit = (shape: number[]) => rewriteOreoHeader(bytes, (h) => {
    delete h.checksum;
    delete h.container;
    (h.tensors as { shape: number[] }[])[0].shape = shape;
  });
  const neg = join(dir, 'negative.oreo');
  writeFileSync(neg, edit([-1, 64]));
  refuses(['predict', '--model', neg, '--input', water], neg, /record .*, field 'shape': shape \[-1,64\] is not a list of non-negative integers/);
  const huge = join(dir, 'huge.oreo');
  writeFileSync(huge, edit([1e9, 1e9]));
  refuses(['predict', '--model', huge, '--input', water], huge, /field 'shape': shape \[1000000000,1000000000\] needs .* bytes/);
});
