import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import { bundledData } from '../../src/data/bundled.js';
import type { Conformation } from '../../src/data/conformation.js';
import { buildShards, readDatasetConfig } from '../../src/data/dataset.js';
import { readConformations } from '../../src/data/read.js';
import { ShardWriter, readShardIndex, streamBatches, streamConformations } from '../../src/data/shards.js';

const dir = mkdtempSync(join(tmpdir(), 'oreo-shards-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function writeConfig(name: string, sources: object[]): string {
  const p = join(dir, name);
  writeFileSync(p, JSON.stringify({ seed: 3, sources }));
  return p;
}

const MIX = () => [
  { name: 'ethanol', path: bundledData('rmd17', 'rmd17_ethanol_train_01.npz'), kind: 'off-equilibrium' },
  { name: 'spice', path: bundledData('spice', 'SPICE-1.1.4_n2.hdf5'), kind: 'off-equilibrium', cap: 20 },
  { name: 'pcqm', path: bundledData('pcqm4mv2', 'graphium_pcqm4mv2-2k.csv'), kind: 'equilibrium', cap: 300 },
];

test('shards of a real mix read back exactly, with caps, kinds and labels', async () => {
  const cfg = readDatasetConfig(writeConfig('mix.json', MIX()));
  const out = join(dir, 'mix');
  const index = await buildShards(cfg, out, { shardSize: 333 });
  assert.equal(index.total, 1000 + 20 + 300);
  assert.equal(index.shards.length, Math.ceil(1320 / 333));
  const eth = await readConformations(cfg.sources[0].path);
  const got = [...streamConformations(out)];
  assert.equal(got.length, 1320);
  // File order within each source; ethanol first, bit-identical in f64.
  got.slice(0, 1000).forEach((c, i) => {
    assert.equal(c.source, 'ethanol');
    assert.equal(c.index, i);
    assert.equal(c.kind, 'off-equilibrium');
    assert.deepEqual(c.positions, eth[i].positions);
    assert.deepEqual(c.forces, eth[i].forces);
    assert.equal(c.energy, eth[i].energy);
  });
  const pcqm = got.filter((c) => c.source === 'pcqm');
  assert.equal(pcqm.length, 300);
  assert.ok(pcqm.every((c) => c.kind === 'equilibrium' && c.energy === undefined && c.forces === undefined && c.props!.gap > 0));
  // The cap is a seeded subset in file order, the same on every build.
  const idx = pcqm.map((c) => c.index!);
  assert.deepEqual(idx, [...idx].sort((a, b) => a - b));
  const again = await buildShards(cfg, join(dir, 'mix2'), { shardSize: 333 });
  assert.deepEqual(again.shards.map((s) => s.sha256), index.shards.map((s) => s.sha256));
  // Batches straight from shards: flat atoms + molecule index, masks for missing labels.
  let mols = 0;
  for (const b of streamBatches(out, 64, { seed: 1 })) {
    assert.equal(b.mol.length, b.z.length);
    assert.equal(b.atomOffset[b.nMol], b.z.length);
    for (let m = 0; m < b.nMol; m++) {
      for (let a = b.atomOffset[m]; a < b.atomOffset[m + 1]; a++) assert.equal(b.mol[a], m);
      const isPcqm = b.source[m] === 'pcqm';
      if (b.forcesMask) assert.equal(b.forcesMask[m], isPcqm ? 0 : 1);
      if (b.energyMask) assert.equal(b.energyMask[m], isPcqm ? 0 : 1);
    }
    mols += b.nMol;
  }
  assert.equal(mols, 1320);
});

test('an interrupted shard build resumes and gives the same shards as an uninterrupted one', async () => {
  const cfg = readDatasetConfig(writeConfig('mix3.json', MIX()));
  const full = await buildShards(cfg, join(dir, 'full'), { shardSize: 200 });
  const out = join(dir, 'resumed');
  await assert.rejects(
    buildShards(cfg, out, {
      shardSize: 200,
      progressEvery: 100,
      onProgress: (done) => {
        if (done >= 700) throw new Error('simulated crash');
      },
    }),
    /simulated crash/,
  );
  assert.ok(!existsSync(join(out, 'index.json')));
  assert.throws(() => readShardIndex(out), /did not finish.*--resume/);
  const resumed = await buildShards(cfg, out, { shardSize: 200, resume: true });
  assert.equal(resumed.total, full.total);
  assert.deepEqual(resumed.shards.map((s) => s.sha256), full.shards.map((s) => s.sha256));
});

test('streaming 1M synthetic conformations from shards keeps memory flat', () => {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const out = join(dir, 'million');
  const N = 1_000_000;
  const w = new ShardWriter(out, [{ name: 'synthetic-h2' }], { shardSize: 50_000 });
  const z = Int32Array.of(1, 1);
  for (let i = 0; i < N; i++) {
    const r = 0.7 + (i % 1000) * 1e-4;
    const c: Conformation = {
      z,
      positions: Float64Array.of(0, 0, 0, 0, 0, r),
      energy: -31 + r,
      forces: Float64Array.of(0, 0, 1 - r, 0, 0, r - 1),
      index: i,
    };
    w.add(c, 0);
  }
  const index = w.close();
  assert.equal(index.total, N);
  const totalBytes = index.shards.reduce((s, e) => s + e.bytes, 0);
  assert.ok(totalBytes > 100e6, `shard set is ${totalBytes} bytes`);

  const used = () => {
    gc();
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  const base = used();
  const samples: number[] = [];
  let seen = 0;
  let energySum = 0;
  let batchesInShard = 0;
  for (const b of streamBatches(out, 5000, { seed: 7 })) {
    seen += b.nMol;
    for (let m = 0; m < b.nMol; m++) energySum += b.energy![m];
    if (++batchesInShard === 10) {
      batchesInShard = 0;
      samples.push(used() - base);
    }
  }
  assert.equal(seen, N);
  // Every conformation seen once: the energies sum to the written total.
  let expected = 0;
  for (let i = 0; i < N; i++) expected += -31 + 0.7 + (i % 1000) * 1e-4;
  assert.ok(Math.abs(energySum - expected) < 1e-6 * Math.abs(expected));
  assert.equal(samples.length, 20);
  const peak = Math.max(...samples);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const growth = mean(samples.slice(-5)) - mean(samples.slice(0, 5));
  // One shard is ~6 MB; holding the set would take > 100 MB.
  assert.ok(peak < 30e6, `peak growth over baseline ${(peak / 1e6).toFixed(1)} MB`);
  assert.ok(Math.abs(growth) < 15e6, `drift from the first to the last shards ${(growth / 1e6).toFixed(1)} MB`);
  console.log(`# streamed ${N} conformations (${(totalBytes / 1e6).toFixed(0)} MB on disk): peak +${(peak / 1e6).toFixed(1)} MB, drift ${(growth / 1e6).toFixed(2)} MB`);
});
