/**
 * The BullMQ sandboxed processor of `oreo worker`: BullMQ runs this file in child processes of
 * its own, so reference calculations (which block) never stall the worker's lock renewal, and a
 * job whose process or machine dies is found stalled by BullMQ and handed to another worker.
 */
import type { SandboxedJob } from 'bullmq';
import type { MoleculeJob } from './job.js';
import { executeJob } from './runner.js';

export default async function process(job: SandboxedJob<MoleculeJob>) {
  return executeJob(job.data);
}
