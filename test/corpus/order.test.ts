import { test } from 'node:test';
import assert from 'node:assert/strict';
import { interleaveBySource } from '../../src/corpus/build.js';

test('jobs of every source are spread over the run in proportion, each source in its own order', () => {
  const items = [
    ...Array.from({ length: 90 }, (_, i) => `qm9:${i}`),
    ...Array.from({ length: 9 }, (_, i) => `pcqm:${i}`),
    ...Array.from({ length: 3 }, (_, i) => `polymers:${i}`),
  ];
  const order = interleaveBySource(items, (s) => s.split(':')[0]);
  assert.equal(order.length, items.length);
  assert.deepEqual([...order].sort(), [...items].sort());
  for (const src of ['qm9', 'pcqm', 'polymers']) {
    const own = order.filter((s) => s.startsWith(`${src}:`)).map((s) => Number(s.split(':')[1]));
    assert.deepEqual(own, [...own].sort((a, b) => a - b), `${src} keeps its order`);
  }
  // Any prefix holds each source in proportion (within one job).
  for (const cut of [10, 34, 51, 77]) {
    const prefix = order.slice(0, cut);
    for (const [src, n] of [['qm9', 90], ['pcqm', 9], ['polymers', 3]] as const) {
      const have = prefix.filter((s) => s.startsWith(`${src}:`)).length;
      assert.ok(Math.abs(have - (cut * n) / items.length) <= 1.01, `${src} in the first ${cut}: ${have}`);
    }
  }
});
