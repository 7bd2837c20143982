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
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  let fd: number;
  try {
    fd = openSync(tmp, 'w');
  } catch (e) {
    writeFailed(path, e);
  }
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    writeFailed(path, e);
  }
  closeSync(fd);
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
