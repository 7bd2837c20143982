/**
 * The committed job archive: finished molecule jobs in a compact, append-only form that lives in
 * git, so a corpus campaign survives a move to a fresh machine (only git outlives a session).
 *
 *   corpus/<name>/
 *     archive.json            format, precision, the job settings (every job's key hashes them),
 *                             and the parts in commit order, each with its sha256, size and counts
 *     part-NNNNN-<sha12>.ocj  finished jobs in binary columns (archive-part.ts), < 50 MB each
 *
 * `commitJobs` appends the finished jobs of a build directory that the archive lacks as new parts
 * (never rewriting an old one), then rewrites archive.json. `restoreFromArchive` writes the jobs a
 * build needs back into its jobs/ directory, where the build finds them done. Every part is checked
 * against its sha256 before anything is read from it; a damaged or missing part stops the command
 * naming the file.
 *
 * Positions and forces are kept at the archive's precision (f32 by default: exactly what
 * `--precision f32` shards hold, so a corpus assembled from the archive has the same hash as one
 * assembled from the original jobs); energies always as f64.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, OreoError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { decodePart, encodePart, type ArchivedJob, type ArchivePrecision, type DecodedPart } from './archive-part.js';
import { canonicalJson, type JobSettings } from './job.js';
import { hasJob, JOBS_DIR, readJob, writeJob } from './store.js';

export const ARCHIVE_INDEX = 'archive.json';
export const ARCHIVE_FORMAT = 'oreo-corpus-archive';
/** Positions, forces and energies per part before compression; the files come out smaller. */
export const DEFAULT_PART_BYTES = 40_000_000;

export interface ArchivePartEntry {
  file: string;
  sha256: string;
  bytes: number;
  jobs: number;
  conformations: number;
}

export interface ArchiveIndex {
  format: typeof ARCHIVE_FORMAT;
  version: 1;
  precision: ArchivePrecision;
  settings: JobSettings;
  parts: ArchivePartEntry[];
}

export function readArchiveIndex(dir: string): ArchiveIndex | undefined {
  const path = join(dir, ARCHIVE_INDEX);
  if (!existsSync(path)) return undefined;
  let index: ArchiveIndex;
  try {
    index = JSON.parse(readFileSync(path, 'utf8')) as ArchiveIndex;
  } catch (err) {
    throw new InputError(path, `unreadable job-archive index (${(err as Error).message})`);
  }
  if (index.format !== ARCHIVE_FORMAT) throw new InputError(path, `not an oreo job-archive index (format '${String(index.format)}')`);
  if (index.version !== 1) throw new InputError(path, `job-archive version ${String(index.version)}; this oreo reads version 1`);
  return index;
}

/** Read one part, refusing it unless its size and sha256 are those archive.json recorded. */
function openPart(dir: string, entry: ArchivePartEntry): DecodedPart {
  const path = join(dir, entry.file);
  if (!existsSync(path)) throw new InputError(path, `missing: ${ARCHIVE_INDEX} lists this part (${entry.jobs} jobs)`);
  const bytes = readFileSync(path);
  if (bytes.length !== entry.bytes) throw new InputError(path, `${bytes.length} bytes where ${ARCHIVE_INDEX} records ${entry.bytes}: truncated or damaged; restore it from git`);
  const sha = createHash('sha256').update(bytes).digest('hex');
  if (sha !== entry.sha256) throw new InputError(path, `sha256 ${sha} differs from ${entry.sha256} in ${ARCHIVE_INDEX}: damaged; restore it from git`);
  return decodePart(bytes, path);
}

/** Every part checked and its job table read, in commit order. */
export function openArchive(dir: string): { index: ArchiveIndex; parts: { entry: ArchivePartEntry; part: DecodedPart }[] } {
  const index = readArchiveIndex(dir);
  if (!index) throw new InputError(join(dir, ARCHIVE_INDEX), 'no job archive here (archive.json missing)');
  return { index, parts: index.parts.map((entry) => ({ entry, part: openPart(dir, entry) })) };
}

function settingsText(settings: JobSettings): string {
  return canonicalJson(settings);
}

/** Keys of the finished jobs in a build directory, sorted (so the same jobs give the same parts). */
function finishedKeys(outDir: string): string[] {
  const root = join(outDir, JOBS_DIR);
  if (!existsSync(root)) return [];
  const keys: string[] = [];
  for (const d of readdirSync(root)) {
    if (!/^[0-9a-f]{2}$/.test(d)) continue;
    for (const f of readdirSync(join(root, d))) {
      const m = /^([0-9a-f]{64})\.json\.gz$/.exec(f);
      if (m) keys.push(m[1]);
    }
  }
  return keys.sort();
}

export interface CommitSummary {
  archive: string;
  /** Jobs in the build directory, and of them those the archive already had. */
  finished: number;
  already: number;
  added: number;
  conformations: number;
  newParts: ArchivePartEntry[];
  /** The whole archive after the commit. */
  totalJobs: number;
  totalConformations: number;
  totalBytes: number;
}

export interface CommitOptions {
  precision?: ArchivePrecision;
  /** Raw bytes of numbers per part before compression (default DEFAULT_PART_BYTES). */
  partBytes?: number;
  log?(message: string): void;
}

function rawBytes(job: ArchivedJob, width: number): number {
  let n = 0;
  for (const c of job.result.conformations) n += c.positions.length * width + c.labels.reduce((s, l) => s + l.forces.length * width + 8, 0);
  return n;
}

