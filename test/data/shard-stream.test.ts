// Training data streamed from shards: every training row once per epoch through a shuffle buffer
// smaller than the set, nothing of the val/test split, weights, levels, and an exact resume.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { readMd17Npz } from '../../src/data/md17.js';
import type { Conformation } from '../../src/data/conformation.js';
import { ShardWriter } from '../../src/data/shards.js';
import { ShardStream, levelMatches, surveyShardSets, type ShardSetSpec } from '../../src/data/shard-stream.js';
import { dataDir } from '../paths.js';

const dir = mkdtempSync(join(tmpdir(), 'oreo-shard-stream-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const ethanol = readMd17Npz(join(dataDir, 'rmd17', 'rmd17_ethanol_train_01.npz')).slice(0, 60);
const aspirin = readMd17Npz(join(dataDir, 'rmd17', 'rmd17_aspirin_train_01.npz')).slice(0, 30);
/** The corpus's split prop by frame: 0 train, 1 val, 2 test (7 : 2 : 1). */
const splitOf = (i: number) => (i % 10 < 7 ? 0 : i % 10 < 9 ? 1 : 2);

// A corpus-like set: props on every row, two levels of theory as two shard sources, 7 rows a shard.
const corpus = join(dir, 'corpus');
{
  const w = new ShardWriter(corpus, [{ name: 'ethanol | PBE/def2-SVP' }, { name: 'aspirin | other-level' }], { shardSize: 7 });
  ethanol.forEach((c, i) => w.add({ ...c, kind: 'off-equilibrium', index: i, props: { split: splitOf(i), molecule: 0 } }, 0));
  aspirin.forEach((c, i) => w.add({ ...c, kind: 'off-equilibrium', index: i, props: { split: splitOf(i), molecule: 1 } }, 1));
  w.close();
}
// A set with no split prop (as `oreo data shard --part train` writes), 5 rows a shard.
const plain = join(dir, 'plain');
{
  const w = new ShardWriter(plain, [{ name: 'aspirin-train' }], { shardSize: 5 });
  aspirin.forEach((c, i) => w.add({ ...c, kind: 'off-equilibrium', index: i }, 0));
  w.close();
}

const key = (c: Conformation) => `${c.source}#${c.index}`;
const trainKeys = (level?: string) => {
  const keys: string[] = [];
  if (!level || level === 'PBE/def2-SVP') ethanol.forEach((_, i) => splitOf(i) === 0 && keys.push(`ethanol | PBE/def2-SVP#${i}`));
  if (!level) aspirin.forEach((_, i) => splitOf(i) === 0 && keys.push(`aspirin | other-level#${i}`));
  return keys.sort();
};

test('one epoch through a shuffle buffer smaller than the set holds every training row once and no val/test row', () => {
  const specs: ShardSetSpec[] = [{ name: 'corpus', dir: corpus, weight: 1 }];
  const survey = surveyShardSets(specs, { seed: 1, valCap: 1000, sampleCap: 10 });
  const expected = trainKeys();
  assert.equal(survey.trainRows[0], expected.length);
  assert.equal(survey.valRows[0], 18);
  assert.equal(survey.testRows[0], 9);
  assert.ok(survey.val.every((c) => c.props?.split === 1));
  assert.deepEqual(survey.elements, [1, 6, 8]);
  const s = new ShardStream(specs, { seed: 4, bufferSize: 8, epochSize: survey.epochSize });
  assert.ok(s.bufferSize < expected.length && expected.length > 7 * 2, 'the buffer and the shards are smaller than the set');
  const first = s.next(expected.length);
  assert.deepEqual(first.map(key).sort(), expected);
  assert.ok(first.every((c) => c.props?.split === 0));
  assert.equal(s.epoch, 0);
  const second = s.next(expected.length);
  assert.equal(s.epoch, 1);
  assert.deepEqual(second.map(key).sort(), expected);
  assert.notDeepEqual(second.map(key), first.map(key), 'each epoch is drawn in a new order');
  // Shards are not drawn one after the other: the first draws already come from several shards.
  const shardOf = (c: Conformation) => Math.floor(((c.source!.startsWith('ethanol') ? 0 : 60) + c.index!) / 7);
  assert.ok(new Set(first.slice(0, 10).map(shardOf)).size >= 2, first.slice(0, 10).map(shardOf).join(' '));
});

test('weights repeat rows (2: twice an epoch), levels pick shard sources, and a val directory feeds validation', () => {
  const specs: ShardSetSpec[] = [
    { name: 'ethanol', dir: corpus, weight: 2, level: 'PBE/def2-SVP' },
    { name: 'aspirin', dir: plain, weight: 1, valDir: corpus, level: undefined },
  ];
  const survey = surveyShardSets(specs, { seed: 2, valCap: 5, sampleCap: 10 });
  const eth = trainKeys('PBE/def2-SVP');
  assert.equal(survey.trainRows[0], eth.length);
  assert.equal(survey.trainRows[1], aspirin.length);
  assert.equal(survey.epochSize, 2 * eth.length + aspirin.length);
  assert.equal(survey.val.length, 5, 'validation is capped');
  const s = new ShardStream(specs, { seed: 5, bufferSize: 16, epochSize: survey.epochSize });
  const epoch = s.next(survey.epochSize).map(key);
  const counts = new Map<string, number>();
  for (const k of epoch) counts.set(k, (counts.get(k) ?? 0) + 1);
  for (const k of eth) assert.equal(counts.get(k), 2, k);
  aspirin.forEach((_, i) => assert.equal(counts.get(`aspirin-train#${i}`), 1));
  assert.equal(epoch.filter((k) => k.startsWith('aspirin | ')).length, 0, 'the other level is left out');
  assert.throws(() => new ShardStream([{ name: 'x', dir: corpus, weight: 1, level: 'GFN2-xTB' }], { seed: 1 }), /no shard source of level 'GFN2-xTB'.*'ethanol \| PBE\/def2-SVP'/);
  // The corpus's names: "<source> | <level name>".
  assert.ok(levelMatches('qm9 | ANI-2x (ωB97X/6-31G(d))', 'ANI-2x'));
  assert.ok(levelMatches('qm9 | ANI-2x (ωB97X/6-31G(d))', 'ANI-2x (ωB97X/6-31G(d))'));
  assert.ok(levelMatches('qm9 | GFN2-xTB', 'GFN2-xTB'));
  assert.ok(!levelMatches('qm9 | GFN2-xTB', 'GFN2'));
  assert.ok(!levelMatches('qm9 | ANI-2x (ωB97X/6-31G(d))', 'ANI'));
});

test('a stream resumed from its saved position draws exactly the rows the uninterrupted one draws', () => {
  const specs: ShardSetSpec[] = [
    { name: 'corpus', dir: corpus, weight: 1.5 },
    { name: 'plain', dir: plain, weight: 0.5 },
  ];
  const a = new ShardStream(specs, { seed: 9, bufferSize: 6 });
  const b = new ShardStream(specs, { seed: 9, bufferSize: 6 });
  // Stop in the middle of an epoch, then across an epoch boundary.
  for (const n of [5, 37, 61]) {
    a.next(n);
    const saved = JSON.parse(JSON.stringify(b.next(n) && b.position()));
    const resumed = new ShardStream(specs, { seed: 9, bufferSize: 6 });
    resumed.restore(saved);
    const want = a.next(23);
    const got = resumed.next(23);
    b.next(23);
    assert.deepEqual(got.map(key), want.map(key), `after ${n} draws`);
    for (let i = 0; i < got.length; i++) assert.deepEqual([...got[i].positions], [...want[i].positions]);
  }
  const other = new ShardStream(specs, { seed: 10, bufferSize: 6 });
  assert.throws(() => other.restore(a.position()), /written for other data/);
  const pos = a.position();
  assert.throws(() => new ShardStream(specs, { seed: 9, bufferSize: 6 }).restore({ ...pos, stream: { ...pos.stream!, buffer: [0, 1, 2] } }), /whole numbers/);
});
