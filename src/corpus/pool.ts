/**
 * The embedded executor: N local worker processes (child.ts, forked), no server. Each process
 * takes the next job when it finishes one. A process that dies mid-job (killed, out of memory)
 * is replaced and its job tried again, up to `attempts` times in all; a job that throws (an
 * installation problem, a bug: molecule-level failures are results, not errors) stops the build.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { OreoError } from '../errors.js';
import type { MoleculeJob } from './job.js';
import type { StoredJob } from './store.js';

// From the compiled tree child.js sits beside this file; run from sources (tsx) it is child.ts,
// and fork passes the tsx loader on through execArgv.
const CHILD = ((js) => (existsSync(js) ? js : js.replace(/\.js$/, '.ts')))(fileURLToPath(new URL('./child.js', import.meta.url)));

export interface PoolOptions {
  workers: number;
  /** Tries per job when its process dies (default 3). */
  attempts?: number;
  onResult(stored: StoredJob): void;
  signal?: AbortSignal;
}

export async function runPool(jobs: MoleculeJob[], o: PoolOptions): Promise<void> {
  if (!Number.isInteger(o.workers) || o.workers < 1) throw new OreoError(`workers must be an integer ≥ 1, got ${o.workers}`);
  const attempts = o.attempts ?? 3;
  const queue = [...jobs];
  const tries = new Map<string, number>();
  const children = new Set<ChildProcess>();
  let failure: Error | undefined;
  await new Promise<void>((resolve) => {
    let running = 0;
    const finish = () => {
      if (running === 0 && (queue.length === 0 || failure || o.signal?.aborted)) resolve();
    };
    const start = () => {
      const child = fork(CHILD, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
      children.add(child);
      let current: MoleculeJob | undefined;
      const next = () => {
        current = failure || o.signal?.aborted ? undefined : queue.shift();
        if (!current) {
          children.delete(child);
          child.disconnect();
          running--;
          finish();
          return;
        }
        tries.set(current.key, (tries.get(current.key) ?? 0) + 1);
        child.send({ job: current });
      };
      child.on('message', (msg: { key: string; stored?: StoredJob; error?: string }) => {
        if (msg.error !== undefined) failure ??= new OreoError(`molecule job ${msg.key.slice(0, 12)}… failed: ${msg.error}`);
        else {
          try {
            o.onResult(msg.stored!);
          } catch (err) {
            failure ??= err as Error;
          }
        }
        next();
      });
      child.on('exit', (code, signal) => {
        if (!children.has(child)) return;
        children.delete(child);
        running--;
        if (current) {
          const n = tries.get(current.key) ?? 1;
          if (n >= attempts) failure ??= new OreoError(`molecule job ${current.key.slice(0, 12)}…: its worker process died ${n} times (${signal ?? `exit ${code}`})`);
          else queue.unshift(current);
        }
        if (!failure && !o.signal?.aborted && queue.length > 0) {
          running++;
          start();
        } else finish();
      });
      next();
    };
    const n = Math.min(o.workers, queue.length);
    running = n;
    for (let i = 0; i < n; i++) start();
    if (n === 0) resolve();
    o.signal?.addEventListener('abort', () => {
      for (const c of children) c.kill('SIGTERM');
    });
  });
  if (failure) throw failure;
}
