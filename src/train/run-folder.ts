/**
 * Who owns a training run folder. `oreo finetune` writes `run.json` (what made the folder, from
 * which model, on which data and its content hash) before its first step, and from then on:
 * - a folder it did not make (files in it, no run.json, no oreo training checkpoint) is never
 *   written into: a mistyped --out must not clobber someone's results;
 * - a folder it made is continued only with --resume, or started over only with --overwrite;
 * - --resume refuses data other than the run's own (path or content changed), since the
 *   checkpoint's progress through the training set means nothing for other data.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { contentHash } from '../data/identity.js';
import { OreoError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';

export const RUN_FILE = 'run.json';
const CHECKPOINT = 'checkpoint.oreo-train';

export interface RunRecord {
  madeBy: string;
  data: string;
  dataSha256: string;
  from: string;
  startedAt: string;
}

export interface ClaimOptions {
  /** e.g. "oreo finetune" */
  command: string;
  resume?: boolean;
  overwrite?: boolean;
  data: string;
  from: string;
}

function readRecord(dir: string): RunRecord | null {
  const file = join(dir, RUN_FILE);
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as RunRecord;
  } catch (e) {
    throw new OreoError(`${file}: unreadable (${(e as Error).message}); this folder's owner is unknown, so it is left alone — choose another --out`);
  }
}

/**
 * Check that `dir` may be used as asked, and record the run in it. Returns a line to show the
 * user when the check has something to say (a legacy folder that cannot be checked), else null.
 */
export function claimRunFolder(dir: string, o: ClaimOptions): string | null {
  const isDir = existsSync(dir) && statSync(dir).isDirectory();
  if (existsSync(dir) && !isDir) throw new OreoError(`${dir} exists and is not a folder; choose another --out`);
  // A run.json alone is a run that failed before writing anything: nothing there to protect.
  const entries = isDir ? readdirSync(dir).filter((e) => e !== RUN_FILE || readdirSync(dir).length > 1) : [];
  const record = isDir ? readRecord(dir) : null;
  const legacy = !record && entries.includes(CHECKPOINT);
  const sha = contentHash(o.data);
  let note: string | null = null;
  if (o.resume) {
    if (!record && !legacy) throw new OreoError(`cannot resume: ${dir} holds no ${o.command} run (no ${RUN_FILE}, no ${CHECKPOINT})`);
    if (record) {
      if (record.dataSha256 !== sha) {
        throw new OreoError(
          `cannot resume with --data ${o.data}: the run in ${dir} was trained on ${record.data} (sha256 ${record.dataSha256.slice(0, 12)}…), ` +
            `and ${o.data} has sha256 ${sha.slice(0, 12)}… — a resumed run must see the same data; start a new run with another --out`,
        );
      }
      if (resolve(record.data) !== resolve(o.data)) note = `resuming with ${o.data}: same content as the run's ${record.data}`;
      return note;
    }
    return `${dir} predates ${RUN_FILE}: cannot check that --data is the data it was trained on`;
  }
  if (entries.length > 0) {
    if (!record && !legacy) {
      throw new OreoError(`${dir} already holds files that ${o.command} did not write (${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', …' : ''}); it is left alone — choose another --out`);
    }
    if (!o.overwrite) {
      throw new OreoError(`${dir} already holds a ${o.command} run${record ? ` (on ${record.data}, started ${record.startedAt})` : ''}; continue it with --resume, start it over with --overwrite, or choose another --out`);
    }
  }
  const rec: RunRecord = { madeBy: o.command, data: o.data, dataSha256: sha, from: o.from, startedAt: new Date().toISOString() };
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(join(dir, RUN_FILE), JSON.stringify(rec, null, 2) + '\n');
  return note;
}
