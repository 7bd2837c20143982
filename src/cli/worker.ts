/**
 * `oreo worker --queue redis://HOST:PORT`: work off corpus jobs that `oreo corpus build --queue`
 * put on a BullMQ queue; run it on as many machines as you like (src/corpus/queue.ts).
 */
import { availableParallelism } from 'node:os';
import type { Command } from './command.js';
import { flag, helpText, num, parseArgs, requireStr, str, type OptionSpec } from './args.js';
import { OreoError } from '../errors.js';
import { runQueueWorker } from '../corpus/queue.js';

const spec: Record<string, OptionSpec> = {
  queue: { type: 'string', help: 'redis://HOST:PORT of the queue (required)' },
  'queue-name': { type: 'string', help: 'BullMQ queue name (default oreo-corpus)' },
  workers: { type: 'string', help: 'jobs at once on this machine, one process each (default: number of CPUs)' },
  'lock-seconds': { type: 'string', help: 'job lock time, s (default 30): a dead worker’s jobs go back to the queue after about this long' },
  quiet: { type: 'boolean', help: 'no line per finished job' },
  help: { type: 'boolean', help: 'show this help' },
};

const usage = 'oreo worker --queue redis://HOST:PORT [--workers N]';

export const command: Command = {
  summary: 'work off corpus jobs from a Redis (BullMQ) queue; stop with Ctrl-C (running jobs go back to the queue)',
  async run(argv) {
    const p = parseArgs('worker', argv, spec);
    if (flag(p, 'help')) {
      console.log(helpText(usage, command.summary, spec));
      return 0;
    }
    if (p.positionals.length) throw new OreoError(`oreo worker: unexpected argument '${p.positionals[0]}'`);
    const abort = new AbortController();
    const stop = () => abort.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    const quiet = flag(p, 'quiet');
    const r = await runQueueWorker({
      url: requireStr('worker', p, 'queue'),
      name: str(p, 'queue-name'),
      concurrency: num('worker', p, 'workers', Math.max(1, availableParallelism()), { integer: true, min: 1 }),
      lockSeconds: num('worker', p, 'lock-seconds', 30, { min: 1 }),
      log: quiet ? undefined : (m) => console.error(m),
      signal: abort.signal,
    });
    console.error(`worker stopped: ${r.completed} jobs done, ${r.failed} failed`);
    return 0;
  },
};
