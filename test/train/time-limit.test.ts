// --time-limit: a budget of training clock (steps + validation) that stops a run cleanly, with the
// checkpoint and the end-of-run files written, and that a resumed run keeps spending rather than
// restarting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configFromHyperParameters } from '../../src/model/config.js';
import { createPotential } from '../../src/model/init.js';
import { readMd17Npz } from '../../src/data/md17.js';
import type { Conformation } from '../../src/data/conformation.js';
import { ET_OREO } from '../../src/train/objective.js';
import { train, paperDefaults } from '../../src/train/trainer.js';
import { checkpointHeader } from '../../src/train/checkpoint.js';
import { parsePretrainConfig } from '../../src/train/run-config.js';
import { dataDir, fixturesDir } from '../paths.js';
import { runOreo } from '../cli.js';

const tiny = configFromHyperParameters({ embedding_dimension: 8, num_layers: 1, num_rbf: 4, num_heads: 2, cutoff_upper: 4, prior_model: 'Atomref', precision: 32 });
const ethanolTrain = join(dataDir, 'rmd17', 'rmd17_ethanol_train_01.npz');
const data: Conformation[] = readMd17Npz(ethanolTrain, { limit: 16 } as never)
  .slice(0, 16)
  .map((c) => ({ ...c, kind: 'off-equilibrium' }));

function logEntries(dir: string): { step: number; clock_s: number }[] {
  return readFileSync(join(dir, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
}

test('the training clock stops a run, is checkpointed, and a resumed run spends only what is left', () => {
  const dir = mkdtempSync(join(tmpdir(), 'oreo-time-'));
  const limitMin = 0.01; // 0.6 s: many tiny steps, far fewer than maxSteps
  const cfg = { ...paperDefaults, lr: 1e-3, warmupSteps: 1, valEvery: 1, batchSize: 4, maxSteps: 1_000_000, seed: 2, timeLimitMinutes: limitMin };
  const run = (extra: object) =>
    train({ pot: createPotential(tiny, { seed: 1 }), train: data.slice(0, 12), val: data.slice(12), objective: ET_OREO, config: cfg, outDir: dir, quiet: true, ...extra });

  // An interruption after 2 steps (valEvery 1: each step checkpoints) leaves part of the budget.
  const first = run({ stopAfter: 2 });
  assert.equal(first.stoppedOn, 'stop-after');
  assert.equal(first.steps, 2);
  assert.ok(first.trainSeconds > 0 && first.trainSeconds < 60 * limitMin, `clock after 2 steps ${first.trainSeconds} s`);
  const saved = (checkpointHeader(join(dir, 'checkpoint.oreo-train')).state as { trainSeconds: number }).trainSeconds;
  assert.equal(saved, first.trainSeconds, 'checkpoint carries the clock');

  const second = run({ resume: true });
  assert.equal(second.stoppedOn, 'time-limit');
  assert.ok(second.steps > 2 && second.steps < cfg.maxSteps, `steps ${second.steps}`);
  assert.ok(second.trainSeconds >= 60 * limitMin, `clock ${second.trainSeconds} s`);
  const log = logEntries(dir);
  // The resumed run's clock continues from the checkpoint's value, not from 0 …
  assert.equal(log[1].clock_s, saved);
  assert.ok(log[2].clock_s > saved);
  for (let i = 1; i < log.length; i++) assert.ok(log[i].clock_s > log[i - 1].clock_s, `clock not increasing at step ${log[i].step}`);
  // … and the step that crossed the budget is the last one.
  assert.equal(log.length, second.steps);
  assert.ok(log[log.length - 2].clock_s < 60 * limitMin);
  const ckpt = checkpointHeader(join(dir, 'checkpoint.oreo-train')).state as { step: number; trainSeconds: number };
  assert.equal(ckpt.step, second.steps, 'final checkpoint written at the last step');
  assert.equal(ckpt.trainSeconds, second.trainSeconds);

  // Resuming a spent budget takes no step and leaves the checkpoint as it was.
  const third = run({ resume: true });
  assert.equal(third.stoppedOn, 'time-limit');
  assert.equal(third.steps, second.steps);
  assert.equal(third.trainSeconds, second.trainSeconds);
});

test('a run without a time limit stops on maxSteps and still records its clock', () => {
  const dir = mkdtempSync(join(tmpdir(), 'oreo-time-'));
  const cfg = { ...paperDefaults, lr: 1e-3, warmupSteps: 1, valEvery: 2, batchSize: 4, maxSteps: 3, seed: 2 };
  const r = train({ pot: createPotential(tiny, { seed: 1 }), train: data.slice(0, 12), val: data.slice(12), objective: ET_OREO, config: cfg, outDir: dir, quiet: true });
  assert.equal(r.stoppedOn, 'max-steps');
  assert.equal(r.steps, 3);
  assert.ok(r.trainSeconds > 0);
});

test('config files take training.timeLimitMinutes and refuse a bad one, naming the key', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'oreo-cfg-')), 'c.json');
  const src = { name: 'a', path: ethanolTrain, kind: 'off-equilibrium' };
  assert.equal(parsePretrainConfig({ data: { sources: [src] }, training: { timeLimitMinutes: 35 } }, file).training.timeLimitMinutes, 35);
  assert.equal(parsePretrainConfig({ data: { sources: [src] } }, file).training.timeLimitMinutes, 0);
  assert.throws(() => parsePretrainConfig({ data: { sources: [src] }, training: { timeLimitMinutes: -1 } }, file), /timeLimitMinutes must be a number ≥ 0/);
  assert.throws(() => parsePretrainConfig({ data: { sources: [src] }, training: { timeLimit: 3 } }, file), /unknown key 'training.timeLimit'/);
});

