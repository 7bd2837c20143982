// Pre-training that streams shards: the loop resumes a streamed run to the same weights bit for
// bit, and `oreo pretrain` takes shard sets in its config (the train split only, validation from
// the val split) and resumes from the stream position in its checkpoint.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { configFromHyperParameters } from '../../src/model/config.js';
import { createPotential } from '../../src/model/init.js';
import { readMd17Npz } from '../../src/data/md17.js';
import { buildShards, readDatasetConfig } from '../../src/data/dataset.js';
import { ShardWriter } from '../../src/data/shards.js';
import { ShardStream, surveyShardSets } from '../../src/data/shard-stream.js';
import { ET_OREO } from '../../src/train/objective.js';
import { train, paperDefaults } from '../../src/train/trainer.js';
import { checkpointHeader } from '../../src/train/checkpoint.js';
import { runOreo } from '../cli.js';
import { dataDir } from '../paths.js';

const dir = mkdtempSync(join(tmpdir(), 'oreo-stream-pretrain-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const tiny = { embedding_dimension: 8, num_layers: 1, num_rbf: 4, num_heads: 2, cutoff_upper: 4, prior_model: 'Atomref' };
const ethanolFile = join(dataDir, 'rmd17', 'rmd17_ethanol_train_01.npz');

// Corpus-like shards: the split prop on every row (molecule 0 … 3 of ethanol frames: 0–1 train, 2 val, 3 test).
const corpus = join(dir, 'corpus');
{
  const w = new ShardWriter(corpus, [{ name: 'ethanol | PBE/def2-SVP' }], { shardSize: 6 });
  readMd17Npz(ethanolFile).slice(0, 40).forEach((c, i) => {
    const molecule = i % 4;
    w.add({ ...c, kind: 'off-equilibrium', index: i, props: { molecule, split: molecule < 2 ? 0 : molecule - 1 } }, 0);
  });
  w.close();
}

test('a streamed run stopped and resumed ends with the same weights, bit for bit, and the same log', () => {
  // A bundled DFT source written to shards as `oreo data shard` does.
  const cfgFile = join(dir, 'data.json');
  writeFileSync(cfgFile, JSON.stringify({ seed: 1, sources: [{ name: 'ethanol', path: ethanolFile, kind: 'off-equilibrium', cap: 30 }] }));
  const shards = join(dir, 'ethanol-shards');
  return buildShards(readDatasetConfig(cfgFile), shards, { shardSize: 7 }).then(() => {
    const specs = [
      { name: 'ethanol', dir: shards, weight: 1 },
      { name: 'corpus', dir: corpus, weight: 0.5 },
    ];
    const val = surveyShardSets(specs, { seed: 0, valCap: 6, sampleCap: 1 }).val;
    const stream = () => new ShardStream(specs, { seed: 3, bufferSize: 9 });
    const cfg = { ...paperDefaults, lr: 1e-3, warmupSteps: 2, valEvery: 3, batchSize: 4, maxSteps: 14, seed: 3 };
    const model = configFromHyperParameters({ ...tiny, precision: 32 });
    const dirA = join(dir, 'run-a');
    const a = createPotential(model, { seed: 1 });
    train({ pot: a, data: stream(), val, objective: ET_OREO, config: cfg, outDir: dirA, quiet: true });
    const dirB = join(dir, 'run-b');
    const b = createPotential(model, { seed: 1 });
    // 7 steps of 4 = 28 draws: past the first epoch (30 + about 10 rows), inside a shuffle buffer.
    train({ pot: b, data: stream(), val, objective: ET_OREO, config: cfg, outDir: dirB, quiet: true, stopAfter: 7 });
    const header = checkpointHeader(join(dirB, 'checkpoint.oreo-train')) as { state: { step: number; stream?: { buffer: number[] } } };
    assert.equal(header.state.step, 6, 'the last checkpoint before the stop');
    assert.ok(header.state.stream && header.state.stream.buffer.length > 0, 'the stream position and its buffer are in the checkpoint');
    const b2 = createPotential(model, { seed: 77 });
    train({ pot: b2, data: stream(), val, objective: ET_OREO, config: cfg, outDir: dirB, quiet: true, resume: true });
    for (const [name, t] of a.params) assert.deepEqual([...b2.params.get(name)!.data], [...t.data], name);
    const rows = (d: string) => readFileSync(join(d, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => { const r = JSON.parse(l); delete r.clock_s; return r; });
    assert.deepEqual(rows(dirB), rows(dirA));
  });
});

test('oreo pretrain streams shard sets named in its config, and --resume continues the stream', () => {
  const out = join(dir, 'pretrain');
  const config = join(dir, 'pretrain.json');
  writeFileSync(config, JSON.stringify({
    data: { seed: 2, shuffleBuffer: 8, valCap: 50, sources: [{ name: 'corpus', shards: corpus, level: 'PBE/def2-SVP' }] },
    model: tiny,
    objective: 'et-ore',
    training: { lr: 1e-3, warmupSteps: 1, valEvery: 2, batchSize: 4, maxSteps: 4, seed: 1 },
    out,
  }));
  const a = runOreo(['pretrain', '--config', config]);
  assert.equal(a.status, 0, a.stderr);
  assert.match(a.stderr, /step 4\/4 loss .* \| val /);
  const ra = JSON.parse(a.stdout.slice(0, a.stdout.lastIndexOf('}') + 1));
  assert.equal(ra.train, 20, 'molecules 0 and 1 of 40 frames: the train split only');
  assert.equal(ra.val, 10, 'validation is the val split');
  assert.equal(ra.splits, null);
  assert.ok(existsSync(ra.model));
  const b = runOreo(['pretrain', '--config', config, '--resume', '--steps', '6']);
  assert.equal(b.status, 0, b.stderr);
  assert.match(b.stderr, /resuming from .* at step 4/);
  assert.equal(JSON.parse(b.stdout.slice(0, b.stdout.lastIndexOf('}') + 1)).steps, 6);
  // Splits are the shards' own: a splits section is refused, naming it.
  writeFileSync(config, JSON.stringify({ data: { sources: [{ name: 'corpus', shards: corpus }] }, splits: { val: 0.1 }, out }));
  const c = runOreo(['pretrain', '--config', config]);
  assert.notEqual(c.status, 0);
  assert.match(c.stderr, /'splits' applies to file sources/);
});
