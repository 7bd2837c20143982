/**
 * Write a file so that a crash never leaves a half-written checkpoint or trajectory behind:
 * write a temporary sibling, flush it, then rename it over the target (atomic on POSIX).
 */
import { openSync, writeSync, fsyncSync, closeSync, renameSync, rmSync, appendFileSync, statSync, writeFileSync } from 'node:fs';
import { writeFailed } from '../errors.js';

/**
 * A full disk (ENOSPC), a read-only folder (EROFS) or a missing permission is an OutputError
 * naming `path`; the target is untouched and no temporary sibling is left behind.
 */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  // A device or pipe (/dev/stdout, a FIFO) has no sibling to rename over: write into it directly.
  if (isSpecialFile(path)) {
    try {
      writeFileSync(path, data);
    } catch (e) {
      writeFailed(path, e);
    }
    return;
  }
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  writeFileAtomicWith(path, (fd) => {
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
  });
}

/**
 * Write `path` piece by piece through a file descriptor of its temporary sibling (frames as they
 * are made, without holding the whole file); flushed to disk, then renamed over `path`.
 * Whatever `write` returns is returned; what it throws leaves `path` untouched, a file-system
 * error becoming an OutputError naming `path`.
 */
export function writeFileAtomicWith<T>(path: string, write: (fd: number) => T): T {
  return replaceFile(path, (tmp) => {
    try {
      const fd = openSync(tmp, 'w');
      try {
        const out = write(fd);
        fsyncSync(fd);
        return out;
      } finally {
        closeSync(fd);
      }
    } catch (e) {
      writeFailed(path, e);
    }
  });
}

/**
 * Make `path` through a temporary sibling that `fill` creates by any means (a stream, a library
 * that takes a file name). When `fill` returns, the sibling is renamed over `path`; when it
 * throws, the sibling is removed, `path` is untouched and the error passes through as it is
 * (`fill` may read other files too, so it names its own errors). A failed rename is an
 * OutputError naming `path`.
 */
export function replaceFile<T>(path: string, fill: (tmp: string) => T): T {
  const tmp = siblingOf(path);
  let out: T;
  try {
    out = fill(tmp);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  commit(tmp, path);
  return out;
}

/** `replaceFile` for a `fill` that writes asynchronously (a write stream). */
export async function replaceFileAsync<T>(path: string, fill: (tmp: string) => Promise<T>): Promise<T> {
  const tmp = siblingOf(path);
  let out: T;
  try {
    out = await fill(tmp);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  commit(tmp, path);
  return out;
}

function siblingOf(path: string): string {
  return `${path}.tmp-${process.pid}-${Date.now()}`;
}

function commit(tmp: string, path: string): void {
  try {
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    writeFailed(path, e);
  }
}

/** Append text to a log, naming the file when the disk refuses. */
export function appendText(path: string, text: string): void {
  try {
    appendFileSync(path, text);
  } catch (e) {
    writeFailed(path, e);
  }
}

function isSpecialFile(path: string): boolean {
  try {
    const st = statSync(path);
    return st.isCharacterDevice() || st.isFIFO() || st.isSocket();
  } catch {
    return false;
  }
}
