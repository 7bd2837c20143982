/**
 * Finished jobs on disk: `DIR/jobs/<first two hex digits>/<key>.json.gz`, one file per molecule
 * job, holding `{ result, run }` (run: where and how long; not part of the result). Written to a
 * temp sibling and renamed, so a file that exists is complete: a build that stops loses at most
 * the jobs that were running, and a rerun skips every key that has a file.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../io/atomic.js';
import { dirname, join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { InputError } from '../errors.js';
import type { JobResult, JobRun } from './job.js';

export const JOBS_DIR = 'jobs';

export interface StoredJob {
  result: JobResult;
  run?: JobRun;
  /** Set when the job was read back from a committed job archive (archive.ts), whose positions
   *  and forces are at its precision: a corpus assembled from it at a finer one is refused. */
  archived?: { archive: string; part: string; precision: 'f32' | 'f64' };
}

export function jobPath(dir: string, key: string): string {
  return join(dir, JOBS_DIR, key.slice(0, 2), `${key}.json.gz`);
}

export function hasJob(dir: string, key: string): boolean {
  return existsSync(jobPath(dir, key));
}

export function writeJob(dir: string, stored: StoredJob): void {
  const path = jobPath(dir, stored.result.key);
  mkdirSync(dirname(path), { recursive: true });
  // Level 6 and no timestamp in the gzip header: the same result gives the same bytes.
  writeFileAtomic(path, gzipSync(JSON.stringify(stored), { level: 6 }));
}

export function readJob(dir: string, key: string): StoredJob {
  const path = jobPath(dir, key);
  let stored: StoredJob;
  try {
    stored = JSON.parse(gunzipSync(readFileSync(path)).toString('utf8')) as StoredJob;
  } catch (err) {
    throw new InputError(path, `unreadable job result (${(err as Error).message}); delete it and resume to redo that molecule`);
  }
  if (stored.result?.format !== 'oreo-corpus-job' || stored.result.key !== key) {
    throw new InputError(path, 'not the result of this job (format or key differ); delete it and resume to redo that molecule');
  }
  return stored;
}