test('oreo finetune --time-limit stops, writes checkpoint, model and test metrics, and --resume continues the clock', () => {
  const out = mkdtempSync(join(tmpdir(), 'oreo-ft-time-'));
  const args = [
    'finetune', '--from', join(fixturesDir, 'torchmdnet', 'et-tiny', 'model.ckpt'), '--data', ethanolTrain, '--train', '12', '--val', '4',
    '--test', join(dataDir, 'rmd17', 'rmd17_ethanol_test_01.npz'), '--steps', '1000000', '--warmup', '1', '--val-every', '5', '--batch', '4', '--out', out,
  ];
  const a = runOreo([...args, '--time-limit', '0.02']);
  assert.equal(a.status, 0, a.stderr);
  assert.match(a.stderr, /stopped on the time limit \(0\.02 min of training clock\): \d+ steps done/);
  const ra = JSON.parse(a.stdout.slice(0, a.stdout.lastIndexOf('}') + 1));
  assert.equal(ra.stoppedOn, 'time-limit');
  assert.ok(ra.steps > 0 && ra.steps < 1_000_000);
  assert.ok(ra.trainSeconds >= 1.2);
  for (const f of ['checkpoint.oreo-train', 'model.oreo', 'test-metrics.json', 'log.jsonl']) assert.ok(existsSync(join(out, f)), f);
  const metrics = JSON.parse(readFileSync(join(out, 'test-metrics.json'), 'utf8'));
  assert.ok(Number.isFinite(metrics.forceMAE_meV_per_A), JSON.stringify(metrics));
  assert.equal((checkpointHeader(join(out, 'checkpoint.oreo-train')).state as { step: number }).step, ra.steps);

  // A larger budget on resume: the clock carries on from the first run's value.
  const b = runOreo([...args, '--time-limit', '0.04', '--resume']);
  assert.equal(b.status, 0, b.stderr);
  assert.match(b.stderr, new RegExp(`resuming from .* at step ${ra.steps}`));
  const rb = JSON.parse(b.stdout.slice(0, b.stdout.lastIndexOf('}') + 1));
  assert.equal(rb.stoppedOn, 'time-limit');
  assert.ok(rb.steps > ra.steps, `${rb.steps} after ${ra.steps}`);
  assert.ok(rb.trainSeconds >= 2.4);
  const log = logEntries(out);
  const firstResumed = log.find((e) => e.step === ra.steps + 1)!;
  assert.ok(firstResumed.clock_s > ra.trainSeconds, `resumed clock ${firstResumed.clock_s} vs saved ${ra.trainSeconds}`);
});
