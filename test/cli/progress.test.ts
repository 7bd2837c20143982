// Progress output: redrawn in place on a terminal, whole lines at a modest rate into a log file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ProgressPrinter } from '../../src/cli/progress.js';
import { runOreo } from '../cli.js';
import { dataDir, repoRoot } from '../paths.js';

/** A stream that records what is written to it; isTTY as given. */
function sink(isTTY: boolean) {
  const chunks: string[] = [];
  return { chunks, stream: { isTTY, write: (s: string | Uint8Array) => (chunks.push(String(s)), true) } };
}

test('into a log: whole lines, every 10 % or 10 s, and the final one', () => {
  const { chunks, stream } = sink(false);
  let now = 0;
  const printer = new ProgressPrinter({ stream, now: () => now });
  const total = 500;
  for (let done = 1; done <= total; done++) {
    now += 1; // 1 ms per report: the time rule never fires, the 10 % rule does
    printer.update(`evaluated ${done}/${total}`, { fraction: done / total, final: done === total });
  }
  assert.ok(chunks.every((c) => c.endsWith('\n') && !c.includes('\r')), JSON.stringify(chunks.slice(0, 3)));
  assert.deepEqual(chunks, ['evaluated 1/500\n', ...[51, 101, 151, 201, 251, 301, 351, 401, 451].map((d) => `evaluated ${d}/500\n`), 'evaluated 500/500\n']);

  // Without a fraction, time alone decides: one line per 10 s.
  const log = sink(false);
  const timed = new ProgressPrinter({ stream: log.stream, now: () => now });
  now = 0;
  for (let i = 0; i < 100; i++) {
    timed.update(`${i} conformations`);
    now += 1000;
  }
  assert.deepEqual(log.chunks, [0, 10, 20, 30, 40, 50, 60, 70, 80, 90].map((i) => `${i} conformations\n`));
});

test('on a terminal: redrawn in place, the final report ends the line', () => {
  const { chunks, stream } = sink(true);
  const printer = new ProgressPrinter({ stream });
  printer.update('step 10/20');
  printer.update('step 20/20 done', { final: true });
  assert.deepEqual(chunks, ['\rstep 10/20', '\rstep 20/20 done', '\n']);
});

test('oreo eval into a file writes newline-terminated progress lines, no carriage returns', () => {
  const model = join(repoRoot, 'models', 'oreo-aspirin-et4x64.oreo');
  const r = runOreo(['eval', '--model', model, '--data', join(dataDir, 'rmd17', 'rmd17_aspirin_test_01.npz'), '--limit', '40', '--batch', '2']);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(!r.stderr.includes('\r'), JSON.stringify(r.stderr.slice(0, 200)));
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('evaluated'));
  // 20 reports (batches of 2): the first, one per 10 %, the final.
  assert.ok(lines.length >= 3 && lines.length <= 12, JSON.stringify(lines));
  assert.match(lines[lines.length - 1], /^evaluated 40\/40 \(\d+(\.\d)? conf\/s\)$/);
});