/**
 * Append the finished jobs of build directory `outDir` that the archive lacks (by key) as new
 * parts. The archive is created on first use with the build's settings; a build with other
 * settings, or a precision other than the archive's, is refused.
 */
export function commitJobs(outDir: string, archiveDir: string, o: CommitOptions = {}): CommitSummary {
  const log = o.log ?? (() => undefined);
  const settingsPath = join(outDir, 'settings.json');
  if (!existsSync(settingsPath)) throw new InputError(settingsPath, 'missing: not a corpus build directory (give the --out of `oreo corpus build`)');
  let settings: JobSettings;
  try {
    settings = JSON.parse(readFileSync(settingsPath, 'utf8')) as JobSettings;
  } catch (err) {
    throw new InputError(settingsPath, `unreadable (${(err as Error).message})`);
  }
  let index = readArchiveIndex(archiveDir);
  const have = new Set<string>();
  if (index) {
    if (settingsText(index.settings) !== settingsText(settings)) {
      throw new OreoError(`${join(archiveDir, ARCHIVE_INDEX)} holds jobs built with other settings than ${settingsPath}; commit into another archive directory`);
    }
    if (o.precision && o.precision !== index.precision) {
      throw new OreoError(`${join(archiveDir, ARCHIVE_INDEX)} keeps ${index.precision} positions and forces; cannot append ${o.precision} parts`);
    }
    for (const { part } of openArchive(archiveDir).parts) for (const k of part.keys) have.add(k);
  } else {
    index = { format: ARCHIVE_FORMAT, version: 1, precision: o.precision ?? 'f32', settings, parts: [] };
  }
  const width = index.precision === 'f32' ? 4 : 8;
  const keys = finishedKeys(outDir);
  const todo = keys.filter((k) => !have.has(k));
  const limit = o.partBytes ?? DEFAULT_PART_BYTES;
  const newParts: ArchivePartEntry[] = [];
  let conformations = 0;
  mkdirSync(archiveDir, { recursive: true });
  const flush = (batch: ArchivedJob[]) => {
    const bytes = encodePart(batch, index!.precision);
    const sha = createHash('sha256').update(bytes).digest('hex');
    const seq = index!.parts.length + newParts.length;
    const entry: ArchivePartEntry = {
      file: `part-${String(seq).padStart(5, '0')}-${sha.slice(0, 12)}.ocj`,
      sha256: sha,
      bytes: bytes.length,
      jobs: batch.length,
      conformations: batch.reduce((s, j) => s + j.result.conformations.length, 0),
    };
    writeFileAtomic(join(archiveDir, entry.file), bytes);
    newParts.push(entry);
    log(`${entry.file}: ${entry.jobs} jobs, ${entry.conformations} conformations, ${(entry.bytes / 1e6).toFixed(2)} MB`);
  };
  let batch: ArchivedJob[] = [];
  let batchBytes = 0;
  for (const key of todo) {
    const { result, run } = readJob(outDir, key);
    const job: ArchivedJob = { result, ...(run ? { run } : {}) };
    const size = rawBytes(job, width);
    if (batch.length && batchBytes + size > limit) {
      flush(batch);
      batch = [];
      batchBytes = 0;
    }
    batch.push(job);
    batchBytes += size;
    conformations += result.conformations.length;
  }
  if (batch.length) flush(batch);
  // The index last: a commit that stops half-way leaves unlisted part files, never a listed
  // part that is missing.
  if (newParts.length || !existsSync(join(archiveDir, ARCHIVE_INDEX))) {
    index.parts.push(...newParts);
    writeFileAtomic(join(archiveDir, ARCHIVE_INDEX), JSON.stringify(index, null, 1) + '\n');
  }
  return {
    archive: archiveDir,
    finished: keys.length,
    already: keys.length - todo.length,
    added: todo.length,
    conformations,
    newParts,
    totalJobs: index.parts.reduce((s, p) => s + p.jobs, 0),
    totalConformations: index.parts.reduce((s, p) => s + p.conformations, 0),
    totalBytes: index.parts.reduce((s, p) => s + p.bytes, 0),
  };
}

export interface RestoreSummary {
  /** Jobs written into the build directory from the archive. */
  restored: number;
  /** Jobs the build needs that the archive holds, restored now or before. */
  inArchive: number;
  precision: ArchivePrecision;
}

/**
 * Write every job the build needs (`keys`) that the archive holds and the build directory lacks
 * into its jobs/, marked with where it came from. The archive's settings must be the build's.
 */
export function restoreFromArchive(archiveDir: string, outDir: string, settings: JobSettings, keys: Iterable<string>): RestoreSummary {
  const { index, parts } = openArchive(archiveDir);
  if (settingsText(index.settings) !== settingsText(settings)) {
    throw new OreoError(
      `${join(archiveDir, ARCHIVE_INDEX)} holds jobs built with other settings than this build's; ` +
        'give the settings the archive was built with (its archive.json lists them), or build without --from-archive',
    );
  }
  const needed = new Set(keys);
  let restored = 0;
  const found = new Set<string>();
  for (const { entry, part } of parts) {
    const want = part.keys.filter((k) => needed.has(k) && !found.has(k));
    for (const k of want) found.add(k);
    const missing = want.filter((k) => !hasJob(outDir, k));
    if (!missing.length) continue;
    const wanted = new Set(missing);
    for (const job of part.jobs()) {
      if (!wanted.has(job.result.key)) continue;
      wanted.delete(job.result.key);
      writeJob(outDir, { ...job, archived: { archive: archiveDir, part: entry.file, precision: index.precision } });
      restored++;
    }
  }
  return { restored, inArchive: found.size, precision: index.precision };
}
