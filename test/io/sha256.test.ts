// The plain TypeScript SHA-256 (what the browser verifies model files with) against Node's crypto
// (what Node verifies them with): the same digest for every length around the 64-byte blocks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Sha256 } from '../../src/io/sha256.js';

test('plain SHA-256 equals node:crypto, in one piece and in parts', () => {
  const data = new Uint8Array(1000);
  let x = 12345;
  for (let i = 0; i < data.length; i++) data[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
  for (const n of [0, 1, 55, 56, 63, 64, 65, 119, 128, 999]) {
    const piece = data.subarray(0, n);
    const expected = createHash('sha256').update(piece).digest('hex');
    assert.equal(new Sha256().update(piece).hex(), expected, `${n} bytes`);
    const cut = Math.floor(n / 3);
    assert.equal(new Sha256().update(piece.subarray(0, cut)).update(piece.subarray(cut)).hex(), expected, `${n} bytes in two parts`);
  }
  assert.equal(new Sha256().update(new TextEncoder().encode('abc')).hex(), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});
