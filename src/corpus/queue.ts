/**
 * The distributed executor: the same molecule jobs on a BullMQ queue in Redis.
 *
 * - `oreo corpus build --queue redis://HOST:PORT` adds every job whose result file is missing,
 *   with the job's key as BullMQ job id (adding a key twice is a no-op), then collects finished
 *   jobs: it writes each result to the output directory and removes the job from Redis.
 * - `oreo worker --queue redis://HOST:PORT`, on any number of machines, works jobs off with
 *   BullMQ's sandboxed processors (bull-processor.ts; one child process per concurrent job). A
 *   worker that dies leaves its jobs' locks to expire; BullMQ's stalled-job check moves them back
 *   to the wait list and another worker takes them.
 * - Stopping the builder loses nothing: finished jobs stay in Redis until collected, and a rerun
 *   re-adds only what has neither a result file nor a job in Redis. Jobs that failed for good
 *   (a worker's installation broken) are retried on the next run.
 * Results do not depend on which worker ran a job (job.ts), so the corpus is the same however the
 * work was spread.
 */
import { fileURLToPath } from 'node:url';
import { Queue, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { OreoError } from '../errors.js';
import type { MoleculeJob } from './job.js';
import type { StoredJob } from './store.js';

export const DEFAULT_QUEUE_NAME = 'oreo-corpus';
const PROCESSOR = fileURLToPath(new URL('./bull-processor.js', import.meta.url));

/** `redis://[:password@]host:port[/db]` → ioredis connection options. */
export function parseRedisUrl(url: string): ConnectionOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new OreoError(`--queue ${url}: not a URL; expected redis://HOST:PORT`);
  }
  if (u.protocol !== 'redis:') throw new OreoError(`--queue ${url}: expected a redis://HOST:PORT address`);
  const port = u.port ? Number(u.port) : 6379;
  const db = u.pathname && u.pathname !== '/' ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new OreoError(`--queue ${url}: database '${u.pathname.slice(1)}' is not a number`);
  return {
    host: u.hostname || '127.0.0.1',
    port,
    db,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    username: u.username ? decodeURIComponent(u.username) : undefined,
    // BullMQ workers block on Redis; ioredis must not give up on a slow command.
    maxRetriesPerRequest: null,
  };
}

/**
 * Fail fast, with the address in the message, when Redis cannot be reached: BullMQ's own clients
 * retry for ever (right for a worker whose Redis restarts, wrong for a typo in --queue).
 */
export async function checkRedis(url: string): Promise<void> {
  const options = parseRedisUrl(url) as Record<string, unknown>;
  const client = new Redis({ ...options, lazyConnect: true, connectTimeout: 5000, maxRetriesPerRequest: 1, retryStrategy: () => null });
  let cause = '';
  client.on('error', (err: Error) => (cause ||= err.message));
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    throw new OreoError(`cannot reach Redis at ${url}: ${cause || (err as Error).message} (is redis-server running there?)`);
  } finally {
    client.disconnect();
  }
}

export interface CollectProgress {
  collected: number;
  pending: number;
  waiting: number;
  active: number;
}

export interface QueueBuildOptions {
  url: string;
  name?: string;
  /** Tries per job before it counts as failed for this run (default 5). */
  attempts?: number;
  onResult(stored: StoredJob): void;
  onProgress?(p: CollectProgress): void;
  /** Poll interval, ms (default 500). */
  pollMs?: number;
  signal?: AbortSignal;
}

