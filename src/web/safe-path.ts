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
 * normalising them, so a crafted name never reaches the file system. Any segment starting with
 * '.' (dotfiles, .git, .ssh, .env) is refused too, and so is a real path (after links) that has
 * one below the root.
 */
export function resolveInside(root: string, relative: string): string {
  if (relative.includes('\0')) throw new AccessRefused(400, 'NUL byte in path');
  if (relative.includes('\\')) throw new AccessRefused(403, 'backslash in path');
  if (isAbsolute(relative)) throw new AccessRefused(403, 'absolute path');
  const parts = relative.split('/').filter((s) => s !== '' && s !== '.');
  if (parts.some((s) => s === '..')) throw new AccessRefused(403, "'..' in path");
  if (parts.some((s) => s.startsWith('.'))) throw new AccessRefused(403, 'hidden files and folders are not served');
  const lexical = resolve(root, ...parts);
  if (!inside(root, lexical)) throw new AccessRefused(403, 'outside the served folders');
  let real: string;
  try {
    real = realpathSync(lexical);
  } catch {
    throw new AccessRefused(404, 'not found');
  }
  if (!inside(root, real)) throw new AccessRefused(403, 'a link that leads outside the served folders');
  if (hiddenBelow(root, real)) throw new AccessRefused(403, 'a link that leads to a hidden file or folder');
  return real;
}

function hiddenBelow(root: string, real: string): boolean {
  return real
    .slice(root.length)
    .split(sep)
    .some((s) => s.startsWith('.'));
}

/**
 * The real path of a run folder's own file `name` (trajectory.extxyz, log.jsonl, …), or null when
 * there is none. `dir` is the run folder's real path. A file that is a link leading out of the
 * folder, or to a hidden file, or that is not a regular file, is refused (403): the server reads
 * a run's files only through here, so no link in a run folder reaches the rest of the disk.
 */
export function runFile(dir: string, name: string): string | null {
  const lexical = resolve(dir, name);
  let real: string;
  try {
    real = realpathSync(lexical);
  } catch {
    return null;
  }
  if (!inside(dir, real) || hiddenBelow(dir, real)) throw new AccessRefused(403, `${name}: a link that leads outside the run folder`);
  if (!statSync(real).isFile()) throw new AccessRefused(403, `${name}: not a regular file`);
  return real;
}

/** runFile for listings: a refused or missing file is simply absent. */
export function runFileOrNull(dir: string, name: string): string | null {
  try {
    return runFile(dir, name);
  } catch {
    return null;
  }
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
