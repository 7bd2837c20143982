/**
 * Where the sample data shipped with oreo lives (`data/` at the package root), found from this
 * module's own location so it works from src/ (tsx) and from dist/ alike.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/** The package root: the nearest ancestor directory whose package.json is oreo's. */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        if ((JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === 'oreo') return (root = dir);
      } catch {
        /* not ours; keep looking */
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the oreo package root (package.json) above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

/** Path of a bundled data file, e.g. bundledData('rmd17', 'rmd17_aspirin_train_01.npz'). */
export function bundledData(...parts: string[]): string {
  return join(packageRoot(), 'data', ...parts);
}

/** Path of a model shipped in `models/`, e.g. bundledModel('oreo-aspirin-et4x64.oreo'). */
export function bundledModel(file: string): string {
  return join(packageRoot(), 'models', file);
}
