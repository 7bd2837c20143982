// Run the real `oreo` command in a child process: the compiled bin/oreo.js when the tests run
// from dist/, or the TypeScript sources through tsx during development.
import { spawnSync, SpawnSyncReturns } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './paths.js';

/** The node arguments that run `oreo ARGS`, for tests that spawn it asynchronously. */
export function oreoArgv(args: string[]): string[] {
  const compiled = import.meta.url.includes('/dist/');
  const entry = compiled ? join(repoRoot, 'bin', 'oreo.js') : join(repoRoot, 'scripts', 'oreo-dev.mjs');
  return [...(compiled ? [] : ['--import', 'tsx']), entry, ...args];
}

export function runOreo(args: string[], options: { cwd?: string; env?: Record<string, string>; timeout?: number } = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, oreoArgv(args), {
    encoding: 'utf8',
    cwd: options.cwd ?? repoRoot,
    env: { ...process.env, ...(options.env ?? {}) },
    timeout: options.timeout ?? 120_000,
  });
}
