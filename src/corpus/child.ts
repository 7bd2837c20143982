/**
 * A worker process of the embedded pool (pool.ts): receives one job at a time over IPC, runs it,
 * and sends the result back. Reference calculations block this process, not the parent.
 */
import { executeJob } from './runner.js';
import type { MoleculeJob } from './job.js';

process.on('message', (msg: { job: MoleculeJob }) => {
  executeJob(msg.job).then(
    (stored) => process.send!({ key: msg.job.key, stored }),
    (err: Error) => process.send!({ key: msg.job.key, error: err?.message ?? String(err) }),
  );
});
// The parent going away (killed, Ctrl-C) ends this process too.
process.on('disconnect', () => process.exit(0));
