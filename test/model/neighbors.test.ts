import { test } from 'node:test';
import assert from 'node:assert/strict';
import { neighborPairs } from '../../src/model/neighbors.js';

function bruteForce(pos: Float64Array, mol: Int32Array, cutoff: number): Set<string> {
  const out = new Set<string>();
  const n = mol.length;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (i === j || mol[i] !== mol[j]) continue;
      const d = Math.hypot(pos[3 * i] - pos[3 * j], pos[3 * i + 1] - pos[3 * j + 1], pos[3 * i + 2] - pos[3 * j + 2]);
      if (d < cutoff) out.add(`${j}>${i}`);
    }
  }
  return out;
}

test('cell list finds exactly the pairs a direct search finds (large and small molecules, batched)', () => {
  let s = 17;
  const r = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const sizes = [300, 12, 90];
  const n = sizes.reduce((a, b) => a + b, 0);
  const pos = new Float64Array(3 * n);
  const mol = new Int32Array(n);
  let o = 0;
  sizes.forEach((k, m) => {
    for (let a = 0; a < k; a++, o++) {
      mol[o] = m;
      // An elongated cloud: 40 × 12 × 12 Å, about polymer-like density.
      pos[3 * o] = 40 * r();
      pos[3 * o + 1] = 12 * r();
      pos[3 * o + 2] = 12 * r();
    }
  });
  const pairs = neighborPairs(pos, mol, 5);
  const got = new Set<string>();
  for (let e = 0; e < pairs.src.length; e++) got.add(`${pairs.src[e]}>${pairs.tgt[e]}`);
  assert.equal(got.size, pairs.src.length, 'no duplicate pairs');
  assert.deepEqual(got, bruteForce(pos, mol, 5));
});

test('coincident atoms are refused rather than producing NaN', () => {
  assert.throws(() => neighborPairs(Float64Array.from([0, 0, 0, 0, 0, 0]), Int32Array.from([0, 0]), 5), /same position/);
});
