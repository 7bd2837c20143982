// Messages that used to be internal: a full disk or a read-only folder names the path; a
// partial last line in log.jsonl no longer blocks --resume; model and training settings out of
// their stated ranges are refused at once, naming the config file and the field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runMeasured, tempDir } from './files.js';
import { dataDir, repoRoot } from '../paths.js';
import { writeFileAtomic, appendText } from '../../src/io/atomic.js';
import { OutputError } from '../../src/errors.js';

const dir = tempDir('messages');
const model = join(repoRoot, 'models', 'oreo-pretrained-small.oreo');
const aspirin = join(dataDir, 'md17', 'md17_aspirin_nequip_15frames.xyz');
const ethanol = join(dataDir, 'rmd17', 'rmd17_ethanol_train_01.npz');

function fails(args: string[], pattern: RegExp): string {
  const r = runMeasured(args, { timeout: 60_000 });
  assert.equal(r.status, 1, `${args.join(' ')}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  assert.match(r.stderr, pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at |run with --debug/);
  assert.ok(r.maxRssMB < 1536, `peak ${r.maxRssMB.toFixed(0)} MB`);
  return r.stderr;
}

test('a full disk (ENOSPC) and a folder the process may not write name the path', () => {
  // /dev/full answers every write with ENOSPC: the real error, from the kernel.
  fails(['predict', '--model', model, '--input', aspirin, '--frames', '0', '--out', '/dev/full'], /oreo predict: error: \/dev\/full: cannot write \(ENOSPC: no space left on the device\)/);
  assert.throws(() => appendText('/dev/full', 'x\n'), (e: Error) => e instanceof OutputError && /^\/dev\/full: cannot write \(ENOSPC/.test(e.message));
  // sysfs refuses new files even to root: EACCES (a read-only mount gives EROFS the same way).
  if (existsSync('/sys/kernel')) {
    fails(['predict', '--model', model, '--input', aspirin, '--frames', '0', '--out', '/sys/kernel/oreo-test.json'], /\/sys\/kernel\/oreo-test\.json: cannot write \((EACCES|EROFS|EPERM)/);
    assert.throws(() => writeFileAtomic('/sys/kernel/oreo-test.json', 'x'), OutputError);
    assert.deepEqual(readdirSync('/sys/kernel').filter((n) => n.startsWith('oreo-test')), [], 'no temporary sibling left');
  }
});

function config(name: string, model: Record<string, unknown>, training: Record<string, unknown> = {}): string {
  const f = join(dir, name);
  writeFileSync(f, JSON.stringify({ data: { sources: [{ name: 'eth', kind: 'off-equilibrium', path: ethanol, cap: 8 }] }, model, training, out: join(dir, `run-${name}`) }));
  return f;
}

test('pretrain configs out of range are refused at once, naming the file and the field, with the range', () => {
  for (const [name, m, t, re] of [
    ['neg-dim.json', { embedding_dimension: -16 }, {}, /field 'embedding_dimension': embedding_dimension = -16: expected an integer from 2 to 2048/],
    ['layers-1e9.json', { num_layers: 1e9 }, {}, /field 'num_layers': num_layers = 1000000000: expected an integer from 1 to 64/],
    ['layers-1e7.json', { num_layers: 1e7 }, {}, /field 'num_layers': num_layers = 10000000/],
    ['cutoff.json', { cutoff_upper: 'far' }, {}, /field 'cutoff_upper': cutoff_upper = "far": expected a number from 0.1 to 50/],
    ['batch.json', {}, { batchSize: 1e7 }, /field 'training\.batchSize': batchSize = 10000000 is beyond the largest accepted, 65536/],
  ] as const) {
    const f = config(name, m, t);
    const err = fails(['pretrain', '--config', f], re);
    assert.ok(err.includes(f), err);
  }
});

test('an architecture file for finetune with a negative size is refused naming it', () => {
  const arch = join(dir, 'arch.json');
  writeFileSync(arch, JSON.stringify({ embedding_dimension: -16, num_layers: 1 }));
  const err = fails(['finetune', '--from', arch, '--data', ethanol, '--train', '4', '--val', '2', '--out', join(dir, 'ft-neg')], /field 'embedding_dimension'/);
  assert.ok(err.includes(arch));
});

test('a partial last line in log.jsonl is dropped with a warning on --resume; a damaged middle line is named', () => {
  const arch = join(dir, 'tiny.json');
  writeFileSync(arch, JSON.stringify({ embedding_dimension: 8, num_layers: 1, num_rbf: 4, num_heads: 2, cutoff_upper: 4, precision: 64 }));
  const out = join(dir, 'ft-resume');
  const args = ['finetune', '--from', arch, '--data', ethanol, '--train', '6', '--val', '2', '--batch', '2', '--warmup', '1', '--val-every', '2', '--out', out, '--seed', '1'];
  const first = runMeasured([...args, '--steps', '4'], { timeout: 60_000 });
  assert.equal(first.status, 0, first.stderr);
  const log = join(out, 'log.jsonl');
  // A run killed while writing leaves half a line.
  appendFileSync(log, '{"step":5,"loss":0.12');
  const resumed = runMeasured([...args, '--steps', '6', '--resume'], { timeout: 60_000 });
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stderr, /log\.jsonl: dropped its partial last line/);
  const rows = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: number });
  assert.ok(rows.length > 0 && rows.every((r) => typeof r.step === 'number'));
  assert.equal(rows[rows.length - 1].step, 6);
  // A damaged line that is not the last is not silently dropped.
  const lines = readFileSync(log, 'utf8').split('\n');
  lines[0] = lines[0].slice(0, 5);
  writeFileSync(log, lines.join('\n'));
  const err = fails([...args, '--steps', '8', '--resume'], /log\.jsonl, record 1: line 1 is not JSON/);
  assert.ok(err.includes(log));
});
