/**
 * What makes two conformations "the same" for splits and leak checks:
 *  - the file they came from, by content (sha256), plus their index there — exact, and immune to
 *    renaming or moving the file;
 *  - their geometry: elements in order and positions rounded to 1e-4 Å — catches the same frame
 *    stored in two files (MD17 vs rMD17, an xyz export of an npz, float32 vs float64 copies).
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import type { Conformation } from './conformation.js';

const cache = new Map<string, { size: number; mtimeMs: number; sha256: string }>();

/** sha256 (hex) of a file's bytes, streamed; of a directory, of its sorted entries' names and hashes. */
export function contentHash(path: string): string {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new InputError(path, 'no such file or directory (needed for its content hash)');
  }
  const hit = cache.get(path);
  if (hit && hit.size === st.size && hit.mtimeMs === st.mtimeMs) return hit.sha256;
  const h = createHash('sha256');
  if (st.isDirectory()) {
    for (const name of readdirSync(path).sort()) {
      const p = join(path, name);
      if (!statSync(p).isFile()) continue;
      h.update(name + '\0' + contentHash(p) + '\n');
    }
  } else {
    const fd = openSync(path, 'r');
    try {
      const buf = Buffer.alloc(1 << 20);
      let n: number;
      while ((n = readSync(fd, buf, 0, buf.length, null)) > 0) h.update(buf.subarray(0, n));
    } finally {
      closeSync(fd);
    }
  }
  const sha256 = h.digest('hex');
  cache.set(path, { size: st.size, mtimeMs: st.mtimeMs, sha256 });
  return sha256;
}

/** Rounding grid of geometry keys, Å. Coarse enough for float32 copies, far finer than MD steps. */
export const GEOMETRY_GRID = 1e-4;

/** 64-bit geometry fingerprint (16 hex digits) of elements and rounded positions. */
export function geometryKey(c: Pick<Conformation, 'z' | 'positions'>): string {
  const n = c.z.length;
  const buf = Buffer.alloc(4 + n * 4 + n * 3 * 8);
  buf.writeInt32LE(n, 0);
  let o = 4;
  for (let a = 0; a < n; a++, o += 4) buf.writeInt32LE(c.z[a], o);
  for (let k = 0; k < n * 3; k++, o += 8) {
    // +0 folds −0 into 0, so that a coordinate rounding to zero from either side agrees.
    buf.writeDoubleLE(Math.round(c.positions[k] / GEOMETRY_GRID) + 0, o);
  }
  return createHash('sha256').update(buf).digest('hex').slice(0, 16);
}

/** "sha256:index", the exact identity of a conformation inside a file. */
export function recordKey(sourceSha256: string, index: number): string {
  return `${sourceSha256}:${index}`;
}