/** Put `jobs` on the queue and collect their results; returns when all are collected. */
export async function runOnQueue(jobs: MoleculeJob[], o: QueueBuildOptions): Promise<void> {
  await checkRedis(o.url);
  const connection = parseRedisUrl(o.url);
  const queue = new Queue<MoleculeJob, StoredJob>(o.name ?? DEFAULT_QUEUE_NAME, { connection });
  const pending = new Set(jobs.map((j) => j.key));
  let collected = 0;
  try {
    await queue.waitUntilReady().catch((err: Error) => {
      throw new OreoError(`cannot reach Redis at ${o.url}: ${err.message}`);
    });
    const attempts = o.attempts ?? 5;
    for (let i = 0; i < jobs.length; i += 500) {
      await queue.addBulk(
        jobs.slice(i, i + 500).map((job) => ({
          name: 'molecule',
          data: job,
          opts: { jobId: job.key, attempts, backoff: { type: 'fixed', delay: 2000 }, removeOnComplete: false, removeOnFail: false },
        })),
      );
    }
    // Jobs that failed for good in an earlier run keep their id, so adding them was a no-op: retry.
    for (const job of await queue.getJobs(['failed'])) if (job && pending.has(job.id!)) await job.retry('failed');
    while (pending.size > 0) {
      if (o.signal?.aborted) throw new OreoError('stopped; rerun the same command to continue (finished jobs wait in Redis)');
      // Page through the finished jobs; only this build's are collected and removed, so two
      // builds may share a queue (each leaves the other's results alone).
      let got = 0;
      for (let start = 0; ; start += 500) {
        const page = (await queue.getJobs(['completed'], start, start + 499)) as (Job<MoleculeJob, StoredJob> | undefined)[];
        for (const job of page) {
          if (!job || !pending.has(job.id!) || !job.returnvalue) continue;
          o.onResult(job.returnvalue);
          pending.delete(job.id!);
          collected++;
          got++;
          await job.remove().catch(() => undefined);
        }
        if (page.length < 500) break;
      }
      const failed = (await queue.getJobs(['failed'])) as (Job<MoleculeJob, StoredJob> | undefined)[];
      const dead = failed.find((j) => j && pending.has(j.id!) && j.attemptsMade >= attempts);
      if (dead) {
        throw new OreoError(
          `molecule job ${dead.id!.slice(0, 12)}… failed on the workers ${dead.attemptsMade} times: ${dead.failedReason}; ` +
            `fix the workers and rerun the same command (it retries failed jobs)`,
        );
      }
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
      o.onProgress?.({ collected, pending: pending.size, waiting: counts.waiting + counts.delayed + counts.prioritized, active: counts.active });
      if (got === 0 && pending.size > 0) await new Promise((r) => setTimeout(r, o.pollMs ?? 500));
    }
  } finally {
    await queue.close();
  }
}

export interface QueueWorkerOptions {
  url: string;
  name?: string;
  /** Jobs at once on this machine, each in its own process (default 1). */
  concurrency?: number;
  /**
   * Seconds a job's lock lives without renewal (default 30). A killed worker's jobs return to
   * the queue after about this long; shorter means faster recovery and more Redis traffic.
   */
  lockSeconds?: number;
  log?(message: string): void;
  signal?: AbortSignal;
}

/** Work jobs off the queue until `signal` aborts. Resolves after a clean close. */
export async function runQueueWorker(o: QueueWorkerOptions): Promise<{ completed: number; failed: number }> {
  await checkRedis(o.url);
  const connection = parseRedisUrl(o.url);
  const lockMs = Math.round((o.lockSeconds ?? 30) * 1000);
  if (!(lockMs >= 1000)) throw new OreoError(`lock time must be at least 1 s, got ${o.lockSeconds}`);
  const worker = new Worker<MoleculeJob, StoredJob>(o.name ?? DEFAULT_QUEUE_NAME, PROCESSOR, {
    connection,
    concurrency: o.concurrency ?? 1,
    useWorkerThreads: false,
    lockDuration: lockMs,
    stalledInterval: lockMs,
    // A job may be orphaned more than once (several workers killed); it is idempotent, so retry.
    maxStalledCount: 10,
  });
  let completed = 0;
  let failed = 0;
  worker.on('active', (job) => o.log?.(`start ${job.id!.slice(0, 12)}…`));
  worker.on('completed', (job) => {
    completed++;
    o.log?.(`done ${job.id!.slice(0, 12)}… (${job.returnvalue?.result.conformations.length ?? 0} conformations, ${job.returnvalue?.run?.seconds.toFixed(1)} s)`);
  });
  worker.on('failed', (job, err) => {
    failed++;
    o.log?.(`failed ${job?.id?.slice(0, 12)}…: ${err.message}`);
  });
  worker.on('error', (err) => o.log?.(`worker error: ${err.message}`));
  await worker.waitUntilReady().catch((err: Error) => {
    throw new OreoError(`cannot reach Redis at ${o.url}: ${err.message}`);
  });
  o.log?.(`working queue '${o.name ?? DEFAULT_QUEUE_NAME}' at ${o.url}, ${o.concurrency ?? 1} job(s) at once`);
  await new Promise<void>((resolve) => {
    if (o.signal?.aborted) resolve();
    o.signal?.addEventListener('abort', () => resolve());
  });
  await worker.close();
  return { completed, failed };
}
