// Fine-tuning that fits small data: warm-up and validation cadence scale with --steps by default,
// a schedule that cannot finish its warm-up is warned about, `oreo finetune` never writes into a
// folder it did not make nor starts over one it made without --overwrite, and --resume refuses
// other data than the run's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scheduleWarnings } from '../../src/cli/finetune.js';
import { paperDefaults } from '../../src/train/trainer.js';
import { runOreo } from '../cli.js';
import { dataDir, fixturesDir } from '../paths.js';

const tmp = mkdtempSync(join(tmpdir(), 'oreo-runfolder-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const model = join(fixturesDir, 'torchmdnet', 'et-tiny', 'model.ckpt');
const ethanol = join(dataDir, 'rmd17', 'rmd17_ethanol_train_01.npz');
const base = (out: string, data = ethanol) => ['finetune', '--from', model, '--data', data, '--train', '8', '--val', '4', '--batch', '4', '--out', out];

test('schedule warnings: a warm-up longer than the run, validation never before the end', () => {
  assert.deepEqual(scheduleWarnings({ ...paperDefaults, warmupSteps: 100, maxSteps: 1000, valEvery: 10 }, false), []);
  assert.match(scheduleWarnings({ ...paperDefaults, warmupSteps: 1000, maxSteps: 50, valEvery: 10 }, false)[0], /warm-up \(1000 steps\) does not finish within --steps 50/);
  // Under --time-limit the steps reached are known only at the end (warned then).
  assert.deepEqual(scheduleWarnings({ ...paperDefaults, warmupSteps: 1000, maxSteps: 1_000_000, valEvery: 100 }, true), []);
  assert.match(scheduleWarnings({ ...paperDefaults, warmupSteps: 1, maxSteps: 50, valEvery: 100 }, false)[0], /--val-every 100 is more than --steps 50/);
});

test('finetune: scaled schedule by default; folders it did not make are left alone; resume needs the same data', () => {
  // Someone's folder: never written into, with or without --overwrite.
  const theirs = join(tmp, 'theirs');
  mkdirSync(theirs);
  writeFileSync(join(theirs, 'notes.txt'), 'mine');
  for (const extra of [[], ['--overwrite']]) {
    const r = runOreo([...base(theirs), '--steps', '4', ...extra]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /already holds files that oreo finetune did not write \(notes\.txt\); it is left alone/);
  }
  assert.equal(readFileSync(join(theirs, 'notes.txt'), 'utf8'), 'mine');
  assert.ok(!existsSync(join(theirs, 'run.json')));

  // A fresh run of 20 steps: warm-up 2 steps, validation every step (scaled from --steps).
  const out = join(tmp, 'run');
  const a = runOreo([...base(out), '--steps', '20']);
  assert.equal(a.status, 0, a.stderr);
  assert.doesNotMatch(a.stderr, /warning/);
  const log = readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(log.filter((e) => e.val_loss !== undefined).length, 20);
  assert.ok(log[0].lr < 1e-4 && Math.abs(log[1].lr - 1e-4) < 1e-12, `lr ${log[0].lr}, ${log[1].lr}: the warm-up is 2 steps`);
  assert.equal(JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')).madeBy, 'oreo finetune');

  // Its own folder: not started over without --overwrite.
  const again = runOreo([...base(out), '--steps', '20']);
  assert.equal(again.status, 1);
  assert.match(again.stderr, /already holds a oreo finetune run .*continue it with --resume, start it over with --overwrite/);

  // --resume with other data is refused; with the same data it continues.
  const other = join(dataDir, 'rmd17', 'rmd17_ethanol_test_01.npz');
  const bad = runOreo([...base(out, other), '--steps', '22', '--resume']);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /cannot resume with --data .*ethanol_test_01\.npz: the run in .* was trained on .*ethanol_train_01\.npz/);
  const ok = runOreo([...base(out), '--steps', '22', '--resume']);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stderr, /resuming from .* at step 20/);

  // A warm-up the run cannot finish is said before training.
  const w = runOreo([...base(join(tmp, 'w')), '--steps', '3', '--warmup', '50']);
  assert.equal(w.status, 0, w.stderr);
  assert.match(w.stderr, /warning: the warm-up \(50 steps\) does not finish within --steps 3/);
  assert.match(w.stderr, /warning: the run stopped at step 3 \(max-steps\), before its warm-up of 50 steps ended/);
});
