// The one temp-and-rename writer: what a failed write leaves behind (nothing), what a good one does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { replaceFile, replaceFileAsync, writeFileAtomic, writeFileAtomicWith } from '../../src/io/atomic.js';
import { OutputError } from '../../src/errors.js';

const fresh = () => mkdtempSync(join(tmpdir(), 'oreo-atomic-'));

test('a write that throws leaves the old file and no sibling; one that returns replaces it', async () => {
  const dir = fresh();
  const path = join(dir, 'out.txt');
  writeFileSync(path, 'old');
  assert.throws(() => writeFileAtomicWith(path, (fd) => { writeSync(fd, 'half'); throw new Error('stopped'); }), /stopped/);
  assert.throws(() => replaceFile(path, (tmp) => { writeFileSync(tmp, 'half'); throw new Error('refused'); }), /refused/);
  await assert.rejects(replaceFileAsync(path, async (tmp) => { writeFileSync(tmp, 'half'); throw new Error('late'); }), /late/);
  assert.equal(readFileSync(path, 'utf8'), 'old');
  assert.deepEqual(readdirSync(dir), ['out.txt']);
  assert.equal(writeFileAtomicWith(path, (fd) => writeSync(fd, 'new')), 3);
  assert.equal(readFileSync(path, 'utf8'), 'new');
  assert.equal(await replaceFileAsync(path, async (tmp) => { writeFileSync(tmp, 'newer'); return 7; }), 7);
  writeFileAtomic(join(dir, 'b.bin'), new Uint8Array([1, 2, 3]));
  assert.deepEqual([...readFileSync(join(dir, 'b.bin'))], [1, 2, 3]);
  assert.deepEqual(readdirSync(dir).sort(), ['b.bin', 'out.txt']);
  assert.equal(readFileSync(path, 'utf8'), 'newer');
});

test('a file-system error names the target', () => {
  const path = join(fresh(), 'no-such-folder', 'out.txt');
  assert.throws(() => writeFileAtomic(path, 'x'), (e: unknown) => e instanceof OutputError && e.message.includes(path));
  assert.throws(() => writeFileAtomicWith(path, () => 0), (e: unknown) => e instanceof OutputError && e.message.includes(path));
});
