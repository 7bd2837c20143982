/**
 * Confining file access to the folders `oreo serve` was given. A request names a file relative to
 * one of those roots; it is refused unless the lexical path and, after following symbolic links,
 * the real path both stay inside the (real) root.
 */
import { realpathSync, statSync } from 'node:fs';
import { isAbsolute, resolve, sep } from 'node:path';

/** A refusal with the HTTP status it maps to: 403 for an escape attempt, 404 for a missing file. */
export class AccessRefused extends Error {
  constructor(
    readonly status: 400 | 403 | 404,
    message: string,
  ) {
    super(message);
    this.name = 'AccessRefused';
  }
}

function inside(root: string, p: string): boolean {
  return p === root || p.startsWith(root.endsWith(sep) ? root : root + sep);
}

/**
 * The real path of `relative` under `root` (itself a real, absolute path). Refuses empty segments
 * that make absolute paths, `..` segments, NUL bytes and backslashes outright (403) rather than
 * normalising them, so a crafted name never reaches the file system.
 */
export function resolveInside(root: string, relative: string): string {
  if (relative.includes('\0')) throw new AccessRefused(400, 'NUL byte in path');
  if (relative.includes('\\')) throw new AccessRefused(403, 'backslash in path');
  if (isAbsolute(relative)) throw new AccessRefused(403, 'absolute path');
  const parts = relative.split('/').filter((s) => s !== '' && s !== '.');
  if (parts.some((s) => s === '..')) throw new AccessRefused(403, "'..' in path");
  const lexical = resolve(root, ...parts);
  if (!inside(root, lexical)) throw new AccessRefused(403, 'outside the served folders');
  let real: string;
  try {
    real = realpathSync(lexical);
  } catch {
    throw new AccessRefused(404, 'not found');
  }
  if (!inside(root, real)) throw new AccessRefused(403, 'a link that leads outside the served folders');
  return real;
}

/** Like resolveInside, and the result must be a regular file. */
export function fileInside(root: string, relative: string): string {
  const p = resolveInside(root, relative);
  if (!statSync(p).isFile()) throw new AccessRefused(404, 'not a file');
  return p;
}

/** Like resolveInside, and the result must be a directory. */
export function dirInside(root: string, relative: string): string {
  const p = resolveInside(root, relative);
  if (!statSync(p).isDirectory()) throw new AccessRefused(404, 'not a folder');
  return p;
}

/** The real path of a folder to serve; refuses what is not an existing directory. */
export function realRoot(dir: string): string {
  let real: string;
  try {
    real = realpathSync(resolve(dir));
  } catch {
    throw new AccessRefused(404, `${dir}: folder not found`);
  }
  if (!statSync(real).isDirectory()) throw new AccessRefused(404, `${dir}: not a folder`);
  return real;
}
