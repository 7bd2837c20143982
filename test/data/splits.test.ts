import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { bundledData } from '../../src/data/bundled.js';
import type { Conformation } from '../../src/data/conformation.js';
import { conformationToFrame, formatExtxyzFrame } from '../../src/data/extxyz.js';
import { readConformations } from '../../src/data/read.js';
import { assertNoLeak, loadOrCreateSplits, makeSplits, readSplits, selectPart, SplitLookup } from '../../src/data/splits.js';
import { contentHash, geometryKey } from '../../src/data/identity.js';
import { InputError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'oreo-splits-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const ethanolTrain = bundledData('rmd17', 'rmd17_ethanol_train_01.npz');
const ethanolTest = bundledData('rmd17', 'rmd17_ethanol_test_01.npz');
const aspirinTrain = bundledData('rmd17', 'rmd17_aspirin_train_01.npz');

function writeXyz(path: string, confs: Conformation[]): void {
  writeFileSync(path, confs.map((c) => formatExtxyzFrame(conformationToFrame(c))).join(''));
}

test('splits are seeded, sized by the fractions, stable when sources are added, and record content hashes', async () => {
  const eth = await readConformations(ethanolTrain);
  const asp = await readConformations(aspirinTrain);
  const a = makeSplits([{ name: 'ethanol', path: ethanolTrain, conformations: eth }], { seed: 11, val: 0.1, test: 0.2 });
  const b = makeSplits(
    [
      { name: 'aspirin', path: aspirinTrain, conformations: asp },
      { name: 'ethanol', path: ethanolTrain, conformations: eth },
    ],
    { seed: 11, val: 0.1, test: 0.2 },
  );
  const c = makeSplits([{ name: 'ethanol', path: ethanolTrain, conformations: eth }], { seed: 12, val: 0.1, test: 0.2 });
  assert.equal(a.sources[0].test.length, 200);
  assert.equal(a.sources[0].val.length, 100);
  assert.equal(a.sources[0].sha256, contentHash(ethanolTrain));
  assert.deepEqual(b.sources[1].test, a.sources[0].test, 'adding a source leaves the others alone');
  assert.notDeepEqual(c.sources[0].test, a.sources[0].test, 'another seed, another split');
  const val = new Set(a.sources[0].val);
  assert.ok(a.sources[0].test.every((i) => !val.has(i)));
  assert.equal(a.testGeometries.length, 200);
  const lookup = new SplitLookup(a);
  const parts = eth.map((x) => lookup.partOf(a.sources[0].sha256, x.index!));
  assert.equal(parts.filter((p) => p === 'train').length, 700);
  assert.equal(selectPart(a, ethanolTrain, eth, 'test').length, 200);
  // A whole source can be declared test (e.g. rMD17's own test file).
  const t = makeSplits([{ name: 'ethanol-test', path: ethanolTest, conformations: await readConformations(ethanolTest), split: 'test' }], { seed: 1 });
  assert.equal(t.sources[0].test.length, 1000);
});

test('a splits file is written once, reused, and refused when a source changed', async () => {
  const copy = join(dir, 'ethanol.npz');
  copyFileSync(ethanolTrain, copy);
  const eth = await readConformations(copy);
  const path = join(dir, 'splits.json');
  const first = loadOrCreateSplits(path, [{ name: 'ethanol', path: copy, conformations: eth }], { seed: 5 });
  assert.equal(first.created, true);
  const second = loadOrCreateSplits(path, [{ name: 'ethanol', path: copy, conformations: eth }], { seed: 99 });
  assert.equal(second.created, false);
  assert.deepEqual(second.splits.sources, first.splits.sources, 'reused, not re-drawn with the new seed');
  // Flip one byte of a coordinate: same size, still a valid npz, different content.
  const bytes = readFileSync(copy);
  bytes[bytes.length - 200] ^= 1;
  writeFileSync(copy, bytes);
  assert.throws(
    () => loadOrCreateSplits(path, [{ name: 'ethanol', path: copy, conformations: eth }], { seed: 5 }),
    (e: unknown) => e instanceof InputError && /changed since the splits were made/.test(e.message) && e.message.includes(path),
  );
});

test('fine-tuning on pre-training test conformations is refused, by file index and by geometry in another file', async () => {
  const eth = await readConformations(ethanolTrain);
  const pre = makeSplits([{ name: 'ethanol', path: ethanolTrain, conformations: eth }], { seed: 2, val: 0.05, test: 0.1 });
  const splitsPath = join(dir, 'pre.json');
  writeFileSync(splitsPath, JSON.stringify(pre));
  const pretrain = readSplits(splitsPath);
  const lookup = new SplitLookup(pretrain);
  const sha = contentHash(ethanolTrain);
  const train = eth.filter((c) => lookup.partOf(sha, c.index!) === 'train');
  const test = eth.filter((c) => lookup.partOf(sha, c.index!) === 'test');
  // Clean: fine-tune on pre-training train frames, evaluate on pre-training test frames.
  const ok = assertNoLeak(pretrain, { train: train.slice(0, 500), val: train.slice(500, 600), test });
  assert.deepEqual(ok.warnings, []);
  // Same file, a test index in the fine-tuning train set.
  assert.throws(() => assertNoLeak(pretrain, { train: [...train.slice(0, 10), test[3]] }), /test data leak: 1 conformation.*same file and index/s);
  // The same frames exported to extxyz: another file, same geometry.
  const xyz = join(dir, 'exported.xyz');
  writeXyz(xyz, test.slice(0, 7));
  const exported = await readConformations(xyz);
  assert.notEqual(exported[0].source, test[0].source);
  assert.throws(() => assertNoLeak(pretrain, { train: train.slice(0, 10), val: exported }), /test data leak: 7 conformation.*val conformation.*same geometry/s);
  // Evaluating on frames the pre-training trained on is refused too.
  assert.throws(() => assertNoLeak(pretrain, { train: [], test: train.slice(0, 3) }), /was in the pre-training train split/);
  // A fine-tuning test set from a file the pre-training never split or held out: a warning.
  const other = await readConformations(ethanolTest);
  const w = assertNoLeak(pretrain, { train: train.slice(0, 5), test: other.slice(0, 20) });
  assert.equal(w.warnings.length, 1);
  assert.match(w.warnings[0], /20 fine-tuning test conformations .*--hold-out/);
});

test('held-out sets go to test in pre-training splits wherever their geometries appear', async () => {
  const eth = await readConformations(ethanolTrain);
  // A fine-tuning test file that shares 40 frames with the pre-training data.
  const ft = join(dir, 'finetune-test.xyz');
  writeXyz(ft, eth.slice(100, 140));
  const held = await readConformations(ft);
  const pre = makeSplits([{ name: 'ethanol', path: ethanolTrain, conformations: eth }], { seed: 4, val: 0.05, test: 0.05, holdOut: [{ path: ft, conformations: held }] });
  const test = new Set(pre.sources[0].test);
  for (let i = 100; i < 140; i++) assert.ok(test.has(i), `frame ${i} should be test`);
  assert.equal(pre.sources[0].test.length, 50); // 40 held out + 10 drawn = 5 %
  assert.equal(pre.heldOut[0].matched, 40);
  const keys = new Set(pre.testGeometries);
  assert.ok(held.every((c) => keys.has(geometryKey(c))));
  // Fine-tuning evaluated on the held-out file: nothing to warn about; training on it: refused.
  assert.deepEqual(assertNoLeak(pre, { train: [], test: held }).warnings, []);
  assert.throws(() => assertNoLeak(pre, { train: held.slice(0, 1) }), /same geometry/);
});
